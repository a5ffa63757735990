"""Sessions that end: every login is recorded, and ending a user's sessions refuses all of them at once.

Cognito access tokens verify on their own until they expire, and a global sign-out only revokes refresh
tokens inside Cognito, so the API keeps its own record and checks it on every request:

- a login stores its session under the ``origin_jti`` that the access token and every token refreshed from
  the same refresh token carry, with the time it started (milliseconds);
- logout, a password change or reset and a member's removal store a per-user "valid after" moment;
- a request's token is accepted only if its session is known and started after that moment. The stamp is
  read on every request with a consistent read (one small GetItem), so an ended session is refused by the
  very next request, in any container. Refreshing through the API checks the same rule, so a refresh token
  of an ended session never gets a working access token even if Cognito (or moto) were to grant one.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict

from luxebrain.auth.tokens import AccessClaims
from luxebrain.errors import UnauthorizedError
from luxebrain.runtime import on_reset
from luxebrain.storage.members import UserSessions

SESSION_TTL_SECONDS = 31 * 86400  # the longest refresh token lives 30 days

# When a session started never changes: remembered per container (bounded), so only the stamp is read.
_started_lock = threading.Lock()
_started: OrderedDict[str, int] = OrderedDict()
_STARTED_CACHE_SIZE = 4096
on_reset(_started.clear)


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


def start_session(claims: AccessClaims, *, sessions: UserSessions) -> None:
    """Record the session of a fresh login (its access token's ``origin_jti``)."""
    if not claims.origin_jti:
        raise UnauthorizedError("the identity provider returned a token without a session id")
    started = _now_ms()
    sessions.record_user_session(
        claims.subject, claims.origin_jti, started_ms=started, expires_at=int(time.time()) + SESSION_TTL_SECONDS
    )
    _remember(claims.origin_jti, started)


def end_all_sessions(user_sub: str, *, sessions: UserSessions) -> int:
    """Every session of the user started before now ends (the next request with any of its tokens is 401)."""
    # Sessions start at a later millisecond than this stamp, so a login right after it works.
    ended_at = _now_ms()
    sessions.set_sessions_valid_after(user_sub, ended_at)
    return ended_at


def _remember(origin_jti: str, started: int) -> None:
    with _started_lock:
        _started[origin_jti] = started
        while len(_started) > _STARTED_CACHE_SIZE:
            _started.popitem(last=False)


def _session_started(claims: AccessClaims, sessions: UserSessions) -> int | None:
    origin = claims.origin_jti or ""
    with _started_lock:
        known = _started.get(origin)
    if known is not None:
        return known
    started = sessions.user_session_started(claims.subject, origin)
    if started is not None:
        _remember(origin, started)
    return started


def require_live_session(claims: AccessClaims, *, sessions: UserSessions) -> None:
    """401 unless the token belongs to a recorded session that has not been ended."""
    if not claims.origin_jti:
        raise UnauthorizedError("this token belongs to no session of this service; log in again")
    started = _session_started(claims, sessions)
    if started is None:
        raise UnauthorizedError("this token belongs to no session of this service; log in again")
    valid_after = sessions.sessions_valid_after(claims.subject)
    if valid_after is not None and started <= valid_after:
        raise UnauthorizedError("this session has ended (signed out or password changed); log in again")

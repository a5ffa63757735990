"""The tenant's team: an owner invites a colleague with a role, changes a member's role; the invited person
sets their own password at first log-in (Cognito's NEW_PASSWORD_REQUIRED challenge).

Cognito e-mails the invitation with a temporary password (AdminCreateUser); the membership record is what the
API trusts for the tenant and the role, so a role change applies to every session within the membership
cache's few seconds, without a new token. Removal lives beside sign-out in ``accounts.remove_member``.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from luxebrain.adapters import DirectoryError, UserDirectory
from luxebrain.auth.accounts import Tokens, _client_id, _tokens, _translate, normalise_email, unless_already
from luxebrain.auth.members import TENANT_ROLES, add_member, list_members, record_audit, require_member
from luxebrain.auth.principal import Role
from luxebrain.auth.sessions import start_session
from luxebrain.auth.tokens import verify_access_token
from luxebrain.errors import ConflictError, InvalidInputError
from luxebrain.runtime import configured_settings
from luxebrain.storage.members import MemberRepository, Memberships
from luxebrain.storage.tenants import AuditTrail

if TYPE_CHECKING:
    from luxebrain.billing.usage import UsageCounter

NEW_PASSWORD_CHALLENGE = "NEW_PASSWORD_REQUIRED"  # noqa: S105 - a Cognito challenge name


@dataclass(frozen=True)
class Member:
    user_id: str
    email: str | None
    role: str
    created_at: datetime


def new_temporary_password() -> str:
    """Meets the pool's policy (10+ characters, upper, lower, digit); Cognito e-mails it with the invitation."""
    return "Tmp-" + secrets.token_urlsafe(9) + "9aQ"


def _check_role(role: Role) -> None:
    if role not in TENANT_ROLES:
        raise InvalidInputError(f"role must be one of {', '.join(TENANT_ROLES)}")


def _owners(tenant_id: str, members: Memberships) -> int:
    return sum(member.role == str(Role.OWNER) for member in list_members(tenant_id, members=members))


def invite_member(
    tenant_id: str,
    email: str,
    role: Role,
    *,
    actor: str,
    users: UserDirectory,
    members: Memberships,
    temporary_passwords: Callable[[], str],
    audit: AuditTrail,
    usage: UsageCounter,
) -> Member:
    """Create the colleague's login (Cognito e-mails the temporary password ``temporary_passwords`` makes: the
    API passes :func:`new_temporary_password`) and their membership; the seat
    counts (in ``usage``) against the plan (402 past it, and then no login is left behind). One login has one tenant: an
    e-mail that already has an account cannot be invited (409)."""
    _check_role(role)
    configured_settings()
    email = normalise_email(email)
    try:
        created = users.admin_create_user(
            email,
            temporary_passwords(),
            attributes={
                "email": email,
                "email_verified": "true",
                "custom:tenant_id": tenant_id,
                "custom:role": str(role),
            },
        )
    except DirectoryError as exc:
        if exc.code == "UsernameExistsException":
            raise ConflictError("this e-mail already has a LuxeBrain account, so it cannot join a tenant") from None
        raise _translate(exc) from None
    user_sub = created.sub
    try:
        item = add_member(tenant_id, user_sub, role, email=email, members=members, usage=usage)
    except BaseException:
        # No login without a membership: it could never be used, and the e-mail could not be invited again.
        users.admin_delete_user(email)
        raise
    record_audit(
        tenant_id, action="member.invited", actor=actor, audit=audit, details={"user_id": user_sub, "role": str(role)}
    )
    return Member(user_id=user_sub, email=email, role=item.role, created_at=item.created_at)


def change_role(
    tenant_id: str,
    user_sub: str,
    role: Role,
    *,
    actor: str,
    users: UserDirectory,
    members: Memberships,
    audit: AuditTrail,
    usage: UsageCounter,
) -> Member:
    """An owner changes a member's role (404 for another tenant's user). Nobody changes their own role, and a
    tenant keeps at least one owner (409). ``usage`` counts a seat only if the member vanished meanwhile."""
    _check_role(role)
    member = require_member(tenant_id, user_sub, members=members)
    if user_sub == actor:
        raise ConflictError("you cannot change your own role; another owner can")
    previous = member.role
    if previous == str(Role.OWNER) and role != Role.OWNER and _owners(tenant_id, members) <= 1:
        raise ConflictError("a tenant keeps at least one owner")
    if previous != str(role):
        item = add_member(tenant_id, user_sub, role, email=member.email, members=members, usage=usage)
        if member.email:
            # The login's attribute mirrors the membership (the API reads the membership, never the attribute).
            email = member.email
            unless_already(
                "UserNotFoundException", lambda: users.admin_update_user_attributes(email, {"custom:role": str(role)})
            )
        record_audit(
            tenant_id,
            action="member.role_changed",
            actor=actor,
            audit=audit,
            details={"user_id": user_sub, "from": previous, "to": str(role)},
        )
        member = item
    return Member(user_id=user_sub, email=member.email, role=member.role, created_at=member.created_at)


def set_first_password(
    email: str,
    temporary_password: str,
    new_password: str,
    *,
    users: UserDirectory,
    members: MemberRepository,
    remember_me: bool = False,
) -> Tokens:
    """An invited colleague's first log-in: the e-mailed temporary password, then their own (Cognito's
    NEW_PASSWORD_REQUIRED challenge). 409 when the account already has its own password."""
    settings = configured_settings()
    client_id = _client_id(settings, remember_me)
    email = normalise_email(email)
    try:
        started = users.initiate_auth(
            client_id, "USER_PASSWORD_AUTH", {"USERNAME": email, "PASSWORD": temporary_password}
        )
    except DirectoryError as exc:
        raise _translate(exc) from None
    if started.get("ChallengeName") != NEW_PASSWORD_CHALLENGE:
        raise ConflictError("this account already has its own password: log in with it")
    try:
        answered = users.respond_to_auth_challenge(
            client_id, NEW_PASSWORD_CHALLENGE, started["Session"], {"USERNAME": email, "NEW_PASSWORD": new_password}
        )
    except DirectoryError as exc:
        raise _translate(exc) from None
    tokens = _tokens(answered["AuthenticationResult"])
    start_session(verify_access_token(tokens.access_token, settings), sessions=members)
    return tokens

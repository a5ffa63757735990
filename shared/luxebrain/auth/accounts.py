"""Merchant accounts on Amazon Cognito: sign-up (which creates the tenant), confirmation, login, refresh,
global sign-out, forgotten and changed passwords, platform admins and the demo login.

Every function takes the user directory (``luxebrain.adapters.UserDirectory``; the API passes the Cognito
one). Its refusals become LuxeBrain errors here, with messages a user can act on. Those that touch memberships
or the API's record of sessions take the members repository too (``members=``, a
``storage.members.MemberRepository``), and those that create or read a tenant the tenants repository
(``tenants=``, a ``storage.tenants.TenantRepository``).
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from luxebrain.adapters import DirectoryError, UserDirectory
from luxebrain.auth.members import add_member
from luxebrain.auth.principal import PLATFORM_ADMIN_GROUP, Role
from luxebrain.auth.sessions import end_all_sessions, require_live_session, start_session
from luxebrain.auth.tokens import verify_access_token
from luxebrain.errors import (
    ConflictError,
    ForbiddenError,
    InvalidInputError,
    LuxeBrainError,
    NotFoundError,
    UnauthorizedError,
)
from luxebrain.runtime import configured_settings
from luxebrain.settings import Settings
from luxebrain.storage.members import MemberRepository
from luxebrain.storage.tenants import AuditTrail, TenantRepository

if TYPE_CHECKING:
    from luxebrain.billing.usage import UsageCounter


class TooManyAttemptsError(LuxeBrainError):
    status_code = 429

    def __init__(self, message: str, retry_after: int = 60) -> None:
        self.retry_after = retry_after
        super().__init__(message)


@dataclass(frozen=True)
class Tokens:
    access_token: str
    id_token: str
    refresh_token: str | None  # None on refresh: Cognito keeps the refresh token it was given
    expires_in: int
    token_type: str = "Bearer"  # noqa: S105 - the OAuth token type, not a secret


@dataclass(frozen=True)
class SignUpResult:
    tenant_id: str
    user_sub: str
    confirmed: bool


@dataclass(frozen=True)
class DemoLogin:
    email: str
    password: str
    tenant_id: str
    tokens: Tokens


_MESSAGES = {
    "NotAuthorizedException": (UnauthorizedError, "the e-mail or password is wrong, or the session has ended"),
    "UserNotFoundException": (UnauthorizedError, "the e-mail or password is wrong, or the session has ended"),
    "UserNotConfirmedException": (ForbiddenError, "confirm your e-mail address first (see the code we sent)"),
    "UsernameExistsException": (ConflictError, "an account with this e-mail already exists; log in instead"),
    "InvalidPasswordException": (InvalidInputError, None),
    "CodeMismatchException": (InvalidInputError, "the confirmation code is wrong"),
    "ExpiredCodeException": (InvalidInputError, "the confirmation code has expired; request a new one"),
    "InvalidParameterException": (InvalidInputError, None),
    "AliasExistsException": (ConflictError, "an account with this e-mail already exists"),
    "PasswordResetRequiredException": (ForbiddenError, "reset your password before logging in"),
}


def _translate(exc: DirectoryError) -> LuxeBrainError:
    code = exc.code
    if code in ("TooManyRequestsException", "LimitExceededException", "TooManyFailedAttemptsException"):
        return TooManyAttemptsError("too many attempts; wait a minute and try again")
    error_class, message = _MESSAGES.get(code, (None, None))
    if error_class is None:
        return LuxeBrainError("the identity service failed; try again")
    # Cognito's own message is safe to show for password policy and parameter problems.
    return error_class(message or exc.message or code)


def unless_already(refusal: str, call: Callable[[], object]) -> None:
    """Make one directory call; ``refusal`` (the code meaning the state is already the one wanted: no such
    user left, the group exists, ...) is not an error, any other becomes the user's error."""
    try:
        call()
    except DirectoryError as exc:
        if exc.code != refusal:
            raise _translate(exc) from None


def _client_id(settings: Settings, remember_me: bool) -> str:
    if not remember_me and settings.user_pool_session_client_id:
        return settings.user_pool_session_client_id
    return settings.require("user_pool_client_id")


def _tokens(result: dict[str, Any]) -> Tokens:
    return Tokens(
        access_token=result["AccessToken"],
        id_token=result["IdToken"],
        refresh_token=result.get("RefreshToken"),
        expires_in=int(result.get("ExpiresIn", 3600)),
    )


def normalise_email(email: str) -> str:
    return email.strip().lower()


# ----------------------------------------------------------------------------- sign-up
SIGN_UPS_PER_ADDRESS_PER_HOUR = 10
SIGN_UPS_PER_MINUTE = 120  # all addresses together: tenant creation by sign-up stays bounded


def limit_sign_ups(client_address: str, *, tenants: TenantRepository) -> None:
    """429 beyond SIGN_UPS_PER_ADDRESS_PER_HOUR from one client address, or SIGN_UPS_PER_MINUTE in all
    (conditional ADDs, so concurrent sign-ups cannot pass the limit). The address is stored hashed."""
    import hashlib
    from datetime import UTC, datetime

    now = datetime.now(UTC)
    address = hashlib.sha256(client_address.encode()).hexdigest()[:24]
    for sk, allowed, ttl, retry_after in (
        (f"address#{address}#{now:%Y-%m-%dT%H}", SIGN_UPS_PER_ADDRESS_PER_HOUR, 7200, 3600 - now.minute * 60),
        (f"all#{now:%Y-%m-%dT%H:%M}", SIGN_UPS_PER_MINUTE, 120, 60 - now.second),
    ):
        if not tenants.count_sign_up(sk, allowed, expires_at=int(time.time()) + ttl):
            raise TooManyAttemptsError("too many sign-ups from here; try again later", max(1, retry_after))


def sign_up(
    email: str,
    password: str,
    company_name: str,
    *,
    users: UserDirectory,
    members: MemberRepository,
    tenants: TenantRepository,
    usage: UsageCounter,
) -> SignUpResult:
    """Create a Cognito user and its tenant (the user is the tenant's owner, a seat counted in ``usage``).
    Cognito sends a code by e-mail."""
    settings = configured_settings()
    email = normalise_email(email)
    try:
        user_sub, confirmed = users.sign_up(
            settings.require("user_pool_client_id"), email, password, attributes={"email": email}
        )
    except DirectoryError as exc:
        raise _translate(exc) from None
    tenant = None
    try:
        tenant = tenants.create_tenant(company_name)
        # custom:* attributes are not writable by the app client; the back end sets them as admin.
        users.admin_update_user_attributes(
            email, {"custom:tenant_id": tenant.tenant_id, "custom:role": str(Role.OWNER)}
        )
        add_member(tenant.tenant_id, user_sub, Role.OWNER, email=email, members=members, usage=usage)
    except Exception:
        # No half-made account: a user without a tenant could never use the service nor sign up again, and a
        # tenant without a user would be an orphan.
        users.admin_delete_user(email)
        if tenant is not None:
            tenants.delete_tenant(tenant.tenant_id)
        raise
    return SignUpResult(tenant.tenant_id, user_sub, confirmed)


def confirm_sign_up(email: str, code: str, *, users: UserDirectory) -> None:
    settings = configured_settings()
    try:
        users.confirm_sign_up(settings.require("user_pool_client_id"), normalise_email(email), code)
    except DirectoryError as exc:
        raise _translate(exc) from None


def admin_confirm(email: str, *, users: UserDirectory) -> None:
    """Confirm without the e-mailed code (demo and operators)."""
    configured_settings()
    try:
        users.admin_confirm_sign_up(normalise_email(email))
    except DirectoryError as exc:
        raise _translate(exc) from None


# ----------------------------------------------------------------------------- sessions
def login(
    email: str, password: str, *, users: UserDirectory, members: MemberRepository, remember_me: bool = False
) -> Tokens:
    """USER_PASSWORD_AUTH. "Remember me" picks the app client whose refresh tokens last 30 days; otherwise
    the session client's refresh tokens last 12 hours."""
    settings = configured_settings()
    try:
        response = users.initiate_auth(
            _client_id(settings, remember_me),
            "USER_PASSWORD_AUTH",
            {"USERNAME": normalise_email(email), "PASSWORD": password},
        )
    except DirectoryError as exc:
        raise _translate(exc) from None
    if "AuthenticationResult" not in response:
        # e.g. NEW_PASSWORD_REQUIRED for an admin-created user: the dashboard cannot continue here.
        raise ForbiddenError(f"the account needs a further step first ({response.get('ChallengeName', 'unknown')})")
    tokens = _tokens(response["AuthenticationResult"])
    start_session(verify_access_token(tokens.access_token, settings), sessions=members)
    return tokens


def refresh(
    refresh_token: str, *, users: UserDirectory, members: MemberRepository, remember_me: bool = False
) -> Tokens:
    """New access and ID tokens from a refresh token (revoked by logout: then 401)."""
    settings = configured_settings()
    try:
        response = users.initiate_auth(
            _client_id(settings, remember_me), "REFRESH_TOKEN_AUTH", {"REFRESH_TOKEN": refresh_token}
        )
    except DirectoryError as exc:
        raise _translate(exc) from None
    except KeyError:
        raise UnauthorizedError("the refresh token is not valid") from None
    tokens = _tokens(response["AuthenticationResult"])
    # Our own rule, whatever Cognito answered: a refresh token of an ended session gets nothing.
    require_live_session(verify_access_token(tokens.access_token, settings), sessions=members)
    return tokens


def logout(access_token: str, *, users: UserDirectory, members: MemberRepository) -> None:
    """Sign out everywhere: every session of the user ends at the API at once (access and refreshed tokens
    alike), and Cognito revokes the user's refresh tokens."""
    end_every_session(verify_access_token(access_token).subject, access_token, users=users, members=members)


def end_every_session(user_sub: str, access_token: str, *, users: UserDirectory, members: MemberRepository) -> None:
    """The API's record of the user's sessions ends first, then the directory revokes the refresh tokens."""
    end_all_sessions(user_sub, sessions=members)
    # The API's own record has already ended the sessions; Cognito's revocation is the second lock.
    unless_already("NotAuthorizedException", lambda: users.global_sign_out(access_token))


def sign_out_user(username: str, *, users: UserDirectory, members: MemberRepository) -> str | None:
    """End every session of a user known by e-mail (or Cognito username): the API's record first, then
    Cognito's AdminUserGlobalSignOut for the refresh tokens. Returns the user's sub (None if unknown)."""
    configured_settings()
    try:
        user_sub = users.admin_get_user(username).sub
    except DirectoryError as exc:
        if exc.code == "UserNotFoundException":
            return None
        raise _translate(exc) from None
    end_all_sessions(user_sub, sessions=members)
    unless_already("UserNotFoundException", lambda: users.admin_user_global_sign_out(username))
    return user_sub


def forgot_password(email: str, *, users: UserDirectory) -> None:
    """Ask Cognito to send a reset code. Silent for unknown e-mails (no account enumeration)."""
    settings = configured_settings()
    try:
        users.forgot_password(settings.require("user_pool_client_id"), normalise_email(email))
    except DirectoryError as exc:
        if exc.code in ("UserNotFoundException", "ResourceNotFoundException", "NotAuthorizedException"):
            return
        raise _translate(exc) from None


def confirm_forgot_password(
    email: str, code: str, new_password: str, *, users: UserDirectory, members: MemberRepository
) -> None:
    settings = configured_settings()
    try:
        users.confirm_forgot_password(
            settings.require("user_pool_client_id"), normalise_email(email), code, new_password
        )
    except DirectoryError as exc:
        if exc.code in ("UserNotFoundException", "ResourceNotFoundException"):
            raise InvalidInputError("the confirmation code is wrong") from None
        raise _translate(exc) from None
    # Whoever knew the old password may hold a session: all of them end.
    sign_out_user(normalise_email(email), users=users, members=members)


def change_password(
    access_token: str, old_password: str, new_password: str, *, users: UserDirectory, members: MemberRepository
) -> None:
    """Change the password, then end every session of the user (this one included: log in again)."""
    claims = verify_access_token(access_token)
    try:
        users.change_password(access_token, old_password, new_password)
    except DirectoryError as exc:
        raise _translate(exc) from None
    end_every_session(claims.subject, access_token, users=users, members=members)


# ----------------------------------------------------------------------------- members and admins
def delete_user(user_sub_or_email: str, *, users: UserDirectory) -> None:
    configured_settings()
    unless_already("UserNotFoundException", lambda: users.admin_delete_user(user_sub_or_email))


def remove_member(
    tenant_id: str,
    user_sub: str,
    *,
    actor: str,
    users: UserDirectory,
    members: MemberRepository,
    audit: AuditTrail,
    usage: UsageCounter,
) -> None:
    """Remove a member from the tenant (owner): every session of theirs ends within this request, their
    login is deleted (a member has no other tenant), the plan's member count in ``usage`` gives the seat back,
    and the removal is audited. The owner cannot remove themself, and a tenant keeps at least one owner."""
    from luxebrain.auth.members import forget_membership, list_members, record_audit, require_member

    member = require_member(tenant_id, user_sub, members=members)  # 404 for a user of another tenant
    if user_sub == actor:
        raise ConflictError("you cannot remove yourself; another owner can")
    if (
        member.role == str(Role.OWNER)
        and sum(m.role == str(Role.OWNER) for m in list_members(tenant_id, members=members)) <= 1
    ):
        raise ConflictError("a tenant keeps at least one owner")
    end_all_sessions(user_sub, sessions=members)
    if member.email:
        sign_out_user(member.email, users=users, members=members)
    members.delete_membership(tenant_id, user_sub)
    forget_membership(user_sub)
    usage.release(tenant_id, "members")
    delete_user(member.email or user_sub, users=users)
    record_audit(
        tenant_id, action="member.removed", actor=actor, audit=audit, details={"user_id": user_sub, "role": member.role}
    )


def create_platform_admin(email: str, password: str, *, users: UserDirectory, members: MemberRepository) -> Tokens:
    """A confirmed platform admin (member of the ``platform-admins`` group), logged in."""
    settings = configured_settings()
    email = normalise_email(email)
    unless_already("GroupExistsException", lambda: users.create_group(PLATFORM_ADMIN_GROUP, "LuxeBrain operators"))
    try:
        users.sign_up(settings.require("user_pool_client_id"), email, password, attributes={"email": email})
        users.admin_confirm_sign_up(email)
    except DirectoryError as exc:
        if exc.code != "UsernameExistsException":
            raise _translate(exc) from None
    users.admin_add_user_to_group(email, PLATFORM_ADMIN_GROUP)
    return login(email, password, users=users, members=members, remember_me=True)


def demo_password() -> str:
    """A password that meets the pool's policy (10+ characters, upper, lower, digit)."""
    return "Lx-" + secrets.token_urlsafe(9) + "a7Q"


def create_demo_login(
    email: str = "merchant@demo.luxebrain.example",
    password: str | None = None,
    company_name: str = "Maison Démo",
    *,
    users: UserDirectory,
    members: MemberRepository,
    tenants: TenantRepository,
    usage: UsageCounter,
) -> DemoLogin:
    """Sign up a merchant (creating its tenant), confirm it as admin, and log in: what the demo prints."""
    password = password or demo_password()
    result = sign_up(email, password, company_name, users=users, members=members, tenants=tenants, usage=usage)
    admin_confirm(email, users=users)
    tokens = login(email, password, users=users, members=members, remember_me=True)
    if result.tenant_id is None:  # pragma: no cover - sign_up always returns one
        raise NotFoundError("sign-up created no tenant")
    return DemoLogin(email=normalise_email(email), password=password, tenant_id=result.tenant_id, tokens=tokens)


def create_login_for_tenant(
    tenant_id: str,
    email: str = "owner@maison-demo.example",
    password: str | None = None,
    role: Role = Role.OWNER,
    *,
    users: UserDirectory,
    members: MemberRepository,
    tenants: TenantRepository,
    usage: UsageCounter,
) -> DemoLogin:
    """A confirmed, logged-in user of an existing tenant (the demo's ``maison-demo``): Cognito user with its
    tenant and role attributes, the membership record, and tokens. Idempotent for the same e-mail."""
    settings = configured_settings()
    tenants.get_tenant(tenant_id)  # NotFoundError for an unknown tenant
    email = normalise_email(email)
    password = password or demo_password()
    try:
        user_sub, _ = users.sign_up(
            settings.require("user_pool_client_id"), email, password, attributes={"email": email}
        )
    except DirectoryError as exc:
        if exc.code != "UsernameExistsException":
            raise _translate(exc) from None
        # Same user again (a re-run): reset the password so the printed one works.
        user_sub = users.admin_get_user(email).sub
        users.admin_set_user_password(email, password)
    users.admin_update_user_attributes(email, {"custom:tenant_id": tenant_id, "custom:role": str(role)})
    unless_already("NotAuthorizedException", lambda: users.admin_confirm_sign_up(email))  # already confirmed
    add_member(tenant_id, user_sub, role, email=email, members=members, usage=usage)
    tokens = login(email, password, users=users, members=members, remember_me=True)
    return DemoLogin(email=email, password=password, tenant_id=tenant_id, tokens=tokens)

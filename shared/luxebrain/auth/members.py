"""Tenant memberships (which tenant and role a verified user has), audit records and impersonation.

The memberships and impersonation sessions are read and written through the ``Memberships`` passed in (the
API's ``Members`` dependency, ``storage.members.member_repository()`` elsewhere, an in-memory one in tests), the
audit records through the ``storage.tenants.AuditTrail`` passed in and an impersonated tenant is looked up in
the ``TenantRepository`` passed in (the API's ``Tenants`` dependency, ``tenant_repository()`` elsewhere).
"""

from __future__ import annotations

import secrets
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from luxebrain.auth.principal import AuthKind, Principal, Role
from luxebrain.caching import ExpiringCache
from luxebrain.errors import ForbiddenError, InvalidInputError, UnauthorizedError
from luxebrain.storage.members import Membership, Memberships
from luxebrain.storage.pages import Page
from luxebrain.storage.tenants import AuditRecord, AuditTrail, TenantRepository
from luxebrain.tenancy import validate_tenant_id

if TYPE_CHECKING:
    from luxebrain.billing.usage import UsageCounter

TENANT_ROLES = (Role.OWNER, Role.STAFF, Role.READ_ONLY)
IMPERSONATION_SECONDS = 3600
# A verified user's membership is cached briefly per container: one DynamoDB read per user per window,
# not per request. A role change or sign-out made elsewhere takes at most this long to apply here.
MEMBERSHIP_CACHE_SECONDS = 10.0


def add_member(
    tenant_id: str,
    user_sub: str,
    role: Role,
    email: str | None = None,
    *,
    members: Memberships,
    usage: UsageCounter,
) -> Membership:
    """Add a user to a tenant, or change their role; a new member counts against the plan's members in ``usage``
    (402)."""
    if role not in TENANT_ROLES:
        raise InvalidInputError(f"role must be one of {', '.join(TENANT_ROLES)}")
    new = not members.membership_exists(tenant_id, user_sub)
    if new:
        usage.consume(tenant_id, "members")
    try:
        return _save_member(members, tenant_id, user_sub, role, email)
    except BaseException:
        if new:
            usage.release(tenant_id, "members")
        raise


def _save_member(members: Memberships, tenant_id: str, user_sub: str, role: Role, email: str | None) -> Membership:
    member = members.save_membership(tenant_id, user_sub, role=str(role), email=email)
    forget_membership(user_sub)
    return member


def list_members(tenant_id: str, *, members: Memberships) -> list[Membership]:
    return members.list_memberships(tenant_id)


_membership_cache: ExpiringCache[str, Membership | None] = ExpiringCache(MEMBERSHIP_CACHE_SECONDS)


def forget_membership(user_sub: str) -> None:
    _membership_cache.forget(user_sub)


def membership_of(user_sub: str, *, members: Memberships) -> Membership | None:
    """The (single) tenant membership of a user, from the user index; None when the user has none."""
    return _membership_cache.get(user_sub, lambda: members.membership_of_user(user_sub))


def principal_for_user(
    user_sub: str, *, groups: tuple[str, ...], issued_at: int, members: Memberships, email: str | None = None
) -> Principal:
    """Map a verified Cognito user to a principal: platform admins by group, others by membership."""
    from luxebrain.auth.principal import PLATFORM_ADMIN_GROUP

    if PLATFORM_ADMIN_GROUP in groups:
        return Principal(subject=user_sub, role=Role.ADMIN, email=email, token_issued_at=issued_at)
    membership = membership_of(user_sub, members=members)
    if membership is None:
        raise ForbiddenError("this account belongs to no tenant")
    return Principal(
        subject=user_sub,
        role=Role(membership.role),
        tenant_id=membership.tenant_id,
        email=membership.email,
        token_issued_at=issued_at,
    )


# ----------------------------------------------------------------------------- audit
def record_audit(
    tenant_id: str,
    *,
    action: str,
    actor: str,
    audit: AuditTrail,
    reason: str | None = None,
    details: dict[str, Any] | None = None,
) -> AuditRecord:
    """Who did what in the tenant (impersonation, suspension, erasure, key rotation...), written to ``audit``."""
    return audit.record_audit(tenant_id, action=action, actor=actor, reason=reason, details=details)


def list_audit(tenant_id: str, *, audit: AuditTrail, limit: int = 100) -> list[AuditRecord]:
    return audit_page(tenant_id, audit=audit, limit=limit).items


def audit_page(tenant_id: str, *, audit: AuditTrail, limit: int, cursor: str | None = None) -> Page[AuditRecord]:
    """One page of the tenant's audit records in ``audit``, newest first."""
    return audit.audit_page(tenant_id, limit=limit, cursor=cursor)


# ----------------------------------------------------------------------------- impersonation
def start_impersonation(
    admin: Principal,
    tenant_id: str,
    *,
    reason: str,
    members: Memberships,
    tenants: TenantRepository,
    role: Role = Role.READ_ONLY,
) -> str:
    """An audited, time-limited session of a platform admin inside ``tenant_id``.

    Returns the session token ``<tenant_id>.<session id>``, sent back in the ``X-Impersonation`` header.
    """
    if not admin.is_platform_admin:
        raise ForbiddenError("only platform admins can impersonate a tenant")
    if role not in TENANT_ROLES:
        raise InvalidInputError(f"role must be one of {', '.join(TENANT_ROLES)}")
    if len(reason.strip()) < 5:
        raise InvalidInputError("an impersonation needs a reason (at least 5 characters) for the audit record")
    tenants.get_tenant(tenant_id)  # NotFoundError for an unknown tenant
    session_id = secrets.token_urlsafe(24)
    expires_at = int(time.time()) + IMPERSONATION_SECONDS
    members.record_impersonation(
        tenant_id, session_id, admin_sub=admin.subject, role=str(role), reason=reason, expires_at=expires_at
    )
    record_audit(
        tenant_id,
        action="impersonation.started",
        actor=admin.subject,
        audit=tenants,
        reason=reason,
        details={"role": str(role), "expires_at": datetime.fromtimestamp(expires_at, UTC).isoformat()},
    )
    return f"{tenant_id}.{session_id}"


def principal_for_impersonation(admin: Principal, session_token: str, *, members: Memberships) -> Principal:
    """The tenant principal of a live impersonation session that belongs to this admin."""
    if not admin.is_platform_admin:
        raise ForbiddenError("only platform admins can impersonate a tenant")
    tenant_id, _, session_id = session_token.partition(".")
    try:
        validate_tenant_id(tenant_id)
    except InvalidInputError:
        raise UnauthorizedError("the impersonation session is not valid") from None
    if not session_id or len(session_id) > 64:
        raise UnauthorizedError("the impersonation session is not valid")
    session = members.get_impersonation(tenant_id, session_id)
    if session is None:
        raise UnauthorizedError("the impersonation session is not valid")
    if session.admin_sub != admin.subject or session.expires_at <= time.time():
        raise UnauthorizedError("the impersonation session is not valid or has expired")
    return Principal(
        subject=admin.subject,
        role=Role(session.role),
        kind=AuthKind.IMPERSONATION,
        tenant_id=tenant_id,
        impersonated_by=admin.subject,
        token_issued_at=admin.token_issued_at,
    )


def require_member(tenant_id: str, user_sub: str, *, members: Memberships) -> Membership:
    return members.get_membership(tenant_id, user_sub)

"""Tenant memberships (which tenant and role a verified user has), audit records and impersonation."""

from __future__ import annotations

import secrets
import threading
import time
from datetime import UTC, datetime
from typing import Any

from pynamodb.exceptions import DoesNotExist

from luxebrain.auth.principal import AuthKind, Principal, Role
from luxebrain.errors import ForbiddenError, InvalidInputError, NotFoundError, UnauthorizedError
from luxebrain.runtime import configured_settings, on_reset
from luxebrain.storage.models import (
    AuditItem,
    ImpersonationItem,
    MembershipItem,
    key_audit,
    key_impersonation,
    key_membership,
    membership_index_keys,
    utc_now,
)
from luxebrain.tenancy import tenant_partition, validate_tenant_id

TENANT_ROLES = (Role.OWNER, Role.STAFF, Role.READ_ONLY)
IMPERSONATION_SECONDS = 3600
# A verified user's membership is cached briefly per container: one DynamoDB read per user per window,
# not per request. A role change or sign-out made elsewhere takes at most this long to apply here.
MEMBERSHIP_CACHE_SECONDS = 10.0


def add_member(tenant_id: str, user_sub: str, role: Role, email: str | None = None) -> MembershipItem:
    """Add a user to a tenant, or change their role; a new member counts against the plan's members (402)."""
    from luxebrain import plans

    configured_settings()
    if role not in TENANT_ROLES:
        raise InvalidInputError(f"role must be one of {', '.join(TENANT_ROLES)}")
    pk, sk = key_membership(tenant_id, user_sub)
    try:
        MembershipItem.get(pk, sk, attributes_to_get=["pk"])
        new = False
    except DoesNotExist:
        new = True
    if new:
        plans.consume(tenant_id, "members")
    try:
        return _save_member(tenant_id, user_sub, role, email)
    except BaseException:
        if new:
            plans.release(tenant_id, "members")
        raise


def _save_member(tenant_id: str, user_sub: str, role: Role, email: str | None) -> MembershipItem:
    pk, sk = key_membership(tenant_id, user_sub)
    gsi1pk, gsi1sk = membership_index_keys(tenant_id, user_sub)
    item = MembershipItem(
        pk,
        sk,
        gsi1pk=gsi1pk,
        gsi1sk=gsi1sk,
        entity=MembershipItem.ENTITY,
        tenant_id=tenant_id,
        user_sub=user_sub,
        email=email,
        role=str(role),
    )
    item.save()
    forget_membership(user_sub)
    return item


def list_members(tenant_id: str) -> list[MembershipItem]:
    configured_settings()
    return list(MembershipItem.query(tenant_partition(tenant_id), MembershipItem.sk.startswith("MEMBER#")))


_membership_lock = threading.Lock()
_membership_cache: dict[str, tuple[float, MembershipItem | None]] = {}
on_reset(_membership_cache.clear)


def forget_membership(user_sub: str) -> None:
    with _membership_lock:
        _membership_cache.pop(user_sub, None)


def membership_of(user_sub: str) -> MembershipItem | None:
    """The (single) tenant membership of a user, from the user index; None when the user has none."""
    now = time.monotonic()
    with _membership_lock:
        cached = _membership_cache.get(user_sub)
    if cached and cached[0] > now:
        return cached[1]
    configured_settings()
    gsi1pk, _ = membership_index_keys("none", user_sub)
    found = next(iter(MembershipItem.by_user.query(gsi1pk, limit=1)), None)
    with _membership_lock:
        _membership_cache[user_sub] = (now + MEMBERSHIP_CACHE_SECONDS, found)
    return found


def principal_for_user(
    user_sub: str, *, groups: tuple[str, ...], issued_at: int, email: str | None = None
) -> Principal:
    """Map a verified Cognito user to a principal: platform admins by group, others by membership."""
    from luxebrain.auth.principal import PLATFORM_ADMIN_GROUP

    if PLATFORM_ADMIN_GROUP in groups:
        return Principal(subject=user_sub, role=Role.ADMIN, email=email, token_issued_at=issued_at)
    membership = membership_of(user_sub)
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
    tenant_id: str, *, action: str, actor: str, reason: str | None = None, details: dict[str, Any] | None = None
) -> AuditItem:
    configured_settings()
    created_at = utc_now()
    pk, sk = key_audit(tenant_id, created_at, secrets.token_hex(4))
    item = AuditItem(
        pk,
        sk,
        entity=AuditItem.ENTITY,
        tenant_id=tenant_id,
        action=action,
        actor=actor,
        reason=reason,
        details=details or {},
        created_at=created_at,
    )
    item.save()
    return item


def list_audit(tenant_id: str, limit: int = 100) -> list[AuditItem]:
    return audit_page(tenant_id, limit=limit, last_evaluated_key=None)[0]


def audit_page(
    tenant_id: str, *, limit: int, last_evaluated_key: dict[str, Any] | None
) -> tuple[list[AuditItem], dict[str, Any] | None]:
    """One page of the tenant's audit records, newest first, and the key to continue from."""
    configured_settings()
    results = AuditItem.query(
        tenant_partition(tenant_id, "AUDIT"),
        scan_index_forward=False,
        limit=limit,
        last_evaluated_key=last_evaluated_key,
    )
    items = list(results)
    return items, results.last_evaluated_key


# ----------------------------------------------------------------------------- impersonation
def start_impersonation(admin: Principal, tenant_id: str, *, reason: str, role: Role = Role.READ_ONLY) -> str:
    """An audited, time-limited session of a platform admin inside ``tenant_id``.

    Returns the session token ``<tenant_id>.<session id>``, sent back in the ``X-Impersonation`` header.
    """
    if not admin.is_platform_admin:
        raise ForbiddenError("only platform admins can impersonate a tenant")
    if role not in TENANT_ROLES:
        raise InvalidInputError(f"role must be one of {', '.join(TENANT_ROLES)}")
    if len(reason.strip()) < 5:
        raise InvalidInputError("an impersonation needs a reason (at least 5 characters) for the audit record")
    from luxebrain.storage.repositories import get_tenant

    get_tenant(tenant_id)  # NotFoundError for an unknown tenant
    session_id = secrets.token_urlsafe(24)
    pk, sk = key_impersonation(tenant_id, session_id)
    expires_at = int(time.time()) + IMPERSONATION_SECONDS
    ImpersonationItem(
        pk,
        sk,
        entity=ImpersonationItem.ENTITY,
        tenant_id=tenant_id,
        session_id=session_id,
        admin_sub=admin.subject,
        role=str(role),
        reason=reason,
        expires_at=expires_at,
    ).save()
    record_audit(
        tenant_id,
        action="impersonation.started",
        actor=admin.subject,
        reason=reason,
        details={"role": str(role), "expires_at": datetime.fromtimestamp(expires_at, UTC).isoformat()},
    )
    return f"{tenant_id}.{session_id}"


def principal_for_impersonation(admin: Principal, session_token: str) -> Principal:
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
    configured_settings()
    try:
        session = ImpersonationItem.get(*key_impersonation(tenant_id, session_id))
    except DoesNotExist:
        raise UnauthorizedError("the impersonation session is not valid") from None
    if session.admin_sub != admin.subject or (session.expires_at or 0) <= time.time():
        raise UnauthorizedError("the impersonation session is not valid or has expired")
    return Principal(
        subject=admin.subject,
        role=Role(session.role),
        kind=AuthKind.IMPERSONATION,
        tenant_id=tenant_id,
        impersonated_by=admin.subject,
        token_issued_at=admin.token_issued_at,
    )


def require_member(tenant_id: str, user_sub: str) -> MembershipItem:
    configured_settings()
    try:
        return MembershipItem.get(*key_membership(tenant_id, user_sub))
    except DoesNotExist:
        raise NotFoundError("member not found") from None

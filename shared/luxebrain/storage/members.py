"""The members repository: who may act in a tenant. Memberships (and the user index that finds a verified
user's tenant), user sessions, platform admins' impersonations and the tenant's storefront key.

Keys come from ``luxebrain.storage.items.members``; callers get the frozen domain objects below.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from pynamodb.exceptions import DoesNotExist

from luxebrain.errors import NotFoundError
from luxebrain.storage.items.base import utc_now
from luxebrain.storage.items.members import (
    ImpersonationItem,
    MembershipItem,
    StorefrontKeyItem,
    UserSessionItem,
    key_impersonation,
    key_membership,
    key_storefront_key,
    key_user_session,
    key_user_sessions_valid_after,
    membership_index_keys,
)
from luxebrain.tenancy import tenant_partition

# Sessions belong to a user, not to a tenant (platform admins have them too).
NOT_A_TENANT = "platform"


# ----------------------------------------------------------------------------- memberships
@dataclass(frozen=True)
class Membership:
    tenant_id: str
    user_sub: str
    email: str | None
    role: str  # owner | staff | read-only
    created_at: datetime


def _membership(item: MembershipItem) -> Membership:
    return Membership(
        tenant_id=item.tenant_id, user_sub=item.user_sub, email=item.email, role=item.role, created_at=item.created_at
    )


def membership_exists(tenant_id: str, user_sub: str) -> bool:
    try:
        MembershipItem.get(*key_membership(tenant_id, user_sub), attributes_to_get=["pk"])
    except DoesNotExist:
        return False
    return True


def save_membership(tenant_id: str, user_sub: str, *, role: str, email: str | None) -> Membership:
    """Add the user to the tenant, or replace their role (and e-mail)."""
    gsi1pk, gsi1sk = membership_index_keys(tenant_id, user_sub)
    item = MembershipItem(
        *key_membership(tenant_id, user_sub),
        gsi1pk=gsi1pk,
        gsi1sk=gsi1sk,
        entity=MembershipItem.ENTITY,
        tenant_id=tenant_id,
        user_sub=user_sub,
        email=email,
        role=role,
    )
    item.save()
    return _membership(item)


def get_membership(tenant_id: str, user_sub: str) -> Membership:
    try:
        return _membership(MembershipItem.get(*key_membership(tenant_id, user_sub)))
    except DoesNotExist:
        raise NotFoundError("member not found") from None


def delete_membership(tenant_id: str, user_sub: str) -> None:
    MembershipItem(*key_membership(tenant_id, user_sub)).delete()


def list_memberships(tenant_id: str) -> list[Membership]:
    """Every member of the tenant (a plan holds a few dozen at most)."""
    return [
        _membership(item)
        for item in MembershipItem.query(tenant_partition(tenant_id), MembershipItem.sk.startswith("MEMBER#"))
    ]


def membership_of_user(user_sub: str) -> Membership | None:
    """The (single) tenant membership of a verified user, from the user index; None when they have none."""
    gsi1pk, _ = membership_index_keys("none", user_sub)
    found = next(iter(MembershipItem.by_user.query(gsi1pk, limit=1)), None)
    return None if found is None else _membership(found)


# ----------------------------------------------------------------------------- user sessions
def record_user_session(user_sub: str, origin_jti: str, *, started_ms: int, expires_at: int) -> None:
    """A login of the user (keyed by the ``origin_jti`` its tokens carry) and when it started."""
    UserSessionItem(
        *key_user_session(user_sub, origin_jti),
        entity=UserSessionItem.ENTITY,
        tenant_id=NOT_A_TENANT,
        user_sub=user_sub,
        at_ms=started_ms,
        expires_at=expires_at,
    ).save()


def user_session_started(user_sub: str, origin_jti: str) -> int | None:
    """When the session started (epoch milliseconds), or None for a session never recorded."""
    try:
        item = UserSessionItem.get(*key_user_session(user_sub, origin_jti))
    except DoesNotExist:
        return None
    return int(item.at_ms)


def set_sessions_valid_after(user_sub: str, at_ms: int) -> None:
    """Every session of the user started at or before ``at_ms`` has ended."""
    UserSessionItem(
        *key_user_sessions_valid_after(user_sub),
        entity=UserSessionItem.ENTITY,
        tenant_id=NOT_A_TENANT,
        user_sub=user_sub,
        at_ms=at_ms,
    ).save()


def sessions_valid_after(user_sub: str) -> int | None:
    """The moment (epoch milliseconds) before which the user's sessions have ended, read consistently; None
    when they never ended any."""
    try:
        stamp = UserSessionItem.get(*key_user_sessions_valid_after(user_sub), consistent_read=True)
    except DoesNotExist:
        return None
    return int(stamp.at_ms)


# ----------------------------------------------------------------------------- impersonations
@dataclass(frozen=True)
class Impersonation:
    tenant_id: str
    session_id: str
    admin_sub: str
    role: str
    reason: str
    expires_at: int  # epoch seconds


def record_impersonation(
    tenant_id: str, session_id: str, *, admin_sub: str, role: str, reason: str, expires_at: int
) -> None:
    ImpersonationItem(
        *key_impersonation(tenant_id, session_id),
        entity=ImpersonationItem.ENTITY,
        tenant_id=tenant_id,
        session_id=session_id,
        admin_sub=admin_sub,
        role=role,
        reason=reason,
        expires_at=expires_at,
    ).save()


def get_impersonation(tenant_id: str, session_id: str) -> Impersonation | None:
    try:
        item = ImpersonationItem.get(*key_impersonation(tenant_id, session_id))
    except DoesNotExist:
        return None
    return Impersonation(
        tenant_id=item.tenant_id,
        session_id=item.session_id,
        admin_sub=item.admin_sub,
        role=item.role,
        reason=item.reason,
        expires_at=int(item.expires_at or 0),
    )


# ----------------------------------------------------------------------------- storefront key
@dataclass(frozen=True)
class StorefrontKey:
    """The tenant's publishable key as stored: hashes only, and the previous key's grace period."""

    tenant_id: str
    key_id: str
    secret_hash: str
    previous_secret_hash: str | None
    previous_valid_until: int | None  # epoch seconds
    created_at: datetime
    rotated_at: datetime | None


def get_storefront_key(tenant_id: str) -> StorefrontKey | None:
    try:
        item = StorefrontKeyItem.get(*key_storefront_key(tenant_id))
    except DoesNotExist:
        return None
    return StorefrontKey(
        tenant_id=item.tenant_id,
        key_id=item.key_id,
        secret_hash=item.secret_hash,
        previous_secret_hash=item.previous_secret_hash,
        previous_valid_until=None if item.previous_valid_until is None else int(item.previous_valid_until),
        created_at=item.created_at,
        rotated_at=item.rotated_at,
    )


def save_storefront_key(
    tenant_id: str, *, key_id: str, secret_hash: str, replacing: StorefrontKey | None, grace_until: int | None
) -> None:
    """Store the tenant's new key; a key it replaces stays valid until ``grace_until``."""
    item = StorefrontKeyItem(
        *key_storefront_key(tenant_id),
        entity=StorefrontKeyItem.ENTITY,
        tenant_id=tenant_id,
        key_id=key_id,
        secret_hash=secret_hash,
    )
    if replacing is not None:
        item.previous_secret_hash = replacing.secret_hash
        item.previous_valid_until = grace_until
        item.created_at = replacing.created_at
        item.rotated_at = utc_now()
    item.save()


# ----------------------------------------------------------------------------- the repository
class Memberships(Protocol):
    """Who belongs to which tenant with which role, and platform admins' impersonation sessions."""

    def membership_exists(self, tenant_id: str, user_sub: str) -> bool: ...

    def save_membership(self, tenant_id: str, user_sub: str, *, role: str, email: str | None) -> Membership: ...

    def get_membership(self, tenant_id: str, user_sub: str) -> Membership: ...

    def delete_membership(self, tenant_id: str, user_sub: str) -> None: ...

    def list_memberships(self, tenant_id: str) -> list[Membership]: ...

    def membership_of_user(self, user_sub: str) -> Membership | None: ...

    def record_impersonation(
        self, tenant_id: str, session_id: str, *, admin_sub: str, role: str, reason: str, expires_at: int
    ) -> None: ...

    def get_impersonation(self, tenant_id: str, session_id: str) -> Impersonation | None: ...


class UserSessions(Protocol):
    """When each login of a user started, and the moment before which all of them have ended."""

    def record_user_session(self, user_sub: str, origin_jti: str, *, started_ms: int, expires_at: int) -> None: ...

    def user_session_started(self, user_sub: str, origin_jti: str) -> int | None: ...

    def set_sessions_valid_after(self, user_sub: str, at_ms: int) -> None: ...

    def sessions_valid_after(self, user_sub: str) -> int | None: ...


class StorefrontKeys(Protocol):
    """The tenant's publishable storefront key, as hashes."""

    def get_storefront_key(self, tenant_id: str) -> StorefrontKey | None: ...

    def save_storefront_key(
        self, tenant_id: str, *, key_id: str, secret_hash: str, replacing: StorefrontKey | None, grace_until: int | None
    ) -> None: ...


class MemberRepository(Memberships, UserSessions, StorefrontKeys, Protocol):
    """The members aggregate as a whole: what the account flows (sign-up, login, team changes) are given.
    Code that needs one part takes the smaller protocol."""


class DynamoMemberRepository:
    """The members repository on the table: this module's reads and writes."""

    membership_exists = staticmethod(membership_exists)
    save_membership = staticmethod(save_membership)
    get_membership = staticmethod(get_membership)
    delete_membership = staticmethod(delete_membership)
    list_memberships = staticmethod(list_memberships)
    membership_of_user = staticmethod(membership_of_user)
    record_impersonation = staticmethod(record_impersonation)
    get_impersonation = staticmethod(get_impersonation)
    record_user_session = staticmethod(record_user_session)
    user_session_started = staticmethod(user_session_started)
    set_sessions_valid_after = staticmethod(set_sessions_valid_after)
    sessions_valid_after = staticmethod(sessions_valid_after)
    get_storefront_key = staticmethod(get_storefront_key)
    save_storefront_key = staticmethod(save_storefront_key)


def member_repository() -> DynamoMemberRepository:
    """The product's members repository (stateless: the table is bound once per execution environment)."""
    return _REPOSITORY


_REPOSITORY = DynamoMemberRepository()

"""Who may act in a tenant: memberships, sessions, impersonations and the storefront key."""

from __future__ import annotations

from pynamodb.attributes import (
    NumberAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex

from luxebrain.storage.items.base import BaseItem, utc_now
from luxebrain.tenancy import tenant_partition


class MembershipsByUserIndex(GlobalSecondaryIndex["MembershipItem"]):
    """gsi1 as a user's tenant memberships: the API finds a verified user's tenant and role here."""

    class Meta:
        index_name = "gsi1"
        projection = AllProjection()

    gsi1pk = UnicodeAttribute(hash_key=True)
    gsi1sk = UnicodeAttribute(range_key=True)


class MembershipItem(BaseItem):
    """A Cognito user's role in a tenant. ``signed_out_at`` (epoch seconds) rejects access tokens issued
    before a global sign-out, which Cognito itself only enforces for refresh tokens."""

    ENTITY = "membership"
    user_sub = UnicodeAttribute()
    email = UnicodeAttribute(null=True)
    role = UnicodeAttribute()  # owner | staff | read-only
    created_at = UTCDateTimeAttribute(default=utc_now)
    signed_out_at = NumberAttribute(null=True)
    by_user = MembershipsByUserIndex()


class StorefrontKeyItem(BaseItem):
    """A tenant's publishable storefront key, stored as a SHA-256 hash; the previous key stays valid for a
    short grace period after a rotation so cached widgets keep working."""

    ENTITY = "storefront_key"
    key_id = UnicodeAttribute()
    secret_hash = UnicodeAttribute()
    previous_secret_hash = UnicodeAttribute(null=True)
    previous_valid_until = NumberAttribute(null=True)
    created_at = UTCDateTimeAttribute(default=utc_now)
    rotated_at = UTCDateTimeAttribute(null=True)


class ImpersonationItem(BaseItem):
    """A platform admin's time-limited session inside one tenant; every one has an audit record."""

    ENTITY = "impersonation"
    session_id = UnicodeAttribute()
    admin_sub = UnicodeAttribute()
    role = UnicodeAttribute()
    reason = UnicodeAttribute()


class UserSessionItem(BaseItem):
    """One login of a Cognito user (keyed by the ``origin_jti`` its access and refreshed tokens carry) and
    when it started, in epoch milliseconds; or, under ``sk = VALID_AFTER``, the moment before which every
    session of the user has ended (logout, password change or reset, removal). Platform admins included, so
    these live in a per-user partition, not a tenant's."""

    ENTITY = "user_session"
    user_sub = UnicodeAttribute()
    at_ms = NumberAttribute()


def key_membership(tenant_id: str, user_sub: str) -> tuple[str, str]:
    return tenant_partition(tenant_id), f"MEMBER#{user_sub}"


def membership_index_keys(tenant_id: str, user_sub: str) -> tuple[str, str]:
    # Not a table partition: the index lets a verified user find the tenant they belong to.
    return f"USER#{user_sub}", f"TENANT#{tenant_id}"


USER_SESSIONS_VALID_AFTER = "VALID_AFTER"


def user_sessions_partition(user_sub: str) -> str:
    # Not a tenant's partition: a user's sessions, read only with the sub of a verified token.
    return f"USER#{user_sub}#SESSIONS"


def key_user_session(user_sub: str, origin_jti: str) -> tuple[str, str]:
    return user_sessions_partition(user_sub), f"SESSION#{origin_jti}"


def key_user_sessions_valid_after(user_sub: str) -> tuple[str, str]:
    return user_sessions_partition(user_sub), USER_SESSIONS_VALID_AFTER


def key_storefront_key(tenant_id: str) -> tuple[str, str]:
    return tenant_partition(tenant_id), "STOREFRONT_KEY"


def key_impersonation(tenant_id: str, session_id: str) -> tuple[str, str]:
    return tenant_partition(tenant_id, "IMPERSONATION"), session_id

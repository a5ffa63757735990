"""Tenants, their stores and pending store connections, usage counters and the audit trail."""

from __future__ import annotations

from datetime import datetime

from pynamodb.attributes import (
    BinaryAttribute,
    BooleanAttribute,
    JSONAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex

from luxebrain.storage.items.base import BaseItem, utc_now
from luxebrain.tenancy import tenant_partition


# The table's one GSI serves several entities; pynamodb binds an index class to one model, so each
# entity that queries it has its own index class (all named gsi1, same keys).
class TenantDirectoryIndex(GlobalSecondaryIndex["TenantItem"]):
    """gsi1 as the platform's tenant directory (platform admins only)."""

    class Meta:
        index_name = "gsi1"
        projection = AllProjection()

    gsi1pk = UnicodeAttribute(hash_key=True)
    gsi1sk = UnicodeAttribute(range_key=True)


class TenantItem(BaseItem):
    """A LuxeBrain customer (a merchant). The directory entry in gsi1 lets platform admins list tenants."""

    ENTITY = "tenant"
    name = UnicodeAttribute()
    plan = UnicodeAttribute(default="free")
    status = UnicodeAttribute(default="active")  # active | suspended | deleting
    created_at = UTCDateTimeAttribute(default=utc_now)
    settings = JSONAttribute(default=dict)
    # Every live order of the tenant is in the orders-by-date index (gsi2): true from creation; a tenant created
    # before that index had its stored orders added once, by the first read of the index.
    orders_indexed_by_date = BooleanAttribute(default=False)
    directory = TenantDirectoryIndex()


class StoreItem(BaseItem):
    """A tenant's WooCommerce store. Credentials are KMS-encrypted in ``secrets_ciphertext`` and never
    leave the storage layer except to sign / call WooCommerce."""

    ENTITY = "store"
    store_id = UnicodeAttribute()
    url = UnicodeAttribute()
    currency = UnicodeAttribute(default="EUR")
    timezone = UnicodeAttribute(default="UTC")
    secrets_ciphertext = BinaryAttribute(legacy_encoding=False)
    created_at = UTCDateTimeAttribute(default=utc_now)
    status = UnicodeAttribute(default="active")
    stats = JSONAttribute(default=dict)  # ingest counters and back-fill progress shown on the dashboard
    last_event_at = UnicodeAttribute(null=True)  # when the processor last stored a delivery of this store
    # Our webhooks on the store, per topic (id, status, times found off, re-enables) and the last health run.
    webhooks = JSONAttribute(default=dict)


def key_tenant(tenant_id: str) -> tuple[str, str]:
    return tenant_partition(tenant_id), "PROFILE"


TENANT_DIRECTORY_PARTITION = "PLATFORM#TENANTS"


def tenant_directory_keys(tenant_id: str, created_at: datetime, status: str) -> tuple[str, str]:
    """The one partition not owned by a tenant: the platform's directory of tenants (gsi1 only). The sort key
    starts with the status, so the admin's status filter is a key condition (a full page of suspended tenants
    however many are active); it is rewritten with every status change."""
    return TENANT_DIRECTORY_PARTITION, f"{tenant_directory_status_prefix(status)}{created_at.isoformat()}#{tenant_id}"


def tenant_directory_status_prefix(status: str) -> str:
    return f"{status}#"


def key_store(tenant_id: str, store_id: str) -> tuple[str, str]:
    return tenant_partition(tenant_id), f"STORE#{store_id}"


class StoreConnectionItem(BaseItem):
    """A pending WooCommerce authorization (``wc-auth``): the one-time state handed to the store as
    ``user_id``. Only a hash of its secret part is stored; it expires (TTL) and is consumed by one callback."""

    ENTITY = "store_connection"
    url = UnicodeAttribute()
    currency = UnicodeAttribute(default="EUR")
    status = UnicodeAttribute(default="pending")  # pending | connected
    store_id = UnicodeAttribute()  # decided when the state is issued, so a repeated callback finds the same store
    key_id = NumberAttribute(null=True)  # WooCommerce's key id of the keys the callback delivered
    created_by = UnicodeAttribute(null=True)
    connected_at = UnicodeAttribute(null=True)


def key_store_connection(tenant_id: str, state_hash: str) -> tuple[str, str]:
    return tenant_partition(tenant_id), f"CONNECT#{state_hash}"


class UsageCounterItem(BaseItem):
    """One usage counter of one tenant in one period (month, day or minute); updated with ADD."""

    ENTITY = "usage"
    metric = UnicodeAttribute()
    period = UnicodeAttribute()
    used = NumberAttribute(default=0)


def key_usage(tenant_id: str, metric: str, period: str) -> tuple[str, str]:
    return tenant_partition(tenant_id, "USAGE"), f"{metric}#{period}"


SIGN_UP_COUNTERS_PARTITION = "PLATFORM#SIGNUP"


def key_sign_up_counter(counter: str) -> tuple[str, str]:
    # Not a tenant's partition: counters of anonymous sign-ups (by hashed client address, and in all).
    return SIGN_UP_COUNTERS_PARTITION, counter


class AuditItem(BaseItem):
    """An audit record: who did what in a tenant (impersonation, suspension, erasure, key rotation)."""

    ENTITY = "audit"
    action = UnicodeAttribute()
    actor = UnicodeAttribute()
    reason = UnicodeAttribute(null=True)
    details = JSONAttribute(default=dict)
    created_at = UTCDateTimeAttribute(default=utc_now)


def key_audit(tenant_id: str, created_at: datetime, audit_id: str) -> tuple[str, str]:
    return tenant_partition(tenant_id, "AUDIT"), f"{created_at.isoformat()}#{audit_id}"

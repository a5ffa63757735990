"""The tenants repository: tenants and the platform's directory of them, their stores (credentials encrypted
with KMS), pending store connections, usage counters and the audit trail.

Every function takes the tenant id first and builds keys through ``luxebrain.storage.items.tenants``, so it can
only touch that tenant's partitions (the directory and the sign-up counters are the two platform partitions).
Callers get the frozen domain objects below, never pynamodb items.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from pydantic import BaseModel, SecretStr
from pynamodb.exceptions import DoesNotExist, UpdateError

from luxebrain.adapters import KeyVault
from luxebrain.errors import ConflictError, NotFoundError
from luxebrain.runtime import on_reset
from luxebrain.storage.items.base import delete_if, is_condition_failure, save_if, update_if, utc_now
from luxebrain.storage.items.tenants import (
    TENANT_DIRECTORY_PARTITION,
    AuditItem,
    StoreConnectionItem,
    StoreItem,
    TenantItem,
    UsageCounterItem,
    key_audit,
    key_sign_up_counter,
    key_store,
    key_store_connection,
    key_tenant,
    key_usage,
    tenant_directory_keys,
    tenant_directory_status_prefix,
)
from luxebrain.storage.pages import Page, query_page
from luxebrain.tenancy import new_tenant_id, tenant_partition, validate_entity_id, validate_tenant_id


# ----------------------------------------------------------------------------- tenants
@dataclass(frozen=True)
class Tenant:
    tenant_id: str
    name: str
    plan: str
    status: str  # active | suspended | deleting
    created_at: datetime
    settings: dict[str, Any] = field(default_factory=dict)


def _tenant(item: TenantItem) -> Tenant:
    return Tenant(
        tenant_id=item.tenant_id,
        name=item.name,
        plan=item.plan,
        status=item.status,
        created_at=item.created_at,
        settings=dict(item.settings or {}),
    )


def create_tenant(name: str, *, plan: str = "free", tenant_id: str | None = None) -> Tenant:
    tenant_id = validate_tenant_id(tenant_id or new_tenant_id())
    pk, sk = key_tenant(tenant_id)
    created_at = utc_now()
    status = "active"
    gsi1pk, gsi1sk = tenant_directory_keys(tenant_id, created_at, status)
    tenant = TenantItem(
        pk,
        sk,
        gsi1pk=gsi1pk,
        gsi1sk=gsi1sk,
        entity=TenantItem.ENTITY,
        tenant_id=tenant_id,
        name=name,
        plan=plan,
        status=status,
        created_at=created_at,
        orders_indexed_by_date=True,  # no order yet: each one is indexed as it is written
    )
    if not save_if(tenant, TenantItem.pk.does_not_exist()):
        raise ConflictError(f"tenant {tenant_id} already exists")
    return _tenant(tenant)


def _get_tenant_item(tenant_id: str, *, consistent: bool = False) -> TenantItem:
    try:
        return TenantItem.get(*key_tenant(tenant_id), consistent_read=consistent)
    except DoesNotExist:
        raise NotFoundError(f"tenant {tenant_id} not found") from None


def get_tenant(tenant_id: str) -> Tenant:
    return _tenant(_get_tenant_item(tenant_id))


def delete_tenant(tenant_id: str) -> None:
    """Remove the tenant's profile (a sign-up that failed half way leaves no orphan tenant)."""
    TenantItem(*key_tenant(tenant_id)).delete()


def update_tenant_settings(
    tenant_id: str,
    change: Callable[[dict[str, Any]], dict[str, Any]],
    *,
    name: str | None = None,
    attempts: int = 5,
) -> Tenant:
    """Apply ``change`` (current settings -> new settings) with optimistic concurrency: the write is conditional
    on the version read, and a concurrent writer makes it re-read and re-apply, so two edits of different
    settings never erase each other."""
    for _ in range(attempts):
        tenant = _get_tenant_item(tenant_id, consistent=True)
        read_version = tenant.updated_at
        actions = [TenantItem.settings.set(change(dict(tenant.settings or {}))), TenantItem.updated_at.set(utc_now())]
        if name:
            actions.append(TenantItem.name.set(name))
        if update_if(tenant, actions, TenantItem.updated_at == read_version):
            return _tenant(tenant)
    raise ConflictError("the tenant's settings changed too often meanwhile; try again")


def set_tenant_status(tenant_id: str, status: str, *, attempts: int = 5) -> Tenant:
    """Suspend or reactivate a tenant. The directory entry's sort key carries the status, so it is rewritten in
    the same write, conditional on the status read (a concurrent change makes it re-read: key and status never
    disagree)."""
    for _ in range(attempts):
        tenant = _get_tenant_item(tenant_id, consistent=True)
        _, gsi1sk = tenant_directory_keys(tenant_id, tenant.created_at, status)
        actions = [TenantItem.status.set(status), TenantItem.gsi1sk.set(gsi1sk)]
        if update_if(tenant, actions, TenantItem.status == tenant.status):
            return _tenant(tenant)
    raise ConflictError("the tenant's status changed too often meanwhile; try again")


def set_tenant_plan(tenant_id: str, plan: str) -> Tenant:
    tenant = _get_tenant_item(tenant_id, consistent=True)
    tenant.update(actions=[TenantItem.plan.set(plan)], condition=TenantItem.pk.exists())
    return _tenant(tenant)


def list_tenants(*, limit: int, cursor: str | None = None, status: str | None = None) -> Page[Tenant]:
    """Platform admins only: one page of the directory (gsi1), by status then oldest first; with ``status``
    only that status's range of the sort key is read, so the page is full whatever the other tenants are."""
    prefix = tenant_directory_status_prefix(status) if status else None
    return query_page(
        TenantItem.directory.query,
        TENANT_DIRECTORY_PARTITION,
        _tenant,
        limit=limit,
        cursor=cursor,
        sort_condition=TenantItem.gsi1sk.startswith(prefix) if prefix else None,
        sort_prefix=prefix,
        partition_attribute="gsi1pk",
    )


def iter_tenants() -> Iterator[Tenant]:
    """Every tenant in the platform directory, page by page (schedules that visit all tenants)."""
    return (_tenant(item) for item in TenantItem.directory.query(TENANT_DIRECTORY_PARTITION))


# ----------------------------------------------------------------------------- stores and secrets
@dataclass(frozen=True)
class Store:
    """A tenant's WooCommerce store, without its credentials (see :func:`get_store_secrets`)."""

    tenant_id: str
    store_id: str
    url: str
    currency: str
    timezone: str
    status: str
    created_at: datetime
    stats: dict[str, Any] = field(default_factory=dict)  # ingest counters and back-fill progress
    last_event_at: str | None = None  # when the processor last stored a delivery of this store
    webhooks: dict[str, Any] = field(default_factory=dict)  # our webhooks per topic and the last health run


def _store(item: StoreItem) -> Store:
    return Store(
        tenant_id=item.tenant_id,
        store_id=item.store_id,
        url=item.url,
        currency=item.currency,
        timezone=item.timezone,
        status=item.status,
        created_at=item.created_at,
        stats=dict(item.stats or {}),
        last_event_at=item.last_event_at,
        webhooks=dict(item.webhooks or {}),
    )


class StoreSecrets(BaseModel):
    """A store's credentials. Held encrypted at rest and never returned by any API after creation."""

    webhook_secret: SecretStr
    consumer_key: SecretStr
    consumer_secret: SecretStr


class StoreExistsError(ConflictError):
    """A store with this id exists already (a concurrent attempt created it)."""


def _encryption_context(tenant_id: str, store_id: str) -> dict[str, str]:
    # Binds the ciphertext to its tenant and store: a copied blob does not decrypt elsewhere.
    return {"tenant_id": tenant_id, "store_id": store_id}


def _encrypt(vault: KeyVault, tenant_id: str, store_id: str, store_secrets: StoreSecrets) -> bytes:
    plaintext = json.dumps({name: value.get_secret_value() for name, value in store_secrets}).encode()
    return vault.encrypt(plaintext, context=_encryption_context(tenant_id, store_id))


def create_store(
    tenant_id: str,
    *,
    vault: KeyVault,
    url: str,
    consumer_key: str,
    consumer_secret: str,
    currency: str = "EUR",
    store_id: str | None = None,
) -> tuple[Store, StoreSecrets]:
    """Store a WooCommerce store with its credentials encrypted by ``vault``; returns the store and its
    secrets (including a new webhook secret) once, for the merchant to paste into WooCommerce. A store id taken
    already is a StoreExistsError. Not metered: registering a store for a merchant goes through
    :func:`luxebrain.woocommerce.connection.register_store`, which counts it against the plan."""
    store_id = validate_entity_id(store_id or "s-" + secrets.token_hex(6), "store id")
    store_secrets = StoreSecrets(
        webhook_secret=SecretStr(secrets.token_urlsafe(32)),
        consumer_key=SecretStr(consumer_key),
        consumer_secret=SecretStr(consumer_secret),
    )
    pk, sk = key_store(tenant_id, store_id)
    store = StoreItem(
        pk,
        sk,
        entity=StoreItem.ENTITY,
        tenant_id=tenant_id,
        store_id=store_id,
        url=url,
        currency=currency,
        secrets_ciphertext=_encrypt(vault, tenant_id, store_id, store_secrets),
    )
    if not save_if(store, StoreItem.pk.does_not_exist()):
        raise StoreExistsError(f"store {store_id} exists already")
    return _store(store), store_secrets


def replace_store_keys(
    tenant_id: str, store_id: str, *, vault: KeyVault, consumer_key: str, consumer_secret: str
) -> Store:
    """New REST keys for a store (a reconnect): re-encrypted with the same webhook secret, so the webhooks
    already on the store keep verifying."""
    store = _get_store_item(tenant_id, store_id)
    current = get_store_secrets(tenant_id, store_id, vault=vault)
    replaced = StoreSecrets(
        webhook_secret=current.webhook_secret,
        consumer_key=SecretStr(consumer_key),
        consumer_secret=SecretStr(consumer_secret),
    )
    ciphertext = _encrypt(vault, tenant_id, store_id, replaced)
    store.update(actions=[StoreItem.secrets_ciphertext.set(ciphertext), StoreItem.status.set("active")])
    _secrets_cache.pop((tenant_id, store_id), None)
    return _store(store)


def _get_store_item(tenant_id: str, store_id: str) -> StoreItem:
    try:
        return StoreItem.get(*key_store(tenant_id, store_id))
    except DoesNotExist:
        raise NotFoundError(f"store {store_id} not found") from None


def get_store(tenant_id: str, store_id: str) -> Store:
    return _store(_get_store_item(tenant_id, store_id))


def store_exists(tenant_id: str, store_id: str) -> bool:
    try:
        StoreItem.get(*key_store(tenant_id, store_id), attributes_to_get=["pk"])
    except DoesNotExist:
        return False
    return True


def delete_store(tenant_id: str, store_id: str) -> bool:
    """Remove a store's record with its encrypted keys (the records it sent stay the tenant's); False when it
    was gone already."""
    if not delete_if(StoreItem(*key_store(tenant_id, store_id)), StoreItem.pk.exists()):
        return False
    _secrets_cache.pop((tenant_id, store_id), None)
    return True


_STORE_PREFIX = "STORE#"


def list_stores(tenant_id: str) -> list[Store]:
    """All the tenant's stores (a plan holds a few dozen at most)."""
    return [
        _store(item) for item in StoreItem.query(tenant_partition(tenant_id), StoreItem.sk.startswith(_STORE_PREFIX))
    ]


def store_page(tenant_id: str, *, limit: int, cursor: str | None = None) -> Page[Store]:
    return query_page(
        StoreItem.query,
        tenant_partition(tenant_id),
        _store,
        limit=limit,
        cursor=cursor,
        sort_condition=StoreItem.sk.startswith(_STORE_PREFIX),
        sort_prefix=_STORE_PREFIX,
    )


def set_store_webhooks(tenant_id: str, store_id: str, state: dict[str, Any]) -> None:
    """Record our webhooks' state on the store: an UpdateItem of this one attribute, since the processor stamps
    ``last_event_at`` on the same item concurrently."""
    if not update_if(
        StoreItem(*key_store(tenant_id, store_id)), [StoreItem.webhooks.set(state)], StoreItem.pk.exists()
    ):
        raise NotFoundError(f"store {store_id} not found")


def stamp_store_last_event(tenant_id: str, store_id: str, stamp: str) -> bool:
    """Record when a delivery of the store was last stored, never moving back in time: False (nothing written)
    when the stamp is older than the stored one or the store is gone."""
    condition = StoreItem.pk.exists() & (StoreItem.last_event_at.does_not_exist() | (StoreItem.last_event_at < stamp))
    return update_if(StoreItem(*key_store(tenant_id, store_id)), [StoreItem.last_event_at.set(stamp)], condition)


_SECRETS_TTL_SECONDS = 300.0
_secrets_cache: dict[tuple[str, str], tuple[float, StoreSecrets]] = {}
on_reset(_secrets_cache.clear)


def get_store_secrets(tenant_id: str, store_id: str, *, vault: KeyVault) -> StoreSecrets:
    """Decrypt a store's credentials with ``vault`` (cached for a few minutes per container: one KMS call,
    not one per webhook)."""
    cached = _secrets_cache.get((tenant_id, store_id))
    if cached and cached[0] > time.monotonic():
        return cached[1]
    store = _get_store_item(tenant_id, store_id)
    plaintext = vault.decrypt(store.secrets_ciphertext, context=_encryption_context(tenant_id, store_id))
    store_secrets = StoreSecrets.model_validate_json(plaintext)
    _secrets_cache[(tenant_id, store_id)] = (time.monotonic() + _SECRETS_TTL_SECONDS, store_secrets)
    return store_secrets


# ----------------------------------------------------------------------------- store connections (wc-auth)
@dataclass(frozen=True)
class StoreConnection:
    """A pending WooCommerce authorization, found by the hash of its one-time state."""

    tenant_id: str
    state_hash: str
    url: str
    currency: str
    status: str  # pending | connected
    store_id: str
    key_id: int | None
    expires_at: int | None  # epoch seconds


def _store_connection(item: StoreConnectionItem, state_hash: str) -> StoreConnection:
    return StoreConnection(
        tenant_id=item.tenant_id,
        state_hash=state_hash,
        url=item.url,
        currency=item.currency,
        status=item.status,
        store_id=item.store_id,
        key_id=None if item.key_id is None else int(item.key_id),
        expires_at=None if item.expires_at is None else int(item.expires_at),
    )


def open_store_connection(
    tenant_id: str,
    state_hash: str,
    *,
    url: str,
    currency: str,
    store_id: str,
    created_by: str | None,
    expires_at: int,
) -> None:
    """A pending connection state; ConflictError when the state exists already."""
    item = StoreConnectionItem(
        *key_store_connection(tenant_id, state_hash),
        entity=StoreConnectionItem.ENTITY,
        tenant_id=tenant_id,
        url=url,
        currency=currency,
        store_id=store_id,
        created_by=created_by,
        expires_at=expires_at,
    )
    if not save_if(item, StoreConnectionItem.pk.does_not_exist()):
        raise ConflictError("connection state exists")


def get_store_connection(tenant_id: str, state_hash: str) -> StoreConnection:
    try:
        item = StoreConnectionItem.get(*key_store_connection(tenant_id, state_hash), consistent_read=True)
    except DoesNotExist:
        raise NotFoundError("unknown connection state") from None
    return _store_connection(item, state_hash)


def claim_store_connection(tenant_id: str, state_hash: str, key_id: int) -> bool:
    """Bind the state to WooCommerce's key id, unless another key holds it: True for the first key and the same
    key again, False for another one."""
    condition = StoreConnectionItem.pk.exists() & (
        StoreConnectionItem.key_id.does_not_exist() | (StoreConnectionItem.key_id == key_id)
    )
    item = StoreConnectionItem(*key_store_connection(tenant_id, state_hash))
    return update_if(item, [StoreConnectionItem.key_id.set(key_id)], condition)


def mark_store_connected(tenant_id: str, state_hash: str, key_id: int, connected_at: str) -> None:
    """Mark the state connected by the key that claimed it; ConflictError when another key holds it (or there is
    no such state)."""
    if not update_if(
        StoreConnectionItem(*key_store_connection(tenant_id, state_hash)),
        [StoreConnectionItem.status.set("connected"), StoreConnectionItem.connected_at.set(connected_at)],
        StoreConnectionItem.key_id == key_id,
    ):
        raise ConflictError("the connection state is held by another key")


# ----------------------------------------------------------------------------- usage counters
def add_usage_within(
    tenant_id: str, metric: str, period: str, amount: int, allowed: int, *, expires_at: int | None = None
) -> int | None:
    """ADD ``amount`` to the tenant's counter of ``metric`` in ``period`` (a period label) if the total stays
    within ``allowed``: the new total, or None when it would not (two concurrent requests can never both take
    the last unit)."""
    return _add_within(
        key_usage(tenant_id, metric, period),
        amount,
        allowed,
        tenant_id=tenant_id,
        metric=metric,
        period=period,
        expires_at=expires_at,
    )


def _add_within(
    key: tuple[str, str],
    amount: int,
    allowed: int,
    *,
    tenant_id: str,
    metric: str,
    period: str,
    expires_at: int | None,
) -> int | None:
    """The one conditional ADD of every usage counter (a tenant's plan usage, the platform's sign-ups): the new
    total, or None when ``amount`` would take it past ``allowed``."""
    if amount > allowed:
        # The condition below lets a counter not yet started take any first amount; none over the allowance fits.
        return None
    counter = UsageCounterItem(*key)
    actions = [
        UsageCounterItem.used.add(amount),
        UsageCounterItem.entity.set(UsageCounterItem.ENTITY),
        UsageCounterItem.tenant_id.set(tenant_id),
        UsageCounterItem.metric.set(metric),
        UsageCounterItem.period.set(period),
    ]
    if expires_at is not None:
        actions.append(UsageCounterItem.expires_at.set(expires_at))
    try:
        response = counter.update(
            actions=actions,
            condition=UsageCounterItem.used.does_not_exist() | (UsageCounterItem.used <= allowed - amount),
        )
    except UpdateError as exc:
        if is_condition_failure(exc):
            return None
        raise
    return int(response["Attributes"]["used"]["N"]) if "Attributes" in response else int(counter.used)


def subtract_usage(tenant_id: str, metric: str, period: str, amount: int) -> None:
    """Take ``amount`` off the counter, never below zero (nothing happens when it holds less)."""
    try:
        UsageCounterItem(*key_usage(tenant_id, metric, period)).update(
            actions=[UsageCounterItem.used.add(-amount)], condition=UsageCounterItem.used >= amount
        )
    except UpdateError as exc:
        if not is_condition_failure(exc):
            raise


def usage_of(tenant_id: str, metric: str, period: str) -> int:
    """One counter, read consistently (0 when it was never counted)."""
    try:
        counter = UsageCounterItem.get(*key_usage(tenant_id, metric, period), consistent_read=True)
    except DoesNotExist:
        return 0
    return int(counter.used or 0)


def usage_counts(tenant_id: str, counters: list[tuple[str, str]]) -> dict[tuple[str, str], int]:
    """Several (metric, period) counters in one BatchGetItem; absent ones are 0."""
    keys = {key_usage(tenant_id, metric, period): (metric, period) for metric, period in counters}
    found = {(item.pk, item.sk): int(item.used or 0) for item in UsageCounterItem.batch_get(list(keys))}
    return {counter: found.get(key, 0) for key, counter in keys.items()}


def count_sign_up(counter: str, allowed: int, *, expires_at: int) -> bool:
    """Count one anonymous sign-up on a platform counter (by hashed address or in all): False once ``allowed``
    are counted."""
    total = _add_within(
        key_sign_up_counter(counter),
        1,
        allowed,
        tenant_id="platform",
        metric="sign_ups",
        period=counter.rsplit("#", 1)[-1],
        expires_at=expires_at,
    )
    return total is not None


# ----------------------------------------------------------------------------- audit
@dataclass(frozen=True)
class AuditRecord:
    action: str
    actor: str
    reason: str | None
    details: dict[str, Any]
    created_at: datetime


def _audit_record(item: AuditItem) -> AuditRecord:
    return AuditRecord(
        action=item.action,
        actor=item.actor,
        reason=item.reason,
        details=dict(item.details or {}),
        created_at=item.created_at,
    )


def record_audit(
    tenant_id: str, *, action: str, actor: str, reason: str | None = None, details: dict[str, Any] | None = None
) -> AuditRecord:
    created_at = utc_now()
    item = AuditItem(
        *key_audit(tenant_id, created_at, secrets.token_hex(4)),
        entity=AuditItem.ENTITY,
        tenant_id=tenant_id,
        action=action,
        actor=actor,
        reason=reason,
        details=details or {},
        created_at=created_at,
    )
    item.save()
    return _audit_record(item)


def audit_page(tenant_id: str, *, limit: int, cursor: str | None = None) -> Page[AuditRecord]:
    """One page of the tenant's audit records, newest first."""
    return query_page(
        AuditItem.query,
        tenant_partition(tenant_id, "AUDIT"),
        _audit_record,
        limit=limit,
        cursor=cursor,
        newest_first=True,
    )


# ----------------------------------------------------------------------------- the repository
class TenantDirectory(Protocol):
    """Every tenant of the platform, for the schedules and lookups that visit them all."""

    def iter_tenants(self) -> Iterator[Tenant]: ...


class AuditTrail(Protocol):
    """A tenant's audit records: who did what in it, newest first."""

    def record_audit(
        self,
        tenant_id: str,
        *,
        action: str,
        actor: str,
        reason: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> AuditRecord: ...

    def audit_page(self, tenant_id: str, *, limit: int, cursor: str | None = None) -> Page[AuditRecord]: ...


class TenantRepository(TenantDirectory, AuditTrail, Protocol):
    """What the API's routes and the product modules read and write of tenants and their stores: the tenant's
    profile and settings, the platform's directory of tenants, the stores' records and their credentials
    (decrypted with the vault passed in), their creation, key replacement and webhook state, the pending store
    connections (wc-auth), a store's last-event stamp (ingest), the plan's usage counters
    (``billing.usage.PlanUsage``), the sign-up counters and the audit trail."""

    def create_tenant(self, name: str, *, plan: str = "free", tenant_id: str | None = None) -> Tenant: ...

    def get_tenant(self, tenant_id: str) -> Tenant: ...

    def delete_tenant(self, tenant_id: str) -> None: ...

    def update_tenant_settings(
        self,
        tenant_id: str,
        change: Callable[[dict[str, Any]], dict[str, Any]],
        *,
        name: str | None = None,
        attempts: int = 5,
    ) -> Tenant: ...

    def set_tenant_status(self, tenant_id: str, status: str, *, attempts: int = 5) -> Tenant: ...

    def set_tenant_plan(self, tenant_id: str, plan: str) -> Tenant: ...

    def list_tenants(self, *, limit: int, cursor: str | None = None, status: str | None = None) -> Page[Tenant]: ...

    def get_store(self, tenant_id: str, store_id: str) -> Store: ...

    def store_page(self, tenant_id: str, *, limit: int, cursor: str | None = None) -> Page[Store]: ...

    def list_stores(self, tenant_id: str) -> list[Store]: ...

    def get_store_secrets(self, tenant_id: str, store_id: str, *, vault: KeyVault) -> StoreSecrets: ...

    def stamp_store_last_event(self, tenant_id: str, store_id: str, stamp: str) -> bool: ...

    def create_store(
        self,
        tenant_id: str,
        *,
        vault: KeyVault,
        url: str,
        consumer_key: str,
        consumer_secret: str,
        currency: str = "EUR",
        store_id: str | None = None,
    ) -> tuple[Store, StoreSecrets]: ...

    def replace_store_keys(
        self, tenant_id: str, store_id: str, *, vault: KeyVault, consumer_key: str, consumer_secret: str
    ) -> Store: ...

    def store_exists(self, tenant_id: str, store_id: str) -> bool: ...

    def delete_store(self, tenant_id: str, store_id: str) -> bool: ...

    def set_store_webhooks(self, tenant_id: str, store_id: str, state: dict[str, Any]) -> None: ...

    def open_store_connection(
        self,
        tenant_id: str,
        state_hash: str,
        *,
        url: str,
        currency: str,
        store_id: str,
        created_by: str | None,
        expires_at: int,
    ) -> None: ...

    def get_store_connection(self, tenant_id: str, state_hash: str) -> StoreConnection: ...

    def claim_store_connection(self, tenant_id: str, state_hash: str, key_id: int) -> bool: ...

    def mark_store_connected(self, tenant_id: str, state_hash: str, key_id: int, connected_at: str) -> None: ...

    def add_usage_within(
        self, tenant_id: str, metric: str, period: str, amount: int, allowed: int, *, expires_at: int | None = None
    ) -> int | None: ...

    def subtract_usage(self, tenant_id: str, metric: str, period: str, amount: int) -> None: ...

    def usage_of(self, tenant_id: str, metric: str, period: str) -> int: ...

    def usage_counts(self, tenant_id: str, counters: list[tuple[str, str]]) -> dict[tuple[str, str], int]: ...

    def count_sign_up(self, counter: str, allowed: int, *, expires_at: int) -> bool: ...


class DynamoTenantRepository:
    """The tenants repository on the table: this module's reads and writes."""

    create_tenant = staticmethod(create_tenant)
    get_tenant = staticmethod(get_tenant)
    delete_tenant = staticmethod(delete_tenant)
    update_tenant_settings = staticmethod(update_tenant_settings)
    set_tenant_status = staticmethod(set_tenant_status)
    set_tenant_plan = staticmethod(set_tenant_plan)
    list_tenants = staticmethod(list_tenants)
    get_store = staticmethod(get_store)
    store_page = staticmethod(store_page)
    list_stores = staticmethod(list_stores)
    get_store_secrets = staticmethod(get_store_secrets)
    stamp_store_last_event = staticmethod(stamp_store_last_event)
    create_store = staticmethod(create_store)
    replace_store_keys = staticmethod(replace_store_keys)
    store_exists = staticmethod(store_exists)
    delete_store = staticmethod(delete_store)
    set_store_webhooks = staticmethod(set_store_webhooks)
    open_store_connection = staticmethod(open_store_connection)
    get_store_connection = staticmethod(get_store_connection)
    claim_store_connection = staticmethod(claim_store_connection)
    mark_store_connected = staticmethod(mark_store_connected)
    add_usage_within = staticmethod(add_usage_within)
    subtract_usage = staticmethod(subtract_usage)
    usage_of = staticmethod(usage_of)
    usage_counts = staticmethod(usage_counts)
    count_sign_up = staticmethod(count_sign_up)
    iter_tenants = staticmethod(iter_tenants)
    record_audit = staticmethod(record_audit)
    audit_page = staticmethod(audit_page)


def tenant_repository() -> DynamoTenantRepository:
    """The product's tenants repository (stateless: the table is bound once per execution environment)."""
    return _REPOSITORY


_REPOSITORY = DynamoTenantRepository()

"""Repositories: the only code that reads and writes the table. Every function takes the tenant id first
and builds keys through luxebrain.storage.models, so it can only touch that tenant's partitions."""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

from pydantic import BaseModel, SecretStr
from pynamodb.exceptions import DoesNotExist, PutError, UpdateError

from luxebrain.errors import ConflictError, NotFoundError
from luxebrain.runtime import aws_client, configured_settings, on_reset
from luxebrain.storage.models import (
    TENANT_DIRECTORY_PARTITION,
    BaseItem,
    CustomerItem,
    OrderItem,
    ProductItem,
    StoreItem,
    TenantItem,
    is_condition_failure,
    key_store,
    key_tenant,
    tenant_directory_keys,
    utc_now,
)
from luxebrain.tenancy import new_tenant_id, tenant_partition, validate_entity_id, validate_tenant_id


# ----------------------------------------------------------------------------- tenants
def create_tenant(name: str, *, plan: str = "free", tenant_id: str | None = None) -> TenantItem:
    configured_settings()
    tenant_id = validate_tenant_id(tenant_id or new_tenant_id())
    pk, sk = key_tenant(tenant_id)
    created_at = utc_now()
    gsi1pk, gsi1sk = tenant_directory_keys(tenant_id, created_at)
    tenant = TenantItem(
        pk,
        sk,
        gsi1pk=gsi1pk,
        gsi1sk=gsi1sk,
        entity=TenantItem.ENTITY,
        tenant_id=tenant_id,
        name=name,
        plan=plan,
        created_at=created_at,
    )
    try:
        tenant.save(condition=TenantItem.pk.does_not_exist())
    except PutError as exc:
        if is_condition_failure(exc):
            raise ConflictError(f"tenant {tenant_id} already exists") from None
        raise
    return tenant


def get_tenant(tenant_id: str) -> TenantItem:
    configured_settings()
    try:
        return TenantItem.get(*key_tenant(tenant_id))
    except DoesNotExist:
        raise NotFoundError(f"tenant {tenant_id} not found") from None


def update_tenant_settings(
    tenant_id: str,
    change: Callable[[dict[str, Any]], dict[str, Any]],
    *,
    name: str | None = None,
    attempts: int = 5,
) -> TenantItem:
    """Apply ``change`` (current settings -> new settings) with optimistic concurrency: the write is conditional
    on the version read, and a concurrent writer makes it re-read and re-apply, so two edits of different
    settings never erase each other."""
    configured_settings()
    pk, sk = key_tenant(tenant_id)
    for _ in range(attempts):
        try:
            tenant = TenantItem.get(pk, sk, consistent_read=True)
        except DoesNotExist:
            raise NotFoundError(f"tenant {tenant_id} not found") from None
        read_version = tenant.updated_at
        actions = [TenantItem.settings.set(change(dict(tenant.settings or {}))), TenantItem.updated_at.set(utc_now())]
        if name:
            actions.append(TenantItem.name.set(name))
        try:
            tenant.update(actions=actions, condition=TenantItem.updated_at == read_version)
            return tenant
        except UpdateError as exc:
            if not is_condition_failure(exc):
                raise
    raise ConflictError("the tenant's settings changed too often meanwhile; try again")


def list_tenants(limit: int = 100) -> list[TenantItem]:
    """Platform admins only: the directory partition of gsi1."""
    configured_settings()
    return list(TenantItem.directory.query(TENANT_DIRECTORY_PARTITION, limit=limit))


def iter_tenants() -> Iterator[TenantItem]:
    """Every tenant in the platform directory, page by page (schedules that visit all tenants)."""
    configured_settings()
    return TenantItem.directory.query(TENANT_DIRECTORY_PARTITION)


# ----------------------------------------------------------------------------- stores and secrets
class StoreSecrets(BaseModel):
    """A store's credentials. Held encrypted at rest and never returned by any API after creation."""

    webhook_secret: SecretStr
    consumer_key: SecretStr
    consumer_secret: SecretStr


def _encryption_context(tenant_id: str, store_id: str) -> dict[str, str]:
    # Binds the ciphertext to its tenant and store: a copied blob does not decrypt elsewhere.
    return {"tenant_id": tenant_id, "store_id": store_id}


def create_store(
    tenant_id: str,
    *,
    url: str,
    consumer_key: str,
    consumer_secret: str,
    currency: str = "EUR",
    store_id: str | None = None,
) -> tuple[StoreItem, StoreSecrets]:
    """Register a WooCommerce store; returns the store and its secrets (including a new webhook secret)
    once, for the merchant to paste into WooCommerce. The plan caps the stores a tenant holds (402)."""
    from luxebrain import plans

    settings = configured_settings()
    store_id = validate_entity_id(store_id or "s-" + secrets.token_hex(6), "store id")
    plans.consume(tenant_id, "stores")
    try:
        return _create_store(tenant_id, store_id, url, consumer_key, consumer_secret, currency, settings)
    except BaseException:
        plans.release(tenant_id, "stores")
        raise


def _create_store(
    tenant_id: str, store_id: str, url: str, consumer_key: str, consumer_secret: str, currency: str, settings: Any
) -> tuple[StoreItem, StoreSecrets]:
    store_secrets = StoreSecrets(
        webhook_secret=SecretStr(secrets.token_urlsafe(32)),
        consumer_key=SecretStr(consumer_key),
        consumer_secret=SecretStr(consumer_secret),
    )
    plaintext = json.dumps({name: value.get_secret_value() for name, value in store_secrets}).encode()
    ciphertext = aws_client("kms").encrypt(
        KeyId=settings.require("secrets_key_id"),
        Plaintext=plaintext,
        EncryptionContext=_encryption_context(tenant_id, store_id),
    )["CiphertextBlob"]
    pk, sk = key_store(tenant_id, store_id)
    store = StoreItem(
        pk,
        sk,
        entity=StoreItem.ENTITY,
        tenant_id=tenant_id,
        store_id=store_id,
        url=url,
        currency=currency,
        secrets_ciphertext=ciphertext,
    )
    store.save(condition=StoreItem.pk.does_not_exist())
    return store, store_secrets


def replace_store_keys(tenant_id: str, store_id: str, *, consumer_key: str, consumer_secret: str) -> StoreItem:
    """New REST keys for a store (a reconnect): re-encrypted with the same webhook secret, so the webhooks
    already on the store keep verifying."""
    settings = configured_settings()
    store = get_store(tenant_id, store_id)
    current = get_store_secrets(tenant_id, store_id)
    plaintext = json.dumps(
        {
            "webhook_secret": current.webhook_secret.get_secret_value(),
            "consumer_key": consumer_key,
            "consumer_secret": consumer_secret,
        }
    ).encode()
    ciphertext = aws_client("kms").encrypt(
        KeyId=settings.require("secrets_key_id"),
        Plaintext=plaintext,
        EncryptionContext=_encryption_context(tenant_id, store_id),
    )["CiphertextBlob"]
    store.update(actions=[StoreItem.secrets_ciphertext.set(ciphertext), StoreItem.status.set("active")])
    _secrets_cache.pop((tenant_id, store_id), None)
    return store


def get_store(tenant_id: str, store_id: str) -> StoreItem:
    configured_settings()
    try:
        return StoreItem.get(*key_store(tenant_id, store_id))
    except DoesNotExist:
        raise NotFoundError(f"store {store_id} not found") from None


def list_stores(tenant_id: str) -> list[StoreItem]:
    configured_settings()
    return list(StoreItem.query(tenant_partition(tenant_id), StoreItem.sk.startswith("STORE#")))


_SECRETS_TTL_SECONDS = 300.0
_secrets_cache: dict[tuple[str, str], tuple[float, StoreSecrets]] = {}
on_reset(_secrets_cache.clear)


def get_store_secrets(tenant_id: str, store_id: str) -> StoreSecrets:
    """Decrypt a store's credentials (cached for a few minutes per container: one KMS call, not one per
    webhook)."""
    cached = _secrets_cache.get((tenant_id, store_id))
    if cached and cached[0] > time.monotonic():
        return cached[1]
    store = get_store(tenant_id, store_id)
    plaintext = aws_client("kms").decrypt(
        CiphertextBlob=store.secrets_ciphertext, EncryptionContext=_encryption_context(tenant_id, store_id)
    )["Plaintext"]
    store_secrets = StoreSecrets.model_validate_json(plaintext)
    _secrets_cache[(tenant_id, store_id)] = (time.monotonic() + _SECRETS_TTL_SECONDS, store_secrets)
    return store_secrets


# ----------------------------------------------------------------------------- store data
def put_if_newer(item: ProductItem | CustomerItem | OrderItem) -> bool:
    """Write a store record unless the stored one is newer or the same content: the exactly-once rule.

    Returns True when written. An older ``modified_gmt`` never overwrites a newer one; the same version with
    the same content hash is a duplicate and writes nothing.
    """
    configured_settings()
    model = type(item)
    condition = (
        model.pk.does_not_exist()
        | (model.modified_gmt < item.modified_gmt)
        | ((model.modified_gmt == item.modified_gmt) & (model.content_hash != item.content_hash))
    )
    try:
        item.save(condition=condition)
    except PutError as exc:
        if is_condition_failure(exc):
            return False
        raise
    return True


def is_expired(item: BaseItem, now: datetime | None = None) -> bool:
    """DynamoDB's TTL deletes lazily (up to days later), so readers check ``expires_at`` themselves."""
    if item.expires_at is None:
        return False
    return (now or utc_now()).timestamp() >= item.expires_at

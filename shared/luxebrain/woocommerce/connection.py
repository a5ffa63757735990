"""Connecting a store through WooCommerce's own authorization endpoint (``/wc-auth/v1/authorize``).

1. :func:`start_connection` (the merchant, signed in, gives the store's URL) issues a one-time state and returns
   the store's authorize URL: ``app_name``, ``scope=read_write`` (approved prices are written back, so a read
   key cannot serve), ``user_id`` = the state, ``return_url`` (the dashboard), ``callback_url`` (the public
   ingest API).
2. The merchant approves in their store; WooCommerce POSTs ``key_id, user_id, consumer_key, consumer_secret,
   key_permissions`` to the callback and needs a 200. :func:`complete_connection` verifies the state (it names
   its tenant, and is trusted only once the hash of its secret part is found in that tenant's partition, unused
   and unexpired), checks the permissions, and stores the keys KMS-encrypted like a pasted key.

The state is consumed once: a repeated callback with the same key answers with the same store (WooCommerce or a
proxy may retry), a different key on a used state is a replay and is refused. The store id is chosen when the
state is issued, so a callback that crashed half way and is retried completes the same store, never a second.
Reconnecting a shop already connected keeps its store id and replaces its keys. After the store exists,
webhook registration and the first back-fill are queued (the store is waiting for our
200: calling it back from inside its own callback would stall a single-worker store).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

from pydantic import BaseModel, ConfigDict, Field

from luxebrain.adapters import KeyVault
from luxebrain.billing.usage import UsageCounter
from luxebrain.errors import ConflictError, ForbiddenError, InvalidInputError, LuxeBrainError, NotFoundError
from luxebrain.runtime import configured_settings
from luxebrain.storage.tenants import Store, StoreConnection, StoreExistsError, StoreSecrets, TenantRepository
from luxebrain.tenancy import validate_tenant_id

APP_NAME = "LuxeBrain"
REQUIRED_PERMISSIONS = "read_write"
STATE_LIFETIME = timedelta(minutes=30)  # long enough to sign in to the store's admin and approve
AUTHORIZE_PATH = "/wc-auth/v1/authorize"
CALLBACK_PATH = "/woocommerce/connect/callback"
_STATE_SEPARATOR = "."


class ConnectionStateExpired(LuxeBrainError):
    """The state is older than its lifetime: start the connection again."""

    status_code = 410


class ConnectionCallback(BaseModel):
    """What WooCommerce POSTs to the callback URL (``WC_Auth::post_consumer_data``)."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True, coerce_numbers_to_str=False)

    key_id: int = Field(ge=1, le=2**53)
    user_id: str = Field(min_length=10, max_length=200)
    consumer_key: str = Field(pattern=r"^ck_[A-Za-z0-9]{16,64}$")
    consumer_secret: str = Field(pattern=r"^cs_[A-Za-z0-9]{16,64}$")
    key_permissions: str = Field(max_length=20)


@dataclass(frozen=True)
class ConnectionStart:
    authorize_url: str
    store_id: str
    expires_at: datetime


@dataclass(frozen=True)
class ConnectionResult:
    tenant_id: str
    store_id: str
    created: bool  # False when a repeated callback found the store already connected


def callback_url() -> str:
    settings = configured_settings()
    return f"{settings.ingest_base_url().rstrip('/')}{CALLBACK_PATH}"


def return_url(store_id: str) -> str:
    """Where WooCommerce sends the merchant back (it appends ``success`` and ``user_id``)."""
    return f"{configured_settings().dashboard_base_url().rstrip('/')}/stores?{urlencode({'connecting': store_id})}"


def start_connection(
    tenant_id: str,
    url: str,
    *,
    tenants: TenantRepository,
    currency: str = "EUR",
    created_by: str | None = None,
    now: datetime | None = None,
) -> ConnectionStart:
    """Issue a one-time state for ``tenant_id`` (held in ``tenants``) and return the store's authorize URL."""
    configured_settings()
    validate_tenant_id(tenant_id)
    now = now or datetime.now(UTC)
    secret = secrets.token_urlsafe(24)
    # Reconnecting a store already connected keeps its id: its keys are replaced and its webhooks (named by
    # the store id) updated, never a second store for the same shop.
    same_shop = [store.store_id for store in tenants.list_stores(tenant_id) if store.url == url]
    store_id = same_shop[0] if same_shop else "s-" + secrets.token_hex(6)
    expires_at = now + STATE_LIFETIME
    tenants.open_store_connection(
        tenant_id,
        _hash(secret),
        url=url,
        currency=currency,
        store_id=store_id,
        created_by=created_by,
        expires_at=int(expires_at.timestamp()),
    )
    query = {
        "app_name": APP_NAME,
        "scope": REQUIRED_PERMISSIONS,
        "user_id": f"{tenant_id}{_STATE_SEPARATOR}{secret}",
        "return_url": return_url(store_id),
        "callback_url": callback_url(),
    }
    return ConnectionStart(f"{url.rstrip('/')}{AUTHORIZE_PATH}?{urlencode(query)}", store_id, expires_at)


def complete_connection(
    callback: ConnectionCallback,
    *,
    vault: KeyVault,
    tenants: TenantRepository,
    usage: UsageCounter,
    now: datetime | None = None,
) -> ConnectionResult:
    """Verify the callback's state in ``tenants`` and store the delivered keys there (encrypted by ``vault``),
    the new store counted against the plan in ``usage``. Raises NotFoundError
    (unknown state), ConnectionStateExpired, ForbiddenError (keys without read_write), ConflictError (a replayed
    state)."""
    configured_settings()
    now = now or datetime.now(UTC)
    tenant_id, secret = _parse_state(callback.user_id)
    try:
        state = tenants.get_store_connection(tenant_id, _hash(secret))
    except NotFoundError:
        raise NotFoundError("unknown connection state: start the connection again from LuxeBrain") from None
    if state.status == "connected":
        if state.key_id == callback.key_id and tenants.store_exists(tenant_id, state.store_id):
            return ConnectionResult(tenant_id, state.store_id, created=False)
        raise ConflictError("this connection state was already used: start the connection again from LuxeBrain")
    if state.expires_at is not None and state.expires_at < now.timestamp():
        raise ConnectionStateExpired("the connection request expired: start the connection again from LuxeBrain")
    if callback.key_permissions != REQUIRED_PERMISSIONS:
        raise ForbiddenError(
            f"LuxeBrain needs read_write access (it writes approved prices back); the key has "
            f"{callback.key_permissions!r}: approve the connection with read/write access"
        )
    _claim(state, callback.key_id, tenants)
    created = _create_store(vault, tenants, usage, tenant_id, state, callback)
    tenants.mark_store_connected(tenant_id, state.state_hash, callback.key_id, now.isoformat())
    return ConnectionResult(tenant_id, state.store_id, created=created)


def _claim(state: StoreConnection, key_id: int, tenants: TenantRepository) -> None:
    """Bind the state to this key before anything is written: of two concurrent callbacks with different keys,
    one wins; the same key again (a retry after a crash) goes on."""
    if not tenants.claim_store_connection(state.tenant_id, state.state_hash, key_id):
        raise ConflictError("this connection state is being used by another key")


def register_store(
    tenant_id: str,
    *,
    tenants: TenantRepository,
    usage: UsageCounter,
    vault: KeyVault,
    url: str,
    consumer_key: str,
    consumer_secret: str,
    currency: str = "EUR",
    store_id: str | None = None,
) -> tuple[Store, StoreSecrets]:
    """A new store of the tenant in ``tenants``, counted against the plan's stores in ``usage`` (402 at the cap)
    and given back when it could not be created; its secrets (with a new webhook secret) are returned once."""
    usage.consume(tenant_id, "stores")
    try:
        return tenants.create_store(
            tenant_id,
            vault=vault,
            url=url,
            consumer_key=consumer_key,
            consumer_secret=consumer_secret,
            currency=currency,
            store_id=store_id,
        )
    except BaseException:
        usage.release(tenant_id, "stores")
        raise


def _create_store(
    vault: KeyVault,
    tenants: TenantRepository,
    usage: UsageCounter,
    tenant_id: str,
    state: StoreConnection,
    callback: ConnectionCallback,
) -> bool:
    # A store that exists (a reconnect, a retried callback) only gets its new keys: creating meters a store
    # against the plan first, which a tenant at its cap would be refused (402) for a store it already holds.
    if tenants.store_exists(tenant_id, state.store_id):
        _replace_keys(vault, tenants, tenant_id, state, callback)
        return False
    try:
        register_store(
            tenant_id,
            tenants=tenants,
            usage=usage,
            vault=vault,
            url=state.url,
            consumer_key=callback.consumer_key,
            consumer_secret=callback.consumer_secret,
            currency=state.currency,
            store_id=state.store_id,
        )
    except StoreExistsError:
        # Created meanwhile by a concurrent attempt of this same callback: it gets the keys WooCommerce just
        # delivered (the same keys again are a no-op).
        _replace_keys(vault, tenants, tenant_id, state, callback)
        return False
    return True


def _replace_keys(
    vault: KeyVault, tenants: TenantRepository, tenant_id: str, state: StoreConnection, callback: ConnectionCallback
) -> None:
    tenants.replace_store_keys(
        tenant_id,
        state.store_id,
        vault=vault,
        consumer_key=callback.consumer_key,
        consumer_secret=callback.consumer_secret,
    )


def _parse_state(state: str) -> tuple[str, str]:
    tenant_id, separator, secret = state.partition(_STATE_SEPARATOR)
    if not separator or len(secret) < 16:
        raise NotFoundError("unknown connection state: start the connection again from LuxeBrain")
    try:
        return validate_tenant_id(tenant_id), secret
    except InvalidInputError:
        raise NotFoundError("unknown connection state: start the connection again from LuxeBrain") from None


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()

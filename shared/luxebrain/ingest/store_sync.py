"""Keeping a connected store in sync: its webhooks registered on connect, checked hourly, and the gaps they
leave back-filled (in the back-fill function: it holds the store's keys and the back-fill queue); and removed
with the store (in the API, which answers the merchant with what was left)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from luxebrain.adapters import KeyVault, MailService, MessageQueue
from luxebrain.billing.usage import UsageCounter
from luxebrain.errors import LuxeBrainError
from luxebrain.ingest.backfill_queue import request_backfill
from luxebrain.observability import logger
from luxebrain.runtime import configured_settings
from luxebrain.storage.ingest import IngestRepository
from luxebrain.storage.members import Memberships
from luxebrain.storage.tenants import TenantRepository
from luxebrain.woocommerce.webhooks import (
    HEALTH_SLOTS,
    HealthReport,
    WebhookRemoval,
    WebhookSync,
    check_webhook_health,
    delete_webhooks,
    ensure_webhooks,
    health_slot,
    record_registration,
    recorded_webhooks,
)

if TYPE_CHECKING:
    from luxebrain.ingest.backfill import ClientFactory

# Removal answers the merchant's request (the API's 29 s): a store that does not answer is given little time.
REMOVAL_CLIENT_OPTIONS: dict[str, Any] = {"timeout": 5.0, "max_attempts": 2, "backoff_seconds": 0.5}


def store_clients(vault: KeyVault, tenants: TenantRepository, **options: Any) -> ClientFactory:
    """The stores' REST clients (:func:`luxebrain.ingest.backfill.store_clients`). The back-fill module (and the
    REST client it is built on) is imported on the first call: the API imports this module to remove stores, and
    loads none of it for its other routes."""
    from luxebrain.ingest.backfill import store_clients as backfill_store_clients

    return backfill_store_clients(vault, tenants, **options)


def removal_clients(vault: KeyVault, tenants: TenantRepository) -> ClientFactory:
    """The stores' REST clients for store removal, which answers the merchant: little time for each store."""
    return store_clients(vault, tenants, **REMOVAL_CLIENT_OPTIONS)


def register_store_webhooks(
    tenant_id: str, store_id: str, client_factory: ClientFactory, *, vault: KeyVault, tenants: TenantRepository
) -> WebhookSync | None:
    """On connect: our webhooks created (or updated) on the store, through its client from ``client_factory``
    (``vault`` decrypts the webhook secret held in ``tenants``, where what was done is recorded). A store that
    refuses (a pasted read-only key, a store that answers HTML) is recorded on the store for the dashboard; the
    back-fill still runs."""
    configured_settings()
    secret = tenants.get_store_secrets(tenant_id, store_id, vault=vault).webhook_secret.get_secret_value()
    try:
        sync = ensure_webhooks(client_factory(tenant_id, store_id), tenant_id, store_id, secret)
    except LuxeBrainError as exc:
        logger.warning("webhooks not registered", extra={"store": store_id, "reason": str(exc)})
        state = dict(tenants.get_store(tenant_id, store_id).webhooks or {})
        state["error"] = f"webhooks not registered: {str(exc)[:300]}"
        tenants.set_store_webhooks(tenant_id, store_id, state)
        return None
    record_registration(tenant_id, store_id, sync, tenants=tenants)
    return sync


def run_webhook_health(
    tenant_id: str,
    store_id: str,
    client_factory: ClientFactory,
    *,
    mail: MailService,
    members: Memberships,
    vault: KeyVault,
    tenants: TenantRepository,
    now: datetime | None = None,
) -> HealthReport:
    """The hourly health run of one store (its secret and webhook state in ``tenants``); an owner alert goes
    through ``mail`` to the owners in ``members``."""
    configured_settings()
    secret = tenants.get_store_secrets(tenant_id, store_id, vault=vault).webhook_secret.get_secret_value()
    return check_webhook_health(
        tenant_id,
        store_id,
        client_factory(tenant_id, store_id),
        secret,
        mail=mail,
        members=members,
        tenants=tenants,
        now=now,
    )


def request_webhook_health_of_due_stores(
    backfill_queue: MessageQueue, tenants: TenantRepository, now: datetime | None = None
) -> int:
    """The 5-minute tick: queue a health run for each active store in ``tenants`` whose slot this is (each
    store once an hour, the stores spread over the hour). Returns how many were queued."""
    now = now or datetime.now(UTC)
    slot = (now.minute // (60 // HEALTH_SLOTS)) % HEALTH_SLOTS
    queued = 0
    for tenant in tenants.iter_tenants():
        if tenant.status != "active":
            continue
        for store in tenants.list_stores(tenant.tenant_id):
            if store.status == "active" and health_slot(tenant.tenant_id, store.store_id) == slot:
                request_backfill(backfill_queue, tenant.tenant_id, store.store_id, webhook_health=True)
                queued += 1
    return queued


@dataclass(frozen=True)
class StoreRemoval:
    store_id: str
    webhooks_deleted: list[str] = field(default_factory=list)  # topics
    webhooks_left: list[dict[str, Any]] = field(default_factory=list)  # {topic, webhook_id, name}
    store_error: str | None = None  # why the store could not be reached, or refused


def remove_store(
    tenant_id: str,
    store_id: str,
    client_factory: ClientFactory,
    *,
    tenants: TenantRepository,
    records: IngestRepository,
    usage: UsageCounter,
) -> StoreRemoval:
    """Remove a store (its client from ``client_factory``: :func:`removal_clients` for the API): first the webhooks we
    registered on it (found by name), then its keys and record in ``tenants``, its back-fill checkpoints and deliveries
    seen per topic in ``records``, and its place in the plan's stores in ``usage``. A store that cannot be reached or
    refuses is still removed on our side; the webhooks left on it are named (they will fail and WooCommerce disables
    them, but the merchant can delete them by hand). NotFoundError for an unknown or another tenant's store."""
    configured_settings()
    store = tenants.get_store(tenant_id, store_id)
    known: dict[str, dict[str, Any]] = dict((store.webhooks or {}).get("topics") or {})
    try:
        removal = delete_webhooks(client_factory(tenant_id, store_id), store_id, known)
    except LuxeBrainError as exc:  # no client at all (keys unreadable, address refused)
        removal = WebhookRemoval(left=recorded_webhooks(store_id, known), error=str(exc)[:300])
    if removal.error:
        logger.warning(
            "store removed with webhooks left on it",
            extra={"store": store_id, "left": [entry["topic"] for entry in removal.left], "reason": removal.error},
        )
    records.forget_store_ingest(tenant_id, store_id)
    if tenants.delete_store(tenant_id, store_id):
        usage.release(tenant_id, "stores")
    return StoreRemoval(store_id, removal.deleted, removal.left, removal.error)

"""Keeping a connected store in sync: its webhooks registered on connect, checked hourly, and the gaps they
leave back-filled. Runs in the back-fill function (it holds the store's keys and the back-fill queue)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from luxebrain.errors import LuxeBrainError
from luxebrain.ingest.backfill import ClientFactory, request_backfill, store_client_factory
from luxebrain.observability import logger
from luxebrain.runtime import configured_settings
from luxebrain.storage.tenants import get_store, get_store_secrets, iter_tenants, list_stores, set_store_webhooks
from luxebrain.woocommerce.webhooks import (
    HEALTH_SLOTS,
    HealthReport,
    WebhookSync,
    check_webhook_health,
    ensure_webhooks,
    health_slot,
    record_registration,
)

Notify = Callable[..., Any]


def register_store_webhooks(
    tenant_id: str, store_id: str, client_factory: ClientFactory = store_client_factory
) -> WebhookSync | None:
    """On connect: our webhooks created (or updated) on the store. A store that refuses (a pasted read-only key,
    a store that answers HTML) is recorded on the store for the dashboard; the back-fill still runs."""
    configured_settings()
    secret = get_store_secrets(tenant_id, store_id).webhook_secret.get_secret_value()
    try:
        sync = ensure_webhooks(client_factory(tenant_id, store_id), tenant_id, store_id, secret)
    except LuxeBrainError as exc:
        logger.warning("webhooks not registered", extra={"store": store_id, "reason": str(exc)})
        state = dict(get_store(tenant_id, store_id).webhooks or {})
        state["error"] = f"webhooks not registered: {str(exc)[:300]}"
        set_store_webhooks(tenant_id, store_id, state)
        return None
    record_registration(tenant_id, store_id, sync)
    return sync


def run_webhook_health(
    tenant_id: str,
    store_id: str,
    client_factory: ClientFactory = store_client_factory,
    *,
    now: datetime | None = None,
    notify: Notify | None = None,
) -> HealthReport:
    configured_settings()
    secret = get_store_secrets(tenant_id, store_id).webhook_secret.get_secret_value()
    return check_webhook_health(
        tenant_id, store_id, client_factory(tenant_id, store_id), secret, now=now, notify=notify
    )


def request_webhook_health_of_due_stores(now: datetime | None = None) -> int:
    """The 5-minute tick: queue a health run for each active store whose slot this is (each store once an hour,
    the stores spread over the hour). Returns how many were queued."""
    now = now or datetime.now(UTC)
    slot = (now.minute // (60 // HEALTH_SLOTS)) % HEALTH_SLOTS
    queued = 0
    for tenant in iter_tenants():
        if tenant.status != "active":
            continue
        for store in list_stores(tenant.tenant_id):
            if store.status == "active" and health_slot(tenant.tenant_id, store.store_id) == slot:
                request_backfill(tenant.tenant_id, store.store_id, webhook_health=True)
                queued += 1
    return queued

"""A merchant's "check and re-enable now": the same health run the hourly tick queues (re-enable what
WooCommerce disabled, re-create what was deleted, back-fill the gap), queued for the back-fill function,
which holds the store's keys. At most one request per store a minute, so a held-down button cannot keep the
store's REST API busy."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from luxebrain.adapters import MessageQueue
from luxebrain.billing.plans import RateLimitedError
from luxebrain.errors import ConflictError
from luxebrain.ingest.backfill_queue import request_backfill
from luxebrain.storage.tenants import TenantRepository

CHECK_COOLDOWN = timedelta(minutes=1)


def _parse(stamp: object) -> datetime | None:
    if not isinstance(stamp, str) or not stamp:
        return None
    try:
        parsed = datetime.fromisoformat(stamp)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def request_webhook_check(
    tenant_id: str,
    store_id: str,
    *,
    backfill_queue: MessageQueue,
    tenants: TenantRepository,
    now: datetime | None = None,
) -> str | None:
    """Queue a health run of the store's webhooks (404 for another tenant's store, 409 for a store that is not
    connected, 429 within a minute of the last run). Returns the last run's time (UTC, ISO), so a caller can
    tell the next one from it."""
    now = now or datetime.now(UTC)
    store = tenants.get_store(tenant_id, store_id)
    if store.status != "active":
        raise ConflictError(f"the store is {store.status}: connect it again first")
    checked_at = (store.webhooks or {}).get("checked_at")
    last = _parse(checked_at)
    if last is not None and now - last < CHECK_COOLDOWN:
        retry_after = max(1, int((CHECK_COOLDOWN - (now - last)).total_seconds()))
        raise RateLimitedError("webhook checks", 1, retry_after)
    request_backfill(backfill_queue, tenant_id, store_id, webhook_health=True)
    return checked_at if isinstance(checked_at, str) else None

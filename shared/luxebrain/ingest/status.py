"""What the dashboard shows of a store's ingest: record counts, back-fill progress, recent rejections and the
webhook's health."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from luxebrain.runtime import configured_settings
from luxebrain.storage.catalogue import CatalogueRepository
from luxebrain.storage.customers import CustomerRepository
from luxebrain.storage.ingest import Checkpoint, IngestRepository
from luxebrain.storage.tenants import TenantRepository

HEALTH_WINDOW = timedelta(hours=24)  # rejections older than this no longer make a webhook "failing"


@dataclass
class IngestStatus:
    store_id: str
    counts: dict[str, int]
    stats: dict[str, Any]
    last_event_at: str | None
    backfill: list[Checkpoint] = field(default_factory=list)
    rejected_last_24h: int = 0
    last_rejection: str | None = None
    webhook_health: str = "silent"  # ok | failing (rejections in the last 24 h) | silent (no delivery accepted yet)
    # Our webhooks per topic (their state in WooCommerce, the last delivery seen, rejections in the last 24 h)
    # and the last health run.
    webhooks: dict[str, Any] = field(default_factory=dict)


def ingest_status(
    tenant_id: str,
    store_id: str,
    now: datetime | None = None,
    *,
    records: IngestRepository,
    tenants: TenantRepository,
    catalogue: CatalogueRepository,
    customers: CustomerRepository,
) -> IngestStatus:
    """The status of one of the tenant's stores in ``tenants`` (NotFoundError for another tenant's or an
    unknown store), its rejections, back-fill progress and deliveries per topic read from ``records``, and the
    tenant's record counts from ``catalogue`` and ``customers``."""
    configured_settings()
    store = tenants.get_store(tenant_id, store_id)
    since = ((now or datetime.now(UTC)) - HEALTH_WINDOW).replace(tzinfo=None).isoformat(timespec="seconds")
    rejections = records.rejected_events_since(tenant_id, store_id, since)
    counts = {
        "products": catalogue.count_products(tenant_id),
        "customers": customers.count_customers(tenant_id),
        "orders": customers.count_orders(tenant_id),
    }
    if rejections or (store.webhooks or {}).get("error"):
        health = "failing"
    elif store.last_event_at:
        # Back-filled records are no sign that webhooks deliver: only an accepted delivery is
        health = "ok"
    else:
        health = "silent"
    return IngestStatus(
        store_id=store_id,
        counts=counts,
        stats=dict(store.stats or {}),
        last_event_at=store.last_event_at,
        backfill=records.store_checkpoints(tenant_id, store_id),
        rejected_last_24h=len(rejections),
        last_rejection=rejections[0].received_at if rejections else None,
        webhook_health=health,
        webhooks=_webhooks_per_topic(
            dict(store.webhooks or {}), records.topic_deliveries(tenant_id, store_id), rejections
        ),
    )


def _webhooks_per_topic(webhooks: dict[str, Any], deliveries: dict[str, str], rejections: list[Any]) -> dict[str, Any]:
    """The recorded webhook state with, per topic, when a delivery was last seen and how many were rejected in
    the window (a topic delivered by a webhook we did not register, pasted keys, is listed too)."""
    rejected = Counter(rejection.topic for rejection in rejections)
    topics = {topic: dict(entry) for topic, entry in (webhooks.get("topics") or {}).items()}
    for topic in {*deliveries, *rejected}:
        topics.setdefault(topic, {})
    for topic, entry in topics.items():
        entry["last_delivery_at"] = deliveries.get(topic)
        entry["rejected_last_24h"] = rejected.get(topic, 0)
    return {**webhooks, "topics": topics}


def eta_seconds(checkpoint: Checkpoint, now: datetime) -> float | None:
    """Seconds left for a running resource at its pace so far (None when unknown or done)."""
    done, total = int(checkpoint.items_done or 0), checkpoint.total_items
    if checkpoint.status == "done" or not total or not done or not checkpoint.run_started_at:
        return None
    try:
        started = datetime.fromisoformat(checkpoint.run_started_at.replace("Z", "+00:00"))
    except ValueError:
        return None
    if started.tzinfo is None:
        started = started.replace(tzinfo=now.tzinfo)
    elapsed = max((now - started).total_seconds(), 0.0)
    return round(elapsed / done * max(int(total) - done, 0), 1)

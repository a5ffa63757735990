"""Storefront events: what the widget reports (impressions, clicks, add-to-carts per placement), recorded
without personal data and bounded at every level.

A batch comes from one browser (one random visitor id the widget keeps) and holds at most
``MAX_EVENTS_PER_BATCH`` events; each event has a random id, so a replayed batch is recognised event by event
(a conditional put) and counted once. Product ids must be the tenant's own catalogue's: events naming
anything else are dropped. The arm (treatment or hold-out) is recomputed here from the visitor id, never read
from the body. Limits: the plan's per-minute events rate for the key, a per-visitor and a per-client
(digest of the source address, kept two minutes) rate, and a monthly events quota metered apart from the
merchant's API calls. Everything stored expires after ``RETENTION_DAYS`` (DynamoDB TTL).
"""

from __future__ import annotations

import hashlib
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from luxebrain.billing.plans import tenant_profile
from luxebrain.billing.usage import consume, limit_client_rate, limit_rate, release_client_rate, release_rate
from luxebrain.errors import LuxeBrainError
from luxebrain.serving.recommendations import catalogue_products
from luxebrain.storage.storefront import NewEvent, put_new_events, record_first_exposure
from luxebrain.storefront.holdout import holdout_share_of, visitor_arm
from luxebrain.storefront.stats import add_to_stats

MAX_EVENTS_PER_BATCH = 50
MAX_BODY_BYTES = 16 * 1024  # 50 events of 24 ids fit; a beacon is limited to 64 KB by browsers anyway
MAX_PRODUCTS_PER_EVENT = 24
RETENTION_DAYS = 35  # the 30-day exposure window of the hold-out plus margin; then TTL removes it
EVENTS_PER_VISITOR_PER_MINUTE = 120
EVENTS_PER_CLIENT_PER_MINUTE = 600  # several visitors can share an address (offices, mobile carriers)


class EventsBatchTooLargeError(LuxeBrainError):
    status_code = 413

    def __init__(self) -> None:
        super().__init__(f"an events batch is limited to {MAX_BODY_BYTES} bytes; send fewer events per batch")


EventType = Literal["impression", "click", "add_to_cart"]
ProductId = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:@-]{0,127}$")]
PLACEMENT_PATTERN = r"^[a-z][a-z0-9_-]{0,39}$"
VISITOR_PATTERN = r"^[A-Za-z0-9_-]{16,64}$"


class StorefrontEvent(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^[A-Za-z0-9_-]{8,64}$", description="random per event: replays are counted once")
    type: EventType
    placement: str = Field(pattern=PLACEMENT_PATTERN, examples=["related", "basket", "trending"])
    product_ids: list[ProductId] = Field(min_length=1, max_length=MAX_PRODUCTS_PER_EVENT)
    model_version: str = Field(default="", max_length=120, pattern=r"^[A-Za-z0-9_.:+-]*$")
    response_id: str = Field(default="", max_length=64, pattern=r"^[A-Za-z0-9_-]*$")


class StorefrontEventBatch(BaseModel):
    """What the widget sends (JSON, or text/plain from ``navigator.sendBeacon``, which cannot set headers:
    then the storefront key rides in ``key``)."""

    model_config = ConfigDict(extra="forbid")

    key: str | None = Field(default=None, max_length=200, description="the storefront key, for beacons")
    visitor_id: str = Field(pattern=VISITOR_PATTERN, description="the widget's random visitor id")
    events: list[StorefrontEvent] = Field(min_length=1, max_length=MAX_EVENTS_PER_BATCH)


@dataclass(frozen=True)
class RecordedBatch:
    accepted: int
    duplicates: int
    rejected: int  # events naming products the store does not have
    arm: str


def client_digest(tenant_id: str, source: str) -> str:
    """An opaque, tenant-scoped digest of the caller's address: enough to rate-limit, useless to identify."""
    return hashlib.sha256(f"{tenant_id}|{source}".encode()).hexdigest()[:20]


def utc_day(epoch_seconds: float) -> str:
    return datetime.fromtimestamp(epoch_seconds, UTC).strftime("%Y-%m-%d")


def record_events(tenant_id: str, batch: StorefrontEventBatch, *, source: str) -> RecordedBatch:
    """Check the limits, then store the batch's new events and add them to the placement counters."""
    _charge_limits(tenant_id, batch, source)
    known = catalogue_products(tenant_id)
    arm = visitor_arm(tenant_id, batch.visitor_id, holdout_share_of(tenant_profile(tenant_id).settings))
    now = time.time()
    day = utc_day(now)
    expires_at = int(now) + RETENTION_DAYS * 86400
    duplicates = rejected = 0
    candidates: list[StorefrontEvent] = []
    seen_ids: set[str] = set()
    for event in batch.events:
        if event.id in seen_ids:
            duplicates += 1
        elif not set(event.product_ids) <= known:
            rejected += 1
        else:
            candidates.append(event)
        seen_ids.add(event.id)
    stored = put_new_events(
        tenant_id,
        batch.visitor_id,
        arm,
        [_new_event(event) for event in candidates],
        occurred_at=int(now),
        expires_at=expires_at,
    )
    duplicates += len(candidates) - len(stored)
    counters: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for event in candidates:
        if event.id not in stored:
            continue
        counters[event.placement][_COUNTER_OF[event.type]] += 1
        if event.type == "impression" and "visitors" not in counters[event.placement]:
            new_visitor = record_first_exposure(
                tenant_id, batch.visitor_id, event.placement, arm, first_seen=int(now), day=day, expires_at=expires_at
            )
            counters[event.placement]["visitors"] = int(new_visitor)
    for placement, values in counters.items():
        add_to_stats(tenant_id, placement, arm, day, {name: n for name, n in values.items() if n})
    return RecordedBatch(len(stored), duplicates, rejected, arm)


_COUNTER_OF = {"impression": "impressions", "click": "clicks", "add_to_cart": "add_to_carts"}


def _charge_limits(tenant_id: str, batch: StorefrontEventBatch, source: str) -> None:
    """The narrow limits first (the caller's address, then the visitor), then the tenant's rate and its monthly
    allowance; a refusal gives back what the earlier ones counted. Otherwise one script's refused batches
    would still fill the tenant's rate and every shopper's events would be refused for the minute."""
    count = len(batch.events)
    source_digest, visitor_digest = client_digest(tenant_id, source), client_digest(tenant_id, batch.visitor_id)
    charged: list[Callable[[], None]] = []
    try:
        limit_client_rate(tenant_id, "storefront_events_client", source_digest, count, EVENTS_PER_CLIENT_PER_MINUTE)
        charged.append(lambda: release_client_rate(tenant_id, "storefront_events_client", source_digest, count))
        limit_client_rate(tenant_id, "storefront_events_visitor", visitor_digest, count, EVENTS_PER_VISITOR_PER_MINUTE)
        charged.append(lambda: release_client_rate(tenant_id, "storefront_events_visitor", visitor_digest, count))
        limit_rate(tenant_id, "storefront_events", count)
        charged.append(lambda: release_rate(tenant_id, "storefront_events", count))
        consume(tenant_id, "storefront_events", count)
    except BaseException:
        for give_back in reversed(charged):
            give_back()
        raise


def _new_event(event: StorefrontEvent) -> NewEvent:
    return NewEvent(
        event_id=event.id,
        event_type=event.type,
        placement=event.placement,
        product_ids=tuple(dict.fromkeys(event.product_ids)),
        model_version=event.model_version,
        response_id=event.response_id,
    )

"""Storefront events: what the widget reports (impressions, clicks, add-to-carts per placement), recorded
without personal data and bounded at every level.

A batch comes from one browser (one random visitor id the widget keeps) and holds at most
``MAX_EVENTS_PER_BATCH`` events; each event has a random id, so a replayed batch is recognised event by event
(looked up before anything is metered, then a conditional put) and counted and metered once. The same lookup
tells which placements the visitor was exposed to before, so a returning visitor's page view writes no
exposure again. Product ids must be the tenant's own catalogue's: events naming anything else are dropped,
unmetered. The arm (treatment or hold-out) is recomputed here from the visitor id, never read from the body.
Limits (:mod:`luxebrain.storefront.limits`): a per-client (digest of the source address) and a per-visitor
rate, then the plan's per-minute events rate for the key and a monthly events quota metered apart from the
merchant's API calls. Everything stored expires after ``RETENTION_DAYS`` (DynamoDB TTL).
"""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from luxebrain.billing.plans import tenant_profile
from luxebrain.billing.usage import UsageLimiter
from luxebrain.errors import LuxeBrainError
from luxebrain.runtime import overlapping
from luxebrain.serving.recommendations import catalogue_products
from luxebrain.storage.catalogue import CatalogueRepository
from luxebrain.storage.storefront import NewEvent, StorefrontRepository
from luxebrain.storage.tenants import TenantRepository
from luxebrain.storefront.holdout import holdout_share_of, visitor_arm
from luxebrain.storefront.limits import ClientLimit, charge_clients, charge_key, client_digest, refund_key
from luxebrain.storefront.stats import add_to_stats

MAX_EVENTS_PER_BATCH = 50
MAX_BODY_BYTES = 16 * 1024  # 50 events of 24 ids fit; a beacon is limited to 64 KB by browsers anyway
MAX_PRODUCTS_PER_EVENT = 24
RETENTION_DAYS = 35  # the 30-day exposure window of the hold-out plus margin; then TTL removes it
EVENTS_PER_VISITOR_PER_MINUTE = 120
EVENTS_PER_CLIENT_PER_MINUTE = 600  # several visitors can share an address (offices, mobile carriers)
PLACEMENT_WRITERS = 4  # placements counted at once (a page has one to three)


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


def utc_day(epoch_seconds: float) -> str:
    return datetime.fromtimestamp(epoch_seconds, UTC).strftime("%Y-%m-%d")


def record_events(
    tenant_id: str,
    batch: StorefrontEventBatch,
    *,
    source: str,
    catalogue: CatalogueRepository,
    tenants: TenantRepository,
    storefront: StorefrontRepository,
    usage: UsageLimiter,
) -> RecordedBatch:
    """Check the limits (counted in ``usage``), then store the batch's new events (of products in the tenant's
    ``catalogue``) in ``storefront`` and add them to the placement counters there (the visitor's arm from the
    hold-out share of the tenant's settings in ``tenants``).

    The client's and the visitor's rates count the whole batch (a flood of replays is capped too); the key's
    rate and monthly allowance count only the new events of the tenant's own products: replayed ones are
    recognised first, so a replay spends nothing of the shop's allowance."""
    refund_clients = charge_clients(
        tenant_id,
        [
            ClientLimit("storefront_events_client", client_digest(tenant_id, source), EVENTS_PER_CLIENT_PER_MINUTE),
            ClientLimit(
                "storefront_events_visitor", client_digest(tenant_id, batch.visitor_id), EVENTS_PER_VISITOR_PER_MINUTE
            ),
        ],
        len(batch.events),
        usage=usage,
    )
    known = catalogue_products(tenant_id, catalogue)
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
    already = storefront.visitor_records(
        tenant_id,
        batch.visitor_id,
        [event.id for event in candidates],
        {event.placement for event in candidates if event.type == "impression"},
    )
    replayed = already.event_ids
    duplicates += len(replayed)
    candidates = [event for event in candidates if event.id not in replayed]
    arm = visitor_arm(
        tenant_id, batch.visitor_id, holdout_share_of(tenant_profile(tenant_id, tenants=tenants).settings)
    )
    if not candidates:
        return RecordedBatch(0, duplicates, rejected, arm)
    charge_key(tenant_id, "storefront_events", len(candidates), refund_clients=refund_clients, usage=usage)
    now = time.time()
    day = utc_day(now)
    expires_at = int(now) + RETENTION_DAYS * 86400
    stored = storefront.put_new_events(
        tenant_id,
        batch.visitor_id,
        arm,
        [_new_event(event) for event in candidates],
        occurred_at=int(now),
        expires_at=expires_at,
    )
    # A concurrent replay of the same events stored them first: they are not this batch's to pay for.
    refund_key(tenant_id, "storefront_events", len(candidates) - len(stored), usage=usage)
    duplicates += len(candidates) - len(stored)
    counters: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for event in candidates:
        if event.id in stored:
            counters[event.placement][_COUNTER_OF[event.type]] += 1

    def count_placement(placement: str) -> None:
        values = counters[placement]
        if values["impressions"] and placement not in already.exposed_placements:
            new_visitor = storefront.record_first_exposure(
                tenant_id, batch.visitor_id, placement, arm, first_seen=int(now), day=day, expires_at=expires_at
            )
            values["visitors"] = int(new_visitor)
        add_to_stats(
            tenant_id, placement, arm, day, {name: n for name, n in values.items() if n}, storefront=storefront
        )

    # Placements are counted apart (their own exposure and counter items), so their writes overlap.
    overlapping(count_placement, list(counters), workers=PLACEMENT_WRITERS, name="placements")
    return RecordedBatch(len(stored), duplicates, rejected, arm)


_COUNTER_OF = {"impression": "impressions", "click": "clicks", "add_to_cart": "add_to_carts"}


def _new_event(event: StorefrontEvent) -> NewEvent:
    return NewEvent(
        event_id=event.id,
        event_type=event.type,
        placement=event.placement,
        product_ids=tuple(dict.fromkeys(event.product_ids)),
        model_version=event.model_version,
        response_id=event.response_id,
    )

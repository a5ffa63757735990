"""The storefront repository: the widget's events, each visitor's first exposure to a placement (with the orders
counted on it) and the daily counters of a placement and arm.

Replays are settled here with conditional writes: an event id is stored once, an exposure is created once, and
an order is counted on an exposure once per version of its amounts; the daily counters only ever ADD.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from pynamodb.exceptions import PutError, UpdateError

from luxebrain.runtime import overlapping
from luxebrain.storage.items.base import BaseItem, is_condition_failure
from luxebrain.storage.items.storefront import (
    StorefrontEventItem,
    StorefrontExposureItem,
    StorefrontStatsItem,
    key_storefront_event,
    key_storefront_exposure,
    key_storefront_stats,
    storefront_stats_partition,
    visitor_partition,
)

EVENT_WRITERS = 8  # concurrent conditional puts of a batch (below botocore's pool of 10 connections)

DAILY_COUNTERS = (
    "impressions",
    "clicks",
    "add_to_carts",
    "visitors",
    "converting_visitors",
    "orders",
    "revenue",
    "revenue_squares",
    "attributed_orders",
    "attributed_revenue",
)


# ----------------------------------------------------------------------------- events
@dataclass(frozen=True)
class NewEvent:
    """One widget event to store (its id is random per event, so a replay names the same id)."""

    event_id: str
    event_type: str  # impression | click | add_to_cart
    placement: str
    product_ids: tuple[str, ...]
    model_version: str = ""
    response_id: str = ""


@dataclass(frozen=True)
class Engagement:
    """A click on a recommended product, or its add-to-cart straight from the card (no click comes first)."""

    placement: str
    product_ids: tuple[str, ...]
    occurred_at: float  # epoch seconds


def put_new_events(
    tenant_id: str, visitor_id: str, arm: str, events: Iterable[NewEvent], *, occurred_at: int, expires_at: int
) -> set[str]:
    """Store the events not stored yet (one conditional put each, a few at once); the ids of those stored now.

    The puts are independent, so their round trips overlap instead of queueing: a batch of 10 waits about as
    long as two puts, not ten. Not one transaction for the batch: it would double the write cost, cancel on any
    replayed event, and the embedded AWS (moto) copies the whole table for every transaction, which made a
    batch take seconds."""

    def put(event: NewEvent) -> str | None:
        pk, sk = key_storefront_event(tenant_id, visitor_id, event.event_id)
        item = StorefrontEventItem(
            pk,
            sk,
            entity=StorefrontEventItem.ENTITY,
            tenant_id=tenant_id,
            visitor_id=visitor_id,
            event_type=event.event_type,
            placement=event.placement,
            arm=arm,
            product_ids=list(event.product_ids),
            model_version=event.model_version,
            response_id=event.response_id,
            occurred_at=occurred_at,
            expires_at=expires_at,
        )
        try:
            item.save(condition=StorefrontEventItem.pk.does_not_exist())
        except PutError as exc:
            if is_condition_failure(exc):
                return None  # stored before: a replay
            raise
        return event.event_id

    return {event_id for event_id in overlapping(put, list(events), workers=EVENT_WRITERS, name="events") if event_id}


@dataclass(frozen=True)
class VisitorRecords:
    """What the visitor's partition already holds of a batch."""

    event_ids: set[str]  # events stored before: replays
    exposed_placements: set[str]  # placements whose first exposure is recorded


def visitor_records(
    tenant_id: str, visitor_id: str, event_ids: Iterable[str], placements: Iterable[str]
) -> VisitorRecords:
    """Which of the event ids are stored already and which placements have the visitor's first exposure (one
    BatchGetItem of keys only): a replay is recognised before anything is metered for it, and a returning
    visitor's exposure is not written again (a failed conditional put costs a write)."""
    events = {key_storefront_event(tenant_id, visitor_id, event_id): event_id for event_id in event_ids}
    exposures = {key_storefront_exposure(tenant_id, visitor_id, placement): placement for placement in placements}
    if not events and not exposures:
        return VisitorRecords(set(), set())
    # Both entities live in the visitor's partition of the one table: the base item reads either's keys.
    found = {(item.pk, item.sk) for item in BaseItem.batch_get([*events, *exposures], attributes_to_get=["pk", "sk"])}
    return VisitorRecords(
        event_ids={event_id for key, event_id in events.items() if key in found},
        exposed_placements={placement for key, placement in exposures.items() if key in found},
    )


def visitor_engagements(tenant_id: str, visitor_id: str) -> list[Engagement]:
    """The visitor's stored clicks and add-to-carts (one query of the visitor's partition)."""
    return [
        Engagement(event.placement, tuple(event.product_ids or ()), float(event.occurred_at))
        for event in StorefrontEventItem.query(
            visitor_partition(tenant_id, visitor_id),
            StorefrontEventItem.sk.startswith("EVENT#"),
            filter_condition=StorefrontEventItem.event_type.is_in("click", "add_to_cart"),
        )
    ]


# ----------------------------------------------------------------------------- exposures
@dataclass(frozen=True)
class CountedOrder:
    revenue: float  # net product revenue counted for the visitor
    attributed: float  # net revenue of the products the visitor clicked or carted in the placement


@dataclass(frozen=True)
class Exposure:
    """A visitor's first exposure to a placement and the orders counted on it so far."""

    tenant_id: str
    visitor_id: str
    placement: str
    arm: str
    first_seen: float  # epoch seconds
    day: str  # UTC day of the first exposure: the stats row the visitor is counted in
    revenue: float
    charged_order_ids: tuple[str, ...]  # counted as charged, before net revenue was kept
    counted_orders: dict[str, CountedOrder] | None  # None on exposures stored before net revenue was kept


@dataclass(frozen=True)
class OrderCountChange:
    """What counting an order on an exposure changed."""

    revenue_before: float  # the visitor's revenue on the exposure before
    added: float
    attributed_before: float | None  # None for the order's first count on this exposure
    orders_on_exposure: int  # the orders counted on the exposure now, this one included


def record_first_exposure(
    tenant_id: str, visitor_id: str, placement: str, arm: str, *, first_seen: int, day: str, expires_at: int
) -> bool:
    """Record the visitor's first exposure to the placement; True only the first time (a new visitor)."""
    pk, sk = key_storefront_exposure(tenant_id, visitor_id, placement)
    item = StorefrontExposureItem(
        pk,
        sk,
        entity=StorefrontExposureItem.ENTITY,
        tenant_id=tenant_id,
        visitor_id=visitor_id,
        placement=placement,
        arm=arm,
        first_seen=first_seen,
        day=day,
        expires_at=expires_at,
    )
    try:
        item.save(condition=StorefrontExposureItem.pk.does_not_exist())
    except PutError as exc:
        if is_condition_failure(exc):
            return False
        raise
    return True


def visitor_exposures(tenant_id: str, visitor_id: str) -> list[Exposure]:
    return [
        _exposure(item)
        for item in StorefrontExposureItem.query(
            visitor_partition(tenant_id, visitor_id), StorefrontExposureItem.sk.startswith("EXPOSURE#")
        )
    ]


def count_order_on_exposure(
    exposure: Exposure, order_id: str, revenue: float, clicked: float, *, first_count: bool
) -> OrderCountChange | None:
    """Count the order on the exposure at these net amounts, or move its count to them (a refund since).

    ``first_count`` False: the order only moves a count it has (it counts anew never). None when nothing
    changes. The condition on the amounts counted so far makes two deliveries of one version change the
    figures once."""
    if order_id in exposure.charged_order_ids:
        return None  # counted as charged before net revenue was kept: left as counted
    item = StorefrontExposureItem(*key_storefront_exposure(exposure.tenant_id, exposure.visitor_id, exposure.placement))
    counted = exposure.counted_orders
    if counted is None:
        if not first_count:
            return None
        try:  # an exposure stored before: the map the orders go in
            item.update(
                actions=[StorefrontExposureItem.counted_orders.set({})],
                condition=StorefrontExposureItem.counted_orders.does_not_exist(),
            )
        except UpdateError as exc:
            if not is_condition_failure(exc):
                raise
            item.refresh(consistent_read=True)
        counted = _counted_orders(item) or {}
    previous = counted.get(order_id)
    path = StorefrontExposureItem.counted_orders[order_id]
    amounts = {"M": {"revenue": _number(revenue), "attributed": _number(clicked)}}
    if previous is None:
        if not first_count:
            return None
        added, attributed_before = revenue, None
        condition = path.does_not_exist() & ~StorefrontExposureItem.order_ids.contains(order_id)
    else:
        if (previous.revenue, previous.attributed) == (revenue, clicked):
            return None
        added, attributed_before = revenue - previous.revenue, previous.attributed
        condition = (path["revenue"] == _number(previous.revenue)) & (path["attributed"] == _number(attributed_before))
    try:
        # The update returns the item as it is now: the revenue and orders counted include this order.
        item.update(actions=[StorefrontExposureItem.revenue.add(added), path.set(amounts)], condition=condition)
    except UpdateError as exc:
        if is_condition_failure(exc):
            return None  # another delivery of this order counted it meanwhile
        raise
    orders_now = len(_counted_orders(item) or {}) + len(item.order_ids or [])
    return OrderCountChange(float(item.revenue or 0) - added, added, attributed_before, orders_now)


def _number(value: float) -> dict[str, str]:
    return {"N": repr(float(value))}


def _counted_orders(item: StorefrontExposureItem) -> dict[str, CountedOrder] | None:
    if item.counted_orders is None:
        return None
    counted: dict[str, Any] = item.counted_orders.as_dict()
    return {
        order_id: CountedOrder(float(amounts["revenue"]), float(amounts["attributed"]))
        for order_id, amounts in counted.items()
    }


def _exposure(item: StorefrontExposureItem) -> Exposure:
    return Exposure(
        tenant_id=item.tenant_id,
        visitor_id=item.visitor_id,
        placement=item.placement,
        arm=item.arm,
        first_seen=float(item.first_seen),
        day=item.day,
        revenue=float(item.revenue or 0),
        charged_order_ids=tuple(item.order_ids or ()),
        counted_orders=_counted_orders(item),
    )


# ----------------------------------------------------------------------------- daily counters
@dataclass(frozen=True)
class DailyStats:
    """The counters of one placement, arm and UTC day."""

    placement: str
    arm: str
    day: str
    counters: dict[str, float]  # every name of DAILY_COUNTERS


def add_to_daily_stats(
    tenant_id: str, placement: str, arm: str, day: str, amounts: dict[str, float], *, expires_at: int
) -> None:
    """ADD ``amounts`` (names of DAILY_COUNTERS) to the day's counters: concurrent writers both count."""
    unknown = set(amounts) - set(DAILY_COUNTERS)
    if unknown:
        raise ValueError(f"not a daily counter: {', '.join(sorted(unknown))}")
    if not amounts:
        return
    stats = StorefrontStatsItem(*key_storefront_stats(tenant_id, placement, arm, day))
    actions = [
        StorefrontStatsItem.entity.set(StorefrontStatsItem.ENTITY),
        StorefrontStatsItem.tenant_id.set(tenant_id),
        StorefrontStatsItem.placement.set(placement),
        StorefrontStatsItem.arm.set(arm),
        StorefrontStatsItem.day.set(day),
        StorefrontStatsItem.expires_at.set(expires_at),
    ]
    actions += [getattr(StorefrontStatsItem, name).add(amount) for name, amount in amounts.items()]
    stats.update(actions=actions)


def daily_stats_since(tenant_id: str, first_day: str) -> list[DailyStats]:
    """Every placement's and arm's counters from ``first_day`` (YYYY-MM-DD) on, with one query."""
    return [
        DailyStats(row.placement, row.arm, row.day, {name: float(getattr(row, name) or 0) for name in DAILY_COUNTERS})
        for row in StorefrontStatsItem.query(storefront_stats_partition(tenant_id), StorefrontStatsItem.sk >= first_day)
    ]


# ----------------------------------------------------------------------------- the repository a caller is given
class StorefrontRepository(Protocol):
    """The widget's events, the visitors' first exposures with the orders counted on them, and the daily
    counters, as the events route, an order's attribution and the results read and write them
    (``DynamoStorefrontRepository`` in the product, an in-memory one in the unit tier). Replays are settled by
    the repository's conditional writes: an event and a first exposure are stored once, an order is counted on
    an exposure once per version of its amounts, and the counters only ADD."""

    def put_new_events(
        self,
        tenant_id: str,
        visitor_id: str,
        arm: str,
        events: Iterable[NewEvent],
        *,
        occurred_at: int,
        expires_at: int,
    ) -> set[str]: ...

    def visitor_records(
        self, tenant_id: str, visitor_id: str, event_ids: Iterable[str], placements: Iterable[str]
    ) -> VisitorRecords: ...

    def visitor_engagements(self, tenant_id: str, visitor_id: str) -> list[Engagement]: ...

    def record_first_exposure(
        self, tenant_id: str, visitor_id: str, placement: str, arm: str, *, first_seen: int, day: str, expires_at: int
    ) -> bool: ...

    def visitor_exposures(self, tenant_id: str, visitor_id: str) -> list[Exposure]: ...

    def count_order_on_exposure(
        self, exposure: Exposure, order_id: str, revenue: float, clicked: float, *, first_count: bool
    ) -> OrderCountChange | None: ...

    def add_to_daily_stats(
        self, tenant_id: str, placement: str, arm: str, day: str, amounts: dict[str, float], *, expires_at: int
    ) -> None: ...

    def daily_stats_since(self, tenant_id: str, first_day: str) -> list[DailyStats]: ...


class DynamoStorefrontRepository:
    """The storefront repository on the table: this module's conditional writes and reads."""

    put_new_events = staticmethod(put_new_events)
    visitor_records = staticmethod(visitor_records)
    visitor_engagements = staticmethod(visitor_engagements)
    record_first_exposure = staticmethod(record_first_exposure)
    visitor_exposures = staticmethod(visitor_exposures)
    count_order_on_exposure = staticmethod(count_order_on_exposure)
    add_to_daily_stats = staticmethod(add_to_daily_stats)
    daily_stats_since = staticmethod(daily_stats_since)


def storefront_repository() -> DynamoStorefrontRepository:
    """The product's storefront repository (stateless: the table is bound once per execution environment)."""
    return _REPOSITORY


_REPOSITORY = DynamoStorefrontRepository()

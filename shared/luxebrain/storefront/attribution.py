"""Orders tied to what the widget showed: the visitor id the plugin writes into the order's ``meta_data``
links an ingested order to that visitor's exposures and clicks.

Two measures per placement. *Attributed* revenue: the order's lines of products the visitor clicked in the
placement within ``CLICK_WINDOW_SECONDS`` before the order (what peers report). *Revenue per exposed visitor*,
for the hold-out test: every purchase of a visitor within ``EXPOSURE_WINDOW_SECONDS`` after their first
exposure counts for their arm, whatever they clicked (intent to treat), so the hold-out measures what the
recommendations cause. Revenue is net of refunds, as campaign results count it. Each order counts once per
placement, however often its webhook is delivered; a later refund moves its count to the new net, once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from pynamodb.exceptions import UpdateError

from luxebrain.runtime import configured_settings
from luxebrain.storage.models import (
    OrderItem,
    StorefrontEventItem,
    StorefrontExposureItem,
    is_condition_failure,
    visitor_partition,
)
from luxebrain.storefront.meta import ATTRIBUTION_META_KEY, VISITOR_META_KEY, attribution_from_meta
from luxebrain.storefront.stats import add_to_stats

__all__ = ["ATTRIBUTION_META_KEY", "VISITOR_META_KEY", "attribute_order", "attribution_from_meta"]

CLICK_WINDOW_SECONDS = 7 * 86400
EXPOSURE_WINDOW_SECONDS = 30 * 86400


@dataclass(frozen=True)
class OrderAttribution:
    placements: list[str]  # placements whose exposed visitor this order counted for (new counts only)
    attributed: dict[str, float]  # placement -> revenue of clicked products in the order


def _epoch(gmt: str) -> float | None:
    try:
        return datetime.fromisoformat(gmt.replace("Z", "")).replace(tzinfo=UTC).timestamp()
    except ValueError:
        return None


def attribute_order(order: OrderItem) -> OrderAttribution:
    """Count a purchased order for the placements its visitor saw (once per order and placement, at its net)."""
    nothing = OrderAttribution([], {})
    meta = order.storefront_attribution or {}
    visitor_id = meta.get("visitor_id")
    ordered_at = _epoch(order.created_gmt or "")
    if not visitor_id or ordered_at is None:
        return nothing
    # An order no longer a purchase (refunded in full, cancelled) moves a count it has to 0; it counts anew never.
    purchase = order.status_class == "purchase" and not order.deleted
    configured_settings()
    tenant_id = order.tenant_id
    partition = visitor_partition(tenant_id, visitor_id)
    exposures = list(StorefrontExposureItem.query(partition, StorefrontExposureItem.sk.startswith("EXPOSURE#")))
    clicks: dict[str, set[str]] = {}
    for event in StorefrontEventItem.query(
        partition,
        StorefrontEventItem.sk.startswith("EVENT#"),
        filter_condition=StorefrontEventItem.event_type == "click",
    ):
        if 0 <= ordered_at - event.occurred_at <= CLICK_WINDOW_SECONDS:
            clicks.setdefault(event.placement, set()).update(event.product_ids)
    line_totals: dict[str, float] = {}
    for line in order.line_items:
        for product_id in filter(None, (line.product_id, line.variation_id)):
            line_totals[product_id] = line_totals.get(product_id, 0.0) + line.kept_total()
    # Product revenue (shipping, fees and tax apart) net of refunds, as campaign results count it.
    revenue = _net_product_revenue(order) if purchase else 0.0
    counted, attributed = [], {}
    for exposure in exposures:
        if not 0 <= ordered_at - exposure.first_seen <= EXPOSURE_WINDOW_SECONDS:
            continue
        clicked_revenue = round(sum(line_totals.get(p, 0.0) for p in clicks.get(exposure.placement, set())), 2)
        if not purchase:
            clicked_revenue = 0.0
        change = _count_order_on_exposure(exposure, order.order_id, revenue, clicked_revenue, first_count=purchase)
        if change is None:
            continue  # counted already at these amounts (or before net revenue was kept)
        before, added, attributed_before = change
        after = before + added
        amounts: dict[str, float] = {"revenue": added, "revenue_squares": after**2 - before**2}
        if attributed_before is None:  # the order's first count for this placement
            amounts["orders"] = 1
            if len(_counted(exposure)) + len(exposure.order_ids or []) == 1:
                amounts["converting_visitors"] = 1  # the visitor's first order: one more buying visitor
            attributed_before = 0.0
        if clicked_revenue != attributed_before:
            amounts["attributed_revenue"] = clicked_revenue - attributed_before
            amounts["attributed_orders"] = (clicked_revenue > 0) - (attributed_before > 0)
        if clicked_revenue > 0:
            attributed[exposure.placement] = clicked_revenue
        add_to_stats(tenant_id, exposure.placement, exposure.arm, exposure.day, amounts)
        counted.append(exposure.placement)
    return OrderAttribution(counted, attributed)


def _net_product_revenue(order: OrderItem) -> float:
    if order.product_net_total is not None:
        return round(float(order.product_net_total), 2)
    return round(float(order.product_total if order.product_total is not None else order.kept_total()), 2)


def _counted(exposure: StorefrontExposureItem) -> dict[str, dict[str, float]]:
    return exposure.counted_orders.as_dict() if exposure.counted_orders is not None else {}


def _number(value: float) -> dict[str, str]:
    return {"N": repr(float(value))}


def _count_order_on_exposure(
    exposure: StorefrontExposureItem, order_id: str, revenue: float, clicked: float, *, first_count: bool
) -> tuple[float, float, float | None] | None:
    """Count the order on the exposure at these net amounts, or move its count to them (a refund since).

    Returns the visitor's revenue before, the revenue added and the attributed revenue counted before (None
    for a first count); None when nothing changes. The condition on the amounts counted so far makes two
    deliveries of one version change the figures once."""
    if order_id in (exposure.order_ids or []):
        return None  # counted as charged before net revenue was kept: left as counted
    if exposure.counted_orders is None:
        if not first_count:
            return None
        try:  # an exposure stored before: the map the orders go in
            exposure.update(
                actions=[StorefrontExposureItem.counted_orders.set({})],
                condition=StorefrontExposureItem.counted_orders.does_not_exist(),
            )
        except UpdateError as exc:
            if not is_condition_failure(exc):
                raise
            exposure.refresh(consistent_read=True)
    previous = _counted(exposure).get(order_id)
    path = StorefrontExposureItem.counted_orders[order_id]
    amounts = {"M": {"revenue": _number(revenue), "attributed": _number(clicked)}}
    if previous is None:
        if not first_count:
            return None
        added, attributed_before = revenue, None
        condition = path.does_not_exist() & ~StorefrontExposureItem.order_ids.contains(order_id)
    else:
        counted_revenue, attributed_before = float(previous["revenue"]), float(previous["attributed"])
        if (counted_revenue, attributed_before) == (revenue, clicked):
            return None
        added = revenue - counted_revenue
        condition = (path["revenue"] == _number(counted_revenue)) & (path["attributed"] == _number(attributed_before))
    try:
        exposure.update(actions=[StorefrontExposureItem.revenue.add(added), path.set(amounts)], condition=condition)
    except UpdateError as exc:
        if is_condition_failure(exc):
            return None  # another delivery of this order counted it meanwhile
        raise
    return float(exposure.revenue or 0) - added, added, attributed_before

"""Orders tied to what the widget showed: the visitor id the plugin writes into the order's ``meta_data``
links an ingested order to that visitor's exposures and clicks.

Two measures per placement. *Attributed* revenue: the order's lines of products the visitor clicked in the
placement within ``CLICK_WINDOW_SECONDS`` before the order (what peers report). *Revenue per exposed visitor*,
for the hold-out test: every purchase of a visitor within ``EXPOSURE_WINDOW_SECONDS`` after their first
exposure counts for their arm, whatever they clicked (intent to treat), so the hold-out measures what the
recommendations cause. Each order counts once per placement, however often its webhook is delivered.
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
    """Count a purchased order for the placements its visitor saw (once per order and placement)."""
    nothing = OrderAttribution([], {})
    meta = order.storefront_attribution or {}
    visitor_id = meta.get("visitor_id")
    ordered_at = _epoch(order.created_gmt or "")
    if not visitor_id or ordered_at is None or order.status_class != "purchase" or order.deleted:
        return nothing
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
            line_totals[product_id] = line_totals.get(product_id, 0.0) + float(line.total or 0)
    # Product revenue (shipping, fees and tax apart), as charged; a later refund does not undo the count.
    revenue = float(order.product_total if order.product_total is not None else order.total or 0)
    counted, attributed = [], {}
    for exposure in exposures:
        if not 0 <= ordered_at - exposure.first_seen <= EXPOSURE_WINDOW_SECONDS:
            continue
        previous = _add_order_to_exposure(exposure, order.order_id, revenue)
        if previous is None:
            continue  # this order already counted for this placement
        clicked_revenue = sum(line_totals.get(p, 0.0) for p in clicks.get(exposure.placement, set()))
        amounts: dict[str, float] = {
            "orders": 1,
            "revenue": revenue,
            "revenue_squares": (previous + revenue) ** 2 - previous**2,
        }
        if len(exposure.order_ids or []) == 1:  # the visitor's first order: one more buying visitor
            amounts["converting_visitors"] = 1
        if clicked_revenue > 0:
            amounts["attributed_orders"] = 1
            amounts["attributed_revenue"] = clicked_revenue
            attributed[exposure.placement] = clicked_revenue
        add_to_stats(tenant_id, exposure.placement, exposure.arm, exposure.day, amounts)
        counted.append(exposure.placement)
    return OrderAttribution(counted, attributed)


def _add_order_to_exposure(exposure: StorefrontExposureItem, order_id: str, revenue: float) -> float | None:
    """Add the order to the exposure unless it is there already; the visitor's revenue before it, or None."""
    try:
        exposure.update(
            actions=[
                StorefrontExposureItem.revenue.add(revenue),
                StorefrontExposureItem.order_ids.set((StorefrontExposureItem.order_ids | []).append([order_id])),
            ],
            condition=~StorefrontExposureItem.order_ids.contains(order_id),
        )
    except UpdateError as exc:
        if is_condition_failure(exc):
            return None
        raise
    return float(exposure.revenue or 0) - revenue

"""Orders tied to what the widget showed: the visitor id the plugin writes into the order's ``meta_data``
links an ingested order to that visitor's exposures and clicks.

Two measures per placement. *Attributed* revenue: the order's lines of products the visitor clicked (or put in
the cart from the card) in the placement within ``CLICK_WINDOW_SECONDS`` before the order (what peers report).
*Revenue per exposed visitor*, for the hold-out test: every purchase of a visitor within
``EXPOSURE_WINDOW_SECONDS`` after their first exposure counts for their arm, whatever they clicked (intent to
treat), so the hold-out measures what the recommendations cause. Revenue is net of refunds, as campaign results
count it. Each order counts once per placement, however often its webhook is delivered; a later refund moves its
count to the new net, once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from luxebrain.storage.customers import Order
from luxebrain.storage.storefront import StorefrontRepository
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


def attribute_order(tenant_id: str, order: Order, *, storefront: StorefrontRepository) -> OrderAttribution:
    """Count a purchased order for the placements its visitor saw (once per order and placement, at its net), on
    the visitor's exposures and the daily counters in ``storefront``."""
    nothing = OrderAttribution([], {})
    meta = order.storefront_attribution or {}
    visitor_id = meta.get("visitor_id")
    ordered_at = _epoch(order.created_gmt or "")
    if not visitor_id or ordered_at is None:
        return nothing
    # An order no longer a purchase (refunded in full, cancelled) moves a count it has to 0; it counts anew never.
    purchase = order.status_class == "purchase" and not order.deleted
    exposures = storefront.visitor_exposures(tenant_id, visitor_id)
    clicks: dict[str, set[str]] = {}
    for engagement in storefront.visitor_engagements(tenant_id, visitor_id):
        if 0 <= ordered_at - engagement.occurred_at <= CLICK_WINDOW_SECONDS:
            clicks.setdefault(engagement.placement, set()).update(engagement.product_ids)
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
        change = storefront.count_order_on_exposure(
            exposure, order.order_id, revenue, clicked_revenue, first_count=purchase
        )
        if change is None:
            continue  # counted already at these amounts (or before net revenue was kept)
        before, added, attributed_before = change.revenue_before, change.added, change.attributed_before
        after = before + added
        amounts: dict[str, float] = {"revenue": added, "revenue_squares": after**2 - before**2}
        if attributed_before is None:  # the order's first count for this placement
            amounts["orders"] = 1
            if change.orders_on_exposure == 1:
                amounts["converting_visitors"] = 1  # the visitor's first order: one more buying visitor
            attributed_before = 0.0
        if clicked_revenue != attributed_before:
            amounts["attributed_revenue"] = clicked_revenue - attributed_before
            amounts["attributed_orders"] = (clicked_revenue > 0) - (attributed_before > 0)
        if clicked_revenue > 0:
            attributed[exposure.placement] = clicked_revenue
        add_to_stats(tenant_id, exposure.placement, exposure.arm, exposure.day, amounts, storefront=storefront)
        counted.append(exposure.placement)
    return OrderAttribution(counted, attributed)


def _net_product_revenue(order: Order) -> float:
    """The order's lines net of refunds; an order stored before product totals were kept sums its lines (its
    total carries shipping, fees and tax)."""
    if order.product_net_total is not None:
        return round(float(order.product_net_total), 2)
    return round(sum(line.kept_total() for line in order.line_items), 2)

"""Per placement results: shown, clicked, carted, attributed revenue, and the revenue recommendations cause
(treatment vs hold-out revenue per visitor, with its always-valid interval and the decision state)."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

from luxebrain.billing.plans import tenant_profile
from luxebrain.campaigns.abtest import HOLDOUT, ArmOutcome
from luxebrain.storage.storefront import DAILY_COUNTERS, StorefrontRepository
from luxebrain.storage.tenants import TenantRepository
from luxebrain.storefront.attribution import CLICK_WINDOW_SECONDS, EXPOSURE_WINDOW_SECONDS
from luxebrain.storefront.holdout import TREATMENT, decide_revenue, holdout_share_of


def _rate(numerator: float, denominator: float) -> float:
    return round(numerator / denominator, 6) if denominator else 0.0


def _interval(values: tuple[float, float]) -> list[float]:
    return [round(values[0], 4), round(values[1], 4)]


def placement_results(
    tenant_id: str,
    *,
    tenants: TenantRepository,
    storefront: StorefrontRepository,
    days: int = 30,
    today: datetime | None = None,
) -> dict[str, Any]:
    """Sum the daily counters in ``storefront`` of the last ``days`` UTC days per placement and arm, and decide
    each placement (the hold-out share from the tenant's settings in ``tenants``)."""
    today = today or datetime.now(UTC)
    first_day = (today - timedelta(days=days - 1)).strftime("%Y-%m-%d")
    totals: dict[str, dict[str, dict[str, float]]] = defaultdict(lambda: defaultdict(lambda: defaultdict(float)))
    for row in storefront.daily_stats_since(tenant_id, first_day):
        for name in DAILY_COUNTERS:
            totals[row.placement][row.arm][name] += row.counters[name]
    share = holdout_share_of(tenant_profile(tenant_id, tenants=tenants).settings)
    placements = []
    for placement in sorted(totals):
        arms = totals[placement]
        both = {name: sum(arms[arm][name] for arm in arms) for name in DAILY_COUNTERS}
        outcomes = {
            arm: ArmOutcome(
                arm,
                int(arms[arm]["visitors"]),
                int(arms[arm]["converting_visitors"]),
                arms[arm]["revenue"],
                arms[arm]["revenue_squares"],
            )
            for arm in (TREATMENT, HOLDOUT)
        }
        decision = decide_revenue(outcomes[TREATMENT], outcomes[HOLDOUT], share)
        placements.append(
            {
                "placement": placement,
                "shown": int(both["impressions"]),
                "clicks": int(both["clicks"]),
                "click_through_rate": _rate(both["clicks"], both["impressions"]),
                "add_to_carts": int(both["add_to_carts"]),
                "add_to_cart_rate": _rate(both["add_to_carts"], both["impressions"]),
                "attributed_orders": int(both["attributed_orders"]),
                "attributed_revenue": round(both["attributed_revenue"], 2),
                "arms": [
                    {
                        "arm": arm,
                        "visitors": outcomes[arm].recipients,
                        "buying_visitors": outcomes[arm].conversions,
                        "revenue": round(outcomes[arm].revenue, 2),
                        "revenue_per_visitor": round(outcomes[arm].revenue_per_recipient, 4),
                    }
                    for arm in (TREATMENT, HOLDOUT)
                ],
                "revenue_per_visitor_lift": round(decision.revenue_per_visitor_lift, 4),
                "revenue_per_visitor_lift_interval": _interval(decision.interval),
                "caused_revenue": round(decision.caused_revenue, 2),
                "caused_revenue_interval": _interval(decision.caused_revenue_interval),
                "decision": decision.status,
                "reason": decision.reason,
                "p_value": round(decision.p_value, 6),
                "sample_ratio_p_value": round(decision.srm_p_value, 6),
            }
        )
    return {
        "days": days,
        "since": first_day,
        "holdout_share": share,
        "click_window_days": CLICK_WINDOW_SECONDS // 86400,
        "exposure_window_days": EXPOSURE_WINDOW_SECONDS // 86400,
        "placements": placements,
    }

"""Results per flow or campaign and per arm: sends, deliveries, opens, clicks, conversions, revenue, and lift
with always-valid intervals, plus the test's decision.

Conversions come from orders, not clicks: a purchase by an assigned customer within the conversion window
after assignment counts for that customer's arm, whether or not they opened anything. Every arm counts the
customers assigned to it (intent to treat), so the hold-out, who got nothing, measures the revenue the flow
caused.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import chain
from typing import Any

from luxebrain.campaigns.abtest import HOLDOUT, ArmOutcome, DecisionRule, decide
from luxebrain.storage.campaigns import SendRecords
from luxebrain.storage.customers import CustomerRepository, Order

# Up to this many recipients, one by-customer index query each (only their orders since the first assignment)
# costs fewer reads than one pass over every order of the tenant; past it, the single pass wins.
PER_CUSTOMER_QUERY_LIMIT = 200

ASSIGNED_STATUSES = frozenset(
    {"claimed", "sent", "skipped", "held_out", "retrying", "failed", "unknown", "dead_lettered"}
)


@dataclass
class ArmStats:
    name: str
    assigned: int = 0
    sends: int = 0
    deliveries: int = 0
    opens: int = 0
    clicks: int = 0
    bounces: int = 0
    skipped: int = 0
    conversions: int = 0
    revenue: float = 0.0
    revenue_squares: float = 0.0

    def outcome(self) -> ArmOutcome:
        return ArmOutcome(self.name, self.assigned, self.conversions, self.revenue, self.revenue_squares)

    def as_dict(self) -> dict[str, Any]:
        rate = self.conversions / self.assigned if self.assigned else 0.0
        return {
            "arm": self.name,
            "assigned": self.assigned,
            "sends": self.sends,
            "deliveries": self.deliveries,
            "opens": self.opens,
            "clicks": self.clicks,
            "bounces": self.bounces,
            "skipped": self.skipped,
            "conversions": self.conversions,
            "conversion_rate": round(rate, 6),
            "revenue": round(self.revenue, 2),
            "revenue_per_recipient": round(self.revenue / self.assigned, 4) if self.assigned else 0.0,
        }


def _purchases_by_customer(
    tenant_id: str,
    since_gmt: str,
    customer_ids: set[str],
    orders: list[Order] | None,
    per_customer_query_limit: int,
    customers: CustomerRepository,
) -> dict[str, list[tuple[str, float]]]:
    if orders is not None:
        source: Iterable[Order] = orders
    elif len(customer_ids) <= per_customer_query_limit:
        source = chain.from_iterable(
            customers.orders_of_customer(tenant_id, customer_id, since_gmt=since_gmt)
            for customer_id in sorted(customer_ids)
        )
    else:
        source = customers.orders_created_since(tenant_id, since_gmt)
    purchases: dict[str, list[tuple[str, float]]] = defaultdict(list)
    for order in source:
        if (
            order.customer_id in customer_ids
            and order.status_class == "purchase"
            and not order.deleted
            and order.created_gmt >= since_gmt
        ):
            purchases[order.customer_id].append((order.created_gmt, order.kept_total()))  # net of refunds
    for bought in purchases.values():
        bought.sort()
    return purchases


def _gmt(moment: datetime) -> str:
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="seconds")


def flow_results(
    tenant_id: str,
    flow: str,
    *,
    campaigns: SendRecords,
    customers: CustomerRepository,
    conversion_window_days: int = 7,
    holdout_fraction: float = 0.1,
    rule: DecisionRule | None = None,
    orders: list[Order] | None = None,
    per_customer_query_limit: int = PER_CUSTOMER_QUERY_LIMIT,
) -> dict[str, Any]:
    """``holdout_fraction`` is the designed split (the sample-ratio check compares the arm sizes with it).
    ``orders``, when given, are the tenant's orders already in memory, read instead of the table."""
    records = [r for r in campaigns.iter_send_records(tenant_id, flow) if r.status in ASSIGNED_STATUSES]
    arms: dict[str, ArmStats] = {}
    window = timedelta(days=conversion_window_days)
    earliest = _gmt(min((r.assigned_at for r in records), default=datetime.now(UTC)))
    # Nothing assigned, nothing to attribute: the tenant's orders are not read to say so.
    recipients = {record.customer_id for record in records}
    purchases = (
        _purchases_by_customer(tenant_id, earliest, recipients, orders, per_customer_query_limit, customers)
        if records
        else {}
    )
    for record in records:
        arm = arms.setdefault(record.variant or "default", ArmStats(record.variant or "default"))
        arm.assigned += 1
        arm.sends += record.status == "sent"
        arm.skipped += record.status == "skipped"
        arm.deliveries += record.delivered_at is not None
        arm.opens += record.opened_at is not None
        arm.clicks += record.clicked_at is not None
        arm.bounces += bool(record.bounced)
        start, end = _gmt(record.assigned_at), _gmt(record.assigned_at + window)
        bought = purchases.get(record.customer_id, [])
        position = bisect_left(bought, (start, float("-inf")))
        revenue = 0.0
        converted = False
        while position < len(bought) and bought[position][0] < end:
            converted = True
            revenue += bought[position][1]
            position += 1
        arm.conversions += converted
        arm.revenue += revenue
        arm.revenue_squares += revenue * revenue
    treated = [arms[name] for name in sorted(arms) if name != HOLDOUT]
    report: dict[str, Any] = {
        "flow": flow,
        "conversion_window_days": conversion_window_days,
        "arms": [arms[name].as_dict() for name in sorted(arms)],
    }
    rule = rule or DecisionRule()
    if HOLDOUT in arms and treated:
        pooled = ArmStats("treated")
        for arm in treated:
            for attribute in ("assigned", "conversions", "revenue", "revenue_squares"):
                setattr(pooled, attribute, getattr(pooled, attribute) + getattr(arm, attribute))
        holdout = arms[HOLDOUT]
        shares = [holdout_fraction, 1 - holdout_fraction]
        decision = decide(holdout.outcome(), [pooled.outcome()], rule, expected_shares=shares)
        report["incrementality"] = _decision_dict(decision)
        report["incremental_revenue"] = round(
            pooled.revenue - holdout.revenue / max(1, holdout.assigned) * pooled.assigned, 2
        )
    if len(treated) >= 2:
        decision = decide(treated[0].outcome(), [arm.outcome() for arm in treated[1:]], rule)
        report["ab_test"] = _decision_dict(decision)
    return report


def _decision_dict(decision: Any) -> dict[str, Any]:
    return {
        "status": decision.status,
        "winner": decision.winner,
        "reason": decision.reason,
        "sample_ratio_p_value": round(decision.srm_p_value, 6),
        "comparisons": [
            {
                "variant": c.variant,
                "control": c.control,
                "conversion_lift_absolute": round(c.absolute_lift, 6),
                "conversion_lift_relative": None if c.relative_lift is None else round(c.relative_lift, 4),
                "interval_absolute": [round(v, 6) for v in c.interval],
                "interval_relative": None
                if c.relative_interval is None
                else [round(v, 4) for v in c.relative_interval],
                "always_valid_p_value": round(c.p_value, 6),
                "chance_to_beat_control": round(c.chance_to_beat_control, 4),
                "revenue_per_recipient_lift": round(c.revenue_per_recipient_lift, 4),
                "revenue_per_recipient_interval": [round(v, 4) for v in c.revenue_interval],
            }
            for c in decision.comparisons
        ],
    }

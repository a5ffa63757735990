"""The storefront hold-out: which visitors get personal recommendations and which the popularity fallback,
and whether the difference in revenue per visitor is real.

Assignment is the campaigns' (``luxebrain.campaigns.abtest.assign``): deterministic by visitor id, stateless,
the same in every process. The decision is the campaigns' always-valid mixture SPRT and sample-ratio check,
applied to revenue per visitor (intent to treat: every exposed visitor counts, whatever they did), so looking
at the results every day does not inflate the false-winner rate above alpha.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from luxebrain.campaigns.abtest import (
    HOLDOUT,
    Arm,
    ArmOutcome,
    DecisionRule,
    assign,
    msprt_interval,
    msprt_p_value,
    sample_ratio_p_value,
)

TREATMENT = "treatment"
HOLDOUT_TEST_ID = "storefront-holdout"
DEFAULT_HOLDOUT_SHARE = 0.05
MAX_HOLDOUT_SHARE = 0.5
_TREATMENT_ARMS = [Arm(TREATMENT)]


def holdout_share_of(settings: dict[str, object] | None) -> float:
    value = (settings or {}).get("storefront_holdout_share", DEFAULT_HOLDOUT_SHARE)
    try:
        share = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return DEFAULT_HOLDOUT_SHARE
    return min(max(share, 0.0), MAX_HOLDOUT_SHARE) if math.isfinite(share) else DEFAULT_HOLDOUT_SHARE


def visitor_arm(tenant_id: str, visitor_id: str, holdout_share: float) -> str:
    """``treatment`` or ``holdout`` for a visitor; a visitor without an id is treated (and not measured)."""
    if not visitor_id or holdout_share <= 0:
        return TREATMENT
    arm = assign(tenant_id, HOLDOUT_TEST_ID, visitor_id, _TREATMENT_ARMS, holdout_fraction=holdout_share)
    return HOLDOUT if arm == HOLDOUT else TREATMENT


# The revenue test needs buyers in each arm before the normal approximation of the mean is usable: order values
# are skewed, and with 20 buyers a hold-out that had not met a large basket yet gave false winners.
STOREFRONT_RULE = DecisionRule(alpha=0.05, min_recipients_per_arm=200, min_conversions_per_arm=50)


@dataclass(frozen=True)
class RevenueDecision:
    status: str  # winner | holdout_wins | no_difference_yet | insufficient_sample | sample_ratio_mismatch
    reason: str
    revenue_per_visitor_lift: float  # treatment minus hold-out
    interval: tuple[float, float]  # always-valid (1 - alpha) interval of that difference
    p_value: float
    srm_p_value: float
    caused_revenue: float  # lift times treatment visitors
    caused_revenue_interval: tuple[float, float]


def _holdout_variance(treatment: ArmOutcome, holdout: ArmOutcome) -> float:
    """The hold-out's variance of revenue per visitor, at least the treatment's relative spread at the hold-out's
    mean. The hold-out is small: on most days it has not yet seen one of the rare large baskets, and its own
    sample variance is then as low as its mean, which made a difference look surer than it is (false winners).
    Recommendations scale what visitors spend rather than the shape of it, so the large treated arm's
    coefficient of variation is the steadier estimate."""
    treated_mean = treatment.revenue_per_recipient
    if treated_mean <= 0:
        return holdout.revenue_variance()
    relative_variance = treatment.revenue_variance() / (treated_mean * treated_mean)
    return max(holdout.revenue_variance(), relative_variance * holdout.revenue_per_recipient**2)


def decide_revenue(
    treatment: ArmOutcome, holdout: ArmOutcome, holdout_share: float, rule: DecisionRule = STOREFRONT_RULE
) -> RevenueDecision:
    """Treatment vs hold-out on revenue per visitor, with the sample-ratio check against the designed share.

    ``ArmOutcome.recipients`` is the exposed visitors, ``conversions`` the visitors who bought and ``revenue`` /
    ``revenue_sum_squares`` the sum and the sum of squares of revenue per visitor."""
    srm_p = sample_ratio_p_value([treatment.recipients, holdout.recipients], [1.0 - holdout_share, holdout_share])
    difference = treatment.revenue_per_recipient - holdout.revenue_per_recipient
    variance = 0.0
    if treatment.recipients > 1 and holdout.recipients > 1:
        variance = treatment.revenue_variance() / treatment.recipients + _holdout_variance(treatment, holdout) / (
            holdout.recipients
        )
    # Mixing spread tuned to the relative lift the rule expects, around the hold-out's revenue per visitor.
    baseline = max(holdout.revenue_per_recipient, treatment.revenue_per_recipient, 1e-9)
    tau_squared = (rule.expected_relative_lift * baseline) ** 2
    p_value = msprt_p_value(difference, variance, tau_squared)
    interval = msprt_interval(difference, variance, tau_squared, rule.alpha)
    caused = difference * treatment.recipients
    caused_interval = (interval[0] * treatment.recipients, interval[1] * treatment.recipients)

    def verdict(status: str, reason: str) -> RevenueDecision:
        return RevenueDecision(status, reason, difference, interval, p_value, srm_p, caused, caused_interval)

    if srm_p < rule.srm_threshold:
        return verdict(
            "sample_ratio_mismatch",
            f"{treatment.recipients} treated and {holdout.recipients} held-out visitors do not match the "
            f"designed {holdout_share:.0%} hold-out (p = {srm_p:.2g}); the assignment or the events are broken",
        )
    small = [
        arm.name
        for arm in (treatment, holdout)
        if arm.recipients < rule.min_recipients_per_arm or arm.conversions < rule.min_conversions_per_arm
    ]
    if small:
        return verdict(
            "insufficient_sample",
            f"{', '.join(small)}: fewer than {rule.min_recipients_per_arm} visitors or "
            f"{rule.min_conversions_per_arm} buyers; no decision yet",
        )
    if p_value < rule.alpha:
        if difference > 0:
            return verdict("winner", f"recommendations raise revenue per visitor (always-valid p = {p_value:.3g})")
        return verdict("holdout_wins", f"the hold-out earns more per visitor (always-valid p = {p_value:.3g})")
    return verdict(
        "no_difference_yet",
        "no difference in revenue per visitor yet; the test stays valid however often it is checked",
    )

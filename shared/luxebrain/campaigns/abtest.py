"""A/B tests and hold-outs: deterministic assignment and a winner rule that stays valid when people look
every day.

Assignment: ``sha256(tenant | test | customer)`` mapped to [0, 1); the first ``holdout_fraction`` of that
interval is the hold-out (no message: it measures what the flow causes), the rest is split over the variants
by weight. The same customer always lands in the same arm, in every process, with no stored state.

Decision: a mixture sequential probability ratio test (mSPRT; Johari, Koomen, Pekelis & Walsh, "Always valid
inference", 2017 / 2022) on the difference of conversion rates, with a normal mixing distribution of
variance tau^2. Its p-value and confidence interval are valid at every sample size at once, so looking every
day (or every minute) does not inflate the false-winner rate above alpha. With several variants each is
compared to the control at alpha / (k - 1) (Bonferroni). No decision is made before every arm has the
minimum sample and conversions, or while the arm sizes show a sample-ratio mismatch (chi-square p < 0.001:
the assignment or the logging is broken, so the comparison cannot be trusted).
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field

HOLDOUT = "holdout"


@dataclass(frozen=True)
class Arm:
    name: str
    weight: float = 1.0


def assignment_point(tenant_id: str, test_id: str, customer_id: str) -> float:
    digest = hashlib.sha256(f"{tenant_id}|{test_id}|{customer_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def assign(tenant_id: str, test_id: str, customer_id: str, variants: list[Arm], *, holdout_fraction: float) -> str:
    """The arm of a customer: ``HOLDOUT`` or a variant name. Deterministic, stateless, uniform."""
    if not variants:
        raise ValueError("a test needs at least one variant")
    if not 0.0 <= holdout_fraction < 1.0:
        raise ValueError("holdout_fraction must be in [0, 1)")
    point = assignment_point(tenant_id, test_id, customer_id)
    if point < holdout_fraction:
        return HOLDOUT
    position = (point - holdout_fraction) / (1.0 - holdout_fraction)
    total = sum(arm.weight for arm in variants)
    cumulative = 0.0
    for arm in variants:
        cumulative += arm.weight / total
        if position < cumulative:
            return arm.name
    return variants[-1].name


# ----------------------------------------------------------------------------- statistics (numpy-free)
def chi_square_sf(statistic: float, degrees: int) -> float:
    """P(X > statistic) for X ~ chi-square(degrees), integer degrees, in closed form (no scipy)."""
    if statistic <= 0:
        return 1.0
    half = statistic / 2.0
    if degrees % 2 == 0:
        term, total = 1.0, 1.0
        for i in range(1, degrees // 2):
            term *= half / i
            total += term
        return min(1.0, math.exp(-half) * total)
    total = math.erfc(math.sqrt(half))
    term = math.sqrt(half) * 2.0 / math.sqrt(math.pi)
    for i in range(1, (degrees + 1) // 2):
        total += math.exp(-half) * term
        term *= half / (i + 0.5)
    return min(1.0, total)


MIN_EXPECTED_PER_ARM = 5.0  # below it the chi-square approximation is not valid (Cochran's rule)
EXACT_TEST_MAX_TRIALS = 10_000  # beyond it chi-square is accurate and the exact sum needlessly slow
NEGLIGIBLE_LOG_RATIO = 50.0  # a tail's terms this far (in log) below its edge no longer change the p-value


def sample_ratio_p_value(observed: list[int], expected_shares: list[float]) -> float:
    """Goodness of fit of the arm sizes to the designed split: an exact binomial test for two arms, else
    chi-square, which is only trusted once every arm expects at least 5 (otherwise 1.0: no evidence yet)."""
    total = sum(observed)
    if total == 0 or len(observed) < 2:
        return 1.0
    shares_total = sum(expected_shares)
    if len(observed) == 2 and total <= EXACT_TEST_MAX_TRIALS:
        return _binomial_two_sided_p(observed[0], total, expected_shares[0] / shares_total)
    if min(total * share / shares_total for share in expected_shares) < MIN_EXPECTED_PER_ARM:
        return 1.0
    statistic = 0.0
    for count, share in zip(observed, expected_shares, strict=True):
        expected = total * share / shares_total
        if expected > 0:
            statistic += (count - expected) ** 2 / expected
    return chi_square_sf(statistic, len(observed) - 1)


def _binomial_two_sided_p(successes: int, trials: int, probability: float) -> float:
    """Exact two-sided binomial test: the total probability of outcomes no likelier than the one observed.

    The probability rises up to the mode and falls after it, so those outcomes are two tails, [0, left] and
    [right, trials]: each edge is found by bisection and each tail summed outward from its edge until its
    terms are too small to change the sum (a few hundred terms, not all ``trials + 1``: daily checks of a
    large test stay cheap)."""
    if probability <= 0.0 or probability >= 1.0:
        return 1.0 if successes == round(probability * trials) else 0.0
    log_p, log_q, log_n_factorial = math.log(probability), math.log1p(-probability), math.lgamma(trials + 1)

    def log_pmf(k: int) -> float:
        return log_n_factorial - math.lgamma(k + 1) - math.lgamma(trials - k + 1) + k * log_p + (trials - k) * log_q

    threshold = log_pmf(successes) + 1e-9
    mode = min(trials, int((trials + 1) * probability))
    low, high = -1, mode  # the last k <= mode no likelier than observed (-1: none)
    while low < high:
        middle = (low + high + 1) // 2
        low, high = (middle, high) if log_pmf(middle) <= threshold else (low, middle - 1)
    left = low
    low, high = mode + 1, trials + 1  # the first k > mode no likelier than observed (trials + 1: none)
    while low < high:
        middle = (low + high) // 2
        low, high = (low, middle) if log_pmf(middle) <= threshold else (middle + 1, high)
    right = low
    terms: list[float] = []
    for tail in (range(left, -1, -1), range(right, trials + 1)):
        edge = None
        for k in tail:
            value = log_pmf(k)
            edge = value if edge is None else edge
            if value < edge - NEGLIGIBLE_LOG_RATIO:
                break  # the rest shrinks geometrically: below 1e-18 of the edge term in all
            terms.append(value)
    return min(1.0, math.fsum(math.exp(value) for value in terms))


def msprt_p_value(difference: float, variance: float, tau_squared: float) -> float:
    """Always-valid p-value of H0: difference = 0, from one look (the caller keeps the running minimum)."""
    if variance <= 0:
        return 1.0
    log_ratio = 0.5 * math.log(variance / (variance + tau_squared)) + (
        tau_squared * difference**2 / (2.0 * variance * (variance + tau_squared))
    )
    return min(1.0, math.exp(-log_ratio)) if log_ratio > 0 else 1.0


def msprt_interval(difference: float, variance: float, tau_squared: float, alpha: float) -> tuple[float, float]:
    """Always-valid (1 - alpha) confidence interval for the difference: {theta : Lambda(theta) < 1/alpha}."""
    if variance <= 0:
        return (difference, difference)
    half_width = math.sqrt(
        variance
        * (variance + tau_squared)
        / tau_squared
        * (2.0 * math.log(1.0 / alpha) + math.log((variance + tau_squared) / variance))
    )
    return (difference - half_width, difference + half_width)


def normal_cdf(value: float) -> float:
    return 0.5 * math.erfc(-value / math.sqrt(2.0))


@dataclass(frozen=True)
class ArmOutcome:
    name: str
    recipients: int
    conversions: int
    revenue: float = 0.0
    revenue_sum_squares: float = 0.0  # sum of squared revenue per recipient, for the revenue interval

    @property
    def rate(self) -> float:
        return self.conversions / self.recipients if self.recipients else 0.0

    @property
    def revenue_per_recipient(self) -> float:
        return self.revenue / self.recipients if self.recipients else 0.0

    def revenue_variance(self) -> float:
        if self.recipients < 2:
            return 0.0
        mean = self.revenue_per_recipient
        return max(0.0, (self.revenue_sum_squares - self.recipients * mean * mean) / (self.recipients - 1))


@dataclass(frozen=True)
class DecisionRule:
    alpha: float = 0.05
    min_recipients_per_arm: int = 200
    min_conversions_per_arm: int = 10
    srm_threshold: float = 0.001
    # Mixing spread: the relative lift the test is tuned to detect, around the control's rate.
    expected_relative_lift: float = 0.2
    baseline_rate: float = 0.03


@dataclass
class Comparison:
    variant: str
    control: str
    absolute_lift: float
    relative_lift: float | None
    interval: tuple[float, float]  # always-valid interval of the absolute difference in conversion rate
    relative_interval: tuple[float, float] | None
    p_value: float
    chance_to_beat_control: float
    revenue_per_recipient_lift: float
    revenue_interval: tuple[float, float]
    significant: bool


@dataclass
class Decision:
    status: str  # winner | no_difference_yet | insufficient_sample | sample_ratio_mismatch | control_wins
    winner: str | None
    reason: str
    srm_p_value: float
    comparisons: list[Comparison] = field(default_factory=list)


def decide(
    control: ArmOutcome,
    variants: list[ArmOutcome],
    rule: DecisionRule = DecisionRule(),
    *,
    expected_shares: list[float] | None = None,
    running_p_values: dict[str, float] | None = None,
) -> Decision:
    """Compare each variant with the control. ``running_p_values`` (variant -> smallest p seen so far) makes the
    p-value the running minimum, which is what the always-valid guarantee is about; omit it for one look."""
    arms = [control, *variants]
    shares = expected_shares or [1.0] * len(arms)
    srm_p = sample_ratio_p_value([arm.recipients for arm in arms], shares)
    comparisons = [_compare(control, variant, rule, len(variants), running_p_values) for variant in variants]
    if srm_p < rule.srm_threshold:
        return Decision(
            "sample_ratio_mismatch",
            None,
            f"arm sizes {[arm.recipients for arm in arms]} do not match the designed split (p = {srm_p:.2g}); "
            "fix the assignment or the logging before reading this test",
            srm_p,
            comparisons,
        )
    small = [
        arm.name
        for arm in arms
        if arm.recipients < rule.min_recipients_per_arm or arm.conversions < rule.min_conversions_per_arm
    ]
    if small:
        return Decision(
            "insufficient_sample",
            None,
            f"arm(s) {', '.join(small)} have fewer than {rule.min_recipients_per_arm} recipients or "
            f"{rule.min_conversions_per_arm} conversions; no decision yet",
            srm_p,
            comparisons,
        )
    winners = [c for c in comparisons if c.significant and c.absolute_lift > 0]
    if winners:
        best = max(winners, key=lambda c: c.absolute_lift)
        return Decision(
            "winner",
            best.variant,
            f"{best.variant} converts better than {control.name} (always-valid p = {best.p_value:.3g})",
            srm_p,
            comparisons,
        )
    if comparisons and all(c.significant and c.absolute_lift < 0 for c in comparisons):
        return Decision(
            "control_wins", control.name, "every variant converts worse than the control", srm_p, comparisons
        )
    return Decision(
        "no_difference_yet",
        None,
        "no variant differs from the control yet; the test stays valid however often it is checked",
        srm_p,
        comparisons,
    )


def _compare(
    control: ArmOutcome,
    variant: ArmOutcome,
    rule: DecisionRule,
    n_variants: int,
    running_p_values: dict[str, float] | None,
) -> Comparison:
    alpha = rule.alpha / max(1, n_variants)
    p_c, p_v = control.rate, variant.rate
    difference = p_v - p_c
    # Variance of the difference; the pooled rate keeps it positive while an arm has no conversions.
    pooled = (control.conversions + variant.conversions) / max(1, control.recipients + variant.recipients)
    pooled = min(max(pooled, 1e-6), 1 - 1e-6)
    variance = 0.0
    if control.recipients and variant.recipients:
        variance = pooled * (1 - pooled) * (1.0 / control.recipients + 1.0 / variant.recipients)
    tau_squared = (rule.expected_relative_lift * rule.baseline_rate) ** 2
    p_value = msprt_p_value(difference, variance, tau_squared)
    if running_p_values is not None:
        p_value = min(p_value, running_p_values.get(variant.name, 1.0))
        running_p_values[variant.name] = p_value
    interval = msprt_interval(difference, variance, tau_squared, alpha)
    relative = difference / p_c if p_c > 0 else None
    relative_interval = (interval[0] / p_c, interval[1] / p_c) if p_c > 0 else None
    chance = normal_cdf(difference / math.sqrt(variance)) if variance > 0 else 0.5
    revenue_difference = variant.revenue_per_recipient - control.revenue_per_recipient
    revenue_variance = 0.0
    if control.recipients > 1 and variant.recipients > 1:
        revenue_variance = (
            control.revenue_variance() / control.recipients + variant.revenue_variance() / variant.recipients
        )
    revenue_tau_squared = (rule.expected_relative_lift * max(control.revenue_per_recipient, 1e-9)) ** 2
    revenue_interval = msprt_interval(revenue_difference, revenue_variance, revenue_tau_squared, alpha)
    return Comparison(
        variant=variant.name,
        control=control.name,
        absolute_lift=difference,
        relative_lift=relative,
        interval=interval,
        relative_interval=relative_interval,
        p_value=p_value,
        chance_to_beat_control=chance,
        revenue_per_recipient_lift=revenue_difference,
        revenue_interval=revenue_interval,
        significant=p_value < alpha,
    )

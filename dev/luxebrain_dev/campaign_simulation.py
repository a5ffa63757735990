"""Simulations of the A/B decision rule under daily peeking: the false-winner rate when there is no difference
and the power against a real lift. The tests assert both; the demo prints them for the store's own scale."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from luxebrain.campaigns.abtest import ArmOutcome, DecisionRule, decide, normal_cdf


@dataclass(frozen=True)
class SimulationResult:
    simulations: int
    days: int
    recipients_per_arm_per_day: int
    baseline_rate: float
    relative_lift: float
    winner_rate: float  # share of simulated tests that declared the variant the winner at some daily look
    naive_winner_rate: float  # the same with a fixed-horizon z-test read every day (what most tools do)
    median_days_to_decision: float | None


def simulate_daily_peeking(
    *,
    relative_lift: float,
    baseline_rate: float = 0.03,
    recipients_per_arm_per_day: int = 1500,
    days: int = 28,
    simulations: int = 400,
    seed: int = 20260101,
    rule: DecisionRule | None = None,
) -> SimulationResult:
    rng = np.random.default_rng(seed)
    rule = rule or DecisionRule(baseline_rate=baseline_rate)
    variant_rate = baseline_rate * (1 + relative_lift)
    wins = naive_wins = 0
    decision_days: list[int] = []
    for _ in range(simulations):
        # 50/50 random assignment: daily arm sizes vary like real ones (the sample-ratio check sees them).
        control_n = rng.binomial(2 * recipients_per_arm_per_day, 0.5, size=days)
        variant_n = 2 * recipients_per_arm_per_day - control_n
        control_x = np.cumsum(rng.binomial(control_n, baseline_rate))
        variant_x = np.cumsum(rng.binomial(variant_n, variant_rate))
        control_n, variant_n = np.cumsum(control_n), np.cumsum(variant_n)
        running: dict[str, float] = {}
        won = naive_won = False
        for day in range(days):
            control = ArmOutcome("control", int(control_n[day]), int(control_x[day]))
            variant = ArmOutcome("variant", int(variant_n[day]), int(variant_x[day]))
            if not won and decide(control, [variant], rule, running_p_values=running).status == "winner":
                won = True
                decision_days.append(day + 1)
            if not naive_won and _naive_significant(control, variant, rule.alpha):
                naive_won = True
        wins += won
        naive_wins += naive_won
    return SimulationResult(
        simulations=simulations,
        days=days,
        recipients_per_arm_per_day=recipients_per_arm_per_day,
        baseline_rate=baseline_rate,
        relative_lift=relative_lift,
        winner_rate=wins / simulations,
        naive_winner_rate=naive_wins / simulations,
        median_days_to_decision=float(np.median(decision_days)) if decision_days else None,
    )


def _naive_significant(control: ArmOutcome, variant: ArmOutcome, alpha: float) -> bool:
    """One-sided fixed-horizon two-proportion z-test: valid for one look only."""
    pooled = (control.conversions + variant.conversions) / (control.recipients + variant.recipients)
    variance = pooled * (1 - pooled) * (1 / control.recipients + 1 / variant.recipients)
    if variance <= 0:
        return False
    z = (variant.rate - control.rate) / variance**0.5
    return 1 - normal_cdf(z) < alpha / 2

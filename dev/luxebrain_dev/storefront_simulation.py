"""Simulations of the storefront hold-out's revenue decision under daily looks: how often it declares a winner
when recommendations cause nothing (the false-winner rate, with its 95 % interval) and how often it finds a
real uplift (the power). The unit tests assert both; ``python -m luxebrain_dev.storefront_simulation`` prints
them with enough runs for the interval to say which side of the 5 % bound the rate is."""

from __future__ import annotations

import argparse
import math
from dataclasses import dataclass

import numpy as np

from luxebrain.campaigns.abtest import HOLDOUT, ArmOutcome
from luxebrain.storefront.holdout import TREATMENT, decide_revenue

DECISIVE = ("winner", "holdout_wins")


@dataclass(frozen=True)
class HoldoutSimulation:
    runs: int
    days: int
    visitors_per_day: int
    holdout_share: float
    relative_lift: float
    winners: int  # runs where recommendations were declared the winner at some daily look
    holdout_wins: int  # runs where the hold-out was

    @property
    def winner_rate(self) -> float:
        return self.winners / self.runs

    @property
    def decision_rate(self) -> float:
        return (self.winners + self.holdout_wins) / self.runs

    def winner_interval(self) -> tuple[float, float]:
        return wilson_interval(self.winners, self.runs)

    def decision_interval(self) -> tuple[float, float]:
        return wilson_interval(self.winners + self.holdout_wins, self.runs)


def wilson_interval(successes: int, trials: int, z: float = 1.959964) -> tuple[float, float]:
    """The 95 % Wilson score interval of a binomial proportion (sound near 0, unlike the normal one)."""
    if trials <= 0:
        return (0.0, 1.0)
    rate = successes / trials
    centre = (rate + z * z / (2 * trials)) / (1 + z * z / trials)
    half = z * math.sqrt(rate * (1 - rate) / trials + z * z / (4 * trials * trials)) / (1 + z * z / trials)
    return (max(0.0, centre - half), min(1.0, centre + half))


def simulate_holdout(
    *,
    runs: int,
    relative_lift: float,
    days: int = 30,
    visitors_per_day: int = 3_000,
    holdout_share: float = 0.05,
    buy_rate: float = 0.03,
    order_value_median: float = 55.0,
    order_value_sigma: float = 0.7,
    seed: int = 20261201,
) -> HoldoutSimulation:
    """``runs`` placements, each looked at every day for ``days`` days: the day's visitors split by the hold-out
    share, ``buy_rate`` of them buy once, order values log-normal, the treated ones' scaled by 1 + lift; the
    first decisive look of a run is its outcome (a merchant acts on it)."""
    rng = np.random.default_rng(seed)
    outcome = ["undecided"] * runs
    totals = {arm: np.zeros((runs, 4)) for arm in (TREATMENT, HOLDOUT)}
    open_runs = np.arange(runs)
    for _ in range(days):
        held = rng.binomial(visitors_per_day, holdout_share, size=runs)
        for arm, visitors, factor in ((HOLDOUT, held, 1.0), (TREATMENT, visitors_per_day - held, 1.0 + relative_lift)):
            buyers = rng.binomial(visitors, buy_rate)
            values = rng.lognormal(math.log(order_value_median), order_value_sigma, size=int(buyers.sum())) * factor
            owner = np.repeat(np.arange(runs), buyers)
            totals[arm] += np.column_stack(
                (
                    visitors,
                    buyers,
                    np.bincount(owner, weights=values, minlength=runs),
                    np.bincount(owner, weights=values**2, minlength=runs),
                )
            )
        still_open = []
        for run in open_runs:
            treated, holdout = (
                ArmOutcome(arm, int(t[0]), int(t[1]), float(t[2]), float(t[3]))
                for arm, t in ((TREATMENT, totals[TREATMENT][run]), (HOLDOUT, totals[HOLDOUT][run]))
            )
            status = decide_revenue(treated, holdout, holdout_share).status
            if status in DECISIVE:
                outcome[run] = status
            else:
                still_open.append(run)
        open_runs = np.array(still_open, dtype=int)
    return HoldoutSimulation(
        runs=runs,
        days=days,
        visitors_per_day=visitors_per_day,
        holdout_share=holdout_share,
        relative_lift=relative_lift,
        winners=outcome.count("winner"),
        holdout_wins=outcome.count("holdout_wins"),
    )


def _percent(interval: tuple[float, float]) -> str:
    return f"[{interval[0]:.1%}, {interval[1]:.1%}]"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=10_000, help="runs without an effect")
    parser.add_argument("--power-runs", type=int, default=1_000, help="runs with each real uplift")
    parser.add_argument("--seed", type=int, default=20261202)
    args = parser.parse_args(argv)
    null = simulate_holdout(runs=args.runs, relative_lift=0.0, seed=args.seed)
    print(
        f"No true effect, {null.runs} runs of {null.days} daily looks, {null.visitors_per_day} visitors a day, "
        f"{null.holdout_share:.0%} held out: recommendations declared the winner in {null.winners} "
        f"({null.winner_rate:.2%}, 95 % interval {_percent(null.winner_interval())}); any decision (either way) "
        f"{null.winners + null.holdout_wins} ({null.decision_rate:.2%}, {_percent(null.decision_interval())})"
    )
    # The same with heavier-tailed order values (a few large baskets): the small hold-out's mean and variance
    # then lag the treatment's most days (the rule's hold-out variance and minimum of buyers are for this).
    heavy = simulate_holdout(runs=args.runs // 3, relative_lift=0.0, order_value_sigma=1.2, seed=args.seed + 2)
    print(
        f"No true effect, order values log-normal with sigma 1.2 instead of 0.7, {heavy.runs} runs: winner declared "
        f"in {heavy.winners} ({heavy.winner_rate:.2%}, {_percent(heavy.winner_interval())}); any decision "
        f"{heavy.decision_rate:.2%} ({_percent(heavy.decision_interval())})"
    )
    for lift, visitors in ((0.3, 10_000), (0.3, 3_000), (0.1, 10_000)):
        real = simulate_holdout(runs=args.power_runs, relative_lift=lift, visitors_per_day=visitors, seed=args.seed + 1)
        print(
            f"A {lift:.0%} uplift in revenue per visitor at {visitors} visitors a day: found in {real.winners} of "
            f"{real.runs} runs ({real.winner_rate:.1%}, 95 % interval {_percent(real.winner_interval())})"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

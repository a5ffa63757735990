"""The storefront hold-out: deterministic assignment within its binomial bounds, and the revenue decision
(the campaigns' always-valid test) keeping false winners at or below alpha under daily looks."""

from __future__ import annotations

import math

import numpy as np
import pytest

from luxebrain.campaigns.abtest import HOLDOUT, ArmOutcome
from luxebrain.storefront.holdout import (
    DEFAULT_HOLDOUT_SHARE,
    TREATMENT,
    decide_revenue,
    holdout_share_of,
    visitor_arm,
)
from luxebrain.storefront.meta import attribution_from_meta
from luxebrain.woocommerce.payloads import MetaData


def test_the_holdout_share_is_within_its_binomial_bounds_over_many_visitors() -> None:
    visitors = 20_000
    held = sum(visitor_arm("t-shop", f"v-{i:016d}", DEFAULT_HOLDOUT_SHARE) == HOLDOUT for i in range(visitors))
    expected = visitors * DEFAULT_HOLDOUT_SHARE
    spread = math.sqrt(visitors * DEFAULT_HOLDOUT_SHARE * (1 - DEFAULT_HOLDOUT_SHARE))
    assert abs(held - expected) < 4 * spread  # about 1 in 16,000 to fail by chance; deterministic here


def test_assignment_is_deterministic_per_tenant_and_visitor() -> None:
    arms = [visitor_arm("t-shop", f"visitor-{i:010d}", 0.2) for i in range(200)]
    assert arms == [visitor_arm("t-shop", f"visitor-{i:010d}", 0.2) for i in range(200)]
    assert arms != [visitor_arm("t-other", f"visitor-{i:010d}", 0.2) for i in range(200)]
    assert visitor_arm("t-shop", "", 0.2) == TREATMENT and visitor_arm("t-shop", "visitor-x", 0.0) == TREATMENT


@pytest.mark.parametrize(
    ("settings", "share"),
    [(None, 0.05), ({}, 0.05), ({"storefront_holdout_share": 0.1}, 0.1), ({"storefront_holdout_share": 0.9}, 0.5)],
)
def test_the_holdout_share_comes_from_the_settings_bounded(settings: dict | None, share: float) -> None:
    assert holdout_share_of(settings) == share


def _simulate(rng: np.random.Generator, *, days: int, per_day: int, share: float, lift: float) -> str:
    """A placement's daily looks: each day's visitors split by the hold-out share, 3 % buy, order values
    log-normal; the decision read every day, and the first decisive one kept."""
    totals = {TREATMENT: np.zeros(4), HOLDOUT: np.zeros(4)}
    status = "insufficient_sample"
    for _ in range(days):
        held = rng.binomial(per_day, share)
        for arm, visitors, factor in ((HOLDOUT, held, 1.0), (TREATMENT, per_day - held, 1.0 + lift)):
            buyers = rng.binomial(visitors, 0.03)
            values = rng.lognormal(math.log(55.0), 0.7, size=buyers) * factor
            totals[arm] += (visitors, buyers, values.sum(), (values**2).sum())
        outcomes = {arm: ArmOutcome(arm, int(t[0]), int(t[1]), float(t[2]), float(t[3])) for arm, t in totals.items()}
        status = decide_revenue(outcomes[TREATMENT], outcomes[HOLDOUT], share).status
        if status in ("winner", "holdout_wins"):
            return status
    return status


def test_no_true_effect_declares_a_winner_in_at_most_5_percent_of_runs_under_daily_looks() -> None:
    rng = np.random.default_rng(20261201)
    runs = 300
    decided = [_simulate(rng, days=30, per_day=3_000, share=0.05, lift=0.0) for _ in range(runs)]
    false_decisions = sum(status in ("winner", "holdout_wins") for status in decided) / runs
    assert false_decisions <= 0.05, false_decisions


def test_a_real_uplift_is_found() -> None:
    rng = np.random.default_rng(7)
    decided = [_simulate(rng, days=30, per_day=10_000, share=0.05, lift=0.3) for _ in range(40)]
    assert sum(status == "winner" for status in decided) / len(decided) >= 0.8


def test_a_broken_split_is_a_sample_ratio_mismatch_not_a_winner() -> None:
    treatment = ArmOutcome(TREATMENT, 9_000, 400, 40_000.0, 4_000_000.0)
    holdout = ArmOutcome(HOLDOUT, 1_000, 20, 1_000.0, 60_000.0)  # 10 % held out where 5 % was designed
    assert decide_revenue(treatment, holdout, 0.05).status == "sample_ratio_mismatch"


@pytest.mark.parametrize(
    ("meta", "expected"),
    [
        ([], None),
        ([MetaData(key="_luxebrain_visitor", value="jeanne@example.com")], None),
        ([MetaData(key="_luxebrain_visitor", value="AbCdEfGhIjKlMnOp1234")], {"visitor_id": "AbCdEfGhIjKlMnOp1234"}),
        (
            [
                MetaData(key="_luxebrain_visitor", value="AbCdEfGhIjKlMnOp1234"),
                MetaData(key="_luxebrain_attribution", value='{"placement": "related", "model_version": "v-1"}'),
            ],
            {"visitor_id": "AbCdEfGhIjKlMnOp1234", "placement": "related", "model_version": "v-1"},
        ),
        (
            [
                MetaData(key="_luxebrain_visitor", value="AbCdEfGhIjKlMnOp1234"),
                MetaData(key="_luxebrain_attribution", value={"placement": "<script>", "model_version": 3}),
            ],
            {"visitor_id": "AbCdEfGhIjKlMnOp1234"},
        ),
        (
            [
                MetaData(key="_luxebrain_visitor", value="AbCdEfGhIjKlMnOp1234"),
                MetaData(
                    key="_luxebrain_attribution",
                    value={"placement": "related", "model_version": "", "response_id": "r-1 <b>"},
                ),
            ],
            {"visitor_id": "AbCdEfGhIjKlMnOp1234", "placement": "related"},
        ),
        (
            [
                MetaData(key="_luxebrain_visitor", value="AbCdEfGhIjKlMnOp1234"),
                MetaData(key="_luxebrain_attribution", value={"placement": "basket", "response_id": "Xy_9-aB"}),
            ],
            {"visitor_id": "AbCdEfGhIjKlMnOp1234", "placement": "basket", "response_id": "Xy_9-aB"},
        ),
    ],
)
def test_the_attribution_meta_is_read_strictly(meta: list[MetaData], expected: dict | None) -> None:
    assert attribution_from_meta(meta) == expected

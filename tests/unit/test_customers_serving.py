"""Serving the customer model: numpy only, lookups, lists, segments and the exact purchase-count quantiles."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from scipy.stats import nbinom
from test_customers import AS_OF, simulate_bgnbd_store  # helper module beside this one

from luxebrain.ml.artifacts import ModelArtifact
from luxebrain.ml.customers.model import CustomerParams, bgnbd_expected_purchases
from luxebrain.ml.customers.serving import (
    SEGMENT_NAMES,
    SEGMENT_TABLE,
    BGNBDParams,
    CustomerModelError,
    CustomerScores,
    UnknownCustomerError,
    UnknownSegmentError,
    bgnbd_probability_alive,
    purchase_count_quantiles,
    quintile_scores,
    rfm_segments,
)
from luxebrain.ml.customers.train import train_customer_model


@pytest.fixture(scope="module")
def scores() -> CustomerScores:
    order_lines = simulate_bgnbd_store(BGNBDParams(r=0.8, alpha=40.0, a=1.2, b=4.0), customers=400, days=400, seed=9)
    # a guest keyed by the hash of an e-mail is a customer like any other
    guest = order_lines.iloc[:2].copy()
    guest["customer_id"] = "guest:" + "ab" * 32
    guest["order_id"] = ["guest-order-1", "guest-order-2"]
    guest["ordered_at"] = pd.to_datetime(["2024-06-01", "2024-12-24"], utc=True)
    order_lines = pd.concat([order_lines, guest], ignore_index=True)
    artifact = train_customer_model(order_lines, as_of=AS_OF, params=CustomerParams(evaluate_holdout=False))
    return CustomerScores.from_artifact(ModelArtifact.from_files(artifact.to_files()))


def test_serving_module_imports_neither_pandas_nor_scipy() -> None:
    code = (
        "import sys, luxebrain.ml.customers.serving; "
        "bad = [m for m in ('pandas', 'scipy', 'sklearn') if m in sys.modules]; "
        "sys.exit(1 if bad else 0)"
    )
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0  # noqa: S603 (fixed command)


def test_customer_lookup_returns_finite_json_ready_fields(scores: CustomerScores) -> None:
    row = scores.customer("guest:" + "ab" * 32)
    assert row["orders"] == 2
    assert row["segment"] in SEGMENT_NAMES
    assert row["churn_risk_band"] in ("low", "medium", "high")
    for key in ("p_alive", "expected_purchases_30d", "expected_purchases_365d", "clv_12m", "clv_12m_high"):
        assert np.isfinite(row[key]), key
    assert row["clv_12m_low"] <= row["clv_12m_high"]
    assert row["last_order_date"] == "2024-12-24"
    assert row["expected_next_order_date"] is None or row["expected_next_order_date"] > "2025-02-05"


def test_unknown_customer_is_a_clear_error(scores: CustomerScores) -> None:
    with pytest.raises(UnknownCustomerError, match="'nobody' is not in the customer model"):
        scores.customer("nobody")
    with pytest.raises(CustomerModelError, match="non-empty"):
        scores.customer("")


def test_segment_pages_cover_each_segment_once_in_clv_order(scores: CustomerScores) -> None:
    seen: list[str] = []
    for row in scores.segment_summary():
        cursor, segment_ids, clvs = None, [], []
        while True:
            page = scores.customers_in_segment(row["segment"], limit=7, cursor=cursor)
            segment_ids += [c["customer_id"] for c in page["customers"]]
            clvs += [c["clv_12m"] for c in page["customers"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert len(segment_ids) == row["customers"] == page["total"]
        assert clvs == sorted(clvs, reverse=True)
        seen += segment_ids
    assert len(seen) == len(set(seen)) == len(scores)


def test_segment_summary_shares_add_up(scores: CustomerScores) -> None:
    summary = scores.segment_summary()
    assert [row["segment"] for row in summary] == list(SEGMENT_NAMES)
    assert sum(row["customer_share"] for row in summary) == pytest.approx(1.0, abs=1e-4)
    assert sum(row["revenue_share"] for row in summary) == pytest.approx(1.0, abs=1e-4)


def test_at_risk_lists_valuable_customers_by_revenue_at_stake(scores: CustomerScores) -> None:
    rows = scores.at_risk(limit=10)
    assert rows, "the simulated store has customers who are slipping away"
    stakes = [row["revenue_at_stake"] for row in rows]
    assert stakes == sorted(stakes, reverse=True)
    assert all(row["churn_risk_band"] in ("medium", "high") for row in rows)
    threshold = rows[0]["revenue"]
    assert all(row["revenue"] >= threshold for row in scores.at_risk(limit=10, min_value=threshold))


def test_bad_list_arguments_are_clear_errors(scores: CustomerScores) -> None:
    with pytest.raises(UnknownSegmentError, match="Champions"):
        scores.customers_in_segment("Winners")
    with pytest.raises(CustomerModelError, match="limit"):
        scores.at_risk(limit=0)
    with pytest.raises(CustomerModelError, match="cursor"):
        scores.customers_in_segment("Lost", cursor="abc")
    with pytest.raises(CustomerModelError, match="min_value"):
        scores.at_risk(min_value=float("nan"))


def test_artifact_of_another_kind_is_refused() -> None:
    with pytest.raises(CustomerModelError, match="kind"):
        CustomerScores.from_artifact(ModelArtifact(kind="recommend", arrays={}))


# --- RFM -----------------------------------------------------------------------------------------------
def test_quintile_scores_keep_ties_together_and_span_one_to_five() -> None:
    values = np.array([1, 1, 1, 1, 2, 3, 4, 5, 6, 7], dtype=float)
    scored = quintile_scores(values)
    assert len(set(scored[:4].tolist())) == 1
    assert scored.min() >= 1 and scored.max() == 5
    assert np.all(np.diff(scored[3:]) >= 0)
    assert quintile_scores(values, higher_is_better=False)[-1] == 1


@pytest.mark.parametrize(
    ("r_score", "fm_score", "segment"),
    [
        (5, 5, "Champions"),
        (4, 4, "Loyal"),
        (5, 1, "New"),
        (4, 1, "Promising"),
        (3, 3, "Need attention"),
        (3, 1, "About to sleep"),
        (2, 4, "At risk"),
        (1, 5, "Can't lose them"),
        (2, 1, "Hibernating"),
        (1, 1, "Lost"),
        (5, 2, "Potential loyalists"),
    ],
)
def test_segment_rule_table(r_score: int, fm_score: int, segment: str) -> None:
    assert SEGMENT_NAMES[SEGMENT_TABLE[r_score, fm_score]] == segment


def test_rfm_segments_put_recent_big_spenders_in_champions() -> None:
    recency = np.arange(20, dtype=float)  # customer 0 bought today
    orders = np.arange(20, 0, -1)
    revenue = np.linspace(1000, 10, 20)
    result = rfm_segments(recency, orders, revenue)
    assert SEGMENT_NAMES[result["segment"][0]] == "Champions"
    assert SEGMENT_NAMES[result["segment"][-1]] == "Lost"


# --- the exact purchase-count distribution ---------------------------------------------------------------
def test_purchase_count_distribution_has_the_bgnbd_mean_and_matches_simulation() -> None:
    params = BGNBDParams(r=0.6, alpha=30.0, a=0.9, b=2.5)
    x, tx, big_t, t = np.array([0.0, 3.0, 12.0]), np.array([0.0, 100.0, 290.0]), np.array([200.0, 300.0, 300.0]), 365.0
    p_alive = bgnbd_probability_alive(params, x, tx, big_t)
    pi = (params.alpha + big_t) / (params.alpha + big_t + t)
    # mean of Y = min(N, G) by summing the survival function equals the closed-form E[Y]
    y = np.arange(1, 4000)[:, None]
    survive_n = nbinom.sf(y - 1, params.r + x, pi)
    survive_g = np.exp(np.cumsum(np.log((params.b + x + y - 1.0) / (params.a + params.b + x + y - 1.0)), axis=0))
    survive_g = np.vstack([np.ones((1, 3)), survive_g[:-1]])
    mean_from_distribution = p_alive * (survive_n * survive_g).sum(axis=0)
    np.testing.assert_allclose(mean_from_distribution, bgnbd_expected_purchases(params, t, x, tx, big_t), rtol=1e-6)

    # and the quantiles match a simulation of the model itself
    low, high = purchase_count_quantiles(
        shape=params.r + x,
        no_purchase_probability_per_step=pi,
        p_alive=p_alive,
        stay_ratio_offset=params.b + x,
        a=params.a,
        quantiles=(0.1, 0.9),
    )
    rng = np.random.default_rng(0)
    draws = 40_000
    for i in range(3):
        alive = rng.random(draws) < p_alive[i]
        rate = rng.gamma(params.r + x[i], 1.0 / (params.alpha + big_t[i]), draws)
        dropout = rng.beta(params.a, params.b + x[i], draws)
        count = np.minimum(rng.poisson(rate * t), rng.geometric(dropout)) * alive
        assert low[i] == np.quantile(count, 0.1, method="inverted_cdf")
        assert high[i] == np.quantile(count, 0.9, method="inverted_cdf")

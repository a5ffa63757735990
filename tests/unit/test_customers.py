"""Customer model: the published CDNOW parameters, the likelihoods' gradients, training, fallbacks, bad input."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import approx_fprime
from scipy.special import hyp2f1

from luxebrain.ml.artifacts import ModelArtifact
from luxebrain.ml.customers.model import (
    CustomerDataError,
    CustomerParams,
    FitError,
    bgnbd_expected_purchases,
    bgnbd_unconditional_expected_purchases,
    summarize_transactions,
)
from luxebrain.ml.customers.serving import BGNBDParams, CustomerModelError, bgnbd_probability_alive
from luxebrain.ml.customers.train import (
    _bgnbd_negative_log_likelihood,
    _gamma_gamma_negative_log_likelihood,
    _nbd_negative_log_likelihood,
    fit_bgnbd,
    fit_gamma_gamma,
    fit_nbd,
    train_customer_model,
)

REPO = Path(__file__).resolve().parents[2]
# Copies of ../shared/data/cdnow/{cdnow_sample_summary_39w.csv, cdnow_sample.csv.gz} (Lifetimes 0.11.3, MIT; see
# that folder's SOURCE.md), so the published-parameter tests run in any clone, with or without the handbook beside it.
CDNOW_SUMMARY = REPO / "tests" / "fixtures" / "customers_cdnow_sample_summary_39w.csv"
CDNOW_SAMPLE = REPO / "tests" / "fixtures" / "customers_cdnow_sample.csv.gz"
FIXTURE = REPO / "tests" / "fixtures" / "customers_cdnow_120.csv"
PUBLISHED_BGNBD = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
PUBLISHED_GAMMA_GAMMA = {"p": 6.25, "q": 3.74, "gamma": 15.44}


@pytest.fixture(scope="module")
def cdnow_summary() -> pd.DataFrame:
    if not CDNOW_SUMMARY.is_file():
        pytest.fail(f"reference data missing: {CDNOW_SUMMARY}")
    return pd.read_csv(CDNOW_SUMMARY)


def order_lines_from_rows(customer_ids: list[str], dates: list[str], totals: list[float]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "order_id": [f"order-{i}" for i in range(len(customer_ids))],
            "customer_id": customer_ids,
            "product_id": "p1",
            "ordered_at": pd.to_datetime(dates, utc=True, format="ISO8601"),
            "quantity": 1.0,
            "unit_price": totals,
            "line_total": [float(t) for t in totals],
        }
    )


def simulate_bgnbd_store(params: BGNBDParams, customers: int, days: int, seed: int) -> pd.DataFrame:
    """Order lines drawn from the BG/NBD story itself (rates in days), one line per order, spend gamma.
    ``a = 0`` simulates a store where nobody leaves."""
    rng = np.random.default_rng(seed)
    ids, dates, totals = [], [], []
    start = np.datetime64("2024-01-01")
    for customer in range(customers):
        rate = rng.gamma(params.r, 1.0 / params.alpha)
        dropout = rng.beta(params.a, params.b) if params.a > 0 else 0.0
        day = float(rng.integers(0, days // 3))
        mean_spend = 40.0 + 60.0 * rng.random()
        first = True
        while day < days:
            ids.append(f"c{customer:05d}")
            dates.append(str(start + np.timedelta64(int(day), "D")))
            totals.append(round(rng.gamma(4.0, mean_spend / 4.0), 2))
            if not first and rng.random() < dropout:  # BG/NBD: dropout only after a repeat purchase
                break
            first = False
            day += rng.exponential(1.0 / rate)
    return order_lines_from_rows(ids, dates, totals)


# --- the published CDNOW figures --------------------------------------------------------------------
def test_bgnbd_reproduces_published_cdnow_parameters_within_one_percent(cdnow_summary: pd.DataFrame) -> None:
    # Given the 39-week CDNOW calibration summary (Fader, Hardie & Lee 2005)
    # When BG/NBD is fitted by maximum likelihood
    fitted = fit_bgnbd(cdnow_summary["x"], cdnow_summary["t_x"], cdnow_summary["T"])
    # Then every parameter is within 1 % of the published value
    for name, published in PUBLISHED_BGNBD.items():
        assert getattr(fitted, name) == pytest.approx(published, rel=0.01), name


def test_gamma_gamma_reproduces_published_cdnow_parameters_within_one_percent(cdnow_summary: pd.DataFrame) -> None:
    fitted = fit_gamma_gamma(cdnow_summary["x"], cdnow_summary["zbar"])
    for name, published in PUBLISHED_GAMMA_GAMMA.items():
        assert getattr(fitted, name) == pytest.approx(published, rel=0.01), name


def test_conditional_expectation_matches_the_papers_worked_example() -> None:
    # Given the paper's customer: 2 repeat purchases, the last at week 30.43, observed for 38.86 weeks
    params = BGNBDParams(**PUBLISHED_BGNBD)
    # When we ask for the expected purchases in the next 39 weeks
    expected = bgnbd_expected_purchases(params, 39.0, [2.0], [30.43], [38.86])
    # Then it is the paper's 1.226
    assert expected[0] == pytest.approx(1.226, abs=0.002)


def test_euler_transformed_expectation_equals_the_direct_formula() -> None:
    params = BGNBDParams(r=0.5, alpha=6.0, a=1.7, b=3.2)
    x, tx, big_t, t = np.array([0.0, 1.0, 4.0, 12.0]), np.array([0.0, 5.0, 20.0, 35.0]), np.full(4, 40.0), 26.0
    z = t / (params.alpha + big_t + t)
    direct_bracket = 1.0 - ((params.alpha + big_t) / (params.alpha + big_t + t)) ** (params.r + x) * hyp2f1(
        params.r + x, params.b + x, params.a + params.b + x - 1.0, z
    )
    direct = (params.a + params.b + x - 1.0) / (params.a - 1.0) * direct_bracket
    direct *= bgnbd_probability_alive(params, x, tx, big_t)
    np.testing.assert_allclose(bgnbd_expected_purchases(params, t, x, tx, big_t), direct, rtol=1e-9)


def test_unconditional_expectation_grows_and_starts_at_zero() -> None:
    params = BGNBDParams(**PUBLISHED_BGNBD)
    values = bgnbd_unconditional_expected_purchases(params, np.array([0.0, 1.0, 10.0, 78.0]))
    assert values[0] == 0.0
    assert np.all(np.diff(values) > 0)


def test_summary_of_cdnow_transactions_equals_the_published_summary(cdnow_summary: pd.DataFrame) -> None:
    # Given the CDNOW sample transactions up to the end of week 39
    raw = pd.read_csv(CDNOW_SAMPLE)
    raw = raw[raw["date"] <= "1997-09-30"]
    transactions = pd.DataFrame(
        {"customer_id": raw["customer_id"].astype(str), "ordered_at": raw["date"], "amount": raw["dollar_value"]}
    )
    # When they are summarised per customer (purchase days, in days)
    summary = summarize_transactions(transactions, as_of_day=int(np.datetime64("1997-09-30", "D").astype(int)))
    order = np.argsort(summary.customer_ids.astype(int))
    # Then x, t_x, T (in weeks) and the mean repeat spend equal the summary the papers used
    np.testing.assert_array_equal(summary.frequency[order], cdnow_summary["x"])
    np.testing.assert_allclose(summary.recency[order] / 7.0, cdnow_summary["t_x"], atol=0.006)
    np.testing.assert_allclose(summary.T[order] / 7.0, cdnow_summary["T"], atol=0.006)
    np.testing.assert_allclose(summary.monetary[order], cdnow_summary["zbar"], atol=0.006)


# --- likelihood internals -----------------------------------------------------------------------------
def test_bgnbd_gradient_matches_finite_differences() -> None:
    rng = np.random.default_rng(3)
    x = rng.poisson(2.0, 200).astype(float)
    big_t = rng.uniform(0.5, 1.0, 200)
    tx = np.where(x > 0, big_t * rng.uniform(0, 1, 200), 0.0)
    weights = rng.integers(1, 4, 200).astype(float)
    point = np.log([0.7, 0.4, 1.3, 2.1])
    _, analytic = _bgnbd_negative_log_likelihood(point, x, tx, big_t, weights, 0.01)
    numeric = approx_fprime(point, lambda p: _bgnbd_negative_log_likelihood(p, x, tx, big_t, weights, 0.01)[0], 1e-7)
    np.testing.assert_allclose(analytic, numeric, rtol=1e-4, atol=1e-6)


def test_gamma_gamma_gradient_matches_finite_differences() -> None:
    rng = np.random.default_rng(4)
    x = rng.integers(1, 8, 150).astype(float)
    m = rng.gamma(3.0, 0.4, 150)
    weights = np.ones(150)
    point = np.log([2.0, 3.0, 0.8])
    _, analytic = _gamma_gamma_negative_log_likelihood(point, x, m, weights, 0.0)
    numeric = approx_fprime(point, lambda p: _gamma_gamma_negative_log_likelihood(p, x, m, weights, 0.0)[0], 1e-7)
    np.testing.assert_allclose(analytic, numeric, rtol=1e-4, atol=1e-6)


def test_nbd_gradient_matches_finite_differences() -> None:
    rng = np.random.default_rng(5)
    x = rng.poisson(3.0, 100).astype(float)
    big_t = rng.uniform(0.2, 1.0, 100)
    point = np.log([1.5, 0.3])
    _, analytic = _nbd_negative_log_likelihood(point, x, big_t, np.ones(100), 0.0)
    numeric = approx_fprime(point, lambda p: _nbd_negative_log_likelihood(p, x, big_t, np.ones(100), 0.0)[0], 1e-7)
    np.testing.assert_allclose(analytic, numeric, rtol=1e-4, atol=1e-6)


def test_store_where_nobody_leaves_gets_the_nbd_limit_of_bgnbd() -> None:
    # Given a store simulated without dropout (BG/NBD's optimum is then at a -> 0, b -> infinity)
    order_lines = simulate_bgnbd_store(BGNBDParams(r=1.5, alpha=60.0, a=0.0, b=1.0), customers=800, days=365, seed=2)
    # When the customer model is trained
    artifact = train_customer_model(order_lines, as_of=datetime(2024, 12, 31, tzinfo=UTC))
    params = artifact.params
    # Then either BG/NBD says dropout is negligible, or the NBD limit was fitted and says why; rates are right
    if params["purchase_model"] == "bgnbd":
        bgnbd = params["bgnbd"]
        assert bgnbd["a"] / (bgnbd["a"] + bgnbd["b"]) < 0.01
        rate = bgnbd["r"] / bgnbd["alpha"]
    else:
        assert params["purchase_model"] == "nbd_no_dropout"
        assert "BG/NBD" in params["purchase_fallback_reason"]
        rate = params["no_dropout_rate_model"]["r"] / params["no_dropout_rate_model"]["alpha"]
    assert rate == pytest.approx(1.5 / 60.0, rel=0.15)
    assert np.all(artifact.arrays["p_alive"] > 0.9)


def test_fit_nbd_recovers_the_rate_of_a_gamma_poisson_sample() -> None:
    rng = np.random.default_rng(8)
    big_t = np.full(5000, 100.0)
    x = rng.poisson(rng.gamma(2.0, 1.0 / 50.0, 5000) * big_t).astype(float)
    fitted = fit_nbd(x, big_t)
    assert fitted.r == pytest.approx(2.0, rel=0.15)
    assert fitted.alpha == pytest.approx(50.0, rel=0.15)


def test_likelihood_stays_finite_for_very_large_purchase_counts() -> None:
    # A wholesale buyer with 5,000 repeat purchases must not overflow the log-likelihood or P(alive)
    x = np.array([5000.0, 0.0, 3.0])
    tx = np.array([360.0, 0.0, 100.0])
    big_t = np.array([365.0, 200.0, 300.0])
    value, gradient = _bgnbd_negative_log_likelihood(np.log([0.3, 10.0, 0.8, 2.0]), x, tx, big_t, np.ones(3), 0.0)
    assert np.isfinite(value) and np.isfinite(gradient).all()
    params = BGNBDParams(0.3, 10.0, 0.8, 2.0)
    assert np.isfinite(bgnbd_expected_purchases(params, 365.0, x, tx, big_t)).all()


def test_simulated_bgnbd_store_recovers_its_parameters() -> None:
    # Given a store simulated from known BG/NBD parameters (rates per day)
    truth = BGNBDParams(r=0.8, alpha=40.0, a=1.2, b=4.0)
    order_lines = simulate_bgnbd_store(truth, customers=3000, days=540, seed=11)
    transactions = order_lines.rename(columns={"line_total": "amount"})
    summary = summarize_transactions(transactions, as_of_day=int(np.datetime64("2024-01-01", "D").astype(int)) + 540)
    # When BG/NBD is fitted
    fitted = fit_bgnbd(summary.frequency, summary.recency, summary.T)
    # Then the purchase-rate and dropout means come back close to the truth
    assert fitted.r / fitted.alpha == pytest.approx(truth.r / truth.alpha, rel=0.15)
    assert fitted.a / (fitted.a + fitted.b) == pytest.approx(truth.a / (truth.a + truth.b), rel=0.25)


def test_fit_bgnbd_without_repeat_customers_is_a_fit_error() -> None:
    with pytest.raises(FitError, match="repeat purchase"):
        fit_bgnbd([0.0, 0.0], [0.0, 0.0], [10.0, 5.0])


@pytest.mark.parametrize(
    ("frequency", "recency", "big_t", "message"),
    [
        ([1.0], [5.0], [3.0], "greater than T"),
        ([-1.0], [0.0], [3.0], "negative"),
        ([1.0], [np.nan], [3.0], "missing"),
        ([0.0], [2.0], [3.0], "frequency 0"),
        ([1.0, 2.0], [1.0], [3.0], "same length"),
    ],
)
def test_fit_bgnbd_rejects_impossible_summaries(frequency, recency, big_t, message) -> None:
    with pytest.raises(CustomerModelError, match=message):
        fit_bgnbd(frequency, recency, big_t)


def test_fit_gamma_gamma_rejects_negative_spend() -> None:
    with pytest.raises(CustomerModelError, match="negative"):
        fit_gamma_gamma([1.0, 2.0], [10.0, -3.0])


# --- training -----------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def simulated_order_lines() -> pd.DataFrame:
    return simulate_bgnbd_store(BGNBDParams(r=0.8, alpha=40.0, a=1.2, b=4.0), customers=600, days=400, seed=5)


AS_OF = datetime(2025, 2, 5, 12, tzinfo=UTC)  # 2024-01-01 + 400 days


def test_training_produces_finite_scores_and_holdout_metrics(simulated_order_lines: pd.DataFrame) -> None:
    artifact = train_customer_model(simulated_order_lines, as_of=AS_OF)
    assert artifact.kind == "customers"
    assert artifact.params["model"] == "bgnbd+gamma_gamma"
    for name, values in artifact.arrays.items():
        if values.dtype.kind == "f":
            assert np.isfinite(values).all(), name
    arrays = artifact.arrays
    assert np.all((arrays["p_alive"] >= 0) & (arrays["p_alive"] <= 1))
    assert np.all(arrays["expected_purchases_30d"] <= arrays["expected_purchases_90d"] + 1e-12)
    assert np.all(arrays["expected_purchases_90d"] <= arrays["expected_purchases_365d"] + 1e-12)
    assert np.all(arrays["clv_12m_low"] <= arrays["clv_12m_high"])
    holdout = artifact.metrics["holdout"]
    assert "mae" in holdout and holdout["customers"] > 0
    assert artifact.data_counts["customers"] == simulated_order_lines["customer_id"].nunique()
    # and the manifest is valid JSON (no NaN) and round-trips
    loaded = ModelArtifact.from_files(artifact.to_files())
    assert loaded.params["bgnbd"]["r"] == pytest.approx(artifact.params["bgnbd"]["r"])


def test_segment_movement_between_two_runs_is_counted(simulated_order_lines: pd.DataFrame) -> None:
    # Given a run 120 days earlier, on the orders known then
    earlier_as_of = datetime(2024, 10, 8, 12, tzinfo=UTC)
    earlier = train_customer_model(
        simulated_order_lines[simulated_order_lines["ordered_at"] <= pd.Timestamp(earlier_as_of)],
        as_of=earlier_as_of,
        params=CustomerParams(evaluate_holdout=False),
    )
    # When the model is trained again with the previous artifact
    later = train_customer_model(
        simulated_order_lines, as_of=AS_OF, previous=earlier, params=CustomerParams(evaluate_holdout=False)
    )
    # Then movements count exactly the customers whose segment changed, and newcomers are counted apart
    previous, current = later.arrays["previous_segment"], later.arrays["segment"]
    changed = int(((previous >= 0) & (previous != current)).sum())
    assert changed > 0
    assert sum(m["customers"] for m in later.extra["segment_movements"]) == changed
    summary = later.extra["segment_summary"]
    assert sum(row["new_customers"] for row in summary) == int((previous < 0).sum())
    assert sum(row["moved_in"] for row in summary) == sum(row["moved_out"] for row in summary) == changed


def test_store_without_repeat_customers_uses_the_documented_fallback() -> None:
    # Given five customers who each ordered once
    order_lines = order_lines_from_rows(
        [f"c{i}" for i in range(5)], ["2025-01-0" + str(i + 1) for i in range(5)], [10, 20, 30, 40, 50]
    )
    artifact = train_customer_model(order_lines, as_of=datetime(2025, 2, 1, tzinfo=UTC))
    # Then the fallback is named with its reason, and every answer is finite
    assert artifact.params["purchase_model"] == "poisson_gamma_fallback"
    assert "repeat customer" in artifact.params["purchase_fallback_reason"]
    assert artifact.params["spend_model"] == "shrunk_mean_fallback"
    assert artifact.metrics["holdout"]["skipped"]
    for values in artifact.arrays.values():
        if values.dtype.kind == "f":
            assert np.isfinite(values).all()
    assert np.all(artifact.arrays["expected_purchases_365d"] > 0)


def test_all_orders_on_one_day_give_defined_results() -> None:
    order_lines = order_lines_from_rows(
        ["a", "a", "b"], ["2025-03-01T09:00", "2025-03-01T17:00", "2025-03-01"], [5, 5, 9]
    )
    artifact = train_customer_model(order_lines, as_of=datetime(2025, 3, 1, 23, tzinfo=UTC))
    assert artifact.data_counts == {"order_lines": 3, "orders": 3, "customers": 2, "repeat_customers": 0}
    assert np.isfinite(artifact.arrays["clv_12m"]).all()
    assert artifact.arrays["orders"].tolist() == [2, 1]


def test_a_single_customer_with_one_order_is_scored() -> None:
    artifact = train_customer_model(order_lines_from_rows(["solo"], ["2025-01-10"], [120.0]), as_of=AS_OF)
    assert artifact.arrays["clv_12m"].shape == (1,)
    assert np.isfinite(artifact.arrays["clv_12m"]).all()


def test_zero_total_orders_count_as_purchases_but_not_as_spend() -> None:
    order_lines = order_lines_from_rows(["a", "a", "a"], ["2025-01-01", "2025-01-10", "2025-01-20"], [50.0, 0.0, 0.0])
    artifact = train_customer_model(order_lines, as_of=datetime(2025, 2, 1, tzinfo=UTC))
    assert artifact.arrays["frequency"].tolist() == [2.0]
    assert artifact.arrays["expected_order_value"][0] > 0


def test_order_after_as_of_is_a_clear_error() -> None:
    order_lines = order_lines_from_rows(["a", "b"], ["2025-01-01", "2025-06-01"], [10.0, 20.0])
    with pytest.raises(CustomerDataError, match="after the as-of day"):
        train_customer_model(order_lines, as_of=datetime(2025, 2, 1, tzinfo=UTC))


def test_negative_order_total_is_a_clear_error_naming_the_order() -> None:
    order_lines = order_lines_from_rows(["a", "b"], ["2025-01-01", "2025-01-02"], [10.0, -20.0])
    with pytest.raises(CustomerDataError, match="order 'order-1' has a negative total"):
        train_customer_model(order_lines, as_of=datetime(2025, 2, 1, tzinfo=UTC))


def test_missing_customer_is_a_clear_error_naming_the_order() -> None:
    order_lines = order_lines_from_rows(["a", None], ["2025-01-01", "2025-01-02"], [10.0, 20.0])
    with pytest.raises(CustomerDataError, match="'customer_id' is empty at order_id 'order-1'"):
        train_customer_model(order_lines, as_of=datetime(2025, 2, 1, tzinfo=UTC))


def test_missing_column_and_empty_frame_are_clear_errors() -> None:
    with pytest.raises(ValueError, match="line_total"):
        train_customer_model(pd.DataFrame({"order_id": ["1"], "customer_id": ["a"], "ordered_at": ["2025-01-01"]}))
    empty = order_lines_from_rows([], [], [])
    with pytest.raises(CustomerDataError, match="empty"):
        train_customer_model(empty, as_of=AS_OF)


def test_bad_params_are_rejected() -> None:
    with pytest.raises(CustomerModelError, match="clv_interval"):
        CustomerParams(clv_interval=(0.9, 0.1))
    with pytest.raises(CustomerModelError, match="margin"):
        CustomerParams(margin=0.0)


def test_value_interval_is_drawn_from_the_models_and_covers_about_80_percent_of_hold_out_spend() -> None:
    # Given a store simulated from the BG/NBD story with gamma spend, 360 days of calibration, 180 of hold-out
    from luxebrain.ml.customers.evaluation import evaluate_holdout
    from luxebrain.ml.customers.model import order_totals
    from luxebrain.ml.customers.train import fit_models

    truth = BGNBDParams(r=0.8, alpha=40.0, a=1.2, b=4.0)
    transactions = order_totals(simulate_bgnbd_store(truth, customers=3000, days=540, seed=21))
    first_day = int(pd.Timestamp("2024-01-01", tz="UTC").value // 86_400_000_000_000)
    # When checking the fitted models' 180-day value interval against what customers really spent
    metrics = evaluate_holdout(
        transactions, calibration_end_day=first_day + 359, holdout_end_day=first_day + 539, fit=fit_models
    ).metrics
    # Then about 80 % of customers spent inside their P10-P90 (not 90 %: P(no order) counts once), and buyers
    # are not all outside it
    assert 0.75 <= metrics["value_interval_coverage"] <= 0.85
    assert metrics["value_interval_coverage_buyers"] > 0.5
    assert metrics["value_top_decile_lift"] > 1.0


def test_frequent_buyers_value_interval_includes_spend_variation() -> None:
    # Given a customer who bought every ten days for a year, the last time yesterday, and a one-off buyer
    rows_ids = ["loyal"] * 37 + ["once"]
    dates = [str(np.datetime64("2025-01-01") + np.timedelta64(10 * k, "D")) for k in range(37)] + ["2025-01-01"]
    totals = [50.0 + 40.0 * (k % 3) for k in range(37)] + [80.0]
    lines = order_lines_from_rows(rows_ids, dates, totals)
    lines["order_id"] = "own-" + lines["order_id"]
    lines = pd.concat(
        [lines, simulate_bgnbd_store(BGNBDParams(r=0.8, alpha=40.0, a=1.2, b=4.0), customers=400, days=400, seed=3)],
        ignore_index=True,
    )
    artifact = train_customer_model(lines, as_of=datetime(2025, 12, 28, tzinfo=UTC), params=CustomerParams())
    ids = [c.decode() for c in artifact.arrays["customer_ids"]]
    loyal = ids.index("loyal")
    low, mean, high = (artifact.arrays[k][loyal] for k in ("clv_12m_low", "clv_12m", "clv_12m_high"))
    # Then the loyal customer's interval is a real range around the mean, not a point
    assert 0 <= low < mean < high and high > 1.2 * mean
    # And the interval is reproducible (fixed seed): the same data give the same bounds
    again = train_customer_model(lines, as_of=datetime(2025, 12, 28, tzinfo=UTC), params=CustomerParams())
    np.testing.assert_array_equal(again.arrays["clv_12m_high"], artifact.arrays["clv_12m_high"])


def test_degenerate_bgnbd_optimum_falls_back_to_the_nbd_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a store whose BG/NBD optimum has a and b in the hundreds of thousands (seen on the 300-customer sample
    # store as of 2026-12-02): the Beta is then a point mass and the expectations' hypergeometric term overflows
    import luxebrain.ml.customers.train as customers

    degenerate = BGNBDParams(r=0.6159927, alpha=33.1236, a=153916.08, b=1882895.88)
    monkeypatch.setattr(customers, "fit_bgnbd", lambda *args, **kwargs: degenerate)
    order_lines = simulate_bgnbd_store(BGNBDParams(r=0.6, alpha=33.0, a=0.8, b=9.0), customers=300, days=365, seed=3)
    # When the customer model is trained
    artifact = train_customer_model(order_lines, as_of=datetime(2024, 12, 31, tzinfo=UTC))
    # Then it names the problem, uses the no-dropout limit, and every score is finite
    params = artifact.params
    assert params["purchase_model"] == "nbd_no_dropout"
    assert "degenerate" in params["purchase_fallback_reason"]
    for name, values in artifact.arrays.items():
        if np.issubdtype(values.dtype, np.floating):
            assert np.isfinite(values).all(), name


class CountingGenerator:
    """A numpy Generator that counts the random numbers drawn (the work of the value interval's draws)."""

    def __init__(self, seed: int) -> None:
        self._generator = np.random.Generator(np.random.PCG64(seed))
        self.drawn = 0

    def __getattr__(self, name: str):
        method = getattr(self._generator, name)

        def counted(*args, **kwargs):
            values = method(*args, **kwargs)
            self.drawn += int(np.size(values))
            return values

        return counted


def summary_of_many_customers_few_histories(customers: int, seed: int = 5):
    """``customers`` customers sharing 30 (repeat days, age) histories, each with its own spend and last day."""
    from luxebrain.ml.customers.model import CustomerSummary

    rng = np.random.default_rng(seed)
    history = rng.integers(0, 30, customers)
    frequency = (history % 6).astype(float)
    big_t = 200.0 + 20.0 * (history // 6)
    recency = np.where(frequency > 0, np.floor(rng.uniform(0.2, 1.0, customers) * big_t), 0.0)
    monetary = np.where(frequency > 0, rng.uniform(20.0, 90.0, customers), 0.0)
    return CustomerSummary(
        customer_ids=np.array([f"c{i:06d}" for i in range(customers)], dtype=object),
        frequency=frequency,
        recency=recency,
        T=big_t,
        monetary=monetary,
        spend_frequency=frequency,
        orders=(frequency + 1).astype(np.int64),
        revenue=monetary * (frequency + 1),
        first_day=np.full(customers, 1000, dtype=np.int64) - big_t.astype(np.int64),
        last_day=np.full(customers, 1000, dtype=np.int64) - big_t.astype(np.int64) + recency.astype(np.int64),
        as_of_day=1000,
    )


def test_value_interval_draws_grow_with_distinct_histories_not_with_customers(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given 20,000 customers who share 30 (repeat days, age) histories but each have their own spend and
    # last purchase day (so their P(alive) and order values all differ)
    from luxebrain.ml.customers.model import PurchaseModel, SpendModel, predictive_value_quantiles
    from luxebrain.ml.customers.serving import GammaGammaParams

    summary = summary_of_many_customers_few_histories(20_000)
    purchase = PurchaseModel(BGNBDParams(r=0.8, alpha=40.0, a=1.2, b=4.0), dropout=True, name="bgnbd")
    spend = SpendModel(GammaGammaParams(p=6.0, q=4.0, gamma=15.0), 35.0, name="gamma_gamma")
    p_alive = bgnbd_probability_alive(purchase.params, summary.frequency, summary.recency, summary.T)
    generators: list[CountingGenerator] = []

    def counting_rng(seed: int) -> CountingGenerator:
        generators.append(CountingGenerator(seed))
        return generators[-1]

    monkeypatch.setattr(np.random, "default_rng", counting_rng)
    # When their 12-month value intervals are drawn
    _low, high = predictive_value_quantiles(summary, purchase, spend, 365.0, (0.1, 0.9), p_alive=p_alive, draws=200)
    # Then the draws are made once per distinct history (6 random arrays of 200 each), not once per customer:
    # scoring a million customers must not cost a million sets of draws
    drawn = sum(generator.drawn for generator in generators)
    assert 0 < drawn <= 30 * 200 * 6
    assert (high > 0).sum() > 10_000  # and most customers did get a real interval from them


def test_value_interval_of_shared_draws_matches_each_customers_own_simulation() -> None:
    # Given customers of one history who differ in spend and in P(alive)
    from luxebrain.ml.customers.model import PurchaseModel, SpendModel, predictive_value_quantiles
    from luxebrain.ml.customers.serving import GammaGammaParams

    summary = summary_of_many_customers_few_histories(2_000, seed=7)
    purchase = PurchaseModel(BGNBDParams(r=0.8, alpha=40.0, a=1.2, b=4.0), dropout=True, name="bgnbd")
    gg = GammaGammaParams(p=6.0, q=4.0, gamma=15.0)
    spend = SpendModel(gg, 35.0, name="gamma_gamma")
    p_alive = bgnbd_probability_alive(purchase.params, summary.frequency, summary.recency, summary.T)
    low, high = predictive_value_quantiles(summary, purchase, spend, 365.0, (0.1, 0.9), p_alive=p_alive, draws=4000)
    # When a few of them are simulated one by one, straight from the models (alive, rate, dropout, each order's
    # value from the customer's own Gamma-Gamma posterior), with many draws
    rng = np.random.default_rng(11)
    bg = purchase.params
    checked = 0
    for i in np.flatnonzero(high > 0)[:12]:
        x, big_t, m, alive_p = summary.frequency[i], summary.T[i], summary.monetary[i], p_alive[i]
        n = 200_000
        alive = rng.random(n) < alive_p
        count = rng.poisson(rng.gamma(bg.r + x, 1.0 / (bg.alpha + big_t), n) * 365.0)
        count = np.minimum(count, rng.geometric(np.clip(rng.beta(bg.a, bg.b + x, n), 1e-12, 1.0)))
        count = np.where(alive, count, 0)
        nu = rng.gamma(gg.q + gg.p * x, 1.0 / (gg.gamma + x * m), n)
        value = rng.gamma(count * gg.p, 1.0 / nu)
        reference_low, reference_high, reference_high_from_zero = np.quantile(value, (0.1, 0.9, 0.8))
        reference = reference_high if reference_low > 0 else reference_high_from_zero
        # Then the bounds agree within Monte Carlo error
        assert high[i] == pytest.approx(reference, rel=0.08, abs=1.0)
        assert low[i] == pytest.approx(reference_low, rel=0.15, abs=2.0)
        checked += 1
    assert checked == 12

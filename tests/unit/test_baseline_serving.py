"""A model no better than its kind's simplest baseline on its own hold-out serves that baseline, labelled: the
verdict of the table of kinds, the quality gate that judges both versions by what they serve, and each kind's
serving of its baseline."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import numpy as np
import pytest
from test_customers import AS_OF, simulate_bgnbd_store
from test_forecast import FAST, seasonal_panel
from test_recommend import NO_HOLDOUT, family_store

from luxebrain.ml.artifacts import SERVES_BASELINE, SERVES_MODEL, ModelArtifact
from luxebrain.ml.customers.model import CustomerParams
from luxebrain.ml.customers.serving import BGNBDParams, CustomerScores, rfm_churn_risk
from luxebrain.ml.customers.train import train_customer_model
from luxebrain.ml.forecast.train import forecast_weekly_panel
from luxebrain.ml.kinds import BASELINE, MODEL, MODEL_KINDS, TrainingInputs, baseline_verdict, metric_at
from luxebrain.ml.recommend.serving import RecommendationRules, Recommender
from luxebrain.ml.recommend.train import train_recommender
from luxebrain.training.gate import quality_gate
from luxebrain.training.registry import ModelKind

SCORE, BASE = metric_at("holdout.score"), metric_at("holdout.base")


def metrics(score: float | None, base: float | None) -> dict[str, Any]:
    holdout = {name: value for name, value in (("score", score), ("base", base)) if value is not None}
    return {"holdout": holdout}


# ------------------------------------------------------------------------------------------- the verdict
@pytest.mark.parametrize(
    ("score", "base", "higher_is_better", "serves"),
    [
        (0.30, 0.20, True, MODEL),
        (0.20, 0.30, True, BASELINE),
        (0.25, 0.25, True, BASELINE),  # a tie serves the simpler answer
        (0.40, 0.50, False, MODEL),  # WAPE: lower is better
        (0.60, 0.50, False, BASELINE),
        (0.30, None, True, MODEL),  # nothing to judge by
        (None, 0.30, True, MODEL),
    ],
)
def test_the_verdict_serves_the_baseline_when_the_model_is_no_better(
    score: float | None, base: float | None, higher_is_better: bool, serves: str
) -> None:
    verdict = baseline_verdict(SCORE, BASE, higher_is_better, metrics(score, base))
    assert verdict.serves == serves
    assert verdict.served_metric == (base if serves == BASELINE else score)


# ------------------------------------------------------------------------------------------- the gate
def toy_kind(higher_is_better: bool = True) -> ModelKind:
    return ModelKind(
        "toy",
        lambda inputs: None,  # type: ignore[arg-type, return-value]
        SCORE,
        "holdout.score",
        higher_is_better,
        baseline_metric=BASE,
    )


def toy(score: float | None, base: float | None) -> ModelArtifact:
    return ModelArtifact("toy", {"x": np.zeros(3)}, metrics=metrics(score, base))


def gate(new: ModelArtifact, current: ModelArtifact | None, *, higher_is_better: bool = True) -> Any:
    return quality_gate(
        toy_kind(higher_is_better), new, current, max_relative_regression=0.10, min_absolute_regression=0.005
    )


def test_a_first_version_below_its_baseline_is_promoted_to_serve_the_baseline_and_says_so() -> None:
    decision = gate(toy(0.20, 0.30), None)
    assert decision.accepted and decision.serves == BASELINE
    assert decision.new_metric == 0.30 and decision.model_metric == 0.20 and decision.baseline_metric == 0.30
    assert "no better than its baseline" in decision.reason and "the baseline serves" in decision.reason


def test_a_model_that_beats_its_baseline_serves_itself() -> None:
    decision = gate(toy(0.40, 0.30), None)
    assert decision.accepted and decision.serves == MODEL and decision.new_metric == 0.40
    assert "beats its baseline" in decision.reason


def test_both_versions_are_compared_by_what_they_serve() -> None:
    # Given a current version whose model (0.50) serves, a new one whose model fell below its baseline
    # (0.20 < 0.30) serves 0.30: far worse than 0.50, so it is refused and the current model keeps serving
    refused = gate(toy(0.20, 0.30), toy(0.50, 0.25))
    assert not refused.accepted and refused.new_metric == 0.30 and refused.current_metric == 0.50
    # Given a current version that serves its baseline (0.31), a new baseline-serving one at 0.30 is within bounds
    kept_level = gate(toy(0.10, 0.30), toy(0.20, 0.31))
    assert kept_level.accepted and kept_level.serves == BASELINE and kept_level.current_metric == 0.31
    # Lower is better (WAPE): a model at 0.9 against seasonal naive at 0.8 serves the baseline's 0.8
    wape = gate(toy(0.9, 0.8), toy(0.85, 0.95), higher_is_better=False)
    assert wape.accepted and wape.serves == BASELINE and wape.new_metric == 0.8


# ------------------------------------------------------------------------------------------- recommend
def with_serves(artifact: ModelArtifact, serves: str) -> ModelArtifact:
    artifact.extra["serves"] = serves
    return ModelArtifact.from_files(artifact.to_files())


def test_the_table_records_the_verdict_in_the_artifact_it_trains() -> None:
    artifact = MODEL_KINDS["recommend"].train(
        TrainingInputs("t-verdict", family_store(), products=None, as_of=datetime(2025, 4, 15, tzinfo=UTC))  # type: ignore[arg-type]
    )
    verdict = baseline_verdict(
        MODEL_KINDS["recommend"].metric, MODEL_KINDS["recommend"].baseline, True, artifact.metrics
    )
    assert artifact.extra["serves"] == verdict.serves
    assert ModelArtifact.from_files(artifact.to_files()).serves_baseline is (verdict.serves == BASELINE)


def test_a_recommender_serving_its_baseline_answers_popularity_labelled() -> None:
    store = family_store()
    trained = train_recommender(store, params=NO_HOLDOUT)
    model = Recommender.from_artifact(with_serves(trained, SERVES_MODEL))
    baseline = Recommender.from_artifact(with_serves(train_recommender(store, params=NO_HOLDOUT), SERVES_BASELINE))
    customer = "cust0"  # shops the garden family only
    assert model.for_customer(customer, 4).strategy in ("ease", "blend")  # a small store blends popularity
    answer = baseline.for_customer(customer, 8)
    assert answer.strategy == "popular_baseline" and answer.mode == "for_customer"
    # the same list for everyone: most distinct customers first, whatever the customer bought
    buyers = store.groupby("product_id")["customer_id"].nunique()
    assert answer.product_ids == baseline.for_customer("cust1", 8).product_ids
    assert [buyers[p] for p in answer.product_ids] == sorted(buyers[answer.product_ids], reverse=True)
    assert baseline.rank_ids(customer, 8) == answer.product_ids  # evaluation ranks as the API serves
    # the customer's own purchases can still be left out, and similar items still come from the model
    bought = set(store.loc[store["customer_id"] == customer, "product_id"])
    fresh = baseline.for_customer(customer, 8, RecommendationRules(exclude_purchased=True))
    assert fresh.product_ids and not set(fresh.product_ids) & bought
    assert baseline.similar(["G1"], 3).strategy == model.similar(["G1"], 3).strategy
    # an unknown customer still gets the popularity fallback
    assert baseline.for_customer("nobody", 3).strategy == "popular_fallback"


# ------------------------------------------------------------------------------------------- customers
def test_customer_scores_serving_their_baseline_take_churn_risk_from_the_rfm_sum() -> None:
    lines = simulate_bgnbd_store(BGNBDParams(r=0.8, alpha=40.0, a=1.2, b=4.0), customers=300, days=400, seed=3)
    trained = train_customer_model(lines, as_of=AS_OF, params=CustomerParams(evaluate_holdout=False))
    model = CustomerScores.from_artifact(with_serves(trained, SERVES_MODEL))
    baseline = CustomerScores.from_artifact(with_serves(trained, SERVES_BASELINE))
    some = model.at_risk(limit=1)[0]["customer_id"]
    assert model.customer(some)["churn_risk_basis"] == "model"
    assert baseline.customer(some)["churn_risk_basis"] == "rfm_heuristic"
    rows = baseline.at_risk(limit=20)
    assert rows and all(row["churn_risk_basis"] == "rfm_heuristic" for row in rows)
    for row in rows:
        rfm = row["rfm"]
        risk = float(rfm_churn_risk(*(np.array([rfm[key]]) for key in ("recency", "frequency", "monetary")))[0])
        assert row["revenue_at_stake"] == pytest.approx(row["revenue"] * risk, rel=1e-6)
        assert risk >= 0.4 and row["churn_risk_band"] in ("medium", "high")
    stakes = [row["revenue_at_stake"] for row in rows]
    assert stakes == sorted(stakes, reverse=True)
    # the best R + F + M (5 + 5 + 5) is no churn risk, the worst (1 + 1 + 1) is certain
    assert rfm_churn_risk(np.array([5, 1]), np.array([5, 1]), np.array([5, 1])).tolist() == [0.0, 1.0]


# ------------------------------------------------------------------------------------------- forecast
def test_a_forecast_no_better_than_seasonal_naive_is_seasonal_naive_for_every_judged_segment() -> None:
    history = seasonal_panel(n=30, years=3)
    judged: list[dict[str, Any]] = []

    def no_better(backtest: dict[str, Any]) -> bool:
        judged.append(backtest)
        return True

    model = forecast_weekly_panel(history, 6, params=FAST, serves_baseline=lambda _: False)
    baseline = forecast_weekly_panel(history, 6, params=FAST, serves_baseline=no_better)
    assert judged and set(judged[0]["backtest_by_segment"]) == set(baseline.selection["segments"])
    assert "serves" not in model.selection and baseline.selection["serves"] == "baseline"
    assert set(baseline.method) == {"seasonal_naive"}
    # the backtest still reports the model's own choice, so the gate's verdict reads the same figures
    assert baseline.selection["segments"] == model.selection["segments"]
    # seasonal naive repeats last year's same weeks (up to its calibrated shifts)
    assert np.corrcoef(baseline.p50.ravel(), history[:, -52:-46].ravel())[0, 1] > 0.99

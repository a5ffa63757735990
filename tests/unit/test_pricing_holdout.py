"""Pricing's time hold-out: the demand model (elasticities and velocities fitted before the last weeks) against
its simplest baseline (each product's recent demand, price ignored) on each product's last weeks of price and
units; a model no better serves the baseline, labelled: every price is kept."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pandas as pd
import pytest
from test_pricing import NOW, WEEKS, product_row, synthetic_store

from luxebrain.ml.artifacts import ModelArtifact
from luxebrain.ml.kinds import BASELINE, MODEL, MODEL_KINDS, TrainingInputs, kind_verdict
from luxebrain.ml.pricing.rules import GuardrailConfig
from luxebrain.ml.pricing.serving import (
    KEEP_PRICE_BASELINE,
    NoSuggestion,
    PriceSuggestion,
    PricingModel,
    suggest_prices,
)
from luxebrain.training.gate import quality_gate
from luxebrain.training.registry import registered_kinds

AS_OF = datetime(NOW.year, NOW.month, NOW.day, tzinfo=UTC) - pd.Timedelta(days=1)
PRICE_IGNORED = {"Bags": 0.0, "Shoes": 0.0, "Scarves": 0.0}
# Wider weekly price moves than the default store's: where demand ignores price, the model's price response (as
# decisions clip it, at most -0.3) then costs it more than the noise of the held-out weeks can hide (the model
# lost on 8 of 8 seeds; with the default store's moves on 7 of 8, an honest near-tie)
WIDE_MOVES = (0.6, 0.8, 1.0, 1.0, 1.0, 1.25)


def trained_as_the_worker_trains(lines: pd.DataFrame, products: pd.DataFrame) -> ModelArtifact:
    """The table's own train entry (the verdict recorded), stored and read back as the API would load it."""
    artifact = MODEL_KINDS["pricing"].train(TrainingInputs("t-pricing", lines, products, as_of=AS_OF))
    return ModelArtifact.from_files(artifact.to_files())


def answers_of(artifact: ModelArtifact, products: pd.DataFrame) -> list[PriceSuggestion | NoSuggestion]:
    rows = [product_row(products, pid) for pid in products["product_id"]]
    return suggest_prices(
        PricingModel.from_artifact(artifact), GuardrailConfig(), products=rows, now=NOW.replace(tzinfo=UTC)
    )


def gate(artifact: ModelArtifact, current: ModelArtifact | None = None) -> Any:
    return quality_gate(
        registered_kinds()["pricing"], artifact, current, max_relative_regression=0.10, min_absolute_regression=0.005
    )


@pytest.fixture(scope="module")
def price_matters() -> tuple[ModelArtifact, pd.DataFrame]:
    lines, products, _ = synthetic_store()
    return trained_as_the_worker_trains(lines, products), products


@pytest.fixture(scope="module")
def price_ignored() -> tuple[ModelArtifact, pd.DataFrame]:
    lines, products, _ = synthetic_store(category_elasticity=PRICE_IGNORED, price_factors=WIDE_MOVES)
    return trained_as_the_worker_trains(lines, products), products


def test_the_table_names_pricing_s_hold_out_figure_and_its_baseline() -> None:
    spec = MODEL_KINDS["pricing"]
    assert spec.metric is not None and spec.baseline is not None and spec.higher_is_better is False
    assert spec.metric_name == "holdout.model.log_rmse_units"
    assert spec.baseline_name == "holdout.no_price_effect.log_rmse_units"


def test_a_model_that_beats_its_baseline_where_price_matters_is_served(price_matters: Any) -> None:
    # Given a store whose products' weekly prices moved and whose demand follows price (elasticities -1.6 to -3)
    artifact, products = price_matters
    holdout = artifact.metrics["holdout"]
    # Then the last weeks were held out and the demand model predicted their units better than recent demand
    assert holdout["scored"] is True and holdout["weeks"] == 8
    assert holdout["products"] == 24 and holdout["product_weeks"] >= 8 * 20
    assert holdout["model"]["log_rmse_units"] < 0.8 * holdout["no_price_effect"]["log_rmse_units"]
    # And the model serves: recorded in the artifact, agreed by the gate, and the suggestions move prices
    assert artifact.extra["serves"] == MODEL and not artifact.serves_baseline
    assert kind_verdict("pricing", artifact.metrics).serves == MODEL
    decision = gate(artifact)
    assert decision.accepted and decision.serves == MODEL and "beats its baseline" in decision.reason
    assert decision.new_metric == holdout["model"]["log_rmse_units"]
    assert PricingModel.from_artifact(artifact).serves_baseline is False
    assert any(isinstance(answer, PriceSuggestion) for answer in answers_of(artifact, products))


def test_where_price_does_not_matter_the_baseline_keeps_every_price_labelled(price_ignored: Any) -> None:
    # Given the same store whose demand ignores price (elasticity 0) while its weekly prices move
    artifact, products = price_ignored
    holdout = artifact.metrics["holdout"]
    # Then the demand model (its elasticities as decisions use them, at most -0.3) is no better than recent demand
    assert holdout["scored"] is True
    assert holdout["model"]["log_rmse_units"] >= holdout["no_price_effect"]["log_rmse_units"]
    # And the baseline serves, labelled: no price is moved, every product with a history is told why
    assert artifact.extra["serves"] == BASELINE and artifact.serves_baseline
    decision = gate(artifact)
    assert decision.accepted and decision.serves == BASELINE
    assert decision.new_metric == holdout["no_price_effect"]["log_rmse_units"]
    assert "no better than its baseline" in decision.reason and "the baseline serves" in decision.reason
    answers = answers_of(artifact, products)
    assert answers and not any(isinstance(answer, PriceSuggestion) for answer in answers)
    assert {answer.code for answer in answers if isinstance(answer, NoSuggestion)} == {KEEP_PRICE_BASELINE}
    assert "keep" in answers[0].reason and "hold-out" in answers[0].reason


def test_a_baseline_version_cannot_replace_a_model_that_predicted_much_better(
    price_matters: Any, price_ignored: Any
) -> None:
    # Both versions are judged by what they serve: the baseline's figure against the serving model's
    decision = gate(price_ignored[0], current=price_matters[0])
    assert decision.current_metric == price_matters[0].metrics["holdout"]["model"]["log_rmse_units"]
    assert decision.new_metric == price_ignored[0].metrics["holdout"]["no_price_effect"]["log_rmse_units"]


def test_too_little_history_for_a_hold_out_says_so_and_serves_the_model() -> None:
    # Given a store with ten weeks of sales: too few to fit on the weeks before a hold-out of eight
    lines, products, _ = synthetic_store()
    recent = lines[pd.to_datetime(lines["ordered_at"], utc=True) >= NOW - pd.Timedelta(weeks=10)]
    artifact = trained_as_the_worker_trains(recent, products)
    holdout = artifact.metrics["holdout"]
    assert holdout["scored"] is False and "too little history" in holdout["reason"]
    assert MODEL_KINDS["pricing"].metric(artifact.metrics) is None  # type: ignore[misc]
    # Then the model serves as before (no figure to judge it by) and the gate only checks it loads
    assert artifact.extra["serves"] == MODEL
    decision = gate(artifact)
    assert decision.accepted and decision.serves == MODEL and decision.new_metric is None


def test_prices_that_never_moved_cannot_tell_the_model_from_keeping_them() -> None:
    # Given a store whose prices never moved: both predict the same recent demand, so the hold-out cannot judge
    lines, products, _ = synthetic_store()
    lines = lines.assign(unit_price=lines["product_id"].map(products.set_index("product_id")["price"]))
    artifact = trained_as_the_worker_trains(lines, products)
    holdout = artifact.metrics["holdout"]
    assert holdout["scored"] is False and "did not move" in holdout["reason"]
    assert artifact.extra["serves"] == MODEL  # today's behaviour: the category prior and switchback tests


@pytest.mark.parametrize("weekly_units", [0.1, 0.3])
def test_a_hold_out_too_weak_to_tell_them_apart_is_not_scored_whatever_its_sales(weekly_units: float) -> None:
    # Given the store whose demand follows price, but selling a unit every few weeks: the two predictions differ
    # less than the counts' own noise, so its last weeks could not say which is right
    lines, products, _ = synthetic_store(weekly_units=weekly_units)
    artifact = trained_as_the_worker_trains(lines, products)
    holdout = artifact.metrics["holdout"]
    assert holdout["scored"] is False and holdout["separation"] < 3.0
    assert "sampling deviations apart" in holdout["reason"]
    assert artifact.extra["serves"] == MODEL  # as without a hold-out: no coin toss decides what serves


def test_the_served_model_still_learns_from_every_week(price_matters: Any) -> None:
    # The hold-out is scored on a separate fit of the weeks before it; the served fit has them all
    artifact, _ = price_matters
    assert int(artifact.arrays["active_weeks"].max()) == WEEKS

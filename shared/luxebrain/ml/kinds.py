"""The one table of model kinds: what trains each kind, what serves it, how its hold-out is judged.

Training (``luxebrain.training.registry``), the API's model loader (``luxebrain.serving.loader``) and the
routers read this table; nobody else lists kinds. Importing it stays cheap (standard library only): each train
entry imports its ML module (pandas, scipy, scikit-learn) only when the kind trains, and serving classes are
named by import path (``"module:Class"``, numpy only) and imported by the loader on first use.

Per kind: ``metric`` reads the hold-out figure the quality gate compares between versions from the artifact's
manifest metrics (``higher_is_better`` gives its direction); ``baseline`` reads the same figure of the kind's
simplest baseline, scored on the same hold-out during training (None where the kind has no hold-out).
``baseline_verdict`` says which of the two a version serves: a model no better than its baseline on the
hold-out serves the baseline, labelled. Each train entry records the verdict in the artifact
(``extra["serves"]``, read by the serving classes; forecast training also needs it before its forecasts are
assembled) and the quality gate asks the same function of the same metrics.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

    from luxebrain.ml.artifacts import ModelArtifact


@dataclass(frozen=True)
class TrainingInputs:
    """What every kind trains from: the frames of ``luxebrain.ml.dataset``, read once per run and shared."""

    tenant_id: str
    order_lines: pd.DataFrame  # paid orders' lines (status_class "purchase"), see luxebrain.ml.dataset
    products: pd.DataFrame
    as_of: datetime  # the run's moment (UTC): models predict from here
    previous: ModelArtifact | None = None  # the kind's current artifact, when there is one
    price_history: pd.DataFrame | None = None  # product_id, changed_at, price (each recorded price change)
    stock_history: pd.DataFrame | None = None  # product_id, recorded_at, stock_quantity


TrainFunction = Callable[[TrainingInputs], "ModelArtifact"]
MetricExtractor = Callable[[Mapping[str, Any]], float | None]


# ----------------------------------------------------------------------------- reading manifest metrics
def finite_number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def metric_at(path: str) -> MetricExtractor:
    """An extractor reading a finite number at a dotted path of the metrics (None when absent)."""

    def extract(metrics: Mapping[str, Any]) -> float | None:
        value: Any = metrics
        for part in path.split("."):
            if not isinstance(value, Mapping) or part not in value:
                return None
            value = value[part]
        return finite_number(value)

    extract.__name__ = path
    return extract


def forecast_weighted_wape(metrics: Mapping[str, Any], *, method: str | None = None) -> float | None:
    """Backtest WAPE per demand segment, weighted by the segment's number of series: of the method each
    segment chose, or of ``method`` (segments without it are left out)."""
    segments = metrics.get("backtest_by_segment")
    if not isinstance(segments, Mapping):
        return None
    total = weight = 0.0
    for segment in segments.values():
        if not isinstance(segment, Mapping):
            continue
        wape = finite_number((segment.get("wape") or {}).get(method or segment.get("chosen")))
        series = finite_number(segment.get("series"))
        if wape is not None and series:
            total += wape * series
            weight += series
    return total / weight if weight > 0 else None


def _seasonal_naive_weighted_wape(metrics: Mapping[str, Any]) -> float | None:
    return forecast_weighted_wape(metrics, method="seasonal_naive")


forecast_weighted_wape.__name__ = "weighted_chosen_wape"
_seasonal_naive_weighted_wape.__name__ = "weighted_seasonal_naive_wape"


def customer_ranker_lift(metrics: Mapping[str, Any]) -> float | None:
    """ "Who buys again" top-decile lift of the version's ranker (the purchase model or the hybrid, whichever
    its hold-out chose); a version trained before the hybrid existed has only the purchase model's."""
    chosen = _customer_ranker_lift(metrics)
    return chosen if chosen is not None else _purchase_model_lift(metrics)


_customer_ranker_lift = metric_at("holdout.top_decile_lift_ranker")
_purchase_model_lift = metric_at("holdout.top_decile_lift")
customer_ranker_lift.__name__ = "holdout.top_decile_lift_ranker"


# ----------------------------------------------------------------------------- model or baseline
MODEL = "model"  # the values of luxebrain.ml.artifacts.SERVES_MODEL / SERVES_BASELINE (numpy-free here)
BASELINE = "baseline"


@dataclass(frozen=True)
class BaselineVerdict:
    """What a version serves (``MODEL`` or ``BASELINE``) and the two hold-out figures that decided it."""

    serves: str
    model_metric: float | None
    baseline_metric: float | None

    @property
    def serves_baseline(self) -> bool:
        return self.serves == BASELINE

    @property
    def served_metric(self) -> float | None:
        """The hold-out figure of what is served: the baseline's when the baseline serves."""
        return self.baseline_metric if self.serves_baseline else self.model_metric


def baseline_verdict(
    metric: MetricExtractor | None,
    baseline: MetricExtractor | None,
    higher_is_better: bool,
    metrics: Mapping[str, Any],
) -> BaselineVerdict:
    """``BASELINE`` when both figures exist and the model is not strictly better than its baseline (a tie
    serves the simpler answer); ``MODEL`` otherwise, including when there is no hold-out to judge by."""
    model_metric = metric(metrics) if metric is not None else None
    baseline_metric = baseline(metrics) if baseline is not None else None
    if model_metric is None or baseline_metric is None:
        return BaselineVerdict(MODEL, model_metric, baseline_metric)
    better = model_metric > baseline_metric if higher_is_better else model_metric < baseline_metric
    return BaselineVerdict(MODEL if better else BASELINE, model_metric, baseline_metric)


def kind_verdict(kind: str, metrics: Mapping[str, Any]) -> BaselineVerdict:
    """``baseline_verdict`` of a product kind of the table, from an artifact's manifest metrics."""
    spec = MODEL_KINDS[kind]
    return baseline_verdict(spec.metric, spec.baseline, spec.higher_is_better, metrics)


# ----------------------------------------------------------------------------- the train entries
def _with_verdict(artifact: ModelArtifact) -> ModelArtifact:
    """The artifact, with what it serves (its model or its baseline) recorded for the serving class."""
    artifact.extra["serves"] = kind_verdict(artifact.kind, artifact.metrics).serves
    return artifact


def _train_recommend(inputs: TrainingInputs) -> ModelArtifact:
    from luxebrain.ml.recommend.train import train_recommender

    return _with_verdict(train_recommender(inputs.order_lines, inputs.products, now=inputs.as_of))


def _forecast_serves_baseline(metrics: Mapping[str, Any]) -> bool:
    return kind_verdict("forecast", metrics).serves_baseline


def _train_forecast(inputs: TrainingInputs) -> ModelArtifact:
    from luxebrain.ml.forecast.train import train_forecaster

    return _with_verdict(
        train_forecaster(
            inputs.order_lines, inputs.products, as_of=inputs.as_of, serves_baseline=_forecast_serves_baseline
        )
    )


def _train_customers(inputs: TrainingInputs) -> ModelArtifact:
    from luxebrain.ml.customers.train import train_customer_model

    return _with_verdict(train_customer_model(inputs.order_lines, as_of=inputs.as_of, previous=inputs.previous))


def _train_pricing(inputs: TrainingInputs) -> ModelArtifact:
    from luxebrain.ml.pricing.train import train_pricing_model

    return _with_verdict(
        train_pricing_model(
            inputs.order_lines,
            inputs.products,
            as_of=inputs.as_of.date(),
            price_history=inputs.price_history,
            stock_history=inputs.stock_history,
        )
    )


# ----------------------------------------------------------------------------- the table
@dataclass(frozen=True)
class ModelKindSpec:
    kind: str
    train: TrainFunction
    serving_class: str  # "module:Class" with a ``from_artifact(artifact)`` constructor (numpy only)
    metric: MetricExtractor | None  # the hold-out figure the quality gate compares; None: no hold-out
    higher_is_better: bool
    baseline: MetricExtractor | None  # the same figure of the kind's simplest baseline

    @property
    def metric_name(self) -> str:
        return self.metric.__name__ if self.metric is not None else ""

    @property
    def baseline_name(self) -> str:
        return self.baseline.__name__ if self.baseline is not None else ""


MODEL_KINDS: Mapping[str, ModelKindSpec] = MappingProxyType(
    {
        spec.kind: spec
        for spec in (
            ModelKindSpec(
                "recommend",
                _train_recommend,
                "luxebrain.ml.recommend.serving:Recommender",
                metric=metric_at("holdout.all_items.model.ndcg@10"),
                higher_is_better=True,
                baseline=metric_at("holdout.all_items.popularity.ndcg@10"),
            ),
            ModelKindSpec(
                "forecast",
                _train_forecast,
                "luxebrain.ml.forecast.serving:Forecasts",
                metric=forecast_weighted_wape,
                higher_is_better=False,
                baseline=_seasonal_naive_weighted_wape,
            ),
            ModelKindSpec(
                "customers",
                _train_customers,
                "luxebrain.ml.customers.serving:CustomerScores",
                metric=customer_ranker_lift,
                higher_is_better=True,
                baseline=metric_at("holdout.top_decile_lift_rfm_heuristic"),
            ),
            ModelKindSpec(
                "pricing",
                _train_pricing,
                "luxebrain.ml.pricing.serving:PricingModel",
                # log-RMSE of weekly units on each product's last weeks; the baseline ignores price, and serves
                # as "keep the current price"
                metric=metric_at("holdout.model.log_rmse_units"),
                higher_is_better=False,
                baseline=metric_at("holdout.no_price_effect.log_rmse_units"),
            ),
        )
    }
)

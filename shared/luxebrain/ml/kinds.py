"""The one table of model kinds: what trains each kind, what serves it, how its hold-out is judged.

Training (``luxebrain.training.registry``), the API's model loader (``luxebrain.serving.loader``) and the
routers read this table; nobody else lists kinds. Importing it stays cheap (standard library only): each train
entry imports its ML module (pandas, scipy, scikit-learn) only when the kind trains, and serving classes are
named by import path (``"module:Class"``, numpy only) and imported by the loader on first use.

Per kind: ``metric`` reads the hold-out figure the quality gate compares between versions from the artifact's
manifest metrics (``higher_is_better`` gives its direction); ``baseline`` reads the same figure of the kind's
simplest baseline, scored on the same hold-out during training (None where the kind has no hold-out).
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


# ----------------------------------------------------------------------------- the train entries
def _train_recommend(inputs: TrainingInputs) -> ModelArtifact:
    from luxebrain.ml.recommend.train import train_recommender

    return train_recommender(inputs.order_lines, inputs.products, now=inputs.as_of)


def _train_forecast(inputs: TrainingInputs) -> ModelArtifact:
    from luxebrain.ml.forecast.train import train_forecaster

    return train_forecaster(inputs.order_lines, inputs.products, as_of=inputs.as_of)


def _train_customers(inputs: TrainingInputs) -> ModelArtifact:
    from luxebrain.ml.customers.train import train_customer_model

    return train_customer_model(inputs.order_lines, as_of=inputs.as_of, previous=inputs.previous)


def _train_pricing(inputs: TrainingInputs) -> ModelArtifact:
    from luxebrain.ml.pricing.train import train_pricing_model

    return train_pricing_model(inputs.order_lines, inputs.products, as_of=inputs.as_of.date())


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
                metric=metric_at("holdout.top_decile_lift"),
                higher_is_better=True,
                baseline=metric_at("holdout.top_decile_lift_rfm_heuristic"),
            ),
            ModelKindSpec(
                "pricing",
                _train_pricing,
                "luxebrain.ml.pricing.serving:PricingModel",
                metric=None,  # training scores no hold-out for pricing (yet): the gate only checks it loads
                higher_is_better=True,
                baseline=None,
            ),
        )
    }
)

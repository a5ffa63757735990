"""The model kinds a tenant is trained on: kind -> (train function, serving class, holdout metric).

Each kind's train function takes one :class:`TrainingInputs` (the frames of ``luxebrain.ml.dataset``, read once
per run and shared by every kind) and returns a ``ModelArtifact``. The ML modules are imported only when a kind
trains, so importing this module stays cheap (no pandas) and the API can import the training package.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from luxebrain.serving.loader import register_serving_kind

if TYPE_CHECKING:
    import pandas as pd

    from luxebrain.ml.artifacts import ModelArtifact


@dataclass(frozen=True)
class TrainingInputs:
    tenant_id: str
    order_lines: pd.DataFrame  # paid orders' lines (status_class "purchase"), see luxebrain.ml.dataset
    products: pd.DataFrame
    as_of: datetime  # the run's moment (UTC): models predict from here
    previous: ModelArtifact | None = None  # the kind's current artifact, when there is one


TrainFunction = Callable[[TrainingInputs], "ModelArtifact"]
MetricExtractor = Callable[[dict[str, Any]], float | None]


@dataclass(frozen=True)
class ModelKind:
    kind: str
    train: TrainFunction
    holdout_metric: MetricExtractor
    metric_name: str
    higher_is_better: bool
    serving_class: str | None = None


_KINDS: dict[str, ModelKind] = {}


def register_kind(
    kind: str,
    train: TrainFunction,
    *,
    serving_class: str | None = None,
    holdout_metric: MetricExtractor | str | None = None,
    higher_is_better: bool = True,
) -> ModelKind:
    """Add (or replace) a model kind. ``holdout_metric`` is a dotted path into the manifest's metrics or a
    function of them; it feeds the quality gate. ``serving_class`` is ``"module:Class"`` (numpy only)."""
    if isinstance(holdout_metric, str):
        metric_name, extractor = holdout_metric, metric_at(holdout_metric)
    elif holdout_metric is None:
        metric_name, extractor = "", _no_metric
    else:
        metric_name, extractor = getattr(holdout_metric, "__name__", "custom"), holdout_metric
    spec = ModelKind(kind, train, extractor, metric_name, higher_is_better, serving_class)
    _KINDS[kind] = spec
    if serving_class:
        register_serving_kind(kind, serving_class)
    return spec


def unregister_kind(kind: str) -> None:
    _KINDS.pop(kind, None)


def registered_kinds() -> dict[str, ModelKind]:
    return dict(_KINDS)


def _no_metric(_: dict[str, Any]) -> float | None:
    return None


def metric_at(path: str) -> MetricExtractor:
    """An extractor reading a finite number at a dotted path of the metrics (None when absent)."""

    def extract(metrics: dict[str, Any]) -> float | None:
        value: Any = metrics
        for part in path.split("."):
            if not isinstance(value, dict) or part not in value:
                return None
            value = value[part]
        return _finite(value)

    extract.__name__ = path
    return extract


def _finite(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


# ----------------------------------------------------------------------------- the four product kinds
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


def forecast_weighted_wape(metrics: dict[str, Any]) -> float | None:
    """Backtest WAPE of the chosen method per demand segment, weighted by the segment's number of series."""
    segments = metrics.get("backtest_by_segment")
    if not isinstance(segments, dict):
        return None
    total = weight = 0.0
    for segment in segments.values():
        if not isinstance(segment, dict):
            continue
        wape = _finite((segment.get("wape") or {}).get(segment.get("chosen")))
        series = _finite(segment.get("series"))
        if wape is not None and series:
            total += wape * series
            weight += series
    return total / weight if weight > 0 else None


forecast_weighted_wape.__name__ = "weighted_chosen_wape"


def register_default_kinds() -> None:
    register_kind(
        "recommend",
        _train_recommend,
        serving_class="luxebrain.ml.recommend.serving:Recommender",
        holdout_metric="holdout.all_items.model.ndcg@10",
    )
    register_kind("forecast", _train_forecast, holdout_metric=forecast_weighted_wape, higher_is_better=False)
    register_kind(
        "customers",
        _train_customers,
        serving_class="luxebrain.ml.customers.serving:CustomerScores",
        holdout_metric="holdout.top_decile_lift",
    )
    register_kind("pricing", _train_pricing, serving_class="luxebrain.ml.pricing.train:PricingModel")


register_default_kinds()

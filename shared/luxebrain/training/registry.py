"""The model kinds a tenant is trained on: kind -> (train function, serving class, holdout metric).

The product kinds come from the one table of kinds (``luxebrain.ml.kinds.MODEL_KINDS``); ``register_kind``
adds others (tests, experiments). Each kind's train function takes one :class:`TrainingInputs` and returns a
``ModelArtifact``. The ML modules are imported only when a kind trains, so importing this module stays cheap (no
pandas) and the API can import the training package.
"""

from __future__ import annotations

from dataclasses import dataclass

from luxebrain.ml.kinds import MODEL_KINDS, MetricExtractor, TrainFunction, metric_at
from luxebrain.serving.loader import register_serving_kind


@dataclass(frozen=True)
class ModelKind:
    kind: str
    train: TrainFunction
    holdout_metric: MetricExtractor
    metric_name: str
    higher_is_better: bool
    serving_class: str | None = None
    baseline_metric: MetricExtractor | None = None  # the kind's simplest baseline on the same hold-out


_KINDS: dict[str, ModelKind] = {}


def register_kind(
    kind: str,
    train: TrainFunction,
    *,
    serving_class: str | None = None,
    holdout_metric: MetricExtractor | str | None = None,
    higher_is_better: bool = True,
    baseline_metric: MetricExtractor | None = None,
) -> ModelKind:
    """Add (or replace) a model kind. ``holdout_metric`` is a dotted path into the manifest's metrics or a
    function of them; it feeds the quality gate. ``serving_class`` is ``"module:Class"`` (numpy only)."""
    if isinstance(holdout_metric, str):
        metric_name, extractor = holdout_metric, metric_at(holdout_metric)
    elif holdout_metric is None:
        metric_name, extractor = "", _no_metric
    else:
        metric_name, extractor = getattr(holdout_metric, "__name__", "custom"), holdout_metric
    spec = ModelKind(kind, train, extractor, metric_name, higher_is_better, serving_class, baseline_metric)
    _KINDS[kind] = spec
    if serving_class:
        register_serving_kind(kind, serving_class)
    return spec


def unregister_kind(kind: str) -> None:
    _KINDS.pop(kind, None)


def registered_kinds() -> dict[str, ModelKind]:
    return dict(_KINDS)


def _no_metric(_: object) -> float | None:
    return None


def register_default_kinds() -> None:
    """The product kinds, as the table of kinds lists them."""
    for spec in MODEL_KINDS.values():
        register_kind(
            spec.kind,
            spec.train,
            serving_class=spec.serving_class,
            holdout_metric=spec.metric,
            higher_is_better=spec.higher_is_better,
            baseline_metric=spec.baseline,
        )


register_default_kinds()

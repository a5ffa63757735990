"""The quality gate: a new version becomes current only if it loads, passes its checks and is not materially
worse than the current version on its holdout metric (thresholds in settings)."""

from __future__ import annotations

from dataclasses import dataclass

from luxebrain.ml.artifacts import ModelArtifact
from luxebrain.serving.loader import build_serving_model
from luxebrain.training.registry import ModelKind


@dataclass(frozen=True)
class GateDecision:
    accepted: bool
    reason: str
    metric_name: str
    new_metric: float | None
    current_metric: float | None


def quality_gate(
    spec: ModelKind,
    candidate: ModelArtifact,
    current: ModelArtifact | None,
    *,
    max_relative_regression: float,
    min_absolute_regression: float,
) -> GateDecision:
    """Decide on ``candidate`` (already re-loaded from storage with its checksums verified)."""
    new_metric = spec.holdout_metric(candidate.metrics)
    current_metric = spec.holdout_metric(current.metrics) if current is not None else None

    def decision(accepted: bool, reason: str) -> GateDecision:
        return GateDecision(accepted, reason, spec.metric_name, new_metric, current_metric)

    if candidate.kind != spec.kind:
        return decision(False, f"artifact kind is {candidate.kind!r}, expected {spec.kind!r}")
    try:
        build_serving_model(candidate)  # the serving class's own checks (shapes, ids, required arrays)
    except Exception as exc:  # any failure to build means the API could not serve it
        return decision(False, f"the serving model cannot be built from it: {type(exc).__name__}: {exc}")
    if current_metric is None:
        return decision(True, "no current version with a holdout metric to compare against")
    if new_metric is None:
        return decision(
            False, f"the current version has a holdout {spec.metric_name} but the new one has none to compare"
        )
    worse_by = (current_metric - new_metric) if spec.higher_is_better else (new_metric - current_metric)
    allowed = max(max_relative_regression * abs(current_metric), min_absolute_regression)
    if worse_by > allowed:
        return decision(
            False,
            f"holdout {spec.metric_name} {new_metric:.4g} is worse than the current {current_metric:.4g} "
            f"by {worse_by:.4g} (allowed {allowed:.4g})",
        )
    return decision(True, f"holdout {spec.metric_name} {new_metric:.4g} vs current {current_metric:.4g}")

"""The quality gate: a new version becomes current only if it loads, passes its checks and is not materially
worse than the current version on its holdout metric (thresholds in settings).

Both versions are judged by what they serve: a model no better than the kind's simplest baseline on its own
hold-out serves that baseline, labelled (``luxebrain.ml.kinds.baseline_verdict``), so its figure is the
baseline's. A version that serves its baseline is still promoted when it is not worse than the current one:
its baseline is fitted on the newest data.
"""

from __future__ import annotations

from dataclasses import dataclass

from luxebrain.ml.artifacts import ModelArtifact
from luxebrain.ml.kinds import MODEL, BaselineVerdict, baseline_verdict
from luxebrain.serving.loader import build_serving_model
from luxebrain.training.registry import ModelKind


@dataclass(frozen=True)
class GateDecision:
    accepted: bool
    reason: str
    metric_name: str
    new_metric: float | None  # the figure of what the new version serves (its baseline's when it serves it)
    current_metric: float | None  # the same of the current version
    serves: str = MODEL  # what the new version serves: "model" or "baseline"
    model_metric: float | None = None  # the new version's model figure and its baseline's, on its hold-out
    baseline_metric: float | None = None


def verdict_of(spec: ModelKind, artifact: ModelArtifact) -> BaselineVerdict:
    return baseline_verdict(spec.holdout_metric, spec.baseline_metric, spec.higher_is_better, artifact.metrics)


def quality_gate(
    spec: ModelKind,
    candidate: ModelArtifact,
    current: ModelArtifact | None,
    *,
    max_relative_regression: float,
    min_absolute_regression: float,
) -> GateDecision:
    """Decide on ``candidate`` (already re-loaded from storage with its checksums verified)."""
    verdict = verdict_of(spec, candidate)
    new_metric = verdict.served_metric
    current_metric = verdict_of(spec, current).served_metric if current is not None else None
    against_baseline = ""
    if verdict.model_metric is not None and verdict.baseline_metric is not None:
        relation = "is no better than" if verdict.serves_baseline else "beats"
        against_baseline = (
            f"; the model's {verdict.model_metric:.4g} {relation} its baseline's {verdict.baseline_metric:.4g}"
            f" ({spec.baseline_metric.__name__ if spec.baseline_metric else 'baseline'})"
            + (": the baseline serves, labelled" if verdict.serves_baseline else "")
        )

    def decision(accepted: bool, reason: str) -> GateDecision:
        return GateDecision(
            accepted,
            reason + against_baseline,
            spec.metric_name,
            new_metric,
            current_metric,
            serves=verdict.serves,
            model_metric=verdict.model_metric,
            baseline_metric=verdict.baseline_metric,
        )

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

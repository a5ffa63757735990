"""Train every model kind of one tenant: lease, one read of its data, per kind train → S3 → gate → pointer.

Each kind succeeds or fails on its own: a failing kind is recorded with its reason and keeps its previous
version; the others go on. Nothing becomes current before it has been written, read back with its checksums
verified, built into its serving class and compared with the current version's holdout metric.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.metrics import MetricUnit

from luxebrain.adapters import ObjectStore
from luxebrain.ml.artifacts import MANIFEST_NAME, ModelArtifact
from luxebrain.ml.kinds import BASELINE, TrainingInputs
from luxebrain.observability import logger, metrics
from luxebrain.runtime import configured_settings
from luxebrain.serving.loader import ARTIFACT_FILE_NAMES, artifact_prefix, read_artifact
from luxebrain.storage import training as training_store
from luxebrain.storage.training import TrainingRepository
from luxebrain.training.gate import quality_gate
from luxebrain.training.registry import ModelKind, registered_kinds

if TYPE_CHECKING:  # the snapshot module (numpy) is imported when a run reads its data
    from luxebrain.training.snapshot import TrainingData
    from luxebrain.training.sources import TrainingSources

Progress = Callable[[str], None]
MAX_STORED_METRICS_BYTES = 16_000  # a run record stays far below DynamoDB's 400 KB item limit


@dataclass
class KindResult:
    kind: str
    version: str
    status: str  # succeeded | rejected | failed
    duration_seconds: float
    rows_used: int
    metric_name: str = ""
    metric_value: float | None = None
    current_metric_value: float | None = None
    reason: str | None = None
    artifact_prefix: str | None = None
    serving_version: str | None = None  # the version serving after this run (new or kept)
    serves: str | None = None  # what the new version serves: "model", or "baseline" when no better than it
    # The new version's model and its kind's simplest baseline on the same hold-out (metric_value is the
    # figure of what it serves).
    model_metric_value: float | None = None
    baseline_metric_value: float | None = None


@dataclass
class TrainingReport:
    tenant_id: str
    run_id: str
    status: str  # succeeded | partial | failed | skipped
    started_at: datetime
    finished_at: datetime
    kinds: list[KindResult] = field(default_factory=list)
    read: dict[str, Any] = field(default_factory=dict)
    reason: str | None = None

    @property
    def duration_seconds(self) -> float:
        return round((self.finished_at - self.started_at).total_seconds(), 3)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["started_at"] = self.started_at.isoformat()
        data["finished_at"] = self.finished_at.isoformat()
        data["duration_seconds"] = self.duration_seconds
        return data

    def summary(self) -> str:
        """A printable table: per kind the version serving now, status, duration, rows and holdout metric."""
        lines = [
            f"Training of tenant {self.tenant_id} (run {self.run_id}): {self.status} in {self.duration_seconds:.1f} s"
            + (f" — {self.reason}" if self.reason else "")
        ]
        if self.read:
            lines.append(
                f"  data: {self.read.get('source', '?')} read, {self.read.get('rows', 0):,} order lines, "
                f"{self.read.get('products', 0):,} products in {self.read.get('seconds', 0):.1f} s"
            )
        if self.kinds:
            header = f"  {'kind':<10} {'status':<10} {'version':<26} {'seconds':>8} {'rows':>9}  holdout metric"
            lines.append(header)
            for result in self.kinds:
                metric = ""
                if result.metric_name:
                    new = "–" if result.metric_value is None else f"{result.metric_value:.4g}"
                    metric = f"{result.metric_name} = {new}"
                    if result.current_metric_value is not None:
                        metric += f" (previous {result.current_metric_value:.4g})"
                    if result.model_metric_value is not None and result.baseline_metric_value is not None:
                        metric += (
                            f"; model {result.model_metric_value:.4g}, baseline {result.baseline_metric_value:.4g}"
                        )
                        if result.serves == BASELINE:
                            metric += ": serves its baseline"
                lines.append(
                    f"  {result.kind:<10} {result.status:<10} {result.version:<26} "
                    f"{result.duration_seconds:>8.1f} {result.rows_used:>9,}  {metric}"
                )
                if result.reason and result.status != training_store.SUCCEEDED:
                    lines.append(f"  {'':<10} ↳ {result.reason}")
        return "\n".join(lines)


def _quiet(_: str) -> None:
    return None


def train_tenant(
    tenant_id: str,
    *,
    files: ObjectStore,
    training: TrainingRepository,
    sources: TrainingSources,
    progress: Progress | None = None,
    now: datetime | None = None,
    kinds: Iterable[str] | None = None,
    only_if_changed: bool = False,
    run_id: str | None = None,
) -> TrainingReport:
    """Train every registered kind (or ``kinds``) for ``tenant_id`` under the tenant's lease, reading its
    snapshot from and writing its artifacts to ``files`` (the models bucket) and its orders, catalogue and
    price decisions from ``sources``; the lease, pointers and run records go through ``training``.

    Raises LeaseBusyError if another run holds the lease. With ``only_if_changed`` (scheduled messages), a
    tenant whose data has not changed since its last completed run is skipped: duplicate messages are harmless.
    """
    say = progress or _quiet
    settings = configured_settings()
    started_at = (now or datetime.now(UTC)).astimezone(UTC)
    run_id = run_id or training_store.new_run_id()
    specs = registered_kinds()
    selected = list(kinds) if kinds is not None else list(specs)
    unknown = [kind for kind in selected if kind not in specs]
    if unknown:
        from luxebrain.errors import InvalidInputError

        raise InvalidInputError(f"unknown model kind(s): {', '.join(unknown)}; known: {', '.join(specs)}")

    if only_if_changed and _up_to_date(training, tenant_id):
        say(f"Tenant {tenant_id}: no data change since the last training; skipped")
        return TrainingReport(tenant_id, run_id, "skipped", started_at, started_at, reason="data unchanged")

    dead_run = training.acquire_lease(tenant_id, run_id, started_at, settings.training_lease_seconds)
    if dead_run:
        abandoned = training.abandon_runs(tenant_id, dead_run, started_at, registered_kinds())
        logger.warning("took over an expired training lease", extra={"dead_run": dead_run, "abandoned": abandoned})
    metrics.add_metric(name="TrainingRuns", unit=MetricUnit.Count, value=1)
    report = TrainingReport(tenant_id, run_id, "failed", started_at, started_at)
    try:
        say(f"Reading the training data of tenant {tenant_id} ...")
        from luxebrain.training.snapshot import load_training_data

        data = load_training_data(tenant_id, files=files, training=training, sources=sources, now=started_at)
        report.read = {
            **data.stats.as_dict(),
            "rows": len(data.order_lines),
            "products": len(data.products),
        }
        say(
            f"  {len(data.order_lines):,} order lines, {len(data.products):,} products "
            f"({data.stats.source}, {data.stats.seconds:.1f} s)"
        )
        metrics.add_metric(name="TrainingRowsRead", unit=MetricUnit.Count, value=len(data.order_lines))
        if data.order_lines.empty:
            # Nothing to learn from yet: no empty models are published; the store is trained after its
            # first paid order arrives.
            selected, report.reason = [], "no paid orders yet"
        for position, kind in enumerate(selected, start=1):
            say(f"[{position}/{len(selected)}] {kind}: training ...")
            result = _train_kind(specs[kind], files, training, tenant_id, run_id, started_at, data)
            report.kinds.append(result)
            say(f"[{position}/{len(selected)}] {kind}: {result.status} in {result.duration_seconds:.1f} s")
        report.status = _overall_status([result.status for result in report.kinds]) if report.kinds else "skipped"
    except Exception as exc:
        # A failure outside any one kind (the data read): release the lease and let the message be retried.
        report.reason = f"{type(exc).__name__}: {exc}"
        report.finished_at = datetime.now(UTC)
        training.release_lease(tenant_id, run_id, report.finished_at, status="failed", started_at=started_at)
        raise
    # Not in a ``finally``: a crash (BaseException, the Lambda timeout) leaves the lease to expire, so the
    # retried message finds it and marks the dead run's records abandoned.
    report.finished_at = datetime.now(UTC)
    training.release_lease(tenant_id, run_id, report.finished_at, status=report.status, started_at=started_at)
    logger.info("training finished", extra={"tenant": tenant_id, "run_id": run_id, "status": report.status})
    return report


def _overall_status(statuses: list[str]) -> str:
    unique = set(statuses)
    if training_store.RUNNING in unique:
        return training_store.RUNNING
    if unique <= {training_store.SUCCEEDED}:
        return training_store.SUCCEEDED
    return "failed" if unique <= {training_store.FAILED, training_store.ABANDONED} else "partial"


def list_run_records(
    tenant_id: str, *, training: TrainingRepository, kind: str | None = None, limit: int = 50
) -> list[training_store.RunRecord]:
    """A tenant's runs in ``training``, newest first: one kind's, or every registered kind's."""
    kinds = [kind] if kind is not None else list(registered_kinds())
    return training.list_run_records(tenant_id, kinds, limit=limit)


def _up_to_date(training: TrainingRepository, tenant_id: str) -> bool:
    current = training.get_training_state(tenant_id)
    if current is None or current.last_trained_at is None or current.data_changed_at is None:
        return False
    return current.data_changed_at <= current.last_trained_at


def _train_kind(
    spec: ModelKind,
    files: ObjectStore,
    training: TrainingRepository,
    tenant_id: str,
    run_id: str,
    run_started_at: datetime,
    data: TrainingData,
) -> KindResult:
    settings = configured_settings()
    version = training_store.new_version(run_started_at, run_id)
    rows = len(data.order_lines)
    kind_started = datetime.now(UTC)
    clock = time.perf_counter()
    pointer = training.get_pointer(tenant_id, spec.kind)
    current: ModelArtifact | None = None
    if pointer is not None:
        try:
            current, _ = read_artifact(files, pointer.artifact_prefix)
        except Exception as exc:  # a broken current version must not block its replacement
            logger.warning("current artifact unreadable", extra={"kind": spec.kind, "error": str(exc)})
    record = training.start_run_record(tenant_id, spec.kind, run_id, version, kind_started, rows)
    result = KindResult(
        spec.kind,
        version,
        training_store.FAILED,
        0.0,
        rows,
        metric_name=spec.metric_name,
        serving_version=pointer.version if pointer else None,
    )
    stored_metrics: dict[str, Any] = {}
    try:
        inputs = TrainingInputs(
            tenant_id,
            data.order_lines,
            data.products,
            as_of=run_started_at,
            previous=current,
            price_history=data.price_history,
            stock_history=data.stock_history,
        )
        artifact = spec.train(inputs)
        prefix = artifact_prefix(tenant_id, spec.kind, version)
        _write_artifact(files, prefix, artifact.to_files())
        result.artifact_prefix = prefix
        loaded, _ = read_artifact(files, prefix)  # what the API will load: checksums verified
        stored_metrics = _storable_metrics(loaded.metrics)
        decision = quality_gate(
            spec,
            loaded,
            current,
            max_relative_regression=settings.training_max_relative_regression,
            min_absolute_regression=settings.training_min_absolute_regression,
        )
        result.metric_value, result.current_metric_value = decision.new_metric, decision.current_metric
        result.serves = decision.serves
        result.model_metric_value, result.baseline_metric_value = decision.model_metric, decision.baseline_metric
        result.reason = decision.reason
        if decision.accepted:
            training.switch_pointer(
                tenant_id,
                spec.kind,
                expected_version=pointer.version if pointer else None,
                version=version,
                artifact_prefix=prefix,
                run_id=run_id,
                holdout_metric=decision.new_metric,
                now=datetime.now(UTC),
            )
            result.status, result.serving_version = training_store.SUCCEEDED, version
        else:
            result.status = training_store.REJECTED
    except Exception as exc:  # one kind's failure is recorded; the other kinds still train
        result.status = training_store.FAILED
        result.reason = f"{type(exc).__name__}: {exc}"
        logger.exception("model kind failed", extra={"kind": spec.kind, "tenant": tenant_id})
    if result.artifact_prefix:
        try:
            _prune_versions(files, tenant_id, spec.kind, keep={version, result.serving_version or version})
        except Exception:  # housekeeping only: never turns a trained model into a failure
            logger.warning("pruning old model versions failed", extra={"kind": spec.kind}, exc_info=True)
    result.duration_seconds = round(time.perf_counter() - clock, 3)
    if result.metric_value is not None:
        stored_metrics["gate_metric"] = {
            "name": spec.metric_name,
            "value": result.metric_value,
            "current": result.current_metric_value,
            "serves": result.serves,
            "model": result.model_metric_value,
            "baseline": result.baseline_metric_value,
        }
    training.finish_run_record(
        record,
        status=result.status,
        finished_at=datetime.now(UTC),
        metrics=stored_metrics,
        reason=result.reason,
        artifact_prefix=result.artifact_prefix,
    )
    _emit_metrics(result)
    return result


def _write_artifact(files: ObjectStore, prefix: str, contents: dict[str, bytes]) -> None:
    """Every file, the manifest last: a version without its manifest never loads."""
    for name in sorted(contents, key=lambda name: name == MANIFEST_NAME):
        content_type = "application/json" if name.endswith(".json") else "application/octet-stream"
        files.put(prefix + name, contents[name], content_type=content_type)


KEEP_VERSIONS = 5  # per kind: the newest versions stay in S3 for rollback and inspection


def _prune_versions(files: ObjectStore, tenant_id: str, kind: str, *, keep: set[str]) -> int:
    """Delete all but the newest KEEP_VERSIONS versions of a kind (never one in ``keep``, e.g. the current)."""
    parent = artifact_prefix(tenant_id, kind, "x")[: -len("x/")]
    versions = files.folders(parent)  # sorted: version ids start with their UTC time
    doomed = [v for v in versions[: max(len(versions) - KEEP_VERSIONS, 0)] if v not in keep]
    files.delete_many([f"{parent}{version}/{name}" for version in doomed for name in ARTIFACT_FILE_NAMES])
    return len(doomed)


def _storable_metrics(manifest_metrics: dict[str, Any]) -> dict[str, Any]:
    """The manifest's metrics when small; otherwise its finite scalar leaves by dotted path (first 150)."""
    text = json.dumps(manifest_metrics, allow_nan=False, default=str)
    if len(text) <= MAX_STORED_METRICS_BYTES:
        return json.loads(text)
    flat: dict[str, Any] = {}

    def walk(value: Any, path: str) -> None:
        if len(flat) >= 150:
            return
        if isinstance(value, dict):
            for key, child in value.items():
                walk(child, f"{path}.{key}" if path else str(key))
        elif isinstance(value, bool) or value is None or isinstance(value, str):
            return
        elif isinstance(value, int | float) and math.isfinite(value):
            flat[path] = value

    walk(manifest_metrics, "")
    return {"flattened": flat}


def _emit_metrics(result: KindResult) -> None:
    name = {training_store.SUCCEEDED: "ModelsPromoted", training_store.REJECTED: "ModelsRejected"}.get(
        result.status, "ModelsFailed"
    )
    metrics.add_metric(name=name, unit=MetricUnit.Count, value=1)
    metrics.add_metric(name="ModelTrainingSeconds", unit=MetricUnit.Seconds, value=result.duration_seconds)


def report_from_records(
    tenant_id: str, run_id: str, *, training: TrainingRepository, started_at: datetime | None = None
) -> TrainingReport | None:
    """Rebuild a run's report from its run records in ``training`` (for runs executed by the worker function);
    ``started_at`` (the run's start, from the training state) includes the data read in its duration."""
    records = [
        record for record in list_run_records(tenant_id, training=training, limit=500) if record.run_id == run_id
    ]
    if not records:
        return None
    records.sort(key=lambda record: record.started_at)
    results = []
    for record in records:
        gate = record.metrics.get("gate_metric", {}) if isinstance(record.metrics, dict) else {}
        results.append(
            KindResult(
                record.kind,
                record.version,
                record.status,
                float(record.duration_seconds or 0.0),
                record.rows_used,
                metric_name=str(gate.get("name", "")),
                metric_value=gate.get("value"),
                current_metric_value=gate.get("current"),
                serves=gate.get("serves"),
                model_metric_value=gate.get("model"),
                baseline_metric_value=gate.get("baseline"),
                reason=record.reason,
                artifact_prefix=record.artifact_prefix,
            )
        )
    status = _overall_status([result.status for result in results])
    finished = max((record.finished_at or record.started_at) for record in records)
    return TrainingReport(tenant_id, run_id, status, started_at or records[0].started_at, finished, kinds=results)

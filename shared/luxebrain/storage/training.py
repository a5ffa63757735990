"""The training repository: the per-tenant lease, change tracking, current-version pointers and run records.

Every write that decides something is conditional: the lease is taken only when free or expired, a pointer is
switched only from the version the run read, a run record is finished only while it is still ``running``.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from pynamodb.exceptions import DoesNotExist, UpdateError

from luxebrain.errors import ConflictError
from luxebrain.storage.items.base import is_condition_failure, save_if, update_if
from luxebrain.storage.items.training import (
    ModelPointerItem,
    ModelRunItem,
    TrainingStateItem,
    key_model_pointer,
    key_model_run,
    key_training_state,
)
from luxebrain.tenancy import tenant_partition

RUNNING, SUCCEEDED, REJECTED, FAILED, ABANDONED = "running", "succeeded", "rejected", "failed", "abandoned"
RUN_RECORD_RETENTION_SECONDS = 400 * 86400  # the table's TTL removes run records after about 13 months


class LeaseBusyError(ConflictError):
    """Another training run holds this tenant's lease; the message is retried later."""


def new_run_id() -> str:
    return secrets.token_hex(8)


def new_version(now: datetime, run_id: str) -> str:
    """Sortable by time, unique per run: ``20261126T231500Z-<run id prefix>``."""
    return f"{now.astimezone(UTC):%Y%m%dT%H%M%SZ}-{run_id[:8]}"


# ----------------------------------------------------------------------------- state and lease
@dataclass(frozen=True)
class TrainingState:
    """Per tenant: when its data last changed, when it was last trained, and the training lease (epoch
    seconds; a crashed run's lease simply expires)."""

    tenant_id: str
    data_changed_at: datetime | None = None
    last_trained_at: datetime | None = None  # start of the last run that completed
    last_run_id: str | None = None
    last_run_status: str | None = None
    lease_owner: str | None = None
    lease_expires_at: float | None = None
    last_requested_at: datetime | None = None  # last on-demand retrain (rate limit)


def _training_state(item: TrainingStateItem) -> TrainingState:
    return TrainingState(
        tenant_id=item.tenant_id,
        data_changed_at=item.data_changed_at,
        last_trained_at=item.last_trained_at,
        last_run_id=item.last_run_id,
        last_run_status=item.last_run_status,
        lease_owner=item.lease_owner,
        lease_expires_at=item.lease_expires_at,
        last_requested_at=item.last_requested_at,
    )


def get_training_state(tenant_id: str) -> TrainingState | None:
    try:
        return _training_state(TrainingStateItem.get(*key_training_state(tenant_id), consistent_read=True))
    except DoesNotExist:
        return None


def _state_stub(tenant_id: str) -> TrainingStateItem:
    pk, sk = key_training_state(tenant_id)
    return TrainingStateItem(pk, sk, entity=TrainingStateItem.ENTITY, tenant_id=tenant_id)


def _identity_actions(tenant_id: str, now: datetime) -> list[Any]:
    # UpdateItem creates the item when absent: give it the attributes every item has.
    return [
        TrainingStateItem.entity.set(TrainingStateItem.ENTITY),
        TrainingStateItem.tenant_id.set(tenant_id),
        TrainingStateItem.updated_at.set(now),
    ]


def acquire_lease(tenant_id: str, run_id: str, now: datetime, lease_seconds: int) -> str | None:
    """Take the tenant's training lease for ``run_id``; returns the run id of an expired lease it replaced
    (a crashed or timed-out run), or None. Raises LeaseBusyError while another run holds it."""
    previous = get_training_state(tenant_id)
    stub = _state_stub(tenant_id)
    epoch = now.timestamp()
    condition = (
        TrainingStateItem.lease_expires_at.does_not_exist()
        | (TrainingStateItem.lease_expires_at <= epoch)
        | (TrainingStateItem.lease_owner == run_id)
    )
    try:
        stub.update(
            actions=[
                *_identity_actions(tenant_id, now),
                TrainingStateItem.lease_owner.set(run_id),
                TrainingStateItem.lease_expires_at.set(int(epoch) + lease_seconds),
            ],
            condition=condition,
        )
    except UpdateError as exc:
        if is_condition_failure(exc):
            raise LeaseBusyError(f"a training run for tenant {tenant_id} is already in progress") from None
        raise
    if previous is not None and previous.lease_owner and previous.lease_owner != run_id:
        return previous.lease_owner  # its lease had expired: that run died without releasing it
    return None


def release_lease(tenant_id: str, run_id: str, now: datetime, *, status: str, started_at: datetime) -> bool:
    """Give the lease back and record the finished run; False if the lease was no longer ours. A run that
    failed as a whole does not count as trained: its retried message must not be skipped as up to date."""
    actions = [
        *_identity_actions(tenant_id, now),
        TrainingStateItem.lease_owner.remove(),
        TrainingStateItem.lease_expires_at.remove(),
        TrainingStateItem.last_run_id.set(run_id),
        TrainingStateItem.last_run_status.set(status),
    ]
    if status != FAILED:
        actions.append(TrainingStateItem.last_trained_at.set(started_at))
    return update_if(_state_stub(tenant_id), actions, TrainingStateItem.lease_owner == run_id)


def mark_tenant_data_changed(tenant_id: str, at: datetime | None = None) -> None:
    """Ingest calls this after writing a tenant's orders or products: the next scheduled run retrains it.
    One small UpdateItem; only ever moves the timestamp forward."""
    at = at or datetime.now(UTC)
    update_if(  # False: a later change is already recorded, nothing to do
        _state_stub(tenant_id),
        [*_identity_actions(tenant_id, at), TrainingStateItem.data_changed_at.set(at)],
        TrainingStateItem.data_changed_at.does_not_exist() | (TrainingStateItem.data_changed_at < at),
    )


def claim_on_demand_slot(tenant_id: str, now: datetime, min_interval_seconds: int) -> None:
    """Rate limit of on-demand retraining: at most one request per interval per tenant (conditional write).
    Raises ConflictError with the time to wait otherwise."""
    threshold = datetime.fromtimestamp(now.timestamp() - min_interval_seconds, UTC)
    try:
        _state_stub(tenant_id).update(
            actions=[*_identity_actions(tenant_id, now), TrainingStateItem.last_requested_at.set(now)],
            condition=TrainingStateItem.last_requested_at.does_not_exist()
            | (TrainingStateItem.last_requested_at <= threshold),
        )
    except UpdateError as exc:
        if is_condition_failure(exc):
            state = get_training_state(tenant_id)
            last = state.last_requested_at if state is not None else None
            raise retrain_rate_limited(last, now, min_interval_seconds) from None
        raise


def retrain_rate_limited(
    last_requested_at: datetime | None, now: datetime, min_interval_seconds: int
) -> RetrainRateLimitedError:
    """The refusal of an on-demand retrain within the interval, with the seconds left until the next one."""
    wait = min_interval_seconds
    if last_requested_at is not None:
        wait = int(last_requested_at.timestamp() + min_interval_seconds - now.timestamp()) + 1
    return RetrainRateLimitedError(
        f"a retrain was requested recently; try again in {max(wait, 1)} seconds", retry_after=max(wait, 1)
    )


class RetrainRateLimitedError(ConflictError):
    status_code = 429

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


# ----------------------------------------------------------------------------- pointers
@dataclass(frozen=True)
class ModelPointer:
    """The version of one model kind a tenant's API serves."""

    kind: str
    version: str
    artifact_prefix: str
    run_id: str
    holdout_metric: float | None
    switched_at: datetime


def _pointer(item: ModelPointerItem) -> ModelPointer:
    return ModelPointer(
        kind=item.kind,
        version=item.version,
        artifact_prefix=item.artifact_prefix,
        run_id=item.run_id,
        holdout_metric=item.holdout_metric,
        switched_at=item.switched_at,
    )


def get_pointer(tenant_id: str, kind: str) -> ModelPointer | None:
    """The current version of one kind, read consistently (the run that may switch it reads this)."""
    try:
        return _pointer(ModelPointerItem.get(*key_model_pointer(tenant_id, kind), consistent_read=True))
    except DoesNotExist:
        return None


def current_pointers(tenant_id: str) -> dict[str, ModelPointer]:
    """Every kind's current version for a tenant: one Query of its ``TRAINING`` partition (eventually
    consistent: a switch is visible within a second)."""
    partition, _ = key_model_pointer(tenant_id, "x")
    items = ModelPointerItem.query(partition, ModelPointerItem.sk.startswith("CURRENT#"))
    return {item.kind: _pointer(item) for item in items}


def switch_pointer(
    tenant_id: str,
    kind: str,
    *,
    expected_version: str | None,
    version: str,
    artifact_prefix: str,
    run_id: str,
    holdout_metric: float | None,
    now: datetime,
) -> None:
    """Make ``version`` current, only if the current one is still ``expected_version`` (None: no version yet)."""
    pk, sk = key_model_pointer(tenant_id, kind)
    item = ModelPointerItem(
        pk,
        sk,
        entity=ModelPointerItem.ENTITY,
        tenant_id=tenant_id,
        kind=kind,
        version=version,
        artifact_prefix=artifact_prefix,
        run_id=run_id,
        holdout_metric=holdout_metric,
        switched_at=now,
        updated_at=now,
    )
    condition = (
        ModelPointerItem.pk.does_not_exist()
        if expected_version is None
        else ModelPointerItem.version == expected_version
    )
    if not save_if(item, condition):
        raise ConflictError(f"the current {kind} model changed during this run; not switched")


# ----------------------------------------------------------------------------- run records
@dataclass(frozen=True)
class RunHandle:
    """A started run record, as :func:`finish_run_record` needs it."""

    tenant_id: str
    kind: str
    run_id: str
    started_at: datetime


@dataclass
class RunRecord:
    """What the API shows of one run of one kind."""

    run_id: str
    kind: str
    version: str
    status: str
    started_at: datetime
    finished_at: datetime | None
    duration_seconds: float | None
    rows_used: int
    metrics: dict[str, Any]
    reason: str | None
    artifact_prefix: str | None

    @classmethod
    def from_item(cls, item: ModelRunItem) -> RunRecord:
        return cls(
            run_id=item.run_id,
            kind=item.kind,
            version=item.version,
            status=item.status,
            started_at=item.started_at,
            finished_at=item.finished_at,
            duration_seconds=item.duration_seconds,
            rows_used=int(item.rows_used or 0),
            metrics=dict(item.metrics or {}),
            reason=item.reason,
            artifact_prefix=item.artifact_prefix,
        )


def start_run_record(
    tenant_id: str, kind: str, run_id: str, version: str, started_at: datetime, rows_used: int
) -> RunHandle:
    pk, sk = key_model_run(tenant_id, kind, started_at, run_id)
    item = ModelRunItem(
        pk,
        sk,
        entity=ModelRunItem.ENTITY,
        tenant_id=tenant_id,
        run_id=run_id,
        kind=kind,
        version=version,
        status=RUNNING,
        started_at=started_at,
        rows_used=rows_used,
        expires_at=int(started_at.timestamp()) + RUN_RECORD_RETENTION_SECONDS,
    )
    item.save(condition=ModelRunItem.pk.does_not_exist())
    return RunHandle(tenant_id=tenant_id, kind=kind, run_id=run_id, started_at=started_at)


def finish_run_record(
    run: RunHandle,
    *,
    status: str,
    finished_at: datetime,
    metrics: dict[str, Any] | None = None,
    reason: str | None = None,
    artifact_prefix: str | None = None,
) -> None:
    """Record how the run ended, only while it is still ``running`` (ConflictError otherwise: another worker
    marked it abandoned, or it was never started)."""
    pk, sk = key_model_run(run.tenant_id, run.kind, run.started_at, run.run_id)
    try:
        _finish(ModelRunItem(pk, sk), run.started_at, status, finished_at, metrics, reason, artifact_prefix)
    except UpdateError as exc:
        if is_condition_failure(exc):
            raise ConflictError(f"the {run.kind} run record of run {run.run_id} is no longer running") from None
        raise


def _finish(
    item: ModelRunItem,
    started_at: datetime,
    status: str,
    finished_at: datetime,
    metrics: dict[str, Any] | None,
    reason: str | None,
    artifact_prefix: str | None,
) -> None:
    actions = [
        ModelRunItem.status.set(status),
        ModelRunItem.finished_at.set(finished_at),
        ModelRunItem.duration_seconds.set(round((finished_at - started_at).total_seconds(), 3)),
        ModelRunItem.metrics.set(metrics or {}),
        ModelRunItem.updated_at.set(finished_at),
    ]
    if reason:
        actions.append(ModelRunItem.reason.set(reason[:1000]))
    if artifact_prefix:
        actions.append(ModelRunItem.artifact_prefix.set(artifact_prefix))
    item.update(actions=actions, condition=ModelRunItem.status == RUNNING)


def list_run_records(tenant_id: str, kinds: Iterable[str], *, limit: int = 50) -> list[RunRecord]:
    """A tenant's runs of these kinds, newest first."""
    partition = tenant_partition(tenant_id, "RUN")
    # Sort keys start with the kind, so "newest of every kind" is one short query per kind, merged: it reads
    # ``limit`` items a kind instead of the tenant's whole history.
    records = [
        RunRecord.from_item(item)
        for known in kinds
        for item in ModelRunItem.query(
            partition, ModelRunItem.sk.startswith(f"{known}#"), scan_index_forward=False, limit=limit
        )
    ]
    records.sort(key=lambda record: record.started_at, reverse=True)
    return records[:limit]


def abandon_runs(tenant_id: str, dead_run_id: str, now: datetime, kinds: Iterable[str]) -> int:
    """Mark a crashed run's still-``running`` records (of these kinds) as abandoned; returns how many. A dead
    run is the latest of each kind it reached, so only the newest few records of each kind are read."""
    partition = tenant_partition(tenant_id, "RUN")
    abandoned = 0
    for kind in kinds:
        for item in ModelRunItem.query(
            partition, ModelRunItem.sk.startswith(f"{kind}#"), scan_index_forward=False, limit=3
        ):
            if item.run_id != dead_run_id or item.status != RUNNING:
                continue
            try:
                _finish(
                    item,
                    item.started_at,
                    ABANDONED,
                    now,
                    None,
                    "the worker stopped (crash or timeout) before finishing; the previous version kept serving",
                    None,
                )
                abandoned += 1
            except UpdateError as exc:
                if not is_condition_failure(exc):
                    raise
    return abandoned


# ----------------------------------------------------------------------------- tenants
def batch_get_states(tenant_ids: list[str]) -> dict[str, TrainingState]:
    """Training states of many tenants with BatchGetItem (100 keys a request)."""
    keys = [key_training_state(tenant_id) for tenant_id in tenant_ids]
    return {item.tenant_id: _training_state(item) for item in TrainingStateItem.batch_get(keys)}


# ----------------------------------------------------------------------------- the repository a run is given
class ModelPointers(Protocol):
    """What serving reads of the training state: every kind's current version of a tenant in one read (the
    API's model cache is given one; ``TrainingRepository`` satisfies it)."""

    def current_pointers(self, tenant_id: str) -> dict[str, ModelPointer]: ...


class TrainingRepository(ModelPointers, Protocol):
    """What a training run reads and writes of its tenant's training state: the lease, the current-version
    pointers and the run records; ingest's mark that a tenant's data changed; the dispatcher's read of many
    tenants' states and on-demand retraining's rate limit. The pipeline, the dispatcher and the API's training
    routes are given one (``DynamoTrainingRepository`` in the product, an in-memory one in the unit tier), so a
    run's decisions are testable without the table."""

    def get_training_state(self, tenant_id: str) -> TrainingState | None: ...

    def batch_get_states(self, tenant_ids: list[str]) -> dict[str, TrainingState]: ...

    def claim_on_demand_slot(self, tenant_id: str, now: datetime, min_interval_seconds: int) -> None: ...

    def mark_tenant_data_changed(self, tenant_id: str, at: datetime | None = None) -> None: ...

    def acquire_lease(self, tenant_id: str, run_id: str, now: datetime, lease_seconds: int) -> str | None: ...

    def release_lease(
        self, tenant_id: str, run_id: str, now: datetime, *, status: str, started_at: datetime
    ) -> bool: ...

    def abandon_runs(self, tenant_id: str, dead_run_id: str, now: datetime, kinds: Iterable[str]) -> int: ...

    def get_pointer(self, tenant_id: str, kind: str) -> ModelPointer | None: ...

    def switch_pointer(
        self,
        tenant_id: str,
        kind: str,
        *,
        expected_version: str | None,
        version: str,
        artifact_prefix: str,
        run_id: str,
        holdout_metric: float | None,
        now: datetime,
    ) -> None: ...

    def start_run_record(
        self, tenant_id: str, kind: str, run_id: str, version: str, started_at: datetime, rows_used: int
    ) -> RunHandle: ...

    def finish_run_record(
        self,
        run: RunHandle,
        *,
        status: str,
        finished_at: datetime,
        metrics: dict[str, Any] | None = None,
        reason: str | None = None,
        artifact_prefix: str | None = None,
    ) -> None: ...

    def list_run_records(self, tenant_id: str, kinds: Iterable[str], *, limit: int = 50) -> list[RunRecord]: ...


class DynamoTrainingRepository:
    """The training repository on the table: this module's conditional writes and queries."""

    get_training_state = staticmethod(get_training_state)
    batch_get_states = staticmethod(batch_get_states)
    claim_on_demand_slot = staticmethod(claim_on_demand_slot)
    mark_tenant_data_changed = staticmethod(mark_tenant_data_changed)
    acquire_lease = staticmethod(acquire_lease)
    release_lease = staticmethod(release_lease)
    abandon_runs = staticmethod(abandon_runs)
    get_pointer = staticmethod(get_pointer)
    current_pointers = staticmethod(current_pointers)
    switch_pointer = staticmethod(switch_pointer)
    start_run_record = staticmethod(start_run_record)
    finish_run_record = staticmethod(finish_run_record)
    list_run_records = staticmethod(list_run_records)


def training_repository() -> DynamoTrainingRepository:
    """The product's training repository (stateless: the table is bound once per execution environment)."""
    return _REPOSITORY


_REPOSITORY = DynamoTrainingRepository()

"""Who trains when: the scheduled dispatcher and on-demand requests, both as one message per tenant on TrainQueue.

A tenant is due when its data changed since its last completed run (ingest calls ``mark_tenant_data_changed``;
a tenant without change tracking counts as changed) and its plan's interval has passed. The dispatcher reads the
tenant directory passed in (gsi1 on the table) and the tenants' training states from the training repository
passed in (BatchGetItem, 100 a request) and sends messages in batches of 10.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from luxebrain.adapters import MessageQueue
from luxebrain.billing.plans import PlanLimitExceededError
from luxebrain.billing.usage import UsageCounter
from luxebrain.runtime import configured_settings
from luxebrain.storage.tenants import TenantDirectory
from luxebrain.storage.training import TrainingRepository, TrainingState
from luxebrain.tenancy import validate_tenant_id

# How often a plan retrains at most (the schedule itself fires daily). A little slack so a run that started
# a few minutes later yesterday is still due today.
PLAN_TRAINING_INTERVAL: dict[str, timedelta] = {
    "free": timedelta(days=7),
    "growth": timedelta(days=1),
    "pro": timedelta(days=1),
}
DEFAULT_TRAINING_INTERVAL = timedelta(days=1)
INTERVAL_SLACK = timedelta(hours=2)


class TrainRequest(BaseModel):
    """The body of a TrainQueue message."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    tenant_id: str
    reason: Literal["scheduled", "on_demand", "cli"] = "scheduled"
    requested_at: datetime
    request_id: str = Field(default_factory=lambda: secrets.token_hex(8), pattern=r"^[A-Za-z0-9_-]{1,64}$")

    @field_validator("tenant_id")
    @classmethod
    def _tenant(cls, value: str) -> str:
        return validate_tenant_id(value)


@dataclass
class DispatchResult:
    considered: int = 0
    due: list[str] = field(default_factory=list)
    sent: int = 0
    skipped: dict[str, str] = field(default_factory=dict)  # tenant -> why not due


def is_due(training: TrainingState | None, plan: str, now: datetime) -> tuple[bool, str]:
    """Whether a tenant should train now, and why (or why not)."""
    if training is None or training.last_trained_at is None:
        return True, "never trained"
    if training.lease_expires_at is not None and training.lease_expires_at > now.timestamp():
        return False, "a run is in progress"
    interval = PLAN_TRAINING_INTERVAL.get(plan, DEFAULT_TRAINING_INTERVAL)
    if now - training.last_trained_at < interval - INTERVAL_SLACK:
        return False, f"trained less than {interval.days} day(s) ago ({plan} plan)"
    if training.data_changed_at is None:
        return True, "no change tracking: retrain on the plan's interval"
    if training.data_changed_at > training.last_trained_at:
        return True, "data changed since the last run"
    return False, "data unchanged since the last run"


def dispatch_due_tenants(
    train_queue: MessageQueue,
    *,
    tenants: TenantDirectory,
    training: TrainingRepository,
    usage: UsageCounter,
    now: datetime | None = None,
) -> DispatchResult:
    """Send one TrainQueue message per due active tenant of ``tenants``' directory (their training states read
    from ``training``, each run counted against the plan's daily runs in ``usage``)."""
    now = (now or datetime.now(UTC)).astimezone(UTC)
    result = DispatchResult()
    plans: dict[str, str] = {}
    for tenant in tenants.iter_tenants():
        result.considered += 1
        if tenant.status != "active":
            result.skipped[tenant.tenant_id] = f"tenant is {tenant.status}"
            continue
        plans[tenant.tenant_id] = tenant.plan
    tenant_ids = list(plans)
    for start in range(0, len(tenant_ids), 100):
        chunk = tenant_ids[start : start + 100]
        states = training.batch_get_states(chunk)
        for tenant_id in chunk:
            due, why = is_due(states.get(tenant_id), plans[tenant_id], now)
            if due:
                result.due.append(tenant_id)
            else:
                result.skipped[tenant_id] = why
    counted: list[str] = []
    for tenant_id in list(result.due):
        try:
            usage.consume(tenant_id, "training_runs")
        except PlanLimitExceededError as exc:
            result.due.remove(tenant_id)
            result.skipped[tenant_id] = str(exc)
        else:
            counted.append(tenant_id)
    requests = [TrainRequest(tenant_id=tenant_id, reason="scheduled", requested_at=now) for tenant_id in result.due]
    try:
        result.sent = send_train_requests(train_queue, requests)
    except Exception:
        for tenant_id in counted:  # not queued: not counted (the schedule's retry counts them again)
            usage.release(tenant_id, "training_runs")
        raise
    return result


def send_train_requests(train_queue: MessageQueue, requests: list[TrainRequest]) -> int:
    """Queue the requests (SendMessageBatch, 10 a call); raises if any was refused (the schedule's retry
    policy re-runs the dispatcher, and duplicates are skipped by the worker's change check and lease)."""
    return train_queue.send_batch([request.model_dump_json() for request in requests])


def request_retrain(
    tenant_id: str,
    train_queue: MessageQueue,
    now: datetime | None = None,
    *,
    training: TrainingRepository,
    usage: UsageCounter,
) -> TrainRequest:
    """On-demand retraining (API): at most one request per ``training_retrain_min_interval_seconds`` per tenant,
    claimed in ``training`` (RetrainRateLimitedError, HTTP 429, otherwise), the run counted in ``usage``; the
    worker trains it like a scheduled run."""
    now = (now or datetime.now(UTC)).astimezone(UTC)
    settings = configured_settings()
    usage.consume(tenant_id, "training_runs")  # 402 once the plan's daily runs are used
    request = TrainRequest(tenant_id=tenant_id, reason="on_demand", requested_at=now)
    try:
        training.claim_on_demand_slot(tenant_id, now, settings.training_retrain_min_interval_seconds)
        send_train_requests(train_queue, [request])
    except Exception:
        usage.release(tenant_id, "training_runs")
        raise
    return request

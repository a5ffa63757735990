"""Training: run history per model kind, the versions serving now, and on-demand retraining.

Retraining is rate-limited twice: the plan's per-minute limit for expensive actions (``expensive_action``) and
one request per ``training_retrain_min_interval_seconds`` per tenant (a conditional write), both 429 with
Retry-After. The tenant always comes from the verified principal.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import Field

from api.dependencies import Principal, TenantMember, Training, TrainQueue, Usage, expensive_action
from luxebrain.ml.kinds import MODEL_KINDS
from luxebrain.training import list_run_records, request_retrain
from luxebrain.webapi.models import ApiModel

router = APIRouter(prefix="/training", tags=["training"])

KindFilter = Annotated[str | None, Query(pattern=r"^[a-z][a-z0-9_]{0,31}$", description="one model kind")]
Limit = Annotated[int, Query(ge=1, le=200)]
Retrainer = Annotated[Principal, Depends(expensive_action("retrain"))]


class RunResponse(ApiModel):
    run_id: str
    kind: str
    version: str
    status: str = Field(description="running, succeeded, rejected (quality gate), failed or abandoned (crash)")
    started_at: datetime
    finished_at: datetime | None
    duration_seconds: float | None
    rows_used: int
    metrics: dict[str, Any]
    reason: str | None = Field(description="why it was rejected or failed; the gate's comparison otherwise")


class RunsResponse(ApiModel):
    runs: list[RunResponse]


@router.get("/runs", response_model=RunsResponse, summary="Training run history, newest first")
def runs(principal: TenantMember, training: Training, kind: KindFilter = None, limit: Limit = 50) -> RunsResponse:
    records = list_run_records(principal.require_tenant(), training=training, kind=kind, limit=limit)
    return RunsResponse(
        runs=[
            RunResponse(
                run_id=record.run_id,
                kind=record.kind,
                version=record.version,
                status=record.status,
                started_at=record.started_at,
                finished_at=record.finished_at,
                duration_seconds=record.duration_seconds,
                rows_used=record.rows_used,
                metrics=record.metrics,
                reason=record.reason,
            )
            for record in records
        ]
    )


class ServingModel(ApiModel):
    kind: str
    version: str | None = Field(description="the version the API serves; null before the first successful run")
    switched_at: datetime | None = None
    holdout_metric: float | None = None


class ModelsResponse(ApiModel):
    models: list[ServingModel]


@router.get("/models", response_model=ModelsResponse, summary="The model version serving each kind")
def models(principal: TenantMember, training: Training) -> ModelsResponse:
    tenant_id = principal.require_tenant()
    serving = []
    for kind in MODEL_KINDS:
        pointer = training.get_pointer(tenant_id, kind)
        serving.append(
            ServingModel(
                kind=kind,
                version=pointer.version if pointer else None,
                switched_at=pointer.switched_at if pointer else None,
                holdout_metric=float(pointer.holdout_metric)
                if pointer and pointer.holdout_metric is not None
                else None,
            )
        )
    return ModelsResponse(models=serving)


class RetrainResponse(ApiModel):
    request_id: str
    status: str = "queued"
    requested_at: datetime


@router.post("/runs", status_code=202, response_model=RetrainResponse, summary="Retrain every model now")
def retrain(principal: Retrainer, train_queue: TrainQueue, training: Training, usage: Usage) -> RetrainResponse:
    request = request_retrain(principal.require_tenant(), train_queue, training=training, usage=usage)
    return RetrainResponse(request_id=request.request_id, requested_at=request.requested_at)


def _number(value: Any) -> float | None:
    return float(value) if value is not None else None

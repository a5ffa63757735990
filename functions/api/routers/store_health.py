"""A store's health, acted on: the records it could not store and why, and its webhooks checked and re-enabled now."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi import Path as PathParam
from pydantic import Field

from api.dependencies import BackfillQueue, Ingest, StaffOrOwner, TenantMember, Tenants
from luxebrain.ingest.webhook_check import request_webhook_check
from luxebrain.webapi.models import ApiModel

MAX_REJECTED = 200

router = APIRouter(prefix="/stores", tags=["stores"])

StoreId = Annotated[str, PathParam(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:@-]{0,127}$", max_length=128)]


class WebhookCheckQueued(ApiModel):
    status: str = "queued"
    previous_check_at: str | None = Field(
        description="the last health run; GET /stores/{store_id}/ingest-status shows a newer one once it ran"
    )


@router.post(
    "/{store_id}/webhooks/check",
    status_code=202,
    response_model=WebhookCheckQueued,
    summary="Check the store's webhooks now: re-enable what WooCommerce disabled, back-fill what was missed",
    responses={
        404: {"description": "no such store in this tenant"},
        409: {"description": "the store is not connected"},
        429: {"description": "checked less than a minute ago"},
    },
)
def check_webhooks(
    store_id: StoreId, principal: StaffOrOwner, backfill_queue: BackfillQueue, tenants: Tenants
) -> WebhookCheckQueued:
    previous = request_webhook_check(
        principal.require_tenant(), store_id, backfill_queue=backfill_queue, tenants=tenants
    )
    return WebhookCheckQueued(previous_check_at=previous)


class RejectedRecord(ApiModel):
    received_at: str = Field(description="UTC, ISO")
    topic: str = Field(description="the webhook topic or back-fill resource, e.g. order.created")
    reason: str
    resource_id: str | None
    delivery_id: str | None = Field(description="WooCommerce's delivery id: find it in the store's webhook log")
    body_sha256: str
    body_bytes: int


class RejectedRecords(ApiModel):
    days: int
    items: list[RejectedRecord] = Field(description=f"newest first, at most {MAX_REJECTED}")
    truncated: bool


@router.get(
    "/{store_id}/rejected",
    response_model=RejectedRecords,
    summary="Records the store sent that could not be stored, with the reason (no body is kept)",
    responses={404: {"description": "no such store in this tenant"}},
)
def rejected(
    store_id: StoreId,
    principal: TenantMember,
    tenants: Tenants,
    records: Ingest,
    days: Annotated[int, Query(ge=1, le=90, description="the last N days (rejections are kept 90)")] = 7,
) -> RejectedRecords:
    tenant_id = principal.require_tenant()
    tenants.get_store(tenant_id, store_id)  # 404 for another tenant's store
    since = (datetime.now(UTC) - timedelta(days=days)).replace(tzinfo=None).isoformat(timespec="seconds")
    found = records.rejected_events_since(tenant_id, store_id, since)
    return RejectedRecords(
        days=days,
        items=[
            RejectedRecord(
                received_at=event.received_at,
                topic=event.topic,
                reason=event.reason,
                resource_id=event.resource_id,
                delivery_id=event.delivery_id,
                body_sha256=event.body_sha256,
                body_bytes=event.body_bytes,
            )
            for event in found[:MAX_REJECTED]
        ],
        truncated=len(found) > MAX_REJECTED,
    )

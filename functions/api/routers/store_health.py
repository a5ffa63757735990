"""A store's health, acted on: the merchant asks for its webhooks to be checked and re-enabled now."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter
from fastapi import Path as PathParam
from pydantic import BaseModel, Field

from api.dependencies import StaffOrOwner
from luxebrain.ingest.webhook_check import request_webhook_check

router = APIRouter(prefix="/stores", tags=["stores"])

StoreId = Annotated[str, PathParam(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:@-]{0,127}$", max_length=128)]


class WebhookCheckQueued(BaseModel):
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
def check_webhooks(store_id: StoreId, principal: StaffOrOwner) -> WebhookCheckQueued:
    return WebhookCheckQueued(previous_check_at=request_webhook_check(principal.require_tenant(), store_id))

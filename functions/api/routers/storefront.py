"""The storefront widget's events (``POST /events``, beacon-friendly) and the placements' results."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.exceptions import RequestValidationError
from pydantic import Field, ValidationError

from api.dependencies import (
    Catalogue,
    Members,
    Storefront,
    TenantMember,
    Tenants,
    Usage,
    remember_principal,
    source_address,
)
from luxebrain.auth.storefront import principal_for_storefront_key
from luxebrain.billing.plans import ensure_tenant_active
from luxebrain.errors import UnauthorizedError
from luxebrain.storefront.events import MAX_BODY_BYTES, EventsBatchTooLargeError, StorefrontEventBatch, record_events
from luxebrain.storefront.origins import check_storefront_origin
from luxebrain.storefront.results import placement_results
from luxebrain.webapi.models import ApiModel

router = APIRouter(tags=["storefront"])


class RecordedEventsResponse(ApiModel):
    accepted: int
    duplicates: int
    rejected: int


@router.post(
    "/events",
    status_code=202,
    response_model=RecordedEventsResponse,
    summary="Record the storefront widget's impressions, clicks and add-to-carts (storefront key)",
    description=(
        "A batch of at most 50 events from one visitor, as JSON or as the text/plain body of "
        "`navigator.sendBeacon` (the key then in the body's `key`). Only the shop's own origins may send it."
    ),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": {"$ref": "#/components/schemas/StorefrontEventBatch"}},
                "text/plain": {"schema": {"$ref": "#/components/schemas/StorefrontEventBatch"}},
            },
        }
    },
)
async def post_events(
    request: Request, members: Members, catalogue: Catalogue, tenants: Tenants, storefront: Storefront, usage: Usage
) -> RecordedEventsResponse:
    body = await request.body()
    if len(body) > MAX_BODY_BYTES:
        raise EventsBatchTooLargeError
    try:
        batch = StorefrontEventBatch.model_validate_json(body or b"{}")
    except ValidationError as exc:
        raise RequestValidationError(exc.errors(include_url=False)) from None
    key = request.headers.get("x-storefront-key") or batch.key
    if not key:
        raise UnauthorizedError("send the storefront key (X-Storefront-Key, or 'key' in a beacon's body)")
    principal = remember_principal(request, principal_for_storefront_key(key, keys=members))
    tenant_id = principal.require_tenant()
    check_storefront_origin(tenant_id, request.headers.get("origin"), required=True, tenants=tenants)
    ensure_tenant_active(tenant_id, tenants=tenants)
    recorded = record_events(
        tenant_id,
        batch,
        source=source_address(request),
        catalogue=catalogue,
        tenants=tenants,
        storefront=storefront,
        usage=usage,
    )
    return RecordedEventsResponse(
        accepted=recorded.accepted, duplicates=recorded.duplicates, rejected=recorded.rejected
    )


def batch_schemas() -> dict[str, Any]:
    """The batch's schema and its parts, for the OpenAPI document's components (the route parses its body
    itself, since a beacon's text/plain body is not read as JSON by FastAPI)."""
    schema = StorefrontEventBatch.model_json_schema(ref_template="#/components/schemas/{model}")
    definitions = schema.pop("$defs", {})
    return {"StorefrontEventBatch": schema, **definitions}


class PlacementArm(ApiModel):
    arm: str = Field(description="treatment (personal recommendations) or the hold-out (the fallback)")
    visitors: int
    buying_visitors: int
    revenue: float
    revenue_per_visitor: float


class PlacementResult(ApiModel):
    placement: str
    shown: int = Field(description="impressions")
    clicks: int
    click_through_rate: float
    add_to_carts: int
    add_to_cart_rate: float
    attributed_orders: int = Field(description="orders that followed a click within the click window")
    attributed_revenue: float
    arms: list[PlacementArm]
    revenue_per_visitor_lift: float = Field(description="treatment minus hold-out, per visitor")
    revenue_per_visitor_lift_interval: list[float] = Field(min_length=2, max_length=2)
    caused_revenue: float = Field(description="the lift times the treatment's visitors")
    caused_revenue_interval: list[float] = Field(min_length=2, max_length=2)
    decision: str = Field(description="the always-valid sequential test's state: continue, winner, ...")
    reason: str = Field(description="what the decision waits for, or why it was taken")
    p_value: float
    sample_ratio_p_value: float = Field(description="the sample-ratio check of the hold-out's share")


class PlacementResults(ApiModel):
    days: int
    since: str = Field(description="the first UTC day counted (YYYY-MM-DD)")
    holdout_share: float
    click_window_days: int
    exposure_window_days: int
    placements: list[PlacementResult]


@router.get(
    "/storefront/results",
    response_model=PlacementResults,
    summary="Per placement: shown, clicked, carted, attributed and caused revenue",
)
async def results(
    principal: TenantMember,
    tenants: Tenants,
    storefront: Storefront,
    days: Annotated[int, Query(ge=1, le=90, description="the last N UTC days")] = 30,
) -> PlacementResults:
    return PlacementResults.model_validate(
        placement_results(principal.require_tenant(), tenants=tenants, storefront=storefront, days=days)
    )

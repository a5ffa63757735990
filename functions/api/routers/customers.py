"""Customer intelligence: segments, one customer's scores, churn-risk lists (from the customers model)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Path, Query
from pydantic import Field

from api.dependencies import Models, TenantMember
from luxebrain.errors import InvalidInputError, NotFoundError
from luxebrain.ml.customers.segments import SEGMENT_NAMES, CustomerModelError, UnknownCustomerError
from luxebrain.serving.loader import ModelCache
from luxebrain.webapi.models import ApiModel

if TYPE_CHECKING:
    from luxebrain.ml.customers.serving import CustomerScores

router = APIRouter(tags=["customers"])

CustomerId = Annotated[str, Path(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:@-]{0,127}$", max_length=128)]


def _scores(models: ModelCache, tenant_id: str) -> tuple[CustomerScores, str]:
    return models.current_serving(tenant_id, "customers")


class SegmentsResponse(ApiModel):
    model_version: str
    as_of: str
    segments: list[dict[str, Any]] = Field(description="per segment: customers, share of customers and revenue")
    movements: list[dict[str, Any]] = Field(description="customers who moved between segments since the last run")


@router.get("/segments", response_model=SegmentsResponse, summary="Customer segments (RFM) with movement")
async def segments(principal: TenantMember, models: Models) -> SegmentsResponse:
    scores, version = _scores(models, principal.require_tenant())
    return SegmentsResponse(
        model_version=version, as_of=scores.as_of, segments=scores.segment_summary(), movements=scores.movements()
    )


class SegmentPage(ApiModel):
    model_version: str
    segment: str
    total: int
    items: list[dict[str, Any]]
    next_cursor: str | None


@router.get("/segments/{segment}/customers", response_model=SegmentPage, summary="Customers of one segment")
async def segment_customers(
    segment: Annotated[str, Path(max_length=64, description=f"one of: {', '.join(SEGMENT_NAMES)}")],
    principal: TenantMember,
    models: Models,
    limit: Annotated[int, Query(ge=1, le=100)] = 25,
    cursor: Annotated[str | None, Query(max_length=12, pattern=r"^[0-9]+$")] = None,
) -> SegmentPage:
    scores, version = _scores(models, principal.require_tenant())
    if segment not in SEGMENT_NAMES:
        raise NotFoundError(f"unknown segment {segment!r}; segments are: {', '.join(SEGMENT_NAMES)}")
    try:
        page = scores.customers_in_segment(segment, limit=limit, cursor=cursor)
    except CustomerModelError as exc:
        raise InvalidInputError(str(exc)) from None
    return SegmentPage(
        model_version=version,
        segment=segment,
        total=page["total"],
        items=page["customers"],
        next_cursor=page["next_cursor"],
    )


class CustomerScoresResponse(ApiModel):
    model_version: str
    customer: dict[str, Any] = Field(description="segment, RFM, churn band, expected next order, 12-month CLV")


@router.get("/customers/{customer_id}/scores", response_model=CustomerScoresResponse, summary="One customer's scores")
async def customer_scores(customer_id: CustomerId, principal: TenantMember, models: Models) -> CustomerScoresResponse:
    scores, version = _scores(models, principal.require_tenant())
    try:
        return CustomerScoresResponse(model_version=version, customer=scores.customer(customer_id))
    except UnknownCustomerError:
        raise NotFoundError(f"customer {customer_id} is not in the current customer model") from None


class ChurnListResponse(ApiModel):
    model_version: str
    items: list[dict[str, Any]]


@router.get("/churn-risk", response_model=ChurnListResponse, summary="Valuable customers at risk, most at stake first")
async def churn_risk(
    principal: TenantMember,
    models: Models,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    min_value: Annotated[float, Query(ge=0, le=1e9)] = 0.0,
) -> ChurnListResponse:
    scores, version = _scores(models, principal.require_tenant())
    try:
        return ChurnListResponse(model_version=version, items=scores.at_risk(limit=limit, min_value=min_value))
    except CustomerModelError as exc:
        raise InvalidInputError(str(exc)) from None

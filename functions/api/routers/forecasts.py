"""Demand forecasts (per product and for the store) and inventory advice from the current forecast model."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, Literal

from fastapi import APIRouter, Path, Query
from pydantic import ConfigDict, Field

from api.dependencies import Catalogue, Models, StaffOrOwner, TenantMember, Tenants
from luxebrain.serving import inventory
from luxebrain.serving.loader import ModelCache
from luxebrain.webapi.models import ApiModel

if TYPE_CHECKING:
    from luxebrain.ml.forecast.serving import Forecasts

router = APIRouter(tags=["forecasts"])

ProductId = Annotated[str, Path(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:@-]{0,127}$", max_length=128)]
HorizonWeeks = Annotated[int, Query(ge=1, le=26, description="weeks ahead (at most the model's horizon)")]
LeadTimeDays = Annotated[
    int,
    Query(ge=1, le=182, description="days from ordering stock to having it, for products without their own"),
]
HistoryWeeks = Annotated[int, Query(ge=0, le=26, description="weeks of actual sales before the forecast (0: none)")]
ServiceLevel = Annotated[float, Query(ge=0.5, lt=1.0, description="chance that stock covers lead-time demand")]


def _forecasts(models: ModelCache, tenant_id: str) -> tuple[Forecasts, str]:
    return models.current_serving(tenant_id, "forecast")


class ActualSales(ApiModel):
    measure: Literal["units", "revenue"]
    period_starts: list[str] = Field(description="ISO date of each week's first day, oldest first")
    values: list[float]


class ForecastResponse(ApiModel):
    model_version: str
    forecast: dict[str, Any] = Field(description="P10 / P50 / P90 units and revenue per period, method, drivers")
    actual: ActualSales | None = Field(default=None, description="weekly sales before the forecast, if asked for")


@router.get("/forecasts/store", response_model=ForecastResponse, summary="The whole store's forecast")
async def store_forecast(
    principal: TenantMember,
    models: Models,
    horizon_weeks: HorizonWeeks = 4,
    granularity: Literal["week", "day"] = "week",
    measure: Literal["units", "revenue"] = "revenue",
    history_weeks: HistoryWeeks = 0,
) -> ForecastResponse:
    forecasts, version = _forecasts(models, principal.require_tenant())
    series = forecasts.for_store(horizon_weeks=horizon_weeks, granularity=granularity, measure=measure)
    actual = forecasts.actual_weekly(history_weeks, measure=measure) if history_weeks else None
    return ForecastResponse(
        model_version=version, forecast=series.to_dict(), actual=ActualSales(**actual) if actual else None
    )


@router.get("/forecasts/products/{product_id}", response_model=ForecastResponse, summary="One product's forecast")
async def product_forecast(
    product_id: ProductId,
    principal: TenantMember,
    models: Models,
    horizon_weeks: HorizonWeeks = 4,
    granularity: Literal["week", "day"] = "week",
    history_weeks: HistoryWeeks = 0,
    price: Annotated[
        float | None,
        Query(
            gt=0,
            description="what if the product sold at this price over the horizon instead of its current one "
            "(forecast.drivers.price.planned), within the range of prices the store's history holds (a 422 names "
            "it); forecast.drivers.price.demand_multiplier is the demand at that price learnt from the history",
        ),
    ] = None,
) -> ForecastResponse:
    forecasts, version = _forecasts(models, principal.require_tenant())
    series = forecasts.for_product(product_id, horizon_weeks=horizon_weeks, granularity=granularity, price=price)
    actual = forecasts.actual_weekly(history_weeks, product_id=product_id) if history_weeks else None
    return ForecastResponse(
        model_version=version, forecast=series.to_dict(), actual=ActualSales(**actual) if actual else None
    )


class BestSellersResponse(ApiModel):
    model_version: str
    product_ids: list[str]


@router.get("/forecasts/best-sellers", response_model=BestSellersResponse, summary="Most units expected ahead")
async def best_sellers(
    principal: TenantMember,
    models: Models,
    n: Annotated[int, Query(ge=1, le=100)] = 10,
    horizon_weeks: HorizonWeeks = 4,
) -> BestSellersResponse:
    forecasts, version = _forecasts(models, principal.require_tenant())
    return BestSellersResponse(model_version=version, product_ids=forecasts.best_sellers(n, horizon_weeks))


class AdviceResponse(ApiModel):
    model_version: str
    advice: dict[str, Any] = Field(
        description="days of cover, stock-out date, reorder quantity, explanation; the lead time used (the "
        "product's own or the default: lead_time_source), the days of demand counted, the supplier"
    )


@router.get(
    "/inventory/advice/{product_id}",
    response_model=AdviceResponse,
    summary="Days of cover and how much to reorder, from the product's stock in the store and its lead time",
)
def product_advice(
    product_id: ProductId,
    principal: TenantMember,
    models: Models,
    catalogue: Catalogue,
    lead_time_days: LeadTimeDays = 14,
    service_level: ServiceLevel = 0.95,
) -> AdviceResponse:
    tenant_id = principal.require_tenant()
    forecasts, version = _forecasts(models, tenant_id)
    advice = inventory.product_advice(tenant_id, catalogue, forecasts, product_id, lead_time_days, service_level)
    return AdviceResponse(model_version=version, advice=advice.to_dict())


class ReorderListResponse(ApiModel):
    model_version: str
    items: list[dict[str, Any]] = Field(description="products to reorder now, shortest cover first")
    products_checked: int


@router.get(
    "/inventory/advice",
    response_model=ReorderListResponse,
    summary="Products to reorder now (stock managed and forecast available, each with its own lead time if set), "
    "shortest cover first",
)
def reorder_list(
    principal: TenantMember,
    models: Models,
    catalogue: Catalogue,
    lead_time_days: LeadTimeDays = 14,
    service_level: ServiceLevel = 0.95,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> ReorderListResponse:
    tenant_id = principal.require_tenant()
    forecasts, version = _forecasts(models, tenant_id)
    advice, checked = inventory.reorder_list(tenant_id, catalogue, forecasts, lead_time_days, service_level, limit)
    return ReorderListResponse(
        model_version=version, items=[item.to_dict() for item in advice], products_checked=checked
    )


class SupplyRequest(ApiModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"lead_time_days": 30, "supplier": "Atelier Lumière"}]}
    )

    lead_time_days: int | None = Field(
        default=None, ge=1, le=365, description="days from ordering to having the stock; null: the default applies"
    )
    supplier: str | None = Field(default=None, min_length=1, max_length=200)


class SupplyResponse(ApiModel):
    product_id: str
    lead_time_days: int | None = Field(description="null: the inventory advice uses the default lead time")
    supplier: str | None
    updated_at: datetime | None = None
    updated_by: str | None = None


def _supply_response(supply: inventory.ProductSupply) -> SupplyResponse:
    return SupplyResponse(
        product_id=supply.product_id,
        lead_time_days=supply.lead_time_days,
        supplier=supply.supplier,
        updated_at=supply.updated_at,
        updated_by=supply.updated_by,
    )


@router.get(
    "/inventory/products/{product_id}/supply",
    response_model=SupplyResponse,
    summary="A product's lead time and supplier",
)
def product_supply(product_id: ProductId, principal: TenantMember, catalogue: Catalogue) -> SupplyResponse:
    return _supply_response(inventory.supply_of(principal.require_tenant(), catalogue, product_id))


@router.put(
    "/inventory/products/{product_id}/supply",
    response_model=SupplyResponse,
    summary="Set a product's lead time and supplier (staff), used by its inventory advice; audited",
    responses={404: {"description": "no such product in the store's catalogue"}},
)
def replace_product_supply(
    product_id: ProductId, body: SupplyRequest, principal: StaffOrOwner, catalogue: Catalogue, tenants: Tenants
) -> SupplyResponse:
    saved = inventory.replace_supply(
        principal.require_tenant(),
        catalogue,
        product_id,
        lead_time_days=body.lead_time_days,
        supplier=(body.supplier or "").strip() or None,
        actor=principal.subject,
        audit=tenants,
    )
    return _supply_response(saved)

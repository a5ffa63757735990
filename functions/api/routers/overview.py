"""The week's alerts for the dashboard's overview: stock-outs ahead, valuable customers at risk, prices waiting
for a decision. One call instead of three, each part from its own current model (absent until it is trained)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import Field

from api.dependencies import Catalogue, Models, PriceDecisions, TenantMember, Tenants
from luxebrain.errors import NotFoundError
from luxebrain.ml.pricing import decisions as price_decisions
from luxebrain.ml.pricing.suggestions import NoSuggestion
from luxebrain.serving import inventory
from luxebrain.serving.loader import ModelCache
from luxebrain.storage.catalogue import CatalogueRepository
from luxebrain.storage.pricing import PriceDecisionRepository
from luxebrain.storage.tenants import TenantRepository
from luxebrain.webapi.models import ApiModel

router = APIRouter(tags=["overview"])

STOCKOUT_WINDOW_DAYS = 14  # "ahead" on the overview: within the next two weeks


class StockoutAlert(ApiModel):
    product_id: str
    stockout_date: str | None
    days_of_cover: float | None
    reorder_quantity: int


class StockoutAlerts(ApiModel):
    reorder_now: int = Field(description="products whose stock will not cover the lead time")
    within_window: list[StockoutAlert] = Field(description="expected to sell out within the window, soonest first")


class AtRiskAlerts(ApiModel):
    customers: int = Field(description="valuable customers at medium or high churn risk (at most `limit` counted)")
    revenue_at_stake: float


class PriceAlerts(ApiModel):
    waiting: int = Field(description="price suggestions of the current model waiting for approval")


class AlertsResponse(ApiModel):
    window_days: int
    stockouts: StockoutAlerts | None = Field(description="null until a forecast model is trained")
    at_risk: AtRiskAlerts | None = Field(description="null until a customer model is trained")
    prices: PriceAlerts | None = Field(description="null until a pricing model is trained")


@router.get("/overview/alerts", response_model=AlertsResponse, summary="This week's alerts for the overview")
def alerts(
    principal: TenantMember,
    catalogue: Catalogue,
    models: Models,
    decisions: PriceDecisions,
    tenants: Tenants,
    lead_time_days: Annotated[int, Query(ge=1, le=182)] = 14,
    limit: Annotated[int, Query(ge=1, le=100)] = 100,
) -> AlertsResponse:
    tenant_id = principal.require_tenant()
    return AlertsResponse(
        window_days=STOCKOUT_WINDOW_DAYS,
        stockouts=_stockouts(tenant_id, models, catalogue, lead_time_days, limit),
        at_risk=_at_risk(tenant_id, models, limit),
        prices=_prices(tenant_id, models, catalogue, decisions, tenants),
    )


def _stockouts(
    tenant_id: str, models: ModelCache, catalogue: CatalogueRepository, lead_time_days: int, limit: int
) -> StockoutAlerts | None:
    try:
        forecasts, _ = models.current_serving(tenant_id, "forecast")
    except NotFoundError:
        return None
    advice, _ = inventory.reorder_list(tenant_id, catalogue, forecasts, lead_time_days, 0.95, limit)
    products = [item.advice for item in advice]
    soon = [
        StockoutAlert(
            product_id=item.product_id,
            stockout_date=item.stockout_date,
            days_of_cover=item.days_of_cover,
            reorder_quantity=item.reorder_quantity,
        )
        for item in products
        if item.days_of_cover is not None and item.days_of_cover <= STOCKOUT_WINDOW_DAYS
    ]
    return StockoutAlerts(reorder_now=sum(1 for item in products if item.reorder_now), within_window=soon)


def _at_risk(tenant_id: str, models: ModelCache, limit: int) -> AtRiskAlerts | None:
    try:
        scores, _ = models.current_serving(tenant_id, "customers")
    except NotFoundError:
        return None
    rows = scores.at_risk(limit=limit)
    return AtRiskAlerts(
        customers=len(rows), revenue_at_stake=round(sum(float(row["revenue_at_stake"]) for row in rows), 2)
    )


def _prices(
    tenant_id: str,
    models: ModelCache,
    catalogue: CatalogueRepository,
    decisions: PriceDecisionRepository,
    tenants: TenantRepository,
) -> PriceAlerts | None:
    try:
        _, answers, _ = price_decisions.current_suggestions(
            tenant_id, models=models, catalogue=catalogue, decisions=decisions, tenants=tenants
        )
    except NotFoundError:
        return None
    return PriceAlerts(waiting=sum(1 for answer in answers if not isinstance(answer, NoSuggestion)))

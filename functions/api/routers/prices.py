"""Price suggestions from the pricing model, and the merchant's approve / reject / rollback decisions."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query
from pydantic import ConfigDict, Field

from api.dependencies import (
    Catalogue,
    Models,
    PriceDecisions,
    SecretsVault,
    StaffOrOwner,
    TenantMember,
    Tenants,
    expensive_action,
)
from luxebrain.auth.principal import Principal
from luxebrain.ml.pricing import decisions as price_decisions
from luxebrain.ml.pricing.suggestions import NoSuggestion
from luxebrain.storage.pricing import PriceDecision
from luxebrain.webapi.models import ApiModel
from luxebrain.webapi.pagination import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE

router = APIRouter(prefix="/prices", tags=["prices"])

ProductId = Annotated[str, Path(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:@-]{0,127}$", max_length=128)]
DecisionId = Annotated[str, Path(pattern=r"^[0-9T]{21}-[0-9a-f]{6}$")]
ApplyingPrincipal = Annotated[Principal, Depends(expensive_action("apply_prices"))]


async def price_store_clients(
    vault: SecretsVault, catalogue: Catalogue, tenants: Tenants
) -> price_decisions.StoreClientFactory:
    """The stores' REST clients that approvals and rollbacks write prices through."""
    return price_decisions.store_clients(vault, catalogue, tenants)


PriceStoreClients = Annotated[price_decisions.StoreClientFactory, Depends(price_store_clients)]


class SuggestionsResponse(ApiModel):
    model_version: str
    serves: Literal["model", "baseline"] = Field(
        description="model, or baseline: on its hold-out the demand model predicted weekly sales no better than"
        " recent sales with price ignored, so every price is kept (no suggestions; each product's code"
        " keep_price_baseline)"
    )
    suggestions: list[dict[str, Any]] = Field(description="per product: suggested price, expected effect, reasons")
    no_suggestion: list[dict[str, Any]] = Field(description="products without a suggestion, with the reason")


@router.get("/suggestions", response_model=SuggestionsResponse, summary="Price suggestions of the current model")
def suggestions(
    principal: TenantMember,
    models: Models,
    catalogue: Catalogue,
    decisions: PriceDecisions,
    tenants: Tenants,
    confidence: Literal["high", "medium", "low"] | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> SuggestionsResponse:
    version, answers, serves = price_decisions.current_suggestions(
        principal.require_tenant(), models=models, catalogue=catalogue, decisions=decisions, tenants=tenants
    )
    made = [a.to_dict() for a in answers if not isinstance(a, NoSuggestion)]
    if confidence:
        made = [s for s in made if s["confidence"] == confidence]
    made.sort(key=lambda s: -float(s["expected_margin_change"]))
    skipped = [a.to_dict() for a in answers if isinstance(a, NoSuggestion)]
    return SuggestionsResponse(
        model_version=version, serves=serves, suggestions=made[:limit], no_suggestion=skipped[:limit]
    )


class DecisionRequest(ApiModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"model_version": "20260301T020000-ab12cd"}]}
    )
    model_version: str = Field(min_length=1, max_length=80, description="the version the suggestion came from")
    variation_id: str | None = Field(default=None, pattern=r"^[0-9]{1,20}$")
    reason: str | None = Field(default=None, max_length=500)


class DecisionResponse(ApiModel):
    decision_id: str
    product_id: str
    variation_id: str | None
    status: str
    model_version: str
    decided_by: str
    decided_at: datetime
    reason: str | None
    suggestion: dict[str, Any]
    change: dict[str, Any] | None
    rollback: dict[str, Any] | None


def _decision_response(item: PriceDecision) -> DecisionResponse:
    return DecisionResponse(
        decision_id=item.decision_id,
        product_id=item.product_id,
        variation_id=item.variation_id,
        status=item.status,
        model_version=item.model_version,
        decided_by=item.decided_by,
        decided_at=item.decided_at,
        reason=item.reason,
        suggestion=item.suggestion or {},
        change=item.change_record,
        rollback=item.rollback_record,
    )


@router.post(
    "/suggestions/{product_id}/approve",
    status_code=201,
    response_model=DecisionResponse,
    summary="Approve a suggestion: the price is written to the store (409 if the store's price moved)",
)
def approve(
    product_id: ProductId,
    body: DecisionRequest,
    principal: ApplyingPrincipal,
    store_clients: PriceStoreClients,
    models: Models,
    catalogue: Catalogue,
    decisions: PriceDecisions,
    tenants: Tenants,
) -> DecisionResponse:
    item = price_decisions.approve(
        principal.require_tenant(),
        product_id,
        body.variation_id,
        model_version=body.model_version,
        approver=principal.subject,
        clients=store_clients,
        models=models,
        catalogue=catalogue,
        decisions=decisions,
        tenants=tenants,
    )
    return _decision_response(item)


@router.post(
    "/suggestions/{product_id}/reject",
    status_code=201,
    response_model=DecisionResponse,
    summary="Reject a suggestion (kept for the record; the price is not touched)",
)
def reject(
    product_id: ProductId,
    body: DecisionRequest,
    principal: StaffOrOwner,
    models: Models,
    catalogue: Catalogue,
    decisions: PriceDecisions,
    tenants: Tenants,
) -> DecisionResponse:
    item = price_decisions.reject(
        principal.require_tenant(),
        product_id,
        body.variation_id,
        model_version=body.model_version,
        by=principal.subject,
        reason=body.reason,
        models=models,
        catalogue=catalogue,
        decisions=decisions,
        tenants=tenants,
    )
    return _decision_response(item)


class RollbackRequest(ApiModel):
    model_config = ConfigDict(extra="forbid")
    force: bool = Field(default=False, description="roll back even if the price was changed again since")


@router.post(
    "/decisions/{decision_id}/rollback",
    response_model=DecisionResponse,
    summary="Put back the prices an approved change overwrote",
)
def rollback(
    decision_id: DecisionId,
    body: RollbackRequest,
    principal: ApplyingPrincipal,
    store_clients: PriceStoreClients,
    decisions: PriceDecisions,
) -> DecisionResponse:
    item = price_decisions.rollback(
        principal.require_tenant(),
        decision_id,
        by=principal.subject,
        clients=store_clients,
        decisions=decisions,
        force=body.force,
    )
    return _decision_response(item)


class DecisionPage(ApiModel):
    items: list[DecisionResponse]
    next_cursor: str | None


@router.get("/decisions", response_model=DecisionPage, summary="Price decisions, newest first")
def decisions(
    principal: TenantMember,
    repository: PriceDecisions,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = DEFAULT_PAGE_SIZE,
    cursor: Annotated[str | None, Query(max_length=2048)] = None,
) -> DecisionPage:
    page = price_decisions.list_decisions(principal.require_tenant(), repository, limit=limit, cursor=cursor)
    return DecisionPage(items=[_decision_response(item) for item in page.items], next_cursor=page.next_cursor)


@router.get("/decisions/{decision_id}", response_model=DecisionResponse, summary="One price decision")
def decision(decision_id: DecisionId, principal: TenantMember, decisions: PriceDecisions) -> DecisionResponse:
    return _decision_response(price_decisions.get_decision(principal.require_tenant(), decision_id, decisions))

"""Recommendations for dashboards and storefront widgets (which authenticate with a publishable key)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from api.dependencies import RecommendationsReader
from luxebrain.auth.principal import AuthKind
from luxebrain.errors import ForbiddenError, InvalidInputError
from luxebrain.ml.recommend_serving import (
    RecommendationInputError,
    RecommendationRules,
    Recommendations,
)
from luxebrain.recommendations import recommender_with_rules

router = APIRouter(prefix="/recommendations", tags=["recommendations"])

EntityId = Annotated[str, Query(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:@-]{0,127}$", max_length=128)]
K = Annotated[int, Query(ge=1, le=50, description="how many products")]


class RecommendedProductResponse(BaseModel):
    product_id: str
    score: float
    lift: float | None = None
    pinned: bool = False


class RecommendationResponse(BaseModel):
    strategy: str = Field(description="ease, item_knn, blend or popular_fallback: how the answer was made")
    mode: str
    model_version: str
    items: list[RecommendedProductResponse]


def _response(recommendations: Recommendations, version: str) -> RecommendationResponse:
    return RecommendationResponse(
        strategy=recommendations.strategy,
        mode=recommendations.mode,
        model_version=version,
        items=[
            RecommendedProductResponse(product_id=p.product_id, score=p.score, lift=p.lift, pinned=p.pinned)
            for p in recommendations.products
        ],
    )


@router.get("/for-you", response_model=RecommendationResponse, summary="Personal picks for a customer")
async def for_you(
    principal: RecommendationsReader,
    customer_id: EntityId,
    k: K = 10,
    exclude_purchased: bool = False,
) -> RecommendationResponse:
    if principal.kind is AuthKind.STOREFRONT:
        # A publishable key is public (it sits in the shop's pages) and customer ids are sequential: personal
        # picks would let anyone read a customer's purchases. Storefronts use similar / basket / popular.
        raise ForbiddenError("a storefront key cannot read a customer's personal recommendations")
    tenant_id = principal.require_tenant()
    recommender, version, rules = recommender_with_rules(tenant_id)
    if exclude_purchased:
        rules = RecommendationRules(unavailable=rules.unavailable, exclude_purchased=True)
    try:
        return _response(recommender.for_customer(customer_id, k, rules), version)
    except RecommendationInputError as exc:
        raise InvalidInputError(str(exc)) from None


@router.get("/similar", response_model=RecommendationResponse, summary="Products similar to one product")
async def similar(principal: RecommendationsReader, product_id: EntityId, k: K = 10) -> RecommendationResponse:
    tenant_id = principal.require_tenant()
    recommender, version, rules = recommender_with_rules(tenant_id)
    try:
        return _response(recommender.similar([product_id], k, rules), version)
    except RecommendationInputError as exc:
        raise InvalidInputError(str(exc)) from None


class BasketRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"product_ids": ["101", "205"], "k": 6}]})
    product_ids: list[Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:@-]{0,127}$")]] = Field(
        min_length=1, max_length=50
    )
    k: int = Field(default=10, ge=1, le=50)


@router.post("/basket", response_model=RecommendationResponse, summary="What goes with the products in a basket")
async def basket(body: BasketRequest, principal: RecommendationsReader) -> RecommendationResponse:
    tenant_id = principal.require_tenant()
    recommender, version, rules = recommender_with_rules(tenant_id)
    try:
        return _response(recommender.similar(body.product_ids, body.k, rules), version)
    except RecommendationInputError as exc:
        raise InvalidInputError(str(exc)) from None


@router.get("/popular", response_model=RecommendationResponse, summary="Trending products, optionally by category")
async def popular(
    principal: RecommendationsReader,
    k: K = 10,
    category: Annotated[str | None, Query(min_length=1, max_length=128)] = None,
) -> RecommendationResponse:
    tenant_id = principal.require_tenant()
    recommender, version, rules = recommender_with_rules(tenant_id)
    try:
        return _response(recommender.popular(k, rules, category=category), version)
    except RecommendationInputError as exc:
        raise InvalidInputError(str(exc)) from None

"""Recommendations for dashboards and storefront widgets (which authenticate with a publishable key)."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Annotated

from fastapi import APIRouter, Query
from pydantic import ConfigDict, Field

from api.dependencies import Catalogue, Merchandising, Models, RecommendationsReader, Tenants
from luxebrain.auth.principal import AuthKind, Principal
from luxebrain.billing.plans import tenant_profile
from luxebrain.campaigns.abtest import HOLDOUT
from luxebrain.errors import ForbiddenError, InvalidInputError
from luxebrain.ml.recommend.rules import RecommendationInputError, RecommendationRules, Recommendations
from luxebrain.serving.recommendations import recommender_with_rules
from luxebrain.storage.catalogue import CatalogueRepository
from luxebrain.storage.merchandising import MerchandisingRepository
from luxebrain.storage.tenants import TenantRepository
from luxebrain.storefront.events import VISITOR_PATTERN
from luxebrain.storefront.holdout import holdout_share_of, visitor_arm
from luxebrain.webapi.models import ApiModel

if TYPE_CHECKING:
    from luxebrain.ml.recommend.serving import Recommender
    from luxebrain.serving.loader import ModelCache

router = APIRouter(prefix="/recommendations", tags=["recommendations"])

EntityId = Annotated[str, Query(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:@-]{0,127}$", max_length=128)]
K = Annotated[int, Query(ge=1, le=50, description="how many products")]
VisitorId = Annotated[
    str | None,
    Query(
        pattern=VISITOR_PATTERN,
        description="storefront widgets: the random visitor id; a hold-out share of visitors gets popular products",
    ),
]


class RecommendedProductResponse(ApiModel):
    product_id: str
    score: float
    lift: float | None = None
    pinned: bool = False


class RecommendationResponse(ApiModel):
    strategy: str = Field(
        description="how the answer was made: ease, item_knn, blend, popular_fallback (nothing personal to go on)"
        " or popular_baseline (the model did not beat popularity on its hold-out, so popularity serves)"
    )
    mode: str
    model_version: str
    response_id: str = Field(description="random id of this answer: the widget's events name it")
    arm: str | None = Field(
        default=None, description="storefront answers with a visitor id: treatment, or holdout (popular products)"
    )
    items: list[RecommendedProductResponse]


def _response(recommendations: Recommendations, version: str, arm: str | None = None) -> RecommendationResponse:
    return RecommendationResponse(
        strategy=recommendations.strategy,
        mode=recommendations.mode,
        model_version=version,
        response_id=secrets.token_urlsafe(12),
        arm=arm,
        items=[
            RecommendedProductResponse(product_id=p.product_id, score=p.score, lift=p.lift, pinned=p.pinned)
            for p in recommendations.products
        ],
    )


def _serve(
    principal: Principal,
    models: ModelCache,
    catalogue: CatalogueRepository,
    merchandising: MerchandisingRepository,
    tenants: TenantRepository,
    visitor_id: str | None,
    k: int,
    answer: Callable[[Recommender, RecommendationRules], Recommendations],
    *,
    fallback: Callable[[Recommender, RecommendationRules], Recommendations] | None = None,
) -> RecommendationResponse:
    """The answer, or for a storefront visitor in the hold-out the popularity fallback instead."""
    tenant_id = principal.require_tenant()
    recommender, version, rules = recommender_with_rules(
        tenant_id, models=models, catalogue=catalogue, merchandising=merchandising, tenants=tenants
    )
    arm = None
    if principal.kind is AuthKind.STOREFRONT and visitor_id:
        arm = visitor_arm(tenant_id, visitor_id, holdout_share_of(tenant_profile(tenant_id, tenants=tenants).settings))
    try:
        if arm == HOLDOUT:
            recommendations = (fallback or (lambda model, rules: model.popular(k, rules)))(recommender, rules)
        else:
            recommendations = answer(recommender, rules)
    except RecommendationInputError as exc:
        raise InvalidInputError(str(exc)) from None
    return _response(recommendations, version, arm)


@router.get("/for-you", response_model=RecommendationResponse, summary="Personal picks for a customer")
async def for_you(
    principal: RecommendationsReader,
    models: Models,
    catalogue: Catalogue,
    merchandising: Merchandising,
    tenants: Tenants,
    customer_id: EntityId,
    k: K = 10,
    exclude_purchased: bool = False,
) -> RecommendationResponse:
    if principal.kind is AuthKind.STOREFRONT:
        # A publishable key is public (it sits in the shop's pages) and customer ids are sequential: personal
        # picks would let anyone read a customer's purchases. Storefronts use similar / basket / popular.
        raise ForbiddenError("a storefront key cannot read a customer's personal recommendations")

    def personal(recommender: Recommender, rules: RecommendationRules) -> Recommendations:
        if exclude_purchased:
            rules = replace(rules, exclude_purchased=True)  # the merchant's pins and blocks stay
        return recommender.for_customer(customer_id, k, rules)

    # No visitor id: a dashboard user's answer, never a hold-out arm.
    return _serve(principal, models, catalogue, merchandising, tenants, None, k, personal)


@router.get("/similar", response_model=RecommendationResponse, summary="Products similar to one product")
async def similar(
    principal: RecommendationsReader,
    models: Models,
    catalogue: Catalogue,
    merchandising: Merchandising,
    tenants: Tenants,
    product_id: EntityId,
    k: K = 10,
    visitor_id: VisitorId = None,
) -> RecommendationResponse:
    return _serve(
        principal,
        models,
        catalogue,
        merchandising,
        tenants,
        visitor_id,
        k,
        lambda recommender, rules: recommender.similar([product_id], k, rules),
    )


class BasketRequest(ApiModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"product_ids": ["101", "205"], "k": 6}]})
    product_ids: list[Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:@-]{0,127}$")]] = Field(
        min_length=1, max_length=50
    )
    k: int = Field(default=10, ge=1, le=50)
    visitor_id: str | None = Field(default=None, pattern=VISITOR_PATTERN)


@router.post("/basket", response_model=RecommendationResponse, summary="What goes with the products in a basket")
async def basket(
    body: BasketRequest,
    principal: RecommendationsReader,
    models: Models,
    catalogue: Catalogue,
    merchandising: Merchandising,
    tenants: Tenants,
) -> RecommendationResponse:
    return _serve(
        principal,
        models,
        catalogue,
        merchandising,
        tenants,
        body.visitor_id,
        body.k,
        lambda recommender, rules: recommender.similar(body.product_ids, body.k, rules),
    )


@router.get("/popular", response_model=RecommendationResponse, summary="Trending products, optionally by category")
async def popular(
    principal: RecommendationsReader,
    models: Models,
    catalogue: Catalogue,
    merchandising: Merchandising,
    tenants: Tenants,
    k: K = 10,
    category: Annotated[str | None, Query(min_length=1, max_length=128)] = None,
    visitor_id: VisitorId = None,
) -> RecommendationResponse:
    # Trending is popularity for everyone, hold-out included: its arms compare like with like (no lift).
    def trending(recommender: Recommender, rules: RecommendationRules) -> Recommendations:
        return recommender.popular(k, rules, category=category)

    return _serve(principal, models, catalogue, merchandising, tenants, visitor_id, k, trending, fallback=trending)

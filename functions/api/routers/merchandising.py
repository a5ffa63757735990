"""The merchant's recommendation rules: pin products first, boost them, or block them from every answer
(the dashboard's previews, the storefront widget, campaign picks served through the API)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter
from pydantic import ConfigDict, Field

from api.dependencies import Catalogue, Merchandising, StaffOrOwner, TenantMember, Tenants
from luxebrain.serving import merchandising
from luxebrain.webapi.models import ApiModel

router = APIRouter(tags=["recommendations"])

ProductId = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:@-]{0,127}$")]
Boost = Annotated[float, Field(ge=-1.0, le=1.0, description="added to the score (the best candidate scores about 1)")]


class RulesRequest(ApiModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"pinned": ["101"], "boosts": {"205": 0.3}, "blocked": ["17"]}]},
    )

    pinned: list[ProductId] = Field(default_factory=list, max_length=merchandising.MAX_PINNED)
    boosts: dict[ProductId, Boost] = Field(default_factory=dict, max_length=merchandising.MAX_BOOSTED)
    blocked: list[ProductId] = Field(default_factory=list, max_length=merchandising.MAX_BLOCKED)


class RulesResponse(ApiModel):
    pinned: list[str] = Field(description="shown first, in this order, wherever they may be shown")
    boosts: dict[str, float]
    blocked: list[str] = Field(description="never shown")
    updated_at: datetime | None = None
    updated_by: str | None = None


def _response(rules: merchandising.MerchandisingRules) -> RulesResponse:
    return RulesResponse(
        pinned=list(rules.pinned),
        boosts=dict(rules.boosts),
        blocked=sorted(rules.blocked),
        updated_at=rules.updated_at,
        updated_by=rules.updated_by,
    )


@router.get("/recommendations/rules", response_model=RulesResponse, summary="The recommendation rules")
def rules(principal: TenantMember, repository: Merchandising) -> RulesResponse:
    return _response(merchandising.rules_of(principal.require_tenant(), repository))


@router.put(
    "/recommendations/rules",
    response_model=RulesResponse,
    summary="Replace the recommendation rules (staff): pinned first, boosted, blocked; audited",
    responses={422: {"description": "an unknown product, a duplicate, or a product both pinned and blocked"}},
)
def replace_rules(
    body: RulesRequest, principal: StaffOrOwner, catalogue: Catalogue, repository: Merchandising, tenants: Tenants
) -> RulesResponse:
    tenant_id = principal.require_tenant()
    saved = merchandising.replace_rules(
        tenant_id,
        pinned=body.pinned,
        boosts=body.boosts,
        blocked=body.blocked,
        actor=principal.subject,
        catalogue=catalogue,
        merchandising=repository,
        audit=tenants,
    )
    return _response(saved)

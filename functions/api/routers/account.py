"""The signed-in user and their tenant: profile, settings, plan and usage, members, audit, storefront key."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from zoneinfo import available_timezones

from fastapi import APIRouter, Query, Response
from fastapi import Path as PathParam
from pydantic import ConfigDict, Field, field_validator

from api.dependencies import CurrentPrincipal, Members, OwnerOnly, TenantMember, Tenants, Usage, Users
from luxebrain.auth import accounts
from luxebrain.auth.members import audit_page, list_members, record_audit
from luxebrain.auth.storefront import describe_storefront_key, issue_storefront_key
from luxebrain.billing.plans import PLANS, forget_tenant, tenant_profile
from luxebrain.ml.pricing.rules import GuardrailConfig
from luxebrain.storage.tenants import AuditRecord, Tenant
from luxebrain.text import PlainLine
from luxebrain.webapi.models import ApiModel
from luxebrain.webapi.pagination import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE

router = APIRouter(tags=["account"])


class MeResponse(ApiModel):
    user_id: str
    role: str
    auth: str
    tenant_id: str | None
    tenant_name: str | None = None
    plan: str | None = None
    impersonated_by: str | None = None


@router.get("/me", response_model=MeResponse, summary="Who am I: role, tenant and plan")
async def me(principal: CurrentPrincipal, tenants: Tenants) -> MeResponse:
    response = MeResponse(
        user_id=principal.subject,
        role=str(principal.role),
        auth=str(principal.kind),
        tenant_id=principal.tenant_id,
        impersonated_by=principal.impersonated_by,
    )
    if principal.tenant_id:
        tenant = tenant_profile(principal.tenant_id, tenants=tenants)
        response.tenant_name, response.plan = tenant.name, tenant.plan
    return response


# ----------------------------------------------------------------------------- settings
class TenantSettings(ApiModel):
    """What a merchant can set. Unknown fields are refused, so typos do not pass silently."""

    model_config = ConfigDict(extra="forbid")

    display_name: PlainLine | None = Field(default=None, min_length=2, max_length=120)
    currency: str | None = Field(default=None, pattern=r"^[A-Z]{3}$", examples=["EUR"])
    timezone: str | None = Field(default=None, max_length=64, examples=["Europe/Paris"])
    recommendations_exclude_out_of_stock: bool | None = None
    weekly_report: bool | None = None
    pricing_guardrails: GuardrailConfig | None = None
    storefront_holdout_share: float | None = Field(
        default=None, ge=0.0, le=0.5, description="share of storefront visitors held out (popular products)"
    )
    storefront_origins: list[Annotated[str, Field(pattern=r"^https?://[A-Za-z0-9.-]+(:\d{1,5})?$")]] | None = Field(
        default=None, max_length=10, description="origins besides the stores' own that may use the storefront key"
    )

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str | None) -> str | None:
        if value is not None and value not in available_timezones():
            raise ValueError("unknown time zone; use an IANA name such as Europe/Paris")
        return value


class TenantResponse(ApiModel):
    tenant_id: str
    name: str
    plan: str
    status: str
    created_at: datetime
    settings: dict[str, Any]


def _tenant_response(tenant: Tenant) -> TenantResponse:
    return TenantResponse(
        tenant_id=tenant.tenant_id,
        name=tenant.name,
        plan=tenant.plan,
        status=tenant.status,
        created_at=tenant.created_at,
        settings=dict(tenant.settings or {}),
    )


@router.get("/tenant", response_model=TenantResponse, summary="The tenant: name, plan, status and settings")
def get_tenant_profile(principal: TenantMember, tenants: Tenants) -> TenantResponse:
    return _tenant_response(tenant_profile(principal.require_tenant(), tenants=tenants, fresh=True))


@router.patch("/tenant/settings", response_model=TenantResponse, summary="Change tenant settings (owner)")
def update_settings(body: TenantSettings, principal: OwnerOnly, tenants: Tenants) -> TenantResponse:
    tenant_id = principal.require_tenant()
    changes = body.model_dump(mode="json", exclude_unset=True)
    tenant = tenants.update_tenant_settings(
        tenant_id, lambda current: {**current, **changes}, name=body.display_name or None
    )
    forget_tenant(tenant_id)
    record_audit(
        tenant_id,
        audit=tenants,
        action="settings.changed",
        actor=principal.subject,
        details={"fields": sorted(changes)},
    )
    return _tenant_response(tenant)


# ----------------------------------------------------------------------------- plan and usage
class UsageLineResponse(ApiModel):
    limit: str
    used: int
    allowed: int
    period: str


class PlanResponse(ApiModel):
    plan: str
    monthly_price_eur: int
    max_products: int
    max_orders: int
    campaign_channels: list[str]
    rate_limits_per_minute: dict[str, int]
    usage: list[UsageLineResponse]


class QuotaResponse(ApiModel):
    limit: str
    allowed: int
    period: str


class PublicPlan(ApiModel):
    plan: str
    monthly_price_eur: int
    max_products: int
    max_orders: int
    campaign_channels: list[str]
    quotas: list[QuotaResponse]


class PlansResponse(ApiModel):
    plans: list[PublicPlan]


@router.get("/plans", response_model=PlansResponse, tags=["plans"], summary="The plans on offer (public)")
def plans(response: Response) -> PlansResponse:
    response.headers["Cache-Control"] = "public, max-age=300"
    return PlansResponse(
        plans=[
            PublicPlan(
                plan=plan.name,
                monthly_price_eur=plan.monthly_price_eur,
                max_products=plan.max_products,
                max_orders=plan.max_orders,
                campaign_channels=sorted(plan.campaign_channels),
                quotas=[
                    QuotaResponse(limit=name, allowed=allowed, period=period)
                    for name, (allowed, period) in plan.quotas.items()
                ],
            )
            for plan in sorted(PLANS.values(), key=lambda plan: plan.monthly_price_eur)
        ]
    )


@router.get("/tenant/plan", response_model=PlanResponse, summary="The plan's limits and this period's usage")
def plan_and_usage(principal: TenantMember, usage: Usage) -> PlanResponse:
    tenant_id = principal.require_tenant()
    plan = usage.plan_of(tenant_id)
    return PlanResponse(
        plan=plan.name,
        monthly_price_eur=plan.monthly_price_eur,
        max_products=plan.max_products,
        max_orders=plan.max_orders,
        campaign_channels=sorted(plan.campaign_channels),
        rate_limits_per_minute=dict(plan.rate_limits),
        usage=[UsageLineResponse(**line.__dict__) for line in usage.usage_report(tenant_id)],
    )


# ----------------------------------------------------------------------------- members and audit
class MemberResponse(ApiModel):
    user_id: str
    email: str | None
    role: str
    created_at: datetime


@router.get("/tenant/members", response_model=list[MemberResponse], summary="Members of the tenant (owner)")
def members(principal: OwnerOnly, repository: Members) -> list[MemberResponse]:
    return [
        MemberResponse(user_id=m.user_sub, email=m.email, role=m.role, created_at=m.created_at)
        for m in list_members(principal.require_tenant(), members=repository)
    ]


MemberId = Annotated[str, PathParam(pattern=r"^[A-Za-z0-9-]{1,128}$", description="the member's user_id")]


@router.delete(
    "/tenant/members/{user_id}",
    status_code=204,
    response_class=Response,
    summary="Remove a member (owner): their sessions end at once, the removal is audited",
    responses={
        204: {"description": "removed; every session of the member has ended"},
        404: {"description": "no such member in this tenant"},
        409: {"description": "the owner themself, or the tenant's last owner"},
    },
)
def remove_member(
    user_id: MemberId, principal: OwnerOnly, users: Users, members: Members, tenants: Tenants, usage: Usage
) -> Response:
    accounts.remove_member(
        principal.require_tenant(),
        user_id,
        actor=principal.subject,
        users=users,
        members=members,
        audit=tenants,
        usage=usage,
    )
    return Response(status_code=204)


class AuditResponse(ApiModel):
    action: str
    actor: str
    reason: str | None
    details: dict[str, Any]
    created_at: datetime


class AuditPage(ApiModel):
    items: list[AuditResponse]
    next_cursor: str | None


def audit_response(item: AuditRecord) -> AuditResponse:
    return AuditResponse(
        action=item.action, actor=item.actor, reason=item.reason, details=item.details or {}, created_at=item.created_at
    )


@router.get("/tenant/audit", response_model=AuditPage, summary="Audit records, newest first (owner)")
def audit(
    principal: OwnerOnly,
    tenants: Tenants,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = DEFAULT_PAGE_SIZE,
    cursor: Annotated[str | None, Query(max_length=2048)] = None,
) -> AuditPage:
    page = audit_page(principal.require_tenant(), audit=tenants, limit=limit, cursor=cursor)
    return AuditPage(items=[audit_response(item) for item in page.items], next_cursor=page.next_cursor)


# ----------------------------------------------------------------------------- storefront key
class StorefrontKeyResponse(ApiModel):
    key_id: str
    created_at: datetime
    rotated_at: datetime | None
    previous_key_valid_until: int | None = Field(description="epoch seconds; the old key's grace period")


class IssuedKeyResponse(ApiModel):
    key: str = Field(description="shown once: store it in the storefront widget's configuration")
    key_id: str
    previous_key_valid_until: int | None


@router.get(
    "/tenant/storefront-key", response_model=StorefrontKeyResponse | None, summary="The storefront key's metadata"
)
def storefront_key(principal: OwnerOnly, members: Members) -> StorefrontKeyResponse | None:
    item = describe_storefront_key(principal.require_tenant(), keys=members)
    if item is None:
        return None
    return StorefrontKeyResponse(
        key_id=item.key_id,
        created_at=item.created_at,
        rotated_at=item.rotated_at,
        previous_key_valid_until=item.previous_valid_until,
    )


@router.post(
    "/tenant/storefront-key",
    status_code=201,
    response_model=IssuedKeyResponse,
    summary="Create or rotate the publishable storefront key (recommendations only; the old one has 15 min grace)",
)
def rotate_storefront_key(principal: OwnerOnly, members: Members, tenants: Tenants) -> IssuedKeyResponse:
    tenant_id = principal.require_tenant()
    issued = issue_storefront_key(tenant_id, keys=members)
    record_audit(
        tenant_id,
        audit=tenants,
        action="storefront_key.issued",
        actor=principal.subject,
        details={"key_id": issued.key_id},
    )
    return IssuedKeyResponse(key=issued.key, key_id=issued.key_id, previous_key_valid_until=issued.grace_until)

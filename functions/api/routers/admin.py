"""Platform administration: the tenant directory, suspension, plans, and audited impersonation."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query
from pydantic import ConfigDict, Field

from api.dependencies import Members, PlatformAdmin, Tenants
from api.routers.account import AuditPage, audit_response
from luxebrain.auth.members import audit_page, record_audit, start_impersonation
from luxebrain.auth.principal import Role
from luxebrain.billing.plans import change_plan, forget_tenant, tenant_profile
from luxebrain.storage.tenants import Tenant, TenantRepository
from luxebrain.webapi.models import ApiModel
from luxebrain.webapi.pagination import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE

router = APIRouter(prefix="/admin", tags=["admin"])

TenantId = Annotated[str, Path(pattern=r"^[a-z0-9][a-z0-9-]{2,38}[a-z0-9]$")]


class TenantSummary(ApiModel):
    tenant_id: str
    name: str
    plan: str
    status: str
    created_at: datetime


class TenantPage(ApiModel):
    items: list[TenantSummary]
    next_cursor: str | None


def _summary(tenant: Tenant) -> TenantSummary:
    return TenantSummary(
        tenant_id=tenant.tenant_id,
        name=tenant.name,
        plan=tenant.plan,
        status=tenant.status,
        created_at=tenant.created_at,
    )


@router.get("/tenants", response_model=TenantPage, summary="All tenants, by status then oldest first")
def list_tenants(
    principal: PlatformAdmin,
    tenants: Tenants,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = DEFAULT_PAGE_SIZE,
    cursor: Annotated[str | None, Query(max_length=2048)] = None,
    status: Literal["active", "suspended"] | None = None,
) -> TenantPage:
    page = tenants.list_tenants(limit=limit, cursor=cursor, status=status)
    return TenantPage(items=[_summary(tenant) for tenant in page.items], next_cursor=page.next_cursor)


class ReasonRequest(ApiModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    reason: str = Field(min_length=5, max_length=500, examples=["chargeback under review"])


def _set_status(tenants: TenantRepository, tenant_id: str, status: str, actor: str, reason: str) -> TenantSummary:
    tenant = tenants.set_tenant_status(tenant_id, status)
    forget_tenant(tenant_id)
    record_audit(tenant_id, audit=tenants, action=f"tenant.{status}", actor=actor, reason=reason)
    return _summary(tenant)


@router.post("/tenants/{tenant_id}/suspend", response_model=TenantSummary, summary="Suspend a tenant")
def suspend(tenant_id: TenantId, body: ReasonRequest, principal: PlatformAdmin, tenants: Tenants) -> TenantSummary:
    return _set_status(tenants, tenant_id, "suspended", principal.subject, body.reason)


@router.post("/tenants/{tenant_id}/reactivate", response_model=TenantSummary, summary="Reactivate a tenant")
def reactivate(tenant_id: TenantId, body: ReasonRequest, principal: PlatformAdmin, tenants: Tenants) -> TenantSummary:
    return _set_status(tenants, tenant_id, "active", principal.subject, body.reason)


class PlanChangeRequest(ApiModel):
    model_config = ConfigDict(extra="forbid")
    plan: Literal["free", "growth", "pro"]


@router.put("/tenants/{tenant_id}/plan", response_model=TenantSummary, summary="Change a tenant's plan")
def set_plan(tenant_id: TenantId, body: PlanChangeRequest, principal: PlatformAdmin, tenants: Tenants) -> TenantSummary:
    tenant = change_plan(tenant_id, body.plan, tenants=tenants)
    record_audit(tenant_id, audit=tenants, action="plan.changed", actor=principal.subject, details={"plan": body.plan})
    return _summary(tenant_profile(tenant.tenant_id, tenants=tenants, fresh=True))


class StorePortsRequest(ReasonRequest):
    ports: list[Annotated[int, Field(ge=1, le=65535)]] = Field(
        max_length=5, description="non-standard ports this tenant's store URLs may use (empty: none)"
    )


class StorePortsResponse(ApiModel):
    tenant_id: str
    allowed_store_ports: list[int]


@router.put(
    "/tenants/{tenant_id}/store-ports",
    response_model=StorePortsResponse,
    summary="Allow a tenant's store URLs a non-standard port (audited)",
)
def allow_store_ports(
    tenant_id: TenantId, body: StorePortsRequest, principal: PlatformAdmin, tenants: Tenants
) -> StorePortsResponse:
    ports = sorted(set(body.ports))
    tenant_profile(tenant_id, tenants=tenants, fresh=True)  # 404 for an unknown tenant
    tenants.update_tenant_settings(tenant_id, lambda current: {**current, "allowed_store_ports": ports})
    forget_tenant(tenant_id)
    record_audit(
        tenant_id,
        audit=tenants,
        action="store_ports.allowed",
        actor=principal.subject,
        reason=body.reason,
        details={"ports": ports},
    )
    return StorePortsResponse(tenant_id=tenant_id, allowed_store_ports=ports)


class ImpersonationRequest(ReasonRequest):
    role: Literal["read-only", "staff", "owner"] = "read-only"


class ImpersonationResponse(ApiModel):
    session: str = Field(description="send as the X-Impersonation header, with the admin's own bearer token")
    tenant_id: str
    role: str
    expires_in: int


@router.post(
    "/tenants/{tenant_id}/impersonate",
    status_code=201,
    response_model=ImpersonationResponse,
    summary="Act inside a tenant for an hour (recorded in the tenant's audit log)",
)
def impersonate(
    tenant_id: TenantId, body: ImpersonationRequest, principal: PlatformAdmin, members: Members, tenants: Tenants
) -> ImpersonationResponse:
    from luxebrain.auth.members import IMPERSONATION_SECONDS

    session = start_impersonation(
        principal, tenant_id, reason=body.reason, members=members, tenants=tenants, role=Role(body.role)
    )
    return ImpersonationResponse(session=session, tenant_id=tenant_id, role=body.role, expires_in=IMPERSONATION_SECONDS)


@router.get("/tenants/{tenant_id}/audit", response_model=AuditPage, summary="A tenant's audit records")
def tenant_audit(
    tenant_id: TenantId,
    principal: PlatformAdmin,
    tenants: Tenants,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = DEFAULT_PAGE_SIZE,
    cursor: Annotated[str | None, Query(max_length=2048)] = None,
) -> AuditPage:
    tenant_profile(tenant_id, tenants=tenants, fresh=True)  # 404 for an unknown tenant
    page = audit_page(tenant_id, audit=tenants, limit=limit, cursor=cursor)
    return AuditPage(items=[audit_response(item) for item in page.items], next_cursor=page.next_cursor)

"""Personal data requests: export and erase one customer; delete the whole tenant (owner only)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path
from pydantic import BaseModel, ConfigDict, Field

from api.dependencies import OwnerOnly, expensive_action
from luxebrain import privacy
from luxebrain.auth.members import record_audit
from luxebrain.auth.principal import Principal, Role
from luxebrain.billing.plans import tenant_profile

router = APIRouter(tags=["personal data"])

CustomerId = Annotated[str, Path(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:@-]{0,127}$", max_length=128)]
OwnerExport = Annotated[Principal, Depends(expensive_action("exports", Role.OWNER))]


class CustomerExport(BaseModel):
    tenant_id: str
    customer_id: str
    records: dict[str, list[dict[str, Any]]] = Field(description="every stored record about the customer, by kind")


@router.get(
    "/customers/{customer_id}/export",
    response_model=CustomerExport,
    summary="Export everything stored about a customer (data subject access request)",
)
def export_customer(customer_id: CustomerId, principal: OwnerExport) -> CustomerExport:
    tenant_id = principal.require_tenant()
    exported = privacy.export_customer(tenant_id, customer_id)
    record_audit(tenant_id, action="customer.exported", actor=principal.subject, details={"customer_id": customer_id})
    return CustomerExport(**exported)


class ErasureResponse(BaseModel):
    customer_id: str
    deleted: dict[str, int]
    anonymised: dict[str, int]
    remaining_items: int
    model_artifacts_naming_customer: list[str]
    notes: list[str]


@router.delete(
    "/customers/{customer_id}",
    response_model=ErasureResponse,
    summary="Erase a customer: delete their records, anonymise their orders (right to erasure)",
)
def erase_customer(customer_id: CustomerId, principal: OwnerExport) -> ErasureResponse:
    tenant_id = principal.require_tenant()
    report = privacy.erase_customer(tenant_id, customer_id)
    record_audit(
        tenant_id,
        action="customer.erased",
        actor=principal.subject,
        details={"customer_id_sha256_prefix": _fingerprint(customer_id), "deleted": report.deleted},
    )
    return ErasureResponse(**report.__dict__)


def _fingerprint(customer_id: str) -> str:
    import hashlib

    # The audit log must not keep the id it just erased; a short hash lets support match a request.
    return hashlib.sha256(customer_id.encode()).hexdigest()[:12]


class TenantDeletionRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    confirm: Literal["delete everything"] = Field(description='type exactly "delete everything"')
    tenant_name: str = Field(min_length=1, max_length=120, description="the tenant's name, as a second check")


class TenantDeletionResponse(BaseModel):
    tenant_id: str
    remaining: dict[str, int]
    complete: bool


@router.post(
    "/tenant/delete",
    response_model=TenantDeletionResponse,
    summary="Delete the tenant and everything it owns; reports what is left (nothing, when complete)",
)
def delete_tenant(body: TenantDeletionRequest, principal: OwnerOnly) -> TenantDeletionResponse:
    tenant_id = principal.require_tenant()
    tenant = tenant_profile(tenant_id, fresh=True)
    if body.tenant_name.strip() != tenant.name:
        from luxebrain.errors import InvalidInputError

        raise InvalidInputError("tenant_name does not match this tenant's name")
    leftovers = privacy.delete_tenant(tenant_id)
    return TenantDeletionResponse(
        tenant_id=tenant_id,
        remaining={
            "dynamodb_items": leftovers.dynamodb_items,
            "s3_objects": leftovers.s3_objects,
            "users": leftovers.users,
        },
        complete=leftovers.empty,
    )

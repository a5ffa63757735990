"""Personal data requests (owner only): export and erase one customer; delete the whole tenant.

Each is a job for the privacy worker (they read the table whole and can outlast a request): the route
answers 202 with the job, and ``GET /privacy/jobs/{job_id}`` says pending, running, done (with the result;
an export's file at ``GET /privacy/jobs/{job_id}/export``) or failed (with the reason).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Response
from pydantic import ConfigDict, Field

from api.dependencies import ModelsBucket, OwnerOnly, PrivacyJobs, PrivacyQueue, Tenants, expensive_action
from luxebrain.auth.principal import Principal, Role
from luxebrain.billing.plans import tenant_profile
from luxebrain.errors import InvalidInputError
from luxebrain.privacy import jobs
from luxebrain.storage.privacy_jobs import DONE, FAILED, PrivacyJob
from luxebrain.webapi.models import ApiModel

router = APIRouter(tags=["personal data"])

CustomerId = Annotated[str, Path(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:@-]{0,127}$", max_length=128)]
JobId = Annotated[str, Path(pattern=r"^pj-[0-9a-f]{24}$", max_length=27)]
OwnerExport = Annotated[Principal, Depends(expensive_action("exports", Role.OWNER))]
JobKindName = Literal["customer_export", "customer_erasure", "tenant_deletion"]


class PrivacyJobAccepted(ApiModel):
    job_id: str
    kind: JobKindName
    status: Literal["pending"] = "pending"
    status_url: str = Field(description="poll it: GET answers the job's status")


class PrivacyJobStatus(ApiModel):
    job_id: str
    kind: JobKindName
    status: Literal["pending", "running", "done", "failed"]
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    result: dict[str, Any] | None = Field(
        description="done: an export's record counts by kind; an erasure's report (deleted, anonymised, "
        "remaining items, model files still naming the customer); a deletion's leftovers"
    )
    export_url: str | None = Field(description="a done export: where to download it (kept 7 days)")
    failure_reason: str | None = Field(description="failed: why")


def _status_url(job_id: str) -> str:
    return f"/privacy/jobs/{job_id}"


def _accepted(job: PrivacyJob, response: Response) -> PrivacyJobAccepted:
    response.headers["Location"] = _status_url(job.job_id)
    return PrivacyJobAccepted(job_id=job.job_id, kind=job.kind, status_url=_status_url(job.job_id))


@router.post(
    "/customers/{customer_id}/export",
    status_code=202,
    response_model=PrivacyJobAccepted,
    summary="Export everything stored about a customer (data subject access request): a job to poll",
)
def export_customer(
    customer_id: CustomerId, principal: OwnerExport, queue: PrivacyQueue, response: Response, records: PrivacyJobs
) -> PrivacyJobAccepted:
    tenant_id = principal.require_tenant()
    job = jobs.request_customer_export(
        tenant_id, customer_id, queue=queue, requested_by=principal.subject, jobs=records
    )
    return _accepted(job, response)


@router.delete(
    "/customers/{customer_id}",
    status_code=202,
    response_model=PrivacyJobAccepted,
    summary="Erase a customer: delete their records, anonymise their orders (right to erasure): a job to poll",
)
def erase_customer(
    customer_id: CustomerId, principal: OwnerExport, queue: PrivacyQueue, response: Response, records: PrivacyJobs
) -> PrivacyJobAccepted:
    tenant_id = principal.require_tenant()
    job = jobs.request_customer_erasure(
        tenant_id, customer_id, queue=queue, requested_by=principal.subject, jobs=records
    )
    return _accepted(job, response)


@router.get("/privacy/jobs/{job_id}", response_model=PrivacyJobStatus, summary="A personal-data job's status")
def job_status(job_id: JobId, principal: OwnerOnly, records: PrivacyJobs) -> PrivacyJobStatus:
    job = jobs.job_status(principal.require_tenant(), job_id, jobs=records)
    exported = job.kind == "customer_export" and job.status == DONE
    return PrivacyJobStatus(
        job_id=job.job_id,
        kind=job.kind,
        status=job.status,
        created_at=job.created_at,
        started_at=job.started_at,
        finished_at=job.finished_at,
        result=job.result if job.status == DONE else None,
        export_url=f"{_status_url(job.job_id)}/export" if exported else None,
        failure_reason=job.failure_reason if job.status == FAILED else None,
    )


class CustomerExport(ApiModel):
    tenant_id: str
    customer_id: str
    records: dict[str, list[dict[str, Any]]] = Field(description="every stored record about the customer, by kind")


@router.get(
    "/privacy/jobs/{job_id}/export",
    response_model=CustomerExport,
    summary="The file a done export job wrote (everything stored about the customer, by kind)",
)
def job_export(job_id: JobId, principal: OwnerOnly, files: ModelsBucket, records: PrivacyJobs) -> CustomerExport:
    return CustomerExport(**jobs.job_export(principal.require_tenant(), job_id, files=files, jobs=records))


class TenantDeletionRequest(ApiModel):
    model_config = ConfigDict(extra="forbid")
    confirm: Literal["delete everything"] = Field(description='type exactly "delete everything"')
    tenant_name: str = Field(min_length=1, max_length=120, description="the tenant's name, as a second check")


@router.post(
    "/tenant/delete",
    status_code=202,
    response_model=PrivacyJobAccepted,
    summary="Delete the tenant and everything it owns: a job; once done, its accounts no longer sign in",
)
def delete_tenant(
    body: TenantDeletionRequest,
    principal: OwnerOnly,
    queue: PrivacyQueue,
    response: Response,
    tenants: Tenants,
    records: PrivacyJobs,
) -> PrivacyJobAccepted:
    tenant_id = principal.require_tenant()
    tenant = tenant_profile(tenant_id, tenants=tenants, fresh=True)
    if body.tenant_name.strip() != tenant.name:
        raise InvalidInputError("tenant_name does not match this tenant's name")
    job = jobs.request_tenant_deletion(tenant_id, queue=queue, requested_by=principal.subject, jobs=records)
    return _accepted(job, response)

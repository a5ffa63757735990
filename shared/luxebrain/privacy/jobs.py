"""Personal-data jobs: the API asks (a job record, then a message on the privacy queue, answered 202), the
privacy worker runs them, and the job's status says pending, running, done (with its result) or failed (with
the reason).

A delivery of a job that is finished, or running under another delivery's lease, does nothing: the queue may
deliver a message twice, and an erasure or a deletion must not run twice at once nor report twice. The job
records are read and written through the ``PrivacyJobRepository`` each function is given (``jobs=``), the
work's items through the worker's ``PersonalDataRepository`` (``personal_data=``).
"""

from __future__ import annotations

import time
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from luxebrain.adapters import MessageQueue, ObjectStore, UserDirectory
from luxebrain.errors import InvalidInputError, NotFoundError
from luxebrain.observability import logger
from luxebrain.privacy.requests import CUSTOMER_KINDS, JobKind, PrivacyJobMessage, subject_fingerprint
from luxebrain.storage.privacy_jobs import DONE, PrivacyJob, PrivacyJobRepository, job_key
from luxebrain.storage.tenants import AuditTrail

if TYPE_CHECKING:  # the API imports this module and never the whole-table code
    from luxebrain.storage.personal_data import PersonalDataRepository

# The privacy queue's maxReceiveCount: the last delivery records the failure before the message goes to the
# dead-letter queue (tests/unit/test_privacy_jobs.py holds this and the template together).
MAX_ATTEMPTS = 3
# Longer than the worker's 900 s timeout: a lease outlives the attempt that took it.
LEASE_SECONDS = 930
# A tenant deletion's job record is its receipt (no personal data): kept this long, then DynamoDB's TTL.
DELETION_RECEIPT_DAYS = 30


def _request(
    tenant_id: str,
    kind: JobKind,
    *,
    queue: MessageQueue,
    requested_by: str,
    jobs: PrivacyJobRepository,
    customer_id: str | None = None,
) -> PrivacyJob:
    subject = subject_fingerprint(tenant_id, customer_id) if customer_id is not None else None
    job = jobs.create_job(tenant_id, kind=kind, requested_by=requested_by, subject_sha256=subject)
    message = PrivacyJobMessage(
        job_id=job.job_id, tenant_id=tenant_id, kind=kind, customer_id=customer_id, requested_by=requested_by
    )
    try:
        queue.send(message.model_dump_json())
    except Exception:
        jobs.claim_job(tenant_id, job.job_id, lease_seconds=LEASE_SECONDS)
        jobs.fail_job(tenant_id, job.job_id, reason="the request could not be queued; ask again")
        raise
    return job


def request_customer_export(
    tenant_id: str, customer_id: str, *, queue: MessageQueue, requested_by: str, jobs: PrivacyJobRepository
) -> PrivacyJob:
    return _request(
        tenant_id, JobKind.CUSTOMER_EXPORT, queue=queue, requested_by=requested_by, jobs=jobs, customer_id=customer_id
    )


def request_customer_erasure(
    tenant_id: str, customer_id: str, *, queue: MessageQueue, requested_by: str, jobs: PrivacyJobRepository
) -> PrivacyJob:
    return _request(
        tenant_id, JobKind.CUSTOMER_ERASURE, queue=queue, requested_by=requested_by, jobs=jobs, customer_id=customer_id
    )


def request_tenant_deletion(
    tenant_id: str, *, queue: MessageQueue, requested_by: str, jobs: PrivacyJobRepository
) -> PrivacyJob:
    return _request(tenant_id, JobKind.TENANT_DELETION, queue=queue, requested_by=requested_by, jobs=jobs)


def job_status(tenant_id: str, job_id: str, *, jobs: PrivacyJobRepository) -> PrivacyJob:
    job = jobs.get_job(tenant_id, job_id)
    if job is None:
        raise NotFoundError(f"privacy job {job_id} not found")
    return job


def job_export(tenant_id: str, job_id: str, *, files: ObjectStore, jobs: PrivacyJobRepository) -> dict[str, Any]:
    """The export a finished export job wrote."""
    from luxebrain.privacy import export

    job = job_status(tenant_id, job_id, jobs=jobs)
    if job.kind != JobKind.CUSTOMER_EXPORT:
        raise NotFoundError(f"privacy job {job_id} is not an export")
    if job.status != DONE or not job.export_key:
        raise NotFoundError(f"privacy job {job_id} has no export yet (status {job.status})")
    return export.read_export(files, job.export_key)


# ----------------------------------------------------------------------------- the worker's side
def run_job(
    message: PrivacyJobMessage,
    *,
    attempt: int,
    files: ObjectStore,
    users: UserDirectory,
    audit: AuditTrail,
    jobs: PrivacyJobRepository,
    personal_data: PersonalDataRepository,
) -> str:
    """Run one delivery of a job (an export or erasure audited in ``audit``, its record in ``jobs``, the
    customer's or tenant's items in ``personal_data``); returns
    what happened (``done``, ``failed``, ``skipped``). An unexpected error is raised (the queue delivers the
    message again) after the job is put back to pending, or, on the last attempt, recorded as failed."""
    tenant_id, job_id = message.tenant_id, message.job_id
    job = jobs.claim_job(tenant_id, job_id, lease_seconds=LEASE_SECONDS)
    if job is None:
        logger.info("privacy job already finished or in progress", extra={"job_id": job_id})
        return "skipped"
    try:
        _run(message, files, users, audit, jobs, personal_data)
    except (NotFoundError, InvalidInputError) as exc:
        jobs.fail_job(tenant_id, job_id, reason=str(exc))
        return "failed"
    except Exception as exc:
        reason = f"{type(exc).__name__} on attempt {attempt} of {MAX_ATTEMPTS}"
        if attempt >= MAX_ATTEMPTS:
            jobs.fail_job(tenant_id, job_id, reason=f"could not complete: {reason}; support is alerted")
        else:
            jobs.release_job(tenant_id, job_id, reason=reason)
        raise
    return "done"


def _run(
    message: PrivacyJobMessage,
    files: ObjectStore,
    users: UserDirectory,
    audit: AuditTrail,
    jobs: PrivacyJobRepository,
    personal_data: PersonalDataRepository,
) -> None:
    # The work itself (and the whole-table code of storage.personal_data) is the worker's: not imported
    # by the API, which only asks for jobs and reads their status.
    from luxebrain.auth.members import record_audit
    from luxebrain.privacy import erasure, export, tenant_deletion

    tenant_id, job_id = message.tenant_id, message.job_id
    if message.kind in CUSTOMER_KINDS:
        assert message.customer_id is not None  # the message's own check
        audit_details: dict[str, Any] = {
            "job_id": job_id,
            # The audit log must not keep the id it may have to erase; a short hash lets support match a request.
            "customer_id_sha256_prefix": subject_fingerprint(tenant_id, message.customer_id)[:12],
        }
    if message.kind == JobKind.CUSTOMER_EXPORT:
        assert message.customer_id is not None
        exported = export.export_customer(tenant_id, message.customer_id, personal_data=personal_data)
        key = export.write_export(files, tenant_id, job_id, exported)
        counts = {entity: len(records) for entity, records in exported["records"].items()}
        jobs.finish_job(tenant_id, job_id, result={"records": counts}, export_key=key)
        record_audit(
            tenant_id, action="customer.exported", actor=message.requested_by, audit=audit, details=audit_details
        )
    elif message.kind == JobKind.CUSTOMER_ERASURE:
        assert message.customer_id is not None
        report = erasure.erase_customer(
            tenant_id, message.customer_id, files=files, jobs=jobs, personal_data=personal_data
        )
        jobs.finish_job(tenant_id, job_id, result=asdict(report))
        record_audit(
            tenant_id,
            action="customer.erased",
            actor=message.requested_by,
            audit=audit,
            details={**audit_details, "deleted": report.deleted},
        )
    else:
        receipt = job_key(tenant_id, job_id)
        leftovers = tenant_deletion.delete_tenant(
            tenant_id, files=files, users=users, personal_data=personal_data, keep={receipt}
        )
        jobs.finish_job(
            tenant_id,
            job_id,
            result={"remaining": asdict(leftovers), "complete": leftovers.empty},
            expires_at=int(time.time()) + DELETION_RECEIPT_DAYS * 86400,
        )

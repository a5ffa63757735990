"""The privacy job's message and the numbers the worker's idempotency relies on, held against the template; a
job asked for and a delivery skipped over the in-memory jobs repository."""

from __future__ import annotations

from typing import Any

import pytest
from fakes import (
    InMemoryObjectStore,
    InMemoryPersonalDataRepository,
    InMemoryPrivacyJobRepository,
    InMemoryTenantRepository,
    InMemoryUserDirectory,
    RecordingQueue,
)
from pydantic import ValidationError

from luxebrain.errors import NotFoundError
from luxebrain.privacy import jobs
from luxebrain.privacy.requests import JobKind, PrivacyJobMessage, subject_fingerprint
from luxebrain.storage.privacy_jobs import FAILED, PENDING, RUNNING
from luxebrain_dev.infra_template import load_template

JOB_ID = "pj-" + "0" * 24


def _resource(name: str) -> dict[str, Any]:
    properties: dict[str, Any] = load_template()["Resources"][name]["Properties"]
    return properties


def test_the_last_attempt_is_the_queues_last_delivery() -> None:
    assert _resource("PrivacyQueue")["RedrivePolicy"]["maxReceiveCount"] == jobs.MAX_ATTEMPTS


def test_a_lease_outlives_the_worker_and_expires_before_the_message_returns() -> None:
    timeout = _resource("PrivacyWorkerFunction")["Timeout"]
    assert timeout < jobs.LEASE_SECONDS < _resource("PrivacyQueue")["VisibilityTimeout"]


@pytest.mark.parametrize(
    ("kind", "customer_id"),
    [(JobKind.CUSTOMER_EXPORT, None), (JobKind.CUSTOMER_ERASURE, "bad id!"), (JobKind.TENANT_DELETION, "c1")],
)
def test_a_message_names_exactly_the_subject_its_kind_needs(kind: JobKind, customer_id: str | None) -> None:
    with pytest.raises(ValidationError):
        PrivacyJobMessage(
            job_id=JOB_ID, tenant_id="t-0123456789ab", kind=kind, customer_id=customer_id, requested_by="u"
        )


def test_a_message_with_a_forged_job_id_or_tenant_is_refused() -> None:
    with pytest.raises(ValidationError):
        PrivacyJobMessage(job_id="pj-1", tenant_id="t-0123456789ab", kind="tenant_deletion", requested_by="u")
    with pytest.raises(ValidationError):
        PrivacyJobMessage(job_id=JOB_ID, tenant_id="TENANT#x", kind="tenant_deletion", requested_by="u")


TENANT = "t-0123456789ab"


def test_a_request_is_a_pending_job_and_its_message_naming_the_customer_only_there() -> None:
    records, queue = InMemoryPrivacyJobRepository(), RecordingQueue()
    job = jobs.request_customer_erasure(TENANT, "c-7", queue=queue, requested_by="owner-sub", jobs=records)
    assert (job.kind, job.status) == ("customer_erasure", PENDING)
    assert job.subject_sha256 == subject_fingerprint(TENANT, "c-7")  # the job never holds the customer id
    (body,) = queue.bodies()
    assert (body["job_id"], body["customer_id"], body["requested_by"]) == (job.job_id, "c-7", "owner-sub")
    assert jobs.job_status(TENANT, job.job_id, jobs=records) == job
    with pytest.raises(NotFoundError):
        jobs.job_status("t-ba9876543210", job.job_id, jobs=records)  # another tenant's job
    with pytest.raises(NotFoundError, match="not an export"):
        jobs.job_export(TENANT, job.job_id, files=InMemoryObjectStore(), jobs=records)


def test_a_request_the_queue_refused_is_recorded_failed() -> None:
    records = InMemoryPrivacyJobRepository()
    with pytest.raises(ConnectionError):
        jobs.request_tenant_deletion(
            TENANT, queue=RecordingQueue(refuse=ConnectionError("down")), requested_by="owner-sub", jobs=records
        )
    (job,) = records.jobs.values()
    assert (job.kind, job.status, job.failure_reason) == (
        "tenant_deletion",
        FAILED,
        "the request could not be queued; ask again",
    )


def test_a_delivery_of_a_job_another_delivery_is_running_is_skipped() -> None:
    records = InMemoryPrivacyJobRepository()
    job = jobs.request_customer_export(TENANT, "c-7", queue=RecordingQueue(), requested_by="u", jobs=records)
    records.claim_job(TENANT, job.job_id, lease_seconds=jobs.LEASE_SECONDS)  # the first delivery's claim
    message = PrivacyJobMessage(
        job_id=job.job_id, tenant_id=TENANT, kind=JobKind.CUSTOMER_EXPORT, customer_id="c-7", requested_by="u"
    )
    outcome = jobs.run_job(
        message,
        attempt=2,
        files=InMemoryObjectStore(),
        users=InMemoryUserDirectory(),
        audit=InMemoryTenantRepository(),
        jobs=records,
        personal_data=InMemoryPersonalDataRepository(),
    )
    assert outcome == "skipped"
    running = records.get_job(TENANT, job.job_id)
    assert running is not None and (running.status, running.attempts) == (RUNNING, 1)

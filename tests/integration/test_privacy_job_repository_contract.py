"""The in-memory privacy jobs repository of tests/fakes.py behaves as the DynamoDB one on the embedded AWS: the
same checks pass on both, so a unit test of the privacy jobs over the fake says something about the table's
conditions (a job claimed once, finished once)."""

from __future__ import annotations

import pytest
from fakes import InMemoryPrivacyJobRepository

from luxebrain.errors import ConflictError
from luxebrain.storage.privacy_jobs import (
    DONE,
    FAILED,
    PENDING,
    RUNNING,
    DynamoPrivacyJobRepository,
    PrivacyJobRepository,
)
from luxebrain.tenancy import new_tenant_id
from luxebrain_dev.local.embedded import LocalResources

LEASE = 930
SUBJECT = "ab" * 32


@pytest.fixture(params=["in-memory", "dynamodb"])
def jobs(request: pytest.FixtureRequest, local_aws: LocalResources) -> PrivacyJobRepository:
    return InMemoryPrivacyJobRepository() if request.param == "in-memory" else DynamoPrivacyJobRepository()


@pytest.fixture
def tenant() -> str:
    return new_tenant_id()


def test_a_job_is_created_pending_and_read_back_by_its_tenant_only(jobs: PrivacyJobRepository, tenant: str) -> None:
    job = jobs.create_job(tenant, kind="customer_export", requested_by="owner-sub", subject_sha256=SUBJECT)
    assert job.job_id.startswith("pj-") and len(job.job_id) == 27
    assert (job.tenant_id, job.kind, job.status, job.requested_by) == (tenant, "customer_export", PENDING, "owner-sub")
    assert (job.subject_sha256, job.attempts, job.started_at, job.finished_at) == (SUBJECT, 0, None, None)
    assert (job.result, job.failure_reason, job.export_key) == (None, None, None)
    assert job.created_at is not None
    assert jobs.get_job(tenant, job.job_id) == job
    assert jobs.get_job(new_tenant_id(), job.job_id) is None  # another tenant's jobs
    assert jobs.get_job(tenant, "pj-" + "0" * 24) is None
    other = jobs.create_job(tenant, kind="tenant_deletion", requested_by="owner-sub", subject_sha256=None)
    assert other.job_id != job.job_id and other.subject_sha256 is None


def test_a_job_is_claimed_once_while_its_lease_lasts_and_again_after(jobs: PrivacyJobRepository, tenant: str) -> None:
    job = jobs.create_job(tenant, kind="customer_erasure", requested_by="u", subject_sha256=SUBJECT)
    claimed = jobs.claim_job(tenant, job.job_id, lease_seconds=LEASE)
    assert claimed is not None and (claimed.status, claimed.attempts) == (RUNNING, 1)
    assert claimed.started_at is not None and jobs.get_job(tenant, job.job_id) == claimed
    assert jobs.claim_job(tenant, job.job_id, lease_seconds=LEASE) is None  # another delivery, the lease holds
    assert jobs.claim_job(tenant, "pj-" + "0" * 24, lease_seconds=LEASE) is None  # no such job
    assert jobs.claim_job(new_tenant_id(), job.job_id, lease_seconds=LEASE) is None
    # a lease that has run out (its worker died): claimed again, counting the attempt
    lapsed = jobs.create_job(tenant, kind="customer_erasure", requested_by="u", subject_sha256=SUBJECT)
    assert jobs.claim_job(tenant, lapsed.job_id, lease_seconds=-5) is not None
    again = jobs.claim_job(tenant, lapsed.job_id, lease_seconds=LEASE)
    assert again is not None and (again.status, again.attempts) == (RUNNING, 2)


def test_a_running_job_finishes_once_done_or_failed(jobs: PrivacyJobRepository, tenant: str) -> None:
    job = jobs.create_job(tenant, kind="customer_export", requested_by="u", subject_sha256=SUBJECT)
    with pytest.raises(ConflictError):
        jobs.finish_job(tenant, job.job_id, result={"records": {}})  # pending: not claimed
    jobs.claim_job(tenant, job.job_id, lease_seconds=LEASE)
    jobs.finish_job(tenant, job.job_id, result={"records": {"order": 2}}, export_key="exports/x.json")
    done = jobs.get_job(tenant, job.job_id)
    assert done is not None and (done.status, done.result, done.export_key) == (
        DONE,
        {"records": {"order": 2}},
        "exports/x.json",
    )
    assert done.finished_at is not None and done.failure_reason is None
    with pytest.raises(ConflictError):
        jobs.fail_job(tenant, job.job_id, reason="late")  # finished: never again
    assert jobs.claim_job(tenant, job.job_id, lease_seconds=-5) is None  # nor claimed
    failing = jobs.create_job(tenant, kind="customer_erasure", requested_by="u", subject_sha256=SUBJECT)
    jobs.claim_job(tenant, failing.job_id, lease_seconds=LEASE)
    jobs.fail_job(tenant, failing.job_id, reason="no such customer")
    failed = jobs.get_job(tenant, failing.job_id)
    assert failed is not None and (failed.status, failed.failure_reason, failed.result) == (
        FAILED,
        "no such customer",
        None,
    )


def test_a_released_job_is_pending_again_with_its_reason(jobs: PrivacyJobRepository, tenant: str) -> None:
    job = jobs.create_job(tenant, kind="customer_erasure", requested_by="u", subject_sha256=SUBJECT)
    jobs.release_job(tenant, job.job_id, reason="not running")  # pending: nothing to put back
    assert jobs.get_job(tenant, job.job_id) == job
    jobs.claim_job(tenant, job.job_id, lease_seconds=LEASE)
    jobs.release_job(tenant, job.job_id, reason="TimeoutError on attempt 1 of 3")
    released = jobs.get_job(tenant, job.job_id)
    assert released is not None and (released.status, released.failure_reason) == (
        PENDING,
        "TimeoutError on attempt 1 of 3",
    )
    again = jobs.claim_job(tenant, job.job_id, lease_seconds=LEASE)  # the next delivery claims it at once
    assert again is not None and again.attempts == 2
    jobs.finish_job(tenant, job.job_id, result={"deleted": {"customer": 1}})
    assert jobs.get_job(tenant, job.job_id).status == DONE  # type: ignore[union-attr]
    jobs.release_job(tenant, job.job_id, reason="late")  # finished: left as it is
    assert jobs.get_job(tenant, job.job_id).status == DONE  # type: ignore[union-attr]


def test_a_customers_export_files_are_found_by_their_fingerprint(jobs: PrivacyJobRepository, tenant: str) -> None:
    def export(subject: str | None, key: str | None, owner: str = tenant) -> None:
        job = jobs.create_job(owner, kind="customer_export", requested_by="u", subject_sha256=subject)
        jobs.claim_job(owner, job.job_id, lease_seconds=LEASE)
        jobs.finish_job(owner, job.job_id, result={"records": {}}, export_key=key)

    assert jobs.export_keys_of_subject(tenant, SUBJECT) == []
    export(SUBJECT, "exports/a.json")
    export(SUBJECT, "exports/b.json")
    export(SUBJECT, None)  # an erasure's job: no file
    export("cd" * 32, "exports/other-customer.json")
    export(SUBJECT, "exports/other-tenant.json", owner=new_tenant_id())
    jobs.create_job(tenant, kind="customer_export", requested_by="u", subject_sha256=SUBJECT)  # still pending
    assert sorted(jobs.export_keys_of_subject(tenant, SUBJECT)) == ["exports/a.json", "exports/b.json"]

"""The privacy jobs repository: a personal-data request's record, from pending to done or failed.

A job moves forward only through conditional writes, so a message the queue delivers twice is claimed once:
``pending`` → ``running`` (a lease the length of the worker's timeout) → ``done`` / ``failed``. A running job
whose lease ran out (its worker died) may be claimed again; a finished one never is.

The API and the privacy worker are given :class:`PrivacyJobRepository` (``DynamoPrivacyJobRepository`` from
:func:`privacy_job_repository` in the product, an in-memory one in the unit tier).
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from pynamodb.exceptions import DoesNotExist

from luxebrain.errors import ConflictError
from luxebrain.storage.items.base import save_if, update_if, utc_now
from luxebrain.storage.items.privacy import PrivacyJobItem, key_privacy_job, privacy_jobs_partition
from luxebrain.storage.mapping import record_from

PENDING, RUNNING, DONE, FAILED = "pending", "running", "done", "failed"


@dataclass(frozen=True)
class PrivacyJob:
    tenant_id: str
    job_id: str
    kind: str
    status: str
    requested_by: str
    subject_sha256: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    attempts: int
    result: dict[str, Any] | None
    failure_reason: str | None
    export_key: str | None


def _job(item: PrivacyJobItem) -> PrivacyJob:
    return record_from(PrivacyJob, item, attempts=int(item.attempts or 0))


def new_job_id() -> str:
    return "pj-" + secrets.token_hex(12)


def create_job(tenant_id: str, *, kind: str, requested_by: str, subject_sha256: str | None) -> PrivacyJob:
    job_id = new_job_id()
    pk, sk = key_privacy_job(tenant_id, job_id)
    item = PrivacyJobItem(
        pk,
        sk,
        entity=PrivacyJobItem.ENTITY,
        tenant_id=tenant_id,
        job_id=job_id,
        kind=kind,
        status=PENDING,
        requested_by=requested_by,
        subject_sha256=subject_sha256,
    )
    if not save_if(item, PrivacyJobItem.pk.does_not_exist()):  # a random 96-bit id met its twin
        raise ConflictError("a privacy job with this id exists already; ask again")
    return _job(item)


def get_job(tenant_id: str, job_id: str) -> PrivacyJob | None:
    try:
        return _job(PrivacyJobItem.get(*key_privacy_job(tenant_id, job_id), consistent_read=True))
    except DoesNotExist:
        return None


def job_key(tenant_id: str, job_id: str) -> tuple[str, str]:
    """The job's table key (tenant deletion keeps its own job while it deletes everything else)."""
    return key_privacy_job(tenant_id, job_id)


def claim_job(tenant_id: str, job_id: str, *, lease_seconds: int) -> PrivacyJob | None:
    """``running`` under a fresh lease, when the job is pending or its last lease expired; None otherwise
    (finished, or another delivery of the same message is working on it)."""
    now = time.time()
    item = PrivacyJobItem(*key_privacy_job(tenant_id, job_id))
    claimed = update_if(
        item,
        [
            PrivacyJobItem.status.set(RUNNING),
            PrivacyJobItem.started_at.set(utc_now()),
            PrivacyJobItem.lease_until.set(int(now + lease_seconds)),
            PrivacyJobItem.attempts.add(1),
            PrivacyJobItem.updated_at.set(utc_now()),
        ],
        (PrivacyJobItem.status == PENDING)
        | ((PrivacyJobItem.status == RUNNING) & (PrivacyJobItem.lease_until < int(now))),
    )
    if not claimed:
        return None
    return _job(item)


def _finish(
    tenant_id: str, job_id: str, status: str, *, result: dict[str, Any] | None, reason: str | None, **extra: Any
) -> None:
    """Finish a running job; ConflictError when it is not running (another delivery finished it first)."""
    actions = [
        PrivacyJobItem.status.set(status),
        PrivacyJobItem.finished_at.set(utc_now()),
        PrivacyJobItem.updated_at.set(utc_now()),
        PrivacyJobItem.lease_until.remove(),
    ]
    if result is not None:
        actions.append(PrivacyJobItem.result.set(result))
    if reason is not None:
        actions.append(PrivacyJobItem.failure_reason.set(reason))
    if extra.get("export_key"):
        actions.append(PrivacyJobItem.export_key.set(extra["export_key"]))
    if extra.get("expires_at"):
        actions.append(PrivacyJobItem.expires_at.set(int(extra["expires_at"])))
    if not update_if(PrivacyJobItem(*key_privacy_job(tenant_id, job_id)), actions, PrivacyJobItem.status == RUNNING):
        raise ConflictError(f"privacy job {job_id} is not running; not finished again")


def finish_job(
    tenant_id: str,
    job_id: str,
    *,
    result: dict[str, Any],
    export_key: str | None = None,
    expires_at: int | None = None,
) -> None:
    _finish(tenant_id, job_id, DONE, result=result, reason=None, export_key=export_key, expires_at=expires_at)


def fail_job(tenant_id: str, job_id: str, *, reason: str) -> None:
    _finish(tenant_id, job_id, FAILED, result=None, reason=reason)


def release_job(tenant_id: str, job_id: str, *, reason: str) -> None:
    """Back to ``pending`` after a failed attempt that will be retried (the reason is kept for support)."""
    update_if(  # not running any more (finished by another delivery): nothing to put back
        PrivacyJobItem(*key_privacy_job(tenant_id, job_id)),
        [
            PrivacyJobItem.status.set(PENDING),
            PrivacyJobItem.failure_reason.set(reason),
            PrivacyJobItem.lease_until.remove(),
            PrivacyJobItem.updated_at.set(utc_now()),
        ],
        PrivacyJobItem.status == RUNNING,
    )


def export_keys_of_subject(tenant_id: str, subject_sha256: str) -> list[str]:
    """The export files made for one customer (erasing the customer deletes them too)."""
    return [
        item.export_key
        for item in PrivacyJobItem.query(
            privacy_jobs_partition(tenant_id),
            filter_condition=(PrivacyJobItem.subject_sha256 == subject_sha256) & PrivacyJobItem.export_key.exists(),
        )
        if item.export_key
    ]


# ----------------------------------------------------------------------------- the repository a caller is given
class PrivacyJobRepository(Protocol):
    """What the API and the privacy worker read and write of a tenant's personal-data jobs: a job asked for and
    read back, its claim under a lease, its end (done, failed, or back to pending for a retry), and the export
    files made for one customer (their erasure deletes them)."""

    def create_job(self, tenant_id: str, *, kind: str, requested_by: str, subject_sha256: str | None) -> PrivacyJob: ...

    def get_job(self, tenant_id: str, job_id: str) -> PrivacyJob | None: ...

    def claim_job(self, tenant_id: str, job_id: str, *, lease_seconds: int) -> PrivacyJob | None: ...

    def finish_job(
        self,
        tenant_id: str,
        job_id: str,
        *,
        result: dict[str, Any],
        export_key: str | None = None,
        expires_at: int | None = None,
    ) -> None: ...

    def fail_job(self, tenant_id: str, job_id: str, *, reason: str) -> None: ...

    def release_job(self, tenant_id: str, job_id: str, *, reason: str) -> None: ...

    def export_keys_of_subject(self, tenant_id: str, subject_sha256: str) -> list[str]: ...


class DynamoPrivacyJobRepository:
    """The privacy jobs repository on the table: this module's conditional writes and reads."""

    create_job = staticmethod(create_job)
    get_job = staticmethod(get_job)
    claim_job = staticmethod(claim_job)
    finish_job = staticmethod(finish_job)
    fail_job = staticmethod(fail_job)
    release_job = staticmethod(release_job)
    export_keys_of_subject = staticmethod(export_keys_of_subject)


def privacy_job_repository() -> DynamoPrivacyJobRepository:
    """The product's privacy jobs repository (stateless: the table is bound once per execution environment)."""
    return _REPOSITORY


_REPOSITORY = DynamoPrivacyJobRepository()

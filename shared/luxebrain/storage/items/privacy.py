"""Personal-data jobs: a customer's export or erasure, or a tenant's deletion, run by the privacy worker."""

from __future__ import annotations

from pynamodb.attributes import JSONAttribute, NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute

from luxebrain.storage.items.base import BaseItem, utc_now
from luxebrain.tenancy import tenant_partition


class PrivacyJobItem(BaseItem):
    """One request and its progress. It never holds the customer id (an erasure must not leave it behind, and
    the whole-table search for a customer's items must not find the job): only its hash."""

    ENTITY = "privacy_job"
    job_id = UnicodeAttribute()
    kind = UnicodeAttribute()  # customer_export | customer_erasure | tenant_deletion
    status = UnicodeAttribute(default="pending")  # pending | running | done | failed
    requested_by = UnicodeAttribute()
    subject_sha256 = UnicodeAttribute(null=True)  # the customer's fingerprint (export and erasure)
    created_at = UTCDateTimeAttribute(default=utc_now)
    started_at = UTCDateTimeAttribute(null=True)
    finished_at = UTCDateTimeAttribute(null=True)
    lease_until = NumberAttribute(null=True)  # epoch seconds: a running job past it may be claimed again
    attempts = NumberAttribute(default=0)
    result = JSONAttribute(null=True)
    failure_reason = UnicodeAttribute(null=True)
    export_key = UnicodeAttribute(null=True)  # the export's file in the models bucket


def privacy_jobs_partition(tenant_id: str) -> str:
    return tenant_partition(tenant_id, "PRIVACY_JOB")


def key_privacy_job(tenant_id: str, job_id: str) -> tuple[str, str]:
    return privacy_jobs_partition(tenant_id), job_id

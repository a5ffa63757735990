"""The privacy job's message and the numbers the worker's idempotency relies on, held against the template."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from luxebrain.privacy import jobs
from luxebrain.privacy.requests import JobKind, PrivacyJobMessage
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

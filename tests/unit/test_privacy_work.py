"""A customer's export and erasure and a tenant's deletion, each asked for as the API asks (a job and its message)
and run as the privacy worker runs it (``run_job``), over the in-memory table of personal data (held to the
table's scans by tests/integration/test_personal_data_repository_contract.py), jobs, bucket, user directory and
audit trail: what the subject had is exported or gone, everybody else's is untouched."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
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
from personal_data_seeds import JEANNE, job, membership, seed_shop

from luxebrain.privacy import jobs
from luxebrain.privacy.requests import PrivacyJobMessage, subject_fingerprint
from luxebrain.storage.items.customers import key_customer, key_order
from luxebrain.storage.items.privacy import key_privacy_job
from luxebrain.storage.privacy_jobs import DONE, FAILED, PrivacyJob

TENANT, NEIGHBOUR = "t-0123456789ab", "t-ba9876543210"
CLIENT = "app-client"
C1_KEYS = 8  # seed_shop's items of c1 (her record, a guest checkout, 3 orders, consent, suppression, send record)


@dataclass
class Privacy:
    """What the worker is given, and the queue the API asks through."""

    personal_data: InMemoryPersonalDataRepository = field(default_factory=InMemoryPersonalDataRepository)
    jobs: InMemoryPrivacyJobRepository = field(default_factory=InMemoryPrivacyJobRepository)
    files: InMemoryObjectStore = field(default_factory=InMemoryObjectStore)
    users: InMemoryUserDirectory = field(default_factory=InMemoryUserDirectory)
    audit: InMemoryTenantRepository = field(default_factory=InMemoryTenantRepository)
    queue: RecordingQueue = field(default_factory=RecordingQueue)

    def run(self, job: PrivacyJob) -> tuple[str, PrivacyJob]:
        """The worker's delivery of the job's message: what happened, and the job afterwards."""
        message = PrivacyJobMessage.model_validate_json(self.queue.sent[-1].body)
        assert message.job_id == job.job_id
        outcome = jobs.run_job(
            message,
            attempt=1,
            files=self.files,
            users=self.users,
            audit=self.audit,
            jobs=self.jobs,
            personal_data=self.personal_data,
        )
        return outcome, jobs.job_status(job.tenant_id, job.job_id, jobs=self.jobs)

    def export(self, customer_id: str, tenant_id: str = TENANT) -> tuple[str, PrivacyJob]:
        asked = jobs.request_customer_export(
            tenant_id, customer_id, queue=self.queue, requested_by="owner-sub", jobs=self.jobs
        )
        return self.run(asked)

    def erase(self, customer_id: str) -> tuple[str, PrivacyJob]:
        asked = jobs.request_customer_erasure(
            TENANT, customer_id, queue=self.queue, requested_by="owner-sub", jobs=self.jobs
        )
        return self.run(asked)

    def audit_actions(self, tenant_id: str = TENANT) -> list[tuple[str, dict[str, Any]]]:
        return [(record.action, record.details or {}) for record in self.audit.audit.get(tenant_id, [])]


@pytest.fixture(autouse=True)
def settings(local_settings: Callable[..., None]) -> None:
    local_settings(LUXEBRAIN_USER_POOL_ID="us-east-1_pool", LUXEBRAIN_USER_POOL_CLIENT_ID=CLIENT)


@pytest.fixture
def privacy() -> Privacy:
    world = Privacy()
    seed_shop(world.personal_data.put, TENANT, NEIGHBOUR)
    return world


def _items_but(privacy: Privacy, doomed: set[tuple[str, str]]) -> dict[tuple[str, str], dict[str, Any]]:
    """Every stored item but the ``doomed`` keys, as a copy to compare with afterwards."""
    return {key: json.loads(json.dumps(raw)) for key, raw in privacy.personal_data.items.items() if key not in doomed}


def _c1_keys(privacy: Privacy) -> set[tuple[str, str]]:
    return {
        key
        for key, raw in privacy.personal_data.items.items()
        if raw["tenant_id"]["S"] == TENANT
        and (raw.get("customer_id", {}).get("S") == "c1" or raw.get("email", {}).get("S") == JEANNE)
    }


def test_an_export_holds_every_record_about_the_customer_and_nobody_elses(privacy: Privacy) -> None:
    stored = _items_but(privacy, set())
    # When the owner asks for c1's export and the worker has run the job
    outcome, done = privacy.export("c1")
    # Then the job is done, counting the records per entity, and its file holds them
    assert (outcome, done.status) == ("done", DONE)
    counts = {"customer": 2, "order": 3, "consent": 1, "suppression": 1, "campaign_send": 1}
    assert done.result == {"records": counts}
    exported = jobs.job_export(TENANT, done.job_id, files=privacy.files, jobs=privacy.jobs)
    assert done.export_key == f"privacy-exports/{TENANT}/{done.job_id}.json"
    assert (exported["tenant_id"], exported["customer_id"]) == (TENANT, "c1")
    records = exported["records"]
    assert {entity: len(found) for entity, found in records.items()} == counts
    assert {c["email"] for c in records["customer"]} == {JEANNE}  # her record and her guest checkout
    assert sorted(o["order_id"] for o in records["order"]) == ["o-1", "o-2", "o-3"]
    assert {o["customer_id"] for o in records["order"]} == {"c1"}
    assert [s["flow"] for s in records["campaign_send"]] == ["winback"]
    # ...and nothing of c2, c10 or the neighbour's c1, nor a key, an index key or a hash
    body = privacy.files.get(str(done.export_key)).decode()
    for foreign in ("paul@customer.example", "dix@customer.example", "o-4", "o-5", NEIGHBOUR, "TENANT#", "h" * 8):
        assert foreign not in body
    # An export reads only; the audit trail records it without the customer id
    assert _items_but(privacy, set()) == stored
    ((action, details),) = privacy.audit_actions()
    assert action == "customer.exported" and details["job_id"] == done.job_id
    assert details["customer_id_sha256_prefix"] == subject_fingerprint(TENANT, "c1")[:12]
    assert "c1" not in details.values()


def test_an_export_of_a_customer_the_tenant_does_not_have_fails_with_the_reason(privacy: Privacy) -> None:
    # c2 is a customer of this tenant only: the neighbour has none
    outcome, failed = privacy.export("c2", tenant_id=NEIGHBOUR)
    assert (outcome, failed.status, failed.failure_reason) == ("failed", FAILED, "customer c2 not found")
    assert failed.export_key is None and list(privacy.files.objects("")) == []
    assert privacy.audit_actions(NEIGHBOUR) == []


def test_an_erasure_deletes_the_customer_keeps_anonymised_orders_and_spares_everybody_else(privacy: Privacy) -> None:
    # Given c1's and c2's earlier exports, and trained models, one of which names c1
    _, c1_export = privacy.export("c1")
    _, c2_export = privacy.export("c2")
    naming = f"tenants/{TENANT}/models/recommend/v1/arrays.json"
    privacy.files.put(naming, b'{"customers": ["c1", "c2"]}')
    privacy.files.put(f"tenants/{TENANT}/models/forecast/v1/arrays.json", b'{"products": ["p-1"]}')
    c1 = _c1_keys(privacy)
    assert len(c1) == C1_KEYS
    others = _items_but(privacy, c1)
    # When the owner erases c1 and the worker has run the job
    outcome, done = privacy.erase("c1")
    # Then her items are deleted but the orders, kept for the store's figures under a pseudonym
    assert (outcome, done.status) == ("done", DONE)
    report = done.result or {}
    assert report["deleted"] == {"customer": 2, "consent": 1, "suppression": 1, "campaign_send": 1}
    assert report["anonymised"] == {"order": 3}
    assert report["remaining_items"] == 0
    assert privacy.personal_data.customer_records(TENANT, "c1") == []
    assert privacy.personal_data.items.get(key_customer(TENANT, "c1")) is None
    pseudonym = "erased-" + hashlib.sha256(f"{TENANT}:c1".encode()).hexdigest()[:16]
    for order_id in ("o-1", "o-2", "o-3"):
        kept = privacy.personal_data.items[key_order(TENANT, order_id)]
        assert kept["customer_id"] == {"S": pseudonym} and kept["order_id"] == {"S": order_id}
        assert not {"gsi1pk", "gsi1sk", "billing_country"} & set(kept)
    # ...her earlier export is gone, every version; c2's is not
    assert report["exports_deleted"] == 1
    assert (
        not privacy.files.exists(str(c1_export.export_key))
        and list(privacy.files.versions(str(c1_export.export_key))) == []
    )
    assert privacy.files.exists(str(c2_export.export_key))
    # ...the model still naming her is reported (the next training replaces it)
    assert report["model_artifacts_naming_customer"] == [naming]
    # ...every other item, c2's, c10's and the neighbour's c1 included, is as it was
    assert _items_but(privacy, c1) == others
    # ...and the audit trail records the erasure with what was deleted, without the id
    action, details = privacy.audit_actions()[-1]
    assert action == "customer.erased" and details["deleted"] == report["deleted"]
    assert "c1" not in details.values()
    # Erasing her again deletes and anonymises nothing more
    _, again = privacy.erase("c1")
    assert again.status == DONE and (again.result or {})["deleted"] == {} and (again.result or {})["anonymised"] == {}
    assert _items_but(privacy, c1) == others


def test_a_tenant_deletion_leaves_only_its_receipt_and_spares_the_neighbour(privacy: Privacy) -> None:
    # Given the tenant's members, files (a model in two versions, an export) and logins, and the neighbour's
    privacy.personal_data.put(membership(TENANT, "owner-sub"), membership(TENANT, "staff-sub"))
    privacy.personal_data.put(membership(NEIGHBOUR, "owner-sub"))
    model = f"tenants/{TENANT}/models/forecast/v1/arrays.json"
    privacy.files.put(model, b"v1")
    privacy.files.put(model, b"v2")
    privacy.files.put(f"privacy-exports/{TENANT}/pj-old.json", b"{}")
    privacy.files.delete(f"privacy-exports/{TENANT}/pj-old.json")  # expired: a delete marker over its version
    neighbours_files = [f"tenants/{NEIGHBOUR}/models/forecast/v1/arrays.json", f"privacy-exports/{NEIGHBOUR}/x.json"]
    for key in neighbours_files:
        privacy.files.put(key, b"kept")
    for email, tenant in (("a@one.example", TENANT), ("b@one.example", TENANT), ("c@two.example", NEIGHBOUR)):
        privacy.users.sign_up(CLIENT, email, "Pass-word-1", attributes={"email": email, "custom:tenant_id": tenant})
    neighbour = {key: raw for key, raw in _items_but(privacy, set()).items() if raw["tenant_id"]["S"] == NEIGHBOUR}
    assert len(neighbour) == 4
    # When the owner asks for the tenant's deletion (its job record is an item of the tenant in the table, as
    # the receipt the deletion keeps) and the worker has run it
    asked = jobs.request_tenant_deletion(TENANT, queue=privacy.queue, requested_by="owner-sub", jobs=privacy.jobs)
    receipt = key_privacy_job(TENANT, asked.job_id)
    privacy.personal_data.put(job(TENANT, asked.job_id))
    outcome, done = privacy.run(asked)
    # Then nothing of the tenant is left but the receipt, which says so
    assert (outcome, done.status) == ("done", DONE)
    assert done.result == {"remaining": {"dynamodb_items": 0, "s3_objects": 0, "users": 0}, "complete": True}
    assert [key for key, raw in privacy.personal_data.items.items() if raw["tenant_id"]["S"] == TENANT] == [receipt]
    assert list(privacy.files.versions(f"tenants/{TENANT}/")) == []
    assert list(privacy.files.versions(f"privacy-exports/{TENANT}/")) == []
    assert [login.attributes["email"] for login in privacy.users.logins.values()] == ["c@two.example"]
    # ...and the neighbour keeps every item, file and login
    assert {key: raw for key, raw in privacy.personal_data.items.items() if raw["tenant_id"]["S"] == NEIGHBOUR} == (
        neighbour
    )
    assert all(privacy.files.get(key) == b"kept" for key in neighbours_files)

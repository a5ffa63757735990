"""Personal data: a customer's export and erasure (orders kept, anonymised), and a leaving tenant's deletion,
each a job the API accepts (202) and the privacy worker runs from its queue, as the template wires them;
verified by the job's status and by listing what is left in DynamoDB, S3 and Cognito."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from api_testkit import Merchant, api_app_module, new_merchant, publish_artifact, small_order_lines
from fastapi.testclient import TestClient

from luxebrain_dev.local.embedded import LocalResources
from luxebrain_dev.local.event_sources import SqsEventSources


@pytest.fixture(scope="module")
def client(local_aws: LocalResources) -> Iterator[TestClient]:
    with TestClient(api_app_module().app) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def privacy_worker(local_aws: LocalResources) -> SqsEventSources:
    """PrivacyWorkerFunction on the privacy queue, as Lambda's event source mapping runs it."""
    return SqsEventSources.from_resources(local_aws, functions={"PrivacyWorkerFunction"}, retry_after_seconds=0)


def _seed_customer(tenant_id: str, customer_id: str, email: str, orders: int) -> None:
    from luxebrain.storage.items.customers import (
        CustomerItem,
        OrderItem,
        customer_orders_index_keys,
        key_customer,
        key_order,
    )

    pk, sk = key_customer(tenant_id, customer_id)
    CustomerItem(pk, sk, entity="customer", tenant_id=tenant_id, customer_id=customer_id, email=email).save()
    for n in range(orders):
        created = f"2026-02-0{n + 1}T10:00:00"
        order_id = f"{customer_id}-o{n}"
        pk, sk = key_order(tenant_id, order_id)
        gsi1pk, gsi1sk = customer_orders_index_keys(tenant_id, customer_id, created)
        OrderItem(
            pk,
            sk,
            gsi1pk=gsi1pk,
            gsi1sk=gsi1sk,
            entity="order",
            tenant_id=tenant_id,
            order_id=order_id,
            status="completed",
            status_class="purchase",
            customer_id=customer_id,
            billing_country="FR",
            total=42,
            created_gmt=created,
        ).save()


@pytest.fixture
def shop(client: TestClient, local_aws: LocalResources) -> Merchant:
    from luxebrain.billing.plans import change_plan
    from luxebrain.ml.recommend.train import train_recommender
    from luxebrain.storage.tenants import tenant_repository

    merchant = new_merchant("Maison Privée")
    change_plan(merchant.tenant_id, "pro", tenants=tenant_repository())  # a few exports and erasures a minute
    _seed_customer(merchant.tenant_id, "c1", "jeanne@customer.example", orders=2)
    _seed_customer(merchant.tenant_id, "c2", "paul@customer.example", orders=1)
    publish_artifact(merchant.tenant_id, train_recommender(small_order_lines()))
    return merchant


def _run(client: TestClient, shop: Merchant, worker: SqsEventSources, accepted: Any) -> dict[str, Any]:
    """The job the API accepted, pending until the worker ran it; its status afterwards."""
    assert accepted.status_code == 202, accepted.text
    job = accepted.json()
    assert job["status"] == "pending" and accepted.headers["location"] == job["status_url"]
    assert client.get(job["status_url"], headers=shop.headers).json()["status"] == "pending"
    worker.drain(max_seconds=120)
    status = client.get(job["status_url"], headers=shop.headers)
    assert status.status_code == 200, status.text
    return status.json()


def test_export_holds_every_record_about_the_customer(
    client: TestClient, shop: Merchant, privacy_worker: SqsEventSources
) -> None:
    job = _run(client, shop, privacy_worker, client.post("/customers/c1/export", headers=shop.headers))
    assert job["status"] == "done", job
    assert job["result"] == {"records": {"customer": 1, "order": 2}}
    exported = client.get(job["export_url"], headers=shop.headers)
    assert exported.status_code == 200, exported.text
    records = exported.json()["records"]
    assert records["customer"][0]["email"] == "jeanne@customer.example"
    assert sorted(order["order_id"] for order in records["order"]) == ["c1-o0", "c1-o1"]
    assert "paul@customer.example" not in exported.text


def test_export_of_an_unknown_customer_fails_with_the_reason(
    client: TestClient, shop: Merchant, privacy_worker: SqsEventSources
) -> None:
    job = _run(client, shop, privacy_worker, client.post("/customers/nobody/export", headers=shop.headers))
    assert job["status"] == "failed" and "customer nobody not found" in job["failure_reason"]
    assert job["export_url"] is None and job["result"] is None
    assert client.get(f"/privacy/jobs/{job['job_id']}/export", headers=shop.headers).status_code == 404


def test_erasure_deletes_the_person_and_anonymises_orders(
    client: TestClient, shop: Merchant, privacy_worker: SqsEventSources
) -> None:
    from luxebrain.privacy.requests import subject_fingerprint
    from luxebrain.storage.customers import get_customer, get_order, orders_of_customer
    from luxebrain.storage.personal_data import personal_data_repository

    # Given an earlier export of c1
    exported = _run(client, shop, privacy_worker, client.post("/customers/c1/export", headers=shop.headers))
    assert client.get(exported["export_url"], headers=shop.headers).status_code == 200
    # When the owner erases customer c1
    job = _run(client, shop, privacy_worker, client.delete("/customers/c1", headers=shop.headers))
    # Then the customer record is gone, the orders remain without any link to the person
    assert job["status"] == "done", job
    report = job["result"]
    assert report["deleted"] == {"customer": 1}
    assert report["anonymised"] == {"order": 2}
    assert report["remaining_items"] == 0
    order = get_order(shop.tenant_id, "c1-o0")
    assert order.customer_id.startswith("erased-") and order.billing_country is None
    assert list(orders_of_customer(shop.tenant_id, "c1")) == []  # out of the by-customer index
    # ...the earlier export is deleted, every version
    assert report["exports_deleted"] >= 1
    assert client.get(exported["export_url"], headers=shop.headers).status_code == 404
    # ...the trained model that still names the customer is reported
    assert any("/models/recommend/" in key for key in report["model_artifacts_naming_customer"])
    # ...nothing about c1 is stored any more (the job records hold only a hash), and c2 is untouched
    assert personal_data_repository().customer_records(shop.tenant_id, "c1") == []
    assert get_customer(shop.tenant_id, "c2").email == "paul@customer.example"
    # ...and the audit log records the erasure without the erased id
    audit = client.get("/tenant/audit", headers=shop.headers).json()["items"]
    erased = next(a for a in audit if a["action"] == "customer.erased")
    # (a hex digest may contain "c1" by chance: the check is that the hash is stored, never the id)
    assert erased["details"]["customer_id_sha256_prefix"] == subject_fingerprint(shop.tenant_id, "c1")[:12]
    assert "c1" not in erased["details"].values()


def test_a_redelivered_job_does_not_run_twice(
    client: TestClient, shop: Merchant, privacy_worker: SqsEventSources, local_aws: LocalResources
) -> None:
    from luxebrain.privacy.requests import PrivacyJobMessage
    from luxebrain.runtime import aws_client, configured_settings

    job = _run(client, shop, privacy_worker, client.delete("/customers/c1", headers=shop.headers))
    assert job["status"] == "done" and job["result"]["deleted"] == {"customer": 1}
    # When the queue delivers the same message again (SQS delivers at least once)
    message = PrivacyJobMessage(
        job_id=job["job_id"], tenant_id=shop.tenant_id, kind="customer_erasure", customer_id="c1", requested_by="x"
    )
    aws_client("sqs").send_message(
        QueueUrl=configured_settings().require("privacy_queue_url"), MessageBody=message.model_dump_json()
    )
    stats = privacy_worker.drain(max_seconds=60)
    # Then it completes without erasing again: the report and the audit trail are the first run's
    assert stats.received >= 1 and stats.failed == 0
    again = client.get(f"/privacy/jobs/{job['job_id']}", headers=shop.headers).json()
    assert again == job
    audit = client.get("/tenant/audit", headers=shop.headers).json()["items"]
    assert [a["action"] for a in audit].count("customer.erased") == 1


def test_a_failed_attempt_is_retried_and_a_job_stuck_in_a_dead_letter_fails(
    client: TestClient, shop: Merchant, privacy_worker: SqsEventSources, monkeypatch: pytest.MonkeyPatch
) -> None:
    from luxebrain.privacy import erasure, jobs

    calls = {"n": 0}
    real = erasure.erase_customer

    def flaky(tenant_id: str, customer_id: str, **adapters: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 1:
            raise ConnectionError("DynamoDB went away")
        return real(tenant_id, customer_id, **adapters)

    monkeypatch.setattr(erasure, "erase_customer", flaky)
    # A first attempt that dies is put back and the next delivery completes it
    job = _run(client, shop, privacy_worker, client.delete("/customers/c2", headers=shop.headers))
    assert job["status"] == "done" and job["result"]["deleted"] == {"customer": 1} and calls["n"] == 2

    # An error on every attempt: the last one records the failure (the message then goes to the DLQ)
    def broken(tenant_id: str, customer_id: str, **adapters: Any) -> Any:
        raise ConnectionError("DynamoDB went away")

    monkeypatch.setattr(erasure, "erase_customer", broken)
    job = _run(client, shop, privacy_worker, client.delete("/customers/c1", headers=shop.headers))
    assert job["status"] == "failed"
    assert job["failure_reason"].startswith(f"could not complete: ConnectionError on attempt {jobs.MAX_ATTEMPTS}")


def test_only_owners_of_the_tenant_can_ask_or_read(
    client: TestClient, shop: Merchant, privacy_worker: SqsEventSources
) -> None:
    from api_testkit import add_tenant_user

    staff = add_tenant_user(shop.tenant_id, "staff")
    assert client.post("/customers/c1/export", headers=staff.headers).status_code == 403
    assert client.delete("/customers/c1", headers=staff.headers).status_code == 403
    accepted = client.post("/customers/c1/export", headers=shop.headers).json()
    assert client.get(accepted["status_url"], headers=staff.headers).status_code == 403
    other = new_merchant("Maison Curieuse")
    assert client.get(accepted["status_url"], headers=other.headers).status_code == 404
    privacy_worker.drain(max_seconds=60)
    assert client.get(accepted["status_url"] + "/export", headers=other.headers).status_code == 404


def test_tenant_deletion_leaves_nothing_and_spares_other_tenants(
    client: TestClient, shop: Merchant, privacy_worker: SqsEventSources
) -> None:
    from luxebrain.adapters.aws import models_bucket, user_directory
    from luxebrain.privacy.tenant_deletion import tenant_leftovers
    from luxebrain.storage.customers import get_customer
    from luxebrain.storage.personal_data import personal_data_repository
    from luxebrain.storage.privacy_jobs import get_job, job_key

    def leftovers(**keep: Any) -> Any:
        return tenant_leftovers(
            shop.tenant_id,
            files=models_bucket(),
            users=user_directory(),
            personal_data=personal_data_repository(),
            **keep,
        )

    other = new_merchant("Maison Voisine")
    _seed_customer(other.tenant_id, "c1", "voisin@customer.example", orders=1)
    client.post("/tenant/storefront-key", headers=shop.headers)
    _run(client, shop, privacy_worker, client.post("/customers/c1/export", headers=shop.headers))
    before = leftovers()
    assert before.dynamodb_items > 5 and before.s3_objects >= 3 and before.users == 1
    # A wrong confirmation deletes nothing
    wrong = client.post(
        "/tenant/delete", headers=shop.headers, json={"confirm": "delete everything", "tenant_name": "Someone"}
    )
    assert wrong.status_code == 422
    # When the owner deletes the tenant, and the worker has run the job
    accepted = client.post(
        "/tenant/delete", headers=shop.headers, json={"confirm": "delete everything", "tenant_name": "Maison Privée"}
    )
    assert accepted.status_code == 202, accepted.text
    job_id = accepted.json()["job_id"]
    privacy_worker.drain(max_seconds=120)
    # Then nothing is left in the table, the bucket (every version) or the user pool, but the job's record:
    # the deletion's receipt, which expires
    receipt = get_job(shop.tenant_id, job_id)
    assert receipt is not None and receipt.status == "done"
    assert receipt.result == {"remaining": {"dynamodb_items": 0, "s3_objects": 0, "users": 0}, "complete": True}
    assert leftovers(keep={job_key(shop.tenant_id, job_id)}).empty
    assert leftovers().dynamodb_items == 1
    # ...the old token no longer reaches anything, and the neighbour is untouched
    assert client.get("/tenant", headers=shop.headers).status_code in (401, 403)
    assert get_customer(other.tenant_id, "c1").email == "voisin@customer.example"
    assert client.get("/tenant", headers=other.headers).status_code == 200

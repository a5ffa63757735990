"""Personal data: a customer's export and erasure (orders kept, anonymised), and a leaving tenant's deletion,
verified by listing what is left in DynamoDB, S3 and Cognito."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from api_testkit import Merchant, api_app_module, new_merchant, publish_artifact, small_order_lines
from fastapi.testclient import TestClient

from luxebrain_dev.local.embedded import LocalResources


@pytest.fixture(scope="module")
def client(local_aws: LocalResources) -> Iterator[TestClient]:
    with TestClient(api_app_module().app) as test_client:
        yield test_client


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
    from luxebrain.ml.recommend.train import train_recommender

    merchant = new_merchant("Maison Privée")
    _seed_customer(merchant.tenant_id, "c1", "jeanne@customer.example", orders=2)
    _seed_customer(merchant.tenant_id, "c2", "paul@customer.example", orders=1)
    publish_artifact(merchant.tenant_id, train_recommender(small_order_lines()))
    return merchant


def test_export_holds_every_record_about_the_customer(client: TestClient, shop: Merchant) -> None:
    response = client.get("/customers/c1/export", headers=shop.headers)
    assert response.status_code == 200, response.text
    records = response.json()["records"]
    assert records["customer"][0]["email"] == "jeanne@customer.example"
    assert sorted(order["order_id"] for order in records["order"]) == ["c1-o0", "c1-o1"]
    assert "paul@customer.example" not in response.text


def test_erasure_deletes_the_person_and_anonymises_orders(client: TestClient, shop: Merchant) -> None:
    from luxebrain.storage.customers import get_customer, get_order, orders_of_customer

    # When the owner erases customer c1
    response = client.delete("/customers/c1", headers=shop.headers)
    # Then the customer record is gone, the orders remain without any link to the person
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["deleted"] == {"customer": 1}
    assert report["anonymised"] == {"order": 2}
    assert report["remaining_items"] == 0
    order = get_order(shop.tenant_id, "c1-o0")
    assert order.customer_id.startswith("erased-") and order.billing_country is None
    assert list(orders_of_customer(shop.tenant_id, "c1")) == []  # out of the by-customer index
    # ...the trained model that still names the customer is reported
    assert any("/models/recommend/" in key for key in report["model_artifacts_naming_customer"])
    # ...nothing about c1 can be exported any more, and c2 is untouched
    assert client.get("/customers/c1/export", headers=shop.headers).status_code == 404
    assert get_customer(shop.tenant_id, "c2").email == "paul@customer.example"
    # ...and the audit log records the erasure without the erased id
    audit = client.get("/tenant/audit", headers=shop.headers).json()["items"]
    erased = next(a for a in audit if a["action"] == "customer.erased")
    assert "c1" not in str(erased["details"].get("customer_id_sha256_prefix"))


def test_only_owners_can_export_or_erase(client: TestClient, shop: Merchant) -> None:
    from api_testkit import add_tenant_user

    staff = add_tenant_user(shop.tenant_id, "staff")
    assert client.get("/customers/c1/export", headers=staff.headers).status_code == 403
    assert client.delete("/customers/c1", headers=staff.headers).status_code == 403


def test_tenant_deletion_leaves_nothing_and_spares_other_tenants(client: TestClient, shop: Merchant) -> None:
    from luxebrain.privacy import tenant_leftovers
    from luxebrain.storage.customers import get_customer

    other = new_merchant("Maison Voisine")
    _seed_customer(other.tenant_id, "c1", "voisin@customer.example", orders=1)
    client.post("/tenant/storefront-key", headers=shop.headers)
    before = tenant_leftovers(shop.tenant_id)
    assert before.dynamodb_items > 5 and before.s3_objects >= 2 and before.users == 1
    # A wrong confirmation deletes nothing
    wrong = client.post(
        "/tenant/delete", headers=shop.headers, json={"confirm": "delete everything", "tenant_name": "Someone"}
    )
    assert wrong.status_code == 422
    # When the owner deletes the tenant
    response = client.post(
        "/tenant/delete", headers=shop.headers, json={"confirm": "delete everything", "tenant_name": "Maison Privée"}
    )
    # Then nothing is left in the table, the bucket (every version) or the user pool
    assert response.status_code == 200, response.text
    assert response.json() == {
        "tenant_id": shop.tenant_id,
        "remaining": {"dynamodb_items": 0, "s3_objects": 0, "users": 0},
        "complete": True,
    }
    assert tenant_leftovers(shop.tenant_id).empty
    # ...the old token no longer reaches anything, and the neighbour is untouched
    assert client.get("/tenant", headers=shop.headers).status_code in (401, 403)
    assert get_customer(other.tenant_id, "c1").email == "voisin@customer.example"
    assert client.get("/tenant", headers=other.headers).status_code == 200

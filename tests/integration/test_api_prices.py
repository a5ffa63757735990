"""Price suggestions through the API with a real pricing model, and the decision workflow: approve writes the
price to the store, rollback restores it, a moved store price or a replaced model is a 409, roles apply."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from api_testkit import (
    InMemoryWooCommerce,
    Merchant,
    add_tenant_user,
    api_app_module,
    new_merchant,
    priced_store,
    publish_artifact,
    save_products,
)
from fastapi.testclient import TestClient

from luxebrain_dev.local.embedded import LocalResources


@pytest.fixture(scope="module")
def client(local_aws: LocalResources) -> Iterator[TestClient]:
    with TestClient(api_app_module().app) as test_client:
        yield test_client


@pytest.fixture
def shop(client: TestClient) -> Iterator[tuple[Merchant, InMemoryWooCommerce, str]]:
    from api.routers.prices import price_store_clients

    from luxebrain.ml.pricing.train import train_pricing_model

    merchant = new_merchant("Maison Prix")
    lines, catalogue = priced_store()
    save_products(merchant.tenant_id, catalogue)
    version = publish_artifact(merchant.tenant_id, train_pricing_model(lines, catalogue, as_of=date(2026, 3, 10)))
    store = InMemoryWooCommerce(catalogue)
    # The routes write prices to this in-memory store instead of the tenant's WooCommerce.
    overrides = client.app.dependency_overrides
    overrides[price_store_clients] = lambda: lambda tenant_id, product_id: store
    yield merchant, store, version
    overrides.pop(price_store_clients)


def _suggestions(client: TestClient, merchant: Merchant) -> dict[str, Any]:
    response = client.get("/prices/suggestions", headers=merchant.headers)
    assert response.status_code == 200, response.text
    return response.json()


def test_suggestions_come_from_the_current_model_with_reasons(client: TestClient, shop: tuple) -> None:
    merchant, _, version = shop
    body = _suggestions(client, merchant)
    assert body["model_version"] == version
    assert body["suggestions"], body
    first = body["suggestions"][0]
    assert first["suggested_price"] != first["current_price"] and first["reasons"]
    assert all(entry["code"] and entry["reason"] for entry in body["no_suggestion"])


def test_approve_writes_the_price_and_rollback_restores_it(client: TestClient, shop: tuple) -> None:
    # Given a suggestion of the current model
    merchant, store, version = shop
    suggestion = _suggestions(client, merchant)["suggestions"][0]
    endpoint = f"products/{suggestion['product_id']}"
    before = dict(store.products[endpoint])
    # When the owner approves it
    approved = client.post(
        f"/prices/suggestions/{suggestion['product_id']}/approve",
        headers=merchant.headers,
        json={"model_version": version},
    )
    # Then the store's price is the suggested one and the decision records what it replaced
    assert approved.status_code == 201, approved.text
    decision = approved.json()
    assert decision["status"] == "applied"
    assert float(store.products[endpoint]["price"]) == pytest.approx(suggestion["suggested_price"])
    # When it is rolled back
    rolled = client.post(f"/prices/decisions/{decision['decision_id']}/rollback", headers=merchant.headers, json={})
    # Then the previous price fields are back
    assert rolled.status_code == 200, rolled.text
    assert rolled.json()["status"] == "rolled_back"
    assert store.products[endpoint]["regular_price"] == before["regular_price"]
    assert store.products[endpoint]["sale_price"] == before["sale_price"]
    # And a second rollback is a conflict, not a second write
    writes = len(store.writes)
    again = client.post(f"/prices/decisions/{decision['decision_id']}/rollback", headers=merchant.headers, json={})
    assert again.status_code == 409 and len(store.writes) == writes


def test_approve_is_refused_when_the_store_price_moved(client: TestClient, shop: tuple) -> None:
    merchant, store, version = shop
    suggestion = _suggestions(client, merchant)["suggestions"][0]
    store.set_price(suggestion["product_id"], "999.00")  # the merchant changed it in WooCommerce meanwhile
    response = client.post(
        f"/prices/suggestions/{suggestion['product_id']}/approve",
        headers=merchant.headers,
        json={"model_version": version},
    )
    assert response.status_code == 409, response.text
    assert store.products[f"products/{suggestion['product_id']}"]["price"] == "999.00"


def test_approve_against_a_replaced_model_is_a_conflict(client: TestClient, shop: tuple) -> None:
    merchant, store, _ = shop
    suggestion = _suggestions(client, merchant)["suggestions"][0]
    response = client.post(
        f"/prices/suggestions/{suggestion['product_id']}/approve",
        headers=merchant.headers,
        json={"model_version": "an-older-version"},
    )
    assert response.status_code == 409
    assert "reload" in response.json()["detail"]
    assert not store.writes


def test_read_only_members_cannot_decide_and_staff_can_reject(client: TestClient, shop: tuple) -> None:
    merchant, store, version = shop
    suggestion = _suggestions(client, merchant)["suggestions"][0]
    viewer = add_tenant_user(merchant.tenant_id, "read-only")
    staff = add_tenant_user(merchant.tenant_id, "staff")
    url = f"/prices/suggestions/{suggestion['product_id']}"
    assert client.post(f"{url}/approve", headers=viewer.headers, json={"model_version": version}).status_code == 403
    assert client.get("/prices/suggestions", headers=viewer.headers).status_code == 200
    rejected = client.post(
        f"{url}/reject", headers=staff.headers, json={"model_version": version, "reason": "brand policy"}
    )
    assert rejected.status_code == 201, rejected.text
    assert rejected.json()["status"] == "rejected" and not store.writes
    # Decisions are listed newest first with a cursor
    page = client.get("/prices/decisions", params={"limit": 1}, headers=viewer.headers).json()
    assert page["items"][0]["decision_id"] == rejected.json()["decision_id"]

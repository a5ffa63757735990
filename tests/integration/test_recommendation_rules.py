"""The merchant's recommendation rules through the API: a pinned product comes first and a blocked one never
appears, in every kind of answer (for a customer, similar, basket, trending, a storefront visitor in either
arm of the hold-out); rules name the tenant's own products only, and only staff and owners change them."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from typing import Any

import pytest
from api_testkit import Merchant, add_tenant_user, api_app_module, new_merchant, publish_artifact, small_order_lines
from fastapi.testclient import TestClient

from luxebrain_dev.local.embedded import LocalResources

VISITORS = [f"visitor-{n:04d}-{secrets.token_hex(4)}" for n in range(40)]


@pytest.fixture(scope="module")
def client(local_aws: LocalResources) -> Iterator[TestClient]:
    with TestClient(api_app_module().app) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def shop(client: TestClient) -> tuple[Merchant, list[str], str]:
    from luxebrain.ml.recommend.train import train_recommender
    from luxebrain.storage.items.catalogue import ProductItem, key_product

    merchant = new_merchant("Maison Règles")
    lines = small_order_lines(customer_prefix="cr", product_prefix="pr")
    products = sorted(set(lines["product_id"]))
    for product_id in products:
        pk, sk = key_product(merchant.tenant_id, product_id)
        ProductItem(
            pk, sk, entity="product", tenant_id=merchant.tenant_id, product_id=product_id, name=product_id
        ).save()
    publish_artifact(merchant.tenant_id, train_recommender(lines))
    store = client.post(
        "/stores",
        headers=merchant.headers,
        json={"url": "https://rules.example", "consumer_key": "ck_" + "a" * 40, "consumer_secret": "cs_" + "b" * 40},
    )
    assert store.status_code == 201, store.text
    key = client.post("/tenant/storefront-key", headers=merchant.headers).json()["key"]
    return merchant, products, key


def _ids(answer: Any) -> list[str]:
    assert answer.status_code == 200, answer.text
    return [item["product_id"] for item in answer.json()["items"]]


def _every_answer(client: TestClient, merchant: Merchant, asked: list[str], key: str) -> list[list[str]]:
    """Every kind of answer; ``asked``: two products neither pinned nor blocked (an answer leaves out what it
    was asked about)."""
    headers = merchant.headers
    answers = [
        _ids(client.get("/recommendations/for-you", params={"customer_id": "cr1", "k": 50}, headers=headers)),
        _ids(
            client.get(
                "/recommendations/for-you",
                params={"customer_id": "cr2", "k": 50, "exclude_purchased": True},
                headers=headers,
            )
        ),
        _ids(client.get("/recommendations/similar", params={"product_id": asked[0], "k": 50}, headers=headers)),
        _ids(client.post("/recommendations/basket", json={"product_ids": asked, "k": 50}, headers=headers)),
        _ids(client.get("/recommendations/popular", params={"k": 50}, headers=headers)),
    ]
    storefront = {"X-Storefront-Key": key, "Origin": "https://rules.example"}
    for visitor in VISITORS:  # both arms of the storefront hold-out
        answers.append(
            _ids(
                client.get(
                    "/recommendations/similar",
                    params={"product_id": asked[0], "k": 50, "visitor_id": visitor},
                    headers=storefront,
                )
            )
        )
    return answers


def test_a_pinned_product_comes_first_and_a_blocked_one_never_appears(
    client: TestClient, shop: tuple[Merchant, list[str], str]
) -> None:
    merchant, products, key = shop
    trending = _ids(client.get("/recommendations/popular", params={"k": 50}, headers=merchant.headers))
    blocked, pinned = trending[0], trending[-1]
    assert blocked != pinned
    saved = client.put(
        "/recommendations/rules",
        headers=merchant.headers,
        json={"pinned": [pinned], "boosts": {trending[1]: 0.5}, "blocked": [blocked]},
    )
    assert saved.status_code == 200, saved.text
    assert saved.json()["pinned"] == [pinned] and saved.json()["blocked"] == [blocked]
    asked = [product for product in products if product not in (blocked, pinned)][:2]
    answers = _every_answer(client, merchant, asked, key)
    for answer in answers:
        assert blocked not in answer
    # First wherever it may be shown (not where the customer bought it and asked to leave purchases out)
    for answer in answers[:1] + answers[2:]:
        assert answer[0] == pinned, answer
    pinned_flags = client.get("/recommendations/popular", params={"k": 3}, headers=merchant.headers).json()["items"]
    assert pinned_flags[0] == {**pinned_flags[0], "product_id": pinned, "pinned": True}
    read = client.get("/recommendations/rules", headers=merchant.headers).json()
    assert read["boosts"] == {trending[1]: 0.5} and read["updated_by"]
    audit = client.get("/tenant/audit", headers=merchant.headers).json()["items"]
    assert any(item["action"] == "recommendation_rules.changed" for item in audit)
    # Rules cleared: the blocked product is back
    cleared = client.put("/recommendations/rules", headers=merchant.headers, json={})
    assert cleared.status_code == 200
    assert blocked in _ids(client.get("/recommendations/popular", params={"k": 50}, headers=merchant.headers))


def test_rules_name_the_tenants_own_products_once_and_only_staff_change_them(
    client: TestClient, shop: tuple[Merchant, list[str], str]
) -> None:
    merchant, products, key = shop
    headers = merchant.headers
    for body, words in [
        ({"pinned": ["not-a-product"]}, "not in the store's catalogue: not-a-product"),
        ({"pinned": [products[0]], "blocked": [products[0]]}, "both pinned and blocked"),
        ({"blocked": [products[0], products[0]]}, "listed twice"),
    ]:
        refused = client.put("/recommendations/rules", headers=headers, json=body)
        assert refused.status_code == 422 and words in refused.json()["detail"], refused.text
    for body in ({"boosts": {products[0]: 5}}, {"pinned": ["../x"]}, {"pinned": [products[0]] * 21}, {"other": 1}):
        assert client.put("/recommendations/rules", headers=headers, json=body).status_code == 422, body
    # Another tenant's products are unknown here, and its rules untouched
    other = new_merchant()
    assert (
        client.put("/recommendations/rules", headers=other.headers, json={"pinned": [products[0]]}).status_code == 422
    )
    viewer = add_tenant_user(merchant.tenant_id, "read-only")
    assert client.get("/recommendations/rules", headers=viewer.headers).status_code == 200
    assert client.put("/recommendations/rules", headers=viewer.headers, json={}).status_code == 403
    assert client.put("/recommendations/rules", headers={"X-Storefront-Key": key}, json={}).status_code in (401, 403)
    assert client.get("/recommendations/rules", headers={"X-Storefront-Key": key}).status_code in (401, 403)

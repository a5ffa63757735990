"""Tenant isolation, generated over every route of the app's own OpenAPI document (a new route is covered
without editing this file): tenant B's token with tenant A's ids gets a 4xx or B's own (empty) data, never
A's, and A's data is unchanged afterwards."""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from api_testkit import Merchant, api_app_module, new_merchant, publish_artifact, small_order_lines
from fastapi.testclient import TestClient

from luxebrain_dev.local.embedded import LocalResources

# Routes B must not run on itself during the sweep (they end B's session or delete B); they take no ids of
# another tenant, and each has its own test.
SKIPPED = {("post", "/auth/logout"), ("post", "/auth/change-password"), ("post", "/tenant/delete")}
DENIED = {401, 403, 404, 409, 422, 429}


@dataclass
class TenantA:
    merchant: Merchant
    store_id: str
    store_url: str
    customer_id: str
    customer_email: str
    product_id: str
    storefront_key: str
    privacy_job_id: str

    def secrets_in(self, text: str) -> list[str]:
        """A's identifiers that must never appear in an answer to B: its tenant, store, people, and the
        products and customers of its models (ids with prefixes no other tenant uses)."""
        found = [
            value
            for value in (self.merchant.tenant_id, self.store_url, self.customer_email, self.merchant.email)
            if value in text
        ]
        # The customer id B itself sent may be echoed back; any other of A's ids is a leak.
        found += sorted(set(re.findall(r'"(pa1\d\d|ca\d+)"', text)) - {self.customer_id, self.product_id})
        return found


@pytest.fixture(scope="module")
def client(local_aws: LocalResources) -> Iterator[TestClient]:
    with TestClient(api_app_module().app) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def tenant_a(client: TestClient) -> TenantA:
    from luxebrain.ml.customers.train import train_customer_model
    from luxebrain.ml.recommend.train import train_recommender
    from luxebrain.storage.items.customers import CustomerItem, key_customer

    merchant = new_merchant("Maison A")
    store_url = f"https://shop-a-{secrets.token_hex(4)}.example"
    store = client.post(
        "/stores",
        headers=merchant.headers,
        json={"url": store_url, "consumer_key": "ck_" + "a" * 40, "consumer_secret": "cs_" + "b" * 40},
    )
    assert store.status_code == 201, store.text
    lines = small_order_lines(customer_prefix="ca", product_prefix="pa")
    customer_id = "ca1"
    email = f"jeanne-{secrets.token_hex(4)}@customer.example"
    pk, sk = key_customer(merchant.tenant_id, customer_id)
    CustomerItem(pk, sk, entity="customer", tenant_id=merchant.tenant_id, customer_id=customer_id, email=email).save()
    publish_artifact(merchant.tenant_id, train_recommender(lines))
    publish_artifact(merchant.tenant_id, train_customer_model(lines, as_of=datetime(2026, 3, 1, tzinfo=UTC)))
    key = client.post("/tenant/storefront-key", headers=merchant.headers)
    assert key.status_code == 201, key.text
    export = client.post(f"/customers/{customer_id}/export", headers=merchant.headers)
    assert export.status_code == 202, export.text
    return TenantA(
        merchant,
        store.json()["store_id"],
        store_url,
        customer_id,
        email,
        "pa101",
        key.json()["key"],
        export.json()["job_id"],
    )


@pytest.fixture(scope="module")
def merchant_b(client: TestClient, local_aws: LocalResources) -> Merchant:
    """Tenant B has models of its own, so B's model routes answer 200 (with B's data) rather than a trivial 404."""
    from luxebrain.ml.customers.train import train_customer_model
    from luxebrain.ml.recommend.train import train_recommender

    merchant = new_merchant("Maison B")
    lines = small_order_lines(customer_prefix="cb", product_prefix="pb", seed=11)
    publish_artifact(merchant.tenant_id, train_recommender(lines))
    publish_artifact(merchant.tenant_id, train_customer_model(lines, as_of=datetime(2026, 3, 1, tzinfo=UTC)))
    return merchant


def _value_for(name: str, schema: dict[str, Any], a: TenantA) -> Any:
    by_name = {
        "tenant_id": a.merchant.tenant_id,
        "store_id": a.store_id,
        "customer_id": a.customer_id,
        "product_id": a.product_id,
        "segment": "Champions",
        "job_id": a.privacy_job_id,
    }
    if name in by_name:
        return by_name[name]
    return _example(schema, a)


def _example(schema: dict[str, Any], a: TenantA, spec: dict[str, Any] | None = None) -> Any:
    """A minimal value of a JSON schema (enough to get past validation where possible)."""
    if "$ref" in schema and spec is not None:
        name = schema["$ref"].rsplit("/", 1)[-1]
        return _example(spec["components"]["schemas"][name], a, spec)
    for key in ("anyOf", "oneOf", "allOf"):
        if key in schema:
            options = [option for option in schema[key] if option.get("type") != "null"]
            return _example(options[0], a, spec) if options else None
    if schema.get("examples"):
        return schema["examples"][0]
    if "enum" in schema:
        return schema["enum"][0]
    if "const" in schema:
        return schema["const"]
    kind = schema.get("type")
    if kind == "object":
        return {
            name: _value_for(name, sub, a) if name.endswith("_id") else _example(sub, a, spec)
            for name, sub in schema.get("properties", {}).items()
            if name in schema.get("required", [])
        }
    if kind == "array":
        return [_example(schema.get("items", {}), a, spec)] * max(1, schema.get("minItems", 1))
    if kind == "integer":
        return max(1, schema.get("minimum", 1))
    if kind == "number":
        return max(1.0, schema.get("minimum", 1.0))
    if kind == "boolean":
        return False
    return "x" * max(1, schema.get("minLength", 1))


def _operations(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, operation)
        for path, item in spec["paths"].items()
        for method, operation in item.items()
        if method in ("get", "post", "put", "patch", "delete") and (method, path) not in SKIPPED
    ]


def _request(client: TestClient, spec: dict[str, Any], method: str, path: str, operation: dict[str, Any], a: TenantA,
             headers: dict[str, str]) -> Any:  # fmt: skip
    url = path
    query: dict[str, Any] = {}
    for parameter in operation.get("parameters", []):
        value = _value_for(parameter["name"], parameter.get("schema", {}), a)
        if parameter["in"] == "path":
            url = url.replace("{" + parameter["name"] + "}", str(value))
        elif parameter["in"] == "query" and (parameter.get("required") or parameter["name"].endswith("_id")):
            query[parameter["name"]] = value
    body = None
    content = operation.get("requestBody", {}).get("content", {}).get("application/json")
    if content:
        body = _example(content["schema"], a, spec)
    return client.request(method.upper(), url, params=query, json=body, headers=headers)


@pytest.mark.slow(reason="calls every route of the API with another tenant's ids")
def test_every_route_denies_tenant_b_the_data_of_tenant_a(
    client: TestClient, tenant_a: TenantA, merchant_b: Merchant
) -> None:
    # Given tenant A with a store, a customer, trained models and a storefront key, and tenant B's owner
    spec = api_app_module().app.openapi()
    operations = _operations(spec)
    assert len(operations) >= 30  # the sweep really covers the API
    leaks, server_errors = [], []
    # When B calls every route with A's ids
    for method, path, operation in operations:
        response = _request(client, spec, method, path, operation, tenant_a, merchant_b.headers)
        if response.status_code >= 500:
            server_errors.append((method, path, response.status_code, response.text[:200]))
        elif response.status_code not in DENIED and tenant_a.secrets_in(response.text):
            leaks.append((method, path, response.status_code, tenant_a.secrets_in(response.text)))
    # Then no answer carries A's data and nothing fails on the server
    assert not server_errors, server_errors
    assert not leaks, leaks


def test_tenant_a_still_sees_its_own_data_after_the_sweep(
    client: TestClient, tenant_a: TenantA, merchant_b: Merchant, local_aws: LocalResources
) -> None:
    from luxebrain_dev.local.event_sources import SqsEventSources

    # The ids used in the sweep are real: with A's own token the same routes answer with A's data
    headers = tenant_a.merchant.headers
    assert client.get(f"/stores/{tenant_a.store_id}", headers=headers).json()["url"] == tenant_a.store_url
    assert client.get(f"/stores/{tenant_a.store_id}/ingest-status", headers=headers).status_code == 200
    scores = client.get(f"/customers/{tenant_a.customer_id}/scores", headers=headers)
    assert scores.status_code == 200, scores.text
    recs = client.get("/recommendations/for-you", params={"customer_id": tenant_a.customer_id}, headers=headers)
    assert recs.status_code == 200 and recs.json()["items"], recs.text
    assert tenant_a.secrets_in(recs.text)  # the leak detector does see A's products when they are there
    # The privacy jobs the sweep queued run (B's erasure with A's customer id erases in B's tenant only)
    SqsEventSources.from_resources(local_aws, functions={"PrivacyWorkerFunction"}, retry_after_seconds=0).drain()
    job = client.get(f"/privacy/jobs/{tenant_a.privacy_job_id}", headers=headers).json()
    assert job["status"] == "done", job
    export = client.get(job["export_url"], headers=headers)
    assert tenant_a.customer_email in export.text
    again = client.post(f"/customers/{tenant_a.customer_id}/export", headers=headers)
    SqsEventSources.from_resources(local_aws, functions={"PrivacyWorkerFunction"}, retry_after_seconds=0).drain()
    job = client.get(again.json()["status_url"], headers=headers).json()
    assert job["status"] == "done" and job["result"]["records"] == {"customer": 1}  # not erased by B's DELETE


def test_same_ids_with_tenant_b_token_are_404_on_object_routes(
    client: TestClient, tenant_a: TenantA, merchant_b: Merchant
) -> None:
    headers = merchant_b.headers
    assert client.get(f"/stores/{tenant_a.store_id}", headers=headers).status_code == 404
    assert client.get(f"/stores/{tenant_a.store_id}/ingest-status", headers=headers).status_code == 404
    assert client.get(f"/customers/{tenant_a.customer_id}/scores", headers=headers).status_code == 404
    recs = client.get("/recommendations/popular", headers=headers)
    assert recs.status_code == 200  # B's own model, with B's products only
    assert {item["product_id"][:2] for item in recs.json()["items"]} == {"pb"}
    assert client.get(f"/customers/{tenant_a.customer_id}/scores", headers=headers).status_code == 404


def test_admin_routes_and_impersonation_are_refused_to_tenant_owners(
    client: TestClient, tenant_a: TenantA, merchant_b: Merchant
) -> None:
    headers = merchant_b.headers
    assert client.get("/admin/tenants", headers=headers).status_code == 403
    impersonate = client.post(
        f"/admin/tenants/{tenant_a.merchant.tenant_id}/impersonate", headers=headers, json={"reason": "curious owner"}
    )
    assert impersonate.status_code == 403
    forged_session = f"{tenant_a.merchant.tenant_id}.{'x' * 32}"
    me = client.get("/me", headers={**headers, "X-Impersonation": forged_session})
    assert me.status_code == 403


def test_storefront_key_reads_only_its_own_tenant_and_only_recommendations(
    client: TestClient, tenant_a: TenantA, merchant_b: Merchant
) -> None:
    key = tenant_a.storefront_key
    ok = client.get("/recommendations/popular", headers={"X-Storefront-Key": key})
    assert ok.status_code == 200, ok.text
    # The key is not a dashboard credential
    assert client.get("/stores", headers={"X-Storefront-Key": key}).status_code == 401
    # A's secret under B's tenant prefix is not a key of B
    secret = key.removeprefix(f"lbpk_{tenant_a.merchant.tenant_id}_")
    forged = f"lbpk_{merchant_b.tenant_id}_{secret}"
    assert client.get("/recommendations/popular", headers={"X-Storefront-Key": forged}).status_code == 401


def test_a_cursor_from_another_partition_is_refused(
    client: TestClient, tenant_a: TenantA, merchant_b: Merchant
) -> None:
    from luxebrain.tenancy import tenant_partition
    from luxebrain.webapi.pagination import encode_cursor

    cursor = encode_cursor(
        {"pk": {"S": tenant_partition(tenant_a.merchant.tenant_id)}, "sk": {"S": f"STORE#{tenant_a.store_id}"}}
    )
    response = client.get("/stores", params={"cursor": cursor}, headers=merchant_b.headers)
    assert response.status_code == 422
    assert tenant_a.store_url not in response.text

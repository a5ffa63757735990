"""Every route the API's OpenAPI document lists is reachable through the local gateway exactly as API Gateway
routes it from the SAM-translated template: without a token, a route behind the JWT authorizer is refused by
the gateway (the function never runs) and an ``Authorizer: NONE`` route reaches the function; with a valid
token, every route reaches the function. "Reaches the function" is proven by the request id the app stamps on
every response, which API Gateway's own 401 / 404 answers do not carry."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from api_testkit import new_merchant

from luxebrain_dev.local.embedded import LocalResources
from luxebrain_dev.local.gateway import MAIN_API, LocalGateway

METHODS = ("get", "put", "post", "delete", "patch")


@pytest.fixture(scope="module")
def gateway(local_aws: LocalResources) -> Iterator[LocalGateway]:
    gateway = LocalGateway(resources=local_aws)
    gateway.start()
    try:
        yield gateway
    finally:
        gateway.stop()


def documented_routes(gateway: LocalGateway) -> list[tuple[str, str, bool]]:
    """(method, concrete path, whether the API documents it as needing no credentials)."""
    document = requests.get(f"{gateway.url}/openapi.json", timeout=30).json()
    routes = []
    for path, operations in document["paths"].items():
        concrete = re.sub(r"\{[^}]+\}", "x-unknown", path)
        for method, operation in operations.items():
            if method in METHODS:
                routes.append((method.upper(), concrete, not operation.get("security", document.get("security"))))
    return routes


def reached_the_function(response: requests.Response) -> bool:
    return "x-request-id" in response.headers


def test_every_documented_route_is_routed_with_its_authorizer(gateway: LocalGateway) -> None:
    routes = documented_routes(gateway)
    assert len(routes) > 20
    merchant = new_merchant()
    checked: dict[str, list[str]] = {"authorizer": [], "open": []}
    for method, path, public in routes:
        found = gateway.route_for(method, path, MAIN_API)
        assert found is not None, f"{method} {path}: documented by the API but no route of the template matches"
        route, _ = found
        if public:  # documented without credentials: API Gateway must not ask for a token first
            assert route.authorizer is None, f"{method} {path} is public, but {route.route_key} has an authorizer"
        anonymous = requests.request(method, f"{gateway.url}{path}", timeout=30)
        if route.authorizer is not None:
            assert anonymous.status_code == 401 and anonymous.json() == {"message": "Unauthorized"}, (method, path)
            assert not reached_the_function(anonymous), (method, path)
            checked["authorizer"].append(f"{method} {path}")
        else:
            assert reached_the_function(anonymous), f"{method} {path}: open route ({route.route_key}) not served"
            checked["open"].append(f"{method} {path}")
        signed_in = requests.request(method, f"{gateway.url}{path}", headers=merchant.headers, timeout=30)
        assert reached_the_function(signed_in), f"{method} {path} with a valid token: {signed_in.status_code}"
    assert checked["authorizer"] and checked["open"]
    assert any(entry.startswith("POST /auth/") for entry in checked["open"])
    assert "GET /me" in checked["authorizer"]


def test_the_ingest_api_serves_only_its_own_routes(gateway: LocalGateway) -> None:
    ingest = gateway.url_of("IngestWebhookApi")
    refused: Any = requests.get(f"{ingest}/me", timeout=30)
    assert refused.status_code == 404 and refused.json() == {"message": "Not Found"}
    assert requests.get(f"{gateway.url}/webhooks/woocommerce/t/s", timeout=30).status_code == 401

"""The Lambda handler with API Gateway HTTP API (payload 2.0) events, and the app's edge behaviour:
request ids, problem+json for unknown routes and oversized bodies, CORS allow-list, no pandas on import."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from api_testkit import REPO, Merchant, api_app_module, new_merchant
from fastapi.testclient import TestClient

from luxebrain_dev.local.embedded import LocalResources

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "api_gateway_v2_get_me.json"


@dataclass
class LambdaContext:
    function_name: str = "ApiFunction"
    memory_limit_in_mb: int = 1024
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:ApiFunction"
    aws_request_id: str = "c6af9ac6-7b61-11e6-9a41-93e8deadbeef"


@pytest.fixture(scope="module")
def merchant(local_aws: LocalResources) -> Merchant:
    return new_merchant("Maison Lambda")


def _event(**changes: Any) -> dict[str, Any]:
    event = copy.deepcopy(json.loads(FIXTURE.read_text()))
    for key, value in changes.items():
        if key == "headers":
            event["headers"].update(value)
        elif key == "method":
            event["requestContext"]["http"]["method"] = value
        elif key == "path":
            event["rawPath"] = event["requestContext"]["http"]["path"] = value
        else:
            event[key] = value
    return event


def test_handler_answers_a_v2_event_for_a_signed_in_merchant(merchant: Merchant) -> None:
    # Given an HTTP API v2 event carrying the merchant's access token
    event = _event(headers={"authorization": f"Bearer {merchant.access_token}"})
    # When Lambda invokes the handler
    response = api_app_module().handler(event, LambdaContext())
    # Then the answer is the merchant's profile, tagged with API Gateway's request id
    assert response["statusCode"] == 200, response
    assert json.loads(response["body"])["tenant_id"] == merchant.tenant_id
    assert response["headers"]["x-request-id"] == "Gk3pXjRsIAMEV8w="


def test_handler_turns_errors_into_problem_json(local_aws: LocalResources) -> None:
    response = api_app_module().handler(_event(path="/no/such/route"), LambdaContext())
    assert response["statusCode"] == 404
    assert response["headers"]["content-type"] == "application/problem+json"
    body = json.loads(response["body"])
    assert body["request_id"] == "Gk3pXjRsIAMEV8w=" and body["instance"] == "/no/such/route"


def test_handler_refuses_an_unauthenticated_call(local_aws: LocalResources) -> None:
    response = api_app_module().handler(_event(), LambdaContext())
    assert response["statusCode"] == 401
    assert "Bearer" in json.loads(response["body"])["detail"]


@pytest.fixture(scope="module")
def client(local_aws: LocalResources) -> Iterator[TestClient]:
    with TestClient(api_app_module().app) as test_client:
        yield test_client


def test_a_callers_request_id_is_kept_and_a_bad_one_replaced(client: TestClient) -> None:
    kept = client.get("/health", headers={"X-Request-ID": "dashboard-req-0001"})
    assert kept.headers["x-request-id"] == "dashboard-req-0001"
    replaced = client.get("/health", headers={"X-Request-ID": "<script>"})
    assert replaced.headers["x-request-id"] != "<script>" and len(replaced.headers["x-request-id"]) == 36


def test_oversized_body_is_413_before_any_work(client: TestClient) -> None:
    response = client.post(
        "/auth/login", content=b"{" + b" " * 300_000 + b"}", headers={"content-type": "application/json"}
    )
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"


def test_wrong_method_is_405_problem(client: TestClient) -> None:
    response = client.delete("/health")
    assert response.status_code == 405 and response.json()["status"] == 405


def test_cors_allows_local_dashboards_only(client: TestClient) -> None:
    # APP_ENV is local in the embedded AWS: localhost origins are allowed, others never (no wildcard)
    preflight = {"Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "authorization"}
    allowed = client.options("/me", headers={"Origin": "http://localhost:5173", **preflight})
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == "http://localhost:5173"
    assert allowed.headers["access-control-allow-credentials"] == "true"
    refused = client.options("/me", headers={"Origin": "https://evil.example", **preflight})
    assert refused.status_code == 400
    assert (
        "access-control-allow-origin" not in client.get("/health", headers={"Origin": "https://evil.example"}).headers
    )


def test_importing_the_api_loads_no_pandas_scipy_or_sklearn() -> None:
    code = (
        "import sys, importlib.util\n"
        f"spec = importlib.util.spec_from_file_location('api_app', {str(REPO / 'functions/api/app.py')!r})\n"
        "module = importlib.util.module_from_spec(spec); spec.loader.exec_module(module)\n"
        "module.app.openapi()\n"
        "heavy = sorted(m for m in ('pandas', 'scipy', 'sklearn') if m in sys.modules)\n"
        "print(','.join(heavy) or 'none')\n"
    )
    result = subprocess.run(  # noqa: S603 - our own interpreter running our own code
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=120,
        env={"APP_ENV": "prod", "PATH": "/usr/bin:/bin"},
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().splitlines()[-1] == "none"


def test_interactive_docs_are_off_in_prod() -> None:
    code = (
        "import importlib.util\n"
        f"spec = importlib.util.spec_from_file_location('api_app', {str(REPO / 'functions/api/app.py')!r})\n"
        "module = importlib.util.module_from_spec(spec); spec.loader.exec_module(module)\n"
        "from fastapi.testclient import TestClient\n"
        "client = TestClient(module.app)\n"
        "print(client.get('/docs').status_code, client.get('/openapi.json').status_code)\n"
    )
    result = subprocess.run(  # noqa: S603 - our own interpreter running our own code
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=120,
        env={"APP_ENV": "prod", "PATH": "/usr/bin:/bin"},
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().splitlines()[-1] == "404 404"


def test_docs_and_openapi_are_served_outside_prod(local_aws: LocalResources) -> None:
    # A fresh app: the module's own may have been created before the embedded AWS set APP_ENV=local
    client = TestClient(api_app_module().create_app())
    spec = client.get("/openapi.json")
    assert spec.status_code == 200
    assert "/recommendations/for-you" in spec.json()["paths"]
    assert client.get("/docs").status_code == 200


def test_handler_works_from_threads_without_an_event_loop(merchant: Merchant) -> None:
    # The local gateway calls handlers from its request threads, where asyncio has no default loop
    import threading

    results: list[int] = []
    event = _event(headers={"authorization": f"Bearer {merchant.access_token}"})
    threads = [
        threading.Thread(target=lambda: results.append(api_app_module().handler(event, LambdaContext())["statusCode"]))
        for _ in range(3)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [200, 200, 200]


def test_storefront_routes_allow_any_shop_origin_without_credentials(client: TestClient) -> None:
    preflight = {"Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "x-storefront-key"}
    response = client.options("/recommendations/popular", headers={"Origin": "https://any-shop.example", **preflight})
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "*"
    assert "access-control-allow-credentials" not in response.headers
    # ...while a dashboard route keeps its allow-list
    dashboard = client.options("/stores", headers={"Origin": "https://any-shop.example", **preflight})
    assert dashboard.status_code == 400


def test_the_dashboard_calls_recommendation_routes_with_its_bearer_token(client: TestClient) -> None:
    # The dashboard's preview sends Authorization to /recommendations/*: its own origin gets the dashboard
    # policy there too, while a shop's origin keeps the storefront policy (no Authorization, no credentials).
    preflight = {"Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "authorization"}
    dashboard = client.options("/recommendations/popular", headers={"Origin": "http://127.0.0.1:8080", **preflight})
    assert dashboard.status_code == 200, dashboard.text
    assert dashboard.headers["access-control-allow-origin"] == "http://127.0.0.1:8080"
    assert "authorization" in dashboard.headers["access-control-allow-headers"].lower()
    shop = client.options("/recommendations/popular", headers={"Origin": "https://any-shop.example", **preflight})
    assert shop.status_code == 400


def test_request_log_lines_name_only_their_own_tenant(merchant: Merchant) -> None:
    import io
    import logging

    from luxebrain.observability import logger

    # The log lines exactly as the function writes them (the Powertools formatter, appended keys included)
    stream = io.StringIO()
    capture = logging.StreamHandler(stream)
    capture.setFormatter(logger.registered_formatter)
    logging.getLogger(logger.name).addHandler(capture)
    try:
        handler = api_app_module().handler
        handler(_event(headers={"authorization": f"Bearer {merchant.access_token}"}), LambdaContext())
        handler(_event(path="/health"), LambdaContext())
    finally:
        logging.getLogger(logger.name).removeHandler(capture)
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    requests = [line for line in lines if line.get("message") == "request"]
    assert requests[-2]["route"] == "/me" and requests[-2]["tenant_id"] == merchant.tenant_id
    assert requests[-1]["route"] == "/health" and requests[-1].get("tenant_id") is None
    assert merchant.email not in stream.getvalue()  # no personal data in the request logs

"""The local gateway serves the SAM-translated template's HTTP APIs as API Gateway would: each API on its own
base URL, its JWT authorizer enforced before the function runs, ``Authorizer: NONE`` routes open. The webhook
URL a merchant is given reaches the receiver; the same delivery to the main API is refused."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import jwt
import pytest
from api_testkit import access_claims_of, new_merchant, signed_token

from luxebrain.storage.customers import iter_orders
from luxebrain_dev.delivery import Delivery, WebhookSender, wp_json_encode
from luxebrain_dev.local.embedded import LocalResources
from luxebrain_dev.local.event_sources import SqsEventSources
from luxebrain_dev.local.gateway import MAIN_API, LocalGateway
from luxebrain_dev.sample_store import generate_sample_store

INGEST_API = "IngestWebhookApi"
STORE = {"url": "https://maison.example", "consumer_key": "ck_" + "a" * 32, "consumer_secret": "cs_" + "b" * 32}


@pytest.fixture(scope="module")
def gateway(local_aws: LocalResources) -> Iterator[LocalGateway]:
    gateway = LocalGateway(resources=local_aws)
    gateway.start()
    try:
        yield gateway
    finally:
        gateway.stop()


def call(url: str, method: str = "GET", body: bytes | None = None, headers: dict[str, str] | None = None) -> Any:
    request = urllib.request.Request(url, data=body, method=method, headers=headers or {})  # noqa: S310 - loopback
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - loopback test server
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def test_each_api_has_its_own_base_url(gateway: LocalGateway) -> None:
    assert set(gateway.urls) >= {MAIN_API, INGEST_API}
    assert gateway.url_of(MAIN_API) != gateway.url_of(INGEST_API)


def test_signed_webhook_to_the_url_a_merchant_is_given_is_stored_and_the_main_api_refuses_it(
    gateway: LocalGateway, local_aws: LocalResources
) -> None:
    # Given a merchant who registers a store through the API and takes the webhook URL it hands out
    merchant = new_merchant()
    status, _, raw = call(
        f"{gateway.url}/stores",
        "POST",
        json.dumps(STORE).encode(),
        {**merchant.headers, "content-type": "application/json"},
    )
    assert status == 201, raw
    registered = json.loads(raw)
    webhook_url, secret = registered["webhook_url"], registered["webhook_secret"]
    assert webhook_url.startswith(gateway.url_of(INGEST_API) + "/webhooks/woocommerce/")
    # When WooCommerce delivers a signed order there
    order = generate_sample_store(products=8, customers=3, years=0.2, seed=5).orders[0]
    delivery = Delivery("order.updated", wp_json_encode(order))
    assert WebhookSender(webhook_url, secret).deliver(delivery) == 200
    # Then the processor stores it
    SqsEventSources.from_resources(local_aws, functions={"IngestProcessorFunction"}, retry_after_seconds=0).drain()
    assert str(order["id"]) in {stored.order_id for stored in iter_orders(merchant.tenant_id)}
    # And the same signed delivery to the main API is stopped by its JWT authorizer, before any function runs
    main_api_url = webhook_url.replace(gateway.url_of(INGEST_API), gateway.url_of(MAIN_API))
    assert WebhookSender(main_api_url, secret).deliver(delivery) == 401
    status, headers, raw = call(main_api_url, "POST", delivery.body, {"content-type": "application/json"})
    assert (status, json.loads(raw)) == (401, {"message": "Unauthorized"})
    assert "invalid_token" in {k.lower(): v for k, v in headers.items()}["www-authenticate"]


def test_jwt_authorizer_checks_issuer_audience_and_expiry(gateway: LocalGateway) -> None:
    merchant = new_merchant()
    me = f"{gateway.url}/me"
    assert call(me, headers=merchant.headers)[0] == 200
    assert call(me)[0] == 401  # no token
    claims = access_claims_of(merchant.access_token)
    for changed in ({"iss": "https://issuer.example"}, {"client_id": "another-client"}, {"exp": int(time.time()) - 60}):
        status, _, raw = call(me, headers={"Authorization": f"Bearer {signed_token({**claims, **changed})}"})
        assert (status, json.loads(raw)) == (401, {"message": "Unauthorized"}), changed
    forged = jwt.encode(claims, "not-the-pool-key-but-a-long-enough-one", algorithm="HS256", headers={"kid": "dummy"})
    assert call(me, headers={"Authorization": f"Bearer {forged}"})[0] == 401


def test_routes_with_authorizer_none_are_open(gateway: LocalGateway) -> None:
    assert call(f"{gateway.url}/health")[0] == 200
    assert call(f"{gateway.url}/openapi.json")[0] == 200
    status, _, _ = call(f"{gateway.url}/me", "OPTIONS", headers={"Origin": "http://localhost:5173"})
    assert status != 401  # the preflight route has no authorizer

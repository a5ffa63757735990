"""Connecting a store through wc-auth, over HTTP end to end: the API issues the authorize URL, the fake
WooCommerce shows its approval page, creates a key and POSTs it to the callback on the ingest API (local
gateway → callback function → moto), then redirects the merchant back. Expired, replayed, foreign and
read-only connections are refused with a problem and change nothing."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from html import unescape
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from api_testkit import Merchant, add_tenant_user, new_merchant

from luxebrain.adapters.aws import secrets_vault
from luxebrain.billing import plans as billing_plans
from luxebrain.billing import usage as billing_usage
from luxebrain.runtime import aws_client, reset_runtime
from luxebrain.storage import tenants as tenant_repo
from luxebrain.storage.items.tenants import StoreItem, key_store
from luxebrain.woocommerce.connection import CALLBACK_PATH, register_store, start_connection
from luxebrain_dev.local.embedded import LocalResources
from luxebrain_dev.local.fake_woocommerce import FakeWooCommerce
from luxebrain_dev.local.gateway import LocalGateway
from luxebrain_dev.sample_store import SampleStore, generate_sample_store

DASHBOARD = "http://127.0.0.1:5173"


@pytest.fixture(scope="module")
def sample() -> SampleStore:
    return generate_sample_store(products=8, customers=6, years=0.1, seed=5)


@dataclass(frozen=True)
class Urls:
    api: str  # the main API (JWT authorizer)
    ingest: str  # the public ingest API: webhooks and the wc-auth callback


@pytest.fixture(scope="module")
def gateway(local_aws: LocalResources) -> Iterator[Urls]:
    local_gateway = LocalGateway(resources=local_aws)
    local_gateway.start()
    try:
        yield Urls(api=local_gateway.url, ingest=local_gateway.url_of("IngestWebhookApi"))
    finally:
        local_gateway.stop()


@pytest.fixture
def connect_settings(gateway: Urls) -> Iterator[Urls]:
    """The callback on the local ingest API (the gateway sets its URL, as the template does), the dashboard
    as the return URL."""
    saved = {name: os.environ.get(name) for name in ("LUXEBRAIN_DASHBOARD_URL",)}
    os.environ["LUXEBRAIN_DASHBOARD_URL"] = DASHBOARD
    reset_runtime()
    yield gateway
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
    reset_runtime()


@pytest.fixture
def fake_store(sample: SampleStore) -> Iterator[FakeWooCommerce]:
    with FakeWooCommerce(sample) as fake:
        yield fake


def connect(gateway: Urls, merchant: Merchant, url: str) -> dict[str, Any]:
    response = requests.post(f"{gateway.api}/stores/connect", json={"url": url}, headers=merchant.headers, timeout=30)
    assert response.status_code == 201, response.text
    return response.json()


def approve(authorize_url: str) -> requests.Response:
    """The merchant's browser: open the store's approval page and click Approve (redirects not followed)."""
    page = requests.get(authorize_url, timeout=30)
    assert page.status_code == 200, page.text
    href = unescape(re.search(r'href="([^"]+)"', page.text).group(1))  # type: ignore[union-attr]
    split = urlsplit(authorize_url)
    return requests.get(f"{split.scheme}://{split.netloc}{href}", allow_redirects=False, timeout=60)


def queued_backfills(tenant_id: str) -> list[dict[str, Any]]:
    sqs = aws_client("sqs")
    found = []
    while True:
        messages = sqs.receive_message(
            QueueUrl=os.environ["LUXEBRAIN_BACKFILL_QUEUE_URL"], MaxNumberOfMessages=10, WaitTimeSeconds=0
        ).get("Messages", [])
        if not messages:
            return found
        for message in messages:
            body = json.loads(message["Body"])
            if body.get("tenant_id") == tenant_id:
                found.append(body)
            sqs.delete_message(
                QueueUrl=os.environ["LUXEBRAIN_BACKFILL_QUEUE_URL"], ReceiptHandle=message["ReceiptHandle"]
            )


def test_a_store_connects_in_one_click_and_a_replay_changes_nothing(
    connect_settings: Urls, fake_store: FakeWooCommerce
) -> None:
    merchant = new_merchant()
    # Given the merchant asks to connect their store
    started = connect(connect_settings, merchant, fake_store.url)
    split = urlsplit(started["authorize_url"])
    query = {name: values[0] for name, values in parse_qs(split.query).items()}
    assert f"{split.scheme}://{split.netloc}{split.path}" == f"{fake_store.url}/wc-auth/v1/authorize"
    assert (query["app_name"], query["scope"]) == ("LuxeBrain", "read_write")
    assert query["callback_url"] == f"{connect_settings.ingest}{CALLBACK_PATH}"
    assert query["return_url"].startswith(f"{DASHBOARD}/stores?")
    assert query["user_id"].startswith(f"{merchant.tenant_id}.")
    # When they approve in the store
    answer = approve(started["authorize_url"])
    # Then the store called us back, we answered 200, and the merchant is sent back to the dashboard
    assert fake_store.callback_answers == [200]
    assert answer.status_code == 302
    assert answer.headers["Location"].startswith(query["return_url"]) and "success=1" in answer.headers["Location"]
    # and the store is connected with the key WooCommerce made, stored encrypted
    stores = tenant_repo.list_stores(merchant.tenant_id)
    assert [(store.store_id, store.url) for store in stores] == [(started["store_id"], fake_store.url)]
    keys = tenant_repo.get_store_secrets(merchant.tenant_id, started["store_id"], vault=secrets_vault())
    key = fake_store.keys[keys.consumer_key.get_secret_value()]
    assert (key.permissions, key.consumer_secret) == ("read_write", keys.consumer_secret.get_secret_value())
    assert b"ck_" not in StoreItem.get(*key_store(merchant.tenant_id, started["store_id"])).secrets_ciphertext
    # and webhook registration with the first back-fill is queued
    assert queued_backfills(merchant.tenant_id) == [
        {"tenant_id": merchant.tenant_id, "store_id": started["store_id"], "continuation": 0, "connect": True}
    ]
    # When the same approval is replayed (a new key on a used state), it is refused and nothing changes
    replay = approve(started["authorize_url"])
    assert replay.status_code == 400 and fake_store.callback_answers == [200, 409]
    assert len(tenant_repo.list_stores(merchant.tenant_id)) == 1
    assert (
        tenant_repo.get_store_secrets(merchant.tenant_id, started["store_id"], vault=secrets_vault()).consumer_key
        == keys.consumer_key
    )


def callback(gateway: Urls, **fields: Any) -> requests.Response:
    body = {
        "key_id": 7,
        "consumer_key": "ck_" + "a" * 40,
        "consumer_secret": "cs_" + "b" * 40,
        "key_permissions": "read_write",
    } | fields
    return requests.post(f"{gateway.ingest}{CALLBACK_PATH}", json=body, timeout=30)


def test_a_repeated_callback_with_the_same_key_answers_the_same_store(connect_settings: Urls) -> None:
    merchant = new_merchant()
    started = start_connection(merchant.tenant_id, "https://shop.example", tenants=tenant_repo.tenant_repository())
    user_id = parse_qs(urlsplit(started.authorize_url).query)["user_id"][0]
    first = callback(connect_settings, user_id=user_id)
    again = callback(connect_settings, user_id=user_id)
    assert (first.status_code, again.status_code) == (200, 200)
    assert first.json()["store_id"] == again.json()["store_id"] == started.store_id
    assert len(tenant_repo.list_stores(merchant.tenant_id)) == 1


def test_reconnecting_a_store_at_the_plans_store_cap_replaces_its_keys(connect_settings: Urls) -> None:
    # Given a tenant on the free plan holding its two stores
    merchant = new_merchant()
    assert billing_plans.plan_of(merchant.tenant_id, tenants=tenant_repo.tenant_repository()).max_stores == 2
    kept, _ = register_store(
        merchant.tenant_id,
        tenants=tenant_repo.tenant_repository(),
        usage=billing_usage.plan_usage(),
        url="https://one.example",
        consumer_key="ck_1",
        consumer_secret="cs_1",
        vault=secrets_vault(),
    )
    register_store(
        merchant.tenant_id,
        tenants=tenant_repo.tenant_repository(),
        usage=billing_usage.plan_usage(),
        url="https://two.example",
        consumer_key="ck_2",
        consumer_secret="cs_2",
        vault=secrets_vault(),
    )
    webhook_secret = tenant_repo.get_store_secrets(
        merchant.tenant_id, kept.store_id, vault=secrets_vault()
    ).webhook_secret
    # When it reconnects one of them (new keys for the same shop)
    started = start_connection(merchant.tenant_id, "https://one.example", tenants=tenant_repo.tenant_repository())
    assert started.store_id == kept.store_id
    user_id = parse_qs(urlsplit(started.authorize_url).query)["user_id"][0]
    answer = callback(connect_settings, user_id=user_id)
    # Then the same store gets the new keys, the webhook secret is kept, and no store is metered (before: 402)
    assert answer.status_code == 200, answer.text
    assert answer.json()["store_id"] == kept.store_id
    keys = tenant_repo.get_store_secrets(merchant.tenant_id, kept.store_id, vault=secrets_vault())
    assert keys.consumer_key.get_secret_value() == "ck_" + "a" * 40
    assert keys.webhook_secret == webhook_secret
    assert len(tenant_repo.list_stores(merchant.tenant_id)) == 2
    assert {line.limit: line.used for line in billing_usage.plan_usage().usage_report(merchant.tenant_id)}[
        "stores"
    ] == 2


@pytest.mark.parametrize(
    ("case", "status"),
    [("expired", 410), ("read_only", 403), ("other_tenant", 404), ("forged", 404), ("malformed", 400)],
)
def test_bad_callbacks_are_refused_with_a_problem_and_store_nothing(
    connect_settings: Urls, case: str, status: int
) -> None:
    merchant, other = new_merchant(), new_merchant()
    now = datetime.now(UTC) - timedelta(hours=1) if case == "expired" else None
    started = start_connection(
        merchant.tenant_id, "https://shop.example", tenants=tenant_repo.tenant_repository(), now=now
    )
    user_id = parse_qs(urlsplit(started.authorize_url).query)["user_id"][0]
    fields: dict[str, Any] = {"user_id": user_id}
    if case == "read_only":
        fields["key_permissions"] = "read"
    if case == "other_tenant":  # the state of one tenant presented as another's
        fields["user_id"] = user_id.replace(merchant.tenant_id, other.tenant_id, 1)
    if case == "forged":
        fields["user_id"] = f"{merchant.tenant_id}.{'x' * 32}"
    if case == "malformed":
        fields["consumer_key"] = "not a key"
    answer = callback(connect_settings, **fields)
    assert answer.status_code == status
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["status"] == status and answer.json()["detail"]
    assert tenant_repo.list_stores(merchant.tenant_id) == [] and tenant_repo.list_stores(other.tenant_id) == []
    if case == "read_only":  # the merchant can still approve with read/write: the state was not used up
        assert callback(connect_settings, user_id=user_id).status_code == 200


def test_a_store_approving_read_only_shows_the_merchant_an_error(
    connect_settings: Urls, fake_store: FakeWooCommerce
) -> None:
    merchant = new_merchant()
    started = connect(connect_settings, merchant, fake_store.url)
    fake_store.approve_with_scope = "read"
    answer = approve(started["authorize_url"])
    assert answer.status_code == 400 and fake_store.callback_answers == [403]
    assert tenant_repo.list_stores(merchant.tenant_id) == []
    assert len(fake_store.keys) == 1  # WooCommerce deleted the key the callback refused


def test_only_owners_connect_and_the_url_is_validated(connect_settings: Urls) -> None:
    merchant = new_merchant()
    staff = add_tenant_user(merchant.tenant_id, "staff")
    refused = requests.post(
        f"{connect_settings.api}/stores/connect",
        json={"url": "https://shop.example"},
        headers=staff.headers,
        timeout=30,
    )
    assert refused.status_code == 403
    for url in ("ftp://shop.example", "http://shop.example", "https://shop.example/?a=1"):
        answer = requests.post(
            f"{connect_settings.api}/stores/connect", json={"url": url}, headers=merchant.headers, timeout=30
        )
        assert answer.status_code == 422, url
        assert answer.headers["content-type"].startswith("application/problem+json")

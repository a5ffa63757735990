"""The merchant's "check and re-enable now", over HTTP against the fake WooCommerce: the API queues the same
health run the hourly tick does, the back-fill function re-enables the webhook WooCommerce disabled, and the
store's status shows it per topic. Once a minute per store; staff and owners only; never another tenant's."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests
from api_testkit import add_tenant_user, new_merchant
from test_store_connect import Urls, approve, connect, connect_settings, gateway, queued_backfills  # noqa: F401
from test_store_webhooks import _hook, backfill_handler, run_queued  # noqa: F401

from luxebrain_dev.local.fake_woocommerce import FakeWooCommerce
from luxebrain_dev.sample_store import generate_sample_store


@pytest.fixture
def fake_store() -> Iterator[FakeWooCommerce]:
    with FakeWooCommerce(generate_sample_store(products=8, customers=10, years=0.2, seed=11)) as fake:
        yield fake


def _check(urls: Urls, store_id: str, headers: dict[str, str]) -> requests.Response:
    return requests.post(f"{urls.api}/stores/{store_id}/webhooks/check", headers=headers, timeout=30)


def test_a_merchant_re_enables_a_disabled_webhook_from_the_dashboard(
    connect_settings: Urls,  # noqa: F811
    fake_store: FakeWooCommerce,
    backfill_handler: Any,  # noqa: F811
) -> None:
    merchant = new_merchant()
    started = connect(connect_settings, merchant, fake_store.url)
    assert approve(started["authorize_url"]).status_code == 302
    store_id = started["store_id"]
    run_queued(backfill_handler, merchant.tenant_id)
    # Given WooCommerce disabled one of our webhooks (deliveries kept failing)
    hook = _hook(fake_store, "order.created")
    hook.status = "disabled"
    # Registration at connect was a check too: a minute has passed since
    _checked_minutes_ago(merchant.tenant_id, store_id, 2)
    # When a staff member asks for a check now (before: no route)
    staff = add_tenant_user(merchant.tenant_id, "staff")
    queued = _check(connect_settings, store_id, staff.headers)
    assert queued.status_code == 202, queued.text
    assert queued.json()["status"] == "queued"
    assert [body.get("webhook_health") for body in queued_backfills(merchant.tenant_id)] == [True]
    # Then the back-fill function's health run re-enables it, and the status says so for that topic
    request = {"tenant_id": merchant.tenant_id, "store_id": store_id, "continuation": 0, "webhook_health": True}
    run_queued_bodies(backfill_handler, [request])
    assert hook.status == "active"
    status = requests.get(
        f"{connect_settings.api}/stores/{store_id}/ingest-status", headers=merchant.headers, timeout=30
    )
    topics = {topic["topic"]: topic for topic in status.json()["webhooks"]["topics"]}
    assert topics["order.created"]["re_enables"] == 1 and topics["order.created"]["status"] == "active"
    assert topics["product.updated"]["re_enables"] == 0
    # and asking again within the minute is refused with when to retry
    again = _check(connect_settings, store_id, merchant.headers)
    assert again.status_code == 429 and int(again.headers["Retry-After"]) <= 60
    assert queued_backfills(merchant.tenant_id) == []


def test_only_staff_and_owners_of_the_tenant_may_ask(
    connect_settings: Urls,  # noqa: F811
    fake_store: FakeWooCommerce,
    backfill_handler: Any,  # noqa: F811
) -> None:
    merchant, other = new_merchant(), new_merchant()
    started = connect(connect_settings, merchant, fake_store.url)
    assert approve(started["authorize_url"]).status_code == 302
    store_id = started["store_id"]
    queued_backfills(merchant.tenant_id)  # the connection's own back-fill is not this test's
    viewer = add_tenant_user(merchant.tenant_id, "read-only")
    assert _check(connect_settings, store_id, viewer.headers).status_code == 403
    assert _check(connect_settings, store_id, other.headers).status_code == 404
    assert _check(connect_settings, "s-000000000000", merchant.headers).status_code == 404
    assert queued_backfills(merchant.tenant_id) == [] and queued_backfills(other.tenant_id) == []


def _checked_minutes_ago(tenant_id: str, store_id: str, minutes: int) -> None:
    from datetime import UTC, datetime, timedelta

    from luxebrain.storage.items.tenants import StoreItem, key_store

    store = StoreItem.get(*key_store(tenant_id, store_id))
    stamp = (datetime.now(UTC) - timedelta(minutes=minutes)).replace(tzinfo=None).isoformat(timespec="seconds")
    store.update(actions=[StoreItem.webhooks.set({**(store.webhooks or {}), "checked_at": stamp})])


def run_queued_bodies(backfill_handler: Any, bodies: list[dict[str, Any]]) -> None:  # noqa: F811
    import json
    import uuid

    from luxebrain_dev.local.functions import LocalLambdaContext

    for body in bodies:
        event = {"Records": [{"messageId": str(uuid.uuid4()), "body": json.dumps(body), "eventSource": "aws:sqs"}]}
        backfill_handler(event, LocalLambdaContext("IngestBackfillFunction", 900, 512))


def test_a_merchant_reads_the_stores_rejected_records_with_their_reasons(
    connect_settings: Urls,  # noqa: F811
    fake_store: FakeWooCommerce,
) -> None:
    from datetime import UTC, datetime, timedelta

    from luxebrain.storage.ingest import RejectedEvent, record_rejected_event

    merchant, other = new_merchant(), new_merchant()
    started = connect(connect_settings, merchant, fake_store.url)
    assert approve(started["authorize_url"]).status_code == 302
    store_id = started["store_id"]
    queued_backfills(merchant.tenant_id)
    now = datetime.now(UTC).replace(tzinfo=None)

    def reject(tenant_id: str, store: str, days_ago: int, reason: str) -> None:
        received = (now - timedelta(days=days_ago)).isoformat(timespec="seconds")
        event = RejectedEvent(store, "order.created", reason, "77", "d-1", "ab" * 32, 120, received)
        record_rejected_event(tenant_id, f"e{days_ago}{reason[:3]}", event, expires_at=2_000_000_000)

    reject(merchant.tenant_id, store_id, 1, "line_items[0].quantity: not a number")
    reject(merchant.tenant_id, store_id, 20, "older than the window")
    reject(merchant.tenant_id, "s-otherstore01", 1, "another store of the tenant")
    reject(other.tenant_id, store_id, 1, "another tenant")
    viewer = add_tenant_user(merchant.tenant_id, "read-only")
    answer = requests.get(f"{connect_settings.api}/stores/{store_id}/rejected", headers=viewer.headers, timeout=30)
    assert answer.status_code == 200, answer.text
    assert [item["reason"] for item in answer.json()["items"]] == ["line_items[0].quantity: not a number"]
    assert answer.json()["items"][0]["delivery_id"] == "d-1" and answer.json()["truncated"] is False
    month = requests.get(
        f"{connect_settings.api}/stores/{store_id}/rejected", params={"days": 30}, headers=merchant.headers, timeout=30
    )
    assert [item["reason"] for item in month.json()["items"]] == [
        "line_items[0].quantity: not a number",
        "older than the window",
    ]
    # Another tenant asking for this store id sees nothing of it
    assert (
        requests.get(
            f"{connect_settings.api}/stores/{store_id}/rejected", headers=other.headers, timeout=30
        ).status_code
        == 404
    )
    bad = requests.get(
        f"{connect_settings.api}/stores/{store_id}/rejected", params={"days": 365}, headers=merchant.headers, timeout=30
    )
    assert bad.status_code == 422

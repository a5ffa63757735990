"""Webhooks registered and kept healthy by LuxeBrain, over HTTP end to end against the fake WooCommerce:
connect (wc-auth) → the back-fill function registers one webhook per topic and back-fills the history →
live deliveries through the local gateway → WooCommerce disables a failing webhook → one health run re-enables
it and the back-fill brings the orders it missed. A reconnect updates instead of duplicating; a store that
cannot be fixed gets its owner one e-mail, not one per run; removing the store removes our webhooks (and an
unreachable store is removed on our side, with the webhooks left on it named)."""

from __future__ import annotations

import copy
import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import requests
from api_testkit import add_tenant_user, new_merchant
from fakes import RecordingMailService
from ingest_support import store_ingest_status
from test_store_connect import Urls, approve, connect, connect_settings, gateway, queued_backfills  # noqa: F401

from luxebrain.adapters.aws import queue, secrets_vault
from luxebrain.auth.members import list_audit
from luxebrain.ingest.backfill import request_backfill, store_clients
from luxebrain.ingest.store_sync import run_webhook_health
from luxebrain.storage import tenants as tenant_repo
from luxebrain.storage.customers import get_order, iter_orders
from luxebrain.storage.ingest import store_checkpoints
from luxebrain.storage.members import member_repository
from luxebrain.woocommerce.webhooks import TOPICS, delete_webhooks, delivery_url, webhook_name
from luxebrain_dev.local.embedded import LocalResources
from luxebrain_dev.local.event_sources import SqsEventSources
from luxebrain_dev.local.fake_woocommerce import FakeWooCommerce
from luxebrain_dev.local.functions import LocalLambdaContext, import_handler
from luxebrain_dev.sample_store import generate_sample_store


@pytest.fixture
def fake_store() -> Iterator[FakeWooCommerce]:
    with FakeWooCommerce(generate_sample_store(products=8, customers=10, years=0.2, seed=9)) as fake:
        yield fake


@pytest.fixture
def processor(local_aws: LocalResources) -> SqsEventSources:
    return SqsEventSources.from_resources(local_aws, functions={"IngestProcessorFunction"}, retry_after_seconds=0)


@pytest.fixture(scope="module")
def backfill_handler(local_aws: LocalResources) -> Any:
    return import_handler("../functions/ingest/", "backfill.handler", "IngestBackfillFunction")


def run_queued(backfill_handler: Any, tenant_id: str) -> list[dict[str, Any]]:
    """Run the back-fill function on what was queued for this tenant (the queue's event source, by hand)."""
    results = []
    for body in queued_backfills(tenant_id):
        event = {"Records": [{"messageId": str(uuid.uuid4()), "body": json.dumps(body), "eventSource": "aws:sqs"}]}
        results.append(backfill_handler(event, LocalLambdaContext("IngestBackfillFunction", 900, 512)))
    return results


def new_order(fake: FakeWooCommerce) -> dict[str, Any]:
    """An order placed now in the store (what the next order.created carries)."""
    order = copy.deepcopy(fake.store.orders[-1])
    now = datetime.now(UTC).replace(tzinfo=None).isoformat(timespec="seconds")
    order.update(id=max(o["id"] for o in fake.store.orders) + 1, date_created_gmt=now, date_modified_gmt=now)
    fake.store.orders.append(order)
    return order


@pytest.mark.slow(reason="a wc-auth connection, webhook registration, health checks and a gap back-fill over HTTP")
def test_webhooks_are_registered_once_kept_healthy_and_the_gap_back_filled(
    connect_settings: Urls,  # noqa: F811
    fake_store: FakeWooCommerce,
    processor: SqsEventSources,
    backfill_handler: Any,
) -> None:
    merchant = new_merchant()
    tenant_id = merchant.tenant_id
    # Given a store connected through wc-auth
    started = connect(connect_settings, merchant, fake_store.url)
    assert approve(started["authorize_url"]).status_code == 302
    store_id = started["store_id"]
    # When the back-fill function runs what the connection queued
    run_queued(backfill_handler, tenant_id)
    # Then one active webhook per topic points at the ingest API, signed with the store's secret
    hooks = sorted(fake_store.webhooks.values(), key=lambda w: w.topic)
    secret = tenant_repo.get_store_secrets(tenant_id, store_id, vault=secrets_vault()).webhook_secret.get_secret_value()
    assert [w.topic for w in hooks] == sorted(TOPICS)
    assert {(w.name, w.status, w.delivery_url, w.secret) for w in hooks} == {
        (webhook_name(store_id, w.topic), "active", delivery_url(tenant_id, store_id), secret) for w in hooks
    }
    assert delivery_url(tenant_id, store_id) == f"{connect_settings.ingest}/webhooks/woocommerce/{tenant_id}/{store_id}"
    # and the history arrived by REST back-fill, with progress out of X-WP-Total
    assert len(list(iter_orders(tenant_id))) == len(fake_store.store.orders)
    progress = {item.resource: item for item in store_ingest_status(tenant_id, store_id).backfill}
    assert (progress["orders"].items_done, progress["orders"].total_items) == (len(fake_store.store.orders),) * 2

    # When the merchant reconnects the same shop
    again = connect(connect_settings, merchant, fake_store.url)
    assert approve(again["authorize_url"]).status_code == 302
    run_queued(backfill_handler, tenant_id)
    # Then it is the same store with the new key, and its webhooks were updated, not duplicated
    assert again["store_id"] == store_id and len(tenant_repo.list_stores(tenant_id)) == 1
    assert len(fake_store.webhooks) == len(TOPICS)
    newest_key = max(fake_store.keys.values(), key=lambda key: key.key_id)
    assert (
        tenant_repo.get_store_secrets(tenant_id, store_id, vault=secrets_vault()).consumer_key.get_secret_value()
        == newest_key.consumer_key
    )

    # When a live order arrives by webhook, it is stored
    live = new_order(fake_store)
    assert fake_store.emit("order.created", live) == [(_hook(fake_store, "order.created").id, 200)]
    processor.drain(max_seconds=60)
    assert get_order(tenant_id, str(live["id"])).status == live["status"]

    # When deliveries of order.created fail (the store's copy of the secret is corrupted) until WooCommerce
    # disables the webhook
    hook = _hook(fake_store, "order.created")
    hook.secret = "not-the-secret"
    missed = []
    while hook.status == "active":
        missed.append(new_order(fake_store))
        assert fake_store.emit("order.created", missed[-1])[0][1] == 401
    assert (len(missed), hook.status) == (7, "disabled")  # failure_count > 5 on the 7th failure in a row
    assert fake_store.emit("order.created", new_order(fake_store)) == []  # a disabled webhook sends nothing
    missed.append(fake_store.store.orders[-1])
    # Then one health run (what the 5-minute tick queues in the store's slot) re-enables it and the back-fill
    # brings every missed order
    request_backfill(queue("backfill_queue_url"), tenant_id, store_id, webhook_health=True)
    run_queued(backfill_handler, tenant_id)
    assert hook.status == "active" and hook.secret == secret
    stored = {order.order_id for order in iter_orders(tenant_id)}
    assert {str(order["id"]) for order in missed} <= stored
    # and the ingest status shows it per topic
    topics = store_ingest_status(tenant_id, store_id).webhooks["topics"]
    assert topics["order.created"]["re_enables"] == 1 and topics["order.created"]["status"] == "active"
    assert topics["order.created"]["times_found_off"] == 1 and topics["product.updated"]["re_enables"] == 0
    # and deliveries flow again
    after = new_order(fake_store)
    assert fake_store.emit("order.created", after)[0][1] == 200

    # When the store goes down, the owner is told once, however many health runs fail
    fake_store.store_down = True
    mail = RecordingMailService()
    store_client = store_clients(secrets_vault(), tenant_repo.tenant_repository())
    client = lambda t, s: _fast_client(store_client(t, s))  # noqa: E731
    for _ in range(3):
        report = run_webhook_health(
            tenant_id,
            store_id,
            client,
            mail=mail,
            members=member_repository(),
            vault=secrets_vault(),
            tenants=tenant_repo.tenant_repository(),
        )
        assert not report.ok and "503" in (report.error or "")
    [alert] = mail.sent
    assert alert.subject == "LuxeBrain cannot keep your store's webhooks running" and len(alert.to) == 1
    assert "could not check or re-enable the webhooks of your store" in alert.text
    assert store_ingest_status(tenant_id, store_id).webhook_health == "failing"
    # and once it is back, a healthy run clears the episode (a later outage alerts again)
    fake_store.store_down = False
    assert (
        run_webhook_health(
            tenant_id,
            store_id,
            client,
            mail=mail,
            members=member_repository(),
            vault=secrets_vault(),
            tenants=tenant_repo.tenant_repository(),
        ).ok
        and len(mail.sent) == 1
    )
    assert store_ingest_status(tenant_id, store_id).webhooks["alerted_at"] is None

    # When our webhooks are deleted, only they go
    assert delete_webhooks(store_client(tenant_id, store_id), store_id).deleted == sorted(TOPICS)
    assert fake_store.webhooks == {}


def connected_store(urls: Urls, merchant: Any, fake: FakeWooCommerce, backfill_handler: Any) -> str:
    started = connect(urls, merchant, fake.url)
    assert approve(started["authorize_url"]).status_code == 302
    run_queued(backfill_handler, merchant.tenant_id)
    assert len(fake.webhooks) == len(TOPICS)
    return str(started["store_id"])


@pytest.mark.slow(reason="two wc-auth connections with webhook registration and back-fill over HTTP")
def test_removing_a_store_deletes_its_webhooks_and_an_unreachable_one_is_removed_with_what_was_left(
    connect_settings: Urls,  # noqa: F811
    fake_store: FakeWooCommerce,
    backfill_handler: Any,
) -> None:
    merchant = new_merchant()
    store_id = connected_store(connect_settings, merchant, fake_store, backfill_handler)
    url = f"{connect_settings.api}/stores/{store_id}"
    # Only the tenant's owners remove a store; another tenant does not find it
    staff = add_tenant_user(merchant.tenant_id, "staff")
    assert requests.delete(url, headers=staff.headers, timeout=30).status_code == 403
    assert requests.delete(url, headers=new_merchant().headers, timeout=30).status_code == 404
    assert len(fake_store.webhooks) == len(TOPICS)

    # When the owner removes the store
    answer = requests.delete(url, headers=merchant.headers, timeout=60)
    # Then our webhooks are deleted from WooCommerce, and the store with its keys is gone here
    assert answer.status_code == 200, answer.text
    assert answer.json() == {
        "store_id": store_id,
        "webhooks_deleted": sorted(TOPICS),
        "webhooks_left": [],
        "store_error": None,
    }
    assert fake_store.webhooks == {}
    assert tenant_repo.list_stores(merchant.tenant_id) == []
    assert requests.get(url, headers=merchant.headers, timeout=30).status_code == 404
    assert requests.delete(url, headers=merchant.headers, timeout=30).status_code == 404
    assert store_checkpoints(merchant.tenant_id, store_id) == []
    # and the plan's store is given back: the shop connects again (the free plan holds one store)
    again = connected_store(connect_settings, merchant, fake_store, backfill_handler)
    assert again != store_id

    # When the store cannot be reached, it is still removed here, and the answer names what was left there
    fake_store.store_down = True
    down = requests.delete(f"{connect_settings.api}/stores/{again}", headers=merchant.headers, timeout=60)
    assert down.status_code == 200, down.text
    body = down.json()
    assert body["webhooks_deleted"] == [] and "503" in body["store_error"]
    ids = {hook.topic: hook.id for hook in fake_store.webhooks.values()}
    assert body["webhooks_left"] == [
        {"topic": topic, "webhook_id": ids[topic], "name": webhook_name(again, topic)} for topic in sorted(TOPICS)
    ]
    assert tenant_repo.list_stores(merchant.tenant_id) == []
    # and the audit trail records both removals with their outcome
    removals = [
        r for r in list_audit(merchant.tenant_id, audit=tenant_repo.tenant_repository()) if r.action == "store.removed"
    ]
    assert [(r.details["store_id"], r.details["webhooks_left"]) for r in removals] == [
        (again, sorted(TOPICS)),
        (store_id, []),
    ]
    # and a back-fill still queued for the removed store is dropped, not retried into the dead-letter queue
    request_backfill(queue("backfill_queue_url"), merchant.tenant_id, again)
    assert run_queued(backfill_handler, merchant.tenant_id) == [{"skipped": "store removed"}]


def _hook(fake: FakeWooCommerce, topic: str) -> Any:
    return next(w for w in fake.webhooks.values() if w.topic == topic)


def _fast_client(client: Any) -> Any:
    client.max_attempts, client.backoff_seconds = 2, 0.01
    return client

"""Storefront events over the API: beacon-friendly batches with the storefront key, bounded and rate-limited,
refused from another site, counted once, never touching another tenant or the merchant's API quota; the
hold-out in the recommendation answers; orders from ingest attributed to the placements their visitor saw."""

from __future__ import annotations

import json
import secrets
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from api_testkit import (
    Merchant,
    api_app_module,
    counted_aws_requests,
    new_merchant,
    publish_artifact,
    small_order_lines,
)
from fakes import StoreRefunds, no_refund_lookups
from fastapi.testclient import TestClient

from luxebrain.billing.usage import api_call_meter, plan_usage
from luxebrain.ingest.processor import RefundLinesFetcher
from luxebrain.storage.tenants import tenant_repository
from luxebrain_dev.local.embedded import LocalResources

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "woocommerce"


@dataclass
class Shop:
    merchant: Merchant
    origin: str
    key: str
    products: list[str]


@pytest.fixture(scope="module")
def client(local_aws: LocalResources) -> Iterator[TestClient]:
    with TestClient(api_app_module().app) as test_client:
        yield test_client


def _new_shop(client: TestClient, prefix: str, *, products: list[str] | None = None) -> Shop:
    from luxebrain.ml.recommend.train import train_recommender
    from luxebrain.storage.items.catalogue import ProductItem, key_product

    merchant = new_merchant(f"Maison {prefix}")
    origin = f"https://shop-{prefix}-{secrets.token_hex(3)}.example"
    store = client.post(
        "/stores",
        headers=merchant.headers,
        json={"url": origin + "/", "consumer_key": "ck_" + "a" * 40, "consumer_secret": "cs_" + "b" * 40},
    )
    assert store.status_code == 201, store.text
    product_ids = products or [f"{prefix}{100 + i}" for i in range(8)]
    for product_id in product_ids:
        pk, sk = key_product(merchant.tenant_id, product_id)
        ProductItem(pk, sk, entity="product", tenant_id=merchant.tenant_id, product_id=product_id).save()
    publish_artifact(merchant.tenant_id, train_recommender(small_order_lines(product_prefix=prefix)))
    key = client.post("/tenant/storefront-key", headers=merchant.headers)
    assert key.status_code == 201, key.text
    return Shop(merchant, origin, key.json()["key"], product_ids)


@pytest.fixture(scope="module")
def shop(client: TestClient) -> Shop:
    return _new_shop(client, "pa")


@pytest.fixture(scope="module")
def other_shop(client: TestClient) -> Shop:
    return _new_shop(client, "pb")


@pytest.fixture
def fresh_shop(client: TestClient) -> Shop:
    """A shop of its own, for a test that reads its counters or spends its allowance."""
    return _new_shop(client, "pf")


@pytest.fixture
def frozen_minute(monkeypatch: pytest.MonkeyPatch) -> None:
    """One minute (and month) for the whole test, whenever it runs (the app runs in this process): a real
    minute boundary inside the test would start fresh counters."""
    from luxebrain.billing import usage as billing_usage

    frozen = uuid.uuid4().hex
    monkeypatch.setattr(billing_usage, "period_label", lambda period, at=None: f"frozen-{period}-{frozen}")


@dataclass
class ClickedVisitor:
    shop: Shop
    visitor_id: str
    product_id: str  # the product clicked on the related placement


@pytest.fixture
def clicked_visitor(client: TestClient) -> ClickedVisitor:
    """A shop of its own with WooCommerce's numeric product ids (the catalogue holds them as ingest stores
    them), and a visitor who saw them all on the related placement and clicked the first."""
    shop = _new_shop(client, "pn", products=["93", "94", "95"])
    who = visitor()
    recorded = send(client, shop, [event("impression", shop.products), event("click", ["93"])], visitor_id=who)
    assert recorded.json()["accepted"] == 2, recorded.text
    return ClickedVisitor(shop, who, "93")


def visitor() -> str:
    return secrets.token_urlsafe(16)


def event(kind: str, product_ids: list[str], placement: str = "related") -> dict[str, Any]:
    return {
        "id": uuid.uuid4().hex,
        "type": kind,
        "placement": placement,
        "product_ids": product_ids,
        "model_version": "20261201T000000-abc123",
        "response_id": "r" + secrets.token_hex(6),
    }


def send(
    client: TestClient,
    shop: Shop,
    events: list[dict[str, Any]],
    *,
    visitor_id: str | None = None,
    origin: str | None = "shop",
    beacon: bool = False,
    key: str | None = None,
) -> Any:
    body: dict[str, Any] = {"visitor_id": visitor_id or visitor(), "events": events}
    headers: dict[str, str] = {}
    if origin:
        headers["Origin"] = shop.origin if origin == "shop" else origin
    if beacon:  # navigator.sendBeacon with a string: text/plain, no custom header
        body["key"] = key or shop.key
        headers["Content-Type"] = "text/plain;charset=UTF-8"
        return client.post("/events", content=json.dumps(body), headers=headers)
    headers["X-Storefront-Key"] = key or shop.key
    return client.post("/events", json=body, headers=headers)


def stats_rows(tenant_id: str) -> dict[tuple[str, str], dict[str, float]]:
    from luxebrain.storage.items.storefront import StorefrontStatsItem
    from luxebrain.tenancy import tenant_partition

    rows = {}
    for row in StorefrontStatsItem.query(tenant_partition(tenant_id, "STOREFRONT_STATS")):
        rows[(row.placement, row.arm)] = {
            name: float(getattr(row, name) or 0)
            for name in ("impressions", "clicks", "add_to_carts", "visitors", "orders", "revenue", "attributed_revenue")
        }
    return rows


def usage(tenant_id: str) -> dict[str, int]:
    api_call_meter().flush(tenant_id)
    return {line.limit: line.used for line in plan_usage().usage_report(tenant_id)}


# ----------------------------------------------------------------------------- accepted batches
def test_a_batch_from_the_shop_is_counted_per_placement_and_not_against_the_api_quota(
    client: TestClient, shop: Shop
) -> None:
    before = usage(shop.merchant.tenant_id)
    who = visitor()
    shown = shop.products[:4]
    answer = send(
        client,
        shop,
        [event("impression", shown), event("click", shown[:1]), event("add_to_cart", shown[:1])],
        visitor_id=who,
    )
    assert answer.status_code == 202, answer.text
    assert answer.json() == {"accepted": 3, "duplicates": 0, "rejected": 0}
    # A second page view of the same visitor: one more impression, not one more visitor.
    assert send(client, shop, [event("impression", shown)], visitor_id=who).json()["accepted"] == 1
    rows = stats_rows(shop.merchant.tenant_id)
    counted = {name: sum(r[name] for (p, _), r in rows.items() if p == "related") for name in rows[next(iter(rows))]}
    assert counted["impressions"] == 2 and counted["clicks"] == 1 and counted["add_to_carts"] == 1
    assert counted["visitors"] == 1
    after = usage(shop.merchant.tenant_id)
    assert after["api_calls_per_month"] == before["api_calls_per_month"]  # metered separately
    assert after["storefront_events_per_month"] == before["storefront_events_per_month"] + 4


def test_a_returning_visitors_batch_writes_its_events_and_counters_only(client: TestClient, fresh_shop: Shop) -> None:
    who = visitor()

    def page_view() -> list[dict[str, Any]]:
        return [
            event("impression", fresh_shop.products[:4]),
            event("click", fresh_shop.products[:1]),
            event("impression", fresh_shop.products[4:6], placement="basket"),
        ]

    with counted_aws_requests() as first:
        assert send(client, fresh_shop, page_view(), visitor_id=who).json()["accepted"] == 3
    with counted_aws_requests() as again:
        assert send(client, fresh_shop, page_view(), visitor_id=who).json()["accepted"] == 3
    # One conditional put per event; a placement's first exposure only on the visitor's first view of it
    # (before: a conditional put per placement on every batch, failing and paid for on every later one)
    assert first["dynamodb:PutItem"] == 3 + 2
    assert again["dynamodb:PutItem"] == 3
    # One lookup of the replays and exposures; the storefront key from the cache (before: read every batch;
    # the tenant's profile is cached for 10 s and the two batches are back to back)
    assert again["dynamodb:BatchGetItem"] == 1 and again["dynamodb:GetItem"] == 0
    # The address's and the visitor's rates, the key's rate and monthly allowance, one counter per placement
    assert again["dynamodb:UpdateItem"] == 4 + 2
    assert sum(again.values()) == 3 + 1 + 6


def test_a_beacon_with_a_text_plain_body_and_the_key_inside_is_accepted(client: TestClient, shop: Shop) -> None:
    answer = send(client, shop, [event("impression", shop.products[:2], placement="basket")], beacon=True)
    assert answer.status_code == 202, answer.text
    assert answer.json()["accepted"] == 1


def test_stored_events_hold_no_personal_data_and_expire(client: TestClient, shop: Shop) -> None:
    from luxebrain.storage.items.storefront import StorefrontEventItem, visitor_partition

    who = visitor()
    send(client, shop, [event("click", shop.products[:1])], visitor_id=who)
    (item,) = list(StorefrontEventItem.query(visitor_partition(shop.merchant.tenant_id, who)))
    stored = item.serialize()
    assert set(stored) <= {
        "pk", "sk", "entity", "tenant_id", "updated_at", "expires_at", "visitor_id", "event_type", "placement",
        "arm", "product_ids", "model_version", "response_id", "occurred_at",
    }  # fmt: skip
    assert 34 * 86400 < item.expires_at - datetime.now(UTC).timestamp() <= 35 * 86400


# ----------------------------------------------------------------------------- forged batches
def test_a_wrong_or_missing_key_is_refused_and_nothing_is_counted(client: TestClient, shop: Shop) -> None:
    before = stats_rows(shop.merchant.tenant_id)
    forged = shop.key[:-4] + ("AAAA" if not shop.key.endswith("AAAA") else "BBBB")
    assert send(client, shop, [event("click", shop.products[:1])], key=forged).status_code == 401
    assert send(client, shop, [event("click", shop.products[:1])], key=forged, beacon=True).status_code == 401
    no_key = client.post(
        "/events",
        json={"visitor_id": visitor(), "events": [event("click", shop.products[:1])]},
        headers={"Origin": shop.origin},
    )
    assert no_key.status_code == 401
    assert stats_rows(shop.merchant.tenant_id) == before


def test_a_key_used_from_another_site_is_refused_by_origin(client: TestClient, shop: Shop) -> None:
    before = stats_rows(shop.merchant.tenant_id)
    for origin in ("https://evil.example", shop.origin.replace("https://", "http://"), shop.origin + ".evil.example"):
        answer = send(client, shop, [event("click", shop.products[:1])], origin=origin)
        assert answer.status_code == 403, origin
        assert "another site" in answer.json()["detail"]
    assert send(client, shop, [event("click", shop.products[:1])], origin=None).status_code == 403
    assert stats_rows(shop.merchant.tenant_id) == before
    # The recommendation routes refuse the same foreign page (a server without Origin is still served).
    headers = {"X-Storefront-Key": shop.key}
    path = f"/recommendations/similar?product_id={shop.products[0]}&k=3"
    assert client.get(path, headers={**headers, "Origin": "https://evil.example"}).status_code == 403
    assert client.get(path, headers={**headers, "Origin": shop.origin}).status_code == 200


def test_another_stores_product_ids_are_dropped_without_touching_that_store(
    client: TestClient, shop: Shop, other_shop: Shop
) -> None:
    before_other = stats_rows(other_shop.merchant.tenant_id)
    before = stats_rows(shop.merchant.tenant_id)
    answer = send(
        client,
        shop,
        [event("click", other_shop.products[:1]), event("impression", [shop.products[0], other_shop.products[1]])],
    )
    assert answer.status_code == 202
    assert answer.json() == {"accepted": 0, "duplicates": 0, "rejected": 2}
    assert stats_rows(shop.merchant.tenant_id) == before
    assert stats_rows(other_shop.merchant.tenant_id) == before_other


def test_a_replayed_batch_is_counted_once(client: TestClient, shop: Shop) -> None:
    who = visitor()
    batch = [
        event("click", shop.products[:1], placement="replayed"),
        event("impression", shop.products[:3], "replayed"),
    ]
    assert send(client, shop, batch, visitor_id=who).json()["accepted"] == 2
    before = stats_rows(shop.merchant.tenant_id)
    replay = send(client, shop, [*batch, batch[0]], visitor_id=who)
    assert replay.status_code == 202
    assert replay.json() == {"accepted": 0, "duplicates": 3, "rejected": 0}
    assert stats_rows(shop.merchant.tenant_id) == before


def _key_rate_used(tenant_id: str) -> int:
    """This minute's count of the key's events rate (the tests freeze the minute)."""
    from luxebrain.billing.usage import period_label
    from luxebrain.storage.tenants import usage_counts

    label = period_label("minute")
    return usage_counts(tenant_id, [("rate:storefront_events", label)])[("rate:storefront_events", label)]


@pytest.mark.usefixtures("frozen_minute")
def test_a_replayed_batch_spends_none_of_the_keys_allowance(client: TestClient, fresh_shop: Shop) -> None:
    from luxebrain.billing.plans import plan_of

    shop = fresh_shop
    tenant_id = shop.merchant.tenant_id
    who = visitor()
    batch = [event("impression", shop.products[:3]), event("click", shop.products[:1])]
    assert send(client, shop, batch, visitor_id=who).json()["accepted"] == 2
    monthly, rate = usage(tenant_id)["storefront_events_per_month"], _key_rate_used(tenant_id)
    assert (monthly, rate) == (2, 2)
    # When the same batch is replayed three times, once with one new event beside the old ones
    for _ in range(2):
        assert send(client, shop, batch, visitor_id=who).json() == {"accepted": 0, "duplicates": 2, "rejected": 0}
    assert send(client, shop, [*batch, event("add_to_cart", shop.products[:1])], visitor_id=who).json() == {
        "accepted": 1,
        "duplicates": 2,
        "rejected": 0,
    }
    # Then only the new event is metered (before: every replayed event spent the rate and the monthly allowance)
    assert (usage(tenant_id)["storefront_events_per_month"], _key_rate_used(tenant_id)) == (3, 3)
    # and with the monthly allowance spent, a replay is still recognised as one (not a 429), a new event is not
    allowed, _ = plan_of(tenant_id, tenants=tenant_repository()).allowance("storefront_events")
    plan_usage().consume(tenant_id, "storefront_events", allowed - 3)
    assert send(client, shop, batch, visitor_id=who).json() == {"accepted": 0, "duplicates": 2, "rejected": 0}
    assert send(client, shop, [event("click", shop.products[:1])], visitor_id=who).status_code == 429


def test_another_stores_product_ids_spend_none_of_the_keys_allowance(
    client: TestClient, shop: Shop, other_shop: Shop
) -> None:
    before = usage(shop.merchant.tenant_id)["storefront_events_per_month"]
    answer = send(client, shop, [event("click", other_shop.products[:1]), event("click", shop.products[:1])])
    assert answer.json() == {"accepted": 1, "duplicates": 0, "rejected": 1}
    assert usage(shop.merchant.tenant_id)["storefront_events_per_month"] == before + 1


@pytest.mark.parametrize(
    ("change", "status"),
    [
        ({"events": []}, 422),
        ({"events": "many"}, 422),
        ({"visitor_id": "short"}, 422),
        ({"visitor_id": "jeanne@example.com-xxxxxxxxxxxx"}, 422),  # an e-mail is not a random visitor id
        ({"extra": 1}, 422),
    ],
)
def test_malformed_batches_are_refused_with_a_problem(
    client: TestClient, shop: Shop, change: dict[str, Any], status: int
) -> None:
    body = {"visitor_id": visitor(), "events": [event("click", shop.products[:1])], **change}
    answer = client.post("/events", json=body, headers={"Origin": shop.origin, "X-Storefront-Key": shop.key})
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")


def test_absurd_counts_and_oversized_bodies_are_refused(client: TestClient, shop: Shop) -> None:
    before = stats_rows(shop.merchant.tenant_id)
    too_many = [event("impression", shop.products[:1]) for _ in range(51)]
    assert send(client, shop, too_many).status_code == 422
    too_wide = [event("impression", [shop.products[0]] * 25)]
    assert send(client, shop, too_wide).status_code == 422
    bad_type = [{**event("click", shop.products[:1]), "type": "purchase"}]
    assert send(client, shop, bad_type).status_code == 422
    padded = [{**event("impression", shop.products[:1]), "response_id": "x" * 64} for _ in range(50)]
    padded = [{**e, "product_ids": [shop.products[0]] * 24} for e in padded]  # ~20 KB of valid-looking JSON
    oversized = send(client, shop, padded)
    assert oversized.status_code == 413, oversized.text
    assert stats_rows(shop.merchant.tenant_id) == before


@pytest.mark.usefixtures("frozen_minute")
def test_one_visitor_is_capped_per_minute_without_blocking_other_visitors(client: TestClient, shop: Shop) -> None:
    from luxebrain.storefront.events import EVENTS_PER_VISITOR_PER_MINUTE

    who = visitor()
    for _ in range(EVENTS_PER_VISITOR_PER_MINUTE // 40):
        batch = [event("impression", shop.products[:1], placement="capped") for _ in range(40)]
        assert send(client, shop, batch, visitor_id=who).status_code == 202
    capped = send(client, shop, [event("impression", shop.products[:1], placement="capped")], visitor_id=who)
    assert capped.status_code == 429
    assert int(capped.headers["Retry-After"]) >= 0
    assert send(client, shop, [event("impression", shop.products[:1], placement="capped")]).status_code == 202


@pytest.mark.usefixtures("frozen_minute")
def test_one_address_cannot_spend_the_tenants_rate_for_every_shopper(fresh_shop: Shop) -> None:
    from luxebrain.billing import plans as billing_plans
    from luxebrain.storage.catalogue import catalogue_repository
    from luxebrain.storage.storefront import storefront_repository
    from luxebrain.storefront.events import StorefrontEventBatch, record_events

    shop = fresh_shop

    def batch() -> StorefrontEventBatch:
        events = [event("impression", shop.products[:1], placement="flood") for _ in range(50)]
        return StorefrontEventBatch.model_validate({"visitor_id": visitor(), "events": events})

    # Given one address sending 30 batches of 50 events in a minute, each from a new visitor id
    refused = 0
    for _ in range(30):
        try:
            record_events(
                shop.merchant.tenant_id,
                batch(),
                source="203.0.113.7",
                catalogue=catalogue_repository(),
                tenants=tenant_repository(),
                storefront=storefront_repository(),
                usage=plan_usage(),
            )
        except billing_plans.RateLimitedError:
            refused += 1
    assert refused == 18  # beyond its own 600 a minute
    # Then another address's shopper is still counted (before: 429, the tenant's 1 200 spent by refused batches)
    assert (
        record_events(
            shop.merchant.tenant_id,
            batch(),
            source="198.51.100.9",
            catalogue=catalogue_repository(),
            tenants=tenant_repository(),
            storefront=storefront_repository(),
            usage=plan_usage(),
        ).accepted
        == 50
    )


# ----------------------------------------------------------------------------- recommendation answers
@pytest.mark.usefixtures("frozen_minute")
def test_one_address_cannot_spend_the_keys_recommendation_rate_for_every_shopper(fresh_shop: Shop) -> None:
    from luxebrain.billing.plans import plan_of
    from luxebrain.storefront.limits import REQUESTS_PER_CLIENT_PER_MINUTE

    shop = fresh_shop
    key_rate = plan_of(shop.merchant.tenant_id, tenants=tenant_repository()).rate_limits["storefront_requests"]
    assert key_rate > REQUESTS_PER_CLIENT_PER_MINUTE
    app = api_app_module().app
    script = TestClient(app, client=("203.0.113.7", 41000))
    shopper = TestClient(app, client=("198.51.100.9", 41001))
    headers = {"X-Storefront-Key": shop.key, "Origin": shop.origin}
    # Given one address asking for recommendations as fast as it can, more than the key's whole rate
    statuses = [script.get("/recommendations/popular?k=3", headers=headers) for _ in range(key_rate + 1)]
    # Then it is capped at its own share (before: it spent the key's rate and every shopper got 429s)
    assert [answer.status_code for answer in statuses[:REQUESTS_PER_CLIENT_PER_MINUTE]] == [200] * (
        REQUESTS_PER_CLIENT_PER_MINUTE
    )
    refused = statuses[REQUESTS_PER_CLIENT_PER_MINUTE:]
    assert {answer.status_code for answer in refused} == {429}
    assert refused[0].json()["limit"] == "storefront_requests_per_minute_per_client"
    assert int(refused[0].headers["Retry-After"]) >= 0
    assert shopper.get("/recommendations/popular?k=3", headers=headers).status_code == 200


def test_storefront_answers_carry_a_response_id_the_model_version_and_the_visitors_arm(
    client: TestClient, shop: Shop
) -> None:
    from luxebrain.storefront.holdout import visitor_arm

    headers = {"X-Storefront-Key": shop.key, "Origin": shop.origin}
    held_out = next(
        v
        for v in (f"visitor-{i:012d}" for i in range(500))
        if visitor_arm(shop.merchant.tenant_id, v, 0.05) == "holdout"
    )
    treated = next(
        v
        for v in (f"visitor-{i:012d}" for i in range(500))
        if visitor_arm(shop.merchant.tenant_id, v, 0.05) == "treatment"
    )
    path = f"/recommendations/similar?product_id={shop.products[0]}&k=3"
    personal = client.get(path + f"&visitor_id={treated}", headers=headers).json()
    fallback = client.get(path + f"&visitor_id={held_out}", headers=headers).json()
    assert personal["arm"] == "treatment" and personal["strategy"] != "popular_fallback"
    assert fallback["arm"] == "holdout" and fallback["strategy"] == "popular_fallback"
    for answer in (personal, fallback):
        assert answer["model_version"] and len(answer["response_id"]) >= 12
    again = client.get(path + f"&visitor_id={held_out}", headers=headers).json()
    assert again["arm"] == "holdout" and again["response_id"] != fallback["response_id"]
    basket = client.post(
        "/recommendations/basket", json={"product_ids": shop.products[:1], "visitor_id": held_out}, headers=headers
    ).json()
    assert basket["arm"] == "holdout" and basket["strategy"] == "popular_fallback"


# ----------------------------------------------------------------------------- attribution and results
def _order_with_visitor(visitor_id: str, order_id: int, product_id: str, total: float) -> dict[str, Any]:
    order = json.loads((FIXTURES / "order.json").read_text())
    now = datetime.now(UTC).replace(tzinfo=None).isoformat(timespec="seconds")
    order.update(id=order_id, date_created_gmt=now, date_modified_gmt=now, total=f"{total:.2f}")
    order["line_items"] = [{**order["line_items"][0], "product_id": int(product_id), "total": f"{total:.2f}"}]
    order["meta_data"] = [
        {"id": 1, "key": "_luxebrain_visitor", "value": visitor_id},
        {"id": 2, "key": "_luxebrain_attribution", "value": {"placement": "related", "model_version": "v1"}},
    ]
    return order


def deliver_order(tenant_id: str, order: dict[str, Any], refunds: RefundLinesFetcher = no_refund_lookups) -> Any:
    """The order as one webhook delivery of order.updated, processed as ingest processes it (new refunds
    getting their lines from ``refunds``)."""
    from luxebrain.ingest import processor
    from luxebrain.ingest.envelope import IngestEnvelope, utc_now_iso
    from luxebrain.storage.ingest import ingest_repository
    from luxebrain.storage.storefront import storefront_repository
    from luxebrain_dev.delivery import wp_json_encode

    envelope = IngestEnvelope(
        tenant_id=tenant_id,
        store_id="s-1",
        resource="order",
        event="updated",
        topic="order.updated",
        body=wp_json_encode(order).decode(),
        received_at=utc_now_iso(),
    )
    return processor.process_envelope(
        envelope,
        event_id=uuid.uuid4().hex,
        refunds=refunds,
        records=ingest_repository(),
        usage=plan_usage(),
        storefront=storefront_repository(),
    )


def related_results(tenant_id: str) -> dict[str, Any]:
    from luxebrain.storage.storefront import storefront_repository
    from luxebrain.storefront.results import placement_results

    (result,) = [
        p
        for p in placement_results(tenant_id, tenants=tenant_repository(), storefront=storefront_repository(), days=7)[
            "placements"
        ]
        if p["placement"] == "related"
    ]
    return result


def test_an_ingested_order_is_attributed_once_to_the_placement_its_visitor_clicked(
    client: TestClient, clicked_visitor: ClickedVisitor
) -> None:
    shop, clicked = clicked_visitor.shop, clicked_visitor.product_id
    tenant_id = shop.merchant.tenant_id
    order = _order_with_visitor(clicked_visitor.visitor_id, 9001, clicked, 120.0)

    assert deliver_order(tenant_id, order).outcome == "stored"
    order["date_modified_gmt"] = order["date_modified_gmt"][:-2] + "59"
    deliver_order(tenant_id, order)  # a later update of the same order: counted once
    rows = stats_rows(tenant_id)
    (arm_row,) = [r for (p, _), r in rows.items() if p == "related"]
    assert arm_row["orders"] == 1 and arm_row["revenue"] == 120.0 and arm_row["attributed_revenue"] == 120.0

    results = client.get("/storefront/results?days=7", headers=shop.merchant.headers)
    assert results.status_code == 200, results.text
    (related,) = [p for p in results.json()["placements"] if p["placement"] == "related"]
    assert related["shown"] == 1 and related["clicks"] == 1 and related["click_through_rate"] == 1.0
    assert related["attributed_revenue"] == 120.0 and related["attributed_orders"] == 1
    assert related["decision"] == "insufficient_sample"
    assert len(related["caused_revenue_interval"]) == 2


def test_an_add_to_cart_from_a_card_attributes_the_order_like_a_click(client: TestClient) -> None:
    """The widget's card button puts the product in the cart without a click on the card's link: that
    visitor engaged with the recommendation as surely as one who clicked it."""
    shop = _new_shop(client, "pc", products=["96", "97"])
    tenant_id, who = shop.merchant.tenant_id, visitor()
    recorded = send(client, shop, [event("impression", shop.products), event("add_to_cart", ["96"])], visitor_id=who)
    assert recorded.json()["accepted"] == 2, recorded.text

    assert deliver_order(tenant_id, _order_with_visitor(who, 9101, "96", 80.0)).outcome == "stored"
    related = related_results(tenant_id)
    assert related["attributed_revenue"] == 80.0 and related["attributed_orders"] == 1, related


def test_a_later_refund_makes_placement_revenue_net_once(
    clicked_visitor: ClickedVisitor,
) -> None:
    tenant_id, clicked = clicked_visitor.shop.merchant.tenant_id, clicked_visitor.product_id
    order = _order_with_visitor(clicked_visitor.visitor_id, 9101, clicked, 100.0)
    line_id = order["line_items"][0]["id"]
    # The store's refund of 40 on the order's one line, as GET /orders/{id}/refunds lists it
    store = StoreRefunds(
        [
            {
                "id": 601,
                "date_created_gmt": order["date_created_gmt"],
                "amount": "40.00",
                "reason": "",
                "line_items": [
                    {
                        "id": 960,
                        "product_id": int(clicked),
                        "quantity": 0,
                        "total": "-40.00",
                        "meta_data": [{"id": 8, "key": "_refunded_item_id", "value": str(line_id)}],
                        "refund_total": 40.0,
                    }
                ],
            }
        ]
    )

    original = json.loads(json.dumps(order))
    deliver_order(tenant_id, order, refunds=store)
    assert related_results(tenant_id)["attributed_revenue"] == 100.0
    # When the same order comes again with a refund of 40, then once more, then its older version late
    order["refunds"] = [{"id": 601, "reason": "", "total": "-40.00"}]
    order["date_modified_gmt"] = "2099-01-01T00:00:01"
    deliver_order(tenant_id, order, refunds=store)
    counted = related_results(tenant_id)
    deliver_order(tenant_id, order, refunds=store)
    deliver_order(tenant_id, original, refunds=store)
    # Then the placement's revenue is net of the refund, changed once (before: 100, as charged)
    for result in (counted, related_results(tenant_id)):
        assert result["attributed_revenue"] == 60.0, result
        assert sum(arm["revenue"] for arm in result["arms"]) == 60.0, result
    (arm_row,) = [r for (p, _), r in stats_rows(tenant_id).items() if p == "related"]
    assert arm_row["orders"] == 1 and arm_row["revenue"] == 60.0 and arm_row["attributed_revenue"] == 60.0
    # and an order cancelled afterwards takes its revenue back to 0, once
    order.update(status="cancelled", date_modified_gmt="2099-01-01T00:00:02")
    deliver_order(tenant_id, order, refunds=store)
    deliver_order(tenant_id, order, refunds=store)
    assert related_results(tenant_id)["attributed_revenue"] == 0.0
    assert sum(arm["revenue"] for arm in related_results(tenant_id)["arms"]) == 0.0


def test_a_refund_known_only_by_its_amount_leaves_product_revenue_net_of_shipping_and_tax(
    clicked_visitor: ClickedVisitor,
) -> None:
    from luxebrain.woocommerce.client import WooCommerceError

    tenant_id = clicked_visitor.shop.merchant.tenant_id
    # Given an order of 100.00 of products, 10.00 shipping and 20.00 tax (130.00 charged), half of it refunded
    # by amount only, while the store cannot list the refund's lines
    order = _order_with_visitor(clicked_visitor.visitor_id, 9201, clicked_visitor.product_id, 100.0)
    order.update(total="130.00", total_tax="20.00", shipping_total="10.00", discount_total="0.00")
    order["shipping_lines"] = [{**order["shipping_lines"][0], "total": "10.00"}]
    order["refunds"] = [{"id": 611, "reason": "", "total": "-65.00"}]

    def unreachable(*_: Any) -> Any:
        raise WooCommerceError("the store did not answer")

    deliver_order(tenant_id, order, refunds=unreachable)
    # Then the placement counts the products' share of the refund only: 100 - 65 * 100/130 = 50.00 (before:
    # the whole 65.00, shipping and tax included, came off the products: 35.00)
    related = related_results(tenant_id)
    assert related["attributed_revenue"] == 50.0, related
    assert sum(arm["revenue"] for arm in related["arms"]) == 50.0, related


def test_an_order_stored_before_product_totals_counts_its_lines_not_shipping_and_tax(
    clicked_visitor: ClickedVisitor,
) -> None:
    from luxebrain.storage.customers import Order, OrderLine
    from luxebrain.storage.storefront import storefront_repository
    from luxebrain.storefront.attribution import attribute_order

    tenant_id = clicked_visitor.shop.merchant.tenant_id
    line = OrderLine(
        "1", clicked_visitor.product_id, None, "Sac", None, quantity=1, unit_price=100.0, subtotal=100.0, total=100.0
    )
    older = Order(
        tenant_id=tenant_id,
        order_id="9301",
        status="processing",
        status_class="purchase",
        customer_id="7",
        created_gmt=datetime.now(UTC).replace(tzinfo=None).isoformat(timespec="seconds"),
        total=130.0,
        shipping_total=10.0,
        tax_total=20.0,
        line_items=(line,),
        storefront_attribution={"visitor_id": clicked_visitor.visitor_id},
    )
    assert attribute_order(tenant_id, older, storefront=storefront_repository()).placements == ["related"]
    (arm_row,) = [r for (p, _), r in stats_rows(tenant_id).items() if p == "related"]
    # Product revenue only (before: the order's 130.00 charged, shipping and tax included)
    assert arm_row["revenue"] == 100.0 and arm_row["attributed_revenue"] == 100.0

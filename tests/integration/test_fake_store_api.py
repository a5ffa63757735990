"""The fake WooCommerce behaves like WooCommerce where LuxeBrain depends on it, and LuxeBrain's client and
webhook code meet each of its refusals with a clear outcome: over HTTP, with the real REST client."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import requests

from luxebrain.adapters.aws import models_bucket, secrets_vault
from luxebrain.billing.usage import plan_usage
from luxebrain.errors import UnauthorizedError
from luxebrain.ingest.backfill import backfill_store
from luxebrain.ml.pricing.apply import apply_suggestion, rollback_price_change
from luxebrain.ml.pricing.serving import PriceSuggestion
from luxebrain.storage import tenants as tenant_repo
from luxebrain.storage.customers import get_order
from luxebrain.storage.ingest import ingest_repository
from luxebrain.storage.storefront import storefront_repository
from luxebrain.storage.training import training_repository
from luxebrain.woocommerce.client import WooCommerceClient, WooCommerceError
from luxebrain.woocommerce.outbound import OutboundPolicy
from luxebrain.woocommerce.webhooks import TOPICS, delete_webhooks, ensure_webhooks
from luxebrain_dev.local.embedded import LocalResources
from luxebrain_dev.local.fake_woocommerce import FakeWooCommerce
from luxebrain_dev.sample_store import generate_sample_store


@pytest.fixture
def fake() -> Iterator[FakeWooCommerce]:
    with FakeWooCommerce(generate_sample_store(products=8, customers=8, years=0.2, seed=3)) as store:
        yield store


def client(fake: FakeWooCommerce, key: str | None = None, secret: str | None = None) -> WooCommerceClient:
    # The fake store listens on loopback, which only a local policy reaches; stated here rather than read from
    # the settings the embedded-AWS fixture happens to set, so each test also runs on its own.
    return WooCommerceClient(
        fake.url,
        key or fake.consumer_key,
        secret or fake.consumer_secret,
        max_attempts=2,
        backoff_seconds=0.01,
        policy=OutboundPolicy(allow_local=True),
    )


def test_webhooks_crud_like_woocommerce(fake: FakeWooCommerce) -> None:
    rest = client(fake)
    created = rest.send(
        "POST", "webhooks", {"name": "x", "topic": "order.updated", "delivery_url": "https://a.example/h"}
    )
    assert (created["status"], created["resource"], created["event"]) == ("active", "order", "updated")
    assert "secret" not in created  # write-only
    assert rest.send("PUT", f"webhooks/{created['id']}", {"status": "paused"})["status"] == "paused"
    assert [w["id"] for w in rest.get_page("webhooks", {"status": "paused"}).items] == [created["id"]]
    with pytest.raises(WooCommerceError, match="501"):
        rest.send("DELETE", f"webhooks/{created['id']}")  # webhooks cannot be trashed
    rest.send("DELETE", f"webhooks/{created['id']}", params={"force": "true"})
    assert fake.webhooks == {}
    with pytest.raises(WooCommerceError, match="400"):
        rest.send("POST", "webhooks", {"topic": "order.shipped", "delivery_url": "https://a.example/h"})


def test_ensure_webhooks_is_idempotent_and_delete_removes_only_ours(
    fake: FakeWooCommerce, local_aws: LocalResources
) -> None:
    rest = client(fake)
    foreign = rest.send(
        "POST", "webhooks", {"name": "Zapier", "topic": "order.created", "delivery_url": "https://z.example"}
    )
    first = ensure_webhooks(rest, "t-abcd1234", "s-1", "secret")
    second = ensure_webhooks(rest, "t-abcd1234", "s-1", "secret")
    assert (len(first.created), len(second.created), len(second.unchanged)) == (len(TOPICS), 0, len(TOPICS))
    assert len(fake.webhooks) == len(TOPICS) + 1
    assert delete_webhooks(rest, "s-1").deleted == sorted(TOPICS)
    assert list(fake.webhooks) == [foreign["id"]]


@pytest.mark.parametrize("refusal", ["read_key", "wrong_key", "html", "down", "no_route"])
def test_a_store_that_refuses_webhooks_gets_a_clear_error(
    fake: FakeWooCommerce, local_aws: LocalResources, refusal: str
) -> None:
    key, secret = fake.consumer_key, fake.consumer_secret
    if refusal == "read_key":
        fake.keys[key].permissions = "read"
    if refusal == "wrong_key":
        secret = "cs_wrong"
    fake.html_instead_of_json = refusal == "html"
    fake.store_down = refusal == "down"
    fake.webhooks_route_missing = refusal == "no_route"
    expected = {
        "read_key": "read/write",
        "wrong_key": "refused",
        "html": "JSON",
        "down": "attempts",
        "no_route": "404",
    }[refusal]
    with pytest.raises((UnauthorizedError, WooCommerceError), match=expected):
        ensure_webhooks(client(fake, key, secret), "t-abcd1234", "s-1", "secret")
    assert fake.webhooks == {}


def test_refunds_are_listed_per_order_and_arrive_net_through_the_back_fill(
    fake: FakeWooCommerce, tenant_id: str
) -> None:
    order = next(o for o in fake.store.orders if o["status"] == "completed" and o["line_items"][0]["quantity"] >= 1)
    line = order["line_items"][0]
    refund = fake.refund(order["id"], line["id"], line["quantity"], reason="Returned")
    rest = client(fake)
    listed = rest.get_page(f"orders/{order['id']}/refunds").items
    assert [r["id"] for r in listed] == [refund["id"]]
    assert order["refunds"] == [{"id": refund["id"], "reason": "Returned", "total": f"-{refund['amount']}"}]
    with pytest.raises(WooCommerceError, match="404"):
        rest.get_page("orders/999999999/refunds")
    store, _ = tenant_repo.create_store(
        tenant_id,
        url=fake.url,
        consumer_key=fake.consumer_key,
        consumer_secret=fake.consumer_secret,
        vault=secrets_vault(),
    )
    backfill_store(
        tenant_id,
        store.store_id,
        lambda t, s: client(fake),
        files=models_bucket(),
        records=ingest_repository(),
        usage=plan_usage(),
        training=training_repository(),
        storefront=storefront_repository(),
    )
    stored = get_order(tenant_id, str(order["id"]))
    assert stored.line_items[0].net_quantity == 0 and not stored.refunds_estimated
    assert stored.refunded_total == pytest.approx(float(refund["amount"]))


class RestPrices:
    """The price writer's client protocol (get / put of one endpoint) over the real REST client."""

    def __init__(self, rest: WooCommerceClient) -> None:
        self.rest = rest

    def get(self, endpoint: str, **_: object) -> dict[str, object]:
        return dict(self.rest.send("GET", endpoint))

    def put(self, endpoint: str, data: dict[str, str], **_: object) -> dict[str, object]:
        return dict(self.rest.send("PUT", endpoint, data))


def test_a_price_change_and_its_rollback_are_written_to_the_store_and_seen_by_shoppers(
    fake: FakeWooCommerce, local_aws: LocalResources
) -> None:
    product = fake.store.products[0]
    before = {name: product[name] for name in ("price", "regular_price", "sale_price")}
    current = float(before["price"])
    change = PriceSuggestion(
        product_id=str(product["id"]), variation_id=None, kind="sale", current_price=current,
        suggested_price=round(current * 0.9, 2), change=-0.1, sale_weeks=2, expected_units_change=3.0,
        expected_revenue_change=10.0, expected_margin_change=5.0, horizon_weeks=13, elasticity=-1.5,
        elasticity_interval=(-2.0, -1.0), confidence="high", reasons=["slow seller"], bound_by=[], currency="EUR",
        auto_apply=False,
    )  # fmt: skip
    now = datetime.now(UTC)
    prices = RestPrices(client(fake))
    record = apply_suggestion(prices, change, approved_by="anna", now=now)
    shown = prices.get(f"products/{product['id']}")
    assert (shown["price"], shown["on_sale"], shown["regular_price"]) == (
        f"{current * 0.9:.2f}",
        True,
        before["regular_price"],
    )
    shopper_view = requests.get(f"{fake.url}/wp-json/wc/store/v1/products?include={product['id']}", timeout=10).json()
    assert shopper_view[0]["prices"]["price"] == str(round(current * 0.9 * 100))
    rollback_price_change(prices, record, rolled_back_by="anna", now=now)
    restored = prices.get(f"products/{product['id']}")
    assert {name: restored[name] for name in before} == before
    assert restored["on_sale"] is False


def test_one_product_routes_refuse_unknown_ids_and_bad_prices(fake: FakeWooCommerce, local_aws: LocalResources) -> None:
    rest = client(fake)
    product_id = fake.store.products[0]["id"]
    with pytest.raises(WooCommerceError, match="404"):
        rest.send("GET", "products/999999")
    with pytest.raises(WooCommerceError, match="400"):
        rest.send("PUT", f"products/{product_id}", {"regular_price": "cheap"})
    with pytest.raises((UnauthorizedError, WooCommerceError)):
        client(fake, "ck_local", "wrong").send("PUT", f"products/{product_id}", {"regular_price": "10.00"})
    variation = fake.store.variations[0]
    endpoint = f"products/{variation['parent_id']}/variations/{variation['id']}"
    assert rest.send("PUT", endpoint, {"regular_price": "12.50"})["price"] == "12.50"

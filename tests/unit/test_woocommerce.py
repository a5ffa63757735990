"""WooCommerce: signatures (WooCommerce's own vector), payload models, the REST client's retries and paging."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from pydantic import ValidationError

from luxebrain.woocommerce.client import WooCommerceAuthError, WooCommerceClient, WooCommerceError
from luxebrain.woocommerce.outbound import OutboundPolicy
from luxebrain.woocommerce.payloads import CustomerPayload, DeletedResource, OrderPayload, ProductPayload
from luxebrain.woocommerce.signature import compute_signature, verify_signature
from luxebrain_dev.local.fake_woocommerce import FakeWooCommerce, Fault
from luxebrain_dev.sample_store import generate_sample_store

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "woocommerce"
LOCAL = OutboundPolicy(allow_local=True)  # the fake store listens on 127.0.0.1 over http


def fixture(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text())


# ----------------------------------------------------------------------------- signatures
def test_signature_matches_woocommerces_own_test_vector() -> None:
    # Given WooCommerce's unit-test vector (empty secret, body "secret")
    # Then our signature is the one WooCommerce computes
    assert compute_signature(b"secret", "") == "GBDo00G55h6IiV+6CxqivQPLbI//KzaOZm747971tPs="
    assert verify_signature(b"secret", "", "GBDo00G55h6IiV+6CxqivQPLbI//KzaOZm747971tPs=")


def test_secret_is_html_entity_decoded_like_wordpress() -> None:
    # Given a secret WordPress stored with its ampersand encoded
    body = b'{"id":1}'
    signed_by_woocommerce = compute_signature(body, "a&b<c>'\"")
    # When we verify with the stored (encoded) form
    # Then it verifies, because WooCommerce decodes the secret before signing
    assert verify_signature(body, "a&amp;b&lt;c&gt;&#039;&quot;", signed_by_woocommerce)


@pytest.mark.parametrize(
    "signature",
    [None, "", "not-base64", "GBDo00G55h6IiV+6CxqivQPLbI//KzaOZm747971tPs", "ÿ garbage ✓"],
)
def test_wrong_or_missing_signature_is_refused_without_raising(signature: str | None) -> None:
    assert verify_signature(b"secret", "", signature) is False


def test_signature_covers_the_raw_bytes_not_a_reserialised_body() -> None:
    # Given a body as WooCommerce encodes it (escaped slashes) and its signature
    raw = b'{"url":"https:\\/\\/maison.example\\/"}'
    signature = compute_signature(raw, "s3cret")
    # When the same JSON is re-serialised, it no longer verifies: only the received bytes count
    reserialised = json.dumps(json.loads(raw), separators=(",", ":")).encode()
    assert verify_signature(raw, "s3cret", signature)
    assert not verify_signature(reserialised, "s3cret", signature)


# ----------------------------------------------------------------------------- payloads
def test_order_payload_reads_what_we_use_and_ignores_the_rest() -> None:
    order = OrderPayload.model_validate(fixture("order.json"))
    assert order.id == 727
    assert order.total == Decimal("1340.00")
    assert order.line_items[1].variation_id == 23
    assert order.line_items[1].quantity == 2
    assert order.coupon_lines[0].code == "WELCOME100"
    assert order.billing.country == "FR"
    assert order.date_paid_gmt == "2026-03-22T19:30:35"
    assert not hasattr(order, "_links")


def test_dates_with_offsets_are_normalised_to_gmt_strings() -> None:
    payload = fixture("order.json") | {"date_modified_gmt": "2026-03-22T21:30:35+02:00"}
    assert OrderPayload.model_validate(payload).date_modified_gmt == "2026-03-22T19:30:35"


@pytest.mark.parametrize(
    "change",
    [
        {"id": 0},
        {"id": "abc"},
        {"status": ""},
        {"total": "twelve"},
        {"total": "NaN"},
        {"date_created_gmt": None},
        {"date_created_gmt": "yesterday"},
        {"line_items": [{"id": 1, "quantity": -1}]},
        {"line_items": "none"},
        {"billing": {"country": "France"}},
    ],
)
def test_order_payload_is_strict_on_what_is_used(change: dict) -> None:
    with pytest.raises(ValidationError):
        OrderPayload.model_validate(fixture("order.json") | change)


def test_variation_is_a_product_with_a_parent_and_a_cost() -> None:
    variation = ProductPayload.model_validate(fixture("product_variation.json"))
    assert variation.is_variation
    assert variation.parent_id == 22
    assert variation.cost() == Decimal("31.50")
    assert variation.sale_price == Decimal("90")


def test_deleted_resource_is_only_an_id() -> None:
    assert DeletedResource.model_validate(fixture("deleted.json")).id == 727
    with pytest.raises(ValidationError):
        DeletedResource.model_validate({})


def test_customer_payload() -> None:
    customer = CustomerPayload.model_validate(fixture("customer.json"))
    assert customer.billing.phone == "+49301234567"
    assert customer.date_modified_gmt == "2026-02-01T09:00:00"


# ----------------------------------------------------------------------------- REST client
@pytest.fixture(scope="module")
def small_store():
    return generate_sample_store(products=12, customers=60, years=0.5, seed=3)


def test_client_pages_through_a_collection_by_total_pages(small_store) -> None:
    with FakeWooCommerce(small_store) as fake:
        client = WooCommerceClient(fake.url, fake.consumer_key, fake.consumer_secret, policy=LOCAL)
        pages = list(client.iter_pages("orders", {"orderby": "id", "order": "asc"}))
    assert len(pages) == pages[0].total_pages == -(-len(small_store.orders) // 100)
    ids = [order["id"] for page in pages for order in page.items]
    assert ids == sorted(order["id"] for order in small_store.orders)
    assert client.timeout > 5  # the package's 5 s default is too short for 100-item pages


def test_client_retries_429_and_500_with_backoff_then_succeeds(small_store) -> None:
    slept: list[float] = []
    faults = [Fault("orders", 1, status=429, retry_after=2), Fault("orders", 1, status=500)]
    with FakeWooCommerce(small_store, faults=faults) as fake:
        client = WooCommerceClient(fake.url, fake.consumer_key, fake.consumer_secret, sleep=slept.append, policy=LOCAL)
        page = client.get_page("orders", page=1)
    assert len(page.items) == min(100, len(small_store.orders))
    assert client.retries == 2
    assert slept[0] == 2  # Retry-After honoured
    assert 0 < slept[1] <= 2  # exponential backoff with jitter


def test_client_gives_up_after_bounded_attempts(small_store) -> None:
    with FakeWooCommerce(small_store, faults=[Fault("orders", 1, status=503, times=10)]) as fake:
        client = WooCommerceClient(
            fake.url, fake.consumer_key, fake.consumer_secret, max_attempts=3, sleep=lambda _: None, policy=LOCAL
        )
        with pytest.raises(WooCommerceError, match="after 3 attempts"):
            client.get_page("orders")


def test_client_reports_rejected_credentials_without_retrying(small_store) -> None:
    with FakeWooCommerce(small_store) as fake:
        client = WooCommerceClient(fake.url, fake.consumer_key, "cs_wrong", sleep=lambda _: None, policy=LOCAL)
        with pytest.raises(WooCommerceAuthError, match="consumer key"):
            client.get_page("orders")
        assert client.requests_made == 1
        assert fake.requests[-1].status == 401


def test_client_times_out_on_a_slow_page_and_retries(small_store) -> None:
    with FakeWooCommerce(small_store, faults=[Fault("orders", 1, delay_seconds=1.0)]) as fake:
        client = WooCommerceClient(
            fake.url, fake.consumer_key, fake.consumer_secret, timeout=0.2, sleep=lambda _: None, policy=LOCAL
        )
        page = client.get_page("orders")
    assert page.items
    assert client.retries == 1

"""WooCommerce: signatures (WooCommerce's own vector) and payload models. The REST client against the fake
store is in tests/integration/test_woocommerce_client.py."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from pydantic import ValidationError

from luxebrain.woocommerce.payloads import CustomerPayload, DeletedResource, OrderPayload, ProductPayload
from luxebrain.woocommerce.signature import compute_signature, verify_signature

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "woocommerce"


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

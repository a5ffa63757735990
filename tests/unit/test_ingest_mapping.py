"""Ingest mapping: statuses, guests, line items, variations; property-based checks of payload validation."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from luxebrain.ingest import mapping
from luxebrain.ingest.receiver import deduplication_id
from luxebrain.storage.customers import order_item
from luxebrain.woocommerce.payloads import PAYLOAD_MODELS, OrderPayload, ProductPayload

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "woocommerce"
TENANT = "t-mapping1"


def fixture(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text())


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("processing", "purchase"),
        ("completed", "purchase"),
        ("wc-completed", "purchase"),
        ("refunded", "refund"),
        ("cancelled", "cancelled"),
        ("failed", "cancelled"),
        ("checkout-draft", "cart"),
        ("pending", "cart"),
        ("on-hold", "other"),
        ("shipped-custom", "other"),
    ],
)
def test_status_classes(status: str, expected: str) -> None:
    assert mapping.status_class(status) == expected


def test_guest_order_is_keyed_by_the_hash_of_the_lower_cased_email() -> None:
    # Given a guest order (customer_id 0) with a mixed-case e-mail
    order = OrderPayload.model_validate(fixture("order.json"))
    # When it is mapped
    item = mapping.order_from_payload(TENANT, order)
    guest = mapping.guest_customer_from_order(TENANT, order)
    # Then the customer is the guest key, the same for any casing, and the e-mail is not in the key
    expected = "guest:" + hashlib.sha256(b"camille.martin@example.com").hexdigest()
    assert item.customer_id == expected == guest.customer_id
    assert "example" not in item.customer_id
    assert guest.email == "Camille.Martin@Example.com"  # kept for campaigns
    assert order_item(item).gsi1pk.endswith(expected)  # the customer's order index names the guest key


def test_order_keeps_lines_coupons_currency_country_and_dates() -> None:
    item = mapping.order_from_payload(TENANT, OrderPayload.model_validate(fixture("order.json")))
    assert item.status_class == "purchase"
    assert [(li.product_id, li.variation_id, li.quantity, li.unit_price, li.total) for li in item.line_items] == [
        ("93", None, 1, 1150.0, 1150.0),
        ("22", "23", 2, 90.0, 180.0),
    ]
    assert [(c.code, c.discount) for c in item.coupon_lines] == [("welcome100", 100.0)]
    assert (item.currency, item.billing_country, item.total) == ("EUR", "FR", 1340.0)
    assert (item.created_gmt, item.paid_gmt, item.completed_gmt) == ("2026-03-22T19:28:02", "2026-03-22T19:30:35", None)


def test_registered_customer_order_has_no_guest_record() -> None:
    order = OrderPayload.model_validate(fixture("order.json") | {"customer_id": 25})
    assert mapping.order_from_payload(TENANT, order).customer_id == "25"
    assert mapping.guest_customer_from_order(TENANT, order) is None


def test_variation_maps_to_a_product_with_parent_id() -> None:
    item = mapping.product_from_payload(
        TENANT, ProductPayload.model_validate(fixture("product_variation.json")), "2026-01-01T00:00:00"
    )
    assert (item.product_id, item.parent_id, item.product_type, item.cost, item.stock_quantity) == (
        "23",
        "22",
        "variation",
        31.5,
        4,
    )


def test_content_hash_ignores_fields_we_do_not_store() -> None:
    a = OrderPayload.model_validate(fixture("order.json"))
    b = OrderPayload.model_validate(fixture("order.json") | {"customer_note": "leave at the door", "_links": {}})
    assert mapping.content_hash(a) == mapping.content_hash(b)
    c = OrderPayload.model_validate(fixture("order.json") | {"status": "completed"})
    assert mapping.content_hash(a) != mapping.content_hash(c)


def test_deletes_of_the_same_record_are_not_deduplicated_away() -> None:
    body = b'{"id":727}'
    assert deduplication_id(body, "deleted", "2026-01-01T00:00:00") != deduplication_id(
        body, "deleted", "2026-01-01T00:00:09"
    )
    assert deduplication_id(body, "updated", "2026-01-01T00:00:00") == deduplication_id(
        body, "updated", "2026-01-01T00:00:09"
    )


# ----------------------------------------------------------------------------- property-based
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=5),
    max_leaves=20,
)


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(resource=st.sampled_from(sorted(PAYLOAD_MODELS)), document=json_values)
def test_any_json_either_validates_or_fails_with_a_validation_error(resource: str, document: object) -> None:
    # Given any JSON value as a payload of any resource
    # When it is validated and (if valid) mapped
    try:
        payload = PAYLOAD_MODELS[resource].model_validate(document)
    except ValidationError:
        return  # Then the only failure is a validation error, with a reason
    _map(resource, payload)


@settings(max_examples=200, deadline=None)
@given(
    cut=st.integers(min_value=0, max_value=4000),
    name=st.sampled_from(["order.json", "product.json", "customer.json", "coupon.json"]),
)
def test_truncated_payloads_never_crash_validation(cut: int, name: str) -> None:
    raw = (FIXTURES / name).read_text()
    truncated = raw[: cut % (len(raw) + 1)]
    resource = name.split(".")[0]
    try:
        payload = PAYLOAD_MODELS[resource].model_validate_json(truncated)
    except ValidationError:
        return
    _map(resource, payload)


def _map(resource: str, payload: object) -> None:
    if resource == "order":
        mapping.order_from_payload(TENANT, payload)  # type: ignore[arg-type]
        mapping.guest_customer_from_order(TENANT, payload)  # type: ignore[arg-type]
    elif resource == "product":
        mapping.product_from_payload(TENANT, payload, "2026-01-01T00:00:00")  # type: ignore[arg-type]
    elif resource == "customer":
        mapping.customer_from_payload(TENANT, payload, "2026-01-01T00:00:00")  # type: ignore[arg-type]
    else:
        mapping.coupon_from_payload(TENANT, payload, "2026-01-01T00:00:00")  # type: ignore[arg-type]

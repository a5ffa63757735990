"""What real stores send: refunds (gross and net per line and in total), fractional quantities, HTML entities,
shipping / fees / tax apart from product revenue, order attribution; contradictory figures are refused."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from luxebrain.ingest import mapping
from luxebrain.training.deltas import order_record
from luxebrain.woocommerce.payloads import OrderPayload

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "woocommerce"
TENANT = "t-refunds1"


def order(**changes: Any) -> dict[str, Any]:
    return json.loads((FIXTURES / "order.json").read_text()) | changes


def detailed_refund(refund_id: int, line_id: int, quantity: float, amount: str) -> dict[str, Any]:
    """A refund as ``GET /orders/{id}/refunds`` returns it: negative quantity and total, the order line named
    by ``_refunded_item_id`` meta."""
    return {
        "id": refund_id,
        "date_created_gmt": "2026-03-28T09:00:00",
        "amount": amount,
        "reason": "Returned",
        "line_items": [
            {
                "id": 900 + refund_id,
                "product_id": 22,
                "variation_id": 23,
                "quantity": -quantity,
                "total": f"-{amount}",
                "meta_data": [{"id": 1, "key": "_refunded_item_id", "value": str(line_id)}],
                "refund_total": float(amount),
            }
        ],
    }


def mapped(document: dict[str, Any]):
    return mapping.order_from_payload(TENANT, OrderPayload.model_validate(document))


def test_an_order_without_refunds_has_net_equal_to_gross() -> None:
    item = mapped(order())
    assert [(line.quantity, line.net_quantity, line.total, line.net_total) for line in item.line_items] == [
        (1, 1, 1150.0, 1150.0),
        (2, 2, 180.0, 180.0),
    ]
    assert (item.total, item.refunded_total, item.net_total) == (1340.0, 0.0, 1340.0)


def test_a_partial_refund_with_its_lines_reduces_that_line_and_the_total() -> None:
    # Given a completed order with one of two pumps (line 316) refunded
    item = mapped(order(refunds=[detailed_refund(501, 316, 1, "90.00")]))
    # Then that line keeps one unit and 90.00, the other line is untouched, the order is 90.00 less
    pump = item.line_items[1]
    assert (pump.quantity, pump.refunded_quantity, pump.net_quantity, pump.net_total) == (2, 1, 1, 90.0)
    assert item.line_items[0].net_quantity == 1
    assert (item.refunded_total, item.net_total, item.product_total, item.product_net_total) == (
        90.0,
        1250.0,
        1330.0,
        1240.0,
    )
    assert item.status_class == "purchase" and not item.refunds_estimated
    assert item.refunds == [{"id": 501, "amount": 90.0, "created_gmt": "2026-03-28T09:00:00", "lines_known": True}]


def test_a_fully_refunded_line_is_no_purchase_in_the_training_snapshot() -> None:
    item = mapped(order(refunds=[detailed_refund(501, 316, 2, "180.00")]))
    record = order_record(item)
    assert record["purchase"] is True
    assert record["lines"] == [["93", 1.0, 1150.0, 1150.0]]  # the refunded pumps are gone


def test_the_snapshot_counts_net_quantities_and_revenue() -> None:
    record = order_record(mapped(order(refunds=[detailed_refund(501, 316, 1, "90.00")])))
    assert record["lines"] == [["93", 1.0, 1150.0, 1150.0], ["22", 1.0, 90.0, 90.0]]


def test_a_refund_known_only_by_its_amount_is_spread_over_the_lines_and_marked_estimated() -> None:
    # Given the order as a webhook carries it: refunds as {id, reason, total} only (134.00 of the 1340.00 charged,
    # 1330.00 of products and 10.00 shipping)
    item = mapped(order(refunds=[{"id": 502, "reason": "", "total": "-134.00"}]))
    assert item.refunds_estimated
    assert item.net_total == 1206.0
    # Then the products' share of it (1330/1340) is spread over the lines: a tenth of each
    assert item.product_net_total == pytest.approx(1330.0 - 133.0)
    assert item.line_items[0].net_total == pytest.approx(1150.0 * 0.9)
    assert item.line_items[1].net_quantity == pytest.approx(1.8)


def test_a_refund_known_only_by_its_amount_takes_shipping_fees_and_tax_their_share() -> None:
    # Given 100.00 of products, 10.00 shipping, 5.00 fees and 15.00 tax (130.00 charged), half refunded by amount
    document = order(total="130.00", total_tax="15.00", shipping_total="10.00", discount_total="0.00")
    document["line_items"] = [{**document["line_items"][0], "total": "100.00", "subtotal": "100.00"}]
    document["fee_lines"] = [{"id": 1, "name": "Gift wrap", "total": "5.00"}]
    item = mapped({**document, "refunds": [{"id": 505, "reason": "", "total": "-65.00"}]})
    # Then the products keep half of theirs (before: all 65.00 came off them, leaving 35.00)
    assert item.product_net_total == pytest.approx(50.0)
    assert item.line_items[0].net_quantity == pytest.approx(0.5)
    # and after an exact refund of the line's 20.00, a refund by amount takes from what is left of each part
    exact = detailed_refund(501, document["line_items"][0]["id"], 0, "20.00")
    item = mapped({**document, "refunds": [exact, {"id": 506, "reason": "", "total": "-55.00"}]})
    assert item.product_net_total == pytest.approx(80.0 - 55.0 * 80.0 / 110.0)


def test_several_refunds_accumulate() -> None:
    item = mapped(order(refunds=[detailed_refund(501, 316, 1, "90.00"), detailed_refund(503, 316, 1, "90.00")]))
    assert (item.line_items[1].net_quantity, item.net_total) == (0, 1160.0)


@pytest.mark.parametrize(
    ("refunds", "reason"),
    [
        ([{**detailed_refund(501, 316, 3, "90.00")}], "exceed its quantity"),
        ([{**detailed_refund(501, 316, 1, "500.00")}], "exceed its total"),
        ([{**detailed_refund(501, 999, 1, "90.00")}], "a line the order does not have"),
        ([{"id": 504, "total": "-5000.00"}], "refunds exceed the order's total"),
    ],
)
def test_refunds_that_contradict_the_order_are_refused_with_a_reason(refunds: list, reason: str) -> None:
    with pytest.raises(mapping.UnusableOrder, match=reason):
        mapped(order(refunds=refunds))


def test_fractional_quantities_are_kept_as_decimals() -> None:
    document = order()
    document["line_items"][1] |= {"quantity": 1.5, "price": 120, "total": "180.00"}
    item = mapped(document)
    assert item.line_items[1].quantity == 1.5 and item.line_items[1].net_quantity == 1.5
    assert isinstance(item.line_items[0].quantity, int)


@pytest.mark.parametrize("quantity", [-1, "NaN", "Infinity", "a lot", None, True])
def test_negative_nan_and_non_numeric_quantities_are_invalid(quantity: Any) -> None:
    document = order()
    document["line_items"][0]["quantity"] = quantity
    with pytest.raises(ValidationError):
        OrderPayload.model_validate(document)


def test_html_entities_in_names_are_decoded_exactly_once() -> None:
    document = order()
    document["line_items"][0]["name"] = "Sac Lune &ndash; cuir &amp;amp; laiton"
    document["billing"]["first_name"] = "Ana&iuml;s"
    item = mapped(document)
    assert item.line_items[0].name == "Sac Lune \u2013 cuir &amp; laiton"
    guest = mapping.guest_customer_from_order(TENANT, OrderPayload.model_validate(document))
    assert guest is not None and guest.first_name == "Ana\u00efs"


def test_shipping_fees_tax_and_attribution_are_kept_apart_from_product_revenue() -> None:
    document = order(
        total="1352.50",
        total_tax="2.50",
        fee_lines=[{"id": 1, "name": "Gift wrap", "total": "10.00"}],
        meta_data=[
            {"id": 1, "key": "_wc_order_attribution_source_type", "value": "utm"},
            {"id": 2, "key": "_wc_order_attribution_utm_source", "value": "newsletter"},
            {"id": 3, "key": "_wc_order_attribution_utm_campaign", "value": "spring"},
            {"id": 4, "key": "_stripe_fee", "value": "21.30"},
        ],
    )
    item = mapped(document)
    assert (item.product_total, item.shipping_total, item.fee_total, item.tax_total) == (1330.0, 10.0, 10.0, 2.5)
    assert item.currency == "EUR"
    assert item.attribution == {"source_type": "utm", "utm_source": "newsletter", "utm_campaign": "spring"}


def test_the_snapshot_rebuilt_from_the_table_reads_net_lines_too() -> None:
    from luxebrain.storage.customers import order_item, order_summary_from_raw
    from luxebrain.training.snapshot import record_from_summary

    item = mapped(order(refunds=[detailed_refund(501, 316, 2, "180.00")]))
    raw = order_item(item).serialize()  # the order as the table holds it
    from_table = record_from_summary(order_summary_from_raw(raw))
    assert from_table["lines"] == order_record(item)["lines"] == [["93", 1.0, 1150.0, 1150.0]]


def test_the_sample_store_sends_what_real_stores_send_and_ingest_keeps_it_right() -> None:
    from luxebrain.woocommerce.payloads import ProductPayload
    from luxebrain_dev.sample_store import generate_sample_store

    store = generate_sample_store(products=300, customers=400, years=0.5, seed=7)
    escaped = [p for p in store.products if "&amp;" in p["name"]]
    assert escaped, "the sample store sends names HTML-escaped, as WooCommerce does"
    product = mapping.product_from_payload(TENANT, ProductPayload.model_validate(escaped[0]), "2026-01-01T00:00:00")
    assert "&amp;" not in product.name and "&" in product.name
    fractional = [(order, line) for order in store.orders for line in order["line_items"] if line["quantity"] % 1]
    assert fractional, "goods sold by the metre come in fractional quantities"
    order, line = fractional[0]
    stored = mapped(order)
    kept = next(item for item in stored.line_items if item.line_id == str(line["id"]))
    assert kept.quantity == line["quantity"] and kept.name and "&amp;" not in kept.name

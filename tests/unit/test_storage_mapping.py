"""Domain records survive the trip to their entity and back unchanged, field by field; a record field the entity
does not have is an error, never a value silently dropped."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from luxebrain.storage.catalogue import Coupon, Product, coupon_from_item, coupon_item, product_from_item, product_item
from luxebrain.storage.customers import (
    CouponUse,
    Customer,
    Order,
    OrderLine,
    customer_from_item,
    customer_item,
    order_from_item,
    order_item,
)
from luxebrain.storage.items.catalogue import ProductItem
from luxebrain.storage.mapping import attributes_of


def test_an_order_with_refunded_fractional_lines_round_trips() -> None:
    order = Order(
        tenant_id="maison-t1",
        order_id="1001",
        status="completed",
        status_class="purchase",
        customer_id="42",
        created_gmt="2026-11-30T10:00:00",
        total=31.5,
        refunded_total=4.2,
        net_total=27.3,
        refunds=[{"id": 7, "amount": 4.2}],
        line_items=(
            OrderLine("1", "p1", None, "Silk &amp; wool", "SKU", 1.5, 10.0, 15.0, 15.0, 0.5, 5.0, 1.0, 10.0),
            OrderLine("2", "p2", "v9", None, None, 2, 8.25, 16.5, 16.5),
        ),
        coupon_lines=(CouponUse("WINTER", 2.0),),
        storefront_attribution={"visitor": "v", "placement": "pdp"},
    )
    item = order_item(order)
    assert item.gsi1pk and item.line_items[0].net_quantity == 1.0
    assert order_from_item(item) == order


def test_a_tombstoned_order_leaves_the_customer_index() -> None:
    order = Order("maison-t1", "1002", "trash", "other", "42", "2026-11-30T10:00:00", deleted=True)
    assert order_item(order).gsi1pk is None
    assert order_from_item(order_item(order)) == order


def test_products_customers_and_coupons_round_trip() -> None:
    product = Product(
        tenant_id="maison-t1",
        product_id="p1",
        store_id="s1",
        parent_id=None,
        product_type="simple",
        name="Scarf",
        sku=None,
        status="publish",
        categories=("Accessories",),
        tags=("winter", "silk"),
        price=49.0,
        regular_price=59.0,
        sale_price=49.0,
        cost=None,
        stock_quantity=3,
        stock_status="instock",
        modified_gmt="2026-11-30T10:00:00",
    )
    assert product_from_item(product_item(product)) == product
    customer = Customer("maison-t1", "guest:ab12", email="a@example.com", country="FR", deleted=False)
    assert customer_from_item(customer_item(customer)) == customer
    coupon = Coupon(tenant_id="maison-t1", coupon_id="c1", code="WINTER")
    assert coupon_from_item(coupon_item(coupon)) == coupon


def test_a_field_the_entity_lacks_is_an_error() -> None:
    @dataclass(frozen=True)
    class Mistyped:
        tenant_id: str
        product_name: str  # the entity calls it name

    with pytest.raises(ValueError, match="product_name"):
        ProductItem("pk", "sk", entity="product", **attributes_of(Mistyped("maison-t1", "Scarf")))

"""Customers and their orders, with line items in the order's item."""

from __future__ import annotations

from typing import Any

from pynamodb.attributes import (
    BooleanAttribute,
    JSONAttribute,
    ListAttribute,
    MapAttribute,
    NumberAttribute,
    UnicodeAttribute,
)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex

from luxebrain.storage.items.base import BaseItem
from luxebrain.tenancy import tenant_partition


class LineItem(MapAttribute[str, Any]):
    line_id = UnicodeAttribute()
    product_id = UnicodeAttribute()
    variation_id = UnicodeAttribute(null=True)
    name = UnicodeAttribute(null=True)
    sku = UnicodeAttribute(null=True)
    quantity = NumberAttribute()  # as ordered (gross); may be fractional (goods sold by weight or length)
    unit_price = NumberAttribute()
    subtotal = NumberAttribute()
    total = NumberAttribute()  # as ordered, after discounts (gross)
    refunded_quantity = NumberAttribute(default=0)
    refunded_total = NumberAttribute(default=0)
    # What was kept: gross minus refunds. Absent on records stored before refunds were tracked (= gross).
    net_quantity = NumberAttribute(null=True)
    net_total = NumberAttribute(null=True)

    def kept_quantity(self) -> float:
        return float(self.quantity if self.net_quantity is None else self.net_quantity)

    def kept_total(self) -> float:
        return float(self.total if self.net_total is None else self.net_total)


class CouponLine(MapAttribute[str, Any]):
    code = UnicodeAttribute()
    discount = NumberAttribute()


class CustomerItem(BaseItem):
    """A customer, registered (WooCommerce id) or guest (``guest:<sha256 of e-mail>``).
    E-mail and phone are kept because campaigns need them; they are never logged."""

    ENTITY = "customer"
    customer_id = UnicodeAttribute()
    email = UnicodeAttribute(null=True)
    phone = UnicodeAttribute(null=True)
    first_name = UnicodeAttribute(null=True)
    country = UnicodeAttribute(null=True)
    created_gmt = UnicodeAttribute(default="")
    modified_gmt = UnicodeAttribute(default="")
    content_hash = UnicodeAttribute(default="")
    deleted = BooleanAttribute(default=False)


class OrdersByCustomerIndex(GlobalSecondaryIndex["OrderItem"]):
    """gsi1 as a customer's orders by creation date (exports, erasure, campaigns)."""

    class Meta:
        index_name = "gsi1"
        projection = AllProjection()

    gsi1pk = UnicodeAttribute(hash_key=True)
    gsi1sk = UnicodeAttribute(range_key=True)


class OrdersByDateIndex(GlobalSecondaryIndex["OrderItem"]):
    """gsi2 as a tenant's live orders by creation date (the flows read only their window)."""

    class Meta:
        index_name = "gsi2"
        projection = AllProjection()

    gsi2pk = UnicodeAttribute(hash_key=True)
    gsi2sk = UnicodeAttribute(range_key=True)


class OrderItem(BaseItem):
    """An order with its line items in the same item, so one order is one write."""

    ENTITY = "order"
    order_id = UnicodeAttribute()
    status = UnicodeAttribute()
    status_class = UnicodeAttribute()  # purchase | refund | cancelled | cart | other
    currency = UnicodeAttribute(default="EUR")
    customer_id = UnicodeAttribute()
    billing_country = UnicodeAttribute(null=True)
    total = NumberAttribute(default=0)  # what the customer was charged (gross), shipping, fees and tax included
    discount_total = NumberAttribute(default=0)
    # Kept apart from product revenue: lines net of refunds (``product_net_total``), shipping, fees, tax.
    product_total = NumberAttribute(null=True)
    product_net_total = NumberAttribute(null=True)
    shipping_total = NumberAttribute(default=0)
    fee_total = NumberAttribute(default=0)
    tax_total = NumberAttribute(default=0)
    refunded_total = NumberAttribute(default=0)
    net_total = NumberAttribute(null=True)  # total minus refunds; absent on records stored before refunds were kept
    refunds = JSONAttribute(default=list)  # [{id, amount, created_gmt, lines_known}]
    # The refunds' line items as WooCommerce's refunds endpoint gave them (ids, quantities, amounts only), so a
    # re-delivery of the same order does not ask the store again.
    refund_details = JSONAttribute(default=list)
    refunds_estimated = BooleanAttribute(default=False)  # a refund's lines were unknown: spread over the lines
    attribution = JSONAttribute(default=dict)  # WooCommerce order attribution: source type, UTM fields
    created_gmt = UnicodeAttribute()
    modified_gmt = UnicodeAttribute(default="")
    paid_gmt = UnicodeAttribute(null=True)
    completed_gmt = UnicodeAttribute(null=True)
    line_items = ListAttribute(of=LineItem, default=list)
    coupon_lines = ListAttribute(of=CouponLine, default=list)
    content_hash = UnicodeAttribute(default="")
    deleted = BooleanAttribute(default=False)
    # The storefront widget's random visitor id and last clicked placement, from the order's meta_data.
    storefront_attribution = JSONAttribute(null=True)
    by_customer = OrdersByCustomerIndex()
    by_date = OrdersByDateIndex()

    def kept_total(self) -> float:
        """The order's value net of refunds (gross for records stored before refunds were kept)."""
        return float(self.total if self.net_total is None else self.net_total)


def key_customer(tenant_id: str, customer_id: str) -> tuple[str, str]:
    return tenant_partition(tenant_id, "CUSTOMER"), customer_id


def key_order(tenant_id: str, order_id: str) -> tuple[str, str]:
    return tenant_partition(tenant_id, "ORDER"), order_id


def orders_by_date_index_keys(tenant_id: str, created_gmt: str, order_id: str) -> tuple[str, str]:
    # The order id after the date keeps two orders of the same second apart.
    return tenant_partition(tenant_id, "ORDERS_BY_DATE"), f"{created_gmt}#{order_id}"


def customer_orders_index_keys(tenant_id: str, customer_id: str, created_gmt: str) -> tuple[str, str]:
    return tenant_partition(tenant_id, "CUSTOMER", customer_id), f"ORDER#{created_gmt}"

"""The customers repository: a tenant's customers and their orders (line items inside the order), and a
customer's orders by date through the by-customer index."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from pynamodb.exceptions import DoesNotExist

from luxebrain.errors import NotFoundError
from luxebrain.runtime import configured_settings
from luxebrain.storage.items.customers import (
    CouponLine,
    CustomerItem,
    LineItem,
    OrderItem,
    customer_orders_index_keys,
    key_customer,
    key_order,
)
from luxebrain.tenancy import tenant_partition


@dataclass(frozen=True)
class Customer:
    """A customer, registered (WooCommerce id) or guest (``guest:<sha256 of e-mail>``); a deleted one is a
    tombstone. E-mail and phone are for campaigns; never log them."""

    customer_id: str
    email: str | None
    phone: str | None
    first_name: str | None
    country: str | None
    created_gmt: str
    modified_gmt: str
    deleted: bool


@dataclass(frozen=True)
class OrderLine:
    line_id: str
    product_id: str
    variation_id: str | None
    name: str | None
    sku: str | None
    quantity: float  # as ordered (gross); may be fractional (goods sold by weight or length)
    unit_price: float
    subtotal: float
    total: float  # as ordered, after discounts (gross)
    refunded_quantity: float
    refunded_total: float
    # What was kept: gross minus refunds. None on records stored before refunds were tracked (= gross).
    net_quantity: float | None
    net_total: float | None

    def kept_quantity(self) -> float:
        return float(self.quantity if self.net_quantity is None else self.net_quantity)

    def kept_total(self) -> float:
        return float(self.total if self.net_total is None else self.net_total)


@dataclass(frozen=True)
class CouponUse:
    code: str
    discount: float


@dataclass(frozen=True)
class Order:
    """An order as stored: amounts as WooCommerce charged them (gross) beside what was kept after refunds."""

    order_id: str
    status: str
    status_class: str  # purchase | refund | cancelled | cart | other
    currency: str
    customer_id: str
    billing_country: str | None
    total: float  # what the customer was charged (gross), shipping, fees and tax included
    discount_total: float
    product_total: float | None
    product_net_total: float | None  # lines net of refunds
    shipping_total: float
    fee_total: float
    tax_total: float
    refunded_total: float
    net_total: float | None  # total minus refunds; None on records stored before refunds were kept
    refunds: list[dict[str, Any]]  # [{id, amount, created_gmt, lines_known}]
    refund_details: list[dict[str, Any]]
    refunds_estimated: bool
    attribution: dict[str, Any]  # WooCommerce order attribution: source type, UTM fields
    created_gmt: str
    modified_gmt: str
    paid_gmt: str | None
    completed_gmt: str | None
    line_items: tuple[OrderLine, ...]
    coupon_lines: tuple[CouponUse, ...]
    deleted: bool
    storefront_attribution: dict[str, Any] | None  # the widget's visitor id and last clicked placement

    def kept_total(self) -> float:
        """The order's value net of refunds (gross for records stored before refunds were kept)."""
        return float(self.total if self.net_total is None else self.net_total)


def _customer(item: CustomerItem) -> Customer:
    return Customer(
        customer_id=item.customer_id,
        email=item.email,
        phone=item.phone,
        first_name=item.first_name,
        country=item.country,
        created_gmt=item.created_gmt,
        modified_gmt=item.modified_gmt,
        deleted=bool(item.deleted),
    )


def _line(line: LineItem) -> OrderLine:
    return OrderLine(
        line_id=line.line_id,
        product_id=line.product_id,
        variation_id=line.variation_id,
        name=line.name,
        sku=line.sku,
        quantity=line.quantity,
        unit_price=line.unit_price,
        subtotal=line.subtotal,
        total=line.total,
        refunded_quantity=line.refunded_quantity,
        refunded_total=line.refunded_total,
        net_quantity=line.net_quantity,
        net_total=line.net_total,
    )


def _coupon(line: CouponLine) -> CouponUse:
    return CouponUse(code=line.code, discount=line.discount)


def _order(item: OrderItem) -> Order:
    return Order(
        order_id=item.order_id,
        status=item.status,
        status_class=item.status_class,
        currency=item.currency,
        customer_id=item.customer_id,
        billing_country=item.billing_country,
        total=item.total,
        discount_total=item.discount_total,
        product_total=item.product_total,
        product_net_total=item.product_net_total,
        shipping_total=item.shipping_total,
        fee_total=item.fee_total,
        tax_total=item.tax_total,
        refunded_total=item.refunded_total,
        net_total=item.net_total,
        refunds=list(item.refunds or []),
        refund_details=list(item.refund_details or []),
        refunds_estimated=bool(item.refunds_estimated),
        attribution=dict(item.attribution or {}),
        created_gmt=item.created_gmt,
        modified_gmt=item.modified_gmt,
        paid_gmt=item.paid_gmt,
        completed_gmt=item.completed_gmt,
        line_items=tuple(_line(line) for line in item.line_items or ()),
        coupon_lines=tuple(_coupon(line) for line in item.coupon_lines or ()),
        deleted=bool(item.deleted),
        storefront_attribution=item.storefront_attribution,
    )


# ----------------------------------------------------------------------------- customers
def get_customer(tenant_id: str, customer_id: str) -> Customer:
    configured_settings()
    try:
        return _customer(CustomerItem.get(*key_customer(tenant_id, customer_id)))
    except DoesNotExist:
        raise NotFoundError(f"customer {customer_id} not found") from None


def iter_customers(tenant_id: str) -> Iterator[Customer]:
    """Every customer of the tenant (tombstones included), page by page."""
    configured_settings()
    return (_customer(item) for item in CustomerItem.query(tenant_partition(tenant_id, "CUSTOMER")))


def count_customers(tenant_id: str) -> int:
    configured_settings()
    return CustomerItem.count(tenant_partition(tenant_id, "CUSTOMER"))


# ----------------------------------------------------------------------------- orders
def get_order(tenant_id: str, order_id: str) -> Order:
    configured_settings()
    try:
        return _order(OrderItem.get(*key_order(tenant_id, order_id)))
    except DoesNotExist:
        raise NotFoundError(f"order {order_id} not found") from None


def iter_orders(tenant_id: str) -> Iterator[Order]:
    """Every order of the tenant (tombstones included), page by page."""
    configured_settings()
    return (_order(item) for item in OrderItem.query(tenant_partition(tenant_id, "ORDER")))


def count_orders(tenant_id: str) -> int:
    configured_settings()
    return OrderItem.count(tenant_partition(tenant_id, "ORDER"))


def orders_of_customer(tenant_id: str, customer_id: str, *, since_gmt: str | None = None) -> Iterator[Order]:
    """A customer's orders, oldest first, through the by-customer index (created at or after ``since_gmt``).
    A deleted order leaves the index; an erased customer's orders are no longer theirs."""
    configured_settings()
    partition, _ = customer_orders_index_keys(tenant_id, customer_id, "")
    sort_key = OrderItem.gsi1sk
    # "~" sorts after every character of a GMT timestamp: the range stays within the customer's orders.
    dates = sort_key.between(f"ORDER#{since_gmt}", "ORDER#~") if since_gmt else sort_key.startswith("ORDER#")
    return (_order(item) for item in OrderItem.by_customer.query(partition, range_key_condition=dates))

"""The customers repository: a tenant's customers and their orders (line items inside the order), and a
customer's orders by date through the by-customer index."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

from pynamodb.exceptions import DoesNotExist

from luxebrain.errors import NotFoundError
from luxebrain.runtime import aws_client, configured_settings, on_reset
from luxebrain.storage.items.base import update_if
from luxebrain.storage.items.customers import (
    CouponLine,
    CustomerItem,
    LineItem,
    OrderItem,
    customer_orders_index_keys,
    key_customer,
    key_order,
    orders_by_date_index_keys,
)
from luxebrain.storage.items.tenants import TenantItem, key_tenant
from luxebrain.storage.mapping import attributes_of, record_from
from luxebrain.tenancy import tenant_partition


@dataclass(frozen=True)
class Customer:
    """A customer, registered (WooCommerce id) or guest (``guest:<sha256 of e-mail>``); a deleted one is a
    tombstone. E-mail and phone are for campaigns; never log them."""

    tenant_id: str
    customer_id: str
    email: str | None = None
    phone: str | None = None
    first_name: str | None = None
    country: str | None = None
    created_gmt: str = ""
    modified_gmt: str = ""  # the store's version stamp: newer wins
    content_hash: str = ""  # the same version with the same content is a duplicate
    deleted: bool = False


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
    refunded_quantity: float = 0
    refunded_total: float = 0
    # What was kept: gross minus refunds. None on records stored before refunds were tracked (= gross).
    net_quantity: float | None = None
    net_total: float | None = None

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

    tenant_id: str
    order_id: str
    status: str
    status_class: str  # purchase | refund | cancelled | cart | other
    customer_id: str
    created_gmt: str
    currency: str = "EUR"
    billing_country: str | None = None
    total: float = 0  # what the customer was charged (gross), shipping, fees and tax included
    discount_total: float = 0
    product_total: float | None = None
    product_net_total: float | None = None  # lines net of refunds
    shipping_total: float = 0
    fee_total: float = 0
    tax_total: float = 0
    refunded_total: float = 0
    net_total: float | None = None  # total minus refunds; None on records stored before refunds were kept
    refunds: list[dict[str, Any]] = field(default_factory=list)  # [{id, amount, created_gmt, lines_known}]
    # The refunds' line items as WooCommerce's refunds endpoint gave them (a re-delivery does not ask again).
    refund_details: list[dict[str, Any]] = field(default_factory=list)
    refunds_estimated: bool = False  # a refund's lines were unknown: spread over the lines
    attribution: dict[str, Any] = field(default_factory=dict)  # WooCommerce order attribution: source, UTM
    modified_gmt: str = ""  # the store's version stamp: newer wins
    paid_gmt: str | None = None
    completed_gmt: str | None = None
    line_items: tuple[OrderLine, ...] = ()
    coupon_lines: tuple[CouponUse, ...] = ()
    content_hash: str = ""  # the same version with the same content is a duplicate
    deleted: bool = False  # a tombstone; it leaves the customer's order index
    storefront_attribution: dict[str, Any] | None = None  # the widget's visitor id and last clicked placement

    def kept_total(self) -> float:
        """The order's value net of refunds (gross for records stored before refunds were kept)."""
        return float(self.total if self.net_total is None else self.net_total)


def customer_from_item(item: CustomerItem) -> Customer:
    return record_from(Customer, item, deleted=bool(item.deleted))


def customer_item(customer: Customer) -> CustomerItem:
    """The entity of a customer (storage-internal: the ingest writes use it)."""
    return CustomerItem(
        *key_customer(customer.tenant_id, customer.customer_id), entity=CustomerItem.ENTITY, **attributes_of(customer)
    )


def order_from_item(item: OrderItem) -> Order:
    return record_from(
        Order,
        item,
        refunds=list(item.refunds or []),
        refund_details=list(item.refund_details or []),
        refunds_estimated=bool(item.refunds_estimated),
        attribution=dict(item.attribution or {}),
        line_items=tuple(record_from(OrderLine, line) for line in item.line_items or ()),
        coupon_lines=tuple(record_from(CouponUse, line) for line in item.coupon_lines or ()),
        deleted=bool(item.deleted),
    )


def order_item(order: Order) -> OrderItem:
    """The entity of an order (storage-internal: the ingest writes use it). A live order is in its customer's
    order index (gsi1) and the tenant's orders by date (gsi2); a tombstone is in neither."""
    pk, sk = key_order(order.tenant_id, order.order_id)
    index: dict[str, str] = {}
    if not order.deleted:
        gsi1pk, gsi1sk = customer_orders_index_keys(order.tenant_id, order.customer_id, order.created_gmt or "")
        gsi2pk, gsi2sk = orders_by_date_index_keys(order.tenant_id, order.created_gmt or "", order.order_id)
        index = {"gsi1pk": gsi1pk, "gsi1sk": gsi1sk, "gsi2pk": gsi2pk, "gsi2sk": gsi2sk}
    attributes = attributes_of(
        order,
        line_items=[LineItem(**attributes_of(line)) for line in order.line_items],
        coupon_lines=[CouponLine(**attributes_of(coupon)) for coupon in order.coupon_lines],
    )
    return OrderItem(pk, sk, **index, entity=OrderItem.ENTITY, **attributes)


# ----------------------------------------------------------------------------- customers
def get_customer(tenant_id: str, customer_id: str) -> Customer:
    try:
        return customer_from_item(CustomerItem.get(*key_customer(tenant_id, customer_id)))
    except DoesNotExist:
        raise NotFoundError(f"customer {customer_id} not found") from None


def iter_customers(tenant_id: str) -> Iterator[Customer]:
    """Every customer of the tenant (tombstones included), page by page."""
    return (customer_from_item(item) for item in CustomerItem.query(tenant_partition(tenant_id, "CUSTOMER")))


def count_customers(tenant_id: str) -> int:
    return CustomerItem.count(tenant_partition(tenant_id, "CUSTOMER"))


# ----------------------------------------------------------------------------- orders
def get_order(tenant_id: str, order_id: str, *, consistent: bool = False) -> Order:
    try:
        return order_from_item(OrderItem.get(*key_order(tenant_id, order_id), consistent_read=consistent))
    except DoesNotExist:
        raise NotFoundError(f"order {order_id} not found") from None


def iter_orders(tenant_id: str) -> Iterator[Order]:
    """Every order of the tenant (tombstones included), page by page."""
    return (order_from_item(item) for item in OrderItem.query(tenant_partition(tenant_id, "ORDER")))


def order_versions(tenant_id: str) -> Iterator[tuple[str, str, str]]:
    """(order id, status, modified_gmt) of every order of the tenant (tombstones included), page by page: only
    those three attributes are read back, not each order's lines and refunds."""
    items = OrderItem.query(
        tenant_partition(tenant_id, "ORDER"), attributes_to_get=["order_id", "status", "modified_gmt"]
    )
    return ((item.order_id, item.status, item.modified_gmt) for item in items)


def orders_created_since(tenant_id: str, since_gmt: str) -> Iterator[Order]:
    """The tenant's live orders created at or after ``since_gmt``, oldest first, through the by-date index: a
    read of the window only, not of the tenant's whole history."""
    if tenant_id not in _indexed_by_date:
        index_stored_orders_by_date(tenant_id)
        _indexed_by_date.add(tenant_id)
    partition, _ = orders_by_date_index_keys(tenant_id, "", "")
    # "~" sorts after every character of a GMT timestamp and an order id.
    dates = OrderItem.gsi2sk.between(since_gmt, "~")
    return (order_from_item(item) for item in OrderItem.by_date.query(partition, range_key_condition=dates))


# Tenants whose orders this execution environment has seen all in the by-date index.
_indexed_by_date: set[str] = set()
on_reset(_indexed_by_date.clear)


def index_stored_orders_by_date(tenant_id: str) -> int:
    """Once per tenant created before the by-date index: put its stored live orders in it (the tenant's flag
    says when that is done; a new tenant's orders are indexed as they are written). How many were added."""
    try:
        tenant = TenantItem.get(*key_tenant(tenant_id), consistent_read=True)
    except DoesNotExist:
        return 0  # no tenant, no orders of its own
    if tenant.orders_indexed_by_date:
        return 0
    added = 0
    for item in OrderItem.query(
        tenant_partition(tenant_id, "ORDER"), filter_condition=OrderItem.gsi2pk.does_not_exist()
    ):
        if item.deleted:
            continue
        gsi2pk, gsi2sk = orders_by_date_index_keys(tenant_id, item.created_gmt or "", item.order_id)
        # An order rewritten meanwhile by ingest is indexed (or a tombstone) by that write: left as it is.
        actions = [OrderItem.gsi2pk.set(gsi2pk), OrderItem.gsi2sk.set(gsi2sk)]
        live = (OrderItem.deleted == False) | OrderItem.deleted.does_not_exist()  # noqa: E712
        condition = OrderItem.pk.exists() & OrderItem.gsi2pk.does_not_exist() & live
        added += update_if(item, actions, condition)
    tenant.update(actions=[TenantItem.orders_indexed_by_date.set(True)])
    return added


def count_orders(tenant_id: str) -> int:
    return OrderItem.count(tenant_partition(tenant_id, "ORDER"))


def orders_of_customer(tenant_id: str, customer_id: str, *, since_gmt: str | None = None) -> Iterator[Order]:
    """A customer's orders, oldest first, through the by-customer index (created at or after ``since_gmt``).
    A deleted order leaves the index; an erased customer's orders are no longer theirs."""
    partition, _ = customer_orders_index_keys(tenant_id, customer_id, "")
    sort_key = OrderItem.gsi1sk
    # "~" sorts after every character of a GMT timestamp: the range stays within the customer's orders.
    dates = sort_key.between(f"ORDER#{since_gmt}", "ORDER#~") if since_gmt else sort_key.startswith("ORDER#")
    return (order_from_item(item) for item in OrderItem.by_customer.query(partition, range_key_condition=dates))


# ----------------------------------------------------------------------------- order summaries (training)
@dataclass(frozen=True)
class OrderSummary:
    """What training reads of every order: ids, dates, status class and the lines as kept (net of refunds)."""

    order_id: str
    customer_id: str
    created_gmt: str
    modified_gmt: str
    status_class: str
    deleted: bool
    lines: tuple[tuple[str, float, float, float], ...]  # (product id, kept quantity, unit price, kept total)


_SUMMARY_FIELDS = ("order_id", "modified_gmt", "status_class", "deleted", "customer_id", "created_gmt", "line_items")


def iter_order_summaries(tenant_id: str) -> Iterator[OrderSummary]:
    """Every order of the tenant (tombstones included), summarised, page by page.

    Read with the low-level client and a projection of the fields training needs: the read units are the same
    (DynamoDB charges for whole items) but fewer bytes cross the network and no model objects are built
    (measured 1.6x faster end to end than reading whole pynamodb items)."""
    settings = configured_settings()
    partition, _ = key_order(tenant_id, "x")
    names = {f"#f{index}": name for index, name in enumerate(_SUMMARY_FIELDS)}
    paginator = aws_client("dynamodb").get_paginator("query")
    for page in paginator.paginate(
        TableName=settings.table_name,
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": partition}},
        ExpressionAttributeNames=names,
        ProjectionExpression=", ".join(names),
    ):
        for item in page["Items"]:
            yield order_summary_from_raw(item)


def order_summary_from_raw(item: dict[str, Any]) -> OrderSummary:
    """A summary from DynamoDB's attribute-value JSON of an order (storage-internal; tests compare it with the
    entity's own reading)."""

    def text(name: str) -> str:
        return str(item.get(name, {}).get("S", ""))

    lines = []
    for entry in item.get("line_items", {}).get("L", []):
        line = entry.get("M", {})
        # Net of refunds when the record has it (records stored before refunds were kept are gross).
        lines.append(
            (
                str(line["product_id"]["S"]),
                float(line.get("net_quantity", line.get("quantity", {})).get("N", 0)),
                float(line.get("unit_price", {}).get("N", 0)),
                float(line.get("net_total", line.get("total", {})).get("N", 0)),
            )
        )
    return OrderSummary(
        order_id=text("order_id"),
        customer_id=text("customer_id"),
        created_gmt=text("created_gmt"),
        modified_gmt=text("modified_gmt"),
        status_class=text("status_class"),
        deleted=bool(item.get("deleted", {}).get("BOOL", False)),
        lines=tuple(lines),
    )


# ----------------------------------------------------------------------------- the repository a caller is given
class CustomerRepository(Protocol):
    """What the product reads of a tenant's customers and orders: a training run every order, summarised; the campaigns
    a customer by id, every customer, the orders of a window and a customer's orders; the ingest status how many
    customers and orders are stored, tombstones included (``DynamoCustomerRepository`` in the product, an in-memory one
    in the unit tier)."""

    def iter_order_summaries(self, tenant_id: str) -> Iterator[OrderSummary]: ...

    def get_customer(self, tenant_id: str, customer_id: str) -> Customer: ...

    def iter_customers(self, tenant_id: str) -> Iterator[Customer]: ...

    def count_customers(self, tenant_id: str) -> int: ...

    def count_orders(self, tenant_id: str) -> int: ...

    def orders_created_since(self, tenant_id: str, since_gmt: str) -> Iterator[Order]: ...

    def orders_of_customer(
        self, tenant_id: str, customer_id: str, *, since_gmt: str | None = None
    ) -> Iterator[Order]: ...


class DynamoCustomerRepository:
    """The customers repository on the table: this module's reads."""

    iter_order_summaries = staticmethod(iter_order_summaries)
    get_customer = staticmethod(get_customer)
    iter_customers = staticmethod(iter_customers)
    count_customers = staticmethod(count_customers)
    count_orders = staticmethod(count_orders)
    orders_created_since = staticmethod(orders_created_since)
    orders_of_customer = staticmethod(orders_of_customer)


def customer_repository() -> DynamoCustomerRepository:
    """The product's customers repository (stateless: the table is bound once per execution environment)."""
    return _REPOSITORY


_REPOSITORY = DynamoCustomerRepository()

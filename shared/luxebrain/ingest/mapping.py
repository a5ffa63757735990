"""WooCommerce payloads → storage items. Pure: no AWS here.

What is kept is what the models and campaigns use (see the issue): orders with their lines, coupons,
currency, customer (guests keyed by a hash of their e-mail), billing country and dates; products and
variations (a variation is a product with ``parent_id``); customers with the contact details campaigns need.
"""

from __future__ import annotations

import hashlib
import json
from decimal import Decimal
from typing import Any

from luxebrain.storage.models import (
    CouponItem,
    CouponLine,
    CustomerItem,
    LineItem,
    OrderItem,
    ProductItem,
    customer_orders_index_keys,
    key_coupon,
    key_customer,
    key_order,
    key_product,
)
from luxebrain.woocommerce.payloads import (
    CouponPayload,
    CustomerPayload,
    OrderPayload,
    ProductPayload,
)

# What each WooCommerce order status means to the models and campaigns.
PURCHASE_STATUSES = frozenset({"processing", "completed"})
REFUND_STATUSES = frozenset({"refunded"})
CANCELLED_STATUSES = frozenset({"cancelled", "failed", "trash"})
CART_STATUSES = frozenset({"checkout-draft", "pending"})  # carts for the abandoned-cart campaigns
STATUS_CLASSES = ("purchase", "refund", "cancelled", "cart", "other")
ANONYMOUS_GUEST = "guest:anonymous"


def status_class(status: str) -> str:
    status = status.lower().removeprefix("wc-")
    if status in PURCHASE_STATUSES:
        return "purchase"
    if status in REFUND_STATUSES:
        return "refund"
    if status in CANCELLED_STATUSES:
        return "cancelled"
    if status in CART_STATUSES:
        return "cart"
    return "other"  # on-hold and custom statuses: not a purchase yet, not a cart to chase


def guest_customer_id(email: str | None) -> str:
    """Guests have no WooCommerce id; the same e-mail is the same guest, without storing it in the key."""
    normalised = (email or "").strip().lower()
    if not normalised:
        return ANONYMOUS_GUEST
    return "guest:" + hashlib.sha256(normalised.encode("utf-8")).hexdigest()


def content_hash(payload: Any) -> str:
    """Hash of what we store from a payload: the same content twice is one write, not two."""
    canonical = json.dumps(payload.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:32]


def _number(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


def _text(value: str | None, limit: int = 500) -> str | None:
    return value[:limit] if value else None


def order_customer_id(order: OrderPayload) -> str:
    return str(order.customer_id) if order.customer_id > 0 else guest_customer_id(order.billing.email)


def order_item(tenant_id: str, order: OrderPayload) -> OrderItem:
    pk, sk = key_order(tenant_id, str(order.id))
    customer_id = order_customer_id(order)
    gsi1pk, gsi1sk = customer_orders_index_keys(tenant_id, customer_id, order.date_created_gmt or "")
    lines = [
        LineItem(
            line_id=str(line.id),
            product_id=str(line.product_id),
            variation_id=str(line.variation_id) if line.variation_id else None,
            name=_text(line.name, 200),
            sku=_text(line.sku, 100),
            quantity=line.quantity,
            unit_price=_number(line.price)
            if line.price is not None
            else (float(line.subtotal or 0) / line.quantity if line.quantity else 0.0),
            subtotal=_number(line.subtotal) or 0.0,
            total=_number(line.total) or 0.0,
        )
        for line in order.line_items
    ]
    coupons = [CouponLine(code=c.code.lower(), discount=_number(c.discount) or 0.0) for c in order.coupon_lines]
    return OrderItem(
        pk,
        sk,
        gsi1pk=gsi1pk,
        gsi1sk=gsi1sk,
        entity=OrderItem.ENTITY,
        tenant_id=tenant_id,
        order_id=str(order.id),
        status=order.status.lower().removeprefix("wc-"),
        status_class=status_class(order.status),
        currency=order.currency.upper(),
        customer_id=customer_id,
        billing_country=(order.billing.country or "").upper() or None,
        total=_number(order.total) or 0.0,
        discount_total=_number(order.discount_total) or 0.0,
        created_gmt=order.date_created_gmt,
        modified_gmt=order.date_modified_gmt or order.date_created_gmt or "",
        paid_gmt=order.date_paid_gmt,
        completed_gmt=order.date_completed_gmt,
        line_items=lines,
        coupon_lines=coupons,
        content_hash=content_hash(order),
        deleted=False,
    )


def guest_customer_item(tenant_id: str, order: OrderPayload) -> CustomerItem | None:
    """A guest's customer record, from the billing details of their order (None for registered customers
    and for guests without an e-mail)."""
    if order.customer_id > 0 or not (order.billing.email or "").strip():
        return None
    customer_id = guest_customer_id(order.billing.email)
    pk, sk = key_customer(tenant_id, customer_id)
    details = {
        "email": order.billing.email,
        "phone": order.billing.phone,
        "first_name": order.billing.first_name,
        "country": order.billing.country,
    }
    return CustomerItem(
        pk,
        sk,
        entity=CustomerItem.ENTITY,
        tenant_id=tenant_id,
        customer_id=customer_id,
        email=_text((order.billing.email or "").strip(), 320),
        phone=_text(order.billing.phone, 40),
        first_name=_text(order.billing.first_name, 100),
        country=(order.billing.country or "").upper() or None,
        created_gmt=order.date_created_gmt or "",
        modified_gmt=order.date_modified_gmt or order.date_created_gmt or "",
        content_hash=hashlib.sha256(json.dumps(details, sort_keys=True).encode()).hexdigest()[:32],
        deleted=False,
    )


def customer_item(tenant_id: str, customer: CustomerPayload, received_at: str) -> CustomerItem:
    pk, sk = key_customer(tenant_id, str(customer.id))
    email = (customer.email or customer.billing.email or "").strip() or None
    return CustomerItem(
        pk,
        sk,
        entity=CustomerItem.ENTITY,
        tenant_id=tenant_id,
        customer_id=str(customer.id),
        email=_text(email, 320),
        phone=_text(customer.billing.phone, 40),
        first_name=_text(customer.first_name or customer.billing.first_name, 100),
        country=(customer.billing.country or "").upper() or None,
        created_gmt=customer.date_created_gmt or "",
        modified_gmt=customer.date_modified_gmt or customer.date_created_gmt or received_at,
        content_hash=content_hash(customer),
        deleted=False,
    )


def product_item(tenant_id: str, product: ProductPayload, received_at: str) -> ProductItem:
    pk, sk = key_product(tenant_id, str(product.id))
    variation = product.is_variation
    return ProductItem(
        pk,
        sk,
        entity=ProductItem.ENTITY,
        tenant_id=tenant_id,
        product_id=str(product.id),
        parent_id=str(product.parent_id) if variation and product.parent_id else None,
        product_type="variation" if variation else product.type,
        name=(product.name or "")[:300],
        sku=_text(product.sku, 100),
        status=product.status,
        categories=[term.name for term in product.categories if term.name][:50],
        tags=[term.name for term in product.tags if term.name][:50],
        price=_number(product.price),
        regular_price=_number(product.regular_price),
        sale_price=_number(product.sale_price),
        cost=_number(product.cost()),
        stock_quantity=product.stock_quantity,
        stock_status=product.stock_status or "instock",
        modified_gmt=product.date_modified_gmt or received_at,
        content_hash=content_hash(product),
        deleted=False,
    )


def coupon_item(tenant_id: str, coupon: CouponPayload, received_at: str) -> CouponItem:
    pk, sk = key_coupon(tenant_id, str(coupon.id))
    return CouponItem(
        pk,
        sk,
        entity=CouponItem.ENTITY,
        tenant_id=tenant_id,
        coupon_id=str(coupon.id),
        code=coupon.code.lower(),
        discount_type=coupon.discount_type,
        amount=_number(coupon.amount) or 0.0,
        expires_gmt=coupon.date_expires_gmt,
        usage_count=coupon.usage_count,
        modified_gmt=coupon.date_modified_gmt or received_at,
        content_hash=content_hash(coupon),
        deleted=False,
    )

"""WooCommerce payloads → the store records of luxebrain.storage. Pure: no AWS here.

What is kept is what the models and campaigns use (see the issue): orders with their lines, coupons,
currency, customer (guests keyed by a hash of their e-mail), billing country and dates; products and
variations (a variation is a product with ``parent_id``); customers with the contact details campaigns need.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from luxebrain.storage.catalogue import Coupon, Product
from luxebrain.storage.customers import CouponUse, Customer, Order, OrderLine
from luxebrain.storefront.meta import attribution_from_meta
from luxebrain.woocommerce.payloads import (
    CouponPayload,
    CustomerPayload,
    LineItemPayload,
    OrderPayload,
    ProductPayload,
    RefundPayload,
)

CENT = Decimal("0.01")
QUANTITY_TOLERANCE = Decimal("0.000001")


class UnusableOrder(ValueError):
    """An order whose figures contradict themselves (a refund larger than its line...): never stored half-right.
    The message names line and refund ids only, no personal data."""


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


@dataclass
class _LineRefund:
    quantity: Decimal = Decimal(0)
    total: Decimal = Decimal(0)


def _line_refunds(order: OrderPayload) -> tuple[dict[int, _LineRefund], bool]:
    """Refunded quantity and amount per order line, and whether any refund had to be estimated.

    A refund with its line items (from ``/orders/{id}/refunds``) is applied exactly. A refund known only by its
    amount (the ``{id, total}`` WooCommerce puts on the order) is taken from what is left of the order as charged
    (products, shipping, fees and tax) in proportion, so only the products' share of it is spread over the lines,
    in proportion to what is left of them, quantities alike; the order is marked ``refunds_estimated``."""
    lines = {line.id: line for line in order.line_items}
    refunded = {line.id: _LineRefund() for line in order.line_items}
    estimated: list[RefundPayload] = []
    for refund in order.refunds:
        if refund.line_items is None:
            estimated.append(refund)
            continue
        for refund_line in refund.line_items:
            line_id = refund_line.order_line_id() or _line_by_product(order.line_items, refund_line)
            if line_id is None or line_id not in lines:
                raise UnusableOrder(f"refund {refund.id} returns a line the order does not have")
            amount = refund_line.refund_total if refund_line.refund_total is not None else refund_line.total
            refunded[line_id].quantity += abs(refund_line.quantity)
            refunded[line_id].total += abs(amount or Decimal(0))
    for line_id, refund in refunded.items():
        line = lines[line_id]
        if refund.quantity > line.quantity + QUANTITY_TOLERANCE:
            raise UnusableOrder(f"refunds of line {line_id} exceed its quantity ({refund.quantity} > {line.quantity})")
        if refund.total > (line.total or Decimal(0)) + CENT:
            raise UnusableOrder(f"refunds of line {line_id} exceed its total")
    exact_refunds = sum(
        (refund.refunded_amount() for refund in order.refunds if refund.line_items is not None), Decimal(0)
    )
    order_left = (order.total or Decimal(0)) - exact_refunds
    for refund in estimated:
        remaining = {
            line_id: (lines[line_id].total or Decimal(0)) - refund_so_far.total
            for line_id, refund_so_far in refunded.items()
        }
        left = sum(remaining.values(), Decimal(0))
        # Products' share of what is left (1 when the order's total cannot carry shipping or tax beside them).
        product_share = left / order_left if order_left > left else Decimal(1)
        amount = min(refund.refunded_amount() * product_share, left)
        order_left -= refund.refunded_amount()
        if left <= 0 or amount <= 0:
            continue
        for line_id, value in remaining.items():
            share = amount * value / left
            line = lines[line_id]
            refunded[line_id].total += share
            if line.total:
                refunded[line_id].quantity += line.quantity * share / line.total
    return refunded, bool(estimated)


def _line_by_product(lines: list[LineItemPayload], refund_line: object) -> int | None:
    """A refund line that does not name its order line: the one order line of the same product, if unique."""
    product_id = getattr(refund_line, "product_id", 0)
    variation_id = getattr(refund_line, "variation_id", 0)
    matches = [line.id for line in lines if line.product_id == product_id and line.variation_id == variation_id]
    return matches[0] if len(matches) == 1 else None


def order_from_payload(tenant_id: str, order: OrderPayload) -> Order:
    """The order as stored: gross and net (of refunds) per line and in total, shipping, fees and tax apart from
    product revenue. Raises :class:`UnusableOrder` when refunds contradict the order."""
    customer_id = order_customer_id(order)
    refunded, estimated = _line_refunds(order)
    lines = []
    for line in order.line_items:
        refund = refunded[line.id]
        net_quantity = max(line.quantity - refund.quantity, Decimal(0))
        net_total = max((line.total or Decimal(0)) - refund.total, Decimal(0))
        lines.append(
            OrderLine(
                line_id=str(line.id),
                product_id=str(line.product_id),
                variation_id=str(line.variation_id) if line.variation_id else None,
                name=_text(line.name, 200),
                sku=_text(line.sku, 100),
                quantity=_amount(line.quantity),
                unit_price=_number(line.price)
                if line.price is not None
                else (float(line.subtotal or 0) / float(line.quantity) if line.quantity else 0.0),
                subtotal=_number(line.subtotal) or 0.0,
                total=_number(line.total) or 0.0,
                refunded_quantity=_amount(refund.quantity),
                refunded_total=_money(refund.total),
                net_quantity=_amount(net_quantity),
                net_total=_money(net_total),
            )
        )
    total = order.total or Decimal(0)
    refunded_total = sum((refund.refunded_amount() for refund in order.refunds), Decimal(0))
    if refunded_total > total + CENT:
        raise UnusableOrder(f"refunds exceed the order's total ({refunded_total} > {total})")
    coupons = tuple(CouponUse(code=c.code.lower(), discount=_number(c.discount) or 0.0) for c in order.coupon_lines)
    return Order(
        tenant_id=tenant_id,
        order_id=str(order.id),
        status=order.status.lower().removeprefix("wc-"),
        status_class=status_class(order.status),
        currency=order.currency.upper(),
        customer_id=customer_id,
        billing_country=(order.billing.country or "").upper() or None,
        total=_number(total) or 0.0,
        discount_total=_number(order.discount_total) or 0.0,
        product_total=_money(sum((line.total or Decimal(0) for line in order.line_items), Decimal(0))),
        product_net_total=round(sum(line.net_total for line in lines), 2),
        shipping_total=_money(order.shipping_total or Decimal(0)),
        fee_total=_money(sum((fee.total or Decimal(0) for fee in order.fee_lines), Decimal(0))),
        tax_total=_money(order.total_tax or Decimal(0)),
        refunded_total=_money(refunded_total),
        net_total=_money(max(total - refunded_total, Decimal(0))),
        refunds=[
            {
                "id": refund.id,
                "amount": _money(refund.refunded_amount()),
                "created_gmt": refund.date_created_gmt,
                "lines_known": refund.line_items is not None,
            }
            for refund in order.refunds
        ],
        refund_details=[
            {
                "id": refund.id,
                "amount": str(refund.refunded_amount()),
                "line_items": [
                    {
                        "refunded_item_id": refund_line.order_line_id()
                        or _line_by_product(order.line_items, refund_line),
                        "quantity": str(refund_line.quantity),
                        "refund_total": str(
                            abs(
                                refund_line.refund_total
                                if refund_line.refund_total is not None
                                else (refund_line.total or Decimal(0))
                            )
                        ),
                    }
                    for refund_line in refund.line_items
                ],
            }
            for refund in order.refunds
            if refund.line_items is not None
        ],
        refunds_estimated=estimated,
        attribution=order.attribution(),
        created_gmt=order.date_created_gmt,
        modified_gmt=order.date_modified_gmt or order.date_created_gmt or "",
        paid_gmt=order.date_paid_gmt,
        completed_gmt=order.date_completed_gmt,
        line_items=tuple(lines),
        coupon_lines=coupons,
        content_hash=content_hash(order),
        deleted=False,
        storefront_attribution=attribution_from_meta(order.meta_data),
    )


def _money(value: Decimal) -> float:
    return float(value.quantize(CENT))


def _amount(value: Decimal) -> float:
    """A quantity as stored: whole numbers stay whole, decimals keep six places."""
    return float(value.quantize(QUANTITY_TOLERANCE)) if value != value.to_integral_value() else int(value)


def guest_customer_from_order(tenant_id: str, order: OrderPayload) -> Customer | None:
    """A guest's customer record, from the billing details of their order (None for registered customers
    and for guests without an e-mail)."""
    if order.customer_id > 0 or not (order.billing.email or "").strip():
        return None
    customer_id = guest_customer_id(order.billing.email)
    details = {
        "email": order.billing.email,
        "phone": order.billing.phone,
        "first_name": order.billing.first_name,
        "country": order.billing.country,
    }
    return Customer(
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


def customer_from_payload(tenant_id: str, customer: CustomerPayload, received_at: str) -> Customer:
    email = (customer.email or customer.billing.email or "").strip() or None
    return Customer(
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


def product_from_payload(
    tenant_id: str, product: ProductPayload, received_at: str, store_id: str | None = None
) -> Product:
    variation = product.is_variation
    return Product(
        tenant_id=tenant_id,
        product_id=str(product.id),
        store_id=store_id,
        parent_id=str(product.parent_id) if variation and product.parent_id else None,
        product_type="variation" if variation else product.type,
        name=(product.name or "")[:300],
        sku=_text(product.sku, 100),
        status=product.status,
        categories=tuple([term.name for term in product.categories if term.name][:50]),
        tags=tuple([term.name for term in product.tags if term.name][:50]),
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


def coupon_from_payload(tenant_id: str, coupon: CouponPayload, received_at: str) -> Coupon:
    return Coupon(
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

"""Pydantic models of the WooCommerce REST v3 / webhook payloads LuxeBrain uses.

Tolerant of what we do not use (WooCommerce and its plugins add fields all the time: ``extra="ignore"``),
strict on what we use: ids are positive integers, dates parse, money parses as a Decimal, so a payload
that is not the declared shape fails validation with a reason instead of storing nonsense.
"""

from __future__ import annotations

import html
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator

COST_META_KEYS = ("_wc_cog_cost", "_alg_wc_cog_cost", "_cost")
ATTRIBUTION_META_PREFIX = "_wc_order_attribution_"
ATTRIBUTION_FIELDS = frozenset(
    {
        "source_type",
        "referrer",
        "utm_source",
        "utm_medium",
        "utm_campaign",
        "utm_content",
        "utm_term",
        "utm_id",
        "device_type",
        "session_entry",
    }
)


def _parse_gmt(value: Any) -> str | None:
    """WooCommerce's ``*_gmt`` dates (``2026-01-31T10:00:00``, no offset) normalised to that same form,
    so they compare correctly as strings in DynamoDB conditions."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ValueError("must be a date string like 2026-01-31T10:00:00")
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"{value!r} is not an ISO date") from None
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment.isoformat(timespec="seconds")


def _parse_money(value: Any) -> Decimal | None:
    """Money arrives as strings ("12.50"), sometimes as numbers, and "" for "not set"."""
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float | Decimal):
        raise ValueError("must be a number or a numeric string")
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise ValueError(f"{value!r} is not an amount") from None
    if not amount.is_finite():
        raise ValueError("must be a finite amount")
    return amount


def _parse_quantity(value: Any) -> Decimal:
    """Line quantities: whole numbers usually, decimals for goods sold by weight or length (and some apps);
    never negative, NaN or infinite in an order's own lines."""
    if isinstance(value, bool) or not isinstance(value, str | int | float | Decimal):
        raise ValueError("must be a number")
    try:
        quantity = Decimal(str(value))
    except InvalidOperation:
        raise ValueError(f"{value!r} is not a quantity") from None
    if not quantity.is_finite():
        raise ValueError("must be a finite quantity")
    return quantity


def _decode_entities(value: Any) -> Any:
    """WooCommerce sends names HTML-escaped (``&ndash;``, ``&amp;``): decoded once here, at ingest, so what is
    stored is the text itself and templates escape it once when they render it."""
    return html.unescape(value) if isinstance(value, str) else value


GmtDate = Annotated[str | None, BeforeValidator(_parse_gmt)]
Quantity = Annotated[Decimal, BeforeValidator(_parse_quantity)]
Text = Annotated[str | None, BeforeValidator(_decode_entities)]
Money = Annotated[Decimal | None, BeforeValidator(_parse_money)]
PositiveId = Annotated[int, Field(ge=1, le=2**53)]
OptionalId = Annotated[int, Field(ge=0, le=2**53)]


class _Payload(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)


class Term(_Payload):
    name: Annotated[str, BeforeValidator(_decode_entities)] = ""


class MetaData(_Payload):
    key: str = ""
    value: Any = None


class Address(_Payload):
    first_name: Text = None
    email: str | None = None
    phone: str | None = None
    country: str | None = Field(default=None, max_length=2)


class DeletedResource(_Payload):
    """What WooCommerce sends for ``*.deleted``: just the id."""

    id: PositiveId


class LineItemPayload(_Payload):
    id: PositiveId
    name: Text = None
    product_id: OptionalId = 0
    variation_id: OptionalId = 0
    quantity: Annotated[Quantity, Field(ge=0, le=1_000_000)]
    subtotal: Money = Decimal(0)
    total: Money = Decimal(0)
    price: Money = None
    sku: str | None = None


class RefundLinePayload(_Payload):
    """A line of a refund (``GET /orders/{id}/refunds``): quantity and total are negative, and the order's line
    it returns is named by ``_refunded_item_id`` in its meta data (``refunded_item_id`` in some versions)."""

    id: OptionalId = 0
    product_id: OptionalId = 0
    variation_id: OptionalId = 0
    quantity: Quantity = Decimal(0)
    total: Money = Decimal(0)
    refund_total: Money = None
    refunded_item_id: OptionalId | None = None
    meta_data: list[MetaData] = Field(default_factory=list)

    def order_line_id(self) -> int | None:
        if self.refunded_item_id:
            return self.refunded_item_id
        for meta in self.meta_data:
            if meta.key == "_refunded_item_id":
                try:
                    return int(str(meta.value))
                except ValueError:
                    return None
        return None


class RefundPayload(_Payload):
    """A refund of an order. On the order itself WooCommerce sends only ``{id, reason, total}`` (total
    negative); the refunds endpoint adds ``amount`` (positive) and the refunded ``line_items``."""

    id: PositiveId
    reason: Text = None
    total: Money = None
    amount: Money = None
    date_created_gmt: GmtDate = None
    line_items: list[RefundLinePayload] | None = Field(default=None, max_length=2000)

    def refunded_amount(self) -> Decimal:
        """The refund's size as a positive amount, from whichever field this shape carries."""
        if self.amount is not None:
            return abs(self.amount)
        return abs(self.total or Decimal(0))


class ShippingLinePayload(_Payload):
    method_id: str | None = None
    total: Money = Decimal(0)


class FeeLinePayload(_Payload):
    name: Text = None
    total: Money = Decimal(0)


class CouponLinePayload(_Payload):
    code: str = Field(min_length=1, max_length=200)
    discount: Money = Decimal(0)


class OrderPayload(_Payload):
    id: PositiveId
    status: str = Field(min_length=1, max_length=40)
    # Required although WooCommerce always sends them: they tell an order from another resource's body.
    currency: str = Field(min_length=3, max_length=3)
    date_created_gmt: GmtDate
    date_modified_gmt: GmtDate = None
    date_paid_gmt: GmtDate = None
    date_completed_gmt: GmtDate = None
    discount_total: Money = Decimal(0)
    shipping_total: Money = Decimal(0)
    total_tax: Money = Decimal(0)
    total: Money
    customer_id: OptionalId = 0
    billing: Address = Field(default_factory=Address)
    line_items: list[LineItemPayload] = Field(max_length=2000)
    coupon_lines: list[CouponLinePayload] = Field(default_factory=list, max_length=200)
    shipping_lines: list[ShippingLinePayload] = Field(default_factory=list, max_length=200)
    fee_lines: list[FeeLinePayload] = Field(default_factory=list, max_length=200)
    refunds: list[RefundPayload] = Field(default_factory=list, max_length=500)
    meta_data: list[MetaData] = Field(default_factory=list, max_length=2000)

    def attribution(self) -> dict[str, str]:
        """What WooCommerce's order attribution recorded (``_wc_order_attribution_*`` meta): source type,
        referrer, UTM fields, device. Kept for campaign attribution."""
        found: dict[str, str] = {}
        for meta in self.meta_data:
            field_name = meta.key.removeprefix(ATTRIBUTION_META_PREFIX)
            scalar = isinstance(meta.value, str | int | float) and not isinstance(meta.value, bool)
            if meta.key.startswith(ATTRIBUTION_META_PREFIX) and field_name in ATTRIBUTION_FIELDS and scalar:
                found[field_name] = str(meta.value)[:300]
        return found

    @field_validator("date_created_gmt")
    @classmethod
    def _created_is_required(cls, value: str | None) -> str:
        if value is None:
            raise ValueError("an order needs date_created_gmt")
        return value


class ProductPayload(_Payload):
    """A product, or a variation (``type == "variation"`` with ``parent_id``)."""

    id: PositiveId
    parent_id: OptionalId = 0
    type: str = Field(default="simple", min_length=1, max_length=40)
    name: Annotated[str, BeforeValidator(_decode_entities)] = ""
    sku: str | None = None
    status: str = "publish"
    price: Money  # always present (maybe ""): tells a product from another resource's body
    regular_price: Money = None
    sale_price: Money = None
    date_modified_gmt: GmtDate = None
    stock_quantity: int | None = None
    stock_status: str | None = "instock"
    categories: list[Term] = Field(default_factory=list)
    tags: list[Term] = Field(default_factory=list)
    meta_data: list[MetaData] = Field(default_factory=list)

    @property
    def is_variation(self) -> bool:
        return self.type == "variation" or (self.parent_id > 0 and self.type not in ("simple", "variable"))

    def cost(self) -> Decimal | None:
        """Unit cost from the common cost-of-goods plugins' meta keys, when present and numeric."""
        for meta in self.meta_data:
            if meta.key in COST_META_KEYS:
                try:
                    return _parse_money(meta.value)
                except ValueError:
                    return None
        return None


class CustomerPayload(_Payload):
    id: PositiveId
    email: str | None  # always present: tells a customer from another resource's body
    first_name: Text = None
    role: str | None = None
    date_created_gmt: GmtDate = None
    date_modified_gmt: GmtDate = None
    billing: Address = Field(default_factory=Address)


class CouponPayload(_Payload):
    id: PositiveId
    code: str = Field(min_length=1, max_length=200)
    amount: Money = Decimal(0)
    discount_type: str = "fixed_cart"
    date_modified_gmt: GmtDate = None
    date_expires_gmt: GmtDate = None
    usage_count: int = 0


PAYLOAD_MODELS: dict[str, type[_Payload]] = {
    "order": OrderPayload,
    "product": ProductPayload,
    "customer": CustomerPayload,
    "coupon": CouponPayload,
}

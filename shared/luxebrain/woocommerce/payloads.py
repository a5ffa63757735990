"""Pydantic models of the WooCommerce REST v3 / webhook payloads LuxeBrain uses.

Tolerant of what we do not use (WooCommerce and its plugins add fields all the time: ``extra="ignore"``),
strict on what we use: ids are positive integers, dates parse, money parses as a Decimal, so a payload
that is not the declared shape fails validation with a reason instead of storing nonsense.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator

COST_META_KEYS = ("_wc_cog_cost", "_alg_wc_cog_cost", "_cost")


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


GmtDate = Annotated[str | None, BeforeValidator(_parse_gmt)]
Money = Annotated[Decimal | None, BeforeValidator(_parse_money)]
PositiveId = Annotated[int, Field(ge=1, le=2**53)]
OptionalId = Annotated[int, Field(ge=0, le=2**53)]


class _Payload(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)


class Term(_Payload):
    name: str = ""


class MetaData(_Payload):
    key: str = ""
    value: Any = None


class Address(_Payload):
    first_name: str | None = None
    email: str | None = None
    phone: str | None = None
    country: str | None = Field(default=None, max_length=2)


class DeletedResource(_Payload):
    """What WooCommerce sends for ``*.deleted``: just the id."""

    id: PositiveId


class LineItemPayload(_Payload):
    id: PositiveId
    name: str | None = None
    product_id: OptionalId = 0
    variation_id: OptionalId = 0
    quantity: Annotated[int, Field(ge=0, le=1_000_000)]
    subtotal: Money = Decimal(0)
    total: Money = Decimal(0)
    price: Money = None
    sku: str | None = None


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
    total: Money
    customer_id: OptionalId = 0
    billing: Address = Field(default_factory=Address)
    line_items: list[LineItemPayload] = Field(max_length=2000)
    coupon_lines: list[CouponLinePayload] = Field(default_factory=list, max_length=200)

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
    name: str = ""
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
    first_name: str | None = None
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

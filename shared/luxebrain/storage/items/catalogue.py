"""A store's catalogue: products (and variations) and coupons."""

from __future__ import annotations

from pynamodb.attributes import (
    BooleanAttribute,
    ListAttribute,
    NumberAttribute,
    UnicodeAttribute,
)

from luxebrain.storage.items.base import BaseItem
from luxebrain.tenancy import tenant_partition


class ProductItem(BaseItem):
    ENTITY = "product"
    product_id = UnicodeAttribute()
    store_id = UnicodeAttribute(null=True)  # the store it came from: price writes go there
    parent_id = UnicodeAttribute(null=True)  # set for variations
    product_type = UnicodeAttribute(default="simple")  # simple | variable | variation | ...
    name = UnicodeAttribute(default="")
    sku = UnicodeAttribute(null=True)
    status = UnicodeAttribute(default="publish")
    categories = ListAttribute(of=UnicodeAttribute, default=list)
    tags = ListAttribute(of=UnicodeAttribute, default=list)
    price = NumberAttribute(null=True)
    regular_price = NumberAttribute(null=True)
    sale_price = NumberAttribute(null=True)
    cost = NumberAttribute(null=True)
    stock_quantity = NumberAttribute(null=True)
    stock_status = UnicodeAttribute(default="instock")
    modified_gmt = UnicodeAttribute(default="")
    content_hash = UnicodeAttribute(default="")
    deleted = BooleanAttribute(default=False)


def key_product(tenant_id: str, product_id: str) -> tuple[str, str]:
    return tenant_partition(tenant_id, "PRODUCT"), product_id


class CouponItem(BaseItem):
    """A store coupon (from coupon.* webhooks and the back-fill); campaigns and pricing read it."""

    ENTITY = "coupon"
    coupon_id = UnicodeAttribute()
    code = UnicodeAttribute(default="")
    discount_type = UnicodeAttribute(default="fixed_cart")
    amount = NumberAttribute(default=0)
    expires_gmt = UnicodeAttribute(null=True)
    usage_count = NumberAttribute(default=0)
    modified_gmt = UnicodeAttribute(default="")
    content_hash = UnicodeAttribute(default="")
    deleted = BooleanAttribute(default=False)


def key_coupon(tenant_id: str, coupon_id: str) -> tuple[str, str]:
    return tenant_partition(tenant_id, "COUPON"), coupon_id


class ProductSupplyItem(BaseItem):
    """The merchant's own supply terms of a product (lead time, supplier): kept apart from the product, which
    the store's webhooks and the back-fill replace as a whole."""

    ENTITY = "product_supply"
    product_id = UnicodeAttribute()
    lead_time_days = NumberAttribute(null=True)  # None: the store-wide default applies
    supplier = UnicodeAttribute(null=True)
    updated_by = UnicodeAttribute(null=True)


def key_product_supply(tenant_id: str, product_id: str) -> tuple[str, str]:
    return tenant_partition(tenant_id, "PRODUCT_SUPPLY"), product_id

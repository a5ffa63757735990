"""The catalogue repository: a tenant's products (and variations) and coupons as the stores sent them, and the
merchant's own supply terms of each product.

Reads return frozen domain objects; ingest writes them through :func:`luxebrain.storage.ingest.put_if_newer`."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from pynamodb.exceptions import DoesNotExist

from luxebrain.errors import NotFoundError
from luxebrain.storage.items.catalogue import (
    CouponItem,
    ProductItem,
    ProductSupplyItem,
    key_coupon,
    key_product,
    key_product_supply,
)
from luxebrain.storage.mapping import attributes_of, record_from
from luxebrain.tenancy import tenant_partition


@dataclass(frozen=True)
class Product:
    """A product or a variation (``parent_id`` set) of the tenant's catalogue; a deleted one is a tombstone.
    Amounts are as stored (int or float); None where the store sent none."""

    tenant_id: str
    product_id: str
    store_id: str | None = None  # the store it came from (None for records stored before stores were tracked)
    parent_id: str | None = None
    product_type: str = "simple"  # simple | variable | variation | ...
    name: str = ""
    sku: str | None = None
    status: str = "publish"
    categories: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    price: float | None = None
    regular_price: float | None = None
    sale_price: float | None = None
    cost: float | None = None
    stock_quantity: float | None = None
    stock_status: str = "instock"
    modified_gmt: str = ""  # the store's version stamp: newer wins
    content_hash: str = ""  # the same version with the same content is a duplicate
    deleted: bool = False


@dataclass(frozen=True)
class Coupon:
    """A store coupon (from coupon.* webhooks and the back-fill)."""

    tenant_id: str
    coupon_id: str
    code: str = ""
    discount_type: str = "fixed_cart"
    amount: float = 0
    expires_gmt: str | None = None
    usage_count: int = 0
    modified_gmt: str = ""
    content_hash: str = ""
    deleted: bool = False


def product_from_item(item: ProductItem) -> Product:
    return record_from(
        Product, item, categories=tuple(item.categories or ()), tags=tuple(item.tags or ()), deleted=bool(item.deleted)
    )


def product_item(product: Product) -> ProductItem:
    """The entity of a product (storage-internal: the ingest writes use it)."""
    attributes = attributes_of(product, categories=list(product.categories), tags=list(product.tags))
    return ProductItem(*key_product(product.tenant_id, product.product_id), entity=ProductItem.ENTITY, **attributes)


def coupon_from_item(item: CouponItem) -> Coupon:
    return record_from(Coupon, item, deleted=bool(item.deleted))


def coupon_item(coupon: Coupon) -> CouponItem:
    """The entity of a coupon (storage-internal: the ingest writes use it)."""
    return CouponItem(
        *key_coupon(coupon.tenant_id, coupon.coupon_id), entity=CouponItem.ENTITY, **attributes_of(coupon)
    )


# ----------------------------------------------------------------------------- products
def get_product(tenant_id: str, product_id: str) -> Product:
    try:
        return product_from_item(ProductItem.get(*key_product(tenant_id, product_id)))
    except DoesNotExist:
        raise NotFoundError(f"product {product_id} not found") from None


def iter_products(tenant_id: str) -> Iterator[Product]:
    """Every product of the tenant (tombstones included), page by page."""
    return (product_from_item(item) for item in ProductItem.query(tenant_partition(tenant_id, "PRODUCT")))


def iter_variations(tenant_id: str, parent_id: str) -> Iterator[Product]:
    """The variations of a variable product (tombstones included)."""
    variations = ProductItem.query(
        tenant_partition(tenant_id, "PRODUCT"), filter_condition=ProductItem.parent_id == parent_id
    )
    return (product_from_item(item) for item in variations)


def count_products(tenant_id: str) -> int:
    return ProductItem.count(tenant_partition(tenant_id, "PRODUCT"))


# ----------------------------------------------------------------------------- supply terms
@dataclass(frozen=True)
class ProductSupply:
    """The merchant's supply terms of a product; None where the merchant set none."""

    tenant_id: str
    product_id: str
    lead_time_days: int | None = None
    supplier: str | None = None
    updated_at: datetime | None = None
    updated_by: str | None = None


def _supply_from_item(item: ProductSupplyItem) -> ProductSupply:
    lead_time = None if item.lead_time_days is None else int(item.lead_time_days)
    return record_from(ProductSupply, item, lead_time_days=lead_time)


def get_product_supply(tenant_id: str, product_id: str) -> ProductSupply:
    """The product's supply terms (none set: every field None)."""
    try:
        return _supply_from_item(ProductSupplyItem.get(*key_product_supply(tenant_id, product_id)))
    except DoesNotExist:
        return ProductSupply(tenant_id=tenant_id, product_id=product_id)


def product_supplies(tenant_id: str) -> dict[str, ProductSupply]:
    """Every product's supply terms the merchant set, by product id (one query of the partition)."""
    items = ProductSupplyItem.query(tenant_partition(tenant_id, "PRODUCT_SUPPLY"))
    return {item.product_id: _supply_from_item(item) for item in items}


def save_product_supply(
    tenant_id: str, product_id: str, *, lead_time_days: int | None, supplier: str | None, actor: str
) -> ProductSupply:
    """Replace the product's supply terms with these."""
    item = ProductSupplyItem(
        *key_product_supply(tenant_id, product_id),
        entity=ProductSupplyItem.ENTITY,
        tenant_id=tenant_id,
        product_id=product_id,
        lead_time_days=lead_time_days,
        supplier=supplier,
        updated_by=actor,
    )
    item.save()
    return _supply_from_item(item)


# ----------------------------------------------------------------------------- coupons
def get_coupon(tenant_id: str, coupon_id: str) -> Coupon:
    try:
        return coupon_from_item(CouponItem.get(*key_coupon(tenant_id, coupon_id)))
    except DoesNotExist:
        raise NotFoundError(f"coupon {coupon_id} not found") from None


# ----------------------------------------------------------------------------- the repository a caller is given
class CatalogueRepository(Protocol):
    """What a training run and the inventory advice read of a tenant's catalogue, how many products the ingest status
    shows (tombstones included), and the supply terms the merchant sets (``DynamoCatalogueRepository`` in the product,
    an in-memory one in the unit tier)."""

    def iter_products(self, tenant_id: str) -> Iterator[Product]: ...

    def get_product(self, tenant_id: str, product_id: str) -> Product: ...

    def count_products(self, tenant_id: str) -> int: ...

    def get_product_supply(self, tenant_id: str, product_id: str) -> ProductSupply: ...

    def product_supplies(self, tenant_id: str) -> dict[str, ProductSupply]: ...

    def save_product_supply(
        self, tenant_id: str, product_id: str, *, lead_time_days: int | None, supplier: str | None, actor: str
    ) -> ProductSupply: ...


class DynamoCatalogueRepository:
    """The catalogue repository on the table: this module's reads and the supply terms' write."""

    iter_products = staticmethod(iter_products)
    get_product = staticmethod(get_product)
    count_products = staticmethod(count_products)
    get_product_supply = staticmethod(get_product_supply)
    product_supplies = staticmethod(product_supplies)
    save_product_supply = staticmethod(save_product_supply)


def catalogue_repository() -> DynamoCatalogueRepository:
    """The product's catalogue repository (stateless: the table is bound once per execution environment)."""
    return _REPOSITORY


_REPOSITORY = DynamoCatalogueRepository()

"""The catalogue repository: a tenant's products (and variations) as the stores sent them."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from pynamodb.exceptions import DoesNotExist

from luxebrain.errors import NotFoundError
from luxebrain.runtime import configured_settings
from luxebrain.storage.items.catalogue import ProductItem, key_product
from luxebrain.tenancy import tenant_partition


@dataclass(frozen=True)
class Product:
    """A product or a variation (``parent_id`` set) of the tenant's catalogue; a deleted one is a tombstone.
    Amounts are as stored (int or float); None where the store sent none."""

    product_id: str
    store_id: str | None  # the store it came from (None for records stored before stores were tracked)
    parent_id: str | None
    product_type: str  # simple | variable | variation | ...
    name: str
    sku: str | None
    status: str
    categories: tuple[str, ...]
    tags: tuple[str, ...]
    price: float | None
    regular_price: float | None
    sale_price: float | None
    cost: float | None
    stock_quantity: float | None
    stock_status: str
    modified_gmt: str
    deleted: bool


def _product(item: ProductItem) -> Product:
    return Product(
        product_id=item.product_id,
        store_id=item.store_id,
        parent_id=item.parent_id,
        product_type=item.product_type,
        name=item.name,
        sku=item.sku,
        status=item.status,
        categories=tuple(item.categories or ()),
        tags=tuple(item.tags or ()),
        price=item.price,
        regular_price=item.regular_price,
        sale_price=item.sale_price,
        cost=item.cost,
        stock_quantity=item.stock_quantity,
        stock_status=item.stock_status,
        modified_gmt=item.modified_gmt,
        deleted=bool(item.deleted),
    )


def get_product(tenant_id: str, product_id: str) -> Product:
    configured_settings()
    try:
        return _product(ProductItem.get(*key_product(tenant_id, product_id)))
    except DoesNotExist:
        raise NotFoundError(f"product {product_id} not found") from None


def iter_products(tenant_id: str) -> Iterator[Product]:
    """Every product of the tenant (tombstones included), page by page."""
    configured_settings()
    return (_product(item) for item in ProductItem.query(tenant_partition(tenant_id, "PRODUCT")))


def count_products(tenant_id: str) -> int:
    configured_settings()
    return ProductItem.count(tenant_partition(tenant_id, "PRODUCT"))

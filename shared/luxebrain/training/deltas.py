"""The ingest-facing half of the training snapshot (luxebrain.training.snapshot): where a tenant's snapshot, its
price history and its deltas live in the models bucket, and the JSON delta that ingest writes for every processed
batch of orders and products (a product's record is its prices and stock at that version: the history pricing
trains on).

Plain JSON and no numpy: the webhook processor and the back-fill write a delta on every batch, and neither should
load the columnar snapshot code (numpy) on a cold start to do it.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from luxebrain.tenancy import validate_tenant_id

if TYPE_CHECKING:
    from luxebrain.adapters import ObjectStore
    from luxebrain.storage.catalogue import Product
    from luxebrain.storage.customers import Order, OrderSummary
    from luxebrain.storage.training import TrainingRepository

SNAPSHOT_FORMAT = 1
PURCHASE = "purchase"


def snapshot_key(tenant_id: str) -> str:
    return f"tenants/{validate_tenant_id(tenant_id)}/training-data/snapshot.npz"


def delta_prefix(tenant_id: str) -> str:
    return f"tenants/{validate_tenant_id(tenant_id)}/training-data/deltas/"


def price_history_key(tenant_id: str) -> str:
    """The tenant's price and stock history: kept apart from the order snapshot, which can be rebuilt from the
    table, because the table holds only each product's current version."""
    return f"tenants/{validate_tenant_id(tenant_id)}/training-data/price-history.npz"


# ----------------------------------------------------------------------------- order records (plain JSON)
def order_record_head(order: Order | OrderSummary) -> dict[str, Any]:
    """An order record's fields but its lines (an order and the table's summary of it carry the same)."""
    return {
        "order_id": order.order_id,
        "modified_gmt": order.modified_gmt or order.created_gmt,
        "purchase": order.status_class == PURCHASE and not order.deleted,
        "customer_id": order.customer_id,
        "created_gmt": order.created_gmt,
    }


def order_record(order: Order) -> dict[str, Any]:
    """What training needs of one order, as plain JSON (the unit of a delta)."""
    return {
        **order_record_head(order),
        # Net of refunds: a returned unit is no sale, and a fully refunded line is no purchase at all.
        "lines": [
            [line.product_id, line.kept_quantity(), float(line.unit_price), line.kept_total()]
            for line in (order.line_items or [])
            if line.kept_quantity() > 0
        ],
    }


def product_record(product: Product) -> dict[str, Any] | None:
    """A product version's prices and stock, as plain JSON (None for variations: order lines name the parent
    product, and so does the pricing model)."""
    if product.parent_id or product.product_type == "variation":
        return None
    out_of_stock = product.stock_status == "outofstock"
    return {
        "product_id": product.product_id,
        "at": product.modified_gmt,
        "price": None if product.deleted else _amount(product.price),
        "regular_price": _amount(product.regular_price),
        "sale_price": _amount(product.sale_price),
        "stock_quantity": 0.0 if out_of_stock and product.stock_quantity is None else _amount(product.stock_quantity),
    }


def _amount(value: float | None) -> float | None:
    return None if value is None else float(value)


def append_training_delta(
    tenant_id: str,
    orders: Iterable[Order],
    *,
    files: ObjectStore,
    training: TrainingRepository,
    products: Iterable[Product] = (),
    now: datetime | None = None,
) -> str | None:
    """Ingest's hook: record orders and product versions it just wrote so the next training run merges them
    without re-reading the table, and mark the tenant's data changed in ``training``. One PUT to ``files`` (the
    models bucket) and one small UpdateItem per call; returns the key (None when there was nothing to record)."""
    records = [order_record(order) for order in orders]
    versions = [record for record in map(product_record, products) if record is not None and record["at"]]
    if not records and not versions:
        return None
    now = now or datetime.now(UTC)
    key = write_delta(tenant_id, records, files=files, now=now, products=versions)
    training.mark_tenant_data_changed(tenant_id, now)
    return key


def write_delta(
    tenant_id: str,
    records: list[dict[str, Any]],
    *,
    files: ObjectStore,
    now: datetime,
    products: list[dict[str, Any]] | None = None,
) -> str:
    """One delta object of order records and product records (a unique key per call, so concurrent writers
    never overwrite)."""
    key = f"{delta_prefix(tenant_id)}{now:%Y%m%dT%H%M%S%fZ}-{secrets.token_hex(4)}.json"
    content: dict[str, Any] = {"format": SNAPSHOT_FORMAT, "orders": records}
    if products:
        content["products"] = products
    files.put(key, json.dumps(content, separators=(",", ":")).encode(), content_type="application/json")
    return key


def invalidate_snapshot(tenant_id: str, *, files: ObjectStore) -> None:
    """Drop a tenant's snapshot when a change could not be recorded as a delta: the next training run then
    rebuilds it from the table, so nothing ingested is ever missing from training."""
    files.delete(snapshot_key(tenant_id))

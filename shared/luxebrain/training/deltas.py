"""The ingest-facing half of the training snapshot (luxebrain.training.snapshot): where a tenant's snapshot and
its deltas live in the models bucket, and the JSON delta that ingest writes for every processed batch of orders.

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
    from luxebrain.storage.customers import Order, OrderSummary

SNAPSHOT_FORMAT = 1
PURCHASE = "purchase"


def snapshot_key(tenant_id: str) -> str:
    return f"tenants/{validate_tenant_id(tenant_id)}/training-data/snapshot.npz"


def delta_prefix(tenant_id: str) -> str:
    return f"tenants/{validate_tenant_id(tenant_id)}/training-data/deltas/"


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


def append_training_delta(
    tenant_id: str, orders: Iterable[Order], *, files: ObjectStore, now: datetime | None = None
) -> str | None:
    """Ingest's hook: record orders it just wrote so the next training run merges them without re-reading the
    table, and mark the tenant's data changed. One PUT to ``files`` (the models bucket) and one small UpdateItem
    per call; returns the key."""
    from luxebrain.storage.training import mark_tenant_data_changed

    records = [order_record(order) for order in orders]
    if not records:
        return None
    now = now or datetime.now(UTC)
    key = write_delta(tenant_id, records, files=files, now=now)
    mark_tenant_data_changed(tenant_id, now)
    return key


def write_delta(tenant_id: str, records: list[dict[str, Any]], *, files: ObjectStore, now: datetime) -> str:
    """One delta object of order records (a unique key per call, so concurrent writers never overwrite)."""
    key = f"{delta_prefix(tenant_id)}{now:%Y%m%dT%H%M%S%fZ}-{secrets.token_hex(4)}.json"
    body = json.dumps({"format": SNAPSHOT_FORMAT, "orders": records}, separators=(",", ":")).encode()
    files.put(key, body, content_type="application/json")
    return key


def invalidate_snapshot(tenant_id: str, *, files: ObjectStore) -> None:
    """Drop a tenant's snapshot when a change could not be recorded as a delta: the next training run then
    rebuilds it from the table, so nothing ingested is ever missing from training."""
    files.delete(snapshot_key(tenant_id))

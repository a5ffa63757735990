"""A compact per-tenant training snapshot in S3, kept current incrementally.

Why: reading a tenant's orders from DynamoDB costs read units for every byte of every order on every run
(docs/data-model.md, "Training snapshot", has the measured figures). The snapshot holds only what training
needs, columnar and compressed (``numpy.savez_compressed``, no pickle), and is updated from small delta files:

- ``tenants/{t}/training-data/snapshot.npz``: orders (id, modified_gmt, purchase?, customer, time) and their
  lines (order index, product, quantity, unit price, total), with string dictionaries for ids.
- ``tenants/{t}/training-data/deltas/<time>-<random>.json``: orders and product versions changed since, written
  by ingest through :func:`append_training_delta` (one PUT per processed batch).
- ``tenants/{t}/training-data/price-history.npz``: every product version's prices and stock seen so far (from the
  deltas and each run's catalogue). Never rebuilt from the table, which holds only the current version.

A run reads the snapshot (one GET), lists and reads the deltas, merges them (newest ``modified_gmt`` per order
wins, so duplicates and out-of-order deltas are harmless), writes the merged snapshot and deletes the deltas it
consumed. When there is no snapshot, or it was rebuilt longer ago than ``training_snapshot_rebuild_days``, it is
rebuilt from the table (the safety net for any delta that was never written).

The ingest-facing half (:func:`append_training_delta`, the S3 keys) lives in luxebrain.training.deltas, free of
numpy; this module is the worker's half.
"""

from __future__ import annotations

import io
import json
import math
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import numpy as np

from luxebrain.adapters import MissingObject, ObjectStore
from luxebrain.runtime import configured_settings
from luxebrain.training.deltas import (
    SNAPSHOT_FORMAT,
    delta_prefix,
    order_record_head,
    price_history_key,
    product_record,
    snapshot_key,
)

if TYPE_CHECKING:
    import pandas as pd

    from luxebrain.storage.catalogue import Product
    from luxebrain.storage.customers import CustomerRepository, OrderSummary
    from luxebrain.storage.pricing import PriceDecision
    from luxebrain.storage.training import TrainingRepository
    from luxebrain.training.sources import TrainingSources


def seed_training_snapshot(tenant_id: str, *, files: ObjectStore, now: datetime | None = None) -> bool:
    """Write an empty snapshot for a tenant that has no orders yet (call it when a store is connected, before
    ingest writes anything). With ingest appending deltas from then on, the snapshot is complete from the start
    and no training run ever needs the full table query until the weekly safety-net rebuild. Returns False
    (and writes nothing) if the tenant already has a snapshot."""
    now = now or datetime.now(UTC)
    key = snapshot_key(tenant_id)
    if files.exists(key):
        return False
    empty = OrderSnapshot.from_records([], built_at=now.astimezone(UTC).isoformat())
    files.put(key, empty.to_bytes())
    return True


# ----------------------------------------------------------------------------- the columnar snapshot
_ORDER_ARRAYS = ("order_ids", "order_modified", "order_purchase", "order_customer", "order_created")
_LINE_ARRAYS = ("line_order", "line_product", "line_quantity", "line_unit_price", "line_total")


@dataclass
class OrderSnapshot:
    """Columnar orders and lines. Strings are bytes arrays (no pickle); ids are codes into dictionaries."""

    order_ids: np.ndarray  # S
    order_modified: np.ndarray  # S (ISO modified_gmt; compares like time)
    order_purchase: np.ndarray  # bool: paid and not deleted (else a tombstone with no lines)
    order_customer: np.ndarray  # int32 code into customers
    order_created: np.ndarray  # S (ISO created_gmt)
    line_order: np.ndarray  # int32 index into the order arrays
    line_product: np.ndarray  # int32 code into products
    line_quantity: np.ndarray
    line_unit_price: np.ndarray
    line_total: np.ndarray
    customers: np.ndarray  # S dictionary
    products: np.ndarray  # S dictionary
    built_at: str = ""  # when last rebuilt from the table (ISO, UTC)
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def order_count(self) -> int:
        return int(self.order_ids.size)

    @property
    def line_count(self) -> int:
        return int(self.line_order.size)

    # ------------------------------------------------------------------ build
    @classmethod
    def from_records(cls, records: list[dict[str, Any]], *, built_at: str = "") -> OrderSnapshot:
        customers: dict[str, int] = {}
        products: dict[str, int] = {}
        order_customer = np.empty(len(records), dtype=np.int32)
        line_order: list[int] = []
        line_product: list[int] = []
        values: list[tuple[float, float, float]] = []
        for index, record in enumerate(records):
            order_customer[index] = customers.setdefault(str(record["customer_id"]), len(customers))
            if not record["purchase"]:
                continue
            for product_id, quantity, unit_price, total in record["lines"]:
                line_order.append(index)
                line_product.append(products.setdefault(str(product_id), len(products)))
                values.append((quantity, unit_price, total))
        numbers = np.array(values, dtype=np.float64).reshape(-1, 3)
        return cls(
            order_ids=_bytes_array([str(record["order_id"]) for record in records]),
            order_modified=_bytes_array([str(record["modified_gmt"]) for record in records]),
            order_purchase=np.array([bool(record["purchase"]) for record in records], dtype=bool),
            order_customer=order_customer,
            order_created=_bytes_array([str(record["created_gmt"]) for record in records]),
            line_order=np.array(line_order, dtype=np.int32),
            line_product=np.array(line_product, dtype=np.int32),
            line_quantity=numbers[:, 0].copy(),
            line_unit_price=numbers[:, 1].copy(),
            line_total=numbers[:, 2].copy(),
            customers=_bytes_array(list(customers)),
            products=_bytes_array(list(products)),
            built_at=built_at,
        )

    # ------------------------------------------------------------------ merge
    def merged_with(self, records: list[dict[str, Any]]) -> tuple[OrderSnapshot, int]:
        """A snapshot with ``records`` applied (newest ``modified_gmt`` per order wins) and how many orders
        changed. Records not newer than what the snapshot holds are ignored."""
        newest: dict[str, dict[str, Any]] = {}
        for record in records:
            order_id = str(record["order_id"])
            if order_id not in newest or str(record["modified_gmt"]) > str(newest[order_id]["modified_gmt"]):
                newest[order_id] = record
        if not newest:
            return self, 0
        position = {order_id: index for index, order_id in enumerate(self.order_ids.astype(str).tolist())}
        keep = np.ones(self.order_count, dtype=bool)
        accepted: list[dict[str, Any]] = []
        for order_id, record in newest.items():
            index = position.get(order_id)
            if index is not None:
                if self.order_modified[index].decode() >= str(record["modified_gmt"]):
                    continue  # stale or duplicate delta
                keep[index] = False
            accepted.append(record)
        if not accepted:
            return self, 0
        return _concat(self._select(keep), OrderSnapshot.from_records(accepted), built_at=self.built_at), len(accepted)

    def _select(self, keep_orders: np.ndarray) -> OrderSnapshot:
        new_index = np.cumsum(keep_orders, dtype=np.int64) - 1
        keep_lines = keep_orders[self.line_order] if self.line_count else np.zeros(0, dtype=bool)
        return OrderSnapshot(
            order_ids=self.order_ids[keep_orders],
            order_modified=self.order_modified[keep_orders],
            order_purchase=self.order_purchase[keep_orders],
            order_customer=self.order_customer[keep_orders],
            order_created=self.order_created[keep_orders],
            line_order=new_index[self.line_order[keep_lines]].astype(np.int32),
            line_product=self.line_product[keep_lines],
            line_quantity=self.line_quantity[keep_lines],
            line_unit_price=self.line_unit_price[keep_lines],
            line_total=self.line_total[keep_lines],
            customers=self.customers,
            products=self.products,
            built_at=self.built_at,
        )

    # ------------------------------------------------------------------ bytes
    def to_bytes(self) -> bytes:
        buffer = io.BytesIO()
        header = json.dumps({"format": SNAPSHOT_FORMAT, "built_at": self.built_at}).encode()
        np.savez_compressed(
            buffer,
            header=np.frombuffer(header, dtype=np.uint8),
            **{name: getattr(self, name) for name in (*_ORDER_ARRAYS, *_LINE_ARRAYS, "customers", "products")},
        )
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, content: bytes) -> OrderSnapshot:
        with np.load(io.BytesIO(content), allow_pickle=False) as npz:
            header = _checked_header(npz, "training snapshot")
            arrays = {name: npz[name] for name in (*_ORDER_ARRAYS, *_LINE_ARRAYS, "customers", "products")}
        return cls(**arrays, built_at=str(header.get("built_at", "")))

    # ------------------------------------------------------------------ frames
    def order_lines_frame(self, category_of: dict[str, str] | None = None) -> pd.DataFrame:
        """The ``order_lines`` frame of luxebrain.ml.dataset: lines of paid orders only."""
        import pandas as pd

        orders = self.line_order
        # Parsed once per order, not per line.
        created = pd.to_datetime(self.order_created.astype(str), utc=True, format="ISO8601")
        frame = pd.DataFrame(
            {
                "order_id": self.order_ids.astype(str)[orders].astype(object),
                "customer_id": self.customers.astype(str)[self.order_customer[orders]].astype(object),
                "product_id": self.products.astype(str)[self.line_product].astype(object),
                "ordered_at": created[orders],
                "quantity": self.line_quantity.astype(np.float64),
                "unit_price": self.line_unit_price.astype(np.float64),
                "line_total": self.line_total.astype(np.float64),
            }
        )
        if category_of is not None:
            frame["category"] = frame["product_id"].map(category_of).fillna("__uncategorised__").astype(object)
        return frame


def _checked_header(npz: Any, what: str) -> dict[str, Any]:
    """The file's JSON header, refused when it is not this code's format."""
    header = json.loads(npz["header"].tobytes())
    if header.get("format") != SNAPSHOT_FORMAT:
        raise ValueError(f"unsupported {what} format {header.get('format')!r}")
    return header


def _bytes_array(values: list[str]) -> np.ndarray:
    if not values:
        return np.zeros(0, dtype="S1")
    return np.array([value.encode("utf-8") for value in values], dtype=np.bytes_)


def _union(first: np.ndarray, second: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A dictionary holding both, and the code maps from each into it."""
    both = np.concatenate([first.astype(np.bytes_), second.astype(np.bytes_)])
    union, inverse = np.unique(both, return_inverse=True)
    return union, inverse[: first.size].astype(np.int32), inverse[first.size :].astype(np.int32)


def _concat(first: OrderSnapshot, second: OrderSnapshot, *, built_at: str) -> OrderSnapshot:
    customers, first_customer, second_customer = _union(first.customers, second.customers)
    products, first_product, second_product = _union(first.products, second.products)
    strings = ("order_ids", "order_modified", "order_created")
    joined_strings = {
        name: np.concatenate([getattr(first, name).astype(np.bytes_), getattr(second, name).astype(np.bytes_)])
        for name in strings
    }
    return OrderSnapshot(
        **joined_strings,
        order_purchase=np.concatenate([first.order_purchase, second.order_purchase]),
        order_customer=np.concatenate(
            [first_customer[first.order_customer], second_customer[second.order_customer]]
        ).astype(np.int32),
        line_order=np.concatenate([first.line_order, second.line_order + first.order_count]).astype(np.int32),
        line_product=np.concatenate([first_product[first.line_product], second_product[second.line_product]]).astype(
            np.int32
        ),
        line_quantity=np.concatenate([first.line_quantity, second.line_quantity]),
        line_unit_price=np.concatenate([first.line_unit_price, second.line_unit_price]),
        line_total=np.concatenate([first.line_total, second.line_total]),
        customers=customers,
        products=products,
        built_at=built_at,
    )


# ----------------------------------------------------------------------------- prices and stock over time
_HISTORY_AMOUNTS = ("price", "regular_price", "sale_price", "stock_quantity")


@dataclass
class PriceHistory:
    """Each product version's prices and stock: (product id, time of the version) -> amounts (NaN: none sent).

    Versions come from ingest's deltas and from each run's catalogue, so the history grows even when a delta
    was lost; the same version seen twice is one entry."""

    versions: dict[tuple[str, str], tuple[float, ...]] = field(default_factory=dict)

    def merge(self, records: Iterable[Mapping[str, Any]]) -> int:
        """Add product records (``deltas.product_record``); returns how many versions were new."""
        added = 0
        for record in records:
            at = str(record.get("at") or "")
            if not at:
                continue
            key = (str(record["product_id"]), at)
            if key not in self.versions:
                added += 1
            self.versions[key] = tuple(_float(record.get(name)) for name in _HISTORY_AMOUNTS)
        return added

    def to_bytes(self) -> bytes:
        keys = sorted(self.versions)
        buffer = io.BytesIO()
        header = json.dumps({"format": SNAPSHOT_FORMAT}).encode()
        np.savez_compressed(
            buffer,
            header=np.frombuffer(header, dtype=np.uint8),
            product=_bytes_array([product for product, _ in keys]),
            at=_bytes_array([at for _, at in keys]),
            amounts=np.array([self.versions[key] for key in keys], dtype=np.float64).reshape(-1, len(_HISTORY_AMOUNTS)),
        )
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, content: bytes) -> PriceHistory:
        with np.load(io.BytesIO(content), allow_pickle=False) as npz:
            _checked_header(npz, "price history")  # refuses another format
            products, times, amounts = npz["product"].astype(str), npz["at"].astype(str), npz["amounts"]
        return cls({(p, t): tuple(row) for p, t, row in zip(products.tolist(), times.tolist(), amounts, strict=True)})

    def frames(self, decisions: Iterable[PriceDecision] = ()) -> tuple[pd.DataFrame, pd.DataFrame]:
        """``price_history`` (product_id, changed_at, price: the active price from then on) and ``stock_history``
        (product_id, recorded_at, stock_quantity) as ``luxebrain.ml.pricing.train`` reads them, with the price
        changes of recorded decisions (applied, rolled back, a sale's scheduled end) among the price records."""
        import pandas as pd

        prices: list[tuple[str, str, float]] = []
        stock: list[tuple[str, str, float]] = []
        for (product_id, at), amounts in self.versions.items():
            price, _, _, quantity = amounts
            if math.isfinite(price) and price > 0:
                prices.append((product_id, at, price))
            if math.isfinite(quantity):
                stock.append((product_id, at, quantity))
        prices.extend(decision_price_changes(decisions))
        price_frame = pd.DataFrame(prices, columns=["product_id", "changed_at", "price"])
        price_frame["changed_at"] = pd.to_datetime(price_frame["changed_at"], utc=True, format="ISO8601")
        stock_frame = pd.DataFrame(stock, columns=["product_id", "recorded_at", "stock_quantity"])
        stock_frame["recorded_at"] = pd.to_datetime(stock_frame["recorded_at"], utc=True, format="ISO8601")
        return price_frame, stock_frame


def decision_price_changes(decisions: Iterable[PriceDecision]) -> list[tuple[str, str, float]]:
    """(product id, time, active price from then on) for each price change the platform made on a product:
    an applied suggestion (a switchback test's legs among them), a sale's scheduled end, a rollback. Variations
    are left out, as in the order lines."""
    changes: list[tuple[str, str, float]] = []
    for decision in decisions:
        record = decision.change_record or {}
        if decision.variation_id or decision.status not in ("applied", "rolled_back") or not record:
            continue
        before = _float(decision.suggestion.get("current_price"))
        changes.append((decision.product_id, str(record["applied_at"]), _float(record.get("suggested_price"))))
        sale_end = (record.get("written") or {}).get("date_on_sale_to_gmt")
        if sale_end and math.isfinite(before):
            changes.append((decision.product_id, _utc_text(sale_end), before))
        rollback = decision.rollback_record or {}
        if decision.status == "rolled_back" and rollback.get("applied_at") and math.isfinite(before):
            changes.append((decision.product_id, str(rollback["applied_at"]), before))
    return [change for change in changes if math.isfinite(change[2]) and change[2] > 0]


def _utc_text(value: str) -> str:
    """WooCommerce's *_gmt times carry no zone: they are UTC."""
    return value if value.endswith("Z") or "+" in value[10:] else value + "Z"


def _read_price_history(files: ObjectStore, tenant_id: str, stats: ReadStats) -> PriceHistory:
    # Listed first: the worker may list only under tenants/, so a GET of a missing key is a 403, not a 404.
    key = price_history_key(tenant_id)
    stats.s3_lists += 1
    if not any(stored.key == key for stored in files.objects(key)):
        return PriceHistory()
    body = files.get(key)
    stats.s3_gets += 1
    stats.s3_bytes_read += len(body)
    return PriceHistory.from_bytes(body)


# ----------------------------------------------------------------------------- the worker's read
@dataclass
class ReadStats:
    """What one read of a tenant's training data cost."""

    source: str = ""  # "snapshot" (+ deltas) or "table" (full query, snapshot rebuilt)
    s3_gets: int = 0
    s3_puts: int = 0
    s3_lists: int = 0
    s3_deletes: int = 0
    s3_bytes_read: int = 0
    dynamodb_items: int = 0
    deltas_applied: int = 0
    orders_changed: int = 0
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class TrainingData:
    order_lines: pd.DataFrame
    products: pd.DataFrame
    stats: ReadStats
    price_history: pd.DataFrame | None = None  # product_id, changed_at, price
    stock_history: pd.DataFrame | None = None  # product_id, recorded_at, stock_quantity


def product_frame(items: Iterable[Product]) -> pd.DataFrame:
    """The ``products`` frame of luxebrain.ml.dataset from the catalogue (variations and deleted ones left out:
    order lines name the parent product)."""
    import pandas as pd

    rows = []
    for item in items:
        if item.deleted or item.parent_id or item.product_type == "variation":
            continue
        rows.append(
            {
                "product_id": item.product_id,
                "name": item.name or "",
                "category": (item.categories[0] if item.categories else "__uncategorised__"),
                "price": _float(item.price),
                "regular_price": _float(item.regular_price if item.regular_price is not None else item.price),
                "stock_quantity": _float(item.stock_quantity),
                "in_stock": item.stock_status != "outofstock",
                "published": item.status == "publish",
                "cost": _float(item.cost),
            }
        )
    columns = ["product_id", "name", "category", "price", "regular_price", "stock_quantity", "in_stock"]
    frame = pd.DataFrame(rows, columns=[*columns, "published", "cost"])
    return frame.astype(
        {
            "product_id": object,
            "name": object,
            "category": object,
            "price": "float64",
            "regular_price": "float64",
            "stock_quantity": "float64",
            "in_stock": bool,
            "published": bool,
            "cost": "float64",
        }
    )


def _float(value: Any) -> float:
    return float(value) if value is not None else float("nan")


def load_training_data(
    tenant_id: str,
    *,
    files: ObjectStore,
    training: TrainingRepository,
    sources: TrainingSources,
    now: datetime | None = None,
) -> TrainingData:
    """One read of a tenant's data into the standard frames, through the snapshot (rebuilt from ``sources``'
    orders when due) and ``sources``' catalogue and price decisions.

    The snapshot is trusted to be current only for tenants whose ingest records deltas (their training state
    has a ``data_changed_at``); for any other tenant every run re-reads the table, so no order is ever missed.
    """
    started = time.perf_counter()
    now = now or datetime.now(UTC)
    settings = configured_settings()
    stats = ReadStats()
    state = training.get_training_state(tenant_id)
    incremental = state is not None and state.data_changed_at is not None
    rebuild_after = timedelta(days=settings.training_snapshot_rebuild_days) if incremental else None
    catalogue = list(sources.catalogue.iter_products(tenant_id))
    snapshot, history = refresh_snapshot(
        tenant_id,
        files=files,
        customers=sources.customers,
        now=now,
        stats=stats,
        rebuild_after=rebuild_after,
        catalogue=catalogue,
    )
    products = product_frame(catalogue)
    category_of = dict(zip(products["product_id"], products["category"], strict=True))
    order_lines = snapshot.order_lines_frame(category_of)
    price_history, stock_history = history.frames(sources.decisions.iter_decisions(tenant_id))
    stats.seconds = round(time.perf_counter() - started, 3)
    return TrainingData(order_lines, products, stats, price_history=price_history, stock_history=stock_history)


def refresh_snapshot(
    tenant_id: str,
    *,
    files: ObjectStore,
    customers: CustomerRepository,
    now: datetime,
    stats: ReadStats | None = None,
    rebuild_after: timedelta | None = None,
    catalogue: Iterable[Product] = (),
) -> tuple[OrderSnapshot, PriceHistory]:
    """The tenant's snapshot brought up to date and saved: deltas merged, or rebuilt from ``customers``' orders
    (the table) when there
    is none, it is older than ``rebuild_after``, or ``rebuild_after`` is None (no incremental updates); and its
    price history with the deltas' product versions and the ``catalogue``'s current ones added (saved when it
    grew)."""
    stats = stats or ReadStats()
    # Deltas are listed before anything is read: only those are deleted afterwards, so a delta written
    # meanwhile is kept for the next run (re-applying one is harmless).
    delta_keys = sorted(stored.key for stored in files.objects(delta_prefix(tenant_id)))
    stats.s3_lists += _requests(len(delta_keys), S3_LIST_PAGE, at_least=1)
    snapshot = _read_snapshot(files, tenant_id, stats)
    history = _read_price_history(files, tenant_id, stats)
    # Read even when the orders are rebuilt from the table: their product versions exist nowhere else.
    records: list[dict[str, Any]] = []
    versions: list[dict[str, Any]] = []
    for key in delta_keys:
        body = files.get(key)
        stats.s3_gets += 1
        stats.s3_bytes_read += len(body)
        content = json.loads(body)
        records.extend(content["orders"])
        versions.extend(content.get("products", []))
    due = snapshot is None or rebuild_after is None or _older_than(snapshot.built_at, now - rebuild_after)
    if due:
        snapshot = rebuild_from_table(tenant_id, customers=customers, now=now, stats=stats)
        stats.source = "table"
    else:
        assert snapshot is not None
        snapshot, stats.orders_changed = snapshot.merged_with(records)
        stats.deltas_applied = len(delta_keys)
        stats.source = "snapshot"
    if due or stats.orders_changed:
        files.put(snapshot_key(tenant_id), snapshot.to_bytes())
        stats.s3_puts += 1
    current = [record for record in map(product_record, catalogue) if record is not None]
    if history.merge([*versions, *current]):
        files.put(price_history_key(tenant_id), history.to_bytes())
        stats.s3_puts += 1
    files.delete_many(delta_keys)
    stats.s3_deletes += _requests(len(delta_keys), S3_DELETE_BATCH)
    return snapshot, history


S3_LIST_PAGE = 1000  # keys per ListObjectsV2 page
S3_DELETE_BATCH = 1000  # keys per DeleteObjects request


def _requests(keys: int, per_request: int, *, at_least: int = 0) -> int:
    """How many S3 requests ``keys`` keys take at ``per_request`` a request (for the read's cost figures)."""
    return max(math.ceil(keys / per_request), at_least)


def rebuild_from_table(
    tenant_id: str, *, customers: CustomerRepository, now: datetime, stats: ReadStats | None = None
) -> OrderSnapshot:
    """The full query: every order of the tenant, read once (summarised: no whole items), into a new snapshot."""
    records = [record_from_summary(order) for order in customers.iter_order_summaries(tenant_id)]
    if stats is not None:
        stats.dynamodb_items += len(records)
    return OrderSnapshot.from_records(records, built_at=now.astimezone(UTC).isoformat())


def record_from_summary(order: OrderSummary) -> dict[str, Any]:
    """An order record from the table's summary of an order (the record ``deltas.order_record`` makes)."""
    return {**order_record_head(order), "lines": [list(line) for line in order.lines if line[1] > 0]}


def _read_snapshot(files: ObjectStore, tenant_id: str, stats: ReadStats) -> OrderSnapshot | None:
    try:
        body = files.get(snapshot_key(tenant_id))
    except MissingObject:
        stats.s3_gets += 1
        return None
    stats.s3_gets += 1
    stats.s3_bytes_read += len(body)
    try:
        return OrderSnapshot.from_bytes(body)
    except (ValueError, KeyError, OSError):
        return None  # unreadable or old format: rebuilt from the table


def _older_than(built_at: str, moment: datetime) -> bool:
    try:
        return datetime.fromisoformat(built_at) < moment
    except ValueError:
        return True

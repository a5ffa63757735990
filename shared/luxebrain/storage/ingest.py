"""The ingest repository: the one newer-wins write of a store's records, rejected deliveries and back-fill
checkpoints.

Every store record (product, coupon, customer, order) is written by :func:`put_if_newer`, conditional on the
store's ``modified_gmt`` and the content hash, so duplicates, replays and out-of-order deliveries are harmless.
What the ingest processor reads and writes of the table is :class:`IngestRepository`, which it is given
(``DynamoIngestRepository`` from :func:`ingest_repository` in the product, an in-memory one in the unit tier).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol

from pydantic import BaseModel
from pynamodb.exceptions import DoesNotExist, PutError, UpdateError

from luxebrain.runtime import configured_settings
from luxebrain.storage.catalogue import (
    Coupon,
    Product,
    coupon_from_item,
    coupon_item,
    iter_variations,
    product_from_item,
    product_item,
)
from luxebrain.storage.customers import (
    Customer,
    Order,
    customer_from_item,
    customer_item,
    get_order,
    order_from_item,
    order_item,
)
from luxebrain.storage.items.base import is_condition_failure
from luxebrain.storage.items.catalogue import CouponItem, ProductItem, key_coupon, key_product
from luxebrain.storage.items.customers import CustomerItem, OrderItem, key_customer, key_order
from luxebrain.storage.items.ingest import (
    IngestCheckpointItem,
    RejectedEventItem,
    WebhookTopicActivityItem,
    key_ingest_checkpoint,
    key_rejected_event,
    key_webhook_topic_activity,
)
from luxebrain.storage.mapping import attributes_of, record_from
from luxebrain.tenancy import tenant_partition

StoreRecord = Product | Customer | Order | Coupon
_StoreItem = ProductItem | CustomerItem | OrderItem | CouponItem


def _item_of(record: StoreRecord) -> _StoreItem:
    if isinstance(record, Order):
        return order_item(record)
    if isinstance(record, Product):
        return product_item(record)
    if isinstance(record, Customer):
        return customer_item(record)
    return coupon_item(record)


# ----------------------------------------------------------------------------- store records
def put_if_newer(record: StoreRecord, *, lift_tombstone: bool = False) -> bool:
    """Write a store record unless the stored one is newer or the same content: the exactly-once rule.

    Returns True when written. An older ``modified_gmt`` never overwrites a newer one; the same version with
    the same content hash is a duplicate and writes nothing. ``lift_tombstone`` (a restore, un-trash) also
    overwrites a tombstone whatever its date: the tombstone is dated by our receipt time, and the store's
    clock may be behind ours.
    """
    return _conditional_put(record, lift_tombstone=lift_tombstone, return_previous=False).written


@dataclass(frozen=True)
class PutOutcome:
    written: bool
    added: bool  # written where nothing live was stored (none, or a tombstone): the catalogue grew by one


def put_if_newer_reporting(record: StoreRecord, *, lift_tombstone: bool = False) -> PutOutcome:
    """:func:`put_if_newer`, also saying whether the write added a live record (the previous version comes back
    with the same PutItem, so the caller needs no read first to count what the catalogue holds)."""
    return _conditional_put(record, lift_tombstone=lift_tombstone, return_previous=True)


def _conditional_put(record: StoreRecord, *, lift_tombstone: bool, return_previous: bool) -> PutOutcome:
    item = _item_of(record)
    model = type(item)
    condition = model.pk.does_not_exist()
    if lift_tombstone:
        condition = condition | (model.deleted == True)  # noqa: E712 - a pynamodb condition, not a comparison
    condition = (
        condition
        | (model.modified_gmt < item.modified_gmt)
        | ((model.modified_gmt == item.modified_gmt) & (model.content_hash != item.content_hash))
    )
    try:
        if not return_previous:
            item.save(condition=condition)
            return PutOutcome(written=True, added=False)
        args, kwargs = item._get_save_args(condition=condition)
        answer = item._get_connection().put_item(*args, return_values="ALL_OLD", **kwargs)
    except PutError as exc:
        if is_condition_failure(exc):
            return PutOutcome(written=False, added=False)
        raise
    previous = (answer or {}).get("Attributes")
    return PutOutcome(written=True, added=not previous or bool(previous.get("deleted", {}).get("BOOL")))


def put_records(records: Iterable[StoreRecord]) -> None:
    """Write records unconditionally in batches (seeding a table that holds none of them yet: tests, benchmarks;
    never for deliveries, which go through :func:`put_if_newer`)."""
    by_model: dict[type[_StoreItem], list[_StoreItem]] = {}
    for record in records:
        item = _item_of(record)
        by_model.setdefault(type(item), []).append(item)
    for model, items in by_model.items():
        with model.batch_write() as batch:
            for item in items:
                batch.save(item)


def _model_and_key(tenant_id: str, resource: str, resource_id: str) -> tuple[type[_StoreItem], tuple[str, str]]:
    if resource == "order":
        return OrderItem, key_order(tenant_id, resource_id)
    if resource == "product":
        return ProductItem, key_product(tenant_id, resource_id)
    if resource == "customer":
        return CustomerItem, key_customer(tenant_id, resource_id)
    return CouponItem, key_coupon(tenant_id, resource_id)


_RESOURCE_OF: dict[type, str] = {Order: "order", Product: "product", Customer: "customer", Coupon: "coupon"}


def _id_of(record: StoreRecord) -> str:
    if isinstance(record, Order):
        return record.order_id
    if isinstance(record, Product):
        return record.product_id
    if isinstance(record, Customer):
        return record.customer_id
    return record.coupon_id


def stored_record(tenant_id: str, resource: str, resource_id: str) -> StoreRecord | None:
    """The stored record of a resource (product, customer, order or coupon; a tombstone included), or None when
    never stored."""
    model, key = _model_and_key(tenant_id, resource, resource_id)
    try:
        item = model.get(*key)
    except DoesNotExist:
        return None
    if isinstance(item, OrderItem):
        return order_from_item(item)
    if isinstance(item, ProductItem):
        return product_from_item(item)
    if isinstance(item, CustomerItem):
        return customer_from_item(item)
    return coupon_from_item(item)


def is_stored_live(record: StoreRecord) -> bool:
    """The record is stored and not a tombstone (one small read: the ``deleted`` flag only)."""
    model, key = _model_and_key(record.tenant_id, _RESOURCE_OF[type(record)], _id_of(record))
    try:
        stored = model.get(*key, attributes_to_get=["deleted"])
    except DoesNotExist:
        return False
    return not stored.deleted


# ----------------------------------------------------------------------------- rejected deliveries
@dataclass(frozen=True)
class RejectedEvent:
    """A delivery that could not be stored, with the reason. No body is kept (it holds personal data): only
    its hash and size, enough to match it to WooCommerce's delivery log."""

    store_id: str
    topic: str
    reason: str
    resource_id: str | None
    delivery_id: str | None
    body_sha256: str
    body_bytes: int
    received_at: str


def _rejected(item: RejectedEventItem) -> RejectedEvent:
    return record_from(RejectedEvent, item, body_bytes=int(item.body_bytes or 0))


def record_rejected_event(tenant_id: str, event_id: str, event: RejectedEvent, *, expires_at: int) -> None:
    pk, sk = key_rejected_event(tenant_id, event.received_at, event_id)
    RejectedEventItem(
        pk, sk, entity=RejectedEventItem.ENTITY, tenant_id=tenant_id, expires_at=expires_at, **attributes_of(event)
    ).save()


def list_rejected_events(tenant_id: str, limit: int = 100) -> list[RejectedEvent]:
    """The tenant's latest rejections, newest first."""
    items = RejectedEventItem.query(tenant_partition(tenant_id, "REJECTED"), scan_index_forward=False, limit=limit)
    return [_rejected(item) for item in items]


def rejected_events_since(tenant_id: str, store_id: str, since: str) -> list[RejectedEvent]:
    """One store's rejections received at or after ``since`` (ISO, no zone), newest first."""
    items = RejectedEventItem.query(
        tenant_partition(tenant_id, "REJECTED"),
        RejectedEventItem.sk >= since,  # sort keys start with the receipt time
        filter_condition=RejectedEventItem.store_id == store_id,
        scan_index_forward=False,
    )
    return [_rejected(item) for item in items]


# ----------------------------------------------------------------------------- back-fill checkpoints
class Checkpoint(BaseModel):
    """Back-fill progress of one store and resource: where to resume after a crash or a Lambda timeout.
    Changed in place by the back-fill and saved with :func:`save_checkpoint` after every page."""

    tenant_id: str
    store_id: str
    resource: str  # products | customers | orders | _run (the whole store's run)
    run_id: str | None = None  # the back-fill run this checkpoint belongs to
    status: str = "running"  # running | done
    watermark_gmt: str | None = None  # modified_after of the next incremental run
    run_modified_after: str | None = None  # fixed for the run in progress, so pages stay stable
    run_high_water_gmt: str | None = None  # newest date_modified_gmt seen in this run
    next_page: int = 1
    total_pages: int | None = None
    items_done: int = 0
    total_items: int | None = None  # X-WP-Total of the run's query (the dashboard's progress bar)
    run_started_at: str | None = None  # when this resource's run began (for the ETA)
    runs_completed: int = 0


_CHECKPOINT_FIELDS = tuple(name for name in Checkpoint.model_fields if name not in ("tenant_id", "store_id"))


def _checkpoint(item: IngestCheckpointItem) -> Checkpoint:
    values: dict[str, Any] = {name: getattr(item, name) for name in _CHECKPOINT_FIELDS}
    return Checkpoint(tenant_id=item.tenant_id, store_id=item.store_id, **values)


def get_checkpoint(tenant_id: str, store_id: str, resource: str) -> Checkpoint | None:
    try:
        return _checkpoint(IngestCheckpointItem.get(*key_ingest_checkpoint(tenant_id, store_id, resource)))
    except DoesNotExist:
        return None


def save_checkpoint(checkpoint: Checkpoint) -> None:
    pk, sk = key_ingest_checkpoint(checkpoint.tenant_id, checkpoint.store_id, checkpoint.resource)
    values = {name: getattr(checkpoint, name) for name in _CHECKPOINT_FIELDS}
    IngestCheckpointItem(
        pk,
        sk,
        entity=IngestCheckpointItem.ENTITY,
        tenant_id=checkpoint.tenant_id,
        store_id=checkpoint.store_id,
        **values,
    ).save()


def store_checkpoints(tenant_id: str, store_id: str) -> list[Checkpoint]:
    """Every checkpoint of one store (its run and each resource)."""
    items = IngestCheckpointItem.query(
        tenant_partition(tenant_id, "CHECKPOINT"), IngestCheckpointItem.sk.startswith(f"{store_id}#")
    )
    return [_checkpoint(item) for item in items]


# ----------------------------------------------------------------------------- deliveries seen per topic
def stamp_topic_delivery(tenant_id: str, store_id: str, topic: str, stamp: str) -> bool:
    """Record when a delivery of the store's ``topic`` was last seen, never moving back in time: False (nothing
    written) when the stored stamp is as new or newer."""
    pk, sk = key_webhook_topic_activity(tenant_id, store_id, topic)
    item = WebhookTopicActivityItem(pk, sk)
    condition = WebhookTopicActivityItem.last_delivery_at.does_not_exist() | (
        WebhookTopicActivityItem.last_delivery_at < stamp
    )
    try:
        item.update(
            actions=[
                WebhookTopicActivityItem.entity.set(WebhookTopicActivityItem.ENTITY),
                WebhookTopicActivityItem.tenant_id.set(tenant_id),
                WebhookTopicActivityItem.store_id.set(store_id),
                WebhookTopicActivityItem.topic.set(topic),
                WebhookTopicActivityItem.last_delivery_at.set(stamp),
            ],
            condition=condition,
        )
    except UpdateError as exc:
        if is_condition_failure(exc):
            return False
        raise
    return True


def topic_deliveries(tenant_id: str, store_id: str) -> dict[str, str]:
    """topic → when a delivery of it was last seen, for one store."""
    items = WebhookTopicActivityItem.query(
        tenant_partition(tenant_id, "TOPIC_ACTIVITY"), WebhookTopicActivityItem.sk.startswith(f"{store_id}#")
    )
    return {item.topic: item.last_delivery_at for item in items}


def forget_store_ingest(tenant_id: str, store_id: str) -> None:
    """A removed store's bookkeeping: its back-fill checkpoints and its deliveries seen per topic.

    One DeleteItem each (a few dozen items at most): the API's role has no BatchWriteItem."""
    for model, partition in ((IngestCheckpointItem, "CHECKPOINT"), (WebhookTopicActivityItem, "TOPIC_ACTIVITY")):
        for item in model.query(tenant_partition(tenant_id, partition), model.sk.startswith(f"{store_id}#")):
            item.delete()


# ----------------------------------------------------------------------------- the repository the processor is given
class IngestRepository(Protocol):
    """What the ingest processor reads and writes of a tenant's store records: the newer-wins write, the stored
    version of a record, a variable product's variations, an order as stored (its refunds' lines), the rejected
    deliveries and the last delivery seen per topic; the back-fill's checkpoints; what the dashboard's
    ingest status reads of them (a store's recent rejections and checkpoints); and a removed store's
    bookkeeping forgotten."""

    def put_if_newer(self, record: StoreRecord, *, lift_tombstone: bool = False) -> bool: ...

    def put_if_newer_reporting(self, record: StoreRecord, *, lift_tombstone: bool = False) -> PutOutcome: ...

    def stored_record(self, tenant_id: str, resource: str, resource_id: str) -> StoreRecord | None: ...

    def is_stored_live(self, record: StoreRecord) -> bool: ...

    def iter_variations(self, tenant_id: str, parent_id: str) -> Iterator[Product]: ...

    def get_order(self, tenant_id: str, order_id: str, *, consistent: bool = False) -> Order: ...

    def record_rejected_event(
        self, tenant_id: str, event_id: str, event: RejectedEvent, *, expires_at: int
    ) -> None: ...

    def list_rejected_events(self, tenant_id: str, limit: int = 100) -> list[RejectedEvent]: ...

    def rejected_events_since(self, tenant_id: str, store_id: str, since: str) -> list[RejectedEvent]: ...

    def get_checkpoint(self, tenant_id: str, store_id: str, resource: str) -> Checkpoint | None: ...

    def save_checkpoint(self, checkpoint: Checkpoint) -> None: ...

    def store_checkpoints(self, tenant_id: str, store_id: str) -> list[Checkpoint]: ...

    def stamp_topic_delivery(self, tenant_id: str, store_id: str, topic: str, stamp: str) -> bool: ...

    def topic_deliveries(self, tenant_id: str, store_id: str) -> dict[str, str]: ...

    def forget_store_ingest(self, tenant_id: str, store_id: str) -> None: ...


class DynamoIngestRepository:
    """The ingest repository on the table: this module's conditional writes and reads, and the catalogue's and
    customers' reads the processor needs."""

    put_if_newer = staticmethod(put_if_newer)
    put_if_newer_reporting = staticmethod(put_if_newer_reporting)
    stored_record = staticmethod(stored_record)
    is_stored_live = staticmethod(is_stored_live)
    iter_variations = staticmethod(iter_variations)
    get_order = staticmethod(get_order)
    record_rejected_event = staticmethod(record_rejected_event)
    list_rejected_events = staticmethod(list_rejected_events)
    rejected_events_since = staticmethod(rejected_events_since)
    get_checkpoint = staticmethod(get_checkpoint)
    save_checkpoint = staticmethod(save_checkpoint)
    store_checkpoints = staticmethod(store_checkpoints)
    stamp_topic_delivery = staticmethod(stamp_topic_delivery)
    topic_deliveries = staticmethod(topic_deliveries)
    forget_store_ingest = staticmethod(forget_store_ingest)


def ingest_repository() -> DynamoIngestRepository:
    """The product's ingest repository, the table bound on the first call of the execution environment (again
    after a runtime reset), not at import: a handler asks for it when it runs."""
    configured_settings()
    return _REPOSITORY


_REPOSITORY = DynamoIngestRepository()

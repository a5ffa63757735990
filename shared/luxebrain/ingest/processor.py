"""The ingest processor's domain: one queued delivery → validated payload → storage, exactly once in effect.

- The same content twice stores once, and an older version never overwrites a newer one: every write goes
  through the newer-wins write of the :class:`~luxebrain.storage.ingest.IngestRepository` passed in
  (``records``; conditional on ``modified_gmt`` and the content hash), so duplicates, replays and
  out-of-order deliveries are harmless. Deliveries and catalogue sizes are metered through the
  :class:`~luxebrain.billing.usage.UsageCounter` passed in (``usage``).
- Deletes tombstone the record (personal data of a deleted customer is erased, a deleted order leaves the
  customer's order index, a deleted variable product takes its variations with it).
- A delivery that can never be stored (not the declared topic's shape, unknown topic) is recorded as a
  rejected event, with the reason, and acknowledged: retrying would not help. Anything else (DynamoDB
  unavailable...) raises, so the message is retried and, after the queue's maxReceiveCount, dead-lettered;
  on the last try the reason is recorded too.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from pydantic import ValidationError

from luxebrain.adapters import MessageQueue, MessageSource, ObjectStore
from luxebrain.billing import plans as billing_plans
from luxebrain.errors import NotFoundError
from luxebrain.ingest import mapping
from luxebrain.ingest.envelope import SUPPORTED_EVENTS, SUPPORTED_RESOURCES, IngestEnvelope
from luxebrain.observability import logger
from luxebrain.storage.catalogue import Coupon, Product
from luxebrain.storage.customers import Customer, Order
from luxebrain.storage.ingest import IngestRepository, RejectedEvent, StoreRecord
from luxebrain.storefront.attribution import OrderAttribution, attribute_order
from luxebrain.woocommerce.payloads import (
    CouponPayload,
    CustomerPayload,
    DeletedResource,
    OrderPayload,
    ProductPayload,
    RefundPayload,
)

if TYPE_CHECKING:
    from luxebrain.billing.usage import UsageCounter
    from luxebrain.storage.storefront import StorefrontRepository
    from luxebrain.storage.tenants import TenantRepository
    from luxebrain.storage.training import TrainingRepository
    from luxebrain.woocommerce.client import WooCommerceClient

MAX_RECEIVE_COUNT = 5  # the IngestQueue's RedrivePolicy.maxReceiveCount (a template test keeps them equal)
REJECTED_EVENT_TTL_DAYS = 90
Outcome = Literal["stored", "duplicate", "tombstoned", "rejected"]
RefundLinesFetcher = Callable[[str, str, int], list[dict[str, Any]]]  # (tenant, store, order id) -> its refunds


@dataclass
class ProcessResult:
    outcome: Outcome
    writes: int = 0
    reason: str | None = None
    written: StoreRecord | None = None  # the record as stored, when this delivery changed it
    tenant_id: str | None = None  # the delivery's tenant, store and topic, and when the receiver accepted it
    store_id: str | None = None
    received_at: str | None = None
    topic: str | None = None


def record_store_activity(
    results: list[ProcessResult], *, records: IngestRepository, tenants: TenantRepository
) -> None:
    """Stamp each store that delivered in this batch with its latest receipt time (in ``tenants``), and each of
    its topics with theirs (in ``records``; one conditional UpdateItem per store and per topic a batch, never
    moving back in time): the dashboard's "last event", its last delivery per topic and webhook health read them."""
    latest: dict[tuple[str, str], str] = {}
    latest_per_topic: dict[tuple[str, str, str], str] = {}
    for result in results:
        if result.tenant_id and result.store_id and result.received_at:
            key = (result.tenant_id, result.store_id)
            latest[key] = max(latest.get(key, ""), result.received_at)
            if result.topic:
                topic_key = (*key, result.topic)
                latest_per_topic[topic_key] = max(latest_per_topic.get(topic_key, ""), result.received_at)
    for (tenant_id, store_id), stamp in latest.items():
        # A deleted store or a newer stamp writes nothing and is no error; anything else is retried with the batch.
        tenants.stamp_store_last_event(tenant_id, store_id, stamp)
    for (tenant_id, store_id, topic), stamp in latest_per_topic.items():
        records.stamp_topic_delivery(tenant_id, store_id, topic, stamp)


def feed_training(results: list[ProcessResult], *, files: ObjectStore, training: TrainingRepository) -> int:
    """Tell training what a batch changed: orders and product versions (their prices and stock: the pricing
    model's history) go into the tenant's snapshot deltas in ``files`` (one PUT per tenant and batch, so no
    training run re-reads the table), any other change marks the tenant's data changed in ``training``.
    Returns the number of orders handed over."""
    from luxebrain.training.deltas import append_training_delta, invalidate_snapshot

    orders: dict[str, list[Order]] = {}
    products: dict[str, list[Product]] = {}
    changed: set[str] = set()
    for result in results:
        if result.written is None:
            continue
        if isinstance(result.written, Order):
            orders.setdefault(result.written.tenant_id, []).append(result.written)
        elif isinstance(result.written, Product):
            products.setdefault(result.written.tenant_id, []).append(result.written)
        else:
            changed.add(result.written.tenant_id)
    for tenant_id in set(orders) | set(products):
        try:
            written = append_training_delta(
                tenant_id,
                orders.get(tenant_id, []),
                files=files,
                training=training,
                products=products.get(tenant_id, []),
            )  # also marks the tenant changed
            if written is None:  # only variations changed: nothing for the delta, but the data did change
                training.mark_tenant_data_changed(tenant_id)
        except Exception:
            # The records are stored; a retry of this batch would find them duplicates and never resend the
            # delta. So the snapshot is dropped instead: the next training run rebuilds it from the table (a
            # product's lost version leaves a gap in its price history; its current one is recorded then).
            logger.exception("training delta not written; snapshot invalidated", extra={"tenant": tenant_id})
            invalidate_snapshot(tenant_id, files=files)
            training.mark_tenant_data_changed(tenant_id)
    for tenant_id in changed - set(orders) - set(products):
        training.mark_tenant_data_changed(tenant_id)
    return sum(len(tenant_orders) for tenant_orders in orders.values())


@dataclass
class IngestCounters:
    """Totals over many results (the demo and the benchmark report these)."""

    stored: int = 0
    duplicate: int = 0
    tombstoned: int = 0
    rejected: int = 0
    writes: int = 0
    reasons: dict[str, int] = field(default_factory=dict)

    def add(self, result: ProcessResult) -> None:
        setattr(self, result.outcome, getattr(self, result.outcome) + 1)
        self.writes += result.writes
        if result.reason:
            key = result.reason.split(":")[0][:80]
            self.reasons[key] = self.reasons.get(key, 0) + 1


class RejectedDelivery(ValueError):
    """The delivery can never be stored; the message says why (no personal data in it)."""


def process_message(
    body: str,
    *,
    message_id: str,
    refunds: RefundLinesFetcher,
    records: IngestRepository,
    usage: UsageCounter,
    storefront: StorefrontRepository,
    receive_count: int = 1,
) -> ProcessResult:
    """Process one queue message (``refunds``: where an order's new refunds get their lines; ``records``: the
    store records; ``usage``: the plan's counters; ``storefront``: where an order with storefront attribution is
    counted). Raises on transient failures so the queue retries it."""
    envelope = IngestEnvelope.model_validate_json(body)  # our own format: failing here is a bug → DLQ
    try:
        return process_envelope(
            envelope, event_id=message_id, refunds=refunds, records=records, usage=usage, storefront=storefront
        )
    except Exception as exc:
        if receive_count >= MAX_RECEIVE_COUNT:
            # Last try before the dead-letter queue: leave the reason where the dashboard can show it.
            record_rejection(
                envelope,
                f"failed {receive_count} times: {type(exc).__name__}: {str(exc)[:300]}",
                message_id,
                records=records,
            )
        raise


_totals_lock = threading.Lock()
_process_totals = IngestCounters()


def process_totals() -> IngestCounters:
    """What this process has ingested so far (the local runtime and the demo report these)."""
    with _totals_lock:
        return copy.deepcopy(_process_totals)


def process_envelope(
    envelope: IngestEnvelope,
    *,
    event_id: str,
    refunds: RefundLinesFetcher,
    records: IngestRepository,
    usage: UsageCounter,
    storefront: StorefrontRepository,
    metered: bool = True,
    sizes: PageAllowance | None = None,
) -> ProcessResult:
    """Apply one delivery to ``records``, an order's new refunds getting their lines from ``refunds`` and an
    order with storefront attribution counted for its visitor's placements in ``storefront``.
    ``metered`` counts it against the plan's events in ``usage`` (webhook deliveries); the back-fill passes
    False, its records being bounded by the catalogue size limits instead, and ``sizes``: the page's catalogue
    growth counted against those limits once for the whole page."""
    ports = _Ports(refunds, records, usage, storefront)
    result = (
        _process_envelope(envelope, event_id=event_id, ports=ports)
        if metered
        else _apply_or_reject(envelope, event_id=event_id, ports=ports, sizes=sizes)
    )
    result.tenant_id, result.store_id, result.received_at = envelope.tenant_id, envelope.store_id, envelope.received_at
    result.topic = envelope.topic
    with _totals_lock:
        _process_totals.add(result)
    return result


@dataclass(frozen=True)
class _Ports:
    """What one delivery is applied through (the parameters of :func:`process_envelope`)."""

    refunds: RefundLinesFetcher
    records: IngestRepository
    usage: UsageCounter
    storefront: StorefrontRepository


def _process_envelope(envelope: IngestEnvelope, *, event_id: str, ports: _Ports) -> ProcessResult:
    try:
        # The plan decides before the delivery is applied; a duplicate or a failed attempt is not billed.
        ports.usage.consume(envelope.tenant_id, "events")
    except billing_plans.PlanLimitExceededError as exc:
        reason = f"plan: {exc}"
        record_rejection(envelope, reason, event_id, records=ports.records)
        return ProcessResult("rejected", writes=1, reason=reason)
    try:
        result = _apply_or_reject(envelope, event_id=event_id, ports=ports)
    except BaseException:
        ports.usage.release(envelope.tenant_id, "events")
        raise
    if result.outcome == "duplicate":
        ports.usage.release(envelope.tenant_id, "events")
    return result


def _apply_or_reject(
    envelope: IngestEnvelope, *, event_id: str, ports: _Ports, sizes: PageAllowance | None = None
) -> ProcessResult:
    try:
        return _apply(envelope, ports, sizes)
    except RejectedDelivery as exc:
        record_rejection(envelope, str(exc), event_id, records=ports.records)
        return ProcessResult("rejected", writes=1, reason=str(exc))
    except ValidationError as exc:
        reason = f"not a {envelope.resource} payload: {_describe(exc)}"
        record_rejection(envelope, reason, event_id, records=ports.records)
        return ProcessResult("rejected", writes=1, reason=reason)


def _apply(envelope: IngestEnvelope, ports: _Ports, sizes: PageAllowance | None = None) -> ProcessResult:
    if envelope.resource not in SUPPORTED_RESOURCES or envelope.event not in SUPPORTED_EVENTS:
        raise RejectedDelivery(f"unsupported topic: {envelope.topic}")
    try:
        document: Any = json.loads(envelope.body)
    except ValueError:
        raise RejectedDelivery("body is not JSON") from None
    if not isinstance(document, dict):
        raise RejectedDelivery("body is not a JSON object")
    tenant_id = envelope.tenant_id
    if envelope.event == "deleted":
        deleted = DeletedResource.model_validate(document)
        return _tombstone(tenant_id, envelope.resource, str(deleted.id), envelope.received_at, ports)
    restoring = envelope.event == "restored"
    if envelope.resource == "order":
        order = _with_refund_lines(envelope, OrderPayload.model_validate(document), ports)
        try:
            item = mapping.order_from_payload(tenant_id, order)
        except mapping.UnusableOrder as exc:
            raise RejectedDelivery(str(exc)) from None
        result = _write(item, restoring, ports, sizes)
        guest = mapping.guest_customer_from_order(tenant_id, order)
        # The guest's record rides along with their order, written after it and only while the order is live:
        # an order refused because it was deleted (or erased) never brings its guest's details back. A retry
        # after a crash between the two writes finds the order stored and writes the guest then.
        live = guest is not None and (result.outcome == "stored" or ports.records.is_stored_live(item))
        if live and guest is not None and ports.records.put_if_newer(guest):
            result.writes += 1
        if item.storefront_attribution:
            # Also for a duplicate delivery: a retry after a failed attribution must still count the order
            # (each order counts once per placement: the exposure's conditional update). An order no longer
            # a purchase (refunded, cancelled) takes its count back to 0. Counted at the stored version: an
            # older delivery arriving late must not move a refunded order's count back to its gross.
            current = item if result.outcome == "stored" else _stored_order(item, ports.records)
            attribution = (
                attribute_order(tenant_id, current, storefront=ports.storefront)
                if current is not None
                else OrderAttribution([], {})
            )
            result.writes += 2 * len(attribution.placements)
        return result
    if envelope.resource == "product":
        return _write(
            mapping.product_from_payload(
                tenant_id, ProductPayload.model_validate(document), envelope.received_at, envelope.store_id
            ),
            restoring,
            ports,
            sizes,
        )
    if envelope.resource == "customer":
        return _write(
            mapping.customer_from_payload(tenant_id, CustomerPayload.model_validate(document), envelope.received_at),
            restoring,
            ports,
        )
    return _write(
        mapping.coupon_from_payload(tenant_id, CouponPayload.model_validate(document), envelope.received_at),
        restoring,
        ports,
    )


def store_refund_lines(clients: Callable[[str, str], WooCommerceClient]) -> RefundLinesFetcher:
    """``GET /orders/{id}/refunds`` of the store, through its REST client from ``clients``: the refunds with
    their line items (the order's own payload has only their ids and amounts)."""

    def fetch(tenant_id: str, store_id: str, order_id: int) -> list[dict[str, Any]]:
        client = clients(tenant_id, store_id)
        return [item for page in client.iter_pages(f"orders/{order_id}/refunds") for item in page.items]

    return fetch


def _with_refund_lines(envelope: IngestEnvelope, order: OrderPayload, ports: _Ports) -> OrderPayload:
    """An order whose refunds arrived as ``{id, total}`` only gets their line items: from the stored order when
    it already had exactly these refunds with their lines, else from the store's refunds endpoint (one request,
    only when a refund is new). A store that cannot answer leaves the refunds estimated, never the order lost."""
    missing = [refund.id for refund in order.refunds if refund.line_items is None]
    if not missing:
        return order
    try:
        stored = ports.records.get_order(envelope.tenant_id, str(order.id))
        known = {int(refund["id"]) for refund in stored.refunds or [] if refund.get("lines_known")}
        if set(missing) <= known and stored.refund_details:
            details = [RefundPayload.model_validate(raw) for raw in stored.refund_details]
            return _replace_refunds(order, details)
    except NotFoundError:
        pass
    from luxebrain.errors import UnauthorizedError
    from luxebrain.woocommerce.client import WooCommerceError

    try:
        fetched = ports.refunds(envelope.tenant_id, envelope.store_id, order.id)
    except (WooCommerceError, UnauthorizedError) as exc:
        logger.warning("refund lines unavailable; refunds estimated", extra={"order": order.id, "reason": str(exc)})
        return order
    details = []
    for raw in fetched:
        try:
            details.append(RefundPayload.model_validate(raw))
        except ValidationError:
            continue
    return _replace_refunds(order, details)


def _replace_refunds(order: OrderPayload, details: list[RefundPayload]) -> OrderPayload:
    """The order's refunds, each replaced by its detailed version when there is one (only the refunds the
    payload names: a refund made after this payload was built belongs to a later delivery)."""
    by_id = {refund.id: refund for refund in details if refund.line_items is not None}
    refunds = [by_id.get(refund.id, refund) for refund in order.refunds]
    return order.model_copy(update={"refunds": refunds})


SIZE_METERED: dict[type, str] = {Product: "products", Order: "orders"}
SIZE_METRIC_OF_RESOURCE = {"product": "products", "order": "orders"}  # the same, by the delivery's resource


def _stored_order(order: Order, records: IngestRepository) -> Order | None:
    try:
        return records.get_order(order.tenant_id, order.order_id, consistent=True)
    except NotFoundError:
        return None


class PageAllowance:
    """The catalogue sizes a back-fill page may add, counted against the plan once for the page instead of once
    per record (each count is a read and a write): as many units as the page has records of each metric are
    taken up front, a record whose write added it to the catalogue keeps its unit, and :meth:`give_back` returns
    the rest. A page that would cross the plan's limit takes nothing, and its records are counted one by one as
    a delivery's are (each refused past the limit with its reason). Counted in ``usage``."""

    def __init__(self, tenant_id: str, wanted: dict[str, int], usage: UsageCounter) -> None:
        self.tenant_id = tenant_id
        self._usage = usage
        self._held: dict[str, int] = {}
        self._lock = threading.Lock()
        for metric, amount in wanted.items():
            if amount <= 0:
                continue
            try:
                usage.consume(tenant_id, metric, amount)
            except billing_plans.PlanLimitExceededError:
                continue
            self._held[metric] = amount

    @classmethod
    def for_resources(cls, tenant_id: str, resources: list[str], usage: UsageCounter) -> PageAllowance:
        """For a page of records of these resources (product, customer, order...)."""
        wanted: dict[str, int] = {}
        for resource in resources:
            metric = SIZE_METRIC_OF_RESOURCE.get(resource)
            if metric is not None:
                wanted[metric] = wanted.get(metric, 0) + 1
        return cls(tenant_id, wanted, usage)

    def covers(self, metric: str) -> bool:
        with self._lock:
            return self._held.get(metric, 0) > 0

    def keep(self, metric: str) -> None:
        """One unit stays counted: a record was added to the catalogue."""
        with self._lock:
            self._held[metric] -= 1

    def give_back(self) -> None:
        with self._lock:
            held, self._held = self._held, {}
        for metric, amount in held.items():
            self._usage.release(self.tenant_id, metric, amount)


def _write(item: StoreRecord, restoring: bool, ports: _Ports, sizes: PageAllowance | None = None) -> ProcessResult:
    records, usage = ports.records, ports.usage
    metric = SIZE_METERED.get(type(item))
    if metric is not None and sizes is not None and sizes.covers(metric):
        outcome = records.put_if_newer_reporting(item, lift_tombstone=restoring)
        if outcome.added:
            sizes.keep(metric)
        return ProcessResult(
            "stored" if outcome.written else "duplicate", writes=1, written=item if outcome.written else None
        )
    # Not stored yet, or stored as a tombstone: storing it adds one to the catalogue's size.
    counted = metric is not None and not records.is_stored_live(item)
    if counted:
        try:
            usage.consume(item.tenant_id, metric)  # type: ignore[arg-type]
        except billing_plans.PlanLimitExceededError as exc:
            raise RejectedDelivery(f"plan: {exc}") from None
    try:
        written = records.put_if_newer(item, lift_tombstone=restoring)
    except BaseException:
        if counted:
            usage.release(item.tenant_id, metric)  # type: ignore[arg-type]
        raise
    if counted and not written:
        usage.release(item.tenant_id, metric)  # type: ignore[arg-type]
    return ProcessResult("stored" if written else "duplicate", writes=1, written=item if written else None)


# ----------------------------------------------------------------------------- deletes
def _tombstone(tenant_id: str, resource: str, resource_id: str, deleted_at: str, ports: _Ports) -> ProcessResult:
    stored = ports.records.stored_record(tenant_id, resource, resource_id)
    live = stored is not None
    record = stored if stored is not None else _blank(tenant_id, resource, resource_id, deleted_at)
    if record.deleted:
        return ProcessResult("duplicate")
    tombstone = _as_tombstone(record, deleted_at)
    writes = _write_tombstone(tombstone, ports, live=live)
    written = tombstone if writes else None
    if isinstance(record, Product) and record.product_type == "variable":
        # WooCommerce deletes a variable product's variations with it.
        for variation in ports.records.iter_variations(tenant_id, resource_id):
            if not variation.deleted:
                writes += _write_tombstone(_as_tombstone(variation, deleted_at), ports, live=True)
    return ProcessResult("tombstoned" if writes else "duplicate", writes=max(writes, 1), written=written)


def _as_tombstone(record: StoreRecord, deleted_at: str) -> StoreRecord:
    # Dated by our receipt (a delete carries no date), but never older than what is stored. A deleted order
    # leaves the customer's order history (storage keeps tombstones out of the by-customer index).
    changes: dict[str, Any] = {
        "deleted": True,
        "modified_gmt": max(record.modified_gmt or "", deleted_at),
        "content_hash": "deleted",
    }
    if isinstance(record, Customer):  # the customer is gone: so is their personal data
        changes.update(email=None, phone=None, first_name=None)
    return dataclasses.replace(record, **changes)


def _write_tombstone(tombstone: StoreRecord, ports: _Ports, *, live: bool) -> int:
    metric = SIZE_METERED.get(type(tombstone))
    written = ports.records.put_if_newer(tombstone)
    if written and metric is not None and live:
        ports.usage.release(tombstone.tenant_id, metric)  # a live record left the catalogue
    return 1 if written else 0


def _blank(tenant_id: str, resource: str, resource_id: str, deleted_at: str) -> StoreRecord:
    """A tombstone for a record we never saw, so a late, older create cannot bring it back."""
    if resource == "order":
        return Order(
            tenant_id=tenant_id,
            order_id=resource_id,
            status="deleted",
            status_class="other",
            customer_id="unknown",
            created_gmt=deleted_at,
        )
    if resource == "product":
        return Product(tenant_id=tenant_id, product_id=resource_id)
    if resource == "customer":
        return Customer(tenant_id=tenant_id, customer_id=resource_id)
    return Coupon(tenant_id=tenant_id, coupon_id=resource_id)


# ----------------------------------------------------------------------------- rejections
def record_rejection(envelope: IngestEnvelope, reason: str, event_id: str, *, records: IngestRepository) -> None:
    from datetime import UTC, datetime, timedelta

    event = RejectedEvent(
        store_id=envelope.store_id,
        topic=envelope.topic[:100] or "(none)",
        reason=reason[:1000],
        resource_id=_peek_id(envelope.body),
        delivery_id=(envelope.delivery_id or None) and envelope.delivery_id[:100],
        body_sha256=envelope.body_sha256,
        body_bytes=len(envelope.body.encode("utf-8")),
        received_at=envelope.received_at,
    )
    expires_at = int((datetime.now(UTC) + timedelta(days=REJECTED_EVENT_TTL_DAYS)).timestamp())
    records.record_rejected_event(envelope.tenant_id, event_id, event, expires_at=expires_at)


def _peek_id(body: str) -> str | None:
    try:
        document = json.loads(body)
    except ValueError:
        return None
    value = document.get("id") if isinstance(document, dict) else None
    return str(value)[:40] if isinstance(value, int | str) and not isinstance(value, bool) else None


def _describe(exc: ValidationError) -> str:
    """Field paths and messages only: pydantic's default text echoes input values (personal data)."""
    problems = []
    for error in exc.errors()[:5]:
        where = ".".join(str(part) for part in error["loc"]) or "body"
        problems.append(f"{where} {error['msg']}")
    more = exc.error_count() - len(problems)
    return "; ".join(problems) + (f" (+{more} more)" if more > 0 else "")


def redrive_dead_letters(dead_letters: MessageSource, ingest_queue: MessageQueue, *, max_messages: int = 1000) -> int:
    """Move dead-lettered deliveries back to the ingest queue (after the cause is fixed); returns how many.
    Each keeps its message group (per record order) and gets a fresh de-duplication id so SQS accepts it; a
    message is deleted from the dead letters only once it is queued again."""
    from luxebrain.ingest.envelope import body_hash, utc_now_iso

    moved = 0
    while moved < max_messages:
        messages = dead_letters.receive()
        if not messages:
            break
        for message in messages:
            ingest_queue.send(
                message.body,
                group_id=message.group_id or "redrive",
                deduplication_id=body_hash(f"{message.message_id}|{utc_now_iso()}".encode()),
            )
            dead_letters.delete(message)
            moved += 1
    return moved

"""The ingest processor's decisions over the in-memory ingest repository and usage counter (held to the table by
tests/integration/test_ingest_repository_contract.py): exactly once in effect, metered against the plan,
deletes as tombstones, rejections recorded with their reason. No network: the unit tier refuses sockets."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fakes import (
    InMemoryIngestRepository,
    InMemoryObjectStore,
    InMemoryStorefrontRepository,
    InMemoryTenantRepository,
    InMemoryTrainingRepository,
    InMemoryUsageCounter,
    StoreRefunds,
    no_refund_lookups,
)

from luxebrain.billing.plans import PLANS
from luxebrain.ingest.envelope import IngestEnvelope
from luxebrain.ingest.processor import (
    MAX_RECEIVE_COUNT,
    PageAllowance,
    ProcessResult,
    RefundLinesFetcher,
    feed_training,
    process_message,
    record_store_activity,
)
from luxebrain.storage.catalogue import Product
from luxebrain.storage.customers import Customer, Order
from luxebrain.storage.ingest import StoreRecord
from luxebrain.storage.storefront import NewEvent
from luxebrain.storage.tenants import Store
from luxebrain.training.deltas import delta_prefix

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "woocommerce"
TENANT = "t-processor1"


def fixture(file_name: str, **changes: Any) -> dict[str, Any]:
    return json.loads((FIXTURES / file_name).read_text()) | changes


def delivery(topic: str, document: dict[str, Any] | str, received_at: str = "2026-10-01T12:00:00") -> str:
    resource, event = topic.split(".")
    body = document if isinstance(document, str) else json.dumps(document)
    envelope = IngestEnvelope(
        tenant_id=TENANT,
        store_id="s-1",
        resource=resource,
        event=event,
        topic=topic,
        body=body,
        received_at=received_at,
        delivery_id="d-1",
    )
    return envelope.model_dump_json()


class Ingest:
    """The processor over the fakes, as the processor function runs it for one message."""

    def __init__(self) -> None:
        self.records = InMemoryIngestRepository()
        self.usage = InMemoryUsageCounter("free")
        self.storefront = InMemoryStorefrontRepository()

    def __call__(
        self, body: str, *, refunds: RefundLinesFetcher = no_refund_lookups, receive_count: int = 1
    ) -> ProcessResult:
        return process_message(
            body,
            message_id="m-1",
            refunds=refunds,
            records=self.records,
            usage=self.usage,
            storefront=self.storefront,
            receive_count=receive_count,
        )

    def used(self, metric: str) -> int:
        return self.usage.used.get((TENANT, metric), 0)


@pytest.fixture
def ingest() -> Ingest:
    return Ingest()


def test_a_delivery_is_stored_once_and_its_replay_is_neither_written_nor_billed(ingest: Ingest) -> None:
    body = delivery("product.created", fixture("product.json"))
    stored = ingest(body)
    assert (stored.outcome, stored.writes) == ("stored", 1)
    assert isinstance(stored.written, Product) and stored.written.product_id == "93"
    assert ingest.records.stored_record(TENANT, "product", "93") == stored.written
    # The same delivery again (a retry, a replay) changes nothing and is not counted as an event
    replay = ingest(body)
    assert (replay.outcome, replay.written) == ("duplicate", None)
    assert len(ingest.records.written) == 1
    assert (ingest.used("events"), ingest.used("products")) == (1, 1)


def test_an_older_version_never_overwrites_a_newer_one(ingest: Ingest) -> None:
    newer = fixture("product.json", name="Newer name", date_modified_gmt="2026-03-05T09:00:00")
    assert ingest(delivery("product.updated", newer)).outcome == "stored"
    late = ingest(delivery("product.updated", fixture("product.json")))  # modified 2026-03-01
    assert late.outcome == "duplicate"
    stored = ingest.records.stored_record(TENANT, "product", "93")
    assert stored is not None and (stored.modified_gmt, stored.name) == ("2026-03-05T09:00:00", "Newer name")
    assert ingest.used("products") == 1  # an update of a product already held is not a new one


def test_a_delivery_beyond_the_plans_events_is_rejected_with_the_reason_and_nothing_is_stored(
    ingest: Ingest,
) -> None:
    allowed = PLANS["free"].allowance("events")[0]
    ingest.usage.used[(TENANT, "events")] = allowed
    refused = ingest(delivery("product.created", fixture("product.json")))
    assert refused.outcome == "rejected" and (refused.reason or "").startswith("plan: ")
    assert "events" in (refused.reason or "")
    assert ingest.records.written == []
    [rejection] = ingest.records.list_rejected_events(TENANT)
    assert (rejection.topic, rejection.reason, rejection.resource_id) == ("product.created", refused.reason, "93")
    assert ingest.used("events") == allowed


def test_a_guest_order_stores_its_guest_after_it_and_counts_the_order(ingest: Ingest) -> None:
    result = ingest(delivery("order.created", fixture("order.json")))  # customer_id 0: a guest
    assert (result.outcome, result.writes) == ("stored", 2)
    order, guest = ingest.records.written
    assert isinstance(order, Order) and order.order_id == "727"
    assert isinstance(guest, Customer) and guest.customer_id.startswith("guest:")
    assert order.customer_id == guest.customer_id
    assert (ingest.used("events"), ingest.used("orders")) == (1, 1)


def test_a_body_that_is_not_json_is_rejected_and_acknowledged(ingest: Ingest) -> None:
    result = ingest(delivery("order.updated", '{"id": 7, "status": '))
    assert (result.outcome, result.reason) == ("rejected", "body is not JSON")
    [rejection] = ingest.records.list_rejected_events(TENANT)
    assert rejection.resource_id is None and rejection.body_bytes == len('{"id": 7, "status": ')
    assert ingest.records.written == []


def _variable_catalogue(ingest: Ingest) -> None:
    stamp = "2026-09-01T08:00:00"
    ingest.records.put(Product(TENANT, "10", product_type="variable", modified_gmt=stamp))
    ingest.records.put(Product(TENANT, "11", parent_id="10", product_type="variation", modified_gmt=stamp))
    ingest.records.put(Product(TENANT, "12", parent_id="10", product_type="variation", modified_gmt=stamp))
    ingest.records.put(Product(TENANT, "13", parent_id="10", product_type="variation", deleted=True))
    ingest.usage.used[(TENANT, "products")] = 3  # the three live ones


def test_deleting_a_variable_product_tombstones_its_live_variations_and_gives_back_their_units(
    ingest: Ingest,
) -> None:
    _variable_catalogue(ingest)
    result = ingest(delivery("product.deleted", {"id": 10}, received_at="2026-10-01T12:00:00"))
    assert (result.outcome, result.writes) == ("tombstoned", 3)
    tombstones: list[StoreRecord] = ingest.records.written
    assert [(r.product_id, r.deleted, r.modified_gmt) for r in tombstones if isinstance(r, Product)] == [
        ("10", True, "2026-10-01T12:00:00"),
        ("11", True, "2026-10-01T12:00:00"),
        ("12", True, "2026-10-01T12:00:00"),
    ]
    assert ingest.used("products") == 0
    # Deleted again: nothing to do, and the event is given back
    again = ingest(delivery("product.deleted", {"id": 10}, received_at="2026-10-01T12:05:00"))
    assert again.outcome == "duplicate" and len(ingest.records.written) == 3
    assert ingest.used("events") == 1


def test_a_deleted_customer_leaves_a_tombstone_without_personal_data(ingest: Ingest) -> None:
    assert ingest(delivery("customer.created", fixture("customer.json"))).outcome == "stored"
    customer_id = str(fixture("customer.json")["id"])
    assert ingest(delivery("customer.deleted", {"id": int(customer_id)}, "2026-12-01T00:00:00")).outcome == "tombstoned"
    stored = ingest.records.stored_record(TENANT, "customer", customer_id)
    assert isinstance(stored, Customer) and stored.deleted
    assert (stored.email, stored.phone, stored.first_name) == (None, None, None)


def _detailed_refund() -> dict[str, Any]:
    """Refund 501 as ``GET /orders/727/refunds`` returns it: one of the two pumps (order line 316) back."""
    return {
        "id": 501,
        "date_created_gmt": "2026-03-28T09:00:00",
        "amount": "90.00",
        "reason": "Returned",
        "line_items": [
            {
                "id": 901,
                "product_id": 22,
                "variation_id": 23,
                "quantity": -1,
                "total": "-90.00",
                "meta_data": [{"id": 1, "key": "_refunded_item_id", "value": "316"}],
                "refund_total": 90.0,
            }
        ],
    }


def test_a_new_refund_gets_its_lines_from_the_store_once(ingest: Ingest) -> None:
    store = StoreRefunds([_detailed_refund()])
    refunded = fixture(
        "order.json",
        status="completed",
        date_modified_gmt="2026-03-28T09:00:01",
        refunds=[{"id": 501, "reason": "", "total": "-90.00"}],
    )
    assert ingest(delivery("order.updated", refunded), refunds=store).outcome == "stored"
    order = ingest.records.get_order(TENANT, "727")
    assert order.refunds[0]["lines_known"] and not order.refunds_estimated
    assert [line.net_quantity for line in order.line_items if line.line_id == "316"] == [1]
    # The same order again with other content: its refund's lines come from the stored order, not the store
    changed = refunded | {"customer_note": "leave at the door"}
    assert ingest(delivery("order.updated", changed), refunds=store).outcome in ("stored", "duplicate")
    assert store.calls == 1


class UnavailableTable(InMemoryIngestRepository):
    """The table refusing every write (throttled, unreachable): the processor must raise for a retry."""

    def put_if_newer(self, record: StoreRecord, *, lift_tombstone: bool = False) -> bool:
        raise ConnectionError("table unavailable")


def test_a_failing_write_is_retried_and_its_reason_recorded_on_the_last_try(ingest: Ingest) -> None:
    ingest.records = UnavailableTable()
    body = delivery("customer.updated", fixture("customer.json"))
    with pytest.raises(ConnectionError):
        ingest(body)
    assert ingest.records.list_rejected_events(TENANT) == []  # a retry may still succeed
    with pytest.raises(ConnectionError):
        ingest(body, receive_count=MAX_RECEIVE_COUNT)
    [rejection] = ingest.records.list_rejected_events(TENANT)
    assert rejection.reason == f"failed {MAX_RECEIVE_COUNT} times: ConnectionError: table unavailable"
    assert ingest.used("events") == 0  # a failed attempt is not billed


def test_a_first_page_larger_than_the_plan_takes_nothing_up_front() -> None:
    usage = InMemoryUsageCounter("free")
    allowed = PLANS["free"].allowance("products")[0]
    page = PageAllowance.for_resources(TENANT, ["product"] * (allowed + 10), usage)
    assert not page.covers("products")
    assert usage.used.get((TENANT, "products"), 0) == 0


def test_a_batch_stamps_its_store_and_topics_and_tells_training_what_changed(ingest: Ingest) -> None:
    tenants, training, files = InMemoryTenantRepository(), InMemoryTrainingRepository(), InMemoryObjectStore()
    tenants.add_store(Store(TENANT, "s-1", "https://shop.example", "EUR", "UTC", "active", datetime.now(UTC)))
    orders = [ingest(delivery("order.created", fixture("order.json"), received_at="2026-10-01T12:00:00"))]
    customers = [ingest(delivery("customer.created", fixture("customer.json"), received_at="2026-10-01T12:05:00"))]
    # A customer alone goes into no delta: the tenant's data is marked changed in the training repository
    assert feed_training(customers, files=files, training=training) == 0
    assert files.keys() == []
    marked = training.get_training_state(TENANT)
    assert marked is not None and marked.data_changed_at is not None
    # An order goes into one delta, which marks the tenant changed again, later
    assert feed_training(orders, files=files, training=training) == 1
    assert [stored.key.startswith(delta_prefix(TENANT)) for stored in files.objects("")] == [True]
    assert training.get_training_state(TENANT).data_changed_at > marked.data_changed_at  # type: ignore[union-attr]
    # The store's last event is the batch's latest receipt; each topic keeps its own
    record_store_activity(orders + customers, records=ingest.records, tenants=tenants)
    assert tenants.get_store(TENANT, "s-1").last_event_at == "2026-10-01T12:05:00"
    assert ingest.records.topic_deliveries(TENANT, "s-1") == {
        "order.created": "2026-10-01T12:00:00",
        "customer.created": "2026-10-01T12:05:00",
    }


def test_an_order_from_an_exposed_visitor_counts_for_the_placement_once(ingest: Ingest) -> None:
    visitor = "visitor-0123456789abcdef"
    ordered_at = datetime(2026, 3, 22, 19, 28, 2, tzinfo=UTC).timestamp()
    storefront = ingest.storefront
    # Given the visitor's first exposure to "related" a day before the order, and a click there on product 93
    assert storefront.record_first_exposure(
        TENANT, visitor, "related", "treatment", first_seen=int(ordered_at) - 86400, day="2026-03-21", expires_at=2**31
    )
    click = NewEvent("event-click-1", "click", "related", ("93",))
    storefront.put_new_events(
        TENANT, visitor, "treatment", [click], occurred_at=int(ordered_at) - 3600, expires_at=2**31
    )
    order = fixture("order.json")
    order["meta_data"] = [*order["meta_data"], {"id": 1, "key": "_luxebrain_visitor", "value": visitor}]
    # When the order is delivered, and delivered again
    first = ingest(delivery("order.created", order))
    replay = ingest(delivery("order.created", order))
    # Then it counts once for the placement's arm on the exposure's day, its clicked line attributed
    assert (first.outcome, replay.outcome) == ("stored", "duplicate")
    (row,) = storefront.daily_stats_since(TENANT, "2026-03-01")
    assert (row.placement, row.arm, row.day) == ("related", "treatment", "2026-03-21")
    counters = {name: value for name, value in row.counters.items() if value}
    assert counters == {
        "orders": 1,
        "converting_visitors": 1,
        "revenue": 1330.0,
        "revenue_squares": 1330.0**2,
        "attributed_orders": 1,
        "attributed_revenue": 1150.0,
    }

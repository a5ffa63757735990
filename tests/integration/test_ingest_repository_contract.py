"""The in-memory ingest repository and usage counter of tests/fakes.py behave as the DynamoDB ones on the
embedded AWS: the same checks pass on both, so the unit tests of the ingest processor over the fakes
(tests/unit/test_ingest_processor.py) say something about the table."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from fakes import InMemoryIngestRepository, InMemoryUsageCounter

from luxebrain.billing.plans import PLANS, PlanLimitExceededError
from luxebrain.billing.usage import UsageCounter, plan_usage
from luxebrain.errors import NotFoundError
from luxebrain.storage.catalogue import Coupon, Product
from luxebrain.storage.customers import CouponUse, Customer, Order, OrderLine
from luxebrain.storage.ingest import (
    Checkpoint,
    DynamoIngestRepository,
    IngestRepository,
    PutOutcome,
    RejectedEvent,
    StoreRecord,
)
from luxebrain.storage.tenants import create_tenant
from luxebrain.tenancy import new_tenant_id
from luxebrain_dev.local.embedded import LocalResources


@pytest.fixture(params=["in-memory", "dynamodb"])
def records(request: pytest.FixtureRequest, local_aws: LocalResources) -> IngestRepository:
    return InMemoryIngestRepository() if request.param == "in-memory" else DynamoIngestRepository()


@pytest.fixture
def tenant() -> str:
    return new_tenant_id()


def _order(tenant: str, order_id: str, modified: str, **changes: object) -> Order:
    line = OrderLine(
        line_id="l1",
        product_id="p1",
        variation_id="p1-v",
        name="Lamp",
        sku="LA",
        quantity=2.0,
        unit_price=30.0,
        subtotal=60.0,
        total=54.0,
        refunded_quantity=1.0,
        refunded_total=27.0,
        net_quantity=1.0,
        net_total=27.0,
    )
    order = Order(
        tenant_id=tenant,
        order_id=order_id,
        status="completed",
        status_class="purchase",
        customer_id="c1",
        created_gmt="2026-10-01T10:00:00",
        billing_country="FR",
        total=59.0,
        discount_total=6.0,
        product_total=54.0,
        product_net_total=27.0,
        shipping_total=5.0,
        refunded_total=27.0,
        net_total=32.0,
        refunds=[{"id": 501, "amount": 27.0, "created_gmt": "2026-10-02T09:00:00", "lines_known": True}],
        refund_details=[{"id": 501, "amount": "27.00", "line_items": []}],
        attribution={"source_type": "utm", "utm_source": "newsletter"},
        modified_gmt=modified,
        paid_gmt="2026-10-01T10:01:00",
        line_items=(line,),
        coupon_lines=(CouponUse("AUTUMN", 6.0),),
        content_hash=f"h-{modified}",
    )
    return dataclasses.replace(order, **changes)  # type: ignore[arg-type]


def _product(tenant: str, product_id: str, modified: str, **changes: object) -> Product:
    product = Product(
        tenant,
        product_id,
        store_id="s1",
        name="Shirt",
        categories=("Tops",),
        tags=("linen",),
        price=24.5,
        regular_price=30,
        stock_quantity=3,
        modified_gmt=modified,
        content_hash=f"h-{modified}",
    )
    return dataclasses.replace(product, **changes)  # type: ignore[arg-type]


def _customer(tenant: str, customer_id: str, modified: str, **changes: object) -> Customer:
    customer = Customer(
        tenant,
        customer_id,
        email="lea@shop.example",
        first_name="Léa",
        country="FR",
        created_gmt="2026-09-01T08:00:00",
        modified_gmt=modified,
        content_hash=f"h-{modified}",
    )
    return dataclasses.replace(customer, **changes)  # type: ignore[arg-type]


def _coupon(tenant: str, coupon_id: str, modified: str, **changes: object) -> Coupon:
    coupon = Coupon(
        tenant, coupon_id, code="AUTUMN", discount_type="percent", amount=10, modified_gmt=modified, content_hash="h"
    )
    return dataclasses.replace(coupon, **changes)  # type: ignore[arg-type]


RecordOf = Callable[..., StoreRecord]
KINDS: dict[str, RecordOf] = {"order": _order, "product": _product, "customer": _customer, "coupon": _coupon}


@pytest.mark.parametrize("resource", sorted(KINDS))
def test_a_newer_version_or_other_content_is_written_an_older_or_the_same_never(
    records: IngestRepository, tenant: str, resource: str
) -> None:
    record_of = KINDS[resource]
    first = record_of(tenant, "7", "2026-10-02T08:00:00")
    assert records.put_if_newer(first)
    assert not records.put_if_newer(first)  # a duplicate
    assert not records.put_if_newer(record_of(tenant, "7", "2026-10-01T08:00:00", content_hash="older"))
    assert records.stored_record(tenant, resource, "7") == first
    changed = record_of(tenant, "7", "2026-10-02T08:00:00", content_hash="same version, other content")
    assert records.put_if_newer(changed)
    newer = record_of(tenant, "7", "2026-10-03T08:00:00")
    assert records.put_if_newer(newer)
    assert records.stored_record(tenant, resource, "7") == newer
    # Another tenant's record of the same id is its own
    assert records.stored_record(new_tenant_id(), resource, "7") is None
    assert records.stored_record(tenant, resource, "8") is None


def test_a_tombstone_is_lifted_only_by_a_restore_whatever_its_date(records: IngestRepository, tenant: str) -> None:
    tombstone = _product(tenant, "7", "2026-10-05T08:00:00", deleted=True, content_hash="deleted")
    assert records.put_if_newer(tombstone)
    assert not records.is_stored_live(tombstone)
    restored = _product(tenant, "7", "2026-10-04T08:00:00")  # the store's clock behind ours
    assert not records.put_if_newer(restored)
    assert records.put_if_newer(restored, lift_tombstone=True)
    assert records.stored_record(tenant, "product", "7") == restored
    assert records.is_stored_live(restored)


def test_the_reporting_write_says_whether_a_live_record_was_added(records: IngestRepository, tenant: str) -> None:
    order = _order(tenant, "7", "2026-10-02T08:00:00")
    assert not records.is_stored_live(order)
    assert records.put_if_newer_reporting(order) == PutOutcome(written=True, added=True)
    assert records.put_if_newer_reporting(order) == PutOutcome(written=False, added=False)
    updated = _order(tenant, "7", "2026-10-03T08:00:00")
    assert records.put_if_newer_reporting(updated) == PutOutcome(written=True, added=False)
    tombstone = _order(tenant, "7", "2026-10-04T08:00:00", deleted=True, content_hash="deleted")
    assert records.put_if_newer_reporting(tombstone) == PutOutcome(written=True, added=False)
    back = _order(tenant, "7", "2026-10-04T09:00:00")
    assert records.put_if_newer_reporting(back) == PutOutcome(written=True, added=True)  # over a tombstone


def test_variations_are_the_parents_own_in_id_order_tombstones_included(records: IngestRepository, tenant: str) -> None:
    modified = "2026-10-01T08:00:00"
    variations = [
        _product(tenant, "12", modified, parent_id="10", product_type="variation"),
        _product(tenant, "11", modified, parent_id="10", product_type="variation", deleted=True),
    ]
    others = [
        _product(tenant, "10", modified, product_type="variable"),
        _product(tenant, "21", modified, parent_id="20", product_type="variation"),
        _product(new_tenant_id(), "13", modified, parent_id="10", product_type="variation"),
    ]
    for product in [*variations, *others]:
        records.put_if_newer(product)
    assert list(records.iter_variations(tenant, "10")) == [variations[1], variations[0]]
    assert list(records.iter_variations(tenant, "30")) == []


def test_an_order_is_read_as_stored_tombstones_included(records: IngestRepository, tenant: str) -> None:
    with pytest.raises(NotFoundError):
        records.get_order(tenant, "7")
    order = _order(tenant, "7", "2026-10-02T08:00:00")
    records.put_if_newer(order)
    assert records.get_order(tenant, "7") == order
    assert records.get_order(tenant, "7", consistent=True) == order
    with pytest.raises(NotFoundError):
        records.get_order(new_tenant_id(), "7")
    tombstone = _order(tenant, "7", "2026-10-03T08:00:00", deleted=True, content_hash="deleted")
    records.put_if_newer(tombstone)
    assert records.get_order(tenant, "7", consistent=True) == tombstone


def _rejected(store_id: str, received_at: str, reason: str) -> RejectedEvent:
    return RejectedEvent(
        store_id=store_id,
        topic="order.updated",
        reason=reason,
        resource_id="7",
        delivery_id=None,
        body_sha256="ab" * 32,
        body_bytes=120,
        received_at=received_at,
    )


def test_rejected_deliveries_are_listed_newest_first(records: IngestRepository, tenant: str) -> None:
    assert records.list_rejected_events(tenant) == []
    events = [
        _rejected("s1", "2026-10-02T08:00:00", "body is not JSON"),
        _rejected("s2", "2026-10-03T08:00:00", "unsupported topic: order.archived"),
        _rejected("s1", "2026-10-01T08:00:00", "plan: events"),
    ]
    for number, event in enumerate(events):
        records.record_rejected_event(tenant, f"m{number}", event, expires_at=2_000_000_000)
    records.record_rejected_event(new_tenant_id(), "m9", events[0], expires_at=2_000_000_000)
    assert records.list_rejected_events(tenant) == [events[1], events[0], events[2]]
    assert records.list_rejected_events(tenant, limit=2) == [events[1], events[0]]


def test_a_stores_rejections_since_a_moment_are_its_own_newest_first(records: IngestRepository, tenant: str) -> None:
    events = [
        _rejected("s1", "2026-10-01T08:00:00", "too old"),
        _rejected("s1", "2026-10-02T08:00:00", "at the moment"),
        _rejected("s2", "2026-10-03T08:00:00", "another store"),
        _rejected("s1", "2026-10-04T08:00:00", "newest"),
    ]
    for number, event in enumerate(events):
        records.record_rejected_event(tenant, f"m{number}", event, expires_at=2_000_000_000)
    assert records.rejected_events_since(tenant, "s1", "2026-10-02T08:00:00") == [events[3], events[1]]
    assert records.rejected_events_since(tenant, "s2", "2026-10-05T00:00:00") == []
    assert records.rejected_events_since(new_tenant_id(), "s1", "2026-01-01T00:00:00") == []


def test_checkpoints_are_saved_whole_and_read_back_one_or_a_stores_in_resource_order(
    records: IngestRepository, tenant: str
) -> None:
    assert records.store_checkpoints(tenant, "s1") == []
    assert records.get_checkpoint(tenant, "s1", "orders") is None
    run = Checkpoint(tenant_id=tenant, store_id="s1", resource="_run", run_id="r1", run_started_at="2026-10-01")
    orders = Checkpoint(
        tenant_id=tenant,
        store_id="s1",
        resource="orders",
        run_id="r1",
        status="done",
        watermark_gmt="2026-10-01T07:00:00",
        next_page=4,
        total_pages=3,
        items_done=250,
        total_items=250,
        runs_completed=2,
    )
    products = Checkpoint(tenant_id=tenant, store_id="s1", resource="products", run_id="r1", next_page=2)
    for checkpoint in (orders, products, run, Checkpoint(tenant_id=tenant, store_id="s10", resource="orders")):
        records.save_checkpoint(checkpoint)
    assert records.store_checkpoints(tenant, "s1") == [run, orders, products]
    assert records.store_checkpoints(new_tenant_id(), "s1") == []
    assert records.get_checkpoint(tenant, "s1", "orders") == orders
    assert records.get_checkpoint(new_tenant_id(), "s1", "orders") is None
    # Saved whole: a later save replaces the checkpoint, and what was read is a copy the caller may change
    read = records.get_checkpoint(tenant, "s1", "products")
    assert read is not None
    read.next_page = 3
    assert records.get_checkpoint(tenant, "s1", "products") == products
    records.save_checkpoint(read)
    assert records.get_checkpoint(tenant, "s1", "products") == read


def test_the_last_delivery_per_topic_never_moves_back_in_time(records: IngestRepository, tenant: str) -> None:
    assert records.topic_deliveries(tenant, "s1") == {}
    assert records.stamp_topic_delivery(tenant, "s1", "order.created", "2026-10-02T08:00:00")
    assert not records.stamp_topic_delivery(tenant, "s1", "order.created", "2026-10-01T08:00:00")
    assert not records.stamp_topic_delivery(tenant, "s1", "order.created", "2026-10-02T08:00:00")
    assert records.stamp_topic_delivery(tenant, "s1", "order.created", "2026-10-03T08:00:00")
    assert records.stamp_topic_delivery(tenant, "s1", "product.updated", "2026-10-01T08:00:00")
    assert records.stamp_topic_delivery(tenant, "s2", "order.created", "2026-10-04T08:00:00")
    assert records.topic_deliveries(tenant, "s1") == {
        "order.created": "2026-10-03T08:00:00",
        "product.updated": "2026-10-01T08:00:00",
    }


def test_a_removed_stores_checkpoints_and_topic_stamps_are_forgotten_its_records_kept(
    records: IngestRepository, tenant: str
) -> None:
    other_tenant = new_tenant_id()
    for owner, store in ((tenant, "s1"), (tenant, "s10"), (other_tenant, "s1")):
        for resource in ("_run", "orders"):
            records.save_checkpoint(Checkpoint(tenant_id=owner, store_id=store, resource=resource))
        records.stamp_topic_delivery(owner, store, "order.created", "2026-10-02T08:00:00")
    order = _order(tenant, "1", "2026-10-01T08:00:00")
    records.put_if_newer(order)
    rejection = _rejected("s1", "2026-10-02T09:00:00", "bad signature")
    records.record_rejected_event(tenant, "e1", rejection, expires_at=2_000_000_000)
    records.forget_store_ingest(tenant, "s1")
    assert records.store_checkpoints(tenant, "s1") == []
    assert records.topic_deliveries(tenant, "s1") == {}
    # another store of the tenant (its id starting with the same characters) and another tenant's store stay
    assert [checkpoint.resource for checkpoint in records.store_checkpoints(tenant, "s10")] == ["_run", "orders"]
    assert records.topic_deliveries(tenant, "s10") == {"order.created": "2026-10-02T08:00:00"}
    assert len(records.store_checkpoints(other_tenant, "s1")) == 2
    assert records.topic_deliveries(other_tenant, "s1") == {"order.created": "2026-10-02T08:00:00"}
    # the records it sent and its rejections stay
    assert records.stored_record(tenant, "order", "1") == order
    assert records.list_rejected_events(tenant) == [rejection]
    records.forget_store_ingest(tenant, "s1")  # nothing left to forget: no error


# ----------------------------------------------------------------------------- the usage counter
@dataclass
class Counted:
    usage: UsageCounter
    tenant: str


@pytest.fixture(params=["in-memory", "dynamodb"])
def counted(request: pytest.FixtureRequest, local_aws: LocalResources) -> Counted:
    if request.param == "in-memory":
        return Counted(InMemoryUsageCounter("free"), new_tenant_id())
    return Counted(plan_usage(), create_tenant("Counted", plan="free").tenant_id)


@pytest.mark.parametrize(("metric", "limit"), [("products", "products"), ("events", "events_per_month")])
def test_units_are_counted_within_the_plans_allowance_and_given_back_never_below_zero(
    counted: Counted, metric: str, limit: str
) -> None:
    usage, tenant = counted.usage, counted.tenant
    allowed = PLANS["free"].allowance(metric)[0]
    assert usage.consume(tenant, metric) == 1
    assert usage.consume(tenant, metric, allowed - 2) == allowed - 1
    assert usage.consume(tenant, metric) == allowed
    with pytest.raises(PlanLimitExceededError) as refused:
        usage.consume(tenant, metric)
    assert (refused.value.limit, refused.value.allowed, refused.value.plan) == (limit, allowed, "free")
    usage.release(tenant, metric, 2)
    with pytest.raises(PlanLimitExceededError):
        usage.consume(tenant, metric, 3)  # refused whole: nothing is taken
    assert usage.consume(tenant, metric, 2) == allowed
    usage.release(tenant, metric, allowed + 1)  # more than it holds: nothing is given back
    with pytest.raises(PlanLimitExceededError):
        usage.consume(tenant, metric)
    usage.release(tenant, metric, allowed)
    assert usage.consume(tenant, metric) == 1


def test_a_first_count_over_the_allowance_is_refused_whole(counted: Counted) -> None:
    # A counter not yet started holds 0: an amount over the allowance never fits, whether or not it exists yet
    # (a back-fill's first page of 60 products on a plan of 50 would otherwise keep all 60).
    allowed = PLANS["free"].allowance("orders")[0]
    with pytest.raises(PlanLimitExceededError):
        counted.usage.consume(counted.tenant, "orders", allowed + 5)
    assert counted.usage.consume(counted.tenant, "orders", allowed) == allowed
    with pytest.raises(PlanLimitExceededError):
        counted.usage.consume(counted.tenant, "orders")

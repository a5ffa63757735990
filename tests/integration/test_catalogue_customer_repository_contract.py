"""The in-memory catalogue, customers and price decision repositories of tests/fakes.py behave as the DynamoDB
ones on the embedded AWS: the same checks pass on both, so a unit test of a training run over the fakes reads
what the table would give it. The table is written as the product writes it (ingest's newer-wins put, the
pricing repository's decision record)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime

import pytest
from fakes import InMemoryCatalogueRepository, InMemoryCustomerRepository, InMemoryPriceDecisionRepository

from luxebrain.errors import ConflictError, NotFoundError
from luxebrain.storage.catalogue import CatalogueRepository, DynamoCatalogueRepository, Product, ProductSupply
from luxebrain.storage.customers import (
    Customer,
    CustomerRepository,
    DynamoCustomerRepository,
    Order,
    OrderLine,
    OrderSummary,
)
from luxebrain.storage.ingest import put_if_newer
from luxebrain.storage.pricing import (
    DynamoPriceDecisionRepository,
    PriceDecision,
    PriceDecisionRepository,
    record_decision,
)
from luxebrain.tenancy import new_tenant_id
from luxebrain_dev.local.embedded import LocalResources


@dataclass
class Stored:
    """The repositories under test and how their records get there."""

    catalogue: CatalogueRepository
    customers: CustomerRepository
    decisions: PriceDecisionRepository
    put: Callable[[Product | Order | Customer], object]
    decide: Callable[[PriceDecision], object]


def _in_memory() -> Stored:
    catalogue, customers, decisions = (
        InMemoryCatalogueRepository(),
        InMemoryCustomerRepository(),
        InMemoryPriceDecisionRepository(),
    )

    def put(record: Product | Order | Customer) -> None:
        if isinstance(record, Product):
            catalogue.put(record)
        else:
            customers.put(record)

    return Stored(catalogue, customers, decisions, put, decisions.record)


def _table() -> Stored:
    def decide(decision: PriceDecision) -> None:
        fields = asdict(decision)
        del fields["rollback_record"]  # a decision is recorded without one
        record_decision(fields.pop("tenant_id"), fields.pop("decision_id"), **fields)

    return Stored(
        DynamoCatalogueRepository(), DynamoCustomerRepository(), DynamoPriceDecisionRepository(), put_if_newer, decide
    )


@pytest.fixture(params=["in-memory", "dynamodb"])
def stored(request: pytest.FixtureRequest, local_aws: LocalResources) -> Stored:
    return _in_memory() if request.param == "in-memory" else _table()


@pytest.fixture
def tenant() -> str:
    return new_tenant_id()


def test_products_are_the_tenants_own_in_id_order_tombstones_and_variations_included(
    stored: Stored, tenant: str
) -> None:
    shirt = Product(
        tenant,
        "10",
        store_id="s1",
        product_type="variable",
        name="Shirt",
        sku="SH",
        categories=("Tops", "Sale"),
        tags=("linen",),
        price=24.5,
        regular_price=30,
        sale_price=24.5,
        stock_quantity=3,
        modified_gmt="2026-10-01T08:00:00",
        content_hash="h10",
    )
    variation = Product(tenant, "11", parent_id="10", product_type="variation", modified_gmt="2026-10-01T08:00:00")
    gone = Product(tenant, "2", stock_status="outofstock", modified_gmt="2026-10-02T08:00:00", deleted=True)
    for record in (gone, shirt, variation, Product(new_tenant_id(), "1", modified_gmt="2026-10-01T08:00:00")):
        stored.put(record)
    assert list(stored.catalogue.iter_products(tenant)) == [shirt, variation, gone]
    assert list(stored.catalogue.iter_products(new_tenant_id())) == []


def test_a_product_is_read_by_id_and_an_unknown_one_is_not_found(stored: Stored, tenant: str) -> None:
    shirt = Product(tenant, "10", name="Shirt", categories=("Tops",), stock_quantity=4, modified_gmt="2026-10-01")
    stored.put(shirt)
    assert stored.catalogue.get_product(tenant, "10") == shirt
    with pytest.raises(NotFoundError):
        stored.catalogue.get_product(tenant, "11")
    with pytest.raises(NotFoundError):
        stored.catalogue.get_product(new_tenant_id(), "10")  # another tenant's catalogue


def test_supply_terms_are_replaced_and_read_back_per_product(stored: Stored, tenant: str) -> None:
    catalogue = stored.catalogue
    # none set: every term None
    assert catalogue.get_product_supply(tenant, "10") == ProductSupply(tenant_id=tenant, product_id="10")
    assert catalogue.product_supplies(tenant) == {}
    saved = catalogue.save_product_supply(tenant, "10", lead_time_days=30, supplier="Atelier", actor="owner-sub")
    assert (saved.lead_time_days, saved.supplier, saved.updated_by) == (30, "Atelier", "owner-sub")
    assert saved.updated_at is not None
    catalogue.save_product_supply(tenant, "12", lead_time_days=None, supplier="Mill", actor="staff-sub")
    # a replacement clears the terms it does not set
    replaced = catalogue.save_product_supply(tenant, "10", lead_time_days=None, supplier=None, actor="staff-sub")
    assert (replaced.lead_time_days, replaced.supplier, replaced.updated_by) == (None, None, "staff-sub")
    assert catalogue.get_product_supply(tenant, "10") == replaced
    supplies = catalogue.product_supplies(tenant)
    assert sorted(supplies) == ["10", "12"] and supplies["12"].supplier == "Mill"
    assert catalogue.product_supplies(new_tenant_id()) == {}


def _line(product_id: str, quantity: float, *, net_quantity: float | None = None) -> OrderLine:
    kept = None if net_quantity is None else net_quantity * 5.0
    return OrderLine(
        line_id=f"l{product_id}",
        product_id=product_id,
        variation_id=None,
        name="a thing",
        sku=None,
        quantity=quantity,
        unit_price=5.0,
        subtotal=quantity * 5.0,
        total=quantity * 5.0,
        net_quantity=net_quantity,
        net_total=kept,
    )


def _order(
    tenant: str, order_id: str, *lines: OrderLine, status_class: str = "purchase", deleted: bool = False
) -> Order:
    return Order(
        tenant_id=tenant,
        order_id=order_id,
        status="completed" if status_class == "purchase" else "refunded",
        status_class=status_class,
        customer_id=f"c{order_id}",
        created_gmt=f"2026-10-0{order_id[-1]}T10:00:00",
        modified_gmt=f"2026-10-0{order_id[-1]}T12:00:00",
        total=sum(line.total for line in lines),
        line_items=lines,
        deleted=deleted,
    )


def test_order_summaries_are_every_order_of_the_tenant_with_its_lines_as_kept(stored: Stored, tenant: str) -> None:
    orders = [
        _order(tenant, "3", _line("p1", 2.0), _line("p2", 1.5)),
        _order(tenant, "12", _line("p1", 3.0, net_quantity=1.0)),  # two of three returned
        _order(tenant, "5", _line("p3", 1.0, net_quantity=0.0), status_class="refund"),
        _order(tenant, "7", deleted=True),
        _order(new_tenant_id(), "1", _line("p9", 1.0)),
    ]
    for order in orders:
        stored.put(order)
    summaries = list(stored.customers.iter_order_summaries(tenant))
    assert [summary.order_id for summary in summaries] == ["12", "3", "5", "7"]  # the table's order: by id
    assert summaries[0] == OrderSummary(
        order_id="12",
        customer_id="c12",
        created_gmt="2026-10-02T10:00:00",
        modified_gmt="2026-10-02T12:00:00",
        status_class="purchase",
        deleted=False,
        lines=(("p1", 1.0, 5.0, 5.0),),
    )
    assert summaries[1].lines == (("p1", 2.0, 5.0, 10.0), ("p2", 1.5, 5.0, 7.5))
    assert (summaries[2].status_class, summaries[2].lines) == ("refund", (("p3", 0.0, 5.0, 0.0),))
    assert (summaries[3].deleted, summaries[3].lines) == (True, ())
    assert list(stored.customers.iter_order_summaries(new_tenant_id())) == []


def test_a_customer_is_read_by_id_and_an_unknown_one_is_not_found(stored: Stored, tenant: str) -> None:
    ada = Customer(
        tenant,
        "7",
        email="ada@example.com",
        phone="+3531234567",
        first_name="Ada",
        country="IE",
        created_gmt="2026-09-01T08:00:00",
        modified_gmt="2026-10-01T08:00:00",
        content_hash="h7",
    )
    gone = Customer(tenant, "guest:ab12", modified_gmt="2026-10-02T08:00:00", deleted=True)
    for record in (ada, gone):
        stored.put(record)
    assert stored.customers.get_customer(tenant, "7") == ada
    assert stored.customers.get_customer(tenant, "guest:ab12") == gone  # a tombstone reads back as one
    with pytest.raises(NotFoundError):
        stored.customers.get_customer(tenant, "8")
    with pytest.raises(NotFoundError):
        stored.customers.get_customer(new_tenant_id(), "7")  # another tenant's customers


def test_customers_are_the_tenants_own_in_id_order_tombstones_included(stored: Stored, tenant: str) -> None:
    ada = Customer(tenant, "7", email="ada@example.com", modified_gmt="2026-10-01T08:00:00")
    bob = Customer(tenant, "12", first_name="Bob", modified_gmt="2026-10-01T08:00:00")
    gone = Customer(tenant, "guest:ab12", modified_gmt="2026-10-02T08:00:00", deleted=True)
    for record in (ada, gone, bob, Customer(new_tenant_id(), "1", modified_gmt="2026-10-01T08:00:00")):
        stored.put(record)
    assert list(stored.customers.iter_customers(tenant)) == [bob, ada, gone]  # the table's order: by id
    assert list(stored.customers.iter_customers(new_tenant_id())) == []


def test_products_customers_and_orders_are_counted_per_tenant_tombstones_included(stored: Stored, tenant: str) -> None:
    assert (stored.catalogue.count_products(tenant), stored.customers.count_customers(tenant)) == (0, 0)
    assert stored.customers.count_orders(tenant) == 0
    other = new_tenant_id()
    records: list[Product | Order | Customer] = [
        Product(tenant, "10", modified_gmt="2026-10-01T08:00:00"),
        Product(tenant, "11", parent_id="10", product_type="variation", modified_gmt="2026-10-01T08:00:00"),
        Product(tenant, "2", modified_gmt="2026-10-02T08:00:00", deleted=True),
        Product(other, "1", modified_gmt="2026-10-01T08:00:00"),
        Customer(tenant, "7", modified_gmt="2026-10-01T08:00:00"),
        Customer(tenant, "guest:ab12", modified_gmt="2026-10-02T08:00:00", deleted=True),
        Customer(other, "1", modified_gmt="2026-10-01T08:00:00"),
        _order(tenant, "3", _line("p1", 2.0)),
        _order(tenant, "7", deleted=True),
        _order(other, "1", _line("p9", 1.0)),
    ]
    for record in records:
        stored.put(record)
    assert stored.catalogue.count_products(tenant) == 3
    assert stored.customers.count_customers(tenant) == 2
    assert stored.customers.count_orders(tenant) == 2
    assert stored.catalogue.count_products(new_tenant_id()) == 0


def _dated(tenant: str, order_id: str, customer_id: str, created_gmt: str, *, deleted: bool = False) -> Order:
    return Order(
        tenant_id=tenant,
        order_id=order_id,
        status="completed",
        status_class="purchase",
        customer_id=customer_id,
        created_gmt=created_gmt,
        modified_gmt="2026-10-09T12:00:00",
        total=10.0,
        line_items=(_line("p1", 2.0),),
        deleted=deleted,
    )


def test_orders_of_a_window_are_the_tenants_live_ones_oldest_first(stored: Stored, tenant: str) -> None:
    early = _dated(tenant, "1", "c1", "2026-10-01T10:00:00")
    same_second_b = _dated(tenant, "9", "c2", "2026-10-03T10:00:00")
    same_second_a = _dated(tenant, "10", "c1", "2026-10-03T10:00:00")
    late = _dated(tenant, "4", "c2", "2026-10-05T10:00:00")
    gone = _dated(tenant, "5", "c1", "2026-10-04T10:00:00", deleted=True)
    for order in (late, gone, same_second_b, early, same_second_a, _dated(new_tenant_id(), "2", "c1", "2026-10-04")):
        stored.put(order)
    window = list(stored.customers.orders_created_since(tenant, "2026-10-03T10:00:00"))
    assert window == [same_second_a, same_second_b, late]  # by date, then order id; the tombstone left out
    assert list(stored.customers.orders_created_since(tenant, "2026-10-06")) == []
    assert list(stored.customers.orders_created_since(new_tenant_id(), "2026-01-01")) == []


def test_a_customers_orders_are_their_live_ones_oldest_first(stored: Stored, tenant: str) -> None:
    first = _dated(tenant, "3", "c1", "2026-10-01T10:00:00")
    second = _dated(tenant, "1", "c1", "2026-10-04T10:00:00")
    for order in (
        second,
        first,
        _dated(tenant, "2", "c2", "2026-10-02T10:00:00"),  # another customer's
        _dated(tenant, "5", "c1", "2026-10-03T10:00:00", deleted=True),
        _dated(new_tenant_id(), "6", "c1", "2026-10-02T10:00:00"),
    ):
        stored.put(order)
    assert list(stored.customers.orders_of_customer(tenant, "c1")) == [first, second]
    assert list(stored.customers.orders_of_customer(tenant, "c1", since_gmt="2026-10-02")) == [second]
    assert list(stored.customers.orders_of_customer(tenant, "c3")) == []


def test_price_decisions_are_the_tenants_own_oldest_first(stored: Stored, tenant: str) -> None:
    def decision(tenant_id: str, decision_id: str, status: str) -> PriceDecision:
        return PriceDecision(
            tenant_id=tenant_id,
            decision_id=decision_id,
            product_id="p1",
            variation_id=None,
            status=status,
            model_version="v1",
            decided_by="owner@example.com",
            decided_at=datetime.fromisoformat(decision_id[:19]).replace(tzinfo=UTC),
            reason=None,
            suggestion={"price": 27.5},
            change_record={"regular_price": "30.00"},
        )

    later = decision(tenant, "2026-10-05T09:00:00-b", "rejected")
    earlier = decision(tenant, "2026-10-01T09:00:00-a", "applied")
    for record in (later, earlier, decision(new_tenant_id(), "2026-10-01T09:00:00-c", "applied")):
        stored.decide(record)
    assert list(stored.decisions.iter_decisions(tenant)) == [earlier, later]


def _record(decisions: PriceDecisionRepository, tenant: str, decision_id: str, status: str) -> PriceDecision:
    return decisions.record_decision(
        tenant,
        decision_id,
        product_id="p1",
        variation_id="p1-2",
        status=status,
        model_version="v1",
        decided_by="owner@example.com",
        decided_at=datetime.fromisoformat(decision_id[:19]).replace(tzinfo=UTC),
        reason="too steep" if status == "rejected" else None,
        suggestion={"price": 27.5, "reasons": ["slow mover"]},
        change_record={"regular_price": "30.00"} if status == "applied" else None,
    )


def test_a_recorded_decision_reads_back_as_recorded_and_rolls_back_once(stored: Stored, tenant: str) -> None:
    applied = _record(stored.decisions, tenant, "2026-10-01T09:00:00-a", "applied")
    rejected = _record(stored.decisions, tenant, "2026-10-02T09:00:00-b", "rejected")
    assert (applied.status, applied.variation_id, applied.rollback_record) == ("applied", "p1-2", None)
    assert stored.decisions.get_decision(tenant, applied.decision_id) == applied
    assert stored.decisions.get_decision(tenant, rejected.decision_id) == rejected
    assert rejected.reason == "too steep" and rejected.change_record is None
    with pytest.raises(NotFoundError):
        stored.decisions.get_decision(new_tenant_id(), applied.decision_id)  # another tenant's id space

    undone = stored.decisions.mark_rolled_back(tenant, applied.decision_id, {"restored": {"regular_price": "30.00"}})
    assert (undone.status, undone.rollback_record) == ("rolled_back", {"restored": {"regular_price": "30.00"}})
    assert undone.suggestion == applied.suggestion and undone.change_record == applied.change_record
    assert stored.decisions.get_decision(tenant, applied.decision_id) == undone
    with pytest.raises(ConflictError):  # rolled back already
        stored.decisions.mark_rolled_back(tenant, applied.decision_id, {})
    with pytest.raises(ConflictError):  # never applied
        stored.decisions.mark_rolled_back(tenant, rejected.decision_id, {})
    with pytest.raises(ConflictError):  # not there
        stored.decisions.mark_rolled_back(tenant, "2026-10-03T09:00:00-c", {})


def test_a_decision_id_is_recorded_once(stored: Stored, tenant: str) -> None:
    first = _record(stored.decisions, tenant, "2026-10-01T09:00:00-a", "applied")
    with pytest.raises(ConflictError):  # the put is conditional on a new key: the first record stays
        _record(stored.decisions, tenant, first.decision_id, "rejected")
    assert stored.decisions.get_decision(tenant, first.decision_id) == first
    # Another tenant's decision of the same id is its own
    assert _record(stored.decisions, new_tenant_id(), first.decision_id, "rejected").status == "rejected"


def test_decisions_page_newest_first(stored: Stored, tenant: str) -> None:
    ids = ["2026-10-01T09:00:00-a", "2026-10-03T09:00:00-c", "2026-10-02T09:00:00-b"]
    for decision_id in ids:
        _record(stored.decisions, tenant, decision_id, "rejected")
    _record(stored.decisions, new_tenant_id(), "2026-10-04T09:00:00-d", "rejected")
    first = stored.decisions.decision_page(tenant, limit=2)
    assert [d.decision_id for d in first.items] == ["2026-10-03T09:00:00-c", "2026-10-02T09:00:00-b"]
    assert first.next_cursor is not None
    rest = stored.decisions.decision_page(tenant, limit=2, cursor=first.next_cursor)
    assert [d.decision_id for d in rest.items] == ["2026-10-01T09:00:00-a"] and rest.next_cursor is None
    assert stored.decisions.decision_page(new_tenant_id(), limit=2).items == []

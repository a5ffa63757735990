"""The in-memory personal data repository of tests/fakes.py behaves as the DynamoDB one on the embedded AWS: the
same checks pass on both, so a unit test of an export, an erasure or a tenant deletion over the fake says
something about the table's scans (which items are a customer's or a tenant's, what an erasure leaves behind).
The table's side reads small pages (about a 25th of the table a scan request, at least 4 items), so every case
follows a scan over many pages. Not 4 items whatever the table holds: in a session the table holds every other
test's items too, and moto reads the whole table for each page, so tiny pages cost the square of its size."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from fakes import InMemoryPersonalDataRepository
from personal_data_seeds import JEANNE, customer, guest, job, membership, order, seed_shop

from luxebrain.errors import InvalidInputError
from luxebrain.runtime import aws_client, configured_settings
from luxebrain.storage.items.base import BaseItem
from luxebrain.storage.items.campaigns import key_consent, key_send
from luxebrain.storage.items.catalogue import key_product
from luxebrain.storage.items.customers import key_customer, key_order
from luxebrain.storage.items.members import key_membership
from luxebrain.storage.items.privacy import key_privacy_job
from luxebrain.storage.personal_data import DynamoPersonalDataRepository, PersonalDataRepository, PersonalRecord
from luxebrain.tenancy import new_tenant_id
from luxebrain_dev.local.embedded import LocalResources

PSEUDONYM = "erased-0123456789abcdef"


@dataclass
class Table:
    """A repository and the way to seed and read back its table's items (DynamoDB JSON, None when absent)."""

    repository: PersonalDataRepository
    put: Callable[..., None]
    raw: Callable[[tuple[str, str]], dict[str, Any] | None]


def _dynamo_table() -> Table:
    def put(*entities: BaseItem) -> None:
        for entity in entities:
            entity.save()

    def raw(key: tuple[str, str]) -> dict[str, Any] | None:
        found = aws_client("dynamodb").get_item(
            TableName=configured_settings().table_name,
            Key={"pk": {"S": key[0]}, "sk": {"S": key[1]}},
            ConsistentRead=True,
        )
        item: dict[str, Any] | None = found.get("Item")
        return item

    pages = (
        aws_client("dynamodb")
        .get_paginator("scan")
        .paginate(TableName=configured_settings().table_name, Select="COUNT")
    )
    items = sum(page["Count"] for page in pages)
    return Table(DynamoPersonalDataRepository(page_size=max(4, items // 25)), put, raw)


def _in_memory_table() -> Table:
    fake = InMemoryPersonalDataRepository()
    return Table(fake, fake.put, fake.items.get)


@pytest.fixture(params=["in-memory", "dynamodb"])
def table(request: pytest.FixtureRequest, local_aws: LocalResources) -> Table:
    return _in_memory_table() if request.param == "in-memory" else _dynamo_table()


@pytest.fixture
def tenant() -> str:
    return new_tenant_id()


def by_entity(records: list[PersonalRecord]) -> dict[str, list[dict[str, Any]]]:
    grouped: dict[str, list[dict[str, Any]]] = {}
    for record in records:
        grouped.setdefault(record.entity, []).append(record.attributes)
    return {entity: sorted(found, key=lambda a: sorted(a.items()).__repr__()) for entity, found in grouped.items()}


# ----------------------------------------------------------------------------- the cases
def test_a_customers_records_are_every_item_naming_them_in_their_tenant_only(table: Table, tenant: str) -> None:
    neighbour = new_tenant_id()
    seed_shop(table.put, tenant, neighbour)
    records = by_entity(table.repository.customer_records(tenant, "c1"))
    assert {entity: len(found) for entity, found in records.items()} == {
        "customer": 2,  # the customer and the guest checkout found by her address
        "order": 3,  # the tombstone too
        "consent": 1,
        "suppression": 1,
        "campaign_send": 1,
    }
    assert sorted(a["customer_id"] for a in records["customer"]) == sorted(["c1", guest(tenant, JEANNE).customer_id])
    assert sorted(a["order_id"] for a in records["order"]) == ["o-1", "o-2", "o-3"]
    assert {a["tenant_id"] for found in records.values() for a in found} == {tenant}
    # plain JSON values, and never the keys, index keys or hashes
    (o2,) = [a for a in records["order"] if a["order_id"] == "o-2"]
    assert (o2["total"], o2["billing_country"], o2["deleted"]) == (19.9, "FR", False)
    assert [a["total"] for a in records["order"] if a["order_id"] == "o-1"] == [42]
    assert isinstance(o2["line_items"], list) and isinstance(o2["refunds"], str)  # JSON attributes as stored
    exported = {name for found in records.values() for a in found for name in a}
    assert not exported & {"pk", "sk", "gsi1pk", "gsi1sk", "gsi2pk", "gsi2sk", "content_hash"}
    assert table.repository.count_customer_items(tenant, "c1") == 8
    # c10's items are not c1's; the neighbour's c1 is the neighbour's
    assert {a["customer_id"] for a in by_entity(table.repository.customer_records(tenant, "c10"))["order"]} == {"c10"}
    assert table.repository.count_customer_items(neighbour, "c1") == 3
    assert table.repository.customer_records(tenant, "nobody") == []
    with pytest.raises(InvalidInputError):
        table.repository.customer_records(tenant, "bad id!")
    with pytest.raises(InvalidInputError):
        table.repository.count_customer_items("TENANT#x", "c1")


def test_an_erasure_deletes_the_customer_and_keeps_anonymised_orders_only(table: Table, tenant: str) -> None:
    neighbour = new_tenant_id()
    seed_shop(table.put, tenant, neighbour)
    others = {
        (owner, who): by_entity(table.repository.customer_records(owner, who))
        for owner, who in ((tenant, "c2"), (tenant, "c10"), (neighbour, "c1"))
    }
    erasure = table.repository.erase_customer_records(
        tenant, "c1", pseudonym=PSEUDONYM, anonymised_entities=frozenset({"order"})
    )
    assert erasure.deleted == {"customer": 2, "consent": 1, "suppression": 1, "campaign_send": 1}
    assert erasure.anonymised == {"order": 3}
    assert table.repository.customer_records(tenant, "c1") == []
    assert table.repository.count_customer_items(tenant, "c1") == 0
    for key in (
        key_customer(tenant, "c1"),
        key_consent(tenant, "c1", "email"),
        key_send(tenant, "winback", "c1", "2026-02"),
    ):
        assert table.raw(key) is None
    # the orders stay for the store's aggregates, without the customer, the by-customer index or the country
    for order_id in ("o-1", "o-2", "o-3"):
        kept = table.raw(key_order(tenant, order_id))
        assert kept is not None and kept["customer_id"] == {"S": PSEUDONYM}
        assert not {"gsi1pk", "gsi1sk", "billing_country", "email", "phone"} & set(kept)
    o1 = table.raw(key_order(tenant, "o-1"))
    assert o1 is not None and o1["total"] == {"N": "42"} and o1["gsi2pk"]["S"].endswith("#ORDERS_BY_DATE")
    # nobody else's items changed
    assert {(owner, who): by_entity(table.repository.customer_records(owner, who)) for owner, who in others} == others
    # erasing again finds nothing more
    again = table.repository.erase_customer_records(
        tenant, "c1", pseudonym=PSEUDONYM, anonymised_entities=frozenset({"order"})
    )
    assert (again.deleted, again.anonymised) == ({}, {})


def test_a_customer_over_many_pages_is_found_and_erased_whole(table: Table, tenant: str) -> None:
    # 9 orders of c1 among 24 of other customers: with small scan pages, c1's are spread over many of them
    table.put(customer(tenant, "c1", JEANNE))
    for n in range(33):
        table.put(order(tenant, f"o-{n}", "c1" if n % 4 == 0 else f"c-{n}"))
    assert table.repository.count_customer_items(tenant, "c1") == 10
    erasure = table.repository.erase_customer_records(tenant, "c1", pseudonym=PSEUDONYM, anonymised_entities=())
    assert erasure.deleted == {"customer": 1, "order": 9} and erasure.anonymised == {}
    assert table.repository.count_customer_items(tenant, "c1") == 0
    assert table.repository.count_tenant_items(tenant) == 24


def test_a_tenant_deletion_deletes_every_item_of_the_tenant_but_the_kept_ones(table: Table, tenant: str) -> None:
    neighbour = new_tenant_id()
    seed_shop(table.put, tenant, neighbour)
    receipt = key_privacy_job(tenant, "pj-" + "1" * 24)
    table.put(membership(tenant, "owner-sub"), membership(tenant, "staff-sub"), job(tenant, receipt[1]))
    table.put(*(order(tenant, f"bulk-{n}", f"c-{n}") for n in range(30)))  # more than one batch of 25
    table.put(membership(neighbour, "owner-sub"))
    total = 15 + 3 + 30
    assert table.repository.count_tenant_items(tenant) == total
    assert table.repository.count_tenant_items(tenant, keep={receipt}) == total - 1
    neighbours = table.repository.count_tenant_items(neighbour)
    assert neighbours == 4
    deleted = table.repository.delete_tenant_items(tenant, keep={receipt})
    assert deleted.items == total - 1
    assert sorted(deleted.member_user_ids) == ["owner-sub", "staff-sub"]
    assert table.repository.count_tenant_items(tenant, keep={receipt}) == 0
    assert table.repository.count_tenant_items(tenant) == 1 and table.raw(receipt) is not None
    assert table.raw(key_product(tenant, "p-2")) is None and table.raw(key_membership(tenant, "owner-sub")) is None
    # the neighbour keeps everything, its member included
    assert table.repository.count_tenant_items(neighbour) == neighbours
    assert table.raw(key_membership(neighbour, "owner-sub")) is not None
    assert table.repository.count_customer_items(neighbour, "c1") == 3
    again = table.repository.delete_tenant_items(tenant, keep={receipt})
    assert (again.items, again.member_user_ids) == (0, [])

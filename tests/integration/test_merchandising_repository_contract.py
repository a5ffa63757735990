"""The in-memory merchandising repository of tests/fakes.py behaves as the DynamoDB one on the embedded AWS: the
same checks pass on both, so a unit test of recommendation serving over the fake reads the rules the table
would give it."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from fakes import InMemoryMerchandisingRepository

from luxebrain.storage.merchandising import DynamoMerchandisingRepository, MerchandisingRepository
from luxebrain.tenancy import new_tenant_id
from luxebrain_dev.local.embedded import LocalResources


@pytest.fixture(params=["in-memory", "dynamodb"])
def rules(request: pytest.FixtureRequest, local_aws: LocalResources) -> MerchandisingRepository:
    return InMemoryMerchandisingRepository() if request.param == "in-memory" else DynamoMerchandisingRepository()


def test_none_set_reads_as_no_rules(rules: MerchandisingRepository) -> None:
    empty = rules.get_rules(new_tenant_id())
    assert (empty.pinned, dict(empty.boosts), empty.blocked) == ((), {}, frozenset())
    assert empty.updated_at is None and empty.updated_by is None


def test_saved_rules_replace_the_previous_ones_whole_and_read_back_as_saved(rules: MerchandisingRepository) -> None:
    tenant, other = new_tenant_id(), new_tenant_id()
    before = datetime.now(UTC)
    first = rules.save_rules(tenant, pinned=["7", "3"], boosts={"5": 0.25, "6": -1}, blocked=["9"], actor="u-1")
    assert (first.pinned, dict(first.boosts), first.blocked, first.updated_by) == (
        ("7", "3"),
        {"5": 0.25, "6": -1.0},
        frozenset({"9"}),
        "u-1",
    )
    assert first.updated_at is not None and first.updated_at >= before.replace(microsecond=0)
    assert rules.get_rules(tenant) == first
    second = rules.save_rules(tenant, pinned=[], boosts={}, blocked=["1", "2"], actor="u-2")
    assert (second.pinned, dict(second.boosts), second.blocked, second.updated_by) == (
        (),
        {},
        frozenset({"1", "2"}),
        "u-2",
    )
    assert rules.get_rules(tenant) == second
    assert rules.get_rules(other).pinned == ()  # another tenant's rules are its own

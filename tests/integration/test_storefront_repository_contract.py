"""The in-memory storefront repository of tests/fakes.py behaves as the DynamoDB one on the embedded AWS: the
same checks pass on both, so a unit test of the events route, an order's attribution or the results over the fake
gets the conditional writes the table would give it (an event and a first exposure stored once, an order counted
once per version of its amounts, the daily counters added)."""

from __future__ import annotations

import secrets

import pytest
from fakes import InMemoryStorefrontRepository

from luxebrain.storage.storefront import (
    DAILY_COUNTERS,
    DynamoStorefrontRepository,
    NewEvent,
    StorefrontRepository,
)
from luxebrain.tenancy import new_tenant_id
from luxebrain_dev.local.embedded import LocalResources

FAR = 2**31


@pytest.fixture(params=["in-memory", "dynamodb"])
def storefront(request: pytest.FixtureRequest, local_aws: LocalResources) -> StorefrontRepository:
    return InMemoryStorefrontRepository() if request.param == "in-memory" else DynamoStorefrontRepository()


def test_an_event_is_stored_once_and_the_lookup_tells_the_stored_ones(storefront: StorefrontRepository) -> None:
    tenant, visitor = new_tenant_id(), secrets.token_hex(12)
    first = [NewEvent(f"event-{n:04d}", "impression", "related", ("101",)) for n in range(6)]
    assert storefront.put_new_events(tenant, visitor, "treatment", first, occurred_at=10, expires_at=FAR) == {
        f"event-{n:04d}" for n in range(6)
    }
    later = [
        *first[3:],
        NewEvent("event-0100", "click", "related", ("101", "102")),
        NewEvent("event-0101", "add_to_cart", "basket", ("103",)),
    ]
    stored = storefront.put_new_events(tenant, visitor, "treatment", later, occurred_at=20, expires_at=FAR)
    assert stored == {"event-0100", "event-0101"}  # the replayed ones refused
    known = storefront.visitor_records(tenant, visitor, ["event-0001", "event-0100", "event-9999"], ["related"])
    assert known.event_ids == {"event-0001", "event-0100"} and known.exposed_placements == set()
    engagements = storefront.visitor_engagements(tenant, visitor)
    assert [(e.placement, e.product_ids, e.occurred_at) for e in engagements] == [
        ("related", ("101", "102"), 20.0),
        ("basket", ("103",), 20.0),
    ]
    assert storefront.visitor_engagements(new_tenant_id(), visitor) == []  # another tenant's visitor is its own


def test_a_first_exposure_is_recorded_once(storefront: StorefrontRepository) -> None:
    tenant, visitor = new_tenant_id(), secrets.token_hex(12)
    assert storefront.record_first_exposure(
        tenant, visitor, "related", "holdout", first_seen=1_700_000_000, day="2026-11-30", expires_at=FAR
    )
    assert not storefront.record_first_exposure(  # a replayed impression is no new visitor
        tenant, visitor, "related", "treatment", first_seen=1_700_000_100, day="2026-12-01", expires_at=FAR
    )
    assert storefront.record_first_exposure(
        tenant, visitor, "basket", "holdout", first_seen=1_700_000_200, day="2026-11-30", expires_at=FAR
    )
    assert storefront.visitor_records(tenant, visitor, [], ["related", "trending"]).exposed_placements == {"related"}
    exposures = storefront.visitor_exposures(tenant, visitor)
    assert [(e.placement, e.arm, e.first_seen, e.day, e.revenue) for e in exposures] == [
        ("basket", "holdout", 1_700_000_200.0, "2026-11-30", 0.0),
        ("related", "holdout", 1_700_000_000.0, "2026-11-30", 0.0),  # the first one kept
    ]
    assert all(e.counted_orders is None and e.charged_order_ids == () for e in exposures)


def test_an_order_counts_once_per_version_of_its_amounts(storefront: StorefrontRepository) -> None:
    tenant, visitor = new_tenant_id(), secrets.token_hex(12)
    storefront.record_first_exposure(
        tenant, visitor, "related", "treatment", first_seen=1, day="2026-12-01", expires_at=FAR
    )
    (exposure,) = storefront.visitor_exposures(tenant, visitor)
    assert storefront.count_order_on_exposure(exposure, "500", 0.0, 0.0, first_count=False) is None  # never anew
    first = storefront.count_order_on_exposure(exposure, "501", 120.0, 40.0, first_count=True)
    assert first is not None
    assert (first.revenue_before, first.added, first.attributed_before, first.orders_on_exposure) == (0, 120, None, 1)
    assert storefront.count_order_on_exposure(exposure, "501", 120.0, 40.0, first_count=True) is None  # replay
    (exposure,) = storefront.visitor_exposures(tenant, visitor)
    assert storefront.count_order_on_exposure(exposure, "501", 120.0, 40.0, first_count=True) is None
    refund = storefront.count_order_on_exposure(exposure, "501", 70.0, 0.0, first_count=True)
    assert refund is not None and (refund.revenue_before, refund.added, refund.attributed_before) == (120, -50, 40)
    # The refund delivered again from the snapshot before it: the amounts counted now differ, refused
    assert storefront.count_order_on_exposure(exposure, "501", 70.0, 0.0, first_count=True) is None
    second = storefront.count_order_on_exposure(exposure, "502", 30.0, 0.0, first_count=False)
    assert second is None  # not a purchase: a count it does not have is not made
    second = storefront.count_order_on_exposure(exposure, "502", 30.0, 0.0, first_count=True)
    assert second is not None and second.orders_on_exposure == 2 and second.revenue_before == 70
    (exposure,) = storefront.visitor_exposures(tenant, visitor)
    assert exposure.revenue == 100
    assert {order_id: (c.revenue, c.attributed) for order_id, c in (exposure.counted_orders or {}).items()} == {
        "501": (70.0, 0.0),
        "502": (30.0, 0.0),
    }


def test_the_daily_counters_are_added_and_read_from_a_day_on(storefront: StorefrontRepository) -> None:
    tenant = new_tenant_id()
    storefront.add_to_daily_stats(tenant, "related", "treatment", "2026-11-30", {"impressions": 3}, expires_at=FAR)
    storefront.add_to_daily_stats(tenant, "related", "treatment", "2026-12-01", {"impressions": 2}, expires_at=FAR)
    storefront.add_to_daily_stats(
        tenant, "related", "treatment", "2026-12-01", {"impressions": 1, "revenue": 12.5}, expires_at=FAR
    )
    storefront.add_to_daily_stats(tenant, "basket", "holdout", "2026-12-01", {"revenue": -2.5}, expires_at=FAR)
    storefront.add_to_daily_stats(tenant, "basket", "holdout", "2026-12-02", {}, expires_at=FAR)  # nothing written
    with pytest.raises(ValueError, match="not a daily counter: bogus"):
        storefront.add_to_daily_stats(tenant, "basket", "holdout", "2026-12-01", {"bogus": 1}, expires_at=FAR)
    rows = storefront.daily_stats_since(tenant, "2026-12-01")
    assert [(r.day, r.placement, r.arm) for r in rows] == [
        ("2026-12-01", "basket", "holdout"),
        ("2026-12-01", "related", "treatment"),
    ]
    assert all(set(r.counters) == set(DAILY_COUNTERS) for r in rows)
    assert (rows[0].counters["revenue"], rows[0].counters["impressions"]) == (-2.5, 0.0)
    assert (rows[1].counters["impressions"], rows[1].counters["revenue"]) == (3.0, 12.5)
    assert len(storefront.daily_stats_since(tenant, "2026-11-01")) == 3
    assert storefront.daily_stats_since(new_tenant_id(), "2026-11-01") == []

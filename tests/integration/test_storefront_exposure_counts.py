"""An order counted on a visitor's exposure, through the storefront repository against moto: once per version of
its amounts, a refund moving the count once, and exposures stored before net revenue was kept (no map of
counted orders, or orders counted as charged) handled as they were. Events stored once each, whatever the
order of their concurrent puts."""

from __future__ import annotations

import secrets
from dataclasses import replace

from luxebrain.storage.items.storefront import StorefrontExposureItem, key_storefront_exposure
from luxebrain.storage.storefront import (
    NewEvent,
    count_order_on_exposure,
    put_new_events,
    record_first_exposure,
    visitor_exposures,
    visitor_records,
)
from luxebrain_dev.local.embedded import LocalResources


def _exposed_visitor(tenant_id: str, *, legacy_order_ids: list[str] | None = None) -> str:
    visitor_id = secrets.token_hex(12)
    assert record_first_exposure(
        tenant_id, visitor_id, "related", "treatment", first_seen=1_700_000_000, day="2026-11-30", expires_at=2**31
    )
    assert not record_first_exposure(  # a replayed impression is no new visitor
        tenant_id, visitor_id, "related", "treatment", first_seen=1_700_000_100, day="2026-11-30", expires_at=2**31
    )
    if legacy_order_ids is not None:
        item = StorefrontExposureItem.get(*key_storefront_exposure(tenant_id, visitor_id, "related"))
        item.update(actions=[StorefrontExposureItem.order_ids.set(legacy_order_ids)])
    return visitor_id


def test_an_order_counts_once_and_a_refund_moves_its_count_once(local_aws: LocalResources, tenant_id: str) -> None:
    visitor_id = _exposed_visitor(tenant_id)
    (exposure,) = visitor_exposures(tenant_id, visitor_id)
    assert exposure.counted_orders is None and exposure.first_seen == 1_700_000_000  # kept the first one
    # The first count makes the map of counted orders (an exposure as stored before net revenue was kept)
    first = count_order_on_exposure(exposure, "501", 120.0, 40.0, first_count=True)
    assert first is not None
    assert (first.revenue_before, first.added, first.attributed_before, first.orders_on_exposure) == (0, 120, None, 1)
    # The same version delivered again, even from the snapshot read before the count: nothing changes
    assert count_order_on_exposure(exposure, "501", 120.0, 40.0, first_count=True) is None
    (exposure,) = visitor_exposures(tenant_id, visitor_id)
    assert count_order_on_exposure(exposure, "501", 120.0, 40.0, first_count=True) is None
    # A refund moves the count to the new net, once
    refund = count_order_on_exposure(exposure, "501", 70.0, 0.0, first_count=True)
    assert refund is not None
    assert (refund.revenue_before, refund.added, refund.attributed_before) == (120, -50, 40)
    assert count_order_on_exposure(exposure, "501", 70.0, 0.0, first_count=True) is None  # stale snapshot: refused
    # A second order of the visitor counts as their second
    second = count_order_on_exposure(exposure, "502", 30.0, 0.0, first_count=True)
    assert second is not None and second.orders_on_exposure == 2 and second.revenue_before == 70
    (exposure,) = visitor_exposures(tenant_id, visitor_id)
    assert exposure.revenue == 100
    assert {order_id: (c.revenue, c.attributed) for order_id, c in (exposure.counted_orders or {}).items()} == {
        "501": (70.0, 0.0),
        "502": (30.0, 0.0),
    }


def test_an_order_no_longer_a_purchase_never_counts_anew(local_aws: LocalResources, tenant_id: str) -> None:
    visitor_id = _exposed_visitor(tenant_id)
    (exposure,) = visitor_exposures(tenant_id, visitor_id)
    assert count_order_on_exposure(exposure, "601", 0.0, 0.0, first_count=False) is None
    assert count_order_on_exposure(replace(exposure, counted_orders={}), "601", 0.0, 0.0, first_count=False) is None
    (exposure,) = visitor_exposures(tenant_id, visitor_id)
    assert exposure.counted_orders is None and exposure.revenue == 0


def test_orders_counted_as_charged_before_net_was_kept_stay_as_counted(
    local_aws: LocalResources, tenant_id: str
) -> None:
    visitor_id = _exposed_visitor(tenant_id, legacy_order_ids=["701"])
    (exposure,) = visitor_exposures(tenant_id, visitor_id)
    assert exposure.charged_order_ids == ("701",)
    assert count_order_on_exposure(exposure, "701", 10.0, 0.0, first_count=True) is None
    # Even from a snapshot that does not know it yet: the condition on the stored list refuses it
    stale = replace(exposure, charged_order_ids=())
    assert count_order_on_exposure(stale, "701", 10.0, 0.0, first_count=True) is None
    # A new order of that visitor is their second
    new = count_order_on_exposure(exposure, "702", 25.0, 5.0, first_count=True)
    assert new is not None and new.orders_on_exposure == 2 and new.added == 25


def test_a_batch_stores_only_its_events_not_stored_yet_and_says_which(
    local_aws: LocalResources, tenant_id: str
) -> None:
    visitor_id = secrets.token_hex(12)

    def events(*ids: str) -> list[NewEvent]:
        return [NewEvent(event_id, "impression", "related", ("101",)) for event_id in ids]

    first = [f"event-{n:04d}" for n in range(12)]
    stored = put_new_events(tenant_id, visitor_id, "treatment", events(*first), occurred_at=1, expires_at=2**31)
    assert stored == set(first)
    # A batch overlapping it (as a replay racing the lookup would): the puts run at once, the stored are refused
    later = [*first[6:], *(f"event-{n:04d}" for n in range(12, 18))]
    stored = put_new_events(tenant_id, visitor_id, "treatment", events(*later), occurred_at=1, expires_at=2**31)
    assert stored == {f"event-{n:04d}" for n in range(12, 18)}
    # and one lookup tells the stored events and the placements the visitor was exposed to
    record_first_exposure(tenant_id, visitor_id, "related", "treatment", first_seen=1, day="2026-12-02", expires_at=2)
    known = visitor_records(tenant_id, visitor_id, [*later, "event-9999"], ["related", "basket"])
    assert known.event_ids == set(later) and known.exposed_placements == {"related"}

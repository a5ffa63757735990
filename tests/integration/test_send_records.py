"""The send record's conditional writes through the campaigns repository against moto: created once, a
``retrying`` record taken back by one redelivery only, and a stale claim marked ``unknown`` only while it is
still that claim."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from luxebrain.storage.campaigns import (
    SendRecord,
    create_send_record,
    get_send_record,
    mark_stale_claim_unknown,
    reclaim_retrying_send,
    recorded_sends,
    settle_send,
)
from luxebrain_dev.local.embedded import LocalResources

NOON = datetime(2026, 11, 26, 12, tzinfo=UTC)


def _record(tenant_id: str, customer_id: str, status: str = "claimed") -> SendRecord:
    return SendRecord(
        tenant_id=tenant_id,
        flow="campaign-records",
        customer_id=customer_id,
        trigger="t1",
        channel="email",
        status=status,
        assigned_at=NOON,
        attempts=1,
        claimed_at=NOON,
    )


def test_a_send_record_is_created_once(local_aws: LocalResources, tenant_id: str) -> None:
    record = _record(tenant_id, "1")
    assert create_send_record(record)
    assert not create_send_record(replace(record, status="held_out"))
    assert get_send_record(tenant_id, "campaign-records", "1", "t1").status == "claimed"
    pairs = [("1", "t1"), ("2", "t1"), ("1", "t1")]  # a repeated pair is asked once
    assert recorded_sends(tenant_id, "campaign-records", pairs) == {("1", "t1")}


def test_of_two_redeliveries_of_a_retrying_send_one_takes_it(local_aws: LocalResources, tenant_id: str) -> None:
    record = _record(tenant_id, "3")
    assert create_send_record(record)
    settle_send(record, "retrying", "throttled")
    read = get_send_record(tenant_id, "campaign-records", "3", "t1")
    first, owned = reclaim_retrying_send(read, NOON + timedelta(minutes=1))
    assert owned and first.status == "claimed" and first.attempts == 2
    second, owned_too = reclaim_retrying_send(read, NOON + timedelta(minutes=1))
    assert not owned_too and second.status == "claimed" and second.attempts == 2
    # and once the winner's attempt failed too, the loser's old read still does not take the next attempt
    settle_send(first, "retrying", "throttled again")
    late, owned_late = reclaim_retrying_send(read, NOON + timedelta(minutes=2))
    assert not owned_late and (late.status, late.attempts) == ("retrying", 2)


def test_a_stale_claim_is_marked_unknown_only_while_it_is_that_claim(local_aws: LocalResources, tenant_id: str) -> None:
    record = _record(tenant_id, "4")
    assert create_send_record(record)
    settle_send(record, "retrying", "throttled")
    reclaimed, _ = reclaim_retrying_send(
        get_send_record(tenant_id, "campaign-records", "4", "t1"), NOON + timedelta(hours=1)
    )
    # The first claim's snapshot is stale: the record is another claim now, which is left alone
    mark_stale_claim_unknown(record, "stopped")
    assert get_send_record(tenant_id, "campaign-records", "4", "t1").status == "claimed"
    mark_stale_claim_unknown(reclaimed, "stopped")
    stored = get_send_record(tenant_id, "campaign-records", "4", "t1")
    assert (stored.status, stored.reason) == ("unknown", "stopped")

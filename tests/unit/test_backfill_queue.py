"""A back-fill request on the in-memory queue: one message per slice, in the store's FIFO group."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from fakes import InMemoryTenantRepository, RecordingQueue

from luxebrain.errors import InvalidInputError
from luxebrain.ingest.backfill import request_reconciliation_of_all_stores
from luxebrain.ingest.backfill_queue import request_backfill
from luxebrain.ingest.store_sync import request_webhook_health_of_due_stores
from luxebrain.storage.tenants import Store
from luxebrain.woocommerce.webhooks import HEALTH_SLOTS, health_slot

TENANT = "t-0123456789ab"


def test_each_slice_is_one_message_in_the_stores_group() -> None:
    queue = RecordingQueue()
    request_backfill(queue, TENANT, "s-1", connect=True)
    request_backfill(queue, TENANT, "s-1", continuation=1)
    assert queue.bodies() == [
        {"tenant_id": TENANT, "store_id": "s-1", "continuation": 0, "connect": True},
        {"tenant_id": TENANT, "store_id": "s-1", "continuation": 1},
    ]
    assert {message.group_id for message in queue.sent} == {f"{TENANT}:s-1"}  # two slices never run at once
    assert len({message.deduplication_id for message in queue.sent}) == 2


def test_a_health_run_is_flagged_and_a_forged_tenant_queues_nothing() -> None:
    queue = RecordingQueue()
    request_backfill(queue, TENANT, "s-2", webhook_health=True)
    assert json.loads(queue.sent[0].body)["webhook_health"] is True
    with pytest.raises(InvalidInputError):
        request_backfill(queue, "TENANT#x", "s-2")
    assert len(queue.sent) == 1


def _directory() -> tuple[InMemoryTenantRepository, str, str]:
    """An active tenant with an active and a paused store, and a suspended tenant with an active store."""
    tenants = InMemoryTenantRepository()
    active = tenants.create_tenant("Open").tenant_id
    suspended = tenants.create_tenant("Closed").tenant_id
    tenants.set_tenant_status(suspended, "suspended")
    now = datetime.now(UTC)
    for tenant_id, store_id, status in (
        (active, "s-on", "active"),
        (active, "s-off", "paused"),
        (suspended, "s-x", "active"),
    ):
        tenants.add_store(Store(tenant_id, store_id, "https://shop.example", "EUR", "UTC", status, now))
    return tenants, active, suspended


def test_the_daily_reconciliation_queues_each_active_store_of_each_active_tenant() -> None:
    tenants, active, _ = _directory()
    queue = RecordingQueue()
    assert request_reconciliation_of_all_stores(queue, tenants) == 1
    assert [(body["tenant_id"], body["store_id"]) for body in queue.bodies()] == [(active, "s-on")]


def test_the_health_tick_queues_an_active_store_in_its_slot_only() -> None:
    tenants, active, _ = _directory()
    slot = health_slot(active, "s-on")
    at_its_slot = datetime(2026, 12, 3, 7, slot * (60 // HEALTH_SLOTS), tzinfo=UTC)
    queue = RecordingQueue()
    assert request_webhook_health_of_due_stores(queue, tenants, at_its_slot) == 1
    assert queue.bodies()[0]["store_id"] == "s-on" and queue.bodies()[0]["webhook_health"] is True
    other_slot = datetime(2026, 12, 3, 7, ((slot + 1) % HEALTH_SLOTS) * (60 // HEALTH_SLOTS), tzinfo=UTC)
    assert request_webhook_health_of_due_stores(RecordingQueue(), tenants, other_slot) == 0

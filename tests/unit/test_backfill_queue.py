"""A back-fill request on the in-memory queue: one message per slice, in the store's FIFO group."""

from __future__ import annotations

import json

import pytest
from fakes import RecordingQueue

from luxebrain.errors import InvalidInputError
from luxebrain.ingest.backfill_queue import request_backfill

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

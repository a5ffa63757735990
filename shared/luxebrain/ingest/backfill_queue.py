"""Queueing a back-fill slice for the back-fill function: one SQS message, nothing else.

Apart from luxebrain.ingest.backfill (the REST client, the processor and every storage module behind it),
because the wc-auth callback and the API queue slices but never run one.
"""

from __future__ import annotations

import json
from typing import Any

from luxebrain.adapters import MessageQueue
from luxebrain.ingest.envelope import body_hash, utc_now_iso
from luxebrain.tenancy import validate_tenant_id


def request_backfill(
    backfill_queue: MessageQueue,
    tenant_id: str,
    store_id: str,
    *,
    continuation: int = 0,
    connect: bool = False,
    webhook_health: bool = False,
) -> str:
    """Queue a back-fill (or the next slice of one) for the back-fill function. The FIFO group per store
    keeps two slices of the same store from running at once. ``connect``: the store was just connected, so its
    webhooks are registered (or updated) before the back-fill starts. ``webhook_health``: the hourly check of
    the store's webhooks, back-filling only when one had to be re-enabled."""
    validate_tenant_id(tenant_id)
    request: dict[str, Any] = {"tenant_id": tenant_id, "store_id": store_id, "continuation": continuation}
    if connect:
        request["connect"] = True
    if webhook_health:
        request["webhook_health"] = True
    body = json.dumps(request)
    return backfill_queue.send(
        body,
        group_id=f"{tenant_id}:{store_id}"[:128],
        deduplication_id=body_hash(f"{body}|{utc_now_iso()}".encode()),
    )

"""What travels on the ingest queue: one WooCommerce delivery, verified, with where it came from.

The raw body is kept as received (text) so the processor validates exactly what WooCommerce signed; the
tenant and store come from the verified path, never from the body.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

SUPPORTED_RESOURCES = ("order", "product", "customer", "coupon")
SUPPORTED_EVENTS = ("created", "updated", "deleted", "restored")
Source = Literal["webhook", "backfill", "redrive"]


class IngestEnvelope(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    tenant_id: str = Field(min_length=4, max_length=40)
    store_id: str = Field(min_length=1, max_length=128)
    resource: str
    event: str
    topic: str
    body: str
    received_at: str  # our clock, ISO seconds (UTC); dates deletions, which carry no date of their own
    delivery_id: str | None = None
    webhook_id: str | None = None
    source: Source = "webhook"

    @property
    def body_sha256(self) -> str:
        return body_hash(self.body.encode("utf-8"))


def body_hash(raw_body: bytes) -> str:
    return hashlib.sha256(raw_body).hexdigest()


def utc_now_iso() -> str:
    return datetime.now(UTC).replace(tzinfo=None).isoformat(timespec="seconds")


def message_group_id(tenant_id: str, store_id: str, resource: str, resource_id: str) -> str:
    """Per store and resource id: one record's events stay in order, different records run in parallel."""
    group = f"{tenant_id}:{store_id}:{resource}:{resource_id}"
    if len(group) > 128:  # SQS's limit; ids this long only come from hand-made requests
        group = f"{tenant_id}:{hashlib.sha256(group.encode()).hexdigest()[:80]}"
    return group

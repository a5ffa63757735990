"""Ingest bookkeeping: rejected deliveries and back-fill checkpoints."""

from __future__ import annotations

from pynamodb.attributes import (
    NumberAttribute,
    UnicodeAttribute,
)

from luxebrain.storage.items.base import BaseItem
from luxebrain.tenancy import tenant_partition


class RejectedEventItem(BaseItem):
    """A webhook delivery or back-fill record that could not be stored, with the reason. No body is kept
    (it holds personal data): only its hash and size, enough to match it to WooCommerce's delivery log."""

    ENTITY = "rejected_event"
    store_id = UnicodeAttribute()
    topic = UnicodeAttribute()
    reason = UnicodeAttribute()
    resource_id = UnicodeAttribute(null=True)
    delivery_id = UnicodeAttribute(null=True)
    body_sha256 = UnicodeAttribute()
    body_bytes = NumberAttribute(default=0)
    received_at = UnicodeAttribute()


class IngestCheckpointItem(BaseItem):
    """Back-fill progress of one store and resource: where to resume after a crash or a Lambda timeout."""

    ENTITY = "ingest_checkpoint"
    store_id = UnicodeAttribute()
    resource = UnicodeAttribute()  # products | customers | orders | _run (the whole store's run)
    run_id = UnicodeAttribute(null=True)  # the back-fill run this checkpoint belongs to
    status = UnicodeAttribute(default="running")  # running | done
    watermark_gmt = UnicodeAttribute(null=True)  # modified_after of the next incremental run
    run_modified_after = UnicodeAttribute(null=True)  # fixed for the run in progress, so pages stay stable
    run_high_water_gmt = UnicodeAttribute(null=True)  # newest date_modified_gmt seen in this run
    next_page = NumberAttribute(default=1)
    total_pages = NumberAttribute(null=True)
    items_done = NumberAttribute(default=0)
    total_items = NumberAttribute(null=True)  # X-WP-Total of the run's query (the dashboard's progress bar)
    run_started_at = UnicodeAttribute(null=True)  # when this resource's run began (for the ETA)
    runs_completed = NumberAttribute(default=0)


def key_rejected_event(tenant_id: str, received_at: str, event_id: str) -> tuple[str, str]:
    return tenant_partition(tenant_id, "REJECTED"), f"{received_at}#{event_id}"


def key_ingest_checkpoint(tenant_id: str, store_id: str, resource: str) -> tuple[str, str]:
    return tenant_partition(tenant_id, "CHECKPOINT"), f"{store_id}#{resource}"


class WebhookTopicActivityItem(BaseItem):
    """When a delivery of one of a store's webhook topics was last seen (the store's ingest status, per topic)."""

    ENTITY = "webhook_topic_activity"
    store_id = UnicodeAttribute()
    topic = UnicodeAttribute()
    last_delivery_at = UnicodeAttribute()


def key_webhook_topic_activity(tenant_id: str, store_id: str, topic: str) -> tuple[str, str]:
    return tenant_partition(tenant_id, "TOPIC_ACTIVITY"), f"{store_id}#{topic}"

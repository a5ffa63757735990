"""Back-fill: one slice of a store's REST back-fill per invocation, queued again until done.

Triggered by the BackfillQueue (FIFO, one group per store), and once a day by a schedule that queues an
incremental back-fill of every store (reconciling whatever webhooks missed). A slice stops a minute before
the Lambda timeout with the checkpoint saved and queues the next slice, so a 100k-order store needs many
short invocations rather than one that cannot finish.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ConfigDict, Field

from luxebrain.adapters.aws import mail_service, models_bucket, queue, secrets_vault
from luxebrain.billing.usage import plan_usage
from luxebrain.ingest.backfill import ClientFactory, backfill_store, request_reconciliation_of_all_stores, store_clients
from luxebrain.ingest.backfill_queue import request_backfill
from luxebrain.ingest.store_sync import (
    register_store_webhooks,
    request_webhook_health_of_due_stores,
    run_webhook_health,
)
from luxebrain.observability import bind_tenant, logger, metrics, tracer
from luxebrain.runtime import on_reset
from luxebrain.storage.ingest import ingest_repository
from luxebrain.storage.members import member_repository
from luxebrain.storage.storefront import storefront_repository
from luxebrain.storage.tenants import tenant_repository
from luxebrain.storage.training import training_repository

STOP_WHEN_REMAINING_MS = 60_000


@cache
def store_clients_once() -> ClientFactory:
    """Once per execution environment: the stores' REST clients, their keys decrypted by the secrets vault."""
    return store_clients(secrets_vault(), tenant_repository())


on_reset(store_clients_once.cache_clear)


class BackfillRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")

    tenant_id: str = Field(min_length=4, max_length=40)
    store_id: str = Field(min_length=1, max_length=128)
    continuation: int = Field(default=0, ge=0)
    connect: bool = False  # just connected: register the webhooks first
    webhook_health: bool = False  # the hourly webhook check: back-fill only if a webhook had to be re-enabled


class BackfillEvent(BaseModel):
    """An SQS event from the BackfillQueue (batch size 1)."""

    Records: list[dict[str, Any]] = Field(min_length=1, max_length=1)

    def request(self) -> BackfillRequest:
        return BackfillRequest.model_validate_json(self.Records[0]["body"])


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    if event.get("reconcile") == "all_stores":  # the daily schedule
        queued = request_reconciliation_of_all_stores(queue("backfill_queue_url"), tenant_repository())
        metrics.add_metric(name="BackfillReconciliationsQueued", unit=MetricUnit.Count, value=queued)
        return {"queued": queued}
    if event.get("webhook_health") == "due_stores":  # the 5-minute tick: each store once an hour
        queued = request_webhook_health_of_due_stores(queue("backfill_queue_url"), tenant_repository())
        metrics.add_metric(name="WebhookHealthChecksQueued", unit=MetricUnit.Count, value=queued)
        return {"queued": queued}
    request = BackfillEvent.model_validate(event).request()
    bind_tenant(request.tenant_id)
    tenants = tenant_repository()
    if not tenants.store_exists(request.tenant_id, request.store_id):  # removed since this was queued: nothing to do
        logger.info("back-fill skipped: the store was removed", extra={"store": request.store_id})
        return {"skipped": "store removed"}
    if request.connect:
        # The columnar snapshot brings numpy, which only this once-per-store step needs.
        from luxebrain.training.snapshot import seed_training_snapshot

        sync = register_store_webhooks(
            request.tenant_id, request.store_id, store_clients_once(), vault=secrets_vault(), tenants=tenants
        )
        seed_training_snapshot(request.tenant_id, files=models_bucket())
        metrics.add_metric(name="WebhooksCreated", unit=MetricUnit.Count, value=len(sync.created) if sync else 0)
    if request.webhook_health:
        health = run_webhook_health(
            request.tenant_id,
            request.store_id,
            store_clients_once(),
            mail=mail_service(),
            members=member_repository(),
            vault=secrets_vault(),
            tenants=tenants,
        )
        metrics.add_metric(name="WebhooksReEnabled", unit=MetricUnit.Count, value=len(health.re_enabled))
        if not health.needs_backfill:
            return {"webhook_health": "ok" if health.ok else "failing", "error": health.error}
    report = backfill_store(
        request.tenant_id,
        request.store_id,
        store_clients_once(),
        files=models_bucket(),
        records=ingest_repository(),
        usage=plan_usage(),
        training=training_repository(),
        storefront=storefront_repository(),
        should_stop=lambda: context.get_remaining_time_in_millis() < STOP_WHEN_REMAINING_MS,
    )
    metrics.add_metric(name="BackfillItems", unit=MetricUnit.Count, value=report.items)
    if not report.done:
        next_slice = request.continuation + 1
        request_backfill(queue("backfill_queue_url"), request.tenant_id, request.store_id, continuation=next_slice)
    summary = report.summary()
    logger.info("back-fill slice finished", extra={"summary": summary})
    return summary

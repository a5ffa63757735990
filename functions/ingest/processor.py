"""Ingest processor: SQS FIFO batches → validated WooCommerce payloads → DynamoDB, with partial batch failures.

A failing message is reported in batchItemFailures (with the rest of its message group, to keep each
record's events in order); the other groups of the batch still land. After the queue's maxReceiveCount the
failing message goes to the dead-letter queue.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache, partial
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import SqsFifoPartialProcessor, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from luxebrain.adapters.aws import models_bucket, secrets_vault
from luxebrain.billing.usage import UsageCounter, plan_usage
from luxebrain.ingest.processor import (
    ProcessResult,
    RefundLinesFetcher,
    feed_training,
    process_message,
    record_store_activity,
    store_refund_lines,
)
from luxebrain.observability import logger, metrics, tracer
from luxebrain.runtime import on_reset
from luxebrain.storage.ingest import IngestRepository, ingest_repository
from luxebrain.storage.storefront import StorefrontRepository, storefront_repository
from luxebrain.storage.tenants import TenantRepository, tenant_repository
from luxebrain.storage.training import TrainingRepository, training_repository

if TYPE_CHECKING:
    from luxebrain.woocommerce.client import WooCommerceClient

batch_processor = SqsFifoPartialProcessor(skip_group_on_error=True)


_batch_results: list[ProcessResult] = []  # this invocation's results, handed to training at its end


@cache
def store_clients_once() -> Callable[[str, str], WooCommerceClient]:
    """Once per execution environment, at the first new refund (the REST client stays out of the cold import):
    the stores' REST clients, their keys decrypted by the secrets vault."""
    from luxebrain.ingest.backfill import store_clients

    return store_clients(secrets_vault(), tenant_repository())


on_reset(store_clients_once.cache_clear)
refund_lines = store_refund_lines(lambda tenant_id, store_id: store_clients_once()(tenant_id, store_id))


def record_handler(
    record: SQSRecord,
    refunds: RefundLinesFetcher,
    records: IngestRepository,
    usage: UsageCounter,
    storefront: StorefrontRepository,
) -> str:
    result = process_message(
        record.body,
        message_id=record.message_id,
        refunds=refunds,
        records=records,
        usage=usage,
        storefront=storefront,
        receive_count=int(record.attributes.approximate_receive_count or 1),
    )
    metrics.add_metric(name=f"Ingest{result.outcome.capitalize()}", unit=MetricUnit.Count, value=1)
    metrics.add_metric(name="IngestWrites", unit=MetricUnit.Count, value=result.writes)
    if result.outcome == "rejected":
        logger.warning("delivery rejected", extra={"message_id": record.message_id, "reason": result.reason})
    _batch_results.append(result)
    return result.outcome


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    # The repositories are made once per execution environment; asking for them here (not at import) binds the
    # table on the first batch, and again after a runtime reset.
    return handle_batch(
        event,
        context,
        refund_lines,
        records=ingest_repository(),
        usage=plan_usage(),
        tenants=tenant_repository(),
        training=training_repository(),
        storefront=storefront_repository(),
    )


def handle_batch(
    event: dict[str, Any],
    context: LambdaContext,
    refunds: RefundLinesFetcher,
    *,
    records: IngestRepository,
    usage: UsageCounter,
    tenants: TenantRepository,
    training: TrainingRepository,
    storefront: StorefrontRepository,
) -> dict[str, Any]:
    """One SQS batch, new refunds getting their lines from ``refunds`` (the handler passes the stores'), its
    records stored in ``records`` and metered in ``usage``, its orders' storefront attribution counted in
    ``storefront``, its stores' last event stamped in ``tenants`` and its tenants' data marked changed in
    ``training``."""
    _batch_results.clear()
    response = process_partial_response(
        event=event,
        record_handler=partial(record_handler, refunds=refunds, records=records, usage=usage, storefront=storefront),
        processor=batch_processor,
        context=context,
    )
    # After the writes; a lost delta drops the snapshot (rebuilt from the table).
    feed_training(_batch_results, files=models_bucket(), training=training)
    record_store_activity(_batch_results, records=records, tenants=tenants)
    return response

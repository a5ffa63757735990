"""Ingest processor: SQS FIFO batches → validated WooCommerce payloads → DynamoDB, with partial batch failures.

A failing message is reported in batchItemFailures (with the rest of its message group, to keep each
record's events in order); the other groups of the batch still land. After the queue's maxReceiveCount the
failing message goes to the dead-letter queue.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import SqsFifoPartialProcessor, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from luxebrain.adapters.aws import models_bucket
from luxebrain.ingest.processor import ProcessResult, feed_training, process_message, record_store_activity
from luxebrain.observability import logger, metrics, tracer

batch_processor = SqsFifoPartialProcessor(skip_group_on_error=True)


_batch_results: list[ProcessResult] = []  # this invocation's results, handed to training at its end


def record_handler(record: SQSRecord) -> str:
    result = process_message(
        record.body,
        message_id=record.message_id,
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
    _batch_results.clear()
    response = process_partial_response(
        event=event, record_handler=record_handler, processor=batch_processor, context=context
    )
    # After the writes; a lost delta drops the snapshot (rebuilt from the table).
    feed_training(_batch_results, files=models_bucket())
    record_store_activity(_batch_results)
    return response

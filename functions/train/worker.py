"""Training worker: TrainQueue messages (one tenant each) → every model kind trained → S3 + current pointer.

A message whose tenant is leased by another run, or whose run fails as a whole (the data read, or every kind),
is reported in batchItemFailures and retried after the visibility timeout, then dead-lettered. One kind's
failure is recorded in its run record and does not fail the message.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from luxebrain.adapters.aws import models_bucket
from luxebrain.observability import logger, metrics, tracer
from luxebrain.storage.training import training_repository
from luxebrain.training import handle_train_request
from luxebrain.training.sources import table_sources

batch_processor = BatchProcessor(event_type=EventType.SQS)
training_sources = table_sources()  # stateless repositories over the table: built once per execution environment


def record_handler(record: SQSRecord) -> str:
    report = handle_train_request(
        record.body, files=models_bucket(), training=training_repository(), sources=training_sources
    )
    logger.info(
        "tenant trained",
        extra={"tenant": report.tenant_id, "status": report.status, "kinds": [k.status for k in report.kinds]},
    )
    return report.status


@logger.inject_lambda_context(correlation_id_path="Records[0].messageId")
@metrics.log_metrics
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return process_partial_response(
        event=event, record_handler=record_handler, processor=batch_processor, context=context
    )

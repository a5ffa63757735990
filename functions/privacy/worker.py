"""Privacy worker: the privacy queue's personal-data jobs (a customer's export or erasure, a tenant's
deletion), one message one job, with Powertools' BatchProcessor reporting partial batch failures.

A job that failed for a reason the merchant can act on (no such customer) completes its message with the job
marked failed; an unexpected error makes the message a batch item failure, delivered again until the
queue's maxReceiveCount moves it to the dead-letter queue (its alarm tells the operator).
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from luxebrain.adapters.aws import models_bucket, user_directory
from luxebrain.observability import bind_tenant, logger, metrics, tracer
from luxebrain.privacy.jobs import run_job
from luxebrain.privacy.requests import PrivacyJobMessage
from luxebrain.storage.personal_data import personal_data_repository
from luxebrain.storage.privacy_jobs import privacy_job_repository
from luxebrain.storage.tenants import tenant_repository

batch_processor = BatchProcessor(event_type=EventType.SQS)
# Stateless, over the table: built once per execution environment.
tenants = tenant_repository()
jobs = privacy_job_repository()
personal_data = personal_data_repository()


def record_handler(record: SQSRecord) -> str:
    message = PrivacyJobMessage.model_validate_json(record.body)  # a malformed body fails until the DLQ keeps it
    bind_tenant(message.tenant_id)
    attempt = int(record.attributes.approximate_receive_count or 1)
    outcome = run_job(
        message,
        attempt=attempt,
        files=models_bucket(),
        users=user_directory(),
        audit=tenants,
        jobs=jobs,
        personal_data=personal_data,
    )
    metrics.add_metric(name=f"PrivacyJob{outcome.capitalize()}", unit=MetricUnit.Count, value=1)
    logger.info("privacy job", extra={"job_id": message.job_id, "kind": message.kind, "outcome": outcome})
    return outcome


@logger.inject_lambda_context(log_event=False)
@metrics.log_metrics
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return process_partial_response(
        event=event, record_handler=record_handler, processor=batch_processor, context=context
    )

"""Campaign sender: drains the send queue with Powertools' BatchProcessor; one message, one exactly-once send.

A provider failure worth retrying makes that message a batch item failure and pushes its next attempt back
with exponential backoff (ChangeMessageVisibility); after the queue's maxReceiveCount it goes to the
dead-letter queue. Everything else (sent, skipped with a reason, duplicate, deferred) completes the message.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import cache, partial
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

import luxebrain.campaigns.sandbox  # noqa: F401 - every message renders: Jinja2 loads at init, not on the first one
from luxebrain.adapters.aws import mail_service, queue, secrets_vault, sms_service, whatsapp_service
from luxebrain.billing.usage import plan_usage
from luxebrain.campaigns.sending import (
    MessageServices,
    RetryableSendError,
    SenderContext,
    SendRequest,
    deliver,
    utc_now,
)
from luxebrain.campaigns.sources import campaign_sources
from luxebrain.observability import bind_tenant, logger, metrics, tracer
from luxebrain.runtime import configured_settings, on_reset

batch_processor = BatchProcessor(event_type=EventType.SQS)
BASE_BACKOFF_SECONDS = 30
MAX_BACKOFF_SECONDS = 900


class SendPacer:
    """At most ``rate`` sends per second from this worker (SES and SNS have account-wide send rates)."""

    def __init__(self, clock: Callable[[], float], sleep: Callable[[float], None]) -> None:
        self.clock = clock
        self.sleep = sleep
        self.next_at = 0.0

    def wait(self, rate: float) -> None:
        now = self.clock()
        if self.next_at > now:
            self.sleep(self.next_at - now)
        self.next_at = max(now, self.next_at) + 1.0 / rate


pacer = SendPacer(clock=time.monotonic, sleep=time.sleep)


@cache
def sender_context() -> SenderContext:
    """Once per execution environment: the AWS message services and key vault, the campaigns, tenants,
    customers and catalogue repositories with the model cache, the plan's usage counters, the wall clock, and
    the tenants' campaign settings cache."""
    services = MessageServices(mail=mail_service(), sms=sms_service(), whatsapp=whatsapp_service())
    return SenderContext(
        channel_factory=services.channel,
        keys=secrets_vault(),
        sources=campaign_sources(),
        usage=plan_usage(),
        clock=utc_now,
    )


on_reset(sender_context.cache_clear)


def backoff_seconds(receive_count: int) -> int:
    return min(MAX_BACKOFF_SECONDS, BASE_BACKOFF_SECONDS * 2 ** max(0, receive_count - 1))


def record_handler(record: SQSRecord, sender: SenderContext) -> str:
    request = SendRequest.model_validate_json(record.body)  # a malformed body fails until the DLQ keeps it
    bind_tenant(request.tenant_id)
    pacer.wait(configured_settings().campaign_sends_per_second)
    try:
        outcome = deliver(request, sender)
    except RetryableSendError:
        receive_count = int(record.attributes.approximate_receive_count or 1)
        if configured_settings().campaign_send_queue_url:
            queue("campaign_send_queue_url").delay(record.receipt_handle, seconds=backoff_seconds(receive_count))
        metrics.add_metric(name="CampaignSendRetried", unit=MetricUnit.Count, value=1)
        raise
    metrics.add_metric(name=f"CampaignSend{outcome.status.capitalize()}", unit=MetricUnit.Count, value=1)
    return outcome.status


@logger.inject_lambda_context(log_event=False)
@metrics.log_metrics
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return handle_batch(event, context, sender_context())


def handle_batch(event: dict[str, Any], context: LambdaContext, sender: SenderContext) -> dict[str, Any]:
    """One SQS batch, each message delivered through ``sender`` (the handler passes the AWS one)."""
    return process_partial_response(
        event=event, record_handler=partial(record_handler, sender=sender), processor=batch_processor, context=context
    )

"""Campaign flow runner: an EventBridge Scheduler event ``{"flows": [...]}`` runs those flows for every active
tenant (or one tenant when the schedule names it) and hands the messages to the send queue.

The work is luxebrain.campaigns.schedule's; a tenant's failure fails the invocation at the end so the schedule's
retry policy runs it again (safe: triggers are idempotent) and its dead-letter queue keeps it when retries run out.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from luxebrain.adapters.aws import queue
from luxebrain.campaigns.schedule import run_scheduled_flows
from luxebrain.campaigns.sources import campaign_sources
from luxebrain.errors import InvalidInputError
from luxebrain.observability import logger, metrics, tracer


class FlowRunEvent(BaseModel):
    model_config = ConfigDict(extra="ignore")

    flows: list[str] = Field(min_length=1)
    tenant_id: str | None = None  # a schedule for one tenant; normally every active tenant
    now: datetime | None = None  # replays and tests; the schedule leaves it out


@logger.inject_lambda_context(log_event=False)
@metrics.log_metrics
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    try:
        parsed = FlowRunEvent.model_validate(event)
    except ValidationError as exc:
        raise InvalidInputError(f"bad schedule input: {exc.errors()[0]['msg']}") from None
    send_queue = queue("campaign_send_queue_url")
    summary = run_scheduled_flows(
        parsed.flows,
        send_queue=send_queue,
        sources=campaign_sources(),  # the table's repositories and the model cache, once per execution environment
        tenant_id=parsed.tenant_id,
        now=parsed.now,
    )
    metrics.add_metric(name="CampaignMessagesQueued", unit=MetricUnit.Count, value=summary["dispatched"])
    if summary["failed_tenants"]:
        # Fail the invocation so the scheduler retries (triggers are idempotent) and finally dead-letters it.
        raise RuntimeError(f"campaign flows failed for {len(summary['failed_tenants'])} tenant(s)")
    return summary

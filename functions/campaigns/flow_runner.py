"""Campaign flow runner: an EventBridge Scheduler event ``{"flows": [...]}`` runs those flows for every active
tenant (or one tenant when the schedule names it) and hands the messages to the send queue.

One tenant's failure does not stop the others; it fails the invocation at the end so the schedule's retry
policy runs it again (safe: triggers are idempotent) and its dead-letter queue keeps it when retries run out.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from luxebrain.campaigns.config import FLOWS
from luxebrain.campaigns.flows import run_flows
from luxebrain.campaigns.oneoff import run_due_campaigns
from luxebrain.campaigns.sending import QueueDispatcher
from luxebrain.errors import InvalidInputError
from luxebrain.observability import logger, metrics, tracer
from luxebrain.storage.models import utc_now
from luxebrain.storage.repositories import iter_tenants


class FlowRunEvent(BaseModel):
    model_config = ConfigDict(extra="ignore")

    flows: list[str] = Field(min_length=1)
    tenant_id: str | None = None  # a schedule for one tenant; normally every active tenant
    now: datetime | None = None  # replays and tests; the schedule leaves it out


def run_scheduled(event: FlowRunEvent) -> dict[str, Any]:
    unknown = set(event.flows) - {*FLOWS, "campaigns"}
    if unknown:
        raise InvalidInputError(f"unknown flow(s): {', '.join(sorted(unknown))}")
    now = event.now or utc_now()
    tenants = [event.tenant_id] if event.tenant_id else [t.tenant_id for t in iter_tenants() if t.status == "active"]
    flows = [flow for flow in event.flows if flow != "campaigns"]
    summary: dict[str, Any] = {"tenants": len(tenants), "dispatched": 0, "held_out": 0, "failed_tenants": []}
    for tenant_id in tenants:
        dispatcher = QueueDispatcher()
        try:
            results = list(run_flows(tenant_id, flows, now, dispatcher))
            if "campaigns" in event.flows:
                results += run_due_campaigns(tenant_id, now, dispatcher)
        except Exception:
            logger.exception("campaign flows failed for a tenant", extra={"tenant_id": tenant_id})
            summary["failed_tenants"].append(tenant_id)
            continue
        summary["dispatched"] += sum(r.dispatched for r in results)
        summary["held_out"] += sum(r.held_out for r in results)
    return summary


@logger.inject_lambda_context(log_event=False)
@metrics.log_metrics
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    try:
        parsed = FlowRunEvent.model_validate(event)
    except ValidationError as exc:
        raise InvalidInputError(f"bad schedule input: {exc.errors()[0]['msg']}") from None
    summary = run_scheduled(parsed)
    metrics.add_metric(name="CampaignMessagesQueued", unit=MetricUnit.Count, value=summary["dispatched"])
    if summary["failed_tenants"]:
        # Fail the invocation so the scheduler retries (triggers are idempotent) and finally dead-letters it.
        raise RuntimeError(f"campaign flows failed for {len(summary['failed_tenants'])} tenant(s)")
    return summary

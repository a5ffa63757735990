"""Provider events: SES events from the configuration set (via EventBridge) and inbound SMS (via SNS).

SES: the message tags we set on every e-mail (``lb_tenant``, ``lb_ref``) name the tenant and the send record,
so no lookup by message id is needed; bounces and complaints suppress the address for that tenant only.
SMS: the inbound number (our origination number) names the tenant(s); STOP / START apply to those only.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from luxebrain.campaigns.events import record_email_event, record_sms_keyword, tenants_for_sms_number
from luxebrain.observability import logger, metrics, tracer
from luxebrain.storage.campaigns import CampaignRepository, campaign_repository
from luxebrain.storage.tenants import TenantDirectory, tenant_repository

# Stateless, over the table: built once per execution environment
campaigns = campaign_repository()
tenants = tenant_repository()


class SesMail(BaseModel):
    model_config = ConfigDict(extra="ignore")

    timestamp: datetime | None = None
    destination: list[str] = Field(default_factory=list)
    tags: dict[str, list[str]] = Field(default_factory=dict)


class SesEvent(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    event_type: str = Field(alias="eventType")
    mail: SesMail
    bounce: dict[str, Any] | None = None
    complaint: dict[str, Any] | None = None


class InboundSms(BaseModel):
    model_config = ConfigDict(extra="ignore")

    originationNumber: str  # the SMS service's field names
    destinationNumber: str
    messageBody: str = ""


def handle_ses_event(detail: dict[str, Any], campaigns: CampaignRepository) -> str:
    event = SesEvent.model_validate(detail)
    tenant = (event.mail.tags.get("lb_tenant") or [None])[0]
    reference = (event.mail.tags.get("lb_ref") or [None])[0]
    if not tenant or not reference:
        return "not a campaign message"
    recipients = event.mail.destination
    bounce_type = None
    if event.bounce:
        bounce_type = event.bounce.get("bounceType")
        recipients = [r.get("emailAddress", "") for r in event.bounce.get("bouncedRecipients", [])] or recipients
    if event.complaint:
        recipients = [r.get("emailAddress", "") for r in event.complaint.get("complainedRecipients", [])] or recipients
    return record_email_event(
        tenant, reference, event.event_type, recipients=recipients, bounce_type=bounce_type, campaigns=campaigns
    )


def handle_inbound_sms(message: str, campaigns: CampaignRepository, tenants: TenantDirectory) -> list[str]:
    sms = InboundSms.model_validate_json(message)
    return [
        record_sms_keyword(tenant, sms.originationNumber, sms.messageBody, campaigns=campaigns)
        for tenant in tenants_for_sms_number(sms.destinationNumber, tenants=tenants)
    ]


@logger.inject_lambda_context(log_event=False)
@metrics.log_metrics
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    outcomes: list[str] = []
    try:
        if event.get("source") == "aws.ses":
            outcomes.append(handle_ses_event(event.get("detail") or {}, campaigns))
        for record in event.get("Records") or []:
            if record.get("EventSource") == "aws:sns":
                outcomes += handle_inbound_sms(record["Sns"]["Message"], campaigns, tenants)
    except (ValidationError, json.JSONDecodeError) as exc:
        # A malformed provider event will never parse: log it with the reason rather than retry forever. Only
        # field paths and messages: pydantic's text would quote the input (numbers, recipients, bodies).
        reason = (
            "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
            if isinstance(exc, ValidationError)
            else f"not JSON: {exc.msg}"
        )
        logger.error("unreadable provider event", extra={"reason": reason[:500]})
        outcomes.append("unreadable")
    metrics.add_metric(name="CampaignProviderEvents", unit=MetricUnit.Count, value=len(outcomes))
    return {"outcomes": outcomes}

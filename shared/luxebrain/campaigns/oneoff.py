"""One-off campaigns: a message to a segment at a scheduled time, optionally with an A/B test.

Segments come from the customer model (``CustomerScores``: RFM segments such as "At risk" or "Champions"),
plus ``all_customers``. A campaign is a flow named ``campaign-<id>`` with one trigger per customer, so the
same exactly-once records, hold-out and results apply. It stays ``running`` (rerun by the hourly schedule)
until a run has nothing new to hand over, since quiet hours defer some recipients to a later run.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from luxebrain.billing.plans import require_channel
from luxebrain.campaigns.config import Channel, FlowSettings, load_campaign_settings
from luxebrain.campaigns.flows import Candidate, Dispatcher, FlowRunResult, dispatch_candidates
from luxebrain.campaigns.sources import CampaignSources, ServingModels
from luxebrain.campaigns.templates import validate_template
from luxebrain.errors import InvalidInputError
from luxebrain.ml.customers.segments import SEGMENT_NAMES
from luxebrain.storage.campaigns import Campaign, CampaignRecords
from luxebrain.storage.customers import CustomerRepository, Order
from luxebrain.storage.tenants import TenantRepository
from luxebrain.text import PlainLine, plausible_moment

ALL_CUSTOMERS = "all_customers"
RECENT_CUSTOMERS = "recent_customers"  # bought in the last 30 days (or "recent_customers:<days>"); no model needed
BUILT_IN_SEGMENTS = (ALL_CUSTOMERS, RECENT_CUSTOMERS)
GIVE_UP_AFTER = timedelta(hours=48)
CAMPAIGN_TRIGGER = "campaign"


class ABTestSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    variants: dict[str, dict[str, str]] = Field(min_length=2, max_length=5)
    holdout_fraction: float = Field(default=0.1, ge=0.0, le=0.5)

    @field_validator("variants")
    @classmethod
    def _templates_compile(cls, value: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
        for name, parts in value.items():
            if not name.isidentifier() or len(name) > 20:
                raise ValueError(f"variant name {name!r} must be a short identifier")
            validate_template(parts)
        return value


class CampaignSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: PlainLine = Field(min_length=1, max_length=200)
    segment: str = Field(min_length=1, max_length=64)
    channel: Channel = "email"
    scheduled_at: datetime
    template: dict[str, str] = Field(default_factory=dict)
    ab_test: ABTestSpec | None = None
    holdout_fraction: float = Field(default=0.1, ge=0.0, le=0.5)
    conversion_window_days: int = Field(default=7, ge=1, le=60)

    @field_validator("template")
    @classmethod
    def _compiles(cls, value: dict[str, str]) -> dict[str, str]:
        validate_template(value)
        return value

    @field_validator("segment")
    @classmethod
    def _resolvable(cls, value: str) -> str:
        # Refused here, not at the first run: a segment no run could resolve would fail every round.
        if value == ALL_CUSTOMERS or value in SEGMENT_NAMES:
            return value
        try:
            if recent_customers_since(value, datetime.now(UTC)) is not None:
                return value
        except InvalidInputError as exc:
            raise ValueError(str(exc)) from None
        raise ValueError(
            f"segment {value!r} is not one of {ALL_CUSTOMERS!r}, {RECENT_CUSTOMERS!r}[:<days>] or the customer "
            f"model's segments ({', '.join(SEGMENT_NAMES)})"
        )

    @field_validator("scheduled_at")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        return plausible_moment(value, future_days=731)


def create_campaign(
    tenant_id: str,
    spec: CampaignSpec,
    *,
    campaigns: CampaignRecords,
    tenants: TenantRepository,
    campaign_id: str | None = None,
) -> Campaign:
    require_channel(tenant_id, spec.channel, tenants=tenants)
    ab_test = spec.ab_test.model_dump() if spec.ab_test else {"variants": {}, "holdout_fraction": spec.holdout_fraction}
    campaign = Campaign(
        campaign_id=campaign_id or "c" + secrets.token_hex(5),
        name=spec.name,
        segment=spec.segment,
        channel=spec.channel,
        template=spec.template,
        ab_test={**ab_test, "conversion_window_days": spec.conversion_window_days},
        scheduled_at=spec.scheduled_at,
    )
    return campaigns.create_campaign(tenant_id, campaign)


def campaign_flow(campaign_id: str) -> str:
    return f"campaign-{campaign_id}"


def recent_customers_since(segment: str, now: datetime) -> str | None:
    """For a "bought recently" segment, the creation date (GMT) from which its members' orders count; None for
    any other segment."""
    if segment != RECENT_CUSTOMERS and not segment.startswith(RECENT_CUSTOMERS + ":"):
        return None
    days_text = segment.partition(":")[2] or "30"
    if not days_text.isdigit() or not 1 <= int(days_text) <= 365:
        raise InvalidInputError(f"segment {segment!r}: use {RECENT_CUSTOMERS}:<days from 1 to 365>")
    return (now - timedelta(days=int(days_text))).astimezone(UTC).replace(tzinfo=None).isoformat()


def segment_members(
    tenant_id: str,
    segment: str,
    now: datetime | None = None,
    *,
    customers: CustomerRepository,
    models: ServingModels,
    orders: list[Order] | None = None,
) -> list[str]:
    """The customer ids of ``segment``: recent buyers from the orders, every customer, or an RFM segment of
    the customer model in ``models``."""
    since = recent_customers_since(segment, now or datetime.now(UTC))
    if since is not None:
        recent = {
            order.customer_id
            for order in (orders if orders is not None else customers.orders_created_since(tenant_id, since))
            if order.status_class == "purchase" and not order.deleted and order.created_gmt >= since
        }
        return sorted(recent - {"guest:anonymous"})
    if segment == ALL_CUSTOMERS:
        return [
            c.customer_id
            for c in customers.iter_customers(tenant_id)
            if not c.deleted and c.customer_id != "guest:anonymous"
        ]
    try:
        scores, _ = models.current_serving(tenant_id, "customers")
    except Exception as exc:
        raise InvalidInputError(
            f"segment {segment!r} needs the customer model, which is not available ({exc}); "
            f"use {ALL_CUSTOMERS!r} or train the customer model"
        ) from None
    members: list[str] = []
    cursor: str | None = None
    while True:
        try:
            page: dict[str, Any] = scores.customers_in_segment(segment, limit=1000, cursor=cursor)
        except ValueError as exc:
            raise InvalidInputError(str(exc)) from None
        members += [row["customer_id"] for row in page["customers"]]
        cursor = page.get("next_cursor")
        if not cursor:
            return members


def run_campaign(
    tenant_id: str,
    campaign: Campaign,
    now: datetime,
    dispatcher: Dispatcher,
    *,
    sources: CampaignSources,
    orders: list[Order] | None = None,
) -> FlowRunResult:
    campaigns = sources.campaigns
    settings = load_campaign_settings(tenant_id, tenants=sources.tenants)
    ab = dict(campaign.ab_test or {})
    config = FlowSettings(
        channel=campaign.channel,  # type: ignore[arg-type]
        holdout_fraction=float(ab.get("holdout_fraction", 0.1)),
        conversion_window_days=int(ab.get("conversion_window_days", 7)),
        variants=dict(ab.get("variants") or {}),
    )
    flow = campaign_flow(campaign.campaign_id)
    candidates = [
        Candidate(customer_id, CAMPAIGN_TRIGGER, {"campaign_id": campaign.campaign_id}, campaign.scheduled_at)
        for customer_id in segment_members(
            tenant_id, campaign.segment, now, customers=sources.customers, models=sources.models, orders=orders
        )
    ]
    result = dispatch_candidates(
        tenant_id,
        flow,
        "campaign",
        candidates,
        settings,
        config,
        dispatcher,
        campaigns=campaigns,
        template=dict(campaign.template or {}),
    )
    finished = result.dispatched == 0 or now - campaign.scheduled_at > GIVE_UP_AFTER
    campaigns.record_campaign_run(
        tenant_id,
        campaign.campaign_id,
        status="sent" if finished else "running",
        stats={**campaign.stats, "last_run": result.as_dict(), "last_run_at": now.isoformat()},
    )
    return result


def run_due_campaigns(
    tenant_id: str,
    now: datetime,
    dispatcher: Dispatcher,
    *,
    sources: CampaignSources,
) -> list[FlowRunResult]:
    """Run the tenant's due campaigns. One whose segment cannot be resolved yet (an RFM segment before the
    customer model is trained) keeps its schedule with the reason in its stats and does not stop the others."""
    campaigns = sources.campaigns
    results = []
    for campaign in campaigns.list_campaigns(tenant_id):
        if campaign.status in ("scheduled", "running") and campaign.scheduled_at <= now:
            try:
                results.append(run_campaign(tenant_id, campaign, now, dispatcher, sources=sources))
            except InvalidInputError as exc:
                campaigns.record_campaign_run(
                    tenant_id,
                    campaign.campaign_id,
                    status=campaign.status,
                    stats={**campaign.stats, "last_error": str(exc), "last_run_at": now.isoformat()},
                )
    return results

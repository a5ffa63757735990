"""Sending one message exactly once.

A send is keyed by (tenant, flow, customer, trigger). Before any provider call the sender writes the send
record with a condition (``attribute_not_exists``): of two concurrent or repeated deliveries of the same send,
one wins the write and sends; the other sees the record and stops. A provider failure that is safe to retry
(throttling, an outage) leaves the record ``retrying`` and raises, so the queue redelivers it with backoff and
finally dead-letters it; the next attempt takes the record back with another conditional write. A record left
``claimed`` by a crash (the provider may or may not have accepted the message) is marked ``unknown`` and not
sent again: a duplicate marketing message is worse than a missing one, and the record says what happened.

Checks that can change minute to minute (quiet hours) defer the send *without* a record, so the next flow run
picks it up; checks that settle it (no consent, suppressed, capped, bad address, template error) record it as
``skipped`` with the reason.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field

from luxebrain.adapters import KeyVault, MailService, MessageQueue, SmsService, WhatsAppService
from luxebrain.billing.plans import PlanFeatureError, PlanLimitExceededError, message_metric
from luxebrain.billing.usage import UsageCounter
from luxebrain.campaigns.addresses import normalise_email, normalise_phone, timezone_for_country
from luxebrain.campaigns.channels import (
    Channel,
    EmailChannel,
    OutboundEmail,
    OutboundShortMessage,
    ProviderError,
    SmsChannel,
    UnavailableChannel,
    WhatsAppChannel,
)
from luxebrain.campaigns.config import CampaignSettings, load_campaign_settings
from luxebrain.campaigns.consent import consent_block_reason, suppression_reason
from luxebrain.campaigns.products import load_catalog, product_block
from luxebrain.campaigns.sources import CampaignSources
from luxebrain.campaigns.templates import (
    TemplateRenderError,
    render_email,
    render_short_message,
    template_for,
)
from luxebrain.campaigns.tokens import list_unsubscribe_headers, make_unsubscribe_token, unsubscribe_url
from luxebrain.errors import InvalidInputError, NotFoundError
from luxebrain.observability import logger
from luxebrain.runtime import configured_settings
from luxebrain.storage.campaigns import CampaignRepository, SendRecord, SendRecords
from luxebrain.storage.customers import Customer
from luxebrain.text import header_safe

CLAIM_LEASE = timedelta(minutes=10)  # longer than the sender's timeout: a claim older than this crashed
MAX_ATTEMPTS = 5  # equals the send queue's maxReceiveCount: the last failure goes to the dead-letter queue
SETTINGS_TTL_SECONDS = 60.0
CONTACT_LOG_RETENTION = timedelta(days=120)  # the log expires this long after the last send


class SendRequest(BaseModel):
    """One message to send: the send queue's message body."""

    model_config = ConfigDict(extra="forbid")

    tenant_id: str
    flow: str = Field(pattern=r"^[a-z0-9_-]{1,64}$")  # abandoned_cart, campaign-<id>, ...
    flow_kind: str = "campaign"  # which built-in template: the flow's name, or "campaign"
    customer_id: str = Field(min_length=1, max_length=128)
    trigger: str = Field(min_length=1, max_length=128)
    channel: str = Field(default="email", pattern=r"^(email|sms|whatsapp)$")
    test_id: str | None = None
    variant: str | None = None
    assigned_at: datetime
    context: dict[str, Any] = Field(default_factory=dict)
    template: dict[str, str] = Field(default_factory=dict)  # overrides: the variant's or the campaign's
    recommend: str = "none"  # none | for_customer | similar_to_context
    whatsapp_template: str = ""


@dataclass
class SendOutcome:
    status: str  # sent | skipped | duplicate | deferred | unknown | failed
    reason: str | None = None
    provider_message_id: str | None = None


class RetryableSendError(Exception):
    """The provider failed in a way worth retrying; the record is ``retrying``."""

    def __init__(self, message: str, attempts: int) -> None:
        super().__init__(message)
        self.attempts = attempts


def send_reference(flow: str, customer_id: str, trigger: str) -> str:
    """Compact id of a send record, safe as an SES message tag value (letters, digits, '-', '_')."""
    raw = f"{flow}\n{customer_id}\n{trigger}".encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def parse_send_reference(reference: str) -> tuple[str, str, str]:
    raw = base64.urlsafe_b64decode(reference + "=" * (-len(reference) % 4)).decode()
    flow, customer_id, trigger = raw.split("\n")
    return flow, customer_id, trigger


def utc_now() -> datetime:
    return datetime.now(UTC)


# ----------------------------------------------------------------------------- dependencies (passed in)
@dataclass(frozen=True)
class MessageServices:
    """The services the channels send through: the handler passes the AWS ones (created once per execution
    environment), a unit test passes fakes."""

    mail: MailService
    sms: SmsService
    whatsapp: WhatsAppService

    def channel(self, channel: str, settings: CampaignSettings) -> Channel:
        """The channel a send of the tenant goes through."""
        app = configured_settings()
        if channel == "email":
            return EmailChannel(
                self.mail, sender=app.require("sender_email"), configuration_set=app.ses_configuration_set
            )
        if channel == "sms":
            return SmsChannel(self.sms, origination_number=settings.sms_origination_number)
        if app.app_env == "local":
            return UnavailableChannel(
                "whatsapp", "WhatsApp is not available on the embedded AWS (moto has no socialmessaging)"
            )
        return WhatsAppChannel(self.whatsapp, phone_number_id=settings.whatsapp_phone_number_id)


@dataclass
class SenderContext:
    """What the sender needs besides the request; built once per execution environment by the handler.
    ``keys`` opens the tenants' unsubscribe-link signing keys; ``sources`` holds the send records, consent,
    suppressions, contact logs and those keys (``campaigns``), the tenants' campaign settings (cached here for a
    minute), the recipients, the products of the message (cached for a few minutes) and the recommendation
    model of its product block; ``usage`` counts each message against the tenant's plan; ``clock`` is the
    time a send is decided and recorded at."""

    channel_factory: Callable[[str, CampaignSettings], Channel]
    keys: KeyVault
    sources: CampaignSources
    usage: UsageCounter
    clock: Callable[[], datetime]
    _settings_cache: dict[str, tuple[float, CampaignSettings]] = field(default_factory=dict)

    def settings(self, tenant_id: str) -> CampaignSettings:
        cached = self._settings_cache.get(tenant_id)
        if cached and cached[0] > time.monotonic():
            return cached[1]
        value = load_campaign_settings(tenant_id, tenants=self.sources.tenants)
        self._settings_cache[tenant_id] = (time.monotonic() + SETTINGS_TTL_SECONDS, value)
        return value


# ----------------------------------------------------------------------------- the send
def deliver(request: SendRequest, sender: SenderContext) -> SendOutcome:
    """Send one message at most once per (tenant, flow, customer, trigger); see the module doc."""
    now = sender.clock()
    settings = sender.settings(request.tenant_id)
    try:
        customer: Customer | None = sender.sources.customers.get_customer(request.tenant_id, request.customer_id)
    except NotFoundError:
        customer = None
    if customer is not None and request.channel in ("sms", "whatsapp") and in_quiet_hours(customer, settings, now):
        return SendOutcome("deferred", "quiet hours in the recipient's time zone")

    campaigns = sender.sources.campaigns
    record, claimed = claim(request, now, campaigns=campaigns)
    if not claimed:
        return _not_claimed_outcome(record, now, campaigns=campaigns)

    try:
        reason = eligibility_problem(request, customer, settings, now, campaigns=campaigns)
        if reason:
            return _finish(record, "skipped", reason, campaigns=campaigns)
        message = build_message(request, customer, settings, sender.keys, sources=sender.sources)  # type: ignore[arg-type]
    except (TemplateRenderError, InvalidInputError) as exc:
        return _finish(record, "skipped", str(exc), campaigns=campaigns)

    # The plan decides before the provider call; the unit is given back if the provider does not take it.
    metric = message_metric(request.channel)
    try:
        sender.usage.consume(request.tenant_id, metric)
    except (PlanFeatureError, PlanLimitExceededError) as exc:
        return _finish(record, "skipped", f"plan: {exc}", campaigns=campaigns)
    channel = sender.channel_factory(request.channel, settings)
    try:
        message_id = channel.send(message)
    except ProviderError as exc:
        sender.usage.release(request.tenant_id, metric)
        if exc.retryable:
            status = "retrying" if record.attempts < MAX_ATTEMPTS else "dead_lettered"
            _finish(record, status, str(exc), campaigns=campaigns)
            raise RetryableSendError(str(exc), int(record.attempts)) from None
        return _finish(record, "failed", str(exc), campaigns=campaigns)
    except Exception as exc:
        # Anything else the provider client raised (a value it refused before sending): the send is settled
        # as failed with the reason, never left "claimed", and not billed.
        sender.usage.release(request.tenant_id, metric)
        return _finish(
            record,
            "failed",
            f"the message could not be handed to the provider: {type(exc).__name__}",
            campaigns=campaigns,
        )
    sent_at = sender.clock()
    campaigns.mark_sent(record, sent_at=sent_at, provider_message_id=message_id)
    record_contact(request.tenant_id, request.customer_id, request.channel, sent_at, campaigns=campaigns)
    return SendOutcome("sent", None, message_id)


def record_contact(
    tenant_id: str, customer_id: str, channel: str, sent_at: datetime, *, campaigns: SendRecords
) -> None:
    """Append the send time to the customer's contact log (atomic, so concurrent flows both count)."""
    campaigns.append_contact(
        tenant_id,
        customer_id,
        channel,
        sent_at=int(sent_at.timestamp()),
        expires_at=int((sent_at + CONTACT_LOG_RETENTION).timestamp()),
    )


def new_record(request: SendRequest, status: str, now: datetime) -> SendRecord:
    return SendRecord(
        tenant_id=request.tenant_id,
        flow=request.flow,
        customer_id=request.customer_id,
        trigger=request.trigger,
        channel=request.channel,
        status=status,
        attempts=1 if status == "claimed" else 0,
        test_id=request.test_id,
        variant=request.variant,
        assigned_at=request.assigned_at,
        claimed_at=now if status == "claimed" else None,
        request={"flow_kind": request.flow_kind, "trigger_context": _small(request.context)},
    )


def _small(context: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in context.items() if key in ("order_id", "product_id", "campaign_id")}


def claim(request: SendRequest, now: datetime, *, campaigns: SendRecords) -> tuple[SendRecord, bool]:
    """The conditional write before the provider call. Returns the record and whether this caller owns it."""
    record = new_record(request, "claimed", now)
    if campaigns.create_send_record(record):
        return record, True
    existing = campaigns.get_send_record(request.tenant_id, request.flow, request.customer_id, request.trigger)
    if existing.status == "retrying":
        return campaigns.reclaim_retrying_send(existing, now)
    return existing, False


def _not_claimed_outcome(record: SendRecord, now: datetime, *, campaigns: SendRecords) -> SendOutcome:
    if record.status == "claimed" and record.claimed_at and now - record.claimed_at > CLAIM_LEASE:
        campaigns.mark_stale_claim_unknown(record, "the sender stopped during the provider call; not resent")
        return SendOutcome("unknown", "a previous attempt stopped during the provider call; not resent")
    return SendOutcome("duplicate", f"already {record.status}")


def _finish(record: SendRecord, status: str, reason: str, *, campaigns: SendRecords) -> SendOutcome:
    campaigns.settle_send(record, status, reason[:500])
    logger.info("campaign send not sent", extra={"status": status, "reason": reason[:200], "flow": record.flow})
    return SendOutcome(status if status != "dead_lettered" else "failed", reason)


# ----------------------------------------------------------------------------- checks
def recipient_timezone(customer: Customer, settings: CampaignSettings) -> ZoneInfo:
    name = timezone_for_country(customer.country, settings.default_timezone)
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def in_quiet_hours(customer: Customer, settings: CampaignSettings, now: datetime) -> bool:
    local = now.astimezone(recipient_timezone(customer, settings))
    return settings.quiet_hours.contains(local.time())


def recipient_address(customer: Customer, channel: str) -> str:
    if channel == "email":
        if not customer.email:
            raise InvalidInputError("the customer has no e-mail address")
        return normalise_email(customer.email)
    if not customer.phone:
        raise InvalidInputError("the customer has no phone number")
    return normalise_phone(customer.phone)


def sends_in_window(tenant_id: str, customer_id: str, channel: str, since: datetime, *, campaigns: SendRecords) -> int:
    threshold = since.timestamp()
    return sum(1 for moment in campaigns.contact_times(tenant_id, customer_id, channel) if moment >= threshold)


def eligibility_problem(
    request: SendRequest,
    customer: Customer | None,
    settings: CampaignSettings,
    now: datetime,
    *,
    campaigns: CampaignRepository,
) -> str | None:
    if customer is None:
        return "customer not found"
    if customer.deleted:
        return "customer deleted"
    address = recipient_address(customer, request.channel)  # InvalidInputError: recorded as the reason
    is_customer = not customer.customer_id.startswith("guest:anonymous")
    reason = consent_block_reason(
        request.tenant_id,
        customer.customer_id,
        request.channel,
        settings,
        is_customer=is_customer,
        campaigns=campaigns,
    )
    if reason:
        return reason
    suppressed = suppression_reason(request.tenant_id, request.channel, address, campaigns=campaigns)
    if suppressed:
        return f"address suppressed ({suppressed})"
    cap = settings.cap(request.channel)
    since = now - timedelta(days=cap.per_days)
    sent = sends_in_window(request.tenant_id, request.customer_id, request.channel, since, campaigns=campaigns)
    if sent >= cap.max_messages:
        return f"frequency cap: {sent} {request.channel} messages in {cap.per_days} days"
    return None


# ----------------------------------------------------------------------------- the message
def message_context(
    request: SendRequest,
    customer: Customer,
    settings: CampaignSettings,
    keys: KeyVault,
    *,
    sources: CampaignSources,
) -> dict[str, Any]:
    catalog = load_catalog(request.tenant_id, tenants=sources.tenants, catalogue=sources.catalogue)
    store = settings.branding.model_dump()
    store_url = catalog.store_url or settings.branding.store_url
    store["store_url"] = store_url
    products: list[dict[str, Any]] = []
    if request.recommend != "none":
        seeds = request.context.get("product_ids") if request.recommend == "similar_to_context" else None
        products, why_not = product_block(
            request.tenant_id,
            request.customer_id,
            catalog,
            store_url,
            models=sources.models,
            seed_products=list(seeds) if seeds else None,
            exclude=list(request.context.get("product_ids") or []),
        )
        if why_not:
            logger.debug("message without product block", extra={"reason": why_not, "flow": request.flow})
    token = make_unsubscribe_token(
        request.tenant_id, request.customer_id, request.channel, keys=keys, campaigns=sources.campaigns
    )
    return {
        **request.context,
        "customer": {"first_name": customer.first_name or "", "country": customer.country or ""},
        "store": store,
        "currency": catalog.currency,
        "products": products,
        "unsubscribe_token": token,
        "unsubscribe_url": unsubscribe_url(token),
    }


def build_message(
    request: SendRequest,
    customer: Customer,
    settings: CampaignSettings,
    keys: KeyVault,
    *,
    sources: CampaignSources,
) -> OutboundEmail | OutboundShortMessage:
    template = template_for(request.flow_kind, {**settings.templates.get(request.flow_kind, {}), **request.template})
    context = message_context(request, customer, settings, keys, sources=sources)
    address = recipient_address(customer, request.channel)
    if request.channel == "email":
        rendered = render_email(template, context)
        return OutboundEmail(
            to=address,
            subject=rendered.subject,
            html=rendered.html,
            text=rendered.text,
            from_name=header_safe(settings.branding.store_name),
            headers=list_unsubscribe_headers(context["unsubscribe_token"]),
            tags={
                "lb_tenant": request.tenant_id,
                "lb_flow": request.flow,
                "lb_ref": send_reference(request.flow, request.customer_id, request.trigger),
            },
        )
    text = render_short_message(template, context)
    return OutboundShortMessage(
        to=address,
        text=text,
        template_name=request.whatsapp_template or f"luxebrain_{request.flow_kind}",
        template_parameters=(customer.first_name or "", text),
    )


# ----------------------------------------------------------------------------- dispatchers
class QueueDispatcher:
    """Production: requests go to the send queue in batches of ten; the sender function drains it."""

    def __init__(self, send_queue: MessageQueue) -> None:
        self.send_queue = send_queue
        self.pending: list[SendRequest] = []
        self.dispatched = 0

    def dispatch(self, request: SendRequest) -> None:
        self.pending.append(request)
        if len(self.pending) == 10:
            self.flush()

    def flush(self) -> None:
        if not self.pending:
            return
        # Never drop a message: a partial failure raises and fails the run, and the schedule retries it.
        self.dispatched += self.send_queue.send_batch([request.model_dump_json() for request in self.pending])
        self.pending.clear()


class DirectDispatcher:
    """Tests, benchmarks and one-process runs: deliver in this process, retrying with exponential backoff."""

    def __init__(self, sender: SenderContext, *, retries: int = MAX_ATTEMPTS, base_delay: float = 0.2) -> None:
        self.sender = sender
        self.retries = retries
        self.base_delay = base_delay
        self.outcomes: list[SendOutcome] = []

    def dispatch(self, request: SendRequest) -> None:
        for attempt in range(1, self.retries + 1):
            try:
                self.outcomes.append(deliver(request, self.sender))
                return
            except RetryableSendError as exc:
                if attempt == self.retries:
                    self.outcomes.append(SendOutcome("failed", f"gave up after {attempt} attempts: {exc}"))
                    return
                time.sleep(self.base_delay * 2 ** (attempt - 1))

    def flush(self) -> None:
        return None

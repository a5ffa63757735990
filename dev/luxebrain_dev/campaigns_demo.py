"""The campaigns part of the demo: run the abandoned-cart flow and a segment campaign (with an A/B test) on
the sample store already in the table, send through the real queue and sender logic to the embedded AWS,
read back from moto what was "sent", and report the A/B results (plus a simulation of the decision rule,
since a fresh demo has no post-send orders to convert)."""

from __future__ import annotations

import hashlib
import json
import urllib.request
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from luxebrain.adapters.aws import mail_service, secrets_vault, sms_service, whatsapp_service
from luxebrain.billing.usage import plan_usage
from luxebrain.campaigns.config import FlowSettings, load_campaign_settings, save_campaign_settings
from luxebrain.campaigns.flows import RunData, orders_window_start, run_flow
from luxebrain.campaigns.oneoff import (
    RECENT_CUSTOMERS,
    ABTestSpec,
    CampaignSpec,
    campaign_flow,
    create_campaign,
    recent_customers_since,
    run_campaign,
)
from luxebrain.campaigns.results import flow_results
from luxebrain.campaigns.sending import (
    MessageServices,
    RetryableSendError,
    SenderContext,
    SendRequest,
    deliver,
    utc_now,
)
from luxebrain.campaigns.sources import campaign_sources
from luxebrain.runtime import aws_client, configured_settings
from luxebrain.storage.campaigns import ConsentRecord, campaign_repository
from luxebrain.storage.customers import iter_customers
from luxebrain.storage.tenants import list_stores
from luxebrain_dev.campaign_simulation import SimulationResult, simulate_daily_peeking

DEMO_CONSENT_SOURCE = "demo: sample-store checkout opt-in"


@dataclass
class CampaignDemoReport:
    tenant_id: str
    abandoned_cart: dict[str, Any]
    campaign: dict[str, Any]
    send_outcomes: dict[str, int]
    emails_read_back: list[dict[str, Any]]
    sms_read_back: list[dict[str, str]]
    results: dict[str, Any]
    simulation: list[SimulationResult] = field(default_factory=list)

    def summary(self) -> str:
        lines = [f"Campaigns for tenant {self.tenant_id}"]
        cart = self.abandoned_cart
        lines.append(
            f"  abandoned cart: {cart['candidates']} open carts past the window, {cart['dispatched']} queued, "
            f"{cart['held_out']} held out, {sum(cart['not_eligible'].values())} without consent"
        )
        camp = self.campaign
        lines.append(
            f"  campaign '{camp['name']}' to segment {camp['segment']}: {camp['run']['candidates']} members, "
            f"{camp['run']['dispatched']} queued, {camp['run']['held_out']} held out"
        )
        lines.append("  sender outcomes: " + ", ".join(f"{k} {v}" for k, v in sorted(self.send_outcomes.items())))
        with_header = sum(1 for e in self.emails_read_back if e["one_click_unsubscribe"])
        lines.append(
            f"  read back from moto SES: {len(self.emails_read_back)} e-mails of this tenant, "
            f"{with_header} with RFC 8058 one-click unsubscribe headers; SNS SMS: {len(self.sms_read_back)}"
        )
        for email in self.emails_read_back[:3]:
            lines.append(f"    e-mail to {email['to']}: {email['subject']!r}")
        for flow, report in self.results.items():
            for arm in report["arms"]:
                lines.append(
                    f"  {flow} arm {arm['arm']}: assigned {arm['assigned']}, sent {arm['sends']}, "
                    f"conversions {arm['conversions']}, revenue {arm['revenue']:.2f}"
                )
            for key in ("ab_test", "incrementality"):
                if key in report:
                    lines.append(f"  {flow} {key}: {report[key]['status']} - {report[key]['reason']}")
        for sim in self.simulation:
            lines.append(
                f"  decision rule, simulated ({sim.simulations} tests, {sim.days} daily looks, "
                f"{sim.recipients_per_arm_per_day}/arm/day, lift {sim.relative_lift:.0%}): winner declared in "
                f"{sim.winner_rate:.1%} (naive daily z-test: {sim.naive_winner_rate:.1%})"
            )
        return "\n".join(lines)


def grant_demo_consent(tenant_id: str, *, email_share: float = 0.7, sms_share: float = 0.3) -> int:
    """The sample store has no consent data (WooCommerce keeps none by default): record a deterministic share
    as if collected at checkout, labelled as demo data. Returns the number of consent records written."""
    now = datetime.now().astimezone()
    consents = [
        ConsentRecord(customer.customer_id, channel, True, DEMO_CONSENT_SOURCE, now)
        for customer in iter_customers(tenant_id)
        for channel, share in (("email", email_share), ("sms", sms_share))
        if _demo_point(tenant_id, customer.customer_id) < share
    ]
    campaign_repository().put_consents(tenant_id, consents)
    return len(consents)


def _demo_point(tenant_id: str, customer_id: str) -> float:
    return int(hashlib.sha256(f"{tenant_id}|{customer_id}".encode()).hexdigest()[:8], 16) / 2**32


def drain_send_queue(max_batches: int = 1000, *, tenant_id: str | None = None) -> dict[str, int]:
    """Deliver what is on the send queue in this process (what the sender function does in AWS); counts the
    outcomes of ``tenant_id``'s messages (every message is delivered: none is left behind or dropped)."""
    sqs = aws_client("sqs")
    queue_url = configured_settings().require("campaign_send_queue_url")
    # What the sender function passes to each delivery: the AWS message services, key vault, the campaigns'
    # sources, the plan's usage counters and the wall clock.
    services = MessageServices(mail=mail_service(), sms=sms_service(), whatsapp=whatsapp_service())
    sender = SenderContext(
        channel_factory=services.channel,
        keys=secrets_vault(),
        sources=campaign_sources(),
        usage=plan_usage(),
        clock=utc_now,
    )
    outcomes: dict[str, int] = {}
    for _ in range(max_batches):
        messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get(
            "Messages", []
        )
        if not messages:
            break
        for message in messages:
            request = SendRequest.model_validate_json(message["Body"])
            counted = tenant_id is None or request.tenant_id == tenant_id
            try:
                outcome = deliver(request, sender).status
            except RetryableSendError:
                outcome = "retry_later"  # stays on the queue; redelivered after its visibility timeout
            if counted:
                outcomes[outcome] = outcomes.get(outcome, 0) + 1
            if outcome == "retry_later":
                continue
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
    return outcomes


def moto_state() -> dict[str, Any]:
    """moto's recorded state (``/moto-api/data.json``): what the embedded AWS 'sent'."""
    import os

    endpoint = os.environ.get("AWS_ENDPOINT_URL", "")
    if not endpoint.startswith("http://127.0.0.1") and not endpoint.startswith("http://localhost"):
        raise RuntimeError("reading sent messages back needs the embedded AWS (AWS_ENDPOINT_URL on localhost)")
    with urllib.request.urlopen(f"{endpoint}/moto-api/data.json", timeout=30) as response:  # noqa: S310 - localhost
        return json.loads(response.read())


def sent_by_moto() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(SES raw messages, SNS SMS) that moto recorded. The embedded AWS runs moto in this process, so its
    backends are read directly (``/moto-api/data.json`` would serialise every table item too); a moto server
    in another process is read over HTTP."""
    try:
        from moto.core import DEFAULT_ACCOUNT_ID
        from moto.ses.models import ses_backends
        from moto.sns.models import sns_backends

        region = configured_settings().aws_region
        raw = [
            {"id": m.id, "raw_data": m.raw_data, "destinations": list(m.destinations)}
            for m in ses_backends[DEFAULT_ACCOUNT_ID][region].sent_messages
            if hasattr(m, "raw_data")
        ]
        sms = [
            {"message_id": m.message_id, "phone_number": m.phone_number, "message": m.message}
            for m in sns_backends[DEFAULT_ACCOUNT_ID][region].sms_message_objects.values()
        ]
        if raw or sms:
            return raw, sms
    except ImportError:
        pass
    state = moto_state()
    return state.get("ses", {}).get("RawMessage", []), state.get("sns", {}).get("SMS", []) or []


def read_back_sent(tenant_id: str, flows: list[str]) -> tuple[list[dict[str, Any]], list[dict[str, str]]]:
    message_ids = set()
    for flow in flows:
        for record in campaign_repository().iter_send_records(tenant_id, flow):
            if record.status == "sent" and record.provider_message_id:
                message_ids.add(record.provider_message_id)
    raw_messages, sms_messages = sent_by_moto()
    emails = []
    import email as email_parser
    from email.header import decode_header, make_header

    for raw in raw_messages:
        if raw.get("id") not in message_ids:
            continue
        parsed = email_parser.message_from_string(raw["raw_data"])
        emails.append(
            {
                "to": parsed["To"],
                "subject": str(make_header(decode_header(parsed["Subject"] or ""))),  # RFC 2047 words decoded
                "one_click_unsubscribe": bool(parsed["List-Unsubscribe"])
                and parsed["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click",
                "parts": [part.get_content_type() for part in parsed.walk() if not part.is_multipart()],
            }
        )
    sms = []
    for entry in sms_messages:
        if entry.get("message_id") in message_ids or entry.get("id") in message_ids:
            sms.append({"to": entry.get("phone_number", ""), "text": entry.get("message", "")})
    return emails, sms


def run_demo_campaigns(tenant_id: str, now: datetime, *, segment: str = RECENT_CUSTOMERS + ":7") -> CampaignDemoReport:
    """Abandoned cart + an A/B-tested segment campaign on the ingested sample store, read back from moto.

    ``segment``: who the campaign goes to (default: customers who bought in the last 7 days, which needs no
    trained model and keeps the demo to a few hundred sends; an RFM segment name such as "Champions" uses the
    customer model)."""
    configured_settings()
    sources = campaign_sources()
    campaigns, tenants, customers = sources.campaigns, sources.tenants, sources.customers
    settings = load_campaign_settings(tenant_id, tenants=tenants)
    stores = list_stores(tenant_id)
    if stores:
        settings.branding.store_url = stores[0].url
    settings.branding.footer_address = settings.branding.footer_address or "12 rue de la Paix, 75002 Paris"
    settings.flows.setdefault(
        "abandoned_cart",
        FlowSettings(
            variants={"A": {}, "B": {"subject": "{{ customer.first_name or 'Hello' }}, still thinking it over?"}}
        ),
    )
    save_campaign_settings(tenant_id, settings, tenants=tenants)
    grant_demo_consent(tenant_id)

    # The orders every step below reads, queried once: those of the abandoned-cart window and of the segment's
    # days (the demo's sends are assigned within them, so their conversions are in it too).
    since = orders_window_start(settings, ["abandoned_cart"], now)
    data = RunData.load(tenant_id, min(since, recent_customers_since(segment, now) or since), customers=customers)
    cart_results = run_flow(
        tenant_id,
        "abandoned_cart",
        now,
        _queue(),
        sources=sources,
        data=data,
    )
    spec = CampaignSpec(
        name="New season preview",
        segment=segment,
        channel="email",
        scheduled_at=now - timedelta(minutes=1),
        ab_test=ABTestSpec(
            variants={
                "A": {"subject": "The new season, first for you"},
                "B": {"subject": "{{ customer.first_name or 'Dear client' }}, a private preview"},
            },
            holdout_fraction=0.1,
        ),
    )
    campaign = create_campaign(tenant_id, spec, campaigns=campaigns, tenants=tenants)
    campaign_run = run_campaign(
        tenant_id,
        campaign,
        now,
        _queue(),
        sources=sources,
        orders=data.orders,
    )
    outcomes = drain_send_queue(tenant_id=tenant_id)
    flows = ["abandoned_cart", campaign_flow(campaign.campaign_id)]
    emails, sms = read_back_sent(tenant_id, flows)
    results = {
        flow: flow_results(tenant_id, flow, campaigns=campaigns, customers=customers, orders=data.orders)
        for flow in flows
    }
    simulation = [
        simulate_daily_peeking(relative_lift=0.0, simulations=200),
        simulate_daily_peeking(relative_lift=0.2, simulations=200),
    ]
    return CampaignDemoReport(
        tenant_id=tenant_id,
        abandoned_cart=cart_results[0].as_dict(),
        campaign={
            "campaign_id": campaign.campaign_id,
            "name": spec.name,
            "segment": spec.segment,
            "run": campaign_run.as_dict(),
        },
        send_outcomes=outcomes,
        emails_read_back=emails,
        sms_read_back=sms,
        results=results,
        simulation=simulation,
    )


def _queue() -> Any:
    from luxebrain.adapters.aws import queue
    from luxebrain.campaigns.sending import QueueDispatcher

    return QueueDispatcher(queue("campaign_send_queue_url"))

"""Provider events: what SES reports through the configuration set (delivery, open, click, bounce,
complaint) and inbound SMS keywords (STOP / START), applied per tenant.

A permanent bounce or a complaint suppresses the address for that tenant (and a complaint withdraws e-mail
consent); a STOP puts the number on that tenant's STOP list for SMS and WhatsApp at once.
"""

from __future__ import annotations

from datetime import UTC, datetime

from luxebrain.campaigns.consent import lift_suppression, record_consent, suppress
from luxebrain.campaigns.sending import parse_send_reference
from luxebrain.errors import NotFoundError
from luxebrain.observability import logger
from luxebrain.storage.campaigns import CampaignRepository, Consents
from luxebrain.storage.tenants import TenantDirectory

STOP_KEYWORDS = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "OPTOUT", "ARRET", "STOPP"})
START_KEYWORDS = frozenset({"START", "UNSTOP", "YES", "SUBSCRIBE"})


def record_email_event(
    tenant_id: str,
    reference: str,
    event_type: str,
    *,
    at: datetime | None = None,
    recipients: list[str] | None = None,
    bounce_type: str | None = None,
    campaigns: CampaignRepository,
) -> str:
    """Apply one SES event to its send record; returns what was done (for the log and tests)."""
    at = at or datetime.now(UTC)
    try:
        flow, customer_id, trigger = parse_send_reference(reference)
        record = campaigns.get_send_record(tenant_id, flow, customer_id, trigger, consistent=False)
    except (ValueError, NotFoundError):
        logger.warning("SES event for an unknown send record", extra={"event_type": event_type})
        return "unknown send record"
    kind = event_type.lower()
    if kind == "delivery" and record.delivered_at is None:
        campaigns.record_delivery_events(record, delivered_at=at)
    elif kind == "open" and record.opened_at is None:
        campaigns.record_delivery_events(record, opened_at=at)
    elif kind == "click" and record.clicked_at is None:
        # A click proves an open even when images were blocked.
        campaigns.record_delivery_events(record, clicked_at=at, opened_at=at if record.opened_at is None else None)
    elif kind == "bounce":
        if (bounce_type or "").lower() == "permanent":
            for address in recipients or []:
                suppress(
                    tenant_id,
                    "email",
                    address,
                    reason="bounce",
                    source="ses-bounce",
                    customer_id=customer_id,
                    at=at,
                    campaigns=campaigns,
                )
        campaigns.record_delivery_events(record, bounced=True)
    elif kind == "complaint":
        for address in recipients or []:
            suppress(
                tenant_id,
                "email",
                address,
                reason="complaint",
                source="ses-complaint",
                customer_id=customer_id,
                at=at,
                campaigns=campaigns,
            )
        record_consent(
            tenant_id, customer_id, "email", granted=False, source="spam-complaint", at=at, campaigns=campaigns
        )
        campaigns.record_delivery_events(record, complained=True)
    return kind


def record_sms_keyword(
    tenant_id: str, phone_number: str, body: str, *, at: datetime | None = None, campaigns: Consents
) -> str:
    """STOP (and its synonyms) suppresses the number for this tenant; START lifts a STOP. Returns the action."""
    keyword = (body or "").strip().split(" ")[0].upper().strip(".!") if body else ""
    if keyword in STOP_KEYWORDS:
        source = f"sms-keyword-{keyword.lower()}"
        suppress(tenant_id, "sms", phone_number, reason="stop", source=source, at=at, campaigns=campaigns)
        return "stopped"
    if keyword in START_KEYWORDS:
        lift_suppression(tenant_id, "sms", phone_number, campaigns=campaigns)
        lift_suppression(tenant_id, "whatsapp", phone_number, campaigns=campaigns)
        return "restarted"
    return "ignored"


def tenants_for_sms_number(origination_number: str, *, tenants: TenantDirectory) -> list[str]:
    """The tenants of ``tenants``' directory that send from this number (a shared number: all of them, so a
    STOP is never lost)."""
    from luxebrain.campaigns.config import parse_campaign_settings

    matches = []
    for tenant in tenants.iter_tenants():
        try:
            settings = parse_campaign_settings((tenant.settings or {}).get("campaigns"))
        except ValueError:
            # Saved settings are validated, so this is a stored shape the code no longer reads: said loudly, as
            # that tenant's STOP replies on this number cannot be matched until it is mended.
            logger.error(
                "campaign settings do not parse: STOP replies not matched", extra={"tenant_id": tenant.tenant_id}
            )
            continue
        if settings.sms_origination_number == origination_number:
            matches.append(tenant.tenant_id)
    return matches

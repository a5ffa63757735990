"""Consent and suppression, per tenant: who may be messaged on which channel.

Consent is recorded per tenant, customer and channel with its source and time (and a short history).
Suppressions (STOP, unsubscribe, bounce, complaint) are per tenant and keyed by a hash of the address, so a
STOP from a phone number stops that tenant's messages to it at once, whichever customer record it belongs to.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from luxebrain.adapters import KeyVault
from luxebrain.campaigns.addresses import address_hash
from luxebrain.campaigns.config import CHANNELS, CampaignSettings
from luxebrain.errors import InvalidInputError, NotFoundError
from luxebrain.storage.campaigns import CampaignRepository, ConsentRecord, Consents
from luxebrain.tenancy import validate_entity_id

if TYPE_CHECKING:
    from luxebrain.storage.customers import CustomerRepository
    from luxebrain.storage.tenants import TenantRepository

HISTORY_LIMIT = 20
SUPPRESSION_REASONS = ("stop", "unsubscribe", "bounce", "complaint")
LIFTABLE_SUPPRESSION_REASONS = ("stop", "unsubscribe")


@dataclass(frozen=True)
class ConsentState:
    customer_id: str
    channel: str
    granted: bool
    source: str
    recorded_at: datetime


def _check_channel(channel: str) -> str:
    if channel not in CHANNELS:
        raise InvalidInputError(f"channel must be one of {', '.join(CHANNELS)}, got {channel!r}")
    return channel


def record_consent(
    tenant_id: str,
    customer_id: str,
    channel: str,
    *,
    granted: bool,
    source: str,
    at: datetime | None = None,
    campaigns: Consents,
) -> ConsentState:
    """Record a consent decision; the previous state moves into the history (audit trail)."""
    validate_entity_id(customer_id, "customer id")
    _check_channel(channel)
    if not source or len(source) > 100:
        raise InvalidInputError("consent source must be 1-100 characters (where the consent was given)")
    at = at or datetime.now(UTC)
    history: list[dict[str, object]] = []
    previous = campaigns.get_consent(tenant_id, customer_id, channel)
    if previous is not None:
        history = [*previous.history, _state_entry(previous)][-HISTORY_LIMIT:]
    campaigns.put_consent(tenant_id, ConsentRecord(customer_id, channel, granted, source, at, tuple(history)))
    return ConsentState(customer_id, channel, granted, source, at)


def _state_entry(consent: ConsentRecord) -> dict[str, object]:
    return {"granted": consent.granted, "source": consent.source, "recorded_at": consent.recorded_at.isoformat()}


def get_consent(tenant_id: str, customer_id: str, channel: str, *, campaigns: Consents) -> ConsentState | None:
    _check_channel(channel)
    consent = campaigns.get_consent(tenant_id, customer_id, channel)
    if consent is None:
        return None
    return ConsentState(consent.customer_id, consent.channel, consent.granted, consent.source, consent.recorded_at)


def consent_history(tenant_id: str, customer_id: str, channel: str, *, campaigns: Consents) -> list[dict[str, object]]:
    consent = campaigns.get_consent(tenant_id, customer_id, channel)
    if consent is None:
        return []
    return [*consent.history, _state_entry(consent)]


def suppress(
    tenant_id: str,
    channel: str,
    address: str,
    *,
    reason: str,
    source: str,
    customer_id: str | None = None,
    at: datetime | None = None,
    campaigns: Consents,
) -> None:
    """Put an address on this tenant's suppression list for a channel (idempotent: the latest reason wins)."""
    _check_channel(channel)
    if reason not in SUPPRESSION_REASONS:
        raise InvalidInputError(f"suppression reason must be one of {', '.join(SUPPRESSION_REASONS)}")
    channels = ("sms", "whatsapp") if channel in ("sms", "whatsapp") and reason == "stop" else (channel,)
    hashed = address_hash(channel, address)
    for each in channels:
        campaigns.put_suppression(
            tenant_id,
            each,
            hashed,
            reason=reason,
            source=source,
            customer_id=customer_id,
            recorded_at=at or datetime.now(UTC),
        )


def lift_suppression(tenant_id: str, channel: str, address: str, *, campaigns: Consents) -> None:
    """START / re-subscribe: only for STOP and unsubscribe; bounces and complaints stay suppressed."""
    campaigns.delete_suppression(
        tenant_id, channel, address_hash(channel, address), reasons=LIFTABLE_SUPPRESSION_REASONS
    )


def suppression_reason(tenant_id: str, channel: str, address: str, *, campaigns: Consents) -> str | None:
    return campaigns.suppression_reason(tenant_id, channel, address_hash(channel, address))


def consent_block_reason(
    tenant_id: str,
    customer_id: str,
    channel: str,
    settings: CampaignSettings,
    *,
    is_customer: bool,
    campaigns: Consents,
) -> str | None:
    """Why this customer may not get marketing on this channel, or None when they may.

    SMS and WhatsApp need recorded opt-in. E-mail needs recorded opt-in under the opt_in rule; under
    soft_opt_in an existing customer may be e-mailed unless they said no. A recorded "no" always wins.
    """
    consent = get_consent(tenant_id, customer_id, channel, campaigns=campaigns)
    if consent is not None and not consent.granted:
        return f"consent withdrawn ({consent.source})"
    if consent is None:
        if channel == "email" and settings.email_consent_rule == "soft_opt_in" and is_customer:
            return None
        return "no consent recorded"
    return None


def unsubscribe_with_token(
    token: str,
    *,
    keys: KeyVault,
    campaigns: CampaignRepository,
    tenants: TenantRepository,
    customers: CustomerRepository,
    source: str = "unsubscribe-link",
) -> ConsentState:
    """Apply a signed unsubscribe link (or an RFC 8058 one-click POST): consent withdrawn and the address
    suppressed, for the token's tenant only, effective for the very next send."""
    from luxebrain.campaigns.tokens import verify_unsubscribe_token

    tenant_id, customer_id, channel = verify_unsubscribe_token(token, keys=keys, campaigns=campaigns, tenants=tenants)
    state = record_consent(tenant_id, customer_id, channel, granted=False, source=source, campaigns=campaigns)
    try:
        customer = customers.get_customer(tenant_id, customer_id)
        address = customer.email if channel == "email" else customer.phone
        if address:
            suppress(
                tenant_id,
                channel,
                address,
                reason="unsubscribe",
                source=source,
                customer_id=customer_id,
                campaigns=campaigns,
            )
    except (NotFoundError, InvalidInputError) as exc:  # the consent record alone already blocks sends
        from luxebrain.observability import logger

        logger.info("unsubscribe recorded without address suppression", extra={"reason": str(exc)})
    return state

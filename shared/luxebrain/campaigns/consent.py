"""Consent and suppression, per tenant: who may be messaged on which channel.

Consent is recorded per tenant, customer and channel with its source and time (and a short history).
Suppressions (STOP, unsubscribe, bounce, complaint) are per tenant and keyed by a hash of the address, so a
STOP from a phone number stops that tenant's messages to it at once, whichever customer record it belongs to.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from pynamodb.exceptions import DoesNotExist

from luxebrain.campaigns.addresses import address_hash
from luxebrain.campaigns.config import CHANNELS, CampaignSettings
from luxebrain.errors import InvalidInputError, NotFoundError
from luxebrain.runtime import configured_settings
from luxebrain.storage.models import (
    ConsentItem,
    CustomerItem,
    SuppressionItem,
    key_consent,
    key_suppression,
    utc_now,
)
from luxebrain.tenancy import validate_entity_id

HISTORY_LIMIT = 20
SUPPRESSION_REASONS = ("stop", "unsubscribe", "bounce", "complaint")


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
) -> ConsentState:
    """Record a consent decision; the previous state moves into the history (audit trail)."""
    configured_settings()
    validate_entity_id(customer_id, "customer id")
    _check_channel(channel)
    if not source or len(source) > 100:
        raise InvalidInputError("consent source must be 1-100 characters (where the consent was given)")
    at = at or utc_now()
    pk, sk = key_consent(tenant_id, customer_id, channel)
    history: list[dict[str, object]] = []
    try:
        previous = ConsentItem.get(pk, sk, consistent_read=True)
        history = [
            *list(previous.history or []),
            {
                "granted": previous.granted,
                "source": previous.source,
                "recorded_at": previous.recorded_at.isoformat(),
            },
        ][-HISTORY_LIMIT:]
    except DoesNotExist:
        pass
    ConsentItem(
        pk,
        sk,
        entity=ConsentItem.ENTITY,
        tenant_id=tenant_id,
        customer_id=customer_id,
        channel=channel,
        granted=granted,
        source=source,
        recorded_at=at,
        history=history,
    ).save()
    return ConsentState(customer_id, channel, granted, source, at)


def get_consent(tenant_id: str, customer_id: str, channel: str) -> ConsentState | None:
    configured_settings()
    _check_channel(channel)
    try:
        item = ConsentItem.get(*key_consent(tenant_id, customer_id, channel), consistent_read=True)
    except DoesNotExist:
        return None
    return ConsentState(item.customer_id, item.channel, item.granted, item.source, item.recorded_at)


def consent_history(tenant_id: str, customer_id: str, channel: str) -> list[dict[str, object]]:
    configured_settings()
    try:
        item = ConsentItem.get(*key_consent(tenant_id, customer_id, channel), consistent_read=True)
    except DoesNotExist:
        return []
    current = {"granted": item.granted, "source": item.source, "recorded_at": item.recorded_at.isoformat()}
    return [*list(item.history or []), current]


def suppress(
    tenant_id: str,
    channel: str,
    address: str,
    *,
    reason: str,
    source: str,
    customer_id: str | None = None,
    at: datetime | None = None,
) -> None:
    """Put an address on this tenant's suppression list for a channel (idempotent: the latest reason wins)."""
    configured_settings()
    _check_channel(channel)
    if reason not in SUPPRESSION_REASONS:
        raise InvalidInputError(f"suppression reason must be one of {', '.join(SUPPRESSION_REASONS)}")
    channels = ("sms", "whatsapp") if channel in ("sms", "whatsapp") and reason == "stop" else (channel,)
    hashed = address_hash(channel, address)
    for each in channels:
        pk, sk = key_suppression(tenant_id, each, hashed)
        SuppressionItem(
            pk,
            sk,
            entity=SuppressionItem.ENTITY,
            tenant_id=tenant_id,
            channel=each,
            reason=reason,
            source=source,
            customer_id=customer_id,
            recorded_at=at or utc_now(),
        ).save()


def lift_suppression(tenant_id: str, channel: str, address: str) -> None:
    """START / re-subscribe: only for STOP and unsubscribe; bounces and complaints stay suppressed."""
    configured_settings()
    pk, sk = key_suppression(tenant_id, channel, address_hash(channel, address))
    try:
        item = SuppressionItem.get(pk, sk, consistent_read=True)
    except DoesNotExist:
        return
    if item.reason in ("stop", "unsubscribe"):
        item.delete()


def suppression_reason(tenant_id: str, channel: str, address: str) -> str | None:
    configured_settings()
    pk, sk = key_suppression(tenant_id, channel, address_hash(channel, address))
    try:
        return SuppressionItem.get(pk, sk, consistent_read=True).reason
    except DoesNotExist:
        return None


def consent_block_reason(
    tenant_id: str, customer: CustomerItem, channel: str, settings: CampaignSettings, *, is_customer: bool
) -> str | None:
    """Why this customer may not get marketing on this channel, or None when they may.

    SMS and WhatsApp need recorded opt-in. E-mail needs recorded opt-in under the opt_in rule; under
    soft_opt_in an existing customer may be e-mailed unless they said no. A recorded "no" always wins.
    """
    consent = get_consent(tenant_id, customer.customer_id, channel)
    if consent is not None and not consent.granted:
        return f"consent withdrawn ({consent.source})"
    if consent is None:
        if channel == "email" and settings.email_consent_rule == "soft_opt_in" and is_customer:
            return None
        return "no consent recorded"
    return None


def unsubscribe_with_token(token: str, *, source: str = "unsubscribe-link") -> ConsentState:
    """Apply a signed unsubscribe link (or an RFC 8058 one-click POST): consent withdrawn and the address
    suppressed, for the token's tenant only, effective for the very next send."""
    from luxebrain.campaigns.tokens import verify_unsubscribe_token
    from luxebrain.storage.customers import get_customer

    tenant_id, customer_id, channel = verify_unsubscribe_token(token)
    state = record_consent(tenant_id, customer_id, channel, granted=False, source=source)
    try:
        customer = get_customer(tenant_id, customer_id)
        address = customer.email if channel == "email" else customer.phone
        if address:
            suppress(tenant_id, channel, address, reason="unsubscribe", source=source, customer_id=customer_id)
    except (NotFoundError, InvalidInputError) as exc:  # the consent record alone already blocks sends
        from luxebrain.observability import logger

        logger.info("unsubscribe recorded without address suppression", extra={"reason": str(exc)})
    return state

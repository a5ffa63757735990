"""Campaigns: consent, suppressions, send records, contact logs, campaigns and their state."""

from __future__ import annotations

from pynamodb.attributes import (
    BinaryAttribute,
    BooleanAttribute,
    JSONAttribute,
    ListAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)

from luxebrain.storage.items.base import BaseItem, utc_now
from luxebrain.tenancy import tenant_partition


class ConsentItem(BaseItem):
    """A customer's current consent for one channel, with where it came from and the history of changes."""

    ENTITY = "consent"
    customer_id = UnicodeAttribute()
    channel = UnicodeAttribute()  # email | sms | whatsapp
    granted = BooleanAttribute()
    source = UnicodeAttribute()  # checkout-checkbox | unsubscribe-link | sms-stop | api | import ...
    recorded_at = UTCDateTimeAttribute(default=utc_now)
    history = JSONAttribute(default=list)  # earlier states, newest last (capped)


class SuppressionItem(BaseItem):
    """An address a tenant must not message on a channel: STOP, unsubscribe, bounce or complaint.
    Keyed by a hash of the normalised address so a lookup needs no customer record."""

    ENTITY = "suppression"
    channel = UnicodeAttribute()
    reason = UnicodeAttribute()  # stop | unsubscribe | bounce | complaint
    source = UnicodeAttribute()
    customer_id = UnicodeAttribute(null=True)
    recorded_at = UTCDateTimeAttribute(default=utc_now)


class SendRecordItem(BaseItem):
    """One message of one flow to one customer for one trigger: written (conditionally) before the
    provider is called, so a retried or concurrent run cannot send it twice."""

    ENTITY = "campaign_send"
    flow = UnicodeAttribute()
    customer_id = UnicodeAttribute()
    trigger = UnicodeAttribute()
    channel = UnicodeAttribute()
    status = UnicodeAttribute()  # claimed | sent | skipped | held_out | retrying | failed | unknown
    reason = UnicodeAttribute(null=True)
    attempts = NumberAttribute(default=0)
    test_id = UnicodeAttribute(null=True)
    variant = UnicodeAttribute(null=True)
    assigned_at = UTCDateTimeAttribute(default=utc_now)
    claimed_at = UTCDateTimeAttribute(null=True)
    sent_at = UTCDateTimeAttribute(null=True)
    provider_message_id = UnicodeAttribute(null=True)
    delivered_at = UTCDateTimeAttribute(null=True)
    opened_at = UTCDateTimeAttribute(null=True)
    clicked_at = UTCDateTimeAttribute(null=True)
    bounced = BooleanAttribute(default=False)
    complained = BooleanAttribute(default=False)
    request = JSONAttribute(default=dict)  # what the sender needs to (re)build the message


class ContactLogItem(BaseItem):
    """When a customer was messaged on a channel (epoch seconds, appended atomically): frequency caps read
    one item with a strongly consistent GetItem instead of querying send records."""

    ENTITY = "campaign_contact"
    channel = UnicodeAttribute()
    sent = ListAttribute(of=NumberAttribute, default=list)


class CampaignItem(BaseItem):
    """A one-off campaign to a segment with a scheduled send time."""

    ENTITY = "campaign"
    campaign_id = UnicodeAttribute()
    name = UnicodeAttribute()
    segment = UnicodeAttribute()
    channel = UnicodeAttribute(default="email")
    template = JSONAttribute(default=dict)  # subject / html / text / sms overrides (tenant-edited)
    ab_test = JSONAttribute(null=True)
    scheduled_at = UTCDateTimeAttribute()
    status = UnicodeAttribute(default="scheduled")  # scheduled | running | sent | cancelled
    stats = JSONAttribute(default=dict)
    created_at = UTCDateTimeAttribute(default=utc_now)


class CampaignStateItem(BaseItem):
    """Per-tenant campaign state: the encrypted unsubscribe signing key, the product watch snapshot."""

    ENTITY = "campaign_state"
    secret_ciphertext = BinaryAttribute(legacy_encoding=False, null=True)
    state = JSONAttribute(default=dict)


def key_consent(tenant_id: str, customer_id: str, channel: str) -> tuple[str, str]:
    return tenant_partition(tenant_id, "CONSENT"), f"{customer_id}#{channel}"


def key_suppression(tenant_id: str, channel: str, address_hash: str) -> tuple[str, str]:
    return tenant_partition(tenant_id, "SUPPRESS"), f"{channel}#{address_hash}"


def key_send(tenant_id: str, flow: str, customer_id: str, trigger: str) -> tuple[str, str]:
    return tenant_partition(tenant_id, "SEND", flow), f"{customer_id}#{trigger}"


def key_contact_log(tenant_id: str, customer_id: str, channel: str) -> tuple[str, str]:
    return tenant_partition(tenant_id, "CONTACT"), f"{customer_id}#{channel}"


def key_campaign(tenant_id: str, campaign_id: str) -> tuple[str, str]:
    return tenant_partition(tenant_id, "CAMPAIGN"), campaign_id


def key_campaign_state(tenant_id: str, name: str) -> tuple[str, str]:
    return tenant_partition(tenant_id), f"CAMPAIGN_STATE#{name}"

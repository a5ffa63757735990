"""The campaigns repository: consent, suppressions, send records, contact logs, one-off campaigns and the
per-tenant campaign state.

The exactly-once rules of sending live in the conditional writes here: a send record is created only if none
exists (before any provider call), a ``retrying`` record is taken back only at the attempt count read, a stale
claim is marked ``unknown`` only if it is still that claim, and contact times are appended atomically.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from pynamodb.exceptions import DoesNotExist, UpdateError

from luxebrain.errors import ConflictError, NotFoundError
from luxebrain.storage.items.base import delete_if, is_condition_failure, save_if, update_if, utc_now
from luxebrain.storage.items.campaigns import (
    CampaignItem,
    CampaignStateItem,
    ConsentItem,
    ContactLogItem,
    SendRecordItem,
    SuppressionItem,
    key_campaign,
    key_campaign_state,
    key_consent,
    key_contact_log,
    key_send,
    key_suppression,
)
from luxebrain.storage.mapping import attributes_of, record_from
from luxebrain.tenancy import tenant_partition


# ----------------------------------------------------------------------------- consent
@dataclass(frozen=True)
class ConsentRecord:
    """A customer's current consent for one channel, with the earlier states (oldest first)."""

    customer_id: str
    channel: str
    granted: bool
    source: str
    recorded_at: datetime
    history: tuple[dict[str, Any], ...] = ()


def get_consent(tenant_id: str, customer_id: str, channel: str) -> ConsentRecord | None:
    try:
        item = ConsentItem.get(*key_consent(tenant_id, customer_id, channel), consistent_read=True)
    except DoesNotExist:
        return None
    return ConsentRecord(
        item.customer_id, item.channel, item.granted, item.source, item.recorded_at, tuple(item.history or ())
    )


def _consent_item(tenant_id: str, consent: ConsentRecord) -> ConsentItem:
    return ConsentItem(
        *key_consent(tenant_id, consent.customer_id, consent.channel),
        entity=ConsentItem.ENTITY,
        tenant_id=tenant_id,
        **attributes_of(consent, history=list(consent.history)),
    )


def put_consent(tenant_id: str, consent: ConsentRecord) -> None:
    """Store the consent as the current one (the caller has folded the previous state into its history)."""
    _consent_item(tenant_id, consent).save()


def put_consents(tenant_id: str, consents: Iterable[ConsentRecord]) -> None:
    """Store many consents at once (imports, seeding): batched writes, no history kept."""
    with ConsentItem.batch_write() as batch:
        for consent in consents:
            batch.save(_consent_item(tenant_id, consent))


def consent_grants(tenant_id: str, customer_ids: Iterable[str], channel: str) -> dict[str, bool]:
    """customer id -> granted, for those with a consent recorded on the channel (100 keys per BatchGetItem)."""
    keys = [key_consent(tenant_id, customer_id, channel) for customer_id in set(customer_ids)]
    return {item.customer_id: item.granted for item in ConsentItem.batch_get(keys)}


# ----------------------------------------------------------------------------- suppressions
def put_suppression(
    tenant_id: str,
    channel: str,
    address_hash: str,
    *,
    reason: str,
    source: str,
    customer_id: str | None,
    recorded_at: datetime,
) -> None:
    """Suppress the (hashed) address on the channel; a later reason replaces an earlier one."""
    pk, sk = key_suppression(tenant_id, channel, address_hash)
    SuppressionItem(
        pk,
        sk,
        entity=SuppressionItem.ENTITY,
        tenant_id=tenant_id,
        channel=channel,
        reason=reason,
        source=source,
        customer_id=customer_id,
        recorded_at=recorded_at,
    ).save()


def suppression_reason(tenant_id: str, channel: str, address_hash: str) -> str | None:
    try:
        item = SuppressionItem.get(*key_suppression(tenant_id, channel, address_hash), consistent_read=True)
    except DoesNotExist:
        return None
    return item.reason


def delete_suppression(tenant_id: str, channel: str, address_hash: str, *, reasons: tuple[str, ...]) -> bool:
    """Lift the suppression only if it is for one of ``reasons`` (one conditional delete); True when lifted."""
    item = SuppressionItem(*key_suppression(tenant_id, channel, address_hash))
    return delete_if(item, SuppressionItem.reason.is_in(*reasons))  # False: none, or one that stays (a bounce)


# ----------------------------------------------------------------------------- send records
@dataclass(frozen=True)
class SendRecord:
    """One message of one flow to one customer for one trigger (see luxebrain.campaigns.sending)."""

    tenant_id: str
    flow: str
    customer_id: str
    trigger: str
    channel: str
    status: str  # claimed | sent | skipped | held_out | retrying | failed | unknown | dead_lettered
    assigned_at: datetime
    attempts: int = 0
    reason: str | None = None
    test_id: str | None = None
    variant: str | None = None
    claimed_at: datetime | None = None
    sent_at: datetime | None = None
    provider_message_id: str | None = None
    delivered_at: datetime | None = None
    opened_at: datetime | None = None
    clicked_at: datetime | None = None
    bounced: bool = False
    complained: bool = False
    request: dict[str, Any] = field(default_factory=dict)  # what the sender needs to (re)build the message


def _send_record(item: SendRecordItem) -> SendRecord:
    return record_from(
        SendRecord,
        item,
        attempts=int(item.attempts or 0),
        bounced=bool(item.bounced),
        complained=bool(item.complained),
        request=dict(item.request or {}),
    )


def _send_item(record: SendRecord) -> SendRecordItem:
    """The item holding only the record's key (updates need no more)."""
    return SendRecordItem(*key_send(record.tenant_id, record.flow, record.customer_id, record.trigger))


def create_send_record(record: SendRecord) -> bool:
    """Write the record if the send has none yet (``attribute_not_exists``): True for the one caller that did."""
    pk, sk = key_send(record.tenant_id, record.flow, record.customer_id, record.trigger)
    item = SendRecordItem(
        pk,
        sk,
        entity=SendRecordItem.ENTITY,
        tenant_id=record.tenant_id,
        flow=record.flow,
        customer_id=record.customer_id,
        trigger=record.trigger,
        channel=record.channel,
        status=record.status,
        reason=record.reason,
        attempts=record.attempts,
        test_id=record.test_id,
        variant=record.variant,
        assigned_at=record.assigned_at,
        claimed_at=record.claimed_at,
        sent_at=record.sent_at,
        provider_message_id=record.provider_message_id,
        delivered_at=record.delivered_at,
        opened_at=record.opened_at,
        clicked_at=record.clicked_at,
        bounced=record.bounced,
        complained=record.complained,
        request=record.request,
    )
    return save_if(item, SendRecordItem.pk.does_not_exist())


def get_send_record(
    tenant_id: str, flow: str, customer_id: str, trigger: str, *, consistent: bool = True
) -> SendRecord:
    try:
        item = SendRecordItem.get(*key_send(tenant_id, flow, customer_id, trigger), consistent_read=consistent)
    except DoesNotExist:
        raise NotFoundError("send record not found") from None
    return _send_record(item)


def reclaim_retrying_send(record: SendRecord, now: datetime) -> tuple[SendRecord, bool]:
    """Take a ``retrying`` record back for another attempt, only at the attempt count read (so of two
    redeliveries one wins). The record as it is now, and whether this caller owns it."""
    item = _send_item(record)
    try:
        item.update(
            actions=[
                SendRecordItem.status.set("claimed"),
                SendRecordItem.attempts.set(SendRecordItem.attempts + 1),
                SendRecordItem.claimed_at.set(now),
            ],
            condition=(SendRecordItem.status == "retrying") & (SendRecordItem.attempts == record.attempts),
        )
    except UpdateError as exc:
        if not is_condition_failure(exc):
            raise
        item.refresh(consistent_read=True)
        return _send_record(item), False
    return _send_record(item), True


def mark_stale_claim_unknown(record: SendRecord, reason: str) -> None:
    """A claim older than its lease (the sender stopped during the provider call) becomes ``unknown``, only if
    it is still that claim; never resent. Best effort: the outcome is ``unknown`` either way."""
    with contextlib.suppress(UpdateError):
        _send_item(record).update(
            actions=[SendRecordItem.status.set("unknown"), SendRecordItem.reason.set(reason)],
            condition=(SendRecordItem.status == "claimed") & (SendRecordItem.claimed_at == record.claimed_at),
        )


def settle_send(record: SendRecord, status: str, reason: str) -> None:
    """The sender's final word on a record it owns (skipped, failed, retrying) with the reason."""
    _send_item(record).update(actions=[SendRecordItem.status.set(status), SendRecordItem.reason.set(reason)])


def mark_sent(record: SendRecord, *, sent_at: datetime, provider_message_id: str) -> None:
    _send_item(record).update(
        actions=[
            SendRecordItem.status.set("sent"),
            SendRecordItem.sent_at.set(sent_at),
            SendRecordItem.provider_message_id.set(provider_message_id),
            SendRecordItem.reason.remove(),
        ]
    )


def record_delivery_events(
    record: SendRecord,
    *,
    delivered_at: datetime | None = None,
    opened_at: datetime | None = None,
    clicked_at: datetime | None = None,
    bounced: bool = False,
    complained: bool = False,
) -> None:
    """Set what the provider reported on the record (only what is given)."""
    actions: list[Any] = []
    if delivered_at is not None:
        actions.append(SendRecordItem.delivered_at.set(delivered_at))
    if opened_at is not None:
        actions.append(SendRecordItem.opened_at.set(opened_at))
    if clicked_at is not None:
        actions.append(SendRecordItem.clicked_at.set(clicked_at))
    if bounced:
        actions.append(SendRecordItem.bounced.set(True))
    if complained:
        actions.append(SendRecordItem.complained.set(True))
    if actions:
        _send_item(record).update(actions=actions)


def recorded_sends(tenant_id: str, flow: str, sends: Iterable[tuple[str, str]]) -> set[tuple[str, str]]:
    """Which (customer id, trigger) pairs of the flow already have a send record (100 keys per BatchGetItem)."""
    by_key = {key_send(tenant_id, flow, customer_id, trigger): (customer_id, trigger) for customer_id, trigger in sends}
    return {
        by_key[(item.pk, item.sk)] for item in SendRecordItem.batch_get(list(by_key), attributes_to_get=["pk", "sk"])
    }


def iter_send_records(tenant_id: str, flow: str) -> Iterator[SendRecord]:
    """Every record of the flow (one partition), page by page."""
    return (_send_record(item) for item in SendRecordItem.query(tenant_partition(tenant_id, "SEND", flow)))


# ----------------------------------------------------------------------------- contact logs
def append_contact(tenant_id: str, customer_id: str, channel: str, *, sent_at: int, expires_at: int) -> None:
    """Append a send time (epoch seconds) to the customer's contact log, atomically: concurrent flows both count."""
    ContactLogItem(*key_contact_log(tenant_id, customer_id, channel)).update(
        actions=[
            ContactLogItem.sent.set((ContactLogItem.sent | []).append([sent_at])),
            ContactLogItem.entity.set(ContactLogItem.ENTITY),
            ContactLogItem.tenant_id.set(tenant_id),
            ContactLogItem.channel.set(channel),
            ContactLogItem.expires_at.set(expires_at),
        ]
    )


def contact_times(tenant_id: str, customer_id: str, channel: str) -> list[float]:
    """When the customer was messaged on the channel (epoch seconds; one strongly consistent read)."""
    try:
        log = ContactLogItem.get(*key_contact_log(tenant_id, customer_id, channel), consistent_read=True)
    except DoesNotExist:
        return []
    return [float(moment) for moment in log.sent or []]


# ----------------------------------------------------------------------------- one-off campaigns
@dataclass(frozen=True)
class Campaign:
    campaign_id: str
    name: str
    segment: str
    channel: str
    template: dict[str, str]
    ab_test: dict[str, Any] | None
    scheduled_at: datetime
    status: str = "scheduled"  # scheduled | running | sent | cancelled
    stats: dict[str, Any] = field(default_factory=dict)
    created_at: datetime = field(default_factory=utc_now)


def _campaign(item: CampaignItem) -> Campaign:
    return record_from(
        Campaign,
        item,
        template=dict(item.template or {}),
        ab_test=None if item.ab_test is None else dict(item.ab_test),
        stats=dict(item.stats or {}),
    )


def create_campaign(tenant_id: str, campaign: Campaign) -> Campaign:
    """Store a new campaign; ConflictError if its id is taken."""
    pk, sk = key_campaign(tenant_id, campaign.campaign_id)
    item = CampaignItem(
        pk,
        sk,
        entity=CampaignItem.ENTITY,
        tenant_id=tenant_id,
        campaign_id=campaign.campaign_id,
        name=campaign.name,
        segment=campaign.segment,
        channel=campaign.channel,
        template=campaign.template,
        ab_test=campaign.ab_test,
        scheduled_at=campaign.scheduled_at,
        status=campaign.status,
        stats=campaign.stats,
        created_at=campaign.created_at,
    )
    if not save_if(item, CampaignItem.pk.does_not_exist()):
        raise ConflictError(f"campaign {campaign.campaign_id} already exists")
    return _campaign(item)


def get_campaign(tenant_id: str, campaign_id: str) -> Campaign:
    try:
        return _campaign(CampaignItem.get(*key_campaign(tenant_id, campaign_id)))
    except DoesNotExist:
        raise NotFoundError(f"campaign {campaign_id} not found") from None


def list_campaigns(tenant_id: str) -> list[Campaign]:
    return [_campaign(item) for item in CampaignItem.query(tenant_partition(tenant_id, "CAMPAIGN"))]


def record_campaign_run(tenant_id: str, campaign_id: str, *, status: str, stats: dict[str, Any]) -> None:
    """The campaign's status and run statistics; NotFoundError for an unknown campaign (the update is conditional
    on the item, so it never leaves a partial one)."""
    actions = [CampaignItem.status.set(status), CampaignItem.stats.set(stats)]
    if not update_if(CampaignItem(*key_campaign(tenant_id, campaign_id)), actions, CampaignItem.pk.exists()):
        raise NotFoundError(f"campaign {campaign_id} not found")


# ----------------------------------------------------------------------------- campaign state
@dataclass(frozen=True)
class CampaignState:
    """A named piece of a tenant's campaign state: an encrypted secret, or a JSON document."""

    secret_ciphertext: bytes | None
    state: dict[str, Any]


def get_campaign_state(tenant_id: str, name: str) -> CampaignState | None:
    try:
        item = CampaignStateItem.get(*key_campaign_state(tenant_id, name), consistent_read=True)
    except DoesNotExist:
        return None
    return CampaignState(item.secret_ciphertext, dict(item.state or {}))


def create_campaign_secret(tenant_id: str, name: str, ciphertext: bytes) -> bool:
    """Store the encrypted secret if the tenant has none of that name yet: True for the one creator that did."""
    pk, sk = key_campaign_state(tenant_id, name)
    item = CampaignStateItem(pk, sk, entity=CampaignStateItem.ENTITY, tenant_id=tenant_id, secret_ciphertext=ciphertext)
    return save_if(item, CampaignStateItem.pk.does_not_exist())


def put_campaign_state(tenant_id: str, name: str, state: dict[str, Any]) -> None:
    pk, sk = key_campaign_state(tenant_id, name)
    CampaignStateItem(pk, sk, entity=CampaignStateItem.ENTITY, tenant_id=tenant_id, state=state).save()


# ----------------------------------------------------------------------------- the repository
class Consents(Protocol):
    """Who agreed to be messaged on which channel, and the addresses that must not be messaged."""

    def get_consent(self, tenant_id: str, customer_id: str, channel: str) -> ConsentRecord | None: ...

    def put_consent(self, tenant_id: str, consent: ConsentRecord) -> None: ...

    def put_consents(self, tenant_id: str, consents: Iterable[ConsentRecord]) -> None: ...

    def consent_grants(self, tenant_id: str, customer_ids: Iterable[str], channel: str) -> dict[str, bool]: ...

    def put_suppression(
        self,
        tenant_id: str,
        channel: str,
        address_hash: str,
        *,
        reason: str,
        source: str,
        customer_id: str | None,
        recorded_at: datetime,
    ) -> None: ...

    def suppression_reason(self, tenant_id: str, channel: str, address_hash: str) -> str | None: ...

    def delete_suppression(
        self, tenant_id: str, channel: str, address_hash: str, *, reasons: tuple[str, ...]
    ) -> bool: ...


class SendRecords(Protocol):
    """The exactly-once record of each send and its provider events, and each customer's contact log."""

    def create_send_record(self, record: SendRecord) -> bool: ...

    def get_send_record(
        self, tenant_id: str, flow: str, customer_id: str, trigger: str, *, consistent: bool = True
    ) -> SendRecord: ...

    def reclaim_retrying_send(self, record: SendRecord, now: datetime) -> tuple[SendRecord, bool]: ...

    def mark_stale_claim_unknown(self, record: SendRecord, reason: str) -> None: ...

    def settle_send(self, record: SendRecord, status: str, reason: str) -> None: ...

    def mark_sent(self, record: SendRecord, *, sent_at: datetime, provider_message_id: str) -> None: ...

    def record_delivery_events(
        self,
        record: SendRecord,
        *,
        delivered_at: datetime | None = None,
        opened_at: datetime | None = None,
        clicked_at: datetime | None = None,
        bounced: bool = False,
        complained: bool = False,
    ) -> None: ...

    def recorded_sends(self, tenant_id: str, flow: str, sends: Iterable[tuple[str, str]]) -> set[tuple[str, str]]: ...

    def iter_send_records(self, tenant_id: str, flow: str) -> Iterator[SendRecord]: ...

    def append_contact(
        self, tenant_id: str, customer_id: str, channel: str, *, sent_at: int, expires_at: int
    ) -> None: ...

    def contact_times(self, tenant_id: str, customer_id: str, channel: str) -> list[float]: ...


class CampaignRecords(Protocol):
    """One-off campaigns, and the named pieces of a tenant's campaign state (the unsubscribe-link key, the
    product snapshot the back-in-stock and price-drop flows compare with)."""

    def create_campaign(self, tenant_id: str, campaign: Campaign) -> Campaign: ...

    def get_campaign(self, tenant_id: str, campaign_id: str) -> Campaign: ...

    def list_campaigns(self, tenant_id: str) -> list[Campaign]: ...

    def record_campaign_run(self, tenant_id: str, campaign_id: str, *, status: str, stats: dict[str, Any]) -> None: ...

    def get_campaign_state(self, tenant_id: str, name: str) -> CampaignState | None: ...

    def create_campaign_secret(self, tenant_id: str, name: str, ciphertext: bytes) -> bool: ...

    def put_campaign_state(self, tenant_id: str, name: str, state: dict[str, Any]) -> None: ...


class CampaignRepository(Consents, SendRecords, CampaignRecords, Protocol):
    """The campaigns aggregate as a whole: what the flows, the sender, provider events and the campaign routes
    are given. Code that needs one part takes the smaller protocol."""


class DynamoCampaignRepository:
    """The campaigns repository on the table: this module's reads and writes."""

    get_consent = staticmethod(get_consent)
    put_consent = staticmethod(put_consent)
    put_consents = staticmethod(put_consents)
    consent_grants = staticmethod(consent_grants)
    put_suppression = staticmethod(put_suppression)
    suppression_reason = staticmethod(suppression_reason)
    delete_suppression = staticmethod(delete_suppression)
    create_send_record = staticmethod(create_send_record)
    get_send_record = staticmethod(get_send_record)
    reclaim_retrying_send = staticmethod(reclaim_retrying_send)
    mark_stale_claim_unknown = staticmethod(mark_stale_claim_unknown)
    settle_send = staticmethod(settle_send)
    mark_sent = staticmethod(mark_sent)
    record_delivery_events = staticmethod(record_delivery_events)
    recorded_sends = staticmethod(recorded_sends)
    iter_send_records = staticmethod(iter_send_records)
    append_contact = staticmethod(append_contact)
    contact_times = staticmethod(contact_times)
    create_campaign = staticmethod(create_campaign)
    get_campaign = staticmethod(get_campaign)
    list_campaigns = staticmethod(list_campaigns)
    record_campaign_run = staticmethod(record_campaign_run)
    get_campaign_state = staticmethod(get_campaign_state)
    create_campaign_secret = staticmethod(create_campaign_secret)
    put_campaign_state = staticmethod(put_campaign_state)


def campaign_repository() -> DynamoCampaignRepository:
    """The product's campaigns repository (stateless: the table is bound once per execution environment)."""
    return _REPOSITORY


_REPOSITORY = DynamoCampaignRepository()

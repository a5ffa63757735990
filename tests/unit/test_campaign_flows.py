"""A campaign flow over the in-memory campaigns repository (held to the table by
tests/integration/test_campaign_repository_contract.py): consent decides who enters the test, hold-outs are
recorded and never messaged, each send is claimed once, provider events land on their record (a bounce and
a complaint suppress the address), a STOP covers SMS and WhatsApp, and the results count every arm. The
sender's provider call and the tenant's orders stay out: the sends are claimed and marked as the sender does,
and the orders are passed in."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from fakes import InMemoryCampaignRepository, InMemoryCustomerRepository, InMemoryKeyVault, InMemoryTenantRepository

from luxebrain.campaigns.abtest import HOLDOUT, Arm, assign
from luxebrain.campaigns.config import CampaignSettings, FlowSettings
from luxebrain.campaigns.consent import consent_history, get_consent, record_consent, suppression_reason
from luxebrain.campaigns.events import record_email_event, record_sms_keyword
from luxebrain.campaigns.flows import Candidate, dispatch_candidates
from luxebrain.campaigns.results import flow_results
from luxebrain.campaigns.sending import SendRequest, claim, send_reference
from luxebrain.campaigns.tokens import (
    InvalidTokenError,
    existing_signing_key,
    make_unsubscribe_token,
    verify_unsubscribe_token,
)
from luxebrain.storage.customers import Order
from luxebrain.storage.tenants import Tenant

TENANT = "t-unit-campaigns"
FLOW = "abandoned_cart"
NOON = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
CUSTOMERS = [f"c{index:02d}" for index in range(24)]
VARIANTS = {"A": {}, "B": {"subject": "Still thinking it over?"}}


@pytest.fixture(autouse=True)
def settings(local_settings: Callable[..., None]) -> None:
    local_settings()  # also clears the per-container cache of signing keys


class Collecting:
    def __init__(self) -> None:
        self.requests: list[SendRequest] = []
        self.flushes = 0

    def dispatch(self, request: SendRequest) -> None:
        self.requests.append(request)

    def flush(self) -> None:
        self.flushes += 1


def candidates() -> list[Candidate]:
    return [
        Candidate(customer, f"order-{index}", {"order_id": str(index)}, NOON)
        for index, customer in enumerate(CUSTOMERS)
    ]


def run(campaigns: InMemoryCampaignRepository) -> tuple[Collecting, dict[str, int]]:
    dispatcher = Collecting()
    config = FlowSettings(holdout_fraction=0.3, variants=VARIANTS)
    result = dispatch_candidates(
        TENANT, FLOW, FLOW, candidates(), CampaignSettings(), config, dispatcher, campaigns=campaigns
    )
    counts = {
        "candidates": result.candidates,
        "dispatched": result.dispatched,
        "held_out": result.held_out,
        "already_recorded": result.already_recorded,
        **result.not_eligible,
    }
    return dispatcher, counts


@pytest.fixture
def campaigns() -> InMemoryCampaignRepository:
    repository = InMemoryCampaignRepository()
    for customer in CUSTOMERS[:22]:
        record_consent(TENANT, customer, "email", granted=True, source="checkout", at=NOON, campaigns=repository)
    # c21 said no later; c22 and c23 never said anything (the opt-in rule: not messaged)
    record_consent(TENANT, "c21", "email", granted=False, source="account", at=NOON, campaigns=repository)
    return repository


def test_consent_decides_who_enters_the_test_and_hold_outs_are_recorded_not_sent(
    campaigns: InMemoryCampaignRepository,
) -> None:
    dispatcher, counts = run(campaigns)
    eligible = CUSTOMERS[:21]
    arms = {
        customer: assign(TENANT, FLOW, customer, [Arm("A"), Arm("B")], holdout_fraction=0.3) for customer in eligible
    }
    held_out = sorted(customer for customer, arm in arms.items() if arm == HOLDOUT)
    assert held_out and len(held_out) < len(eligible)  # both kinds of arm are exercised
    assert counts == {
        "candidates": 24,
        "dispatched": len(eligible) - len(held_out),
        "held_out": len(held_out),
        "already_recorded": 0,
        "consent withdrawn": 1,
        "no consent": 2,
    }
    assert dispatcher.flushes == 1
    assert sorted(request.customer_id for request in dispatcher.requests) == sorted(set(eligible) - set(held_out))
    assert all(request.variant == arms[request.customer_id] for request in dispatcher.requests)
    records = list(campaigns.iter_send_records(TENANT, FLOW))
    assert [(r.customer_id, r.status, r.variant, r.attempts) for r in records] == [
        (customer, "held_out", HOLDOUT, 0) for customer in held_out
    ]
    assert records[0].request == {"flow_kind": FLOW, "trigger_context": {"order_id": records[0].trigger[6:]}}
    # The consent trail keeps the earlier "yes" under the current "no"
    assert [entry["granted"] for entry in consent_history(TENANT, "c21", "email", campaigns=campaigns)] == [True, False]


def test_each_send_is_claimed_once_and_a_rerun_finds_every_trigger_recorded(
    campaigns: InMemoryCampaignRepository,
) -> None:
    dispatcher, first = run(campaigns)
    for request in dispatcher.requests:  # what the sender does before the provider call, twice (a redelivery)
        record, owned = claim(request, NOON, campaigns=campaigns)
        assert owned and (record.status, record.attempts, record.claimed_at) == ("claimed", 1, NOON)
        again, owned_again = claim(request, NOON + timedelta(seconds=5), campaigns=campaigns)
        assert not owned_again and again == record
        campaigns.mark_sent(record, sent_at=NOON, provider_message_id=f"m-{request.customer_id}")
    _, rerun = run(campaigns)
    assert rerun["dispatched"] == rerun["held_out"] == 0
    assert rerun["already_recorded"] == first["dispatched"] + first["held_out"]


def test_provider_events_land_on_their_record_and_the_results_count_every_arm(
    campaigns: InMemoryCampaignRepository,
) -> None:
    dispatcher, counts = run(campaigns)
    sent = sorted(dispatcher.requests, key=lambda request: request.customer_id)
    for request in sent:
        record, _ = claim(request, NOON, campaigns=campaigns)
        campaigns.mark_sent(record, sent_at=NOON, provider_message_id=f"m-{request.customer_id}")
    opener, bouncer, complainer = sent[0], sent[1], sent[2]

    def event(request: SendRequest, kind: str, **extra: object) -> str:
        reference = send_reference(FLOW, request.customer_id, request.trigger)
        at = NOON + timedelta(hours=1)
        return record_email_event(TENANT, reference, kind, at=at, campaigns=campaigns, **extra)  # type: ignore[arg-type]

    for request in sent:
        assert event(request, "Delivery") == "delivery"
    assert event(opener, "Click") == "click"  # a click proves an open
    assert event(bouncer, "Bounce", recipients=["bounce@shop.example"], bounce_type="Permanent") == "bounce"
    assert event(complainer, "Complaint", recipients=["angry@shop.example"]) == "complaint"
    assert record_email_event(TENANT, "bm90LWEtc2VuZA", "Delivery", campaigns=campaigns) == "unknown send record"
    assert suppression_reason(TENANT, "email", "Bounce@Shop.example", campaigns=campaigns) == "bounce"
    assert suppression_reason(TENANT, "email", "angry@shop.example", campaigns=campaigns) == "complaint"
    withdrawn = get_consent(TENANT, complainer.customer_id, "email", campaigns=campaigns)
    assert withdrawn is not None and (withdrawn.granted, withdrawn.source) == (False, "spam-complaint")

    # One purchase of the opener inside the conversion window, one of a hold-out customer after it
    held_out = next(r.customer_id for r in campaigns.iter_send_records(TENANT, FLOW) if r.status == "held_out")
    orders = [
        Order(TENANT, "o1", "completed", "purchase", opener.customer_id, "2026-11-27T09:00:00", total=120.0),
        Order(TENANT, "o2", "completed", "purchase", held_out, "2026-12-10T09:00:00", total=80.0),
    ]
    report = flow_results(
        TENANT, FLOW, campaigns=campaigns, customers=InMemoryCustomerRepository(), holdout_fraction=0.3, orders=orders
    )
    by_arm = {arm["arm"]: arm for arm in report["arms"]}
    assert set(by_arm) == {HOLDOUT, "A", "B"}
    assert sum(arm["assigned"] for arm in by_arm.values()) == counts["dispatched"] + counts["held_out"]
    assert by_arm[HOLDOUT]["assigned"] == counts["held_out"] and by_arm[HOLDOUT]["sends"] == 0
    assert (
        sum(arm["sends"] for arm in by_arm.values()) == sum(arm["deliveries"] for arm in by_arm.values()) == len(sent)
    )
    assert sum(arm["clicks"] for arm in by_arm.values()) == sum(arm["opens"] for arm in by_arm.values()) == 1
    assert sum(arm["bounces"] for arm in by_arm.values()) == 1
    opener_arm = by_arm[str(opener.variant)]
    assert (opener_arm["conversions"], opener_arm["revenue"]) == (1, 120.0)
    assert by_arm[HOLDOUT]["conversions"] == 0  # bought 14 days later: outside the 7-day window
    assert "incrementality" in report and "ab_test" in report


def test_a_stop_covers_sms_and_whatsapp_and_a_start_lifts_only_a_stop(
    campaigns: InMemoryCampaignRepository,
) -> None:
    phone = "+447700900123"
    assert record_sms_keyword(TENANT, phone, "Stop please", campaigns=campaigns) == "stopped"
    assert suppression_reason(TENANT, "sms", phone, campaigns=campaigns) == "stop"
    assert suppression_reason(TENANT, "whatsapp", phone, campaigns=campaigns) == "stop"
    assert suppression_reason("t-other-tenant", "sms", phone, campaigns=campaigns) is None
    assert record_sms_keyword(TENANT, phone, "hello", campaigns=campaigns) == "ignored"
    campaigns.put_suppression(
        TENANT, "whatsapp", "not-a-stop", reason="complaint", source="test", customer_id=None, recorded_at=NOON
    )
    assert record_sms_keyword(TENANT, phone, "START", campaigns=campaigns) == "restarted"
    assert suppression_reason(TENANT, "sms", phone, campaigns=campaigns) is None
    assert suppression_reason(TENANT, "whatsapp", phone, campaigns=campaigns) is None
    assert campaigns.suppression_reason(TENANT, "whatsapp", "not-a-stop") == "complaint"


def test_an_unsubscribe_link_verifies_only_with_its_own_tenant_s_key(campaigns: InMemoryCampaignRepository) -> None:
    tenants = InMemoryTenantRepository()
    tenants.create_tenant("Maison", tenant_id=TENANT)
    tenants.create_tenant("Other", tenant_id="t-other-tenant")
    keys = InMemoryKeyVault()
    token = make_unsubscribe_token(TENANT, "c01", keys=keys, campaigns=campaigns)
    assert make_unsubscribe_token(TENANT, "c02", "sms", keys=keys, campaigns=campaigns) != token
    state = campaigns.get_campaign_state(TENANT, "unsubscribe_key")
    assert state is not None and state.secret_ciphertext  # one key, stored encrypted
    assert verify_unsubscribe_token(token, keys=keys, campaigns=campaigns, tenants=tenants) == (TENANT, "c01", "email")
    # Verifying never creates a key: the other tenant has none, so a token claiming it fails
    assert existing_signing_key("t-other-tenant", keys, campaigns=campaigns) is None
    version, payload, signature = token.split(".")
    forged = ".".join([version, payload, signature[:-2] + ("BB" if signature.endswith("AA") else "AA")])
    with pytest.raises(InvalidTokenError):
        verify_unsubscribe_token(forged, keys=keys, campaigns=campaigns, tenants=tenants)
    tenants.delete_tenant(TENANT)  # a deleted tenant's links verify against nothing
    with pytest.raises(InvalidTokenError):
        verify_unsubscribe_token(token, keys=keys, campaigns=campaigns, tenants=tenants)


class UnreachableTenants(InMemoryTenantRepository):
    """A tenants repository whose reads fail as a throttled or unreachable table does."""

    def get_tenant(self, tenant_id: str) -> Tenant:
        raise TimeoutError("the table did not answer")


def test_an_unsubscribe_link_is_not_called_invalid_when_the_tenant_cannot_be_read(
    campaigns: InMemoryCampaignRepository,
) -> None:
    keys = InMemoryKeyVault()
    token = make_unsubscribe_token(TENANT, "c01", keys=keys, campaigns=campaigns)
    # The failure reaches the caller (a 5xx the mail client retries, and a log line), not "link not valid"
    with pytest.raises(TimeoutError):
        verify_unsubscribe_token(token, keys=keys, campaigns=campaigns, tenants=UnreachableTenants())


def test_a_tenant_whose_campaign_settings_no_longer_parse_is_reported_not_silently_skipped(
    caplog: pytest.LogCaptureFixture,
) -> None:
    from luxebrain.campaigns.events import tenants_for_sms_number

    tenants = InMemoryTenantRepository()
    good = tenants.create_tenant("Good", plan="pro").tenant_id
    broken = tenants.create_tenant("Broken", plan="pro").tenant_id
    tenants.update_tenant_settings(good, lambda settings: {"campaigns": {"sms_origination_number": "+15550100"}})
    tenants.update_tenant_settings(broken, lambda settings: {"campaigns": {"sms_origination_number": ["+15550100"]}})
    with caplog.at_level(logging.ERROR):
        assert tenants_for_sms_number("+15550100", tenants=tenants) == [good]
    assert any(broken in str(record.__dict__.get("tenant_id", "")) for record in caplog.records)

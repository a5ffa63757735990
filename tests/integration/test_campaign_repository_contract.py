"""The in-memory campaigns repository of tests/fakes.py behaves as the DynamoDB one on the embedded AWS: the same
checks pass on both, so the unit tests of the campaign flows over the fake (tests/unit/test_campaign_flows.py)
say something about the table. The conditions of the exactly-once rules (a record created once, a retry taken
back once, a stale claim marked once) are checked here on both."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fakes import InMemoryCampaignRepository

from luxebrain.errors import ConflictError, NotFoundError
from luxebrain.storage.campaigns import (
    Campaign,
    CampaignRepository,
    ConsentRecord,
    DynamoCampaignRepository,
    SendRecord,
)
from luxebrain.tenancy import new_tenant_id
from luxebrain_dev.local.embedded import LocalResources

NOON = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


@pytest.fixture(params=["in-memory", "dynamodb"])
def campaigns(request: pytest.FixtureRequest, local_aws: LocalResources) -> CampaignRepository:
    return InMemoryCampaignRepository() if request.param == "in-memory" else DynamoCampaignRepository()


@pytest.fixture
def tenant() -> str:
    return new_tenant_id()


def record(
    tenant: str, customer_id: str, *, trigger: str = "t1", status: str = "claimed", **extra: object
) -> SendRecord:
    fields: dict[str, object] = {
        "tenant_id": tenant,
        "flow": "abandoned_cart",
        "customer_id": customer_id,
        "trigger": trigger,
        "channel": "email",
        "status": status,
        "assigned_at": NOON,
        "attempts": 1,
        "claimed_at": NOON,
        "request": {"flow_kind": "abandoned_cart", "trigger_context": {"order_id": "7"}},
        **extra,
    }
    return SendRecord(**fields)  # type: ignore[arg-type]


def test_consent_is_replaced_with_its_history_and_granted_per_channel(
    campaigns: CampaignRepository, tenant: str
) -> None:
    assert campaigns.get_consent(tenant, "c1", "email") is None
    first = ConsentRecord("c1", "email", True, "checkout", NOON)
    campaigns.put_consent(tenant, first)
    assert campaigns.get_consent(tenant, "c1", "email") == first
    entry = {"granted": True, "source": "checkout", "recorded_at": NOON.isoformat()}
    withdrawn = ConsentRecord("c1", "email", False, "account", NOON + timedelta(hours=1), (entry,))
    campaigns.put_consent(tenant, withdrawn)
    assert campaigns.get_consent(tenant, "c1", "email") == withdrawn
    assert campaigns.get_consent(tenant, "c1", "sms") is None
    assert campaigns.get_consent(new_tenant_id(), "c1", "email") is None
    campaigns.put_consents(
        tenant, [ConsentRecord("c2", "email", True, "import", NOON), ConsentRecord("c3", "sms", True, "import", NOON)]
    )
    # Only customers with a consent recorded on the channel are in the answer; a repeated id counts once.
    assert campaigns.consent_grants(tenant, ["c1", "c2", "c3", "c4", "c2"], "email") == {"c1": False, "c2": True}
    assert campaigns.consent_grants(tenant, ["c3"], "sms") == {"c3": True}


def test_a_suppression_is_lifted_only_for_the_reasons_given(campaigns: CampaignRepository, tenant: str) -> None:
    assert campaigns.suppression_reason(tenant, "sms", "h1") is None
    for address, reason in (("h1", "stop"), ("h2", "bounce")):
        campaigns.put_suppression(
            tenant, "sms", address, reason=reason, source="test", customer_id=None, recorded_at=NOON
        )
    campaigns.put_suppression(tenant, "sms", "h2", reason="complaint", source="ses", customer_id="c1", recorded_at=NOON)
    assert campaigns.suppression_reason(tenant, "sms", "h2") == "complaint"  # the later reason replaces
    assert campaigns.suppression_reason(tenant, "whatsapp", "h1") is None
    assert not campaigns.delete_suppression(tenant, "sms", "h2", reasons=("stop", "unsubscribe"))
    assert campaigns.suppression_reason(tenant, "sms", "h2") == "complaint"
    assert campaigns.delete_suppression(tenant, "sms", "h1", reasons=("stop", "unsubscribe"))
    assert campaigns.suppression_reason(tenant, "sms", "h1") is None
    assert not campaigns.delete_suppression(tenant, "sms", "h1", reasons=("stop",))  # none left


def test_a_send_record_is_created_once_and_read_back(campaigns: CampaignRepository, tenant: str) -> None:
    with pytest.raises(NotFoundError, match="send record not found"):
        campaigns.get_send_record(tenant, "abandoned_cart", "c1", "t1")
    first = record(tenant, "c1")
    assert campaigns.create_send_record(first)
    assert not campaigns.create_send_record(record(tenant, "c1", status="held_out"))  # the first one stays
    assert campaigns.get_send_record(tenant, "abandoned_cart", "c1", "t1") == first
    assert campaigns.get_send_record(tenant, "abandoned_cart", "c1", "t1", consistent=False) == first
    campaigns.create_send_record(record(tenant, "c0", trigger="t2", status="held_out", variant="holdout"))
    campaigns.create_send_record(record(tenant, "c0", trigger="t1"))
    assert campaigns.recorded_sends(tenant, "abandoned_cart", [("c1", "t1"), ("c1", "t2"), ("c0", "t2")]) == {
        ("c1", "t1"),
        ("c0", "t2"),
    }
    assert campaigns.recorded_sends(tenant, "welcome", [("c1", "t1")]) == set()
    listed = list(campaigns.iter_send_records(tenant, "abandoned_cart"))
    assert [(r.customer_id, r.trigger, r.status) for r in listed] == [
        ("c0", "t1", "claimed"),
        ("c0", "t2", "held_out"),
        ("c1", "t1", "claimed"),
    ]
    assert list(campaigns.iter_send_records(tenant, "welcome")) == []


def test_a_retrying_record_is_taken_back_only_at_the_attempt_count_read(
    campaigns: CampaignRepository, tenant: str
) -> None:
    campaigns.create_send_record(record(tenant, "c1"))
    read = campaigns.get_send_record(tenant, "abandoned_cart", "c1", "t1")
    not_yet, owned = campaigns.reclaim_retrying_send(read, NOON + timedelta(minutes=1))
    assert not owned and not_yet.status == "claimed"  # not retrying: nothing to take back
    campaigns.settle_send(read, "retrying", "throttled")
    retrying = campaigns.get_send_record(tenant, "abandoned_cart", "c1", "t1")
    assert (retrying.status, retrying.reason, retrying.attempts) == ("retrying", "throttled", 1)
    later = NOON + timedelta(minutes=5)
    taken, owned = campaigns.reclaim_retrying_send(retrying, later)
    assert owned and (taken.status, taken.attempts, taken.claimed_at) == ("claimed", 2, later)
    assert taken.request == retrying.request and taken.assigned_at == NOON
    campaigns.settle_send(taken, "retrying", "throttled again")
    # A second redelivery that read the first attempt count loses.
    lost, owned = campaigns.reclaim_retrying_send(retrying, later)
    assert not owned and (lost.status, lost.attempts) == ("retrying", 2)


def test_a_stale_claim_is_marked_unknown_only_while_it_is_that_claim(
    campaigns: CampaignRepository, tenant: str
) -> None:
    campaigns.create_send_record(record(tenant, "c1"))
    other_claim = record(tenant, "c1", claimed_at=NOON - timedelta(hours=1))
    campaigns.mark_stale_claim_unknown(other_claim, "stopped")
    assert campaigns.get_send_record(tenant, "abandoned_cart", "c1", "t1").status == "claimed"
    campaigns.mark_stale_claim_unknown(record(tenant, "c1"), "stopped")
    marked = campaigns.get_send_record(tenant, "abandoned_cart", "c1", "t1")
    assert (marked.status, marked.reason) == ("unknown", "stopped")
    campaigns.mark_stale_claim_unknown(marked, "again")  # no longer a claim: left as it is
    assert campaigns.get_send_record(tenant, "abandoned_cart", "c1", "t1").reason == "stopped"


def test_a_sent_record_gets_the_provider_s_events(campaigns: CampaignRepository, tenant: str) -> None:
    campaigns.create_send_record(record(tenant, "c1"))
    claimed = campaigns.get_send_record(tenant, "abandoned_cart", "c1", "t1")
    campaigns.settle_send(claimed, "retrying", "throttled")
    campaigns.mark_sent(claimed, sent_at=NOON, provider_message_id="m-1")
    sent = campaigns.get_send_record(tenant, "abandoned_cart", "c1", "t1")
    assert (sent.status, sent.sent_at, sent.provider_message_id, sent.reason) == ("sent", NOON, "m-1", None)
    campaigns.record_delivery_events(sent)  # nothing given: nothing changes
    campaigns.record_delivery_events(sent, delivered_at=NOON + timedelta(minutes=1))
    campaigns.record_delivery_events(sent, clicked_at=NOON + timedelta(hours=1), opened_at=NOON + timedelta(hours=1))
    campaigns.record_delivery_events(sent, bounced=True)
    campaigns.record_delivery_events(sent, complained=True)
    after = campaigns.get_send_record(tenant, "abandoned_cart", "c1", "t1")
    assert after.delivered_at == NOON + timedelta(minutes=1)
    assert after.opened_at == after.clicked_at == NOON + timedelta(hours=1)
    assert after.bounced and after.complained and after.provider_message_id == "m-1"


def test_contact_times_are_appended_per_customer_and_channel(campaigns: CampaignRepository, tenant: str) -> None:
    assert campaigns.contact_times(tenant, "c1", "email") == []
    expires = int((NOON + timedelta(days=120)).timestamp())
    for moment in (1_000, 2_000, 2_000):
        campaigns.append_contact(tenant, "c1", "email", sent_at=moment, expires_at=expires)
    campaigns.append_contact(tenant, "c1", "sms", sent_at=3_000, expires_at=expires)
    assert campaigns.contact_times(tenant, "c1", "email") == [1_000.0, 2_000.0, 2_000.0]
    assert campaigns.contact_times(tenant, "c1", "sms") == [3_000.0]
    assert campaigns.contact_times(tenant, "c2", "email") == []


def test_a_campaign_is_created_once_listed_and_its_run_recorded(campaigns: CampaignRepository, tenant: str) -> None:
    with pytest.raises(NotFoundError, match="campaign cb not found"):
        campaigns.get_campaign(tenant, "cb")
    assert campaigns.list_campaigns(tenant) == []
    spring = Campaign(
        "cb",
        "Spring",
        "all_customers",
        "email",
        {"subject": "Hello"},
        {"variants": {}, "holdout_fraction": 0.1},
        NOON,
        created_at=NOON - timedelta(days=1),
    )
    assert campaigns.create_campaign(tenant, spring) == spring
    with pytest.raises(ConflictError, match="campaign cb already exists"):
        campaigns.create_campaign(tenant, spring)
    early = Campaign("ca", "Early", "Champions", "sms", {}, None, NOON, created_at=NOON)
    campaigns.create_campaign(tenant, early)
    assert campaigns.get_campaign(tenant, "cb") == spring
    assert [c.campaign_id for c in campaigns.list_campaigns(tenant)] == ["ca", "cb"]
    assert campaigns.list_campaigns(new_tenant_id()) == []
    campaigns.record_campaign_run(tenant, "cb", status="running", stats={"last_run": {"dispatched": 3}})
    run = campaigns.get_campaign(tenant, "cb")
    assert (run.status, run.stats) == ("running", {"last_run": {"dispatched": 3}})
    assert (run.name, run.template, run.ab_test, run.created_at) == (
        "Spring",
        {"subject": "Hello"},
        spring.ab_test,
        spring.created_at,
    )


def test_the_run_of_an_unknown_campaign_is_refused_and_leaves_no_item(
    campaigns: CampaignRepository, tenant: str
) -> None:
    with pytest.raises(NotFoundError, match="campaign cz not found"):
        campaigns.record_campaign_run(tenant, "cz", status="running", stats={"last_run": {"dispatched": 1}})
    with pytest.raises(NotFoundError):
        campaigns.get_campaign(tenant, "cz")
    assert campaigns.list_campaigns(tenant) == []


def test_a_campaign_s_template_stats_and_state_are_held_as_json(campaigns: CampaignRepository, tenant: str) -> None:
    # A value JSON cannot hold is refused before anything is written
    odd = Campaign("cx", "Odd", "all_customers", "email", {"subject": "Hi"}, {"arms": {"a"}}, NOON, created_at=NOON)
    with pytest.raises(TypeError):
        campaigns.create_campaign(tenant, odd)
    assert campaigns.list_campaigns(tenant) == []
    # A tuple comes back a list
    made = Campaign(
        "cy", "Held", "all_customers", "email", {"subject": "Hi"}, {"holdout": (0.1, 0.2)}, NOON, created_at=NOON
    )
    campaigns.create_campaign(tenant, made)
    assert campaigns.get_campaign(tenant, "cy").ab_test == {"holdout": [0.1, 0.2]}
    campaigns.record_campaign_run(tenant, "cy", status="running", stats={"arms": ("a", "b")})
    assert campaigns.get_campaign(tenant, "cy").stats == {"arms": ["a", "b"]}
    with pytest.raises(TypeError):
        campaigns.record_campaign_run(tenant, "cy", status="sent", stats={"at": NOON})
    run = campaigns.get_campaign(tenant, "cy")
    assert (run.status, run.stats) == ("running", {"arms": ["a", "b"]})
    with pytest.raises(TypeError):
        campaigns.put_campaign_state(tenant, "watch", {"at": NOON})
    assert campaigns.get_campaign_state(tenant, "watch") is None


def test_a_campaign_secret_is_created_once_and_a_state_replaced(campaigns: CampaignRepository, tenant: str) -> None:
    assert campaigns.get_campaign_state(tenant, "key") is None
    assert campaigns.create_campaign_secret(tenant, "key", b"first")
    assert not campaigns.create_campaign_secret(tenant, "key", b"second")
    secret = campaigns.get_campaign_state(tenant, "key")
    assert secret is not None and (secret.secret_ciphertext, secret.state) == (b"first", {})
    products = {"p1": [True, 12.5], "p2": [False, None]}
    campaigns.put_campaign_state(tenant, "watch", {"products": products, "at": NOON.isoformat()})
    watch = campaigns.get_campaign_state(tenant, "watch")
    assert watch is not None and watch.secret_ciphertext is None
    assert watch.state == {"products": products, "at": NOON.isoformat()}
    campaigns.put_campaign_state(tenant, "watch", {"products": {}})
    replaced = campaigns.get_campaign_state(tenant, "watch")
    assert replaced is not None and replaced.state == {"products": {}}
    assert campaigns.get_campaign_state(new_tenant_id(), "watch") is None

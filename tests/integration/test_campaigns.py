"""Campaigns against moto over HTTP: exactly once under concurrency, consent, unsubscribe, STOP per tenant,
quiet hours, frequency caps, provider events, retries, segment campaigns with A/B results, the demo."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from campaign_support import (
    add_customer,
    add_order,
    aws_sender,
    drain_with_sender_handler,
    lambda_context,
    load_handler,
    load_sample_store,
    moto_emails_to,
    moto_sms_to,
    sqs_record,
    unique_phone,
)

from luxebrain.adapters.aws import SesMailService, queue, secrets_vault
from luxebrain.billing.usage import plan_usage
from luxebrain.campaigns.channels import EmailChannel
from luxebrain.campaigns.config import CampaignSettings, FlowSettings, FrequencyCap, save_campaign_settings
from luxebrain.campaigns.consent import record_consent, suppression_reason, unsubscribe_with_token
from luxebrain.campaigns.flows import run_flow
from luxebrain.campaigns.oneoff import ABTestSpec, CampaignSpec, campaign_flow, create_campaign, run_due_campaigns
from luxebrain.campaigns.results import flow_results
from luxebrain.campaigns.sending import (
    DirectDispatcher,
    QueueDispatcher,
    SenderContext,
    SendRequest,
    deliver,
    send_reference,
    utc_now,
)
from luxebrain.campaigns.sources import campaign_sources
from luxebrain.campaigns.tokens import InvalidTokenError, make_unsubscribe_token, verify_unsubscribe_token
from luxebrain.runtime import aws_client, configured_settings
from luxebrain.storage.campaigns import campaign_repository, create_send_record, get_campaign, get_send_record
from luxebrain.storage.catalogue import catalogue_repository
from luxebrain.storage.customers import DynamoCustomerRepository, customer_repository
from luxebrain.storage.tenants import create_store, create_tenant, tenant_repository
from luxebrain.tenancy import new_tenant_id
from luxebrain_dev.local.embedded import LocalResources

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "campaigns"
NOON = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)  # outside quiet hours in London
# The table's repositories, as the campaign functions and the API pass them
CAMPAIGNS = campaign_repository()
TENANTS = tenant_repository()
CUSTOMERS = customer_repository()
CATALOGUE = catalogue_repository()


def _fixture(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / name).read_text())


@pytest.fixture
def tenant_id(local_aws: LocalResources) -> str:
    # Every channel is exercised here, so the tenants are on the plan that has them all (tests/security
    # proves what each plan allows).
    return create_tenant("Test Maison", plan="pro", tenant_id=new_tenant_id()).tenant_id


def _add_store(tenant_id: str) -> None:
    create_store(
        tenant_id,
        url="https://shop.example",
        consumer_key="ck",
        consumer_secret="cs",
        store_id="s1",
        vault=secrets_vault(),
    )


def _tenant(name: str = "Maison") -> str:
    tenant_id = create_tenant(name, plan="pro", tenant_id=new_tenant_id()).tenant_id
    _add_store(tenant_id)
    return tenant_id


def _request(
    tenant_id: str, customer_id: str, *, trigger: str = "t1", channel: str = "email", **extra: Any
) -> SendRequest:
    return SendRequest(
        tenant_id=tenant_id,
        flow=extra.pop("flow", "campaign-test"),
        customer_id=customer_id,
        trigger=trigger,
        channel=channel,
        assigned_at=NOON,
        **extra,
    )


def _at_noon() -> SenderContext:
    return aws_sender(clock=lambda: NOON)


# ----------------------------------------------------------------------------- exactly once
def test_concurrent_flow_runs_send_each_abandoned_cart_once(local_aws: LocalResources, tenant_id: str) -> None:
    # Given 12 consented customers with carts abandoned two hours ago, and 2 without consent
    _add_store(tenant_id)
    now = datetime.now(UTC)
    consented = set()
    for index in range(14):
        customer_id = str(100 + index)
        add_customer(tenant_id, customer_id, email=f"{tenant_id}.{index}@example.com")
        add_order(tenant_id, f"9{index:03d}", customer_id, now - timedelta(hours=2))
        if index < 12:
            record_consent(tenant_id, customer_id, "email", granted=True, source="checkout", campaigns=CAMPAIGNS)
            consented.add(customer_id)
    # When three flow runs start at the same moment and the sender drains the queue
    barrier = threading.Barrier(3)
    results = []

    def run() -> None:
        barrier.wait()
        results.extend(
            run_flow(
                tenant_id,
                "abandoned_cart",
                now,
                QueueDispatcher(queue("campaign_send_queue_url")),
                sources=campaign_sources(),
            )
        )

    threads = [threading.Thread(target=run) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    drain_with_sender_handler()
    # Then every consented customer outside the hold-out got exactly one e-mail, the others none
    held_out = {
        c
        for c in consented
        if get_send_record(tenant_id, "abandoned_cart", c, f"order-9{int(c) - 100:03d}").status == "held_out"
    }
    emails = moto_emails_to({f"{tenant_id}.{index}@example.com" for index in range(14)})
    recipients = [message["To"] for message in emails]
    expected = {f"{tenant_id}.{int(c) - 100}@example.com" for c in consented - held_out}
    assert sorted(recipients) == sorted(expected)
    assert all(message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click" for message in emails)
    assert sum(r.not_eligible["no consent"] for r in results) >= 2


def test_concurrent_deliveries_of_one_send_reach_the_provider_once(local_aws: LocalResources, tenant_id: str) -> None:
    # Given one consented customer and one send request delivered by six workers at once
    address = f"{tenant_id}.once@example.com"
    add_customer(tenant_id, "7", email=address)
    record_consent(tenant_id, "7", "email", granted=True, source="checkout", campaigns=CAMPAIGNS)
    request = _request(tenant_id, "7")
    barrier = threading.Barrier(6)
    outcomes: list[str] = []

    def send() -> None:
        barrier.wait()
        outcomes.append(deliver(request, _at_noon()).status)

    threads = [threading.Thread(target=send) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # Then one worker sent it, the others saw the record, and moto holds one e-mail
    assert sorted(outcomes) == ["duplicate"] * 5 + ["sent"]
    assert len(moto_emails_to({address})) == 1


def test_a_send_interrupted_during_the_provider_call_is_not_repeated(local_aws: LocalResources, tenant_id: str) -> None:
    # Given a claim left behind by a sender that stopped while calling SES (it may or may not have sent)
    from luxebrain.campaigns.sending import new_record

    add_customer(tenant_id, "13", email=f"{tenant_id}.crash@example.com")
    record_consent(tenant_id, "13", "email", granted=True, source="checkout", campaigns=CAMPAIGNS)
    request = _request(tenant_id, "13")
    assert create_send_record(new_record(request, "claimed", NOON - timedelta(hours=1)))
    # When the message is delivered again after the lease ran out
    outcome = deliver(request, _at_noon())
    # Then it is not sent a second time, and the record says why
    assert outcome.status == "unknown"
    assert get_send_record(tenant_id, "campaign-test", "13", "t1").status == "unknown"
    assert moto_emails_to({f"{tenant_id}.crash@example.com"}) == []


def _stubbed_email_channel(errors: list[str], *, then_succeed: bool) -> tuple[SenderContext, Stubber]:
    client = boto3.client("sesv2", region_name="us-east-1")
    stubber = Stubber(client)
    for code in errors:
        stubber.add_client_error("send_email", service_error_code=code, http_status_code=400)
    if then_succeed:
        stubber.add_response("send_email", {"MessageId": "stubbed-message-1"})
    stubber.activate()
    # The stack's sender and configuration set: the sender function's role allows sending with those only.
    settings = configured_settings()
    channel = EmailChannel(
        SesMailService(client), sender=settings.sender_email, configuration_set=settings.ses_configuration_set
    )
    return SenderContext(
        channel_factory=lambda _channel, _settings: channel,
        keys=secrets_vault(),
        sources=campaign_sources(),
        usage=plan_usage(),
        clock=utc_now,
    ), stubber


def test_throttling_is_retried_with_backoff_then_sent_once(local_aws: LocalResources, tenant_id: str) -> None:
    # Given SES throttles twice, then accepts
    add_customer(tenant_id, "8", email=f"{tenant_id}.retry@example.com")
    record_consent(tenant_id, "8", "email", granted=True, source="checkout", campaigns=CAMPAIGNS)
    sender, stubber = _stubbed_email_channel(["Throttling", "TooManyRequestsException"], then_succeed=True)
    dispatcher = DirectDispatcher(sender, base_delay=0.0)
    # When the message is dispatched
    dispatcher.dispatch(_request(tenant_id, "8"))
    # Then it was sent on the third attempt, once
    record = get_send_record(tenant_id, "campaign-test", "8", "t1")
    assert [o.status for o in dispatcher.outcomes] == ["sent"]
    assert record.status == "sent" and record.attempts == 3 and record.provider_message_id == "stubbed-message-1"
    stubber.assert_no_pending_responses()


def test_a_rejection_is_recorded_not_retried_and_persistent_throttling_dead_letters(
    local_aws: LocalResources, tenant_id: str
) -> None:
    add_customer(tenant_id, "9", email=f"{tenant_id}.reject@example.com")
    add_customer(tenant_id, "10", email=f"{tenant_id}.throttle@example.com")
    for customer_id in ("9", "10"):
        record_consent(tenant_id, customer_id, "email", granted=True, source="checkout", campaigns=CAMPAIGNS)
    rejecting, _ = _stubbed_email_channel(["MessageRejected"], then_succeed=False)
    throttling, _ = _stubbed_email_channel(["Throttling"] * 5, then_succeed=False)
    # When SES rejects one message and keeps throttling the other
    DirectDispatcher(rejecting, base_delay=0.0).dispatch(_request(tenant_id, "9"))
    dispatcher = DirectDispatcher(throttling, base_delay=0.0)
    dispatcher.dispatch(_request(tenant_id, "10"))
    # Then the rejection is a recorded failure and the throttled one gave up after five attempts
    rejected = get_send_record(tenant_id, "campaign-test", "9", "t1")
    assert rejected.status == "failed" and "MessageRejected" in (rejected.reason or "")
    throttled = get_send_record(tenant_id, "campaign-test", "10", "t1")
    assert throttled.status == "dead_lettered" and throttled.attempts == 5
    assert dispatcher.outcomes[0].status == "failed"


def test_sender_handler_reports_a_throttled_message_as_a_batch_failure(
    local_aws: LocalResources, tenant_id: str
) -> None:
    # Given two queued messages: one SES will throttle, one for a customer without consent
    from luxebrain.runtime import configured_settings

    add_customer(tenant_id, "11", email=f"{tenant_id}.batch@example.com")
    record_consent(tenant_id, "11", "email", granted=True, source="checkout", campaigns=CAMPAIGNS)
    sqs = aws_client("sqs")
    queue_url = configured_settings().require("campaign_send_queue_url")
    drain_with_sender_handler()  # leftovers of other tests
    add_customer(tenant_id, "12", email=f"{tenant_id}.noconsent@example.com")
    sqs.send_message(QueueUrl=queue_url, MessageBody=_request(tenant_id, "11").model_dump_json())
    sqs.send_message(QueueUrl=queue_url, MessageBody=_request(tenant_id, "12").model_dump_json())
    messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, AttributeNames=["All"])["Messages"]
    throttled_id = next(m["MessageId"] for m in messages if '"customer_id":"11"' in m["Body"])
    arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    throttling, _ = _stubbed_email_channel(["Throttling"], then_succeed=False)
    # When the sender function handles the batch
    handler = load_handler("sender").handler_with(throttling)
    response = handler({"Records": [sqs_record(m, arn) for m in messages]}, lambda_context())
    # Then the message is a batch item failure (redelivered later, then dead-lettered), and it is retrying
    assert [f["itemIdentifier"] for f in response["batchItemFailures"]] == [throttled_id]
    assert get_send_record(tenant_id, "campaign-test", "11", "t1").status == "retrying"
    assert get_send_record(tenant_id, "campaign-test", "12", "t1").reason == "no consent recorded"


# ----------------------------------------------------------------------------- consent and unsubscribe
def test_no_message_without_consent_and_soft_opt_in_covers_email_only(
    local_aws: LocalResources, tenant_id: str
) -> None:
    add_customer(tenant_id, "20", email=f"{tenant_id}.none@example.com", phone="+447700900020")
    add_customer(tenant_id, "21", email=f"{tenant_id}.withdrawn@example.com")
    record_consent(tenant_id, "21", "email", granted=True, source="checkout", campaigns=CAMPAIGNS)
    record_consent(tenant_id, "21", "email", granted=False, source="account-settings", campaigns=CAMPAIGNS)
    # Under the opt-in rule: no consent record, no e-mail; a withdrawn consent wins
    assert deliver(_request(tenant_id, "20"), _at_noon()).reason == "no consent recorded"
    assert deliver(_request(tenant_id, "21"), _at_noon()).reason == "consent withdrawn (account-settings)"
    # Under soft opt-in an existing customer may get e-mail, but SMS still needs opt-in
    save_campaign_settings(tenant_id, CampaignSettings(email_consent_rule="soft_opt_in"), tenants=TENANTS)
    sender = _at_noon()
    assert deliver(_request(tenant_id, "20", trigger="t2"), sender).status == "sent"
    assert deliver(_request(tenant_id, "20", trigger="t3", channel="sms"), sender).reason == "no consent recorded"


def test_unsubscribe_link_takes_effect_at_once_for_that_tenant_only(local_aws: LocalResources) -> None:
    # Given two tenants with the same customer id and address, both with consent
    tenant_a, tenant_b = _tenant("Maison A"), _tenant("Maison B")
    address = f"{tenant_a}.shared@example.com"
    for tenant in (tenant_a, tenant_b):
        add_customer(tenant, "30", email=address)
        record_consent(tenant, "30", "email", granted=True, source="checkout", campaigns=CAMPAIGNS)
    token = make_unsubscribe_token(tenant_a, "30", keys=secrets_vault(), campaigns=CAMPAIGNS)
    # When the customer follows tenant A's signed link
    state = unsubscribe_with_token(
        token, keys=secrets_vault(), campaigns=CAMPAIGNS, tenants=TENANTS, customers=customer_repository()
    )
    # Then A's next message is skipped and B's is sent
    assert state.granted is False and verify_unsubscribe_token(
        token, keys=secrets_vault(), campaigns=CAMPAIGNS, tenants=TENANTS
    ) == (tenant_a, "30", "email")
    assert deliver(_request(tenant_a, "30"), _at_noon()).reason == "consent withdrawn (unsubscribe-link)"
    assert suppression_reason(tenant_a, "email", address, campaigns=CAMPAIGNS) == "unsubscribe"
    assert deliver(_request(tenant_b, "30"), _at_noon()).status == "sent"


def test_a_forged_or_cross_tenant_token_does_not_verify(local_aws: LocalResources) -> None:
    tenant_a, tenant_b = _tenant("Maison A"), _tenant("Maison B")
    version, payload, signature = make_unsubscribe_token(
        tenant_a, "31", keys=secrets_vault(), campaigns=CAMPAIGNS
    ).split(".")
    import base64

    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["t"] = tenant_b
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    for bad in (f"{version}.{forged}.{signature}", f"{version}.{payload}.{signature[:-2]}AA", "nonsense"):
        with pytest.raises(InvalidTokenError):
            verify_unsubscribe_token(bad, keys=secrets_vault(), campaigns=CAMPAIGNS, tenants=TENANTS)
    # and tenant B, which never sent a message, was not given a signing key by the anonymous attempt
    from luxebrain.campaigns.tokens import existing_signing_key

    assert existing_signing_key(tenant_b, secrets_vault(), campaigns=CAMPAIGNS) is None


def test_sms_stop_applies_to_the_tenant_that_received_it(local_aws: LocalResources) -> None:
    # Given two tenants sending SMS from their own numbers to the same phone
    tenant_a, tenant_b = _tenant("Maison A"), _tenant("Maison B")
    phone = unique_phone(tenant_a)
    numbers = {tenant: f"+1555{int(tenant[-6:], 16) % 10**7:07d}" for tenant in (tenant_a, tenant_b)}
    for tenant, number in numbers.items():
        save_campaign_settings(
            tenant, CampaignSettings(sms_origination_number=number), may_assign_senders=True, tenants=TENANTS
        )
        add_customer(tenant, "40", phone=phone, email=f"{tenant}.sms@example.com")
        record_consent(tenant, "40", "sms", granted=True, source="sms-keyword-join", campaigns=CAMPAIGNS)
    event = _fixture("sms_inbound_stop.json")
    message = json.loads(event["Records"][0]["Sns"]["Message"])
    message.update(originationNumber=phone, destinationNumber=numbers[tenant_a])
    event["Records"][0]["Sns"]["Message"] = json.dumps(message)
    # When the phone replies STOP to tenant A's number
    response = load_handler("provider_events").handler(event, lambda_context())
    # Then tenant A may no longer text it (SMS and WhatsApp), tenant B still may
    assert "stopped" in response["outcomes"]
    assert deliver(_request(tenant_a, "40", channel="sms"), _at_noon()).reason == "address suppressed (stop)"
    assert suppression_reason(tenant_a, "whatsapp", phone, campaigns=CAMPAIGNS) == "stop"
    assert deliver(_request(tenant_b, "40", channel="sms"), _at_noon()).status == "sent"
    assert len(moto_sms_to({phone})) == 1


def test_start_lifts_a_stop_but_never_a_bounce_or_a_complaint(local_aws: LocalResources, tenant_id: str) -> None:
    from luxebrain.campaigns.consent import lift_suppression, suppress
    from luxebrain.campaigns.events import record_sms_keyword

    # Given a number that texted STOP, and an address that bounced
    phone, address = "+447700900123", f"{tenant_id}.bounced@example.com"
    assert record_sms_keyword(tenant_id, phone, "STOP", campaigns=CAMPAIGNS) == "stopped"
    suppress(tenant_id, "email", address, reason="bounce", source="ses-bounce", campaigns=CAMPAIGNS)
    assert suppression_reason(tenant_id, "whatsapp", phone, campaigns=CAMPAIGNS) == "stop"
    # When the number texts START, and a re-subscribe is tried for the bounced address
    assert record_sms_keyword(tenant_id, phone, "start", campaigns=CAMPAIGNS) == "restarted"
    lift_suppression(tenant_id, "email", address, campaigns=CAMPAIGNS)
    # Then the STOP is lifted on both channels, the bounce stays, and lifting what is not there is a no-op
    assert suppression_reason(tenant_id, "sms", phone, campaigns=CAMPAIGNS) is None
    assert suppression_reason(tenant_id, "whatsapp", phone, campaigns=CAMPAIGNS) is None
    assert suppression_reason(tenant_id, "email", address, campaigns=CAMPAIGNS) == "bounce"
    lift_suppression(tenant_id, "sms", phone, campaigns=CAMPAIGNS)


def test_quiet_hours_defer_sms_without_a_record(local_aws: LocalResources, tenant_id: str) -> None:
    add_customer(tenant_id, "41", phone="+33612345041", country="FR")
    record_consent(tenant_id, "41", "sms", granted=True, source="checkout", campaigns=CAMPAIGNS)
    late = aws_sender(clock=lambda: datetime(2026, 11, 26, 22, 30, tzinfo=UTC))
    # 23:30 in Paris: deferred, and no record, so the next run sends it
    assert deliver(_request(tenant_id, "41", channel="sms"), late).status == "deferred"
    assert deliver(_request(tenant_id, "41", channel="sms"), _at_noon()).status == "sent"


def test_an_sms_goes_out_through_the_sender_function(local_aws: LocalResources, tenant_id: str) -> None:
    # Given a customer who opted in to SMS, and a tenant with its own number
    phone = unique_phone(tenant_id, "+447701")
    save_campaign_settings(
        tenant_id, CampaignSettings(sms_origination_number="+447700900044"), may_assign_senders=True, tenants=TENANTS
    )
    add_customer(tenant_id, "44", phone=phone, email=f"{tenant_id}.smsfn@example.com")
    record_consent(tenant_id, "44", "sms", granted=True, source="checkout", campaigns=CAMPAIGNS)
    sqs = aws_client("sqs")
    drain_with_sender_handler()  # leftovers of other tests
    sqs.send_message(
        QueueUrl=configured_settings().require("campaign_send_queue_url"),
        MessageBody=_request(tenant_id, "44", channel="sms").model_dump_json(),
    )
    # When the sender function handles it (at noon: outside quiet hours), under its own role
    drain_with_sender_handler(through=_at_noon())
    # Then the text went out once (sns:Publish to a phone number, not to any topic)
    assert len(moto_sms_to({phone})) == 1


def test_whatsapp_on_the_embedded_aws_is_recorded_as_unavailable(local_aws: LocalResources, tenant_id: str) -> None:
    add_customer(tenant_id, "43", phone="+447700900043")
    record_consent(tenant_id, "43", "whatsapp", granted=True, source="whatsapp-opt-in", campaigns=CAMPAIGNS)
    outcome = deliver(_request(tenant_id, "43", channel="whatsapp"), _at_noon())
    assert outcome.status == "failed" and "moto has no socialmessaging" in (outcome.reason or "")


def test_frequency_cap_per_customer_and_channel(local_aws: LocalResources, tenant_id: str) -> None:
    save_campaign_settings(
        tenant_id, CampaignSettings(frequency_caps={"email": FrequencyCap(max_messages=2, per_days=7)}), tenants=TENANTS
    )
    add_customer(tenant_id, "42", email=f"{tenant_id}.cap@example.com")
    record_consent(tenant_id, "42", "email", granted=True, source="checkout", campaigns=CAMPAIGNS)
    statuses = [deliver(_request(tenant_id, "42", trigger=f"t{i}"), _at_noon()) for i in range(3)]
    assert [s.status for s in statuses] == ["sent", "sent", "skipped"]
    assert statuses[2].reason == "frequency cap: 2 email messages in 7 days"


# ----------------------------------------------------------------------------- provider events
def test_ses_events_mark_the_send_and_a_hard_bounce_suppresses_the_address(
    local_aws: LocalResources, tenant_id: str
) -> None:
    address = f"{tenant_id}.bounce@example.com"
    add_customer(tenant_id, "50", email=address)
    record_consent(tenant_id, "50", "email", granted=True, source="checkout", campaigns=CAMPAIGNS)
    assert deliver(_request(tenant_id, "50"), _at_noon()).status == "sent"
    reference = send_reference("campaign-test", "50", "t1")
    events = load_handler("provider_events")
    for name in ("ses_click_event.json", "ses_bounce_event.json"):
        event = _fixture(name)
        event["detail"]["mail"]["tags"].update(lb_tenant=[tenant_id], lb_ref=[reference])
        event["detail"]["mail"]["destination"] = [address]
        if "bounce" in event["detail"]:
            event["detail"]["bounce"]["bouncedRecipients"][0]["emailAddress"] = address
        events.handler(event, lambda_context())
    record = get_send_record(tenant_id, "campaign-test", "50", "t1")
    assert record.clicked_at is not None and record.opened_at is not None and record.bounced
    assert deliver(_request(tenant_id, "50", trigger="t2"), _at_noon()).reason == "address suppressed (bounce)"


# ----------------------------------------------------------------------------- bad input
def test_bad_templates_and_addresses_are_skipped_with_a_reason_and_the_batch_goes_on(
    local_aws: LocalResources, tenant_id: str
) -> None:
    add_customer(tenant_id, "60", email="not-an-address")
    add_customer(tenant_id, "61", email=f"{tenant_id}.ok@example.com")
    add_customer(tenant_id, "62", email=f"{tenant_id}.tmpl@example.com")
    for customer_id in ("60", "61", "62"):
        record_consent(tenant_id, customer_id, "email", granted=True, source="checkout", campaigns=CAMPAIGNS)
    dispatcher = DirectDispatcher(_at_noon(), base_delay=0.0)
    dispatcher.dispatch(_request(tenant_id, "60"))
    dispatcher.dispatch(_request(tenant_id, "61"))
    dispatcher.dispatch(_request(tenant_id, "62", template={"subject": "Hi {{ customer.nickname }}"}))
    outcomes = [(o.status, o.reason) for o in dispatcher.outcomes]
    assert outcomes[0] == ("skipped", "the e-mail address is not valid")
    assert outcomes[1] == ("sent", None)
    assert outcomes[2][0] == "skipped" and "subject failed to render" in (outcomes[2][1] or "")


# ----------------------------------------------------------------------------- campaigns and results
def test_segment_campaign_with_ab_test_reports_results_per_arm(local_aws: LocalResources, tenant_id: str) -> None:
    _add_store(tenant_id)
    for index in range(24):
        add_customer(tenant_id, f"c{index}", email=f"{tenant_id}.seg{index}@example.com")
        record_consent(tenant_id, f"c{index}", "email", granted=True, source="checkout", campaigns=CAMPAIGNS)
    spec = CampaignSpec(
        name="Preview",
        segment="all_customers",
        scheduled_at=NOON - timedelta(minutes=5),
        ab_test=ABTestSpec(
            variants={"A": {"subject": "Preview A"}, "B": {"subject": "Preview B"}}, holdout_fraction=0.2
        ),
    )
    campaign = create_campaign(tenant_id, spec, campaigns=CAMPAIGNS, tenants=TENANTS)
    # A purchase after the send counts as a conversion of that customer's arm
    add_order(tenant_id, "77001", "c3", NOON + timedelta(days=1), status="completed", total=900.0)
    runs = run_due_campaigns(
        tenant_id,
        NOON,
        QueueDispatcher(queue("campaign_send_queue_url")),
        sources=campaign_sources(),
    )
    drain_with_sender_handler()
    report = flow_results(
        tenant_id, campaign_flow(campaign.campaign_id), holdout_fraction=0.2, campaigns=CAMPAIGNS, customers=CUSTOMERS
    )
    arms = {arm["arm"]: arm for arm in report["arms"]}
    assert runs[0].candidates == 24 and runs[0].dispatched + runs[0].held_out == 24
    assert set(arms) <= {"A", "B", "holdout"} and sum(a["assigned"] for a in arms.values()) == 24
    assert sum(a["conversions"] for a in arms.values()) == 1 and sum(a["revenue"] for a in arms.values()) == 900.0
    assert report["ab_test"]["status"] == "insufficient_sample"
    subjects = {m["Subject"] for m in moto_emails_to({f"{tenant_id}.seg{i}@example.com" for i in range(24)})}
    assert subjects <= {"Preview A", "Preview B"} and len(subjects) == 2


def test_flow_runner_handler_runs_the_scheduled_flow_for_a_tenant(local_aws: LocalResources, tenant_id: str) -> None:
    add_customer(tenant_id, "70", email=f"{tenant_id}.runner@example.com")
    record_consent(tenant_id, "70", "email", granted=True, source="checkout", campaigns=CAMPAIGNS)
    add_order(tenant_id, "88001", "70", datetime.now(UTC) - timedelta(hours=3))
    save_campaign_settings(
        tenant_id, CampaignSettings(flows={"abandoned_cart": FlowSettings(holdout_fraction=0.0)}), tenants=TENANTS
    )
    event = {**_fixture("schedule_abandoned_cart.json"), "tenant_id": tenant_id}
    summary = load_handler("flow_runner").handler(event, lambda_context())
    assert summary == {"tenants": 1, "dispatched": 1, "held_out": 0, "failed_tenants": []}


def test_the_hourly_schedule_finds_every_active_tenant_and_sends_its_due_campaign(
    local_aws: LocalResources, tenant_id: str
) -> None:
    # The template's HourlyFlowsSchedule names no tenant: the runner lists the active tenants itself (gsi1).
    add_customer(tenant_id, "71", email=f"{tenant_id}.hourly@example.com")
    record_consent(tenant_id, "71", "email", granted=True, source="checkout", campaigns=CAMPAIGNS)
    due = datetime.now(UTC) - timedelta(minutes=5)
    spec = CampaignSpec(name="Hourly", segment="all_customers", scheduled_at=due, holdout_fraction=0.0)
    campaign = create_campaign(tenant_id, spec, campaigns=CAMPAIGNS, tenants=TENANTS)
    summary = load_handler("flow_runner").handler({"flows": ["campaigns"]}, lambda_context())
    assert tenant_id not in summary["failed_tenants"] and summary["dispatched"] >= 1
    assert get_campaign(tenant_id, campaign.campaign_id).status != "scheduled"


def test_a_campaign_whose_segment_cannot_be_resolved_yet_waits_without_stopping_the_others(
    local_aws: LocalResources, tenant_id: str
) -> None:
    # Given a due campaign to an RFM segment before any customer model exists, and a due one to everybody
    add_customer(tenant_id, "72", email=f"{tenant_id}.waits@example.com")
    record_consent(tenant_id, "72", "email", granted=True, source="checkout", campaigns=CAMPAIGNS)
    due = datetime.now(UTC) - timedelta(minutes=5)
    waiting = create_campaign(
        tenant_id, CampaignSpec(name="VIP", segment="Champions", scheduled_at=due), campaigns=CAMPAIGNS, tenants=TENANTS
    )
    everybody = create_campaign(
        tenant_id,
        CampaignSpec(name="All", segment="all_customers", scheduled_at=due, holdout_fraction=0.0),
        campaigns=CAMPAIGNS,
        tenants=TENANTS,
    )
    # When the runner's round comes, the second is sent and the first keeps its schedule with the reason
    run_due_campaigns(
        tenant_id,
        datetime.now(UTC),
        QueueDispatcher(queue("campaign_send_queue_url")),
        sources=campaign_sources(),
    )
    assert get_campaign(tenant_id, everybody.campaign_id).status != "scheduled"
    held = get_campaign(tenant_id, waiting.campaign_id)
    assert held.status == "scheduled"
    assert "needs the customer model" in held.stats["last_error"]


@pytest.mark.slow(reason="the campaigns demo on a sample store, its two A/B simulations of 200 tests included")
def test_demo_runs_cart_flow_and_campaign_on_the_sample_store(local_aws: LocalResources, tenant_id: str) -> None:
    from luxebrain_dev.campaigns_demo import run_demo_campaigns
    from luxebrain_dev.sample_store import generate_sample_store

    _add_store(tenant_id)
    as_of = datetime(2026, 11, 26, tzinfo=UTC)
    load_sample_store(tenant_id, generate_sample_store(products=20, customers=120, seed=3, as_of=as_of))
    report = run_demo_campaigns(tenant_id, as_of + timedelta(hours=12), segment="recent_customers")
    assert report.emails_read_back and all(e["one_click_unsubscribe"] for e in report.emails_read_back)
    assert all(e["parts"] == ["text/plain", "text/html"] for e in report.emails_read_back)
    assert len(report.emails_read_back) == report.send_outcomes.get("sent", 0)
    assert "Campaigns for tenant" in report.summary()


def test_back_in_stock_and_price_drop_reach_customers_who_had_the_product_in_a_cart(
    local_aws: LocalResources, tenant_id: str
) -> None:
    from luxebrain.storage.items.catalogue import ProductItem, key_product

    _add_store(tenant_id)

    def product(product_id: str, *, in_stock: bool, price: float) -> None:
        pk, sk = key_product(tenant_id, product_id)
        ProductItem(
            pk,
            sk,
            entity="product",
            tenant_id=tenant_id,
            product_id=product_id,
            name=f"Bag {product_id}",
            price=price,
            regular_price=price,
            stock_status="instock" if in_stock else "outofstock",
        ).save()

    product("500", in_stock=False, price=1000.0)
    product("600", in_stock=True, price=1000.0)
    add_customer(tenant_id, "80", email=f"{tenant_id}.stock@example.com")
    add_customer(tenant_id, "81", email=f"{tenant_id}.price@example.com")
    for customer_id in ("80", "81"):
        record_consent(tenant_id, customer_id, "email", granted=True, source="checkout", campaigns=CAMPAIGNS)
    add_order(tenant_id, "99001", "80", NOON - timedelta(days=3), product_id="500")
    add_order(tenant_id, "99002", "81", NOON - timedelta(days=3), product_id="600")
    settings = CampaignSettings(
        flows={name: FlowSettings(holdout_fraction=0.0) for name in ("back_in_stock", "price_drop")}
    )
    save_campaign_settings(tenant_id, settings, tenants=TENANTS)
    # The first run only takes the product snapshot
    first = run_flow(
        tenant_id,
        "back_in_stock",
        NOON,
        DirectDispatcher(_at_noon(), base_delay=0.0),
        sources=campaign_sources(),
    )
    assert [r.candidates for r in first] == [0, 0] and first[0].note and "snapshot" in first[0].note
    # When the bag comes back in stock and the other drops 20 %
    product("500", in_stock=True, price=1000.0)
    product("600", in_stock=True, price=800.0)
    dispatcher = DirectDispatcher(_at_noon(), base_delay=0.0)
    later = run_flow(
        tenant_id,
        "back_in_stock",
        NOON + timedelta(hours=1),
        dispatcher,
        sources=campaign_sources(),
    )
    # Then each customer gets the message about their product, once
    assert [(r.flow, r.dispatched) for r in later] == [("back_in_stock", 1), ("price_drop", 1)]
    subjects = {
        m["To"]: m["Subject"]
        for m in moto_emails_to({f"{tenant_id}.stock@example.com", f"{tenant_id}.price@example.com"})
    }
    assert subjects == {
        f"{tenant_id}.stock@example.com": "Bag 500 is back",
        f"{tenant_id}.price@example.com": "Bag 600 is now 800.00 EUR",
    }


def test_welcome_cross_sell_and_win_back_flows(local_aws: LocalResources, tenant_id: str) -> None:
    _add_store(tenant_id)
    newcomer = add_customer(tenant_id, "90", email=f"{tenant_id}.new@example.com")
    newcomer.update(
        actions=[type(newcomer).created_gmt.set((NOON - timedelta(hours=2)).replace(tzinfo=None).isoformat())]
    )
    add_customer(tenant_id, "91", email=f"{tenant_id}.buyer@example.com")
    for customer_id in ("90", "91"):
        record_consent(tenant_id, customer_id, "email", granted=True, source="checkout", campaigns=CAMPAIGNS)
    add_order(tenant_id, "99101", "91", NOON - timedelta(days=4), status="completed")
    settings = CampaignSettings(
        flows={name: FlowSettings(holdout_fraction=0.0) for name in ("welcome", "post_purchase")}
    )
    save_campaign_settings(tenant_id, settings, tenants=TENANTS)
    dispatcher = DirectDispatcher(_at_noon(), base_delay=0.0)
    welcome = run_flow(
        tenant_id,
        "welcome",
        NOON,
        dispatcher,
        sources=campaign_sources(),
    )[0]
    cross_sell = run_flow(
        tenant_id,
        "post_purchase",
        NOON,
        dispatcher,
        sources=campaign_sources(),
    )[0]
    win_back = run_flow(
        tenant_id,
        "win_back",
        NOON,
        dispatcher,
        sources=campaign_sources(),
    )[0]
    assert (welcome.dispatched, cross_sell.dispatched) == (1, 1)
    assert [o.status for o in dispatcher.outcomes] == ["sent", "sent"]
    # No customer model trained for this tenant: the win-back flow says so instead of failing
    assert win_back.candidates == 0 and (win_back.note or "").startswith("no customer model")


def test_product_block_comes_from_the_recommendation_model_and_shows_in_stock_products_only(
    local_aws: LocalResources, tenant_id: str
) -> None:
    from api_testkit import publish_artifact, small_order_lines

    from luxebrain.campaigns import products as product_cache
    from luxebrain.ml.recommend.train import train_recommender
    from luxebrain.storage.items.catalogue import ProductItem, key_product

    # Given a trained model and a catalogue where one of the usual recommendations is out of stock
    _add_store(tenant_id)
    publish_artifact(tenant_id, train_recommender(small_order_lines()))
    product_cache._model_notes.pop(tenant_id, None)
    for number in range(100, 108):
        pk, sk = key_product(tenant_id, str(number))
        ProductItem(
            pk,
            sk,
            entity="product",
            tenant_id=tenant_id,
            product_id=str(number),
            name=f"Piece {number}",
            price=20.0 + number - 100,
            stock_status="outofstock" if number == 103 else "instock",
        ).save()
    add_customer(tenant_id, "c0", email=f"{tenant_id}.reco@example.com")
    record_consent(tenant_id, "c0", "email", granted=True, source="checkout", campaigns=CAMPAIGNS)
    # When a win-back style message with a personal product block is sent
    outcome = deliver(_request(tenant_id, "c0", recommend="for_customer"), _at_noon())
    # Then the e-mail shows recommended products, none of them out of stock
    assert outcome.status == "sent"
    message = moto_emails_to({f"{tenant_id}.reco@example.com"})[0]
    html = next(part for part in message.walk() if part.get_content_type() == "text/html").get_payload(decode=True)
    shown = [number for number in range(100, 108) if f"Piece {number}".encode() in html]
    assert shown and 103 not in shown


def test_sender_paces_itself_to_the_configured_send_rate() -> None:
    sender = load_handler("sender")
    clock = [100.0]
    slept: list[float] = []
    pacer = sender.SendPacer(
        clock=lambda: clock[0],
        sleep=lambda seconds: (slept.append(seconds), clock.__setitem__(0, clock[0] + seconds)),
    )
    for _ in range(5):
        pacer.wait(4.0)  # four per second: the 2nd to 5th sends each wait a quarter of a second
    assert slept == [0.25, 0.25, 0.25, 0.25]


def test_results_of_a_campaign_not_sent_yet_read_no_orders(local_aws: LocalResources, tenant_id: str) -> None:
    # Before: with no send record the conversion window started "now" and every order of the tenant was read
    # anyway (88 s on the e2e demo store under load) to answer that nothing was sent.
    class NoOrderReads(DynamoCustomerRepository):
        def orders_created_since(self, tenant_id: str, since_gmt: str) -> Any:
            raise AssertionError("read the tenant's orders for a campaign that sent nothing")

        def orders_of_customer(self, tenant_id: str, customer_id: str, *, since_gmt: str | None = None) -> Any:
            raise AssertionError("read a customer's orders for a campaign that sent nothing")

    report = flow_results(
        tenant_id, campaign_flow("c0notsentyet"), holdout_fraction=0.1, campaigns=CAMPAIGNS, customers=NoOrderReads()
    )
    assert report["arms"] == []


def test_results_of_a_small_audience_read_only_its_customers_orders(local_aws: LocalResources, tenant_id: str) -> None:
    # Before: results of any campaign that had sent read every order of the tenant, however few its recipients.
    for index in range(6):
        add_customer(tenant_id, f"r{index}", email=f"{tenant_id}.small{index}@example.com")
        record_consent(tenant_id, f"r{index}", "email", granted=True, source="checkout", campaigns=CAMPAIGNS)
    add_order(tenant_id, "91001", "r2", NOON + timedelta(days=1), status="completed", total=120.0)
    add_order(tenant_id, "91002", "r4", NOON + timedelta(days=2), status="completed", total=80.0)
    add_order(tenant_id, "91003", "r4", NOON + timedelta(days=30), status="completed", total=999.0)  # too late
    add_order(tenant_id, "91004", "someone-else", NOON + timedelta(days=1), status="completed", total=500.0)
    spec = CampaignSpec(name="Small", segment="all_customers", scheduled_at=NOON - timedelta(minutes=5))
    campaign = create_campaign(tenant_id, spec, campaigns=CAMPAIGNS, tenants=TENANTS)
    run_due_campaigns(
        tenant_id,
        NOON,
        QueueDispatcher(queue("campaign_send_queue_url")),
        sources=campaign_sources(),
    )
    drain_with_sender_handler()
    flow = campaign_flow(campaign.campaign_id)
    whole_partition = flow_results(
        tenant_id, flow, per_customer_query_limit=0, campaigns=CAMPAIGNS, customers=CUSTOMERS
    )

    class NoWindowReads(DynamoCustomerRepository):
        def orders_created_since(self, tenant_id: str, since_gmt: str) -> Any:
            raise AssertionError("read the tenant's orders by date for a campaign of six recipients")

    by_customer = flow_results(tenant_id, flow, campaigns=CAMPAIGNS, customers=NoWindowReads())
    assert by_customer == whole_partition
    assert sum(arm["conversions"] for arm in by_customer["arms"]) == 2
    assert sum(arm["revenue"] for arm in by_customer["arms"]) == 200.0


def test_a_flow_run_reads_only_the_orders_of_its_window(local_aws: LocalResources, tenant_id: str) -> None:
    # Before: every run of the order flows read all of the tenant's orders (two years of history on a real store),
    # every hour, to find the carts and purchases of the last few days.
    from api_testkit import counted_dynamodb_items_read

    from luxebrain.campaigns.flows import RunData, abandoned_cart_candidates, post_purchase_candidates, run_flows
    from luxebrain.campaigns.products import load_catalog
    from luxebrain.storage.customers import iter_orders

    class Collecting:
        def __init__(self) -> None:
            self.requests: list[SendRequest] = []

        def dispatch(self, request: SendRequest) -> None:
            self.requests.append(request)

        def flush(self) -> None:
            pass

    # Given two years of purchases, 7 of them within the product flows' 90 days, and carts left two hours ago
    # (one of them followed by a purchase, so not abandoned)
    _add_store(tenant_id)
    for index in range(60):
        add_order(
            tenant_id, f"7{index:03d}", f"old{index % 9}", NOON - timedelta(days=7 + 12 * index), status="completed"
        )
    for index in range(4):
        customer_id = f"cart{index}"
        add_customer(tenant_id, customer_id, email=f"{tenant_id}.cart{index}@example.com")
        record_consent(tenant_id, customer_id, "email", granted=True, source="checkout", campaigns=CAMPAIGNS)
        add_order(tenant_id, f"9{index:03d}", customer_id, NOON - timedelta(hours=2))
    add_order(tenant_id, "9100", "cart3", NOON - timedelta(hours=1), status="completed")
    save_campaign_settings(
        tenant_id, CampaignSettings(flows={"abandoned_cart": FlowSettings(holdout_fraction=0.0)}), tenants=TENANTS
    )
    # When the hourly abandoned-cart run, then a run of every order flow, read the table
    cart_dispatcher = Collecting()
    with counted_dynamodb_items_read() as cart_run:
        cart_results = list(
            run_flows(
                tenant_id,
                ["abandoned_cart"],
                NOON,
                cart_dispatcher,
                sources=campaign_sources(),
            )
        )
    with counted_dynamodb_items_read() as all_run:
        list(
            run_flows(
                tenant_id,
                ["abandoned_cart", "post_purchase", "back_in_stock"],
                NOON,
                Collecting(),
                sources=campaign_sources(),
            )
        )
    # Then each read only the orders of its window: 72 hours (5 orders), 90 days (5 + 7), not the 65 stored
    assert cart_run["order"] == 5
    assert all_run["order"] == 5 + 7
    # And the triggers are those found in the whole history
    everything = RunData(tenant_id, [order for order in iter_orders(tenant_id) if not order.deleted])
    catalog = load_catalog(tenant_id, tenants=TENANTS, catalogue=CATALOGUE, fresh=True)
    whole_history_carts = abandoned_cart_candidates(everything, FlowSettings(), NOON, catalog)
    windowed = {(r.customer_id, r.trigger) for r in cart_dispatcher.requests}
    assert windowed == {(c.customer_id, c.trigger) for c in whole_history_carts}
    assert len(windowed) == cart_results[0].dispatched == 3
    post_purchase = FlowSettings(max_age_hours=240, delay_minutes=3 * 24 * 60)
    assert post_purchase_candidates(everything, post_purchase, NOON) == post_purchase_candidates(
        RunData.load(tenant_id, (NOON - timedelta(hours=240)).replace(tzinfo=None).isoformat(), customers=CUSTOMERS),
        post_purchase,
        NOON,
    )

"""The AWS message services on the embedded AWS (moto's SES v2 and SNS): what they hand over arrives as the
fakes of tests/fakes.py record it, and a refusal arrives as a ProviderError. (WhatsApp has no moto service:
its adapter is checked with botocore's Stubber in tests/unit/test_adapters.py.)"""

from __future__ import annotations

import email
import secrets

import pytest
from campaign_support import moto_emails_to, moto_sms_to, unique_phone
from fakes import RecordingMailService, RecordingSmsService

from luxebrain.adapters import MailService, ProviderError, SmsService
from luxebrain.adapters.aws import mail_service, sms_service
from luxebrain.campaigns.channels import EmailChannel, OutboundEmail
from luxebrain.runtime import configured_settings
from luxebrain_dev.campaigns_demo import sent_by_moto
from luxebrain_dev.local.embedded import LocalResources


def test_a_campaign_mime_message_reaches_ses_with_its_headers(local_aws: LocalResources) -> None:
    # Given the stack's sender and configuration set, and a message to a new address
    settings = configured_settings()
    address = f"{secrets.token_hex(6)}@example.com"
    channel = EmailChannel(
        mail_service(), sender=settings.sender_email, configuration_set=settings.ses_configuration_set
    )
    # When it is sent
    message_id = channel.send(
        OutboundEmail(
            to=address,
            subject="Your bag",
            html="<p>Hi</p>",
            text="Hi",
            headers={"List-Unsubscribe": "<https://api.example/u/1>"},
            tags={"lb_tenant": "t-contract"},
        )
    )
    # Then SES recorded one message to that address, with the one-click header, under the returned id
    [received] = moto_emails_to({address})
    assert received["Subject"] == "Your bag" and received["List-Unsubscribe"] == "<https://api.example/u/1>"
    assert message_id in {raw["id"] for raw in sent_by_moto()[0]}


@pytest.fixture(params=["fake", "ses"])
def mail(request: pytest.FixtureRequest, local_aws: LocalResources) -> MailService:
    return RecordingMailService() if request.param == "fake" else mail_service()


def test_a_plain_alert_is_accepted_from_our_sender(mail: MailService) -> None:
    sender = configured_settings().sender_email
    message_id = mail.send_text(sender=sender, to="owner@shop.example", subject="Alert", text="The webhooks stopped")
    assert isinstance(message_id, str) and message_id
    if isinstance(mail, RecordingMailService):
        assert [(m.to, m.subject, m.text) for m in mail.sent] == [
            (["owner@shop.example"], "Alert", "The webhooks stopped")
        ]


def test_ses_refuses_an_unverified_sender_as_a_final_provider_error(local_aws: LocalResources) -> None:
    with pytest.raises(ProviderError) as refused:
        mail_service().send_text(sender="someone@unverified.example", to="a@example.com", subject="s", text="t")
    assert not refused.value.retryable and str(refused.value).startswith("email provider: ")


@pytest.fixture(params=["fake", "sns"])
def sms(request: pytest.FixtureRequest, local_aws: LocalResources) -> SmsService:
    return RecordingSmsService() if request.param == "fake" else sms_service()


def test_a_text_message_is_published_to_its_number(sms: SmsService) -> None:
    number = unique_phone(secrets.token_hex(3))
    assert sms.opted_out(number) is False
    message_id = sms.publish(number, "Hi Reply STOP", attributes={"AWS.SNS.SMS.SMSType": "Promotional"})
    assert isinstance(message_id, str) and message_id
    sent = (
        sms.sent
        if isinstance(sms, RecordingSmsService)
        else [(m["phone_number"], m["message"]) for m in moto_sms_to({number})]
    )
    assert [entry[:2] for entry in sent] == [(number, "Hi Reply STOP")]


def test_raw_mime_is_parsed_the_same_by_the_fake(local_aws: LocalResources) -> None:
    # The fake reads recipients and subject from the MIME headers, as SES does with raw content
    fake = RecordingMailService()
    settings = configured_settings()
    channel = EmailChannel(fake, sender=settings.sender_email, configuration_set=None)
    channel.send(OutboundEmail(to="lea@example.com", subject="Hello", html="<p>Hello</p>", text="Hello"))
    [sent] = fake.sent
    parsed = email.message_from_bytes(sent.mime)
    assert (sent.to, sent.subject, sent.text.strip()) == ([parsed["To"]], parsed["Subject"], "Hello")

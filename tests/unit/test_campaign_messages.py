"""Templates, addresses, quiet hours, channels (on the fake message services) and trigger rules, without AWS."""

from __future__ import annotations

import email
from datetime import UTC, datetime, time, timedelta

import pytest
from fakes import RecordingMailService, RecordingSmsService, RecordingWhatsApp

from luxebrain.campaigns.addresses import address_hash, normalise_email, normalise_phone
from luxebrain.campaigns.channels import (
    EmailChannel,
    OutboundEmail,
    OutboundShortMessage,
    ProviderError,
    SmsChannel,
    WhatsAppChannel,
)
from luxebrain.campaigns.config import FlowSettings, QuietHours
from luxebrain.campaigns.flows import RunData, abandoned_cart_candidates
from luxebrain.campaigns.products import Catalog
from luxebrain.campaigns.templates import TemplateRenderError, render_email, template_for, validate_template
from luxebrain.errors import InvalidInputError
from luxebrain.storage.items.customers import LineItem, OrderItem

CONTEXT = {
    "customer": {"first_name": "<b>Léa</b>", "country": "FR"},
    "store": {
        "store_name": "Maison",
        "logo_url": None,
        "primary_color": "#111111",
        "accent_color": "#b8860b",
        "footer_address": "Paris",
        "store_url": "https://shop.example",
    },
    "currency": "EUR",
    "products": [{"product_id": "101", "name": "Noir Clutch", "price": 990.0, "url": "https://shop.example/?p=101"}],
    "cart": {
        "lines": [{"name": "Riviera Tote", "quantity": 1, "total": 1450.0}],
        "currency": "EUR",
        "url": "https://x/cart/",
    },
    "unsubscribe_url": "https://api.example/campaigns/unsubscribe/u1.abc.def",
}


def test_email_has_html_and_text_parts_branding_products_and_unsubscribe() -> None:
    rendered = render_email(template_for("abandoned_cart"), CONTEXT)
    assert rendered.subject == "<b>Léa</b>, your selection is waiting"  # subject is text: not escaped
    assert "&lt;b&gt;Léa&lt;/b&gt;" in rendered.html  # HTML autoescaped
    assert "Noir Clutch" in rendered.html and "990.00 EUR" in rendered.text
    assert CONTEXT["unsubscribe_url"] in rendered.html and CONTEXT["unsubscribe_url"] in rendered.text
    assert "MAISON" in rendered.html


def test_missing_variable_and_sandbox_escape_fail_with_a_reason() -> None:
    with pytest.raises(TemplateRenderError, match="subject failed to render"):
        render_email(template_for("campaign", {"subject": "Hi {{ customer.nickname }}"}), CONTEXT)
    with pytest.raises(TemplateRenderError):
        render_email(template_for("campaign", {"html": "{{ ''.__class__.__mro__[1].__subclasses__() }}"}), CONTEXT)
    with pytest.raises(TemplateRenderError, match="does not compile"):
        validate_template({"html": "{% for x in %}"})


def test_a_tenant_template_cannot_drop_the_unsubscribe_link() -> None:
    rendered = render_email(template_for("campaign", {"html": "<p>Only this</p>", "text": "Only this"}), CONTEXT)
    assert "Unsubscribe" in rendered.html and CONTEXT["unsubscribe_url"] in rendered.text


@pytest.mark.parametrize(
    ("raw", "expected"), [("+33 6 12 34 56 78", "+33612345678"), ("0044 7700 900123", "+447700900123")]
)
def test_phone_numbers_normalise_to_e164(raw: str, expected: str) -> None:
    assert normalise_phone(raw) == expected


@pytest.mark.parametrize("bad", ["0612345678", "+0123", "+1234567890123456", "call me"])
def test_invalid_phone_numbers_are_rejected(bad: str) -> None:
    with pytest.raises(InvalidInputError):
        normalise_phone(bad)


def test_email_normalisation_and_hash_ignore_domain_case() -> None:
    assert normalise_email(" Lea@Example.COM ") == "Lea@example.com"
    assert address_hash("email", "lea@example.com") == address_hash("email", "LEA@EXAMPLE.COM")
    with pytest.raises(InvalidInputError):
        normalise_email("lea@@example")


def test_quiet_hours_wrap_midnight() -> None:
    quiet = QuietHours(start=time(21), end=time(9))
    assert quiet.contains(time(23, 30)) and quiet.contains(time(8, 59))
    assert not quiet.contains(time(9)) and not quiet.contains(time(20, 59))


def test_email_channel_sends_one_mime_message_with_one_click_headers_and_configuration_set() -> None:
    mail = RecordingMailService()
    channel = EmailChannel(mail, sender="no-reply@luxebrain.example", configuration_set="campaigns")
    message = OutboundEmail(
        to="lea@example.com",
        subject="Hello",
        html="<p>Hello</p>",
        text="Hello",
        from_name="Maison",
        headers={
            "List-Unsubscribe": "<https://api.example/u/" + "x" * 150 + ">",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
        tags={"lb_tenant": "t-shop"},
    )
    assert channel.send(message) == "mail-1"
    [sent] = mail.sent
    assert (sent.sender, sent.to, sent.subject) == ("no-reply@luxebrain.example", ["lea@example.com"], "Hello")
    assert (sent.tags, sent.configuration_set) == ({"lb_tenant": "t-shop"}, "campaigns")
    parsed = email.message_from_bytes(sent.mime)
    assert parsed["From"] == "Maison <no-reply@luxebrain.example>"
    assert parsed["List-Unsubscribe"] == "<https://api.example/u/" + "x" * 150 + ">"  # one token, not encoded
    assert [part.get_content_type() for part in parsed.walk() if not part.is_multipart()] == ["text/plain", "text/html"]


def test_sms_channel_respects_the_account_wide_opt_out_and_passes_provider_errors_on() -> None:
    throttled = ProviderError("sms provider: Throttling: slow down", retryable=True, code="Throttling")
    sms = RecordingSmsService(opted_out_numbers={"+447700900001"}, failures=[throttled])
    channel = SmsChannel(sms, origination_number="+447700900099")
    with pytest.raises(ProviderError) as opted_out:
        channel.send(OutboundShortMessage(to="+447700900001", text="Hi"))
    with pytest.raises(ProviderError) as failed:
        channel.send(OutboundShortMessage(to="+447700900002", text="Hi"))
    assert not opted_out.value.retryable and opted_out.value.code == "OptedOut" and failed.value is throttled
    assert channel.send(OutboundShortMessage(to="+447700900002", text="Hi")) == "sms-1"
    assert sms.sent == [
        (
            "+447700900002",
            "Hi Reply STOP to opt out.",
            {"AWS.SNS.SMS.SMSType": "Promotional", "AWS.MM.SMS.OriginationNumber": "+447700900099"},
        )
    ]


def test_whatsapp_channel_sends_an_approved_template() -> None:
    whatsapp = RecordingWhatsApp()
    channel = WhatsAppChannel(whatsapp, phone_number_id="phone-number-id-0123")
    message = OutboundShortMessage(
        to="+447700900003",
        text="Your bag",
        template_name="luxebrain_abandoned_cart",
        template_parameters=("Léa", "Your bag"),
    )
    assert channel.send(message) == "wamid-1"
    [(number_id, body, api_version)] = whatsapp.sent
    assert (number_id, api_version) == ("phone-number-id-0123", "v20.0")
    assert body == WhatsAppChannel.meta_message(message)
    assert body["type"] == "template" and body["template"]["name"] == "luxebrain_abandoned_cart"
    assert [p["text"] for p in body["template"]["components"][0]["parameters"]] == ["Léa", "Your bag"]
    with pytest.raises(ProviderError, match="no WhatsApp phone number"):
        WhatsAppChannel(whatsapp, phone_number_id=None).send(message)
    with pytest.raises(ProviderError, match="approved template"):
        channel.send(OutboundShortMessage(to="+447700900003", text="Your bag"))
    assert len(whatsapp.sent) == 1


def _order(order_id: str, customer: str, created: datetime, status_class: str) -> OrderItem:
    gmt = created.replace(tzinfo=None).isoformat(timespec="seconds")
    line = LineItem(line_id="1", product_id="100", name="Tote", quantity=1, unit_price=10.0, subtotal=10.0, total=10.0)
    return OrderItem(
        "pk",
        order_id,
        entity="order",
        tenant_id="t-shop",
        order_id=order_id,
        status="x",
        status_class=status_class,
        customer_id=customer,
        created_gmt=gmt,
        line_items=[line],
    )


def test_abandoned_cart_rule_window_later_purchase_and_latest_cart_per_customer() -> None:
    now = datetime(2026, 11, 26, 12, tzinfo=UTC)
    orders = [
        _order("1", "a", now - timedelta(minutes=20), "cart"),  # too recent
        _order("2", "b", now - timedelta(hours=2), "cart"),  # abandoned
        _order("3", "c", now - timedelta(hours=3), "cart"),
        _order("4", "c", now - timedelta(hours=1), "purchase"),  # bought afterwards: not abandoned
        _order("5", "d", now - timedelta(hours=100), "cart"),  # too old
        _order("6", "e", now - timedelta(hours=5), "cart"),
        _order("7", "e", now - timedelta(hours=4), "cart"),  # e's latest cart is the trigger
        _order("8", "guest:anonymous", now - timedelta(hours=2), "cart"),  # nobody to write to
    ]
    catalog = Catalog({}, "EUR", "https://shop.example")
    candidates = abandoned_cart_candidates(RunData("t-shop", orders), FlowSettings(), now, catalog)
    assert [(c.customer_id, c.trigger) for c in candidates] == [("b", "order-2"), ("e", "order-7")]
    assert candidates[0].context["cart"]["url"] == "https://shop.example/cart/"


@pytest.mark.parametrize("source", ["{{ 2 ** 100000000 }}", "{{ 'x' * 100000000 }}", "{{ [1] * 10**8 }}"])
def test_runaway_arithmetic_in_a_tenant_template_fails_fast_with_a_reason(source: str) -> None:
    from luxebrain.campaigns.templates import TemplateRenderError, render_part, validate_template

    with pytest.raises(TemplateRenderError, match="failed to render"):
        render_part(source, {}, html=False)
    with pytest.raises(TemplateRenderError, match="failed to render"):  # saving dry-runs it: refused too
        validate_template({"text": source})


def test_ordinary_arithmetic_still_renders() -> None:
    from luxebrain.campaigns.templates import render_part

    assert render_part("{{ 2 ** 10 }} {{ 'ab' * 3 }} {{ 1.5 * 2 }}", {}, html=False) == "1024 ababab 3.0"

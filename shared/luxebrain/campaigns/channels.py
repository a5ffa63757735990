"""Channels behind one small interface: ``send(message) -> provider message id``.

E-mail: SES v2 ``send_email`` with a raw MIME message (HTML + text parts, List-Unsubscribe headers) and the
configuration set that publishes bounces, complaints, deliveries, opens and clicks. SMS: SNS ``publish`` to a
phone number (promotional type), after SNS's own account-wide opt-out check. WhatsApp: AWS End User
Messaging Social ``send_whatsapp_message`` with an approved template (Meta Cloud API message JSON).

Each channel builds the provider's message and hands it to its service (``luxebrain.adapters``: ``MailService``,
``SmsService``, ``WhatsAppService``), whose AWS implementations make the calls; their failures arrive as
``ProviderError`` with ``retryable`` set: throttling and outages are retried, rejections are recorded and not
retried.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import formataddr, make_msgid
from typing import Any, Protocol

from luxebrain.adapters import MailService, ProviderError, SmsService, WhatsAppService

SMS_OPT_OUT_NOTICE = " Reply STOP to opt out."
WHATSAPP_API_VERSION = "v20.0"
# RFC 5322's hard line limit: a long List-Unsubscribe URI must stay one token, never an RFC 2047 encoded word.
_MIME_POLICY = SMTP.clone(max_line_length=998)


@dataclass(frozen=True)
class OutboundEmail:
    to: str
    subject: str
    html: str
    text: str
    from_name: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)  # SES message tags: come back on every SES event


@dataclass(frozen=True)
class OutboundShortMessage:
    to: str  # E.164
    text: str
    template_name: str = ""  # WhatsApp: the approved template
    template_parameters: tuple[str, ...] = ()
    language: str = "en"


class Channel(Protocol):
    name: str

    def send(self, message: Any) -> str: ...


class EmailChannel:
    name = "email"

    def __init__(self, mail: MailService, *, sender: str, configuration_set: str | None) -> None:
        self.mail = mail
        self.sender = sender
        self.configuration_set = configuration_set

    def build_mime(self, message: OutboundEmail) -> bytes:
        mime = EmailMessage(policy=_MIME_POLICY)
        mime["From"] = formataddr((message.from_name, self.sender)) if message.from_name else self.sender
        mime["To"] = message.to
        mime["Subject"] = message.subject
        mime["Message-ID"] = make_msgid(domain=self.sender.rpartition("@")[2] or None)
        for name, value in message.headers.items():
            mime[name] = value
        mime.set_content(message.text)
        mime.add_alternative(message.html, subtype="html")
        return mime.as_bytes()

    def send(self, message: OutboundEmail) -> str:
        return self.mail.send_raw(
            self.build_mime(message), sender=self.sender, tags=message.tags, configuration_set=self.configuration_set
        )


class SmsChannel:
    name = "sms"

    def __init__(self, sms: SmsService, *, origination_number: str | None = None) -> None:
        self.sms = sms
        self.origination_number = origination_number

    def send(self, message: OutboundShortMessage) -> str:
        # The provider keeps one opt-out list for the whole AWS account; ours is per tenant. Both must allow it.
        if self.sms.opted_out(message.to):
            raise ProviderError("the number opted out of SMS from this AWS account", retryable=False, code="OptedOut")
        attributes = {"AWS.SNS.SMS.SMSType": "Promotional"}
        if self.origination_number:
            attributes["AWS.MM.SMS.OriginationNumber"] = self.origination_number
        return self.sms.publish(message.to, message.text + SMS_OPT_OUT_NOTICE, attributes=attributes)


class WhatsAppChannel:
    name = "whatsapp"

    def __init__(self, whatsapp: WhatsAppService, *, phone_number_id: str | None) -> None:
        self.whatsapp = whatsapp
        self.phone_number_id = phone_number_id

    @staticmethod
    def meta_message(message: OutboundShortMessage) -> dict[str, Any]:
        """Marketing outside the 24-hour service window must use a template Meta approved."""
        return {
            "messaging_product": "whatsapp",
            "to": message.to,
            "type": "template",
            "template": {
                "name": message.template_name,
                "language": {"code": message.language},
                "components": [
                    {
                        "type": "body",
                        "parameters": [{"type": "text", "text": value} for value in message.template_parameters],
                    }
                ],
            },
        }

    def send(self, message: OutboundShortMessage) -> str:
        if not self.phone_number_id:
            raise ProviderError("no WhatsApp phone number is linked for this tenant", retryable=False, code="Config")
        if not message.template_name:
            raise ProviderError("WhatsApp marketing needs an approved template name", retryable=False, code="Config")
        message_json = json.dumps(self.meta_message(message)).encode()
        return self.whatsapp.send(self.phone_number_id, message_json, api_version=WHATSAPP_API_VERSION)


class UnavailableChannel:
    """A channel this environment cannot reach (WhatsApp on the embedded AWS: moto has no socialmessaging)."""

    def __init__(self, name: str, reason: str) -> None:
        self.name = name
        self.reason = reason

    def send(self, message: Any) -> str:
        raise ProviderError(self.reason, retryable=False, code="Unavailable")

"""Channels behind one small interface: ``send(message) -> provider message id``.

E-mail: SES v2 ``send_email`` with a raw MIME message (HTML + text parts, List-Unsubscribe headers) and the
configuration set that publishes bounces, complaints, deliveries, opens and clicks. SMS: SNS ``publish`` to a
phone number (promotional type), after SNS's own account-wide opt-out check. WhatsApp: AWS End User
Messaging Social ``send_whatsapp_message`` with an approved template (Meta Cloud API message JSON).

moto serves SES v2 and SNS, so tests and the local stack run these adapters' real boto3 calls against it;
moto has no ``socialmessaging`` service, so the WhatsApp adapter is tested with botocore's Stubber.
Provider errors become ``ProviderError`` with ``retryable`` set: throttling and outages are retried,
rejections are recorded and not retried.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import formataddr, make_msgid
from typing import Any, Protocol

from botocore.exceptions import BotoCoreError, ClientError

RETRYABLE_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "TooManyRequestsException",
        "LimitExceededException",
        "ServiceUnavailable",
        "ServiceUnavailableException",
        "InternalFailure",
        "InternalServerError",
        "InternalServiceErrorException",
        "InternalServerException",
        "KMSThrottlingException",
        "SendingPausedException",
        "RequestTimeout",
    }
)
SMS_OPT_OUT_NOTICE = " Reply STOP to opt out."
WHATSAPP_API_VERSION = "v20.0"
# RFC 5322's hard line limit: a long List-Unsubscribe URI must stay one token, never an RFC 2047 encoded word.
_MIME_POLICY = SMTP.clone(max_line_length=998)


class ProviderError(Exception):
    def __init__(self, message: str, *, retryable: bool, code: str = "") -> None:
        super().__init__(message)
        self.retryable = retryable
        self.code = code


def provider_error(exc: Exception, channel: str) -> ProviderError:
    if isinstance(exc, ClientError):
        code = exc.response.get("Error", {}).get("Code", "")
        message = exc.response.get("Error", {}).get("Message", "")
        status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
        retryable = code in RETRYABLE_CODES or status >= 500  # a 5xx is the provider's problem, not ours
        return ProviderError(f"{channel} provider: {code}: {message[:200]}", retryable=retryable, code=code)
    if isinstance(exc, BotoCoreError):  # connection and read timeouts: the provider may be back soon
        return ProviderError(f"{channel} provider unreachable: {exc}", retryable=True, code=type(exc).__name__)
    raise exc


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

    def __init__(self, client: Any, *, sender: str, configuration_set: str | None) -> None:
        self.client = client
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
        kwargs: dict[str, Any] = {
            "FromEmailAddress": self.sender,
            # No Destination: with raw content SES takes the recipients from the To header, and moto would
            # otherwise record the address twice.
            "Content": {"Raw": {"Data": self.build_mime(message)}},
            "EmailTags": [{"Name": name, "Value": value} for name, value in message.tags.items()],
        }
        if self.configuration_set:
            kwargs["ConfigurationSetName"] = self.configuration_set
        try:
            return str(self.client.send_email(**kwargs)["MessageId"])
        except (ClientError, BotoCoreError) as exc:
            raise provider_error(exc, "email") from None


class SmsChannel:
    name = "sms"

    def __init__(self, client: Any, *, origination_number: str | None = None) -> None:
        self.client = client
        self.origination_number = origination_number

    def send(self, message: OutboundShortMessage) -> str:
        try:
            # SNS keeps one opt-out list for the whole AWS account; ours is per tenant. Both must allow it.
            if self.client.check_if_phone_number_is_opted_out(phoneNumber=message.to).get("isOptedOut"):
                raise ProviderError(
                    "the number opted out of SMS from this AWS account", retryable=False, code="OptedOut"
                )
            attributes = {"AWS.SNS.SMS.SMSType": {"DataType": "String", "StringValue": "Promotional"}}
            if self.origination_number:
                attributes["AWS.MM.SMS.OriginationNumber"] = {
                    "DataType": "String",
                    "StringValue": self.origination_number,
                }
            response = self.client.publish(
                PhoneNumber=message.to, Message=message.text + SMS_OPT_OUT_NOTICE, MessageAttributes=attributes
            )
            return str(response["MessageId"])
        except (ClientError, BotoCoreError) as exc:
            raise provider_error(exc, "sms") from None


class WhatsAppChannel:
    name = "whatsapp"

    def __init__(self, client: Any, *, phone_number_id: str | None) -> None:
        self.client = client
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
        try:
            response = self.client.send_whatsapp_message(
                originationPhoneNumberId=self.phone_number_id,
                message=json.dumps(self.meta_message(message)).encode(),
                metaApiVersion=WHATSAPP_API_VERSION,
            )
            return str(response["messageId"])
        except (ClientError, BotoCoreError) as exc:
            raise provider_error(exc, "whatsapp") from None


class UnavailableChannel:
    """A channel this environment cannot reach (WhatsApp on the embedded AWS: moto has no socialmessaging)."""

    def __init__(self, name: str, reason: str) -> None:
        self.name = name
        self.reason = reason

    def send(self, message: Any) -> str:
        raise ProviderError(self.reason, retryable=False, code="Unavailable")

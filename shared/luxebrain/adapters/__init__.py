"""The small interfaces domain code reaches AWS through: an object store (the models bucket), a message
queue (sent to, and read from where no event source reads it: the dead-letter redrive), a key vault, the
outbound message services (e-mail, SMS, WhatsApp) and the user directory (logins).

Domain functions take them as parameters; the handler (or the runtime) creates the AWS implementations of
:mod:`luxebrain.adapters.aws` once per execution environment and passes them in, and the unit tier passes the
in-memory fakes of ``tests/fakes.py``. Nothing here imports boto3.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol


class MissingObject(LookupError):
    """No object under the key (the caller says what that means to a user)."""


@dataclass(frozen=True)
class StoredObject:
    key: str
    size: int


@dataclass(frozen=True)
class ObjectVersion:
    """One version or delete marker of a versioned bucket."""

    key: str
    version_id: str


class ObjectStore(Protocol):
    """One bucket, addressed by key."""

    def put(self, key: str, body: bytes, *, content_type: str = "application/octet-stream") -> None: ...

    def get(self, key: str) -> bytes:
        """The object's bytes; :class:`MissingObject` when there is none."""
        ...

    def exists(self, key: str) -> bool: ...

    def delete(self, key: str) -> None: ...

    def delete_many(self, keys: Sequence[str]) -> None:
        """Delete the current version of each key (a versioned bucket keeps the older ones)."""
        ...

    def objects(self, prefix: str) -> Iterator[StoredObject]:
        """Every current object whose key starts with ``prefix``, in key order."""
        ...

    def folders(self, prefix: str) -> list[str]:
        """The names of the "folders" right under ``prefix`` (``prefix + name + "/"...``), sorted."""
        ...

    def versions(self, prefix: str) -> Iterator[ObjectVersion]:
        """Every version and delete marker under ``prefix``."""
        ...

    def delete_versions(self, versions: Sequence[ObjectVersion]) -> None:
        """Delete these versions for good."""
        ...


class MessageQueue(Protocol):
    """One queue (FIFO when the caller passes a group id)."""

    def send(self, body: str, *, group_id: str | None = None, deduplication_id: str | None = None) -> str:
        """Queue one message; returns its message id."""
        ...

    def send_batch(self, bodies: Sequence[str]) -> int:
        """Queue the messages (any number); returns how many were sent, raises if any was refused."""
        ...

    def delay(self, receipt_handle: str, *, seconds: int) -> None:
        """Make a received message visible again only after ``seconds`` (its next attempt's backoff)."""
        ...


@dataclass(frozen=True)
class ReceivedMessage:
    """One message taken from a queue: invisible to other readers until it is deleted or its time runs out."""

    message_id: str
    body: str
    receipt_handle: str
    group_id: str | None = None  # a FIFO queue's message group


class MessageSource(Protocol):
    """A queue read by code itself rather than by a Lambda event source (the dead-letter redrive)."""

    def receive(self, max_messages: int = 10) -> list[ReceivedMessage]:
        """Up to ``max_messages`` (SQS hands out ten at most) of the messages visible now, without waiting;
        an empty list when there are none."""
        ...

    def delete(self, message: ReceivedMessage) -> None:
        """Remove a received message for good (it was handled)."""
        ...


class KeyVault(Protocol):
    """Envelope-free encryption of small secrets under one key, bound to an encryption context."""

    def encrypt(self, plaintext: bytes, *, context: Mapping[str, str]) -> bytes: ...

    def decrypt(self, ciphertext: bytes, *, context: Mapping[str, str]) -> bytes:
        """The plaintext; raises when the context is not the one it was encrypted with."""
        ...


# ----------------------------------------------------------------------------- outbound messages
class ProviderError(Exception):
    """A message service refused or failed a message. ``retryable`` when a later attempt may succeed
    (throttling, an outage), not when the message itself was rejected."""

    def __init__(self, message: str, *, retryable: bool, code: str = "") -> None:
        super().__init__(message)
        self.retryable = retryable
        self.code = code


class MailService(Protocol):
    """Outbound e-mail from our own addresses; each method returns the provider's message id and raises
    :class:`ProviderError`."""

    def send_raw(
        self, mime: bytes, *, sender: str, tags: Mapping[str, str], configuration_set: str | None = None
    ) -> str:
        """A complete MIME message, to the recipients its headers name; ``tags`` come back on the provider's
        delivery events."""
        ...

    def send_text(self, *, sender: str, to: str, subject: str, text: str) -> str:
        """A plain-text message to one address."""
        ...


class SmsService(Protocol):
    """Text messages to phone numbers (E.164); raises :class:`ProviderError`."""

    def opted_out(self, phone_number: str) -> bool:
        """Whether the number opted out of the provider account's messages (its own list, not ours)."""
        ...

    def publish(self, phone_number: str, text: str, *, attributes: Mapping[str, str]) -> str:
        """Send ``text``; ``attributes`` are the provider's string message attributes. Returns its message id."""
        ...


class WhatsAppService(Protocol):
    """WhatsApp messages from a linked business number; raises :class:`ProviderError`."""

    def send(self, phone_number_id: str, message: bytes, *, api_version: str) -> str:
        """Send one Meta Cloud API message (JSON) from ``phone_number_id``; returns its message id."""
        ...


# ----------------------------------------------------------------------------- user accounts
class DirectoryError(Exception):
    """The user directory refused a request; ``code`` names why (Cognito's exception name, which the
    caller turns into an error a user can act on)."""

    def __init__(self, code: str, message: str = "") -> None:
        super().__init__(f"{code}: {message}" if message else code)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class DirectoryUser:
    username: str
    attributes: Mapping[str, str]  # "sub", "email", "custom:tenant_id", ...

    @property
    def sub(self) -> str:
        return self.attributes.get("sub") or self.username


class UserDirectory(Protocol):
    """The logins (a Cognito user pool): self-service calls go through an app client (``client_id``),
    administrative ones act on the pool. Every method raises :class:`DirectoryError` on a refusal."""

    def sign_up(
        self, client_id: str, username: str, password: str, *, attributes: Mapping[str, str]
    ) -> tuple[str, bool]:
        """A new user (who gets a confirmation code); returns (its sub, whether it is confirmed already)."""
        ...

    def confirm_sign_up(self, client_id: str, username: str, code: str) -> None: ...

    def initiate_auth(self, client_id: str, flow: str, parameters: Mapping[str, str]) -> dict[str, Any]:
        """The provider's answer: ``AuthenticationResult`` (tokens), or ``ChallengeName`` and ``Session``."""
        ...

    def respond_to_auth_challenge(
        self, client_id: str, challenge: str, session: str, responses: Mapping[str, str]
    ) -> dict[str, Any]: ...

    def forgot_password(self, client_id: str, username: str) -> None:
        """Send the user a reset code."""
        ...

    def confirm_forgot_password(self, client_id: str, username: str, code: str, password: str) -> None: ...

    def change_password(self, access_token: str, previous: str, proposed: str) -> None: ...

    def global_sign_out(self, access_token: str) -> None:
        """Revoke the refresh tokens of the user the access token is for."""
        ...

    def admin_create_user(
        self, username: str, temporary_password: str, *, attributes: Mapping[str, str]
    ) -> DirectoryUser:
        """An invited user; the provider e-mails the temporary password."""
        ...

    def admin_get_user(self, username: str) -> DirectoryUser: ...

    def admin_confirm_sign_up(self, username: str) -> None: ...

    def admin_update_user_attributes(self, username: str, attributes: Mapping[str, str]) -> None: ...

    def admin_set_user_password(self, username: str, password: str) -> None:
        """A permanent password (no change asked at the next log-in)."""
        ...

    def admin_delete_user(self, username: str) -> None: ...

    def admin_user_global_sign_out(self, username: str) -> None: ...

    def create_group(self, group: str, description: str) -> None: ...

    def admin_add_user_to_group(self, username: str, group: str) -> None: ...

    def users(self) -> Iterator[DirectoryUser]:
        """Every user of the pool."""
        ...

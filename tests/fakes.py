"""In-memory implementations of luxebrain.adapters' protocols for the unit tier: what a test passes where
the product passes the AWS adapters. Each keeps what was done to it, for the test's Then."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from luxebrain.adapters import MissingObject, ObjectVersion, ProviderError, ReceivedMessage, StoredObject


@dataclass
class _Version:
    version_id: str
    body: bytes | None  # None: a delete marker
    content_type: str = ""


class InMemoryObjectStore:
    """A versioned bucket: a put adds a version, a delete adds a delete marker (as S3 with versioning on)."""

    def __init__(self) -> None:
        self._keys: dict[str, list[_Version]] = {}
        self._ids = itertools.count(1)
        self.calls: list[str] = []

    def _current(self, key: str) -> _Version | None:
        versions = self._keys.get(key)
        return versions[-1] if versions and versions[-1].body is not None else None

    def put(self, key: str, body: bytes, *, content_type: str = "application/octet-stream") -> None:
        self.calls.append(f"put {key}")
        self._keys.setdefault(key, []).append(_Version(f"v{next(self._ids)}", bytes(body), content_type))

    def get(self, key: str) -> bytes:
        self.calls.append(f"get {key}")
        current = self._current(key)
        if current is None or current.body is None:
            raise MissingObject(key)
        return current.body

    def content_type(self, key: str) -> str:
        current = self._current(key)
        if current is None:
            raise MissingObject(key)
        return current.content_type

    def exists(self, key: str) -> bool:
        return self._current(key) is not None

    def delete(self, key: str) -> None:
        self.calls.append(f"delete {key}")
        if key in self._keys:
            self._keys[key].append(_Version(f"v{next(self._ids)}", None))

    def delete_many(self, keys: Sequence[str]) -> None:
        for key in keys:
            self.delete(key)

    def objects(self, prefix: str) -> Iterator[StoredObject]:
        for key in sorted(self._keys):
            current = self._current(key)
            if key.startswith(prefix) and current is not None and current.body is not None:
                yield StoredObject(key=key, size=len(current.body))

    def folders(self, prefix: str) -> list[str]:
        return sorted(
            {o.key[len(prefix) :].split("/", 1)[0] for o in self.objects(prefix) if "/" in o.key[len(prefix) :]}
        )

    def versions(self, prefix: str) -> Iterator[ObjectVersion]:
        for key in sorted(self._keys):
            if key.startswith(prefix):
                yield from (ObjectVersion(key=key, version_id=v.version_id) for v in self._keys[key])

    def delete_versions(self, versions: Sequence[ObjectVersion]) -> None:
        for doomed in versions:
            self.calls.append(f"delete version {doomed.key} {doomed.version_id}")
            kept = [v for v in self._keys.get(doomed.key, []) if v.version_id != doomed.version_id]
            if kept:
                self._keys[doomed.key] = kept
            else:
                self._keys.pop(doomed.key, None)

    def keys(self) -> list[str]:
        """Every key that has a current object."""
        return [o.key for o in self.objects("")]


@dataclass
class SentMessage:
    body: str
    group_id: str | None = None
    deduplication_id: str | None = None


@dataclass
class RecordingQueue:
    """Keeps every message; ``refuse`` makes the next sends raise (a queue that cannot be reached)."""

    sent: list[SentMessage] = field(default_factory=list)
    refuse: Exception | None = None
    delays: list[tuple[str, int]] = field(default_factory=list)  # (receipt handle, seconds)

    def send(self, body: str, *, group_id: str | None = None, deduplication_id: str | None = None) -> str:
        if self.refuse is not None:
            raise self.refuse
        self.sent.append(SentMessage(body, group_id, deduplication_id))
        return f"m-{len(self.sent)}"

    def send_batch(self, bodies: Sequence[str]) -> int:
        for body in bodies:
            self.send(body)
        return len(bodies)

    def delay(self, receipt_handle: str, *, seconds: int) -> None:
        self.delays.append((receipt_handle, seconds))

    def bodies(self) -> list[dict[str, object]]:
        return [json.loads(message.body) for message in self.sent]


class InMemoryMessageSource:
    """Messages waiting to be received (a dead-letter queue): ``receive`` hands out at most ten a call, as
    SQS does, and a received message stays out of sight until it is deleted."""

    def __init__(self) -> None:
        self._waiting: list[ReceivedMessage] = []
        self._in_flight: list[ReceivedMessage] = []
        self._ids = itertools.count(1)

    def add(self, body: str, *, group_id: str | None = None) -> ReceivedMessage:
        number = next(self._ids)
        message = ReceivedMessage(f"m-{number}", body, f"receipt-{number}", group_id)
        self._waiting.append(message)
        return message

    def receive(self, max_messages: int = 10) -> list[ReceivedMessage]:
        taken, self._waiting = self._waiting[: min(max_messages, 10)], self._waiting[min(max_messages, 10) :]
        self._in_flight.extend(taken)
        return taken

    def delete(self, message: ReceivedMessage) -> None:
        self._in_flight = [kept for kept in self._in_flight if kept.receipt_handle != message.receipt_handle]

    def remaining(self) -> list[ReceivedMessage]:
        """What is still in the queue, in flight or waiting."""
        return [*self._in_flight, *self._waiting]


class ContextMismatch(ValueError):
    """The fake vault's stand-in for KMS's InvalidCiphertextException."""


class InMemoryKeyVault:
    """Not encryption: a sealed envelope that opens only with the context it was sealed with, which is
    the property the product relies on."""

    def __init__(self) -> None:
        self.decryptions = 0

    def encrypt(self, plaintext: bytes, *, context: Mapping[str, str]) -> bytes:
        return json.dumps({"context": dict(context), "plaintext": plaintext.hex()}, sort_keys=True).encode()[::-1]

    def decrypt(self, ciphertext: bytes, *, context: Mapping[str, str]) -> bytes:
        self.decryptions += 1
        sealed = json.loads(ciphertext[::-1])
        if sealed["context"] != dict(context):
            raise ContextMismatch("the encryption context differs")
        return bytes.fromhex(sealed["plaintext"])


# ----------------------------------------------------------------------------- outbound messages
@dataclass
class SentMail:
    sender: str
    to: list[str]
    subject: str
    text: str
    tags: dict[str, str] = field(default_factory=dict)
    configuration_set: str | None = None
    mime: bytes = b""


@dataclass
class RecordingMailService:
    """Keeps every e-mail; each entry of ``failures`` fails one send, in order (a refusal or an outage)."""

    sent: list[SentMail] = field(default_factory=list)
    failures: list[ProviderError] = field(default_factory=list)

    def _accept(self, mail: SentMail) -> str:
        if self.failures:
            raise self.failures.pop(0)
        self.sent.append(mail)
        return f"mail-{len(self.sent)}"

    def send_raw(
        self, mime: bytes, *, sender: str, tags: Mapping[str, str], configuration_set: str | None = None
    ) -> str:
        import email

        parsed = email.message_from_bytes(mime)
        text = next(
            (part.get_payload(decode=True) or b"" for part in parsed.walk() if part.get_content_type() == "text/plain"),
            b"",
        )
        return self._accept(
            SentMail(
                sender=sender,
                to=[address.strip() for address in str(parsed["To"]).split(",")],
                subject=str(parsed["Subject"]),
                text=bytes(text).decode(),
                tags=dict(tags),
                configuration_set=configuration_set,
                mime=mime,
            )
        )

    def send_text(self, *, sender: str, to: str, subject: str, text: str) -> str:
        return self._accept(SentMail(sender=sender, to=[to], subject=subject, text=text))


@dataclass
class RecordingSmsService:
    """Keeps every text message; numbers in ``opted_out_numbers`` are on the account's opt-out list."""

    sent: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)  # (number, text, attributes)
    opted_out_numbers: set[str] = field(default_factory=set)
    failures: list[ProviderError] = field(default_factory=list)

    def opted_out(self, phone_number: str) -> bool:
        return phone_number in self.opted_out_numbers

    def publish(self, phone_number: str, text: str, *, attributes: Mapping[str, str]) -> str:
        if self.failures:
            raise self.failures.pop(0)
        self.sent.append((phone_number, text, dict(attributes)))
        return f"sms-{len(self.sent)}"


@dataclass
class RecordingWhatsApp:
    sent: list[tuple[str, dict[str, Any], str]] = field(default_factory=list)  # (from number, message, api)

    def send(self, phone_number_id: str, message: bytes, *, api_version: str) -> str:
        self.sent.append((phone_number_id, json.loads(message), api_version))
        return f"wamid-{len(self.sent)}"

"""The small interfaces domain code reaches AWS through: an object store (the models bucket), a message
queue and a key vault.

Domain functions take them as parameters; the handler (or the runtime) creates the AWS implementations of
:mod:`luxebrain.adapters.aws` once per execution environment and passes them in, and the unit tier passes the
in-memory fakes of ``tests/fakes.py``. Nothing here imports boto3.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol


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


class KeyVault(Protocol):
    """Envelope-free encryption of small secrets under one key, bound to an encryption context."""

    def encrypt(self, plaintext: bytes, *, context: Mapping[str, str]) -> bytes: ...

    def decrypt(self, ciphertext: bytes, *, context: Mapping[str, str]) -> bytes:
        """The plaintext; raises when the context is not the one it was encrypted with."""
        ...

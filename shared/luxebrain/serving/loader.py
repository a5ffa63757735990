"""The API's read path for trained models: a tenant's current artifact of a kind, from a bounded in-memory cache.

Per container, each (tenant, kind) is loaded from S3 once, its checksums verified (``ModelArtifact.from_files``),
and kept in an LRU bounded by entries and bytes across tenants. The current-version pointer in DynamoDB is
re-read at most once per ``serving_version_check_seconds`` (a minute by default) per tenant — one Query returns
every kind's pointer — so a newly promoted version is served within a minute without a read on every request.

numpy only: this module and everything it imports stay free of pandas / scikit-learn / scipy, because the API
function imports it. Serving classes are named by import path (``"module:Class"``) and imported on first use.
"""

from __future__ import annotations

import importlib
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from luxebrain.adapters import MissingObject, ObjectStore
from luxebrain.errors import NotFoundError
from luxebrain.ml.artifacts import MANIFEST_NAME, ModelArtifact
from luxebrain.ml.kinds import MODEL_KINDS
from luxebrain.observability import logger
from luxebrain.runtime import configured_settings, on_reset

if TYPE_CHECKING:
    from luxebrain.storage.training import ModelPointer, ModelPointers

ARTIFACT_FILE_NAMES: tuple[str, ...] = ("arrays.npz", MANIFEST_NAME)


# ----------------------------------------------------------------------------- where artifacts live
def artifact_prefix(tenant_id: str, kind: str, version: str) -> str:
    """``tenants/{tenant}/models/{kind}/{version}/``: the S3 folder of one model version."""
    from luxebrain.tenancy import validate_tenant_id

    validate_tenant_id(tenant_id)
    return f"tenants/{tenant_id}/models/{kind}/{version}/"


def read_artifact(files: ObjectStore, prefix: str) -> tuple[ModelArtifact, int]:
    """Load the artifact under ``prefix`` from the models bucket, verifying every checksum; returns it and its
    size in bytes."""
    contents: dict[str, bytes] = {}
    for name in ARTIFACT_FILE_NAMES:
        try:
            contents[name] = files.get(prefix + name)
        except MissingObject:
            raise NotFoundError(f"model artifact file {prefix}{name} is missing") from None
    return ModelArtifact.from_files(contents), sum(len(content) for content in contents.values())


# ----------------------------------------------------------------------------- kinds the API can serve
@dataclass(frozen=True)
class ServingKind:
    kind: str
    serving_class: str  # "module:Class" with a ``from_artifact(artifact)`` constructor (numpy only)


# The product kinds come from the table of kinds; register_serving_kind adds others (tests, experiments).
_SERVING_KINDS: dict[str, ServingKind] = {
    spec.kind: ServingKind(spec.kind, spec.serving_class) for spec in MODEL_KINDS.values()
}


def register_serving_kind(kind: str, serving_class: str) -> None:
    """Name the numpy-only class that serves ``kind`` (imported lazily, on first use)."""
    _SERVING_KINDS[kind] = ServingKind(kind, serving_class)


def serving_kinds() -> dict[str, ServingKind]:
    return dict(_SERVING_KINDS)


def build_serving_model(artifact: ModelArtifact) -> Any:
    """The serving object of an artifact (raises if the artifact does not pass the class's own checks); the
    artifact itself when no serving class is registered for its kind."""
    spec = _SERVING_KINDS.get(artifact.kind)
    if spec is None:
        return artifact
    module_name, _, class_name = spec.serving_class.partition(":")
    serving_class = getattr(importlib.import_module(module_name), class_name)
    factory: Callable[[ModelArtifact], Any] = getattr(serving_class, "from_artifact", serving_class)
    return factory(artifact)


# ----------------------------------------------------------------------------- the cache
@dataclass
class _Entry:
    artifact: ModelArtifact
    version: str
    size_bytes: int
    checked_at: float  # monotonic seconds of the last pointer check
    serving: Any = None


class ModelCache:
    """An LRU of loaded artifacts across tenants, bounded by entry count and total bytes.

    Current versions are read from ``pointers`` (the training repository), artifacts from ``files``; ``clock`` is
    injectable so tests can move time.
    """

    def __init__(
        self,
        *,
        pointers: ModelPointers,
        files: ObjectStore,
        max_entries: int,
        max_bytes: int,
        check_interval_seconds: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.pointers = pointers
        self.files = files
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self.check_interval_seconds = check_interval_seconds
        self.clock = clock
        self._entries: OrderedDict[tuple[str, str], _Entry] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self.stats = {"hits": 0, "loads": 0, "pointer_checks": 0, "evictions": 0}

    def _entry(self, tenant_id: str, kind: str) -> _Entry:
        key = (tenant_id, kind)
        now = self.clock()
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                self._entries.move_to_end(key)
                if now - entry.checked_at < self.check_interval_seconds:
                    self.stats["hits"] += 1
                    return entry
        # A pointer check (and a load when the version moved) happens outside the lock: S3 is slow.
        self.stats["pointer_checks"] += 1
        try:
            pointers = self.pointers.current_pointers(tenant_id)
        except Exception:
            if entry is None:
                raise
            # The version check failed (throttling, a network blip): keep serving what is loaded, check later.
            logger.warning("model version check failed; serving the cached version", exc_info=True)
            entry.checked_at = now
            return entry
        self._mark_checked(tenant_id, pointers, now)  # one read answers for every kind of the tenant
        pointer = pointers.get(kind)
        if pointer is None:
            self.forget(tenant_id, kind)
            raise NotFoundError(f"no {kind} model has been trained for this tenant yet")
        if entry is not None and entry.version == pointer.version:
            entry.checked_at = now
            return entry
        try:
            artifact, size = read_artifact(self.files, pointer.artifact_prefix)
        except Exception:
            if entry is None:
                raise
            # A new version that does not load (checksum, missing file) never replaces a working one.
            logger.error("new model version failed to load; serving the cached one", exc_info=True)
            entry.checked_at = now
            return entry
        self.stats["loads"] += 1
        fresh = _Entry(artifact, pointer.version, size, now)
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self._bytes -= old.size_bytes
            self._entries[key] = fresh
            self._bytes += size
            self._evict()
        return fresh

    def _mark_checked(self, tenant_id: str, pointers: dict[str, ModelPointer], now: float) -> None:
        with self._lock:
            for (cached_tenant, cached_kind), entry in self._entries.items():
                pointer = pointers.get(cached_kind)
                if cached_tenant == tenant_id and pointer is not None and pointer.version == entry.version:
                    entry.checked_at = now

    def _evict(self) -> None:
        # The newest entry stays even when it alone exceeds the byte bound: it is being served.
        while len(self._entries) > 1 and (len(self._entries) > self.max_entries or self._bytes > self.max_bytes):
            _, evicted = self._entries.popitem(last=False)
            self._bytes -= evicted.size_bytes
            self.stats["evictions"] += 1

    def current_model(self, tenant_id: str, kind: str) -> tuple[ModelArtifact, str]:
        entry = self._entry(tenant_id, kind)
        return entry.artifact, entry.version

    def current_serving(self, tenant_id: str, kind: str) -> tuple[Any, str]:
        entry = self._entry(tenant_id, kind)
        if entry.serving is None:
            entry.serving = build_serving_model(entry.artifact)  # built once per loaded version
        return entry.serving, entry.version

    def forget(self, tenant_id: str, kind: str) -> None:
        with self._lock:
            old = self._entries.pop((tenant_id, kind), None)
            if old is not None:
                self._bytes -= old.size_bytes

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._bytes = 0

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def size_bytes(self) -> int:
        return self._bytes


_cache: ModelCache | None = None


def model_cache() -> ModelCache:
    """The container's cache, sized from settings on first use, reading the product's training repository and
    models bucket."""
    global _cache
    if _cache is None:
        settings = configured_settings()
        from luxebrain.adapters.aws import models_bucket
        from luxebrain.storage.training import training_repository

        _cache = ModelCache(
            pointers=training_repository(),
            files=models_bucket(),
            max_entries=settings.serving_cache_max_entries,
            max_bytes=settings.serving_cache_max_bytes,
            check_interval_seconds=settings.serving_version_check_seconds,
        )
    return _cache


def _reset_cache() -> None:
    global _cache
    _cache = None


on_reset(_reset_cache)


def current_model(tenant_id: str, kind: str) -> tuple[ModelArtifact, str]:
    """The artifact of ``kind`` currently serving ``tenant_id`` and its version (NotFoundError if none)."""
    return model_cache().current_model(tenant_id, kind)


def current_serving(tenant_id: str, kind: str) -> tuple[Any, str]:
    """The numpy serving object (e.g. ``Recommender``) of the current ``kind`` model and its version."""
    return model_cache().current_serving(tenant_id, kind)

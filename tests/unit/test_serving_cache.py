"""The serving cache without AWS: LRU bounds across tenants, the once-a-minute version check, resilience when a
check or a new version fails, and that the module stays numpy-only."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from fakes import InMemoryObjectStore, InMemoryTrainingRepository

from luxebrain.errors import NotFoundError
from luxebrain.ml.artifacts import MANIFEST_NAME, ArtifactError, ModelArtifact
from luxebrain.serving.loader import ModelCache, build_serving_model
from luxebrain.storage.training import ModelPointer

REPO = Path(__file__).resolve().parents[2]


class FakeStore:
    """Pointers in the in-memory training repository, artifact files in the in-memory bucket; the cache is given
    this as its pointer source, which counts the reads and can fail like the table."""

    def __init__(self) -> None:
        self.training = InMemoryTrainingRepository()
        self.files = InMemoryObjectStore()
        self.pointer_reads = 0
        self.fail_pointer = False

    def publish(self, tenant: str, kind: str, version: str, size: int = 10) -> None:
        prefix = f"tenants/{tenant}/models/{kind}/{version}/"
        artifact = ModelArtifact(kind, {"values": np.arange(size, dtype=np.float64)})
        for name, content in artifact.to_files().items():
            self.files.put(prefix + name, content)
        current = self.training.get_pointer(tenant, kind)
        self.training.switch_pointer(
            tenant,
            kind,
            expected_version=current.version if current else None,
            version=version,
            artifact_prefix=prefix,
            run_id="run",
            holdout_metric=None,
            now=datetime(2026, 11, 26, tzinfo=UTC),
        )

    @property
    def pointers(self) -> dict[tuple[str, str], ModelPointer]:
        return self.training.pointers

    @property
    def artifact_reads(self) -> int:
        return sum(1 for call in self.files.calls if call.startswith("get ") and call.endswith(MANIFEST_NAME))

    def current_pointers(self, tenant: str) -> dict[str, ModelPointer]:
        self.pointer_reads += 1
        if self.fail_pointer:
            raise ConnectionError("DynamoDB unreachable")
        return self.training.current_pointers(tenant)


def cache_for(store: FakeStore, clock: list[float], **bounds: int) -> ModelCache:
    return ModelCache(
        max_entries=bounds.get("max_entries", 10),
        max_bytes=bounds.get("max_bytes", 10_000_000),
        check_interval_seconds=60,
        clock=lambda: clock[0],
        pointers=store,
        files=store.files,
    )


def test_a_warm_read_touches_neither_dynamodb_nor_s3() -> None:
    # Given a loaded model
    store, clock = FakeStore(), [0.0]
    store.publish("t-aaaa", "recommend", "v1")
    cache = cache_for(store, clock)
    cache.current_model("t-aaaa", "recommend")
    # When it is read again within the minute
    clock[0] = 59.0
    _, version = cache.current_model("t-aaaa", "recommend")
    # Then it is served from memory
    assert version == "v1" and (store.pointer_reads, store.artifact_reads) == (1, 1)


def test_a_new_version_is_picked_up_after_the_check_interval_and_loaded_once() -> None:
    store, clock = FakeStore(), [0.0]
    store.publish("t-aaaa", "recommend", "v1")
    cache = cache_for(store, clock)
    cache.current_model("t-aaaa", "recommend")
    # Given version 2 promoted, when 61 s have passed
    store.publish("t-aaaa", "recommend", "v2")
    clock[0] = 61.0
    # Then the next read serves version 2, and an unchanged pointer later costs one read, no load
    assert cache.current_model("t-aaaa", "recommend")[1] == "v2"
    clock[0] = 122.0
    assert cache.current_model("t-aaaa", "recommend")[1] == "v2"
    assert (store.pointer_reads, store.artifact_reads) == (3, 2)


def test_lru_evicts_the_least_recently_used_tenant_by_count_and_by_bytes() -> None:
    store, clock = FakeStore(), [0.0]
    for tenant in ("t-aaaa", "t-bbbb", "t-cccc"):
        store.publish(tenant, "recommend", "v1", size=1000)
    cache = cache_for(store, clock, max_entries=2)
    cache.current_model("t-aaaa", "recommend")
    cache.current_model("t-bbbb", "recommend")
    cache.current_model("t-aaaa", "recommend")  # a is now the most recent
    # When a third tenant is loaded into a two-entry cache, then b (least recent) is evicted
    cache.current_model("t-cccc", "recommend")
    assert len(cache) == 2 and cache.stats["evictions"] == 1
    reads = store.artifact_reads
    cache.current_model("t-aaaa", "recommend")
    assert store.artifact_reads == reads  # a is still cached
    # and a byte bound smaller than two artifacts keeps only the newest
    one_size = cache.size_bytes // 2
    small = cache_for(store, clock, max_bytes=one_size + 10)
    small.current_model("t-aaaa", "recommend")
    small.current_model("t-bbbb", "recommend")
    assert len(small) == 1 and small.size_bytes <= one_size + 10


def test_a_failed_version_check_keeps_serving_the_cached_model() -> None:
    store, clock = FakeStore(), [0.0]
    store.publish("t-aaaa", "customers", "v1")
    cache = cache_for(store, clock)
    cache.current_model("t-aaaa", "customers")
    # When DynamoDB is unreachable at the next check
    store.fail_pointer, clock[0] = True, 61.0
    # Then the cached version still answers; a tenant never loaded gets the error
    assert cache.current_model("t-aaaa", "customers")[1] == "v1"
    with pytest.raises(ConnectionError):
        cache.current_model("t-bbbb", "customers")


def test_a_new_version_that_fails_its_checksum_never_replaces_the_working_one() -> None:
    store, clock = FakeStore(), [0.0]
    store.publish("t-aaaa", "forecast", "v1")
    cache = cache_for(store, clock)
    cache.current_model("t-aaaa", "forecast")
    # Given version 2 whose arrays were altered after its manifest was written
    store.publish("t-aaaa", "forecast", "v2")
    prefix = store.pointers[("t-aaaa", "forecast")].artifact_prefix
    tampered = bytearray(store.files.get(prefix + "arrays.npz"))
    tampered[len(tampered) // 2] ^= 0xFF
    store.files.put(prefix + "arrays.npz", bytes(tampered))
    clock[0] = 61.0
    # Then version 1 keeps serving, and a cold cache refuses version 2 outright
    assert cache.current_model("t-aaaa", "forecast")[1] == "v1"
    with pytest.raises(ArtifactError, match="checksum mismatch"):
        cache_for(store, clock).current_model("t-aaaa", "forecast")


def test_no_model_yet_is_not_found() -> None:
    with pytest.raises(NotFoundError, match="no pricing model has been trained"):
        cache_for(FakeStore(), [0.0]).current_model("t-aaaa", "pricing")


def test_unregistered_kinds_are_served_as_their_artifact() -> None:
    artifact = ModelArtifact("experimental", {"x": np.zeros(2)})
    assert build_serving_model(artifact) is artifact


def test_serving_imports_numpy_only() -> None:
    # Given a fresh interpreter, when the serving module is imported, then no ML-layer package is loaded
    code = (
        "import sys, luxebrain.serving.loader; print([m for m in ('pandas', 'sklearn', 'scipy') if m in sys.modules])"
    )
    result = subprocess.run(  # noqa: S603 (our interpreter, a fixed command)
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip() == "[]", result.stderr


def test_one_version_check_answers_for_every_kind_of_a_tenant() -> None:
    # Given two kinds of one tenant loaded
    store, clock = FakeStore(), [0.0]
    store.publish("t-aaaa", "recommend", "v1")
    store.publish("t-aaaa", "customers", "v1")
    cache = cache_for(store, clock)
    cache.current_model("t-aaaa", "recommend")
    cache.current_model("t-aaaa", "customers")
    reads = store.pointer_reads
    # When the minute has passed and both are read, then one pointer read served both checks
    clock[0] = 61.0
    cache.current_model("t-aaaa", "recommend")
    cache.current_model("t-aaaa", "customers")
    assert store.pointer_reads == reads + 1

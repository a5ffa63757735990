"""The in-memory bucket of tests/fakes.py behaves as the S3 adapter on the embedded AWS's versioned models
bucket: the same checks pass on both, so a unit test that passes on the fake says something about S3."""

from __future__ import annotations

import secrets

import pytest
from fakes import InMemoryObjectStore

from luxebrain.adapters import MissingObject, ObjectStore
from luxebrain.adapters.aws import models_bucket
from luxebrain_dev.local.embedded import LocalResources


@pytest.fixture(params=["in-memory", "s3"])
def files(request: pytest.FixtureRequest, local_aws: LocalResources) -> ObjectStore:
    return InMemoryObjectStore() if request.param == "in-memory" else models_bucket()


@pytest.fixture
def prefix() -> str:
    return f"contract/{secrets.token_hex(6)}/"


def test_a_put_is_read_back_and_a_missing_key_is_missing(files: ObjectStore, prefix: str) -> None:
    files.put(prefix + "a.json", b"{}", content_type="application/json")
    files.put(prefix + "a.json", b'{"v": 2}')
    assert files.get(prefix + "a.json") == b'{"v": 2}' and files.exists(prefix + "a.json")
    with pytest.raises(MissingObject):
        files.get(prefix + "none")
    assert not files.exists(prefix + "none")


def test_listing_is_by_prefix_in_key_order_with_sizes_and_folders(files: ObjectStore, prefix: str) -> None:
    for key in ("v2/arrays.npz", "v1/arrays.npz", "v1/manifest.json", "top.json"):
        files.put(prefix + key, key.encode())
    files.put(prefix.rstrip("/") + "-neighbour/x", b"x")
    assert [(o.key[len(prefix) :], o.size) for o in files.objects(prefix)] == [
        ("top.json", 8),
        ("v1/arrays.npz", 13),
        ("v1/manifest.json", 16),
        ("v2/arrays.npz", 13),
    ]
    assert files.folders(prefix) == ["v1", "v2"]


def test_a_delete_keeps_the_versions_until_they_are_deleted(files: ObjectStore, prefix: str) -> None:
    files.put(prefix + "a", b"1")
    files.put(prefix + "a", b"2")
    files.put(prefix + "b", b"3")
    files.delete(prefix + "a")
    files.delete_many([prefix + "b"])
    assert not files.exists(prefix + "a") and list(files.objects(prefix)) == []
    versions = list(files.versions(prefix))
    assert sorted(v.key[len(prefix) :] for v in versions) == ["a", "a", "a", "b", "b"]  # with delete markers
    files.delete_versions(versions)
    assert list(files.versions(prefix)) == []

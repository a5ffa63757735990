"""The privacy package's files, through the ObjectStore protocol with the in-memory bucket: an export written
and read back, an expired one, every version of a prefix deleted, model files that still name a customer."""

from __future__ import annotations

import pytest
from fakes import InMemoryObjectStore

from luxebrain.errors import NotFoundError
from luxebrain.privacy.erasure import artifacts_naming
from luxebrain.privacy.export import export_key, read_export, write_export
from luxebrain.privacy.files import delete_every_version

TENANT = "t-0123456789ab"


def test_an_export_is_written_as_json_under_the_tenants_exports_and_read_back() -> None:
    files = InMemoryObjectStore()
    exported = {"tenant_id": TENANT, "customer_id": "c1", "records": {"customer": [{"email": "léa@example.com"}]}}
    key = write_export(files, TENANT, "pj-1", exported)
    assert key == export_key(TENANT, "pj-1") == f"privacy-exports/{TENANT}/pj-1.json"
    assert files.content_type(key) == "application/json"
    assert "léa".encode() in files.get(key)  # not escaped: the customer reads the file
    assert read_export(files, key) == exported


def test_an_expired_export_is_a_not_found_that_says_how_long_exports_are_kept() -> None:
    with pytest.raises(NotFoundError, match="kept 7 days"):
        read_export(InMemoryObjectStore(), f"privacy-exports/{TENANT}/pj-gone.json")


def test_every_version_under_a_prefix_is_deleted_and_nothing_beside_it() -> None:
    # Given a versioned bucket with two versions and a delete marker under the prefix, and a neighbour
    files = InMemoryObjectStore()
    files.put(f"tenants/{TENANT}/a.json", b"1")
    files.put(f"tenants/{TENANT}/a.json", b"2")
    files.put(f"tenants/{TENANT}/b.json", b"3")
    files.delete(f"tenants/{TENANT}/b.json")
    files.put("tenants/t-999999999999/a.json", b"other")
    # When every version of the tenant's prefix is deleted
    deleted = delete_every_version(files, f"tenants/{TENANT}/")
    # Then the count includes the old version and the delete marker, and the other tenant's file stays
    assert deleted == 4
    assert list(files.versions(f"tenants/{TENANT}/")) == []
    assert files.keys() == ["tenants/t-999999999999/a.json"]


def test_model_files_naming_the_customer_are_listed_and_other_tenants_are_not_read() -> None:
    files = InMemoryObjectStore()
    files.put(f"tenants/{TENANT}/models/customers/v1/arrays.npz", b"...c-42...")
    files.put(f"tenants/{TENANT}/models/forecast/v1/arrays.npz", b"no ids here")
    files.put("tenants/t-999999999999/models/customers/v1/arrays.npz", b"c-42")
    assert artifacts_naming(files, TENANT, "c-42") == [f"tenants/{TENANT}/models/customers/v1/arrays.npz"]
    assert artifacts_naming(files, TENANT, "c-7") == []

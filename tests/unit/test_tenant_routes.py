"""The routes that read tenants and stores, over the in-memory tenants repository (the API's ``Tenants``
dependency overridden; the caller's identity too, since verifying a token reads the pool's keys)."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fakes import InMemoryTenantRepository
from fastapi.testclient import TestClient

from luxebrain.auth.principal import Principal, Role
from luxebrain.storage.tenants import Store

FUNCTIONS = str(Path(__file__).resolve().parents[2] / "functions")


@pytest.fixture
def tenants(local_settings: Callable[..., None]) -> InMemoryTenantRepository:
    local_settings()
    return InMemoryTenantRepository()


@pytest.fixture
def calling_as(tenants: InMemoryTenantRepository) -> Iterator[Callable[[Principal], TestClient]]:
    if FUNCTIONS not in sys.path:
        sys.path.append(FUNCTIONS)
    from api import dependencies
    from api.app import app

    def client_for(principal: Principal) -> TestClient:
        async def as_principal() -> Principal:
            return principal

        app.dependency_overrides[dependencies.current_principal] = as_principal
        return TestClient(app)

    app.dependency_overrides[dependencies.tenants_repository] = lambda: tenants
    yield client_for
    app.dependency_overrides.clear()


def test_the_admin_directory_filters_by_status_in_pages(
    tenants: InMemoryTenantRepository, calling_as: Callable[[Principal], TestClient]
) -> None:
    active = [tenants.create_tenant(f"Shop {n}").tenant_id for n in range(3)]
    suspended = tenants.create_tenant("Closed shop").tenant_id
    tenants.set_tenant_status(suspended, "suspended")
    client = calling_as(Principal(subject="ops", role=Role.ADMIN))
    only = client.get("/admin/tenants", params={"status": "suspended"}).json()
    assert [t["tenant_id"] for t in only["items"]] == [suspended] and only["next_cursor"] is None
    first = client.get("/admin/tenants", params={"status": "active", "limit": 2}).json()
    rest = client.get("/admin/tenants", params={"status": "active", "cursor": first["next_cursor"]}).json()
    assert [t["tenant_id"] for t in first["items"] + rest["items"]] == active
    # Tenant members are refused the directory
    member = calling_as(Principal(subject="u1", role=Role.OWNER, tenant_id=active[0]))
    assert member.get("/admin/tenants").status_code == 403


def test_a_member_reads_the_stores_of_their_own_tenant_only(
    tenants: InMemoryTenantRepository, calling_as: Callable[[Principal], TestClient]
) -> None:
    ours, theirs = tenants.create_tenant("Ours").tenant_id, tenants.create_tenant("Theirs").tenant_id
    for tenant_id, store_id in ((ours, "s-a"), (ours, "s-b"), (theirs, "s-x")):
        tenants.add_store(
            Store(tenant_id, store_id, f"https://{store_id}.example", "EUR", "UTC", "active", datetime.now(UTC))
        )
    client = calling_as(Principal(subject="u1", role=Role.READ_ONLY, tenant_id=ours))
    listed = client.get("/stores").json()
    assert [s["store_id"] for s in listed["items"]] == ["s-a", "s-b"]
    assert client.get("/stores/s-b").json()["url"] == "https://s-b.example"
    assert client.get("/stores/s-x").status_code == 404  # another tenant's store is not found here


def test_sign_ups_from_one_address_are_limited_per_hour(tenants: InMemoryTenantRepository) -> None:
    from luxebrain.auth.accounts import SIGN_UPS_PER_ADDRESS_PER_HOUR, TooManyAttemptsError, limit_sign_ups

    for _ in range(SIGN_UPS_PER_ADDRESS_PER_HOUR):
        limit_sign_ups("203.0.113.7", tenants=tenants)
    with pytest.raises(TooManyAttemptsError) as refused:
        limit_sign_ups("203.0.113.7", tenants=tenants)
    assert 1 <= refused.value.retry_after <= 3600
    limit_sign_ups("198.51.100.1", tenants=tenants)  # another address is not refused
    # The address is kept hashed, never as sent
    assert not any("203.0.113.7" in counter for counter in tenants.sign_ups)

"""Connecting a store (wc-auth) over the in-memory tenants repository (held to the table by
tests/integration/test_tenant_repository_contract.py): the state is consumed once, a retried callback finds the
same store, another key on a used state is refused, and a reconnect replaces the keys without metering a store.
No network."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import parse_qs, urlsplit

import pytest
from fakes import InMemoryKeyVault, InMemoryTenantRepository

from luxebrain.billing.usage import PlanUsage
from luxebrain.errors import ConflictError
from luxebrain.woocommerce.connection import ConnectionCallback, complete_connection, register_store, start_connection


@pytest.fixture(autouse=True)
def _local(local_settings: Callable[..., None]) -> None:
    # the callback and return URLs come from the settings
    local_settings(
        LUXEBRAIN_INGEST_API_URL="https://ingest.luxebrain.test", LUXEBRAIN_DASHBOARD_URL="https://app.luxebrain.test"
    )


def _callback(user_id: str, key_id: int = 11, key: str = "a") -> ConnectionCallback:
    return ConnectionCallback(
        key_id=key_id,
        user_id=user_id,
        consumer_key="ck_" + key * 40,
        consumer_secret="cs_" + key * 40,
        key_permissions="read_write",
    )


def _state(url: str, tenants: InMemoryTenantRepository, tenant_id: str) -> tuple[str, str]:
    started = start_connection(tenant_id, url, tenants=tenants)
    return started.store_id, parse_qs(urlsplit(started.authorize_url).query)["user_id"][0]


def test_a_callback_creates_the_store_once_and_a_replayed_state_is_refused() -> None:
    tenants, vault = InMemoryTenantRepository(), InMemoryKeyVault()
    tenant_id = tenants.create_tenant("Maison Connect").tenant_id
    store_id, user_id = _state("https://shop.example", tenants, tenant_id)
    first = complete_connection(_callback(user_id), vault=vault, tenants=tenants, usage=PlanUsage(tenants))
    again = complete_connection(
        _callback(user_id), vault=vault, tenants=tenants, usage=PlanUsage(tenants)
    )  # WooCommerce retries
    assert (first.store_id, first.created, again.store_id, again.created) == (store_id, True, store_id, False)
    assert [store.store_id for store in tenants.list_stores(tenant_id)] == [store_id]
    assert tenants.usage_of(tenant_id, "stores", "held") == 1
    assert [connection.status for connection in tenants.connections.values()] == ["connected"]
    with pytest.raises(ConflictError):
        complete_connection(
            _callback(user_id, key_id=12, key="b"), vault=vault, tenants=tenants, usage=PlanUsage(tenants)
        )


def test_a_reconnect_keeps_the_store_and_its_webhook_secret_and_meters_nothing() -> None:
    tenants, vault = InMemoryTenantRepository(), InMemoryKeyVault()
    tenant_id = tenants.create_tenant("Maison Reconnect").tenant_id
    kept, issued = register_store(
        tenant_id,
        tenants=tenants,
        usage=PlanUsage(tenants),
        vault=vault,
        url="https://one.example",
        consumer_key="ck_1",
        consumer_secret="cs_1",
    )
    register_store(
        tenant_id,
        tenants=tenants,
        usage=PlanUsage(tenants),
        vault=vault,
        url="https://two.example",
        consumer_key="ck_2",
        consumer_secret="cs_2",
    )
    assert tenants.usage_of(tenant_id, "stores", "held") == 2  # the free plan's cap
    store_id, user_id = _state("https://one.example", tenants, tenant_id)
    assert store_id == kept.store_id
    assert (
        complete_connection(_callback(user_id), vault=vault, tenants=tenants, usage=PlanUsage(tenants)).created is False
    )
    keys = tenants.get_store_secrets(tenant_id, kept.store_id, vault=vault)
    assert keys.webhook_secret == issued.webhook_secret and keys.consumer_key.get_secret_value() == "ck_" + "a" * 40
    assert tenants.usage_of(tenant_id, "stores", "held") == 2

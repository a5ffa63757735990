"""The in-memory tenants repository of tests/fakes.py behaves as the DynamoDB one on the embedded AWS, for what
``storage.tenants.TenantRepository`` covers (what the API's routes and the product modules read and write through
it): the same checks pass on both."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from fakes import InMemoryTenantRepository
from pydantic import SecretStr

from luxebrain.adapters.aws import secrets_vault
from luxebrain.errors import ConflictError, NotFoundError
from luxebrain.storage.tenants import DynamoTenantRepository, Store, StoreSecrets, TenantRepository, create_store
from luxebrain.tenancy import new_tenant_id
from luxebrain_dev.local.embedded import LocalResources

AddStore = Callable[[str, str], Store]


@pytest.fixture(params=["in-memory", "dynamodb"])
def repository(request: pytest.FixtureRequest, local_aws: LocalResources) -> tuple[TenantRepository, AddStore]:
    if request.param == "in-memory":
        fake = InMemoryTenantRepository()

        def add_to_fake(tenant_id: str, store_id: str) -> Store:
            return fake.add_store(
                Store(tenant_id, store_id, "https://shop.example", "EUR", "UTC", "active", datetime.now(UTC)),
                StoreSecrets(
                    webhook_secret=SecretStr("whs"), consumer_key=SecretStr("ck"), consumer_secret=SecretStr("cs")
                ),
            )

        return fake, add_to_fake

    def add_to_table(tenant_id: str, store_id: str) -> Store:
        store, _ = create_store(
            tenant_id,
            vault=secrets_vault(),
            url="https://shop.example",
            consumer_key="ck",
            consumer_secret="cs",
            store_id=store_id,
        )
        return store

    return DynamoTenantRepository(), add_to_table


def test_a_tenant_is_created_once_read_and_its_settings_changed(
    repository: tuple[TenantRepository, AddStore],
) -> None:
    tenants, _ = repository
    tenant_id = new_tenant_id()
    with pytest.raises(NotFoundError):
        tenants.get_tenant(tenant_id)
    created = tenants.create_tenant("Maison Test", tenant_id=tenant_id)
    assert (created.tenant_id, created.name, created.plan, created.status, created.settings) == (
        tenant_id,
        "Maison Test",
        "free",
        "active",
        {},
    )
    with pytest.raises(ConflictError):
        tenants.create_tenant("Again", tenant_id=tenant_id)
    assert tenants.get_tenant(tenant_id) == created
    changed = tenants.update_tenant_settings(tenant_id, lambda current: {**current, "currency": "CHF"})
    assert changed.settings == {"currency": "CHF"} and changed.name == "Maison Test"
    renamed = tenants.update_tenant_settings(tenant_id, lambda current: {**current, "a": 1}, name="Maison Neuve")
    assert renamed.settings == {"currency": "CHF", "a": 1} and renamed.name == "Maison Neuve"
    assert tenants.get_tenant(tenant_id).settings == {"currency": "CHF", "a": 1}
    with pytest.raises(NotFoundError):
        tenants.update_tenant_settings(new_tenant_id(), lambda current: current)
    tenants.delete_tenant(tenant_id)
    tenants.delete_tenant(tenant_id)  # already gone: not an error
    with pytest.raises(NotFoundError):
        tenants.get_tenant(tenant_id)


def test_a_tenant_s_plan_is_changed(repository: tuple[TenantRepository, AddStore]) -> None:
    tenants, _ = repository
    tenant_id = tenants.create_tenant("Maison Test").tenant_id
    changed = tenants.set_tenant_plan(tenant_id, "growth")
    assert (changed.tenant_id, changed.plan, changed.status) == (tenant_id, "growth", "active")
    assert tenants.get_tenant(tenant_id).plan == "growth"
    with pytest.raises(NotFoundError):
        tenants.set_tenant_plan(new_tenant_id(), "growth")


def test_a_sign_up_counter_admits_its_allowance_then_refuses(repository: tuple[TenantRepository, AddStore]) -> None:
    tenants, _ = repository
    counter, other = f"address#{uuid.uuid4().hex[:24]}#2026-12-02T21", f"address#{uuid.uuid4().hex[:24]}#2026-12-02T21"
    expires = int(time.time()) + 7200
    assert [tenants.count_sign_up(counter, 2, expires_at=expires) for _ in range(4)] == [True, True, False, False]
    assert tenants.count_sign_up(other, 2, expires_at=expires)  # each counter counts alone
    closed = f"address#{uuid.uuid4().hex[:24]}#2026-12-02T21"
    assert not tenants.count_sign_up(closed, 0, expires_at=expires)  # no allowance: not even a first one


def test_the_directory_pages_by_status_then_oldest_first(repository: tuple[TenantRepository, AddStore]) -> None:
    tenants, _ = repository
    ours = [tenants.create_tenant(f"Tenant {n}").tenant_id for n in range(3)]
    tenants.set_tenant_status(ours[1], "suspended")
    assert tenants.get_tenant(ours[1]).status == "suspended"
    with pytest.raises(NotFoundError):
        tenants.set_tenant_status(new_tenant_id(), "suspended")

    def walk(status: str | None) -> list[tuple[str, str]]:
        seen, cursor = [], None
        while True:
            page = tenants.list_tenants(limit=50, cursor=cursor, status=status)
            seen += [(t.status, t.tenant_id) for t in page.items if t.tenant_id in ours]
            if page.next_cursor is None:
                return seen
            cursor = page.next_cursor

    # The table's directory holds every test's tenants: ours are checked in the order they come
    assert walk(None) == [("active", ours[0]), ("active", ours[2]), ("suspended", ours[1])]
    assert walk("suspended") == [("suspended", ours[1])]
    assert walk("active") == [("active", ours[0]), ("active", ours[2])]
    first = tenants.list_tenants(limit=1, status="active")
    assert len(first.items) == 1 and first.next_cursor is not None


def test_a_tenant_s_stores_are_read_one_by_one_and_by_page(repository: tuple[TenantRepository, AddStore]) -> None:
    tenants, add_store = repository
    tenant_id = tenants.create_tenant("Maison Test").tenant_id
    assert tenants.store_page(tenant_id, limit=10).items == []
    for store_id in ("s-b", "s-a", "s-c"):
        add_store(tenant_id, store_id)
    store = tenants.get_store(tenant_id, "s-a")
    assert (store.tenant_id, store.store_id, store.url, store.currency, store.status) == (
        tenant_id,
        "s-a",
        "https://shop.example",
        "EUR",
        "active",
    )
    with pytest.raises(NotFoundError):
        tenants.get_store(tenant_id, "s-z")
    with pytest.raises(NotFoundError):  # another tenant's store id
        tenants.get_store(new_tenant_id(), "s-a")
    first = tenants.store_page(tenant_id, limit=2)
    assert [s.store_id for s in first.items] == ["s-a", "s-b"] and first.next_cursor is not None
    rest = tenants.store_page(tenant_id, limit=2, cursor=first.next_cursor)
    assert [s.store_id for s in rest.items] == ["s-c"] and rest.next_cursor is None


def test_the_directory_is_visited_whole_in_its_order(repository: tuple[TenantRepository, AddStore]) -> None:
    tenants, _ = repository
    ours = [tenants.create_tenant(f"Tenant {n}").tenant_id for n in range(3)]
    tenants.set_tenant_status(ours[0], "suspended")
    # The table's directory holds every test's tenants: ours come by status, then oldest first
    visited = [(t.status, t.tenant_id) for t in tenants.iter_tenants() if t.tenant_id in ours]
    assert visited == [("active", ours[1]), ("active", ours[2]), ("suspended", ours[0])]


def test_a_tenant_s_stores_are_listed_and_their_keys_decrypted(repository: tuple[TenantRepository, AddStore]) -> None:
    tenants, add_store = repository
    tenant_id = tenants.create_tenant("Maison Test").tenant_id
    assert tenants.list_stores(tenant_id) == []
    for store_id in ("s-b", "s-a"):
        add_store(tenant_id, store_id)
    assert [(s.tenant_id, s.store_id, s.url) for s in tenants.list_stores(tenant_id)] == [
        (tenant_id, "s-a", "https://shop.example"),
        (tenant_id, "s-b", "https://shop.example"),
    ]
    assert tenants.list_stores(new_tenant_id()) == []
    keys = tenants.get_store_secrets(tenant_id, "s-a", vault=secrets_vault())
    assert (keys.consumer_key.get_secret_value(), keys.consumer_secret.get_secret_value()) == ("ck", "cs")
    assert keys.webhook_secret.get_secret_value()
    with pytest.raises(NotFoundError):
        tenants.get_store_secrets(tenant_id, "s-z", vault=secrets_vault())
    with pytest.raises(NotFoundError):  # another tenant's store id
        tenants.get_store_secrets(new_tenant_id(), "s-a", vault=secrets_vault())


def test_audit_records_are_paged_newest_first(repository: tuple[TenantRepository, AddStore]) -> None:
    tenants, _ = repository
    tenant_id = tenants.create_tenant("Maison Test").tenant_id
    assert tenants.audit_page(tenant_id, limit=10).items == []
    written = []
    for n in range(3):
        written.append(tenants.record_audit(tenant_id, action=f"act.{n}", actor="admin", details={"n": n}))
        time.sleep(0.002)  # distinct moments: records of the same microsecond have no order
    first = written[0]
    assert (first.action, first.actor, first.reason, first.details) == ("act.0", "admin", None, {"n": 0})
    reasoned = tenants.record_audit(tenant_id, action="act.3", actor="admin", reason="a reason")
    assert (reasoned.reason, reasoned.details) == ("a reason", {})
    page = tenants.audit_page(tenant_id, limit=2)
    assert [r.action for r in page.items] == ["act.3", "act.2"] and page.next_cursor is not None
    rest = tenants.audit_page(tenant_id, limit=2, cursor=page.next_cursor)
    assert [r.action for r in rest.items] == ["act.1", "act.0"]
    assert rest.items[1] == first
    assert tenants.audit_page(new_tenant_id(), limit=10).items == []


def test_a_store_s_last_event_stamp_only_moves_forward(repository: tuple[TenantRepository, AddStore]) -> None:
    tenants, add_store = repository
    tenant_id = new_tenant_id()
    assert tenants.stamp_store_last_event(tenant_id, "s-gone", "2026-12-02T10:00:00Z") is False  # no such store
    add_store(tenant_id, "s-shop")
    assert tenants.get_store(tenant_id, "s-shop").last_event_at is None
    assert tenants.stamp_store_last_event(tenant_id, "s-shop", "2026-12-02T10:00:00Z") is True
    assert tenants.stamp_store_last_event(tenant_id, "s-shop", "2026-12-02T09:00:00Z") is False  # older: kept
    assert tenants.stamp_store_last_event(tenant_id, "s-shop", "2026-12-02T10:00:00Z") is False  # the same: kept
    assert tenants.get_store(tenant_id, "s-shop").last_event_at == "2026-12-02T10:00:00Z"
    assert tenants.stamp_store_last_event(tenant_id, "s-shop", "2026-12-02T11:00:00Z") is True
    assert tenants.get_store(tenant_id, "s-shop").last_event_at == "2026-12-02T11:00:00Z"


def test_a_usage_counter_adds_within_its_allowance_and_gives_back_never_below_zero(
    repository: tuple[TenantRepository, AddStore],
) -> None:
    tenants, _ = repository
    tenant_id = new_tenant_id()
    assert tenants.usage_of(tenant_id, "events", "2026-12") == 0
    assert tenants.add_usage_within(tenant_id, "events", "2026-12", 4, 3) is None  # more than allowed at once
    assert tenants.add_usage_within(tenant_id, "events", "2026-12", 2, 3, expires_at=int(time.time()) + 60) == 2
    assert tenants.add_usage_within(tenant_id, "events", "2026-12", 2, 3) is None  # would pass the allowance
    assert tenants.add_usage_within(tenant_id, "events", "2026-12", 1, 3) == 3
    tenants.subtract_usage(tenant_id, "events", "2026-12", 5)  # holds less: nothing happens
    assert tenants.usage_of(tenant_id, "events", "2026-12") == 3
    tenants.subtract_usage(tenant_id, "events", "2026-12", 2)
    tenants.subtract_usage(tenant_id, "stores", "held", 1)  # never counted: nothing happens
    assert tenants.usage_counts(tenant_id, [("events", "2026-12"), ("stores", "held"), ("events", "2026-11")]) == {
        ("events", "2026-12"): 1,
        ("stores", "held"): 0,
        ("events", "2026-11"): 0,
    }


def test_a_store_is_created_once_and_its_keys_replaced_under_the_same_webhook_secret(
    repository: tuple[TenantRepository, AddStore],
) -> None:
    tenants, _ = repository
    tenant_id, vault = new_tenant_id(), secrets_vault()
    assert not tenants.store_exists(tenant_id, "s-new")
    store, issued = tenants.create_store(
        tenant_id, vault=vault, url="https://new.example", consumer_key="ck_1", consumer_secret="cs_1", store_id="s-new"
    )
    assert (store.store_id, store.url, store.currency, store.status) == (
        "s-new",
        "https://new.example",
        "EUR",
        "active",
    )
    assert tenants.store_exists(tenant_id, "s-new") and tenants.get_store(tenant_id, "s-new") == store
    assert len(issued.webhook_secret.get_secret_value()) >= 32
    assert tenants.get_store_secrets(tenant_id, "s-new", vault=vault) == issued
    with pytest.raises(ConflictError):  # StoreExistsError
        tenants.create_store(
            tenant_id, vault=vault, url="https://x.example", consumer_key="k", consumer_secret="s", store_id="s-new"
        )
    replaced = tenants.replace_store_keys(tenant_id, "s-new", vault=vault, consumer_key="ck_2", consumer_secret="cs_2")
    assert replaced.status == "active"
    now_held = tenants.get_store_secrets(tenant_id, "s-new", vault=vault)
    assert now_held.webhook_secret == issued.webhook_secret
    assert (now_held.consumer_key.get_secret_value(), now_held.consumer_secret.get_secret_value()) == ("ck_2", "cs_2")
    with pytest.raises(NotFoundError):
        tenants.replace_store_keys(tenant_id, "s-gone", vault=vault, consumer_key="k", consumer_secret="s")


def test_a_store_s_webhook_state_is_recorded_on_it(repository: tuple[TenantRepository, AddStore]) -> None:
    tenants, add_store = repository
    tenant_id = new_tenant_id()
    add_store(tenant_id, "s-shop")
    state = {"topics": {"order.created": {"webhook_id": 7, "status": "active"}}, "checked_at": "2026-12-03T07:00:00"}
    tenants.set_store_webhooks(tenant_id, "s-shop", state)
    assert tenants.get_store(tenant_id, "s-shop").webhooks == state
    with pytest.raises(NotFoundError):
        tenants.set_store_webhooks(tenant_id, "s-gone", state)


def test_a_connection_state_is_claimed_by_one_key_then_marked_connected(
    repository: tuple[TenantRepository, AddStore],
) -> None:
    tenants, _ = repository
    tenant_id, state_hash = new_tenant_id(), uuid.uuid4().hex
    with pytest.raises(NotFoundError):
        tenants.get_store_connection(tenant_id, state_hash)
    assert tenants.claim_store_connection(tenant_id, state_hash, 5) is False  # no such state
    expires = int(time.time()) + 1800
    tenants.open_store_connection(
        tenant_id,
        state_hash,
        url="https://shop.example",
        currency="CHF",
        store_id="s-c",
        created_by="u-1",
        expires_at=expires,
    )
    opened = tenants.get_store_connection(tenant_id, state_hash)
    assert (opened.url, opened.currency, opened.status, opened.store_id, opened.key_id, opened.expires_at) == (
        "https://shop.example",
        "CHF",
        "pending",
        "s-c",
        None,
        expires,
    )
    assert tenants.claim_store_connection(tenant_id, state_hash, 5) is True
    assert tenants.claim_store_connection(tenant_id, state_hash, 5) is True  # the same key again: a retry
    assert tenants.claim_store_connection(tenant_id, state_hash, 6) is False  # another key: a replay
    tenants.mark_store_connected(tenant_id, state_hash, 5, "2026-12-03T07:00:00+00:00")
    connected = tenants.get_store_connection(tenant_id, state_hash)
    assert (connected.status, connected.key_id) == ("connected", 5)


def test_an_existing_connection_state_is_not_opened_again_nor_marked_connected_by_another_key(
    repository: tuple[TenantRepository, AddStore],
) -> None:
    tenants, _ = repository
    tenant_id, state_hash = new_tenant_id(), uuid.uuid4().hex
    opening = {
        "url": "https://shop.example",
        "currency": "EUR",
        "store_id": "s-c",
        "created_by": None,
        "expires_at": int(time.time()) + 1800,
    }
    tenants.open_store_connection(tenant_id, state_hash, **opening)  # type: ignore[arg-type]
    with pytest.raises(ConflictError):
        tenants.open_store_connection(tenant_id, state_hash, **{**opening, "store_id": "s-d"})  # type: ignore[arg-type]
    assert tenants.get_store_connection(tenant_id, state_hash).store_id == "s-c"
    with pytest.raises(ConflictError):  # no key has claimed it yet
        tenants.mark_store_connected(tenant_id, state_hash, 5, "2026-12-03T07:00:00+00:00")
    assert tenants.claim_store_connection(tenant_id, state_hash, 5) is True
    with pytest.raises(ConflictError):  # another key than the one that claimed it
        tenants.mark_store_connected(tenant_id, state_hash, 6, "2026-12-03T07:00:00+00:00")
    assert tenants.get_store_connection(tenant_id, state_hash).status == "pending"
    with pytest.raises(ConflictError):  # no such state
        tenants.mark_store_connected(tenant_id, uuid.uuid4().hex, 5, "2026-12-03T07:00:00+00:00")
    with pytest.raises(NotFoundError):  # and none was left behind
        tenants.get_store_connection(new_tenant_id(), state_hash)


def test_settings_and_audit_details_are_held_as_json(repository: tuple[TenantRepository, AddStore]) -> None:
    tenants, _ = repository
    tenant_id = tenants.create_tenant("Maison Test").tenant_id
    # A tuple comes back a list, a number key a string
    tenants.update_tenant_settings(tenant_id, lambda current: {**current, "ports": (443, 8443), "by_id": {7: "x"}})
    assert tenants.get_tenant(tenant_id).settings == {"ports": [443, 8443], "by_id": {"7": "x"}}
    # A value JSON cannot hold is refused before anything is written
    with pytest.raises(TypeError):
        tenants.update_tenant_settings(tenant_id, lambda current: {**current, "when": datetime.now(UTC)})
    assert tenants.get_tenant(tenant_id).settings == {"ports": [443, 8443], "by_id": {"7": "x"}}
    tenants.record_audit(tenant_id, action="act", actor="admin", details={"ids": ("a", "b")})
    assert tenants.audit_page(tenant_id, limit=10).items[0].details == {"ids": ["a", "b"]}
    with pytest.raises(TypeError):
        tenants.record_audit(tenant_id, action="act.2", actor="admin", details={"ids": {"a"}})
    assert [record.action for record in tenants.audit_page(tenant_id, limit=10).items] == ["act"]


def test_a_store_is_deleted_once_with_its_keys(repository: tuple[TenantRepository, AddStore]) -> None:
    tenants, add_store = repository
    tenant_id = new_tenant_id()
    add_store(tenant_id, "s-shop")
    assert tenants.delete_store(tenant_id, "s-shop") is True
    assert tenants.delete_store(tenant_id, "s-shop") is False  # gone already
    assert not tenants.store_exists(tenant_id, "s-shop") and tenants.list_stores(tenant_id) == []
    with pytest.raises(NotFoundError):
        tenants.get_store_secrets(tenant_id, "s-shop", vault=secrets_vault())

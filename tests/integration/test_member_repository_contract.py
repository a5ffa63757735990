"""The in-memory members repository of tests/fakes.py behaves as the DynamoDB one on the embedded AWS: the same
checks pass on both, so the unit tests of sessions, memberships and storefront keys over the fake
(tests/unit/test_members.py) say something about the table."""

from __future__ import annotations

import time
import uuid

import pytest
from fakes import InMemoryMemberRepository

from luxebrain.errors import NotFoundError
from luxebrain.storage.members import DynamoMemberRepository, MemberRepository
from luxebrain.tenancy import new_tenant_id
from luxebrain_dev.local.embedded import LocalResources


@pytest.fixture(params=["in-memory", "dynamodb"])
def members(request: pytest.FixtureRequest, local_aws: LocalResources) -> MemberRepository:
    return InMemoryMemberRepository() if request.param == "in-memory" else DynamoMemberRepository()


@pytest.fixture
def tenant() -> str:
    return new_tenant_id()


def user() -> str:
    return f"user-{uuid.uuid4().hex[:12]}"  # the user index spans tenants: unique per test


def test_a_membership_is_saved_replaced_listed_and_deleted(members: MemberRepository, tenant: str) -> None:
    lea, sam = sorted([user(), user()])
    assert not members.membership_exists(tenant, lea)
    with pytest.raises(NotFoundError, match="member not found"):
        members.get_membership(tenant, lea)
    saved = members.save_membership(tenant, lea, role="owner", email="lea@shop.example")
    assert (saved.tenant_id, saved.user_sub, saved.role, saved.email) == (tenant, lea, "owner", "lea@shop.example")
    assert members.membership_exists(tenant, lea)
    assert members.get_membership(tenant, lea) == saved
    members.save_membership(tenant, sam, role="staff", email=None)
    # A second save replaces the role (and e-mail)
    members.save_membership(tenant, sam, role="read-only", email="sam@shop.example")
    listed = members.list_memberships(tenant)
    assert [(m.user_sub, m.role, m.email) for m in listed] == [
        (lea, "owner", "lea@shop.example"),
        (sam, "read-only", "sam@shop.example"),
    ]
    assert members.list_memberships(new_tenant_id()) == []
    members.delete_membership(tenant, sam)
    members.delete_membership(tenant, sam)  # already gone: not an error
    assert [m.user_sub for m in members.list_memberships(tenant)] == [lea]
    assert not members.membership_exists(tenant, sam)


def test_a_user_s_membership_is_found_from_the_user_alone(members: MemberRepository, tenant: str) -> None:
    lea = user()
    assert members.membership_of_user(lea) is None
    members.save_membership(tenant, lea, role="staff", email="lea@shop.example")
    found = members.membership_of_user(lea)
    assert found is not None and (found.tenant_id, found.role) == (tenant, "staff")
    members.delete_membership(tenant, lea)
    assert members.membership_of_user(lea) is None


def test_sessions_are_recorded_and_ended_per_user(members: MemberRepository) -> None:
    lea, sam = user(), user()
    expires = int(time.time()) + 3600
    assert members.user_session_started(lea, "origin-1") is None
    assert members.sessions_valid_after(lea) is None
    members.record_user_session(lea, "origin-1", started_ms=1_000, expires_at=expires)
    members.record_user_session(sam, "origin-1", started_ms=2_000, expires_at=expires)
    assert members.user_session_started(lea, "origin-1") == 1_000
    assert members.user_session_started(lea, "origin-2") is None
    members.set_sessions_valid_after(lea, 1_500)
    members.set_sessions_valid_after(lea, 1_600)  # the latest moment counts
    assert members.sessions_valid_after(lea) == 1_600
    assert members.sessions_valid_after(sam) is None
    assert members.user_session_started(lea, "origin-1") == 1_000  # the stamp is not a session


def test_an_impersonation_is_read_back_per_tenant(members: MemberRepository, tenant: str) -> None:
    assert members.get_impersonation(tenant, "s1") is None
    members.record_impersonation(tenant, "s1", admin_sub="ops", role="read-only", reason="ticket 4", expires_at=99)
    session = members.get_impersonation(tenant, "s1")
    assert session is not None
    assert (session.tenant_id, session.session_id, session.admin_sub, session.role, session.reason) == (
        tenant,
        "s1",
        "ops",
        "read-only",
        "ticket 4",
    )
    assert session.expires_at == 99
    assert members.get_impersonation(new_tenant_id(), "s1") is None


def test_a_storefront_key_replaced_keeps_the_previous_hash_until_its_grace(
    members: MemberRepository, tenant: str
) -> None:
    assert members.get_storefront_key(tenant) is None
    members.save_storefront_key(tenant, key_id="sk-1", secret_hash="h1", replacing=None, grace_until=None)
    first = members.get_storefront_key(tenant)
    assert first is not None and (first.key_id, first.secret_hash) == ("sk-1", "h1")
    assert (first.previous_secret_hash, first.previous_valid_until, first.rotated_at) == (None, None, None)
    members.save_storefront_key(tenant, key_id="sk-2", secret_hash="h2", replacing=first, grace_until=1234)
    second = members.get_storefront_key(tenant)
    assert second is not None and (second.key_id, second.secret_hash) == ("sk-2", "h2")
    assert (second.previous_secret_hash, second.previous_valid_until) == ("h1", 1234)
    assert second.created_at == first.created_at and second.rotated_at is not None
    assert members.get_storefront_key(new_tenant_id()) is None

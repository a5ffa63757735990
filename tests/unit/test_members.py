"""Memberships, sessions that end, impersonation and storefront keys over the in-memory members repository
(held to the table by tests/integration/test_member_repository_contract.py): the rules, without the table."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from fakes import InMemoryMemberRepository, InMemoryTenantRepository, InMemoryUserDirectory

from luxebrain.auth import accounts, storefront
from luxebrain.auth.members import (
    membership_of,
    principal_for_impersonation,
    principal_for_user,
    require_member,
    start_impersonation,
)
from luxebrain.auth.principal import PLATFORM_ADMIN_GROUP, AuthKind, Principal, Role
from luxebrain.auth.sessions import end_all_sessions, require_live_session, start_session
from luxebrain.auth.tokens import AccessClaims
from luxebrain.errors import ForbiddenError, NotFoundError, UnauthorizedError

CLIENT = "app-client"


@pytest.fixture(autouse=True)
def settings(local_settings: Callable[..., None]) -> None:
    # Also clears the per-container caches (memberships, session starts, storefront keys).
    local_settings(LUXEBRAIN_USER_POOL_ID="us-east-1_pool", LUXEBRAIN_USER_POOL_CLIENT_ID=CLIENT)


@pytest.fixture
def members() -> InMemoryMemberRepository:
    return InMemoryMemberRepository()


def claims(subject: str, origin_jti: str | None = "origin-1") -> AccessClaims:
    now = int(time.time())
    return AccessClaims(
        subject=subject,
        client_id=CLIENT,
        groups=(),
        issued_at=now,
        expires_at=now + 3600,
        jti="jti",
        origin_jti=origin_jti,
    )


def test_a_session_is_live_until_the_user_s_sessions_end(members: InMemoryMemberRepository) -> None:
    login = claims("user-1")
    start_session(login, sessions=members)
    require_live_session(login, sessions=members)
    end_all_sessions("user-1", sessions=members)
    with pytest.raises(UnauthorizedError, match="this session has ended"):
        require_live_session(login, sessions=members)
    # A login after the end starts a session that works
    time.sleep(0.002)
    again = claims("user-1", "origin-2")
    start_session(again, sessions=members)
    require_live_session(again, sessions=members)


def test_a_token_of_no_recorded_session_is_refused(members: InMemoryMemberRepository) -> None:
    with pytest.raises(UnauthorizedError, match="belongs to no session"):
        require_live_session(claims("user-1"), sessions=members)
    with pytest.raises(UnauthorizedError, match="belongs to no session"):
        require_live_session(claims("user-1", origin_jti=None), sessions=members)
    with pytest.raises(UnauthorizedError, match="without a session id"):
        start_session(claims("user-1", origin_jti=None), sessions=members)


def test_a_password_reset_ends_every_session_of_the_user(members: InMemoryMemberRepository) -> None:
    users = InMemoryUserDirectory()
    sub, _ = users.sign_up(CLIENT, "lea@shop.example", "Pass-word-1", attributes={"email": "lea@shop.example"})
    login = claims(sub)
    start_session(login, sessions=members)
    accounts.forgot_password("lea@shop.example", users=users)
    accounts.confirm_forgot_password(
        "lea@shop.example", users.CONFIRMATION_CODE, "New-pass-word-2", users=users, members=members
    )
    with pytest.raises(UnauthorizedError, match="this session has ended"):
        require_live_session(login, sessions=members)


def test_a_user_acts_in_the_tenant_of_their_membership_with_its_role(members: InMemoryMemberRepository) -> None:
    members.save_membership("t-one", "user-1", role="staff", email="sam@one.example")
    principal = principal_for_user("user-1", groups=(), issued_at=1, members=members)
    assert (principal.tenant_id, principal.role, principal.email) == ("t-one", Role.STAFF, "sam@one.example")
    assert require_member("t-one", "user-1", members=members).role == "staff"
    with pytest.raises(NotFoundError):  # another tenant's user is not found here
        require_member("t-two", "user-1", members=members)
    with pytest.raises(ForbiddenError, match="belongs to no tenant"):
        principal_for_user("user-2", groups=(), issued_at=1, members=members)
    # Platform admins are known by their group, never by a membership
    admin = principal_for_user("ops", groups=(PLATFORM_ADMIN_GROUP,), issued_at=1, members=members)
    assert admin.is_platform_admin and admin.tenant_id is None


def test_a_membership_is_read_once_per_cache_window(members: InMemoryMemberRepository) -> None:
    members.save_membership("t-one", "user-1", role="owner", email=None)
    for _ in range(3):
        assert membership_of("user-1", members=members) is not None
    assert members.reads == 1


def test_an_impersonation_session_belongs_to_its_admin_and_expires(members: InMemoryMemberRepository) -> None:
    admin = Principal(subject="ops", role=Role.ADMIN)
    members.record_impersonation(
        "t-one", "s1", admin_sub="ops", role="read-only", reason="support ticket", expires_at=int(time.time()) + 60
    )
    principal = principal_for_impersonation(admin, "t-one.s1", members=members)
    assert (principal.kind, principal.tenant_id, principal.role) == (AuthKind.IMPERSONATION, "t-one", Role.READ_ONLY)
    with pytest.raises(UnauthorizedError):  # another admin's session
        principal_for_impersonation(Principal(subject="other", role=Role.ADMIN), "t-one.s1", members=members)
    with pytest.raises(UnauthorizedError):  # a session of another tenant
        principal_for_impersonation(admin, "t-two.s1", members=members)
    members.record_impersonation(
        "t-one", "s2", admin_sub="ops", role="staff", reason="support ticket", expires_at=int(time.time()) - 1
    )
    with pytest.raises(UnauthorizedError, match="has expired"):
        principal_for_impersonation(admin, "t-one.s2", members=members)
    with pytest.raises(ForbiddenError):  # a tenant user cannot use a session token at all
        principal_for_impersonation(
            Principal(subject="ops", role=Role.OWNER, tenant_id="t-one"), "t-one.s1", members=members
        )


def test_an_impersonation_is_of_a_known_tenant_and_audited_there(members: InMemoryMemberRepository) -> None:
    admin = Principal(subject="ops", role=Role.ADMIN)
    tenants = InMemoryTenantRepository()
    tenant_id = tenants.create_tenant("Maison Test").tenant_id
    with pytest.raises(NotFoundError):
        start_impersonation(admin, "t-unknown", reason="support ticket", members=members, tenants=tenants)
    token = start_impersonation(admin, tenant_id, reason="support ticket", members=members, tenants=tenants)
    principal = principal_for_impersonation(admin, token, members=members)
    assert (principal.tenant_id, principal.role) == (tenant_id, Role.READ_ONLY)
    [record] = tenants.audit_page(tenant_id, limit=10).items
    assert (record.action, record.actor, record.reason, record.details["role"]) == (
        "impersonation.started",
        "ops",
        "support ticket",
        "read-only",
    )
    assert tenants.audit_page("t-unknown", limit=10).items == []


def test_a_rotated_storefront_key_keeps_the_old_one_for_its_grace_period(members: InMemoryMemberRepository) -> None:
    first = storefront.issue_storefront_key("t-one", keys=members)
    second = storefront.issue_storefront_key("t-one", keys=members)
    assert second.grace_until is not None and first.grace_until is None
    for issued in (first, second):
        principal = storefront.principal_for_storefront_key(issued.key, keys=members)
        assert (principal.kind, principal.tenant_id, principal.role) == (AuthKind.STOREFRONT, "t-one", Role.READ_ONLY)
    described = storefront.describe_storefront_key("t-one", keys=members)
    assert described is not None and described.key_id == second.key_id and described.rotated_at is not None
    # Once the grace period is over the old key is refused, the current one still works
    members.storefront_keys["t-one"] = described.__class__(**{**described.__dict__, "previous_valid_until": 0})
    with pytest.raises(UnauthorizedError):
        storefront.principal_for_storefront_key(first.key, keys=members)
    storefront.principal_for_storefront_key(second.key, keys=members)
    with pytest.raises(UnauthorizedError):  # the key of another tenant's prefix
        storefront.principal_for_storefront_key(second.key.replace("t-one", "t-two", 1), keys=members)

"""Sessions end when they should: logout, a password change, a password reset and a member's removal end
every session of that user (platform admins included), access and refresh tokens alike, within one request.

moto accepts tokens Cognito would refuse and Cognito itself never refuses a signed access token before it
expires, so these tests prove the API's own check: the next request with an old token is 401."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from api_testkit import Merchant, add_tenant_user, api_app_module, new_merchant
from fastapi.testclient import TestClient

from luxebrain_dev.local.embedded import LocalResources


@pytest.fixture(scope="module")
def client(local_aws: LocalResources) -> Iterator[TestClient]:
    with TestClient(api_app_module().app) as test_client:
        yield test_client


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _refresh(client: TestClient, refresh_token: str) -> int:
    return client.post("/auth/refresh", json={"refresh_token": refresh_token, "remember_me": True}).status_code


def _second_session(client: TestClient, merchant: Merchant) -> dict[str, str]:
    """The same user logged in on another device."""
    body = client.post(
        "/auth/login", json={"email": merchant.email, "password": merchant.password, "remember_me": True}
    ).json()
    return body


def test_logout_ends_every_session_of_the_user_access_and_refresh(
    client: TestClient, local_aws: LocalResources
) -> None:
    merchant = new_merchant()
    other_device = _second_session(client, merchant)
    assert client.post("/auth/logout", headers=merchant.headers).status_code == 204
    # Before: the other device's access token kept working
    assert client.get("/me", headers=merchant.headers).status_code == 401
    assert client.get("/me", headers=_bearer(other_device["access_token"])).status_code == 401
    assert _refresh(client, merchant.refresh_token) == 401
    assert _refresh(client, other_device["refresh_token"]) == 401
    # A new login works at once
    again = _second_session(client, merchant)
    assert client.get("/me", headers=_bearer(again["access_token"])).status_code == 200


def test_a_platform_admins_logout_ends_the_admin_session(client: TestClient, local_aws: LocalResources) -> None:
    from luxebrain.adapters.aws import user_directory
    from luxebrain.auth.accounts import create_platform_admin
    from luxebrain.storage.members import member_repository

    tokens = create_platform_admin(
        f"ops-{uuid.uuid4().hex[:8]}@luxebrain.example",
        "Operator-Pass-42",
        users=user_directory(),
        members=member_repository(),
    )
    headers = _bearer(tokens.access_token)
    assert client.get("/admin/tenants", headers=headers).status_code == 200
    assert client.post("/auth/logout", headers=headers).status_code == 204
    # Before: 200 (admins have no membership, where the sign-out was recorded)
    assert client.get("/admin/tenants", headers=headers).status_code == 401
    assert _refresh(client, tokens.refresh_token or "") == 401


def test_changing_the_password_ends_the_old_sessions(client: TestClient, local_aws: LocalResources) -> None:
    merchant = new_merchant()
    other_device = _second_session(client, merchant)
    changed = client.post(
        "/auth/change-password",
        headers=merchant.headers,
        json={"old_password": merchant.password, "new_password": "Brand-New-Pass-77"},
    )
    assert changed.status_code == 200, changed.text
    # Before: both old access tokens and both refresh tokens kept working
    assert client.get("/me", headers=merchant.headers).status_code == 401
    assert client.get("/me", headers=_bearer(other_device["access_token"])).status_code == 401
    assert _refresh(client, merchant.refresh_token) == 401
    assert _refresh(client, other_device["refresh_token"]) == 401
    fresh = client.post("/auth/login", json={"email": merchant.email, "password": "Brand-New-Pass-77"})
    assert client.get("/me", headers=_bearer(fresh.json()["access_token"])).status_code == 200


def test_resetting_the_password_ends_the_old_sessions(client: TestClient, local_aws: LocalResources) -> None:
    merchant = new_merchant()
    assert client.post("/auth/forgot-password", json={"email": merchant.email}).status_code == 202
    reset = client.post(
        "/auth/reset-password",
        json={"email": merchant.email, "code": "123456", "new_password": "Reset-Pass-Word-9"},
    )
    assert reset.status_code == 200, reset.text
    # Before: whoever had stolen the session kept it after the owner reset the password
    assert client.get("/me", headers=merchant.headers).status_code == 401
    assert _refresh(client, merchant.refresh_token) == 401


def test_an_owner_removes_a_member_whose_sessions_end_at_once(client: TestClient, local_aws: LocalResources) -> None:
    owner = new_merchant()
    staff = add_tenant_user(owner.tenant_id, "staff")
    staff_id = client.get("/me", headers=staff.headers).json()["user_id"]
    # Staff cannot remove anyone; an owner cannot remove themself
    assert client.delete(f"/tenant/members/{staff_id}", headers=staff.headers).status_code == 403
    owner_id = client.get("/me", headers=owner.headers).json()["user_id"]
    assert client.delete(f"/tenant/members/{owner_id}", headers=owner.headers).status_code == 409
    # When the owner removes the staff member (before: no route, 404/405)
    removed = client.delete(f"/tenant/members/{staff_id}", headers=owner.headers)
    assert removed.status_code == 204, removed.text
    # Then the member's very next request is refused, the refresh token too, and the removal is audited
    assert client.get("/me", headers=staff.headers).status_code == 401
    assert _refresh(client, staff.refresh_token) == 401
    members = client.get("/tenant/members", headers=owner.headers).json()
    assert staff_id not in {member["user_id"] for member in members}
    audit = client.get("/tenant/audit", headers=owner.headers).json()["items"]
    assert any(item["action"] == "member.removed" and item["details"]["user_id"] == staff_id for item in audit)
    usage = {line["limit"]: line["used"] for line in client.get("/tenant/plan", headers=owner.headers).json()["usage"]}
    assert usage["members"] == 1


def test_an_owner_cannot_remove_another_tenants_member(client: TestClient, local_aws: LocalResources) -> None:
    owner, other = new_merchant(), new_merchant()
    other_id = client.get("/me", headers=other.headers).json()["user_id"]
    assert client.delete(f"/tenant/members/{other_id}", headers=owner.headers).status_code == 404
    assert client.get("/me", headers=other.headers).status_code == 200


def test_a_session_ended_in_another_container_is_refused_by_this_one(
    client: TestClient, local_aws: LocalResources
) -> None:
    # The token was verified here (and its verification cached); the sign-out happens elsewhere
    from luxebrain.auth.sessions import end_all_sessions
    from luxebrain.auth.tokens import verify_access_token
    from luxebrain.storage.members import member_repository

    merchant = new_merchant()
    assert client.get("/me", headers=merchant.headers).status_code == 200
    end_all_sessions(verify_access_token(merchant.access_token).subject, sessions=member_repository())
    assert client.get("/me", headers=merchant.headers).status_code == 401

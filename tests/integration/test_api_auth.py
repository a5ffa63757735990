"""The API's authentication against moto's Cognito over HTTP: real sign-up, login, refresh and sign-out, and
tokens that must be refused (expired, tampered, wrong issuer, wrong audience, ID token as access token,
revoked refresh token, signed by another key)."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from api_testkit import Merchant, access_claims_of, api_app_module, new_merchant, signed_token
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi.testclient import TestClient

from luxebrain_dev.local.embedded import LocalResources


@pytest.fixture(scope="module")
def client(local_aws: LocalResources) -> Iterator[TestClient]:
    with TestClient(api_app_module().app) as test_client:
        yield test_client


@pytest.fixture
def merchant(local_aws: LocalResources) -> Merchant:
    return new_merchant()


def _problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == status
    assert body["request_id"] == response.headers["x-request-id"]
    return body


def _claims_like(merchant: Merchant, **overrides: Any) -> dict[str, Any]:
    claims = access_claims_of(merchant.access_token)
    claims.update(overrides)
    return {key: value for key, value in claims.items() if value is not None}


# ----------------------------------------------------------------------------- the happy path
def test_sign_up_confirm_log_in_and_me(client: TestClient, local_aws: LocalResources) -> None:
    # Given a new merchant signing up through the API
    email = f"new-{time.time_ns()}@shop.example"
    signed = client.post(
        "/auth/signup", json={"email": email, "password": "Correct-Horse-42", "company_name": "Maison Neuve"}
    )
    assert signed.status_code == 202, signed.text
    # When the e-mail is confirmed and the merchant logs in
    from luxebrain.adapters.aws import user_directory
    from luxebrain.auth.accounts import admin_confirm

    admin_confirm(email, users=user_directory())
    tokens = client.post("/auth/login", json={"email": email, "password": "Correct-Horse-42"}).json()
    me = client.get("/me", headers={"Authorization": f"Bearer {tokens['access_token']}"})
    # Then the token maps to the new tenant as its owner
    assert me.status_code == 200, me.text
    assert me.json()["tenant_id"]
    assert me.json()["role"] == "owner"
    assert me.json()["tenant_name"] == "Maison Neuve"


def test_login_before_confirmation_is_refused(client: TestClient, local_aws: LocalResources) -> None:
    email = f"unconfirmed-{time.time_ns()}@shop.example"
    client.post("/auth/signup", json={"email": email, "password": "Correct-Horse-42", "company_name": "Maison"})
    response = client.post("/auth/login", json={"email": email, "password": "Correct-Horse-42"})
    assert "confirm" in _problem(response, 403)["detail"]


def test_wrong_password_is_401_without_saying_which_part_was_wrong(client: TestClient, merchant: Merchant) -> None:
    response = client.post("/auth/login", json={"email": merchant.email, "password": "Wrong-Password-1"})
    assert "e-mail or password" in _problem(response, 401)["detail"]


def test_sign_up_with_a_known_e_mail_answers_like_a_new_one(client: TestClient, merchant: Merchant) -> None:
    # No account enumeration: the same status and body whether or not the e-mail has an account
    known = client.post(
        "/auth/signup", json={"email": merchant.email, "password": "Correct-Horse-42", "company_name": "Again"}
    )
    unknown = client.post(
        "/auth/signup",
        json={"email": f"n-{time.time_ns()}@shop.example", "password": "Correct-Horse-42", "company_name": "Again"},
    )
    assert known.status_code == unknown.status_code == 202
    assert known.json() == unknown.json()


def test_weak_password_is_422_naming_the_field(client: TestClient) -> None:
    response = client.post("/auth/signup", json={"email": "a@b.example", "password": "Tiny9x", "company_name": "M"})
    body = _problem(response, 422)
    assert {error["location"] for error in body["errors"]} >= {"body.password", "body.company_name"}
    assert "Tiny9x" not in response.text  # the rejected input is not echoed back


def test_password_that_cognito_refuses_is_422_with_its_reason(client: TestClient) -> None:
    # Long enough for the API's own check, but without the upper-case letter the pool's policy requires
    response = client.post(
        "/auth/signup",
        json={"email": f"weak-{time.time_ns()}@shop.example", "password": "all-lower-case-9", "company_name": "Maison"},
    )
    _problem(response, 422)


def test_refresh_gives_a_working_access_token(client: TestClient, merchant: Merchant) -> None:
    refreshed = client.post("/auth/refresh", json={"refresh_token": merchant.refresh_token, "remember_me": True})
    assert refreshed.status_code == 200, refreshed.text
    token = refreshed.json()["access_token"]
    assert client.get("/me", headers={"Authorization": f"Bearer {token}"}).status_code == 200


# ----------------------------------------------------------------------------- tokens that must fail
def test_no_token_is_401_with_www_authenticate(client: TestClient) -> None:
    response = client.get("/me")
    _problem(response, 401)
    assert response.headers["www-authenticate"].startswith("Bearer")


def test_expired_token_is_refused(client: TestClient, merchant: Merchant) -> None:
    now = int(time.time())
    token = signed_token(_claims_like(merchant, iat=now - 7200, auth_time=now - 7200, exp=now - 3600))
    assert "expired" in _problem(client.get("/me", headers={"Authorization": f"Bearer {token}"}), 401)["detail"]


def test_tampered_token_is_refused(client: TestClient, merchant: Merchant) -> None:
    header, payload, signature = merchant.access_token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["sub"] = "someone-else"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    response = client.get("/me", headers={"Authorization": f"Bearer {header}.{forged}.{signature}"})
    _problem(response, 401)


def test_token_signed_by_another_key_is_refused(client: TestClient, merchant: Merchant) -> None:
    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    token = signed_token(_claims_like(merchant), key=other_key)
    _problem(client.get("/me", headers={"Authorization": f"Bearer {token}"}), 401)


def test_wrong_issuer_is_refused(client: TestClient, merchant: Merchant) -> None:
    token = signed_token(_claims_like(merchant, iss="https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_other"))
    body = _problem(client.get("/me", headers={"Authorization": f"Bearer {token}"}), 401)
    assert "another identity provider" in body["detail"]


def test_wrong_audience_is_refused(client: TestClient, merchant: Merchant) -> None:
    token = signed_token(_claims_like(merchant, client_id="another-app-client"))
    body = _problem(client.get("/me", headers={"Authorization": f"Bearer {token}"}), 401)
    assert "another application" in body["detail"]


def test_id_token_is_not_an_access_token(client: TestClient, merchant: Merchant) -> None:
    response = client.get("/me", headers={"Authorization": f"Bearer {merchant.id_token}"})
    assert "access token is required" in _problem(response, 401)["detail"]


def test_token_with_none_algorithm_is_refused(client: TestClient, merchant: Merchant) -> None:
    unsigned = jwt_none(_claims_like(merchant))
    _problem(client.get("/me", headers={"Authorization": f"Bearer {unsigned}"}), 401)


def jwt_none(claims: dict[str, Any]) -> str:
    def part(value: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")

    return f"{part({'alg': 'none', 'kid': 'dummy'})}.{part(claims)}."


def test_logout_revokes_the_refresh_token_and_the_access_token(client: TestClient, merchant: Merchant) -> None:
    # Given a logged-in merchant
    assert client.get("/me", headers=merchant.headers).status_code == 200
    # When they log out (global sign-out)
    assert client.post("/auth/logout", headers=merchant.headers).status_code == 204
    # Then the refresh token is revoked by Cognito and the old access token is refused by the API
    refreshed = client.post("/auth/refresh", json={"refresh_token": merchant.refresh_token, "remember_me": True})
    _problem(refreshed, 401)
    assert "signed out" in _problem(client.get("/me", headers=merchant.headers), 401)["detail"]


def test_change_password_then_log_in_with_the_new_one(client: TestClient, merchant: Merchant) -> None:
    changed = client.post(
        "/auth/change-password",
        headers=merchant.headers,
        json={"old_password": merchant.password, "new_password": "Brand-New-Pass-9"},
    )
    assert changed.status_code == 200, changed.text
    assert client.post("/auth/login", json={"email": merchant.email, "password": "Brand-New-Pass-9"}).status_code == 200
    _problem(client.post("/auth/login", json={"email": merchant.email, "password": merchant.password}), 401)


def test_forgot_password_answers_the_same_for_unknown_addresses(client: TestClient, merchant: Merchant) -> None:
    known = client.post("/auth/forgot-password", json={"email": merchant.email})
    unknown = client.post("/auth/forgot-password", json={"email": "nobody-here@shop.example"})
    assert known.status_code == unknown.status_code == 202
    assert known.json() == unknown.json()


def test_forgot_then_reset_password_then_log_in(client: TestClient, merchant: Merchant) -> None:
    # moto does not check the e-mailed code (Cognito does); this covers the API's side of the flow
    assert client.post("/auth/forgot-password", json={"email": merchant.email}).status_code == 202
    reset = client.post(
        "/auth/reset-password",
        json={"email": merchant.email, "code": "123456", "new_password": "Brand-New-Pass-9"},
    )
    assert reset.status_code == 200, reset.text
    assert client.post("/auth/login", json={"email": merchant.email, "password": "Brand-New-Pass-9"}).status_code == 200


def test_login_for_an_existing_tenant_as_the_demo_needs(client: TestClient, local_aws: LocalResources) -> None:
    from luxebrain.adapters.aws import user_directory
    from luxebrain.auth.accounts import create_login_for_tenant
    from luxebrain.billing.usage import plan_usage
    from luxebrain.storage.members import member_repository
    from luxebrain.storage.tenants import create_tenant, tenant_repository
    from luxebrain.tenancy import new_tenant_id

    # Given a tenant created directly (as the demo does) and a login made for it, twice (a re-run)
    tenant_id = create_tenant("Maison Démo", tenant_id=new_tenant_id()).tenant_id
    email = f"demo-{time.time_ns()}@maison-demo.example"
    create_login_for_tenant(
        tenant_id,
        email,
        users=user_directory(),
        members=member_repository(),
        tenants=tenant_repository(),
        usage=plan_usage(),
    )
    login = create_login_for_tenant(
        tenant_id,
        email,
        users=user_directory(),
        members=member_repository(),
        tenants=tenant_repository(),
        usage=plan_usage(),
    )
    # Then the printed credentials log in and act as the tenant's owner
    tokens = client.post("/auth/login", json={"email": login.email, "password": login.password}).json()
    me = client.get("/me", headers={"Authorization": f"Bearer {tokens['access_token']}"}).json()
    assert me["tenant_id"] == tenant_id and me["role"] == "owner"


def test_a_verified_token_is_remembered_but_never_a_changed_one(client: TestClient, merchant: Merchant) -> None:
    from luxebrain.auth import tokens

    # Given a token the API has verified (and remembers)
    assert client.get("/me", headers=merchant.headers).status_code == 200
    assert merchant.access_token in tokens._verified
    # When one byte of its signature changes, it is verified afresh and refused
    header, payload, signature = merchant.access_token.split(".")
    flipped = signature[:-2] + ("A" if signature[-2] != "A" else "B") + signature[-1]
    _problem(client.get("/me", headers={"Authorization": f"Bearer {header}.{payload}.{flipped}"}), 401)
    # And a remembered token is refused once its expiry passes
    remembered = tokens._verified[merchant.access_token]
    tokens._verified[merchant.access_token] = type(remembered)(
        **{**remembered.__dict__, "expires_at": int(time.time()) - 3600}
    )
    assert "expired" in _problem(client.get("/me", headers=merchant.headers), 401)["detail"]

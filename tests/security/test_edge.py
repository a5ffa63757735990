"""The edge: ambiguous or missing body lengths, control characters in names and headers, implausible dates,
sign-up and login answers that would reveal which e-mails have accounts, and unbounded sign-ups."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from api_testkit import Merchant, api_app_module, new_merchant
from fastapi.testclient import TestClient

from luxebrain_dev.local.embedded import LocalResources


@pytest.fixture(scope="module")
def client(local_aws: LocalResources) -> Iterator[TestClient]:
    with TestClient(api_app_module().app) as test_client:
        yield test_client


@pytest.fixture
def owner(local_aws: LocalResources) -> Merchant:
    return new_merchant()


def _raw_request(headers: list[tuple[bytes, bytes]], chunks: list[bytes], path: str = "/auth/login") -> int:
    """Call the ASGI app with exactly these headers and body chunks (no client library fixing them up)."""
    app = api_app_module().app
    scope: dict[str, Any] = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"testserver"), (b"content-type", b"application/json"), *headers],
        "client": ("127.0.0.1", 1),
        "server": ("testserver", 80),
    }
    pending = [
        {"type": "http.request", "body": chunk, "more_body": index < len(chunks) - 1}
        for index, chunk in enumerate(chunks)
    ]
    statuses: list[int] = []

    async def receive() -> dict[str, Any]:
        return pending.pop(0) if pending else {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    asyncio.run(app(scope, receive, send))
    return statuses[0]


BODY = b'{"email": "a@shop.example", "password": "x"}'


def test_a_duplicated_content_length_is_400(local_aws: LocalResources) -> None:
    # Before: the first header was read and the second ignored, so the size limit could be skipped
    headers = [(b"content-length", str(len(BODY)).encode()), (b"content-length", b"999999999")]
    assert _raw_request(headers, [BODY]) == 400


@pytest.mark.parametrize("value", [b"abc", b"-1", b"1e3", b" 12", b"0x10"])
def test_a_non_numeric_content_length_is_400(local_aws: LocalResources, value: bytes) -> None:
    assert _raw_request([(b"content-length", value)], [BODY]) == 400


def test_a_body_without_content_length_is_400(local_aws: LocalResources) -> None:
    assert _raw_request([], [BODY[:10], BODY[10:]]) == 400


def test_a_body_longer_than_declared_or_than_the_limit_is_refused(local_aws: LocalResources) -> None:
    assert _raw_request([(b"content-length", b"5")], [BODY]) == 400
    big = b"x" * (300 * 1024)
    assert _raw_request([(b"content-length", b"10")], [big[:10], big[10:]]) == 413


@pytest.mark.parametrize("name", ["Mai\x00son", "Maison\r\nBcc: x", "\u202eevil", "Mai\u2066son"])
def test_control_and_bidi_characters_are_refused_in_names(client: TestClient, owner: Merchant, name: str) -> None:
    # Before: 200, the name stored as sent
    assert client.patch("/tenant/settings", headers=owner.headers, json={"display_name": name}).status_code == 422
    branding = client.put("/campaigns/settings", headers=owner.headers, json={"branding": {"store_name": name}})
    assert branding.status_code == 422
    signup = client.post(
        "/auth/signup", json={"email": "n@shop.example", "password": "Correct-Horse-42", "company_name": name}
    )
    assert signup.status_code == 422


def test_a_carriage_return_in_customer_data_does_not_break_the_send(local_aws: LocalResources, tenant_id: str) -> None:
    from campaign_support import add_customer, aws_sender

    from luxebrain.campaigns.consent import record_consent
    from luxebrain.campaigns.sending import SendRequest, deliver
    from luxebrain.storage.campaigns import campaign_repository, get_send_record

    noon = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
    add_customer(tenant_id, "cr1", email=f"{tenant_id}.cr@example.com", first_name="Cam\rille\nBcc: x")
    record_consent(tenant_id, "cr1", "email", granted=True, source="checkout", campaigns=campaign_repository())
    request = SendRequest(
        tenant_id=tenant_id,
        flow="campaign-edge",
        flow_kind="abandoned_cart",
        customer_id="cr1",
        trigger="t1",
        assigned_at=noon,
        context={"cart": {"lines": [], "currency": "EUR", "url": "https://shop.example/cart/"}},
    )
    outcome = deliver(request, aws_sender(clock=lambda: noon))
    # Before: the send broke and its record stayed "claimed"
    assert outcome.status == "sent", outcome
    assert get_send_record(tenant_id, "campaign-edge", "cr1", "t1").status == "sent"


@pytest.mark.parametrize("moment", ["0001-01-01T00:00:00Z", "9999-12-31T00:00:00Z", "2026-01-01T00:00:00"])
def test_implausible_consent_dates_are_refused(client: TestClient, owner: Merchant, moment: str) -> None:
    response = client.put(
        "/campaigns/consent/c1/email",
        headers=owner.headers,
        json={"granted": True, "source": "checkout", "recorded_at": moment},
    )
    # Before: 200 for year 1 and year 9999
    assert response.status_code == 422, response.text


def test_login_errors_are_alike_for_unknown_and_known_e_mails(client: TestClient, owner: Merchant) -> None:
    unknown = client.post("/auth/login", json={"email": f"nobody-{time.time_ns()}@shop.example", "password": "Wrong-1"})
    wrong = client.post("/auth/login", json={"email": owner.email, "password": "Wrong-Password-1"})
    assert unknown.status_code == wrong.status_code == 401
    assert unknown.json()["detail"] == wrong.json()["detail"]


def test_sign_ups_are_rate_limited_per_client_address(local_aws: LocalResources, owner: Merchant) -> None:
    from luxebrain.auth.accounts import SIGN_UPS_PER_ADDRESS_PER_HOUR

    body = {"email": owner.email, "password": "Correct-Horse-42", "company_name": "Again"}
    with TestClient(api_app_module().app, client=(f"198.51.100.{time.time_ns() % 250}", 1)) as one_address:
        statuses = [
            one_address.post("/auth/signup", json=body).status_code for _ in range(SIGN_UPS_PER_ADDRESS_PER_HOUR + 2)
        ]
    # Before: unlimited (every sign-up creates a tenant)
    assert statuses[:SIGN_UPS_PER_ADDRESS_PER_HOUR] == [202] * SIGN_UPS_PER_ADDRESS_PER_HOUR
    assert statuses[SIGN_UPS_PER_ADDRESS_PER_HOUR:] == [429, 429]
    with TestClient(api_app_module().app, client=("192.0.2.77", 1)) as another_address:
        assert another_address.post("/auth/signup", json=body).status_code == 202

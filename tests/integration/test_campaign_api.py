"""The campaigns API: consent records, template preview, scheduling, results, and the public unsubscribe link."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from api_testkit import Merchant, api_app_module, new_merchant
from campaign_support import add_customer
from fastapi.testclient import TestClient

from luxebrain.adapters.aws import secrets_vault
from luxebrain.campaigns.tokens import make_unsubscribe_token
from luxebrain.storage.campaigns import campaign_repository
from luxebrain_dev.local.embedded import LocalResources


@pytest.fixture(scope="module")
def client(local_aws: LocalResources) -> Iterator[TestClient]:
    with TestClient(api_app_module().app) as test_client:
        yield test_client


@pytest.fixture
def merchant(local_aws: LocalResources) -> Merchant:
    return new_merchant()


def test_consent_is_recorded_with_source_and_history(client: TestClient, merchant: Merchant) -> None:
    url = "/campaigns/consent/42/sms"
    assert client.get(url, headers=merchant.headers).json()["recorded"] is False
    assert (
        client.put(url, json={"granted": True, "source": "checkout-checkbox"}, headers=merchant.headers).status_code
        == 200
    )
    client.put(url, json={"granted": False, "source": "support-call"}, headers=merchant.headers)
    body = client.get(url, headers=merchant.headers).json()
    assert body["granted"] is False
    assert [(h["granted"], h["source"]) for h in body["history"]] == [
        (True, "checkout-checkbox"),
        (False, "support-call"),
    ]
    assert client.put(url, json={"granted": True}, headers=merchant.headers).status_code == 422
    assert client.get("/campaigns/consent/42/fax", headers=merchant.headers).status_code == 422
    assert client.get(url).status_code == 401


def test_preview_renders_the_tenant_template_and_rejects_a_broken_one(client: TestClient, merchant: Merchant) -> None:
    ok = client.post(
        "/campaigns/preview",
        json={"flow": "abandoned_cart", "template": {"subject": "{{ customer.first_name }}, still yours"}},
        headers=merchant.headers,
    )
    assert ok.status_code == 200 and ok.json()["subject"] == "Camille, still yours"
    assert "Unsubscribe" in ok.json()["html"]
    broken = client.post("/campaigns/preview", json={"template": {"html": "{% if %}"}}, headers=merchant.headers)
    assert broken.status_code == 422
    sms = client.post("/campaigns/preview", json={"flow": "welcome", "channel": "sms"}, headers=merchant.headers)
    assert sms.status_code == 200 and "text" in sms.json()


def test_one_click_unsubscribe_is_public_and_needs_a_valid_signature(client: TestClient, merchant: Merchant) -> None:
    add_customer(merchant.tenant_id, "77", email=f"{merchant.tenant_id}.api@example.com")
    token = make_unsubscribe_token(merchant.tenant_id, "77", keys=secrets_vault(), campaigns=campaign_repository())
    page = client.get(f"/campaigns/unsubscribe/{token}")
    assert page.status_code == 200 and "<form" in page.text  # a GET never unsubscribes (link scanners)
    assert client.get("/campaigns/consent/77/email", headers=merchant.headers).json()["recorded"] is False
    response = client.post(
        f"/campaigns/unsubscribe/{token}",
        content="List-Unsubscribe=One-Click",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 200
    consent = client.get("/campaigns/consent/77/email", headers=merchant.headers).json()
    assert consent["granted"] is False and consent["history"][-1]["source"] == "one-click-unsubscribe"
    assert client.post(f"/campaigns/unsubscribe/{token[:-4]}AAAA").status_code == 400


def test_campaign_scheduling_and_results(client: TestClient, merchant: Merchant) -> None:
    spec = {
        "name": "Preview",
        "segment": "all_customers",
        "scheduled_at": (datetime.now(UTC) + timedelta(days=1)).isoformat(),
        "ab_test": {"variants": {"A": {"subject": "A"}, "B": {"subject": "B"}}},
    }
    created = client.post("/campaigns", json=spec, headers=merchant.headers)
    assert created.status_code == 201 and created.json()["status"] == "scheduled"
    campaign_id = created.json()["campaign_id"]
    results = client.get(f"/campaigns/{campaign_id}/results", headers=merchant.headers)
    assert results.status_code == 200 and results.json()["arms"] == []
    naive = {**spec, "scheduled_at": "2026-12-01T09:00:00"}
    assert client.post("/campaigns", json=naive, headers=merchant.headers).status_code == 422
    flow = client.get("/campaigns/flows/abandoned_cart/results", headers=merchant.headers)
    assert flow.status_code == 200 and flow.json()["conversion_window_days"] == 7


def test_a_tenant_cannot_assign_itself_an_sms_number_or_whatsapp_sender(client: TestClient, merchant: Merchant) -> None:
    # Given the tenant's current settings
    settings = client.get("/campaigns/settings", headers=merchant.headers).json()
    # When the owner names an SMS number (it could be another tenant's, who would then be impersonated)
    settings["sms_origination_number"] = "+15550001111"
    answer = client.put("/campaigns/settings", json=settings, headers=merchant.headers)
    # Then it is refused and nothing changes
    assert answer.status_code == 403
    assert "sms_origination_number" in answer.json()["detail"]
    assert client.get("/campaigns/settings", headers=merchant.headers).json()["sms_origination_number"] is None


def test_the_flows_list_says_on_or_off_and_each_template_over_its_default(
    client: TestClient, merchant: Merchant
) -> None:
    listed = client.get("/campaigns/flows", headers=merchant.headers)
    assert listed.status_code == 200, listed.text
    flows = {flow["flow"]: flow for flow in listed.json()["flows"]}
    assert set(flows) == {"abandoned_cart", "welcome", "post_purchase", "win_back", "back_in_stock", "price_drop"}
    welcome = flows["welcome"]
    assert welcome["enabled"] is True and welcome["customised"] == [] and welcome["template"] == welcome["default"]

    settings = client.get("/campaigns/settings", headers=merchant.headers).json()
    settings["templates"]["welcome"] = {"subject": "Bienvenue chez {{ store.store_name }}"}
    settings["flows"]["win_back"] = {"enabled": False}
    saved = client.put("/campaigns/settings", json=settings, headers=merchant.headers)
    assert saved.status_code == 200, saved.text
    flows = {flow["flow"]: flow for flow in client.get("/campaigns/flows", headers=merchant.headers).json()["flows"]}
    assert flows["welcome"]["customised"] == ["subject"]
    assert flows["welcome"]["template"]["subject"] == "Bienvenue chez {{ store.store_name }}"
    assert flows["welcome"]["template"]["html"] == flows["welcome"]["default"]["html"]
    assert flows["win_back"]["enabled"] is False and flows["welcome"]["enabled"] is True
    assert client.get("/campaigns/flows").status_code == 401

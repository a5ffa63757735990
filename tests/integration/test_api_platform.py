"""Plans and limits (atomic counters, 402/403/429 naming the limit), storefront keys (rotation with grace),
and platform administration (tenant directory, suspension, audited impersonation)."""

from __future__ import annotations

import time
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


@pytest.fixture
def merchant(local_aws: LocalResources) -> Merchant:
    return new_merchant()


@pytest.fixture(scope="module")
def admin_headers(local_aws: LocalResources) -> dict[str, str]:
    from luxebrain.adapters.aws import user_directory
    from luxebrain.auth.accounts import create_platform_admin
    from luxebrain.storage.members import member_repository

    tokens = create_platform_admin(
        f"ops-{uuid.uuid4().hex[:8]}@luxebrain.example",
        "Operator-Pass-42",
        users=user_directory(),
        members=member_repository(),
    )
    return {"Authorization": f"Bearer {tokens.access_token}"}


# ----------------------------------------------------------------------------- plans
def test_a_quota_admits_exactly_its_allowance(merchant: Merchant) -> None:
    # The counter is one conditional ADD (used <= allowed - amount): DynamoDB applies it atomically, so
    # concurrent containers cannot overshoot. moto serialises nothing, so this checks the condition itself.
    from luxebrain.billing.plans import PLANS, PlanLimitExceededError
    from luxebrain.billing.usage import plan_usage

    allowed, _ = PLANS["free"].quotas["training_runs"]
    outcomes = []
    for _ in range(allowed + 3):
        try:
            outcomes.append(str(plan_usage().consume(merchant.tenant_id, "training_runs")))
        except PlanLimitExceededError as exc:
            outcomes.append(exc.limit)
    assert outcomes == [str(n) for n in range(1, allowed + 1)] + ["training_runs_per_day"] * 3


def test_plan_page_shows_usage_and_limits(client: TestClient, merchant: Merchant) -> None:
    from luxebrain.billing.usage import plan_usage

    plan_usage().consume(merchant.tenant_id, "email_messages", 7)
    body = client.get("/tenant/plan", headers=merchant.headers).json()
    assert body["plan"] == "free" and body["campaign_channels"] == ["email"]
    usage = {line["limit"]: line for line in body["usage"]}
    assert usage["email_messages_per_month"]["used"] == 7
    assert usage["email_messages_per_month"]["allowed"] == 1000


def test_exceeding_a_quota_is_402_naming_it(merchant: Merchant) -> None:
    from luxebrain.billing.plans import PlanLimitExceededError
    from luxebrain.billing.usage import plan_usage

    plan_usage().consume(merchant.tenant_id, "email_messages", 1000)
    with pytest.raises(PlanLimitExceededError) as raised:
        plan_usage().consume(merchant.tenant_id, "email_messages")
    assert raised.value.status_code == 402 and raised.value.limit == "email_messages_per_month"


def test_sms_is_a_paid_feature_403_on_free_and_allowed_on_growth(merchant: Merchant) -> None:
    from luxebrain.billing.plans import PlanFeatureError, change_plan, require_channel
    from luxebrain.storage.tenants import tenant_repository

    with pytest.raises(PlanFeatureError, match="sms campaigns is not part of the free plan"):
        require_channel(merchant.tenant_id, "sms", tenants=tenant_repository())
    change_plan(merchant.tenant_id, "growth", tenants=tenant_repository())
    require_channel(merchant.tenant_id, "sms", tenants=tenant_repository())
    with pytest.raises(PlanFeatureError):
        require_channel(merchant.tenant_id, "whatsapp", tenants=tenant_repository())


def test_expensive_route_is_429_with_retry_after(client: TestClient, merchant: Merchant) -> None:
    # The free plan allows 2 exports a minute
    statuses = [client.post("/customers/nobody/export", headers=merchant.headers) for _ in range(3)]
    assert [r.status_code for r in statuses[:2]] == [202, 202]
    limited = statuses[2]
    assert limited.status_code == 429
    assert 1 <= int(limited.headers["retry-after"]) <= 60
    assert limited.json()["limit"] == "exports_per_minute"


# ----------------------------------------------------------------------------- storefront keys
def test_storefront_key_rotation_keeps_the_old_key_for_a_grace_period(client: TestClient, merchant: Merchant) -> None:
    from luxebrain.auth.storefront import principal_for_storefront_key
    from luxebrain.errors import UnauthorizedError
    from luxebrain.storage.items.members import StorefrontKeyItem, key_storefront_key
    from luxebrain.storage.members import member_repository

    keys = member_repository()

    first = client.post("/tenant/storefront-key", headers=merchant.headers).json()
    assert first["key"].startswith(f"lbpk_{merchant.tenant_id}_")
    second = client.post("/tenant/storefront-key", headers=merchant.headers).json()
    # Both work during the grace period, each for this tenant only
    assert principal_for_storefront_key(first["key"], keys=keys).tenant_id == merchant.tenant_id
    assert principal_for_storefront_key(second["key"], keys=keys).tenant_id == merchant.tenant_id
    # Once the grace period is over the old key is refused
    item = StorefrontKeyItem.get(*key_storefront_key(merchant.tenant_id))
    item.update(actions=[StorefrontKeyItem.previous_valid_until.set(int(time.time()) - 1)])
    with pytest.raises(UnauthorizedError):
        principal_for_storefront_key(first["key"], keys=keys)
    # The metadata never shows the key itself
    described = client.get("/tenant/storefront-key", headers=merchant.headers)
    assert second["key"] not in described.text and described.json()["key_id"] == second["key_id"]


def test_a_storefront_key_is_read_once_per_window_and_a_key_issued_elsewhere_works_at_once(
    client: TestClient, merchant: Merchant, monkeypatch: pytest.MonkeyPatch
) -> None:
    from luxebrain.auth import storefront as storefront_auth
    from luxebrain.errors import UnauthorizedError
    from luxebrain.storage.members import StorefrontKey, member_repository

    reads: list[str] = []

    class CountedKeys:
        """The table's storefront keys, counting the reads."""

        def get_storefront_key(self, tenant_id: str) -> StorefrontKey | None:
            reads.append(tenant_id)
            return member_repository().get_storefront_key(tenant_id)

        save_storefront_key = staticmethod(member_repository().save_storefront_key)

    keys = CountedKeys()
    first = client.post("/tenant/storefront-key", headers=merchant.headers).json()["key"]
    # Given widget calls with the current key: one read for the window (before: one per call)
    for _ in range(5):
        assert storefront_auth.principal_for_storefront_key(first, keys=keys).tenant_id == merchant.tenant_id
    assert len(reads) <= 1
    # When another container rotates the key (this one's cache still holds the previous item)
    monkeypatch.setattr(storefront_auth, "_forget_key", lambda tenant: None)
    second = storefront_auth.issue_storefront_key(merchant.tenant_id, keys=keys).key
    reads.clear()
    # Then the new key works at once (a key the cache does not know is read afresh), the old one still does
    assert storefront_auth.principal_for_storefront_key(second, keys=keys).tenant_id == merchant.tenant_id
    assert storefront_auth.principal_for_storefront_key(first, keys=keys).tenant_id == merchant.tenant_id
    assert len(reads) == 2  # the old key is now the previous one: checked against a fresh read
    # and a forged key is refused after a read of its own, never from the cache
    with pytest.raises(UnauthorizedError):
        storefront_auth.principal_for_storefront_key(
            second[:-4] + ("AAAA" if second[-4:] != "AAAA" else "BBBB"), keys=keys
        )
    assert len(reads) == 3


def test_only_owners_manage_keys_and_settings(client: TestClient, merchant: Merchant) -> None:
    staff = add_tenant_user(merchant.tenant_id, "staff")
    assert client.post("/tenant/storefront-key", headers=staff.headers).status_code == 403
    assert client.patch("/tenant/settings", headers=staff.headers, json={"weekly_report": True}).status_code == 403
    assert client.get("/tenant", headers=staff.headers).status_code == 200


def test_settings_are_validated_and_saved(client: TestClient, merchant: Merchant) -> None:
    bad = client.patch("/tenant/settings", headers=merchant.headers, json={"timezone": "Mars/Olympus"})
    assert bad.status_code == 422
    unknown = client.patch("/tenant/settings", headers=merchant.headers, json={"plan": "pro"})
    assert unknown.status_code == 422  # the plan is not a setting a merchant can write
    saved = client.patch(
        "/tenant/settings",
        headers=merchant.headers,
        json={"timezone": "Europe/Paris", "pricing_guardrails": {"default": {"min_margin": 0.3}}},
    )
    assert saved.status_code == 200, saved.text
    settings = client.get("/tenant", headers=merchant.headers).json()["settings"]
    assert settings["timezone"] == "Europe/Paris"
    assert settings["pricing_guardrails"]["default"]["min_margin"] == 0.3


# ----------------------------------------------------------------------------- administration
def test_admin_lists_tenants_with_a_cursor(client: TestClient, merchant: Merchant, admin_headers: dict) -> None:
    seen, cursor = [], None
    for _ in range(200):
        page = client.get("/admin/tenants", params={"limit": 5, "cursor": cursor}, headers=admin_headers).json()
        seen.extend(tenant["tenant_id"] for tenant in page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert merchant.tenant_id in seen
    assert len(seen) == len(set(seen))


def test_a_page_of_suspended_tenants_is_full_when_active_ones_dominate(client: TestClient, admin_headers: dict) -> None:
    # Given many active tenants created before and after three suspended ones
    from luxebrain.storage import tenants as tenant_repo

    for index in range(8):
        tenant_repo.create_tenant(f"Active before {index}")
    suspended = [tenant_repo.create_tenant(f"Suspended {index}").tenant_id for index in range(3)]
    for tenant_id in suspended:
        answer = client.post(
            f"/admin/tenants/{tenant_id}/suspend", headers=admin_headers, json={"reason": "chargeback under review"}
        )
        assert answer.status_code == 200, answer.text
    for index in range(8):
        tenant_repo.create_tenant(f"Active after {index}")
    # When the admin lists suspended tenants three at a time
    seen: list[str] = []
    cursor = None
    for _ in range(100):
        page = client.get(
            "/admin/tenants", params={"status": "suspended", "limit": 3, "cursor": cursor}, headers=admin_headers
        ).json()
        # Then every page but the last is full, and only suspended tenants are on it
        assert all(tenant["status"] == "suspended" for tenant in page["items"])
        if page["next_cursor"] is not None:
            assert len(page["items"]) == 3
        seen.extend(tenant["tenant_id"] for tenant in page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert set(suspended) <= set(seen)
    # and a reactivated tenant leaves the suspended list for the active one
    client.post(f"/admin/tenants/{suspended[0]}/reactivate", headers=admin_headers, json={"reason": "paid in full"})
    first = client.get("/admin/tenants", params={"status": "suspended", "limit": 100}, headers=admin_headers).json()
    assert suspended[0] not in [tenant["tenant_id"] for tenant in first["items"]]
    active = client.get("/admin/tenants", params={"status": "active", "limit": 100}, headers=admin_headers).json()
    assert all(tenant["status"] == "active" for tenant in active["items"])
    assert len(active["items"]) == min(100, len([t for t in tenant_repo.iter_tenants() if t.status == "active"]))


def test_suspension_locks_the_tenant_out_until_reactivated(
    client: TestClient, merchant: Merchant, admin_headers: dict
) -> None:
    suspended = client.post(
        f"/admin/tenants/{merchant.tenant_id}/suspend", headers=admin_headers, json={"reason": "unpaid invoices"}
    )
    assert suspended.status_code == 200 and suspended.json()["status"] == "suspended"
    assert "suspended" in client.get("/me", headers=merchant.headers).json()["detail"]
    reactivated = client.post(
        f"/admin/tenants/{merchant.tenant_id}/reactivate", headers=admin_headers, json={"reason": "paid in full"}
    )
    assert reactivated.status_code == 200, reactivated.text
    assert client.get("/me", headers=merchant.headers).status_code == 200


def test_impersonation_is_audited_and_scoped(client: TestClient, merchant: Merchant, admin_headers: dict) -> None:
    # An admin acts in no tenant by default
    assert client.get("/tenant", headers=admin_headers).status_code == 403
    # With a reason, the admin gets an hour-long session in one tenant
    started = client.post(
        f"/admin/tenants/{merchant.tenant_id}/impersonate",
        headers=admin_headers,
        json={"reason": "support ticket 4711", "role": "read-only"},
    )
    assert started.status_code == 201, started.text
    session = {**admin_headers, "X-Impersonation": started.json()["session"]}
    me = client.get("/me", headers=session).json()
    assert me["tenant_id"] == merchant.tenant_id and me["auth"] == "impersonation" and me["role"] == "read-only"
    assert client.get("/tenant", headers=session).status_code == 200
    # ...with the role it asked for, not more
    assert client.post("/tenant/storefront-key", headers=session).status_code == 403
    # ...and the tenant's owner sees it in the audit log
    audit = client.get("/tenant/audit", headers=merchant.headers).json()["items"]
    assert any(a["action"] == "impersonation.started" and a["reason"] == "support ticket 4711" for a in audit)
    # The session cannot be used by anyone else
    assert (
        client.get("/me", headers={**merchant.headers, "X-Impersonation": started.json()["session"]}).status_code == 403
    )


def test_impersonation_needs_a_reason(client: TestClient, merchant: Merchant, admin_headers: dict) -> None:
    response = client.post(f"/admin/tenants/{merchant.tenant_id}/impersonate", headers=admin_headers, json={})
    assert response.status_code == 422


def test_api_calls_are_counted_and_capped_by_the_plan(client: TestClient, merchant: Merchant) -> None:
    from luxebrain.billing.plans import PLANS
    from luxebrain.billing.usage import API_CALL_FLUSH_EVERY, api_call_meter, plan_usage

    # Given a tenant one call short of its monthly API quota
    allowed, _ = PLANS["free"].quotas["api_calls"]
    plan_usage().consume(merchant.tenant_id, "api_calls", allowed - 1)
    # When it keeps calling the API
    statuses = [client.get("/me", headers=merchant.headers).status_code for _ in range(API_CALL_FLUSH_EVERY + 2)]
    # Then the one call left passes (this container's first call of the tenant is counted at once, and
    # near the quota it counts before each remaining call), and the rest are 402 naming the limit
    assert statuses == [200] + [402] * (API_CALL_FLUSH_EVERY + 1)
    refused = client.get("/me", headers=merchant.headers).json()
    assert refused["limit"] == "api_calls_per_month" and refused["plan"] == "free"
    api_call_meter().flush(merchant.tenant_id)
    used = {line.limit: line.used for line in plan_usage().usage_report(merchant.tenant_id)}
    assert used["api_calls_per_month"] == allowed  # counted up to the quota, never past it


def test_audit_log_pages_with_a_cursor(client: TestClient, merchant: Merchant, admin_headers: dict) -> None:
    for n in range(3):
        client.patch("/tenant/settings", headers=merchant.headers, json={"weekly_report": n % 2 == 0})
    first = client.get("/tenant/audit", params={"limit": 2}, headers=merchant.headers).json()
    second = client.get(
        "/tenant/audit", params={"limit": 2, "cursor": first["next_cursor"]}, headers=merchant.headers
    ).json()
    assert len(first["items"]) == 2 and first["next_cursor"]
    assert second["items"] and second["items"][0]["created_at"] <= first["items"][-1]["created_at"]
    # The platform admin reads the same log through the admin route
    admin_view = client.get(f"/admin/tenants/{merchant.tenant_id}/audit", headers=admin_headers).json()
    assert len(admin_view["items"]) >= 3


def test_a_storefront_key_cannot_read_a_customers_personal_picks(client: TestClient, merchant: Merchant) -> None:
    # Given the tenant's public storefront key
    key = client.post("/tenant/storefront-key", headers=merchant.headers).json()["key"]
    # When it asks for a customer's personal recommendations (which would reveal what they bought)
    answer = client.get("/recommendations/for-you?customer_id=1&k=5", headers={"X-Storefront-Key": key})
    # Then it is refused before any model is read
    assert answer.status_code == 403
    assert "storefront key" in answer.json()["detail"]

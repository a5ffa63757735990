"""The plan's usage counters over the in-memory tenants repository (held to the table by
tests/integration/test_tenant_repository_contract.py): the plan read from the tenant's profile, quotas and sizes
counted within the allowance, units given back, rate limits and the dashboard's report. No network."""

from __future__ import annotations

import pytest
from fakes import InMemoryTenantRepository

from luxebrain.billing.plans import PlanFeatureError, PlanLimitExceededError, RateLimitedError, forget_tenant
from luxebrain.billing.usage import PlanUsage


@pytest.fixture
def tenants() -> InMemoryTenantRepository:
    return InMemoryTenantRepository()


def test_a_quota_is_counted_up_to_the_tenant_s_plan_and_a_release_gives_a_unit_back(
    tenants: InMemoryTenantRepository,
) -> None:
    usage = PlanUsage(tenants)
    tenant_id = tenants.create_tenant("Counted", plan="free").tenant_id
    allowed = usage.plan_of(tenant_id).max_stores  # 2 on the free plan
    assert [usage.consume(tenant_id, "stores") for _ in range(allowed)] == list(range(1, allowed + 1))
    with pytest.raises(PlanLimitExceededError) as refused:
        usage.consume(tenant_id, "stores")
    assert (refused.value.limit, refused.value.allowed, refused.value.plan) == ("stores", allowed, "free")
    usage.release(tenant_id, "stores")
    assert usage.consume(tenant_id, "stores") == allowed
    report = {line.limit: (line.used, line.allowed) for line in usage.usage_report(tenant_id)}
    assert report["stores"] == (allowed, allowed) and report["events_per_month"][0] == 0


def test_the_plan_comes_from_the_repository_given(tenants: InMemoryTenantRepository) -> None:
    usage = PlanUsage(tenants)
    tenant_id = tenants.create_tenant("Upgraded", plan="free").tenant_id
    with pytest.raises(PlanFeatureError):
        usage.consume(tenant_id, "sms_messages")
    tenants.set_tenant_plan(tenant_id, "growth")
    forget_tenant(tenant_id)  # the profile is cached a few seconds; a plan change forgets it
    assert usage.consume(tenant_id, "sms_messages") == 1
    assert usage.plan_of(tenant_id).name == "growth"


def test_a_rate_is_limited_per_minute_and_a_refused_request_gives_its_unit_back(
    tenants: InMemoryTenantRepository,
) -> None:
    usage = PlanUsage(tenants)
    tenant_id = tenants.create_tenant("Busy", plan="free").tenant_id
    allowed = usage.plan_of(tenant_id).rate_limits["exports"]
    for _ in range(allowed):
        usage.limit_rate(tenant_id, "exports")
    with pytest.raises(RateLimitedError):
        usage.limit_rate(tenant_id, "exports")
    usage.release_rate(tenant_id, "exports", 1)
    assert usage.limit_rate(tenant_id, "exports") == allowed
    assert usage.limit_client_rate(tenant_id, "exports", "client-a", 3, 3) == 3
    with pytest.raises(RateLimitedError):
        usage.limit_client_rate(tenant_id, "exports", "client-a", 1, 3)

"""Plans (free, growth, pro) and their limits, and each tenant's plan and status (its profile, cached briefly):
the one table of what a plan allows. Counting what a tenant uses against it is :mod:`luxebrain.billing.usage`.

Exceeding a plan's quota is a 402 naming the limit; a feature the plan lacks is a 403; a rate limit, and the
spent storefront allowance, a 429 with Retry-After.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from luxebrain.caching import ExpiringCache
from luxebrain.errors import ForbiddenError, InvalidInputError, LuxeBrainError
from luxebrain.storage.tenants import Tenant, TenantRepository

PlanName = Literal["free", "growth", "pro"]
Period = Literal["month", "day", "minute", "held"]
SIZE_METRICS = ("products", "orders", "stores", "members")


class PlanLimitExceededError(LuxeBrainError):
    """A quota of the tenant's plan is used up (402 Payment Required: upgrading lifts it)."""

    status_code = 402

    def __init__(self, limit: str, allowed: int, plan: str) -> None:
        self.limit, self.allowed, self.plan = limit, allowed, plan
        super().__init__(f"the {plan} plan allows {allowed} {limit.replace('_', ' ')}; upgrade to raise the limit")


class PlanFeatureError(ForbiddenError):
    def __init__(self, feature: str, plan: str) -> None:
        self.limit, self.plan = feature, plan
        super().__init__(f"{feature.replace('_', ' ')} is not part of the {plan} plan")


class RateLimitedError(LuxeBrainError):
    status_code = 429

    def __init__(self, limit: str, allowed: int, retry_after: int) -> None:
        self.limit, self.allowed, self.retry_after = limit, allowed, retry_after
        super().__init__(f"too many {limit.replace('_', ' ')}: {allowed} per minute; retry in {retry_after} s")


class StorefrontAllowanceSpentError(LuxeBrainError):
    """The storefront key's monthly allowance is spent: storefront answers are refused until the next month
    (429, so widgets back off); the merchant's own API is unaffected."""

    status_code = 429

    def __init__(self, metric: str, allowed: int, plan: str, retry_after: int) -> None:
        self.limit, self.allowed, self.plan = f"{metric}_per_month", allowed, plan
        self.retry_after = retry_after
        what = metric.removeprefix("storefront_").replace("_", " ")
        super().__init__(
            f"the storefront allowance of the {plan} plan ({allowed} {what} a month) is spent; "
            "storefront answers resume next month or after an upgrade"
        )


@dataclass(frozen=True)
class Plan:
    name: PlanName
    monthly_price_eur: int
    # Quotas: a metric name -> (allowed, period). Counted with PlanUsage.consume().
    quotas: dict[str, tuple[int, Period]]
    # Size limits checked against current counts (products and orders held).
    max_products: int
    max_orders: int
    campaign_channels: frozenset[str]
    max_stores: int = 1
    max_members: int = 1
    # Per-minute rate limits of expensive or public routes.
    rate_limits: dict[str, int] = field(default_factory=dict)

    def size_limit(self, metric: str) -> int:
        """How many products, orders, stores or members the plan holds."""
        limits = {
            "products": self.max_products,
            "orders": self.max_orders,
            "stores": self.max_stores,
            "members": self.max_members,
        }
        if metric not in limits:
            raise InvalidInputError(f"{metric!r} is not a size limit; sizes are {', '.join(SIZE_METRICS)}")
        return limits[metric]

    def allowance(self, metric: str) -> tuple[int, Period]:
        """The allowed amount and period of a metered metric (a metric the plan lacks allows 0)."""
        if metric in SIZE_METRICS:
            return self.size_limit(metric), "held"
        if metric in self.quotas:
            return self.quotas[metric]
        if metric in CHANNEL_METRICS.values():
            return 0, "month"
        raise InvalidInputError(f"{metric!r} is not metered; metrics are {', '.join(METERED_METRICS)}")


CHANNEL_METRICS = {"email": "email_messages", "sms": "sms_messages", "whatsapp": "whatsapp_messages"}
METERED_METRICS = (
    *CHANNEL_METRICS.values(),
    "training_runs",
    "storefront_requests",
    "storefront_events",
    "events",
    "api_calls",
    *SIZE_METRICS,
)

PLANS: dict[str, Plan] = {
    "free": Plan(
        name="free",
        monthly_price_eur=0,
        quotas={
            "api_calls": (20_000, "month"),
            "training_runs": (2, "day"),
            "email_messages": (1_000, "month"),
            "storefront_requests": (50_000, "month"),
            # Widget events (impressions, clicks): metered apart from the merchant's own API calls.
            "storefront_events": (200_000, "month"),
            "events": (20_000, "month"),
        },
        max_products=500,
        max_orders=5_000,
        campaign_channels=frozenset({"email"}),
        max_stores=2,
        max_members=3,
        rate_limits={
            "storefront_requests": 120,
            "storefront_events": 1_200,
            "retrain": 2,
            "apply_prices": 5,
            "exports": 2,
        },
    ),
    "growth": Plan(
        name="growth",
        monthly_price_eur=49,
        quotas={
            "api_calls": (250_000, "month"),
            "training_runs": (8, "day"),
            "email_messages": (25_000, "month"),
            "sms_messages": (2_000, "month"),
            "storefront_requests": (1_000_000, "month"),
            # Widget events (impressions, clicks): metered apart from the merchant's own API calls.
            "storefront_events": (5_000_000, "month"),
            "events": (500_000, "month"),
        },
        max_products=10_000,
        max_orders=100_000,
        campaign_channels=frozenset({"email", "sms"}),
        max_stores=5,
        max_members=10,
        rate_limits={
            "storefront_requests": 600,
            "storefront_events": 6_000,
            "retrain": 5,
            "apply_prices": 20,
            "exports": 5,
        },
    ),
    "pro": Plan(
        name="pro",
        monthly_price_eur=199,
        quotas={
            "api_calls": (2_000_000, "month"),
            "training_runs": (48, "day"),
            "email_messages": (250_000, "month"),
            "sms_messages": (25_000, "month"),
            "whatsapp_messages": (25_000, "month"),
            "storefront_requests": (10_000_000, "month"),
            # Widget events (impressions, clicks): metered apart from the merchant's own API calls.
            "storefront_events": (50_000_000, "month"),
            "events": (5_000_000, "month"),
        },
        max_products=100_000,
        max_orders=2_000_000,
        campaign_channels=frozenset({"email", "sms", "whatsapp"}),
        max_stores=25,
        max_members=50,
        rate_limits={
            "storefront_requests": 3_000,
            "storefront_events": 30_000,
            "retrain": 10,
            "apply_prices": 60,
            "exports": 10,
        },
    ),
}


def get_plan(name: str) -> Plan:
    try:
        return PLANS[name]
    except KeyError:
        raise InvalidInputError(f"unknown plan {name!r}; plans are {', '.join(PLANS)}") from None


# ----------------------------------------------------------------------------- tenant profile (cached)
TENANT_CACHE_SECONDS = 10.0
_tenant_cache: ExpiringCache[str, Tenant] = ExpiringCache(TENANT_CACHE_SECONDS)


def tenant_profile(tenant_id: str, *, tenants: TenantRepository, fresh: bool = False) -> Tenant:
    """The tenant's profile (plan, status) from ``tenants``, cached for a few seconds per container."""
    return _tenant_cache.get(tenant_id, lambda: tenants.get_tenant(tenant_id), fresh=fresh)


def forget_tenant(tenant_id: str) -> None:
    _tenant_cache.forget(tenant_id)


def ensure_tenant_active(tenant_id: str, *, tenants: TenantRepository) -> Tenant:
    tenant = tenant_profile(tenant_id, tenants=tenants)
    if tenant.status != "active":
        raise ForbiddenError(f"this tenant is {tenant.status}; contact support")
    return tenant


def plan_of(tenant_id: str, *, tenants: TenantRepository) -> Plan:
    return get_plan(tenant_profile(tenant_id, tenants=tenants).plan)


def message_metric(channel: str) -> str:
    try:
        return CHANNEL_METRICS[channel]
    except KeyError:
        raise InvalidInputError(f"unknown channel {channel!r}") from None


def require_channel(tenant_id: str, channel: str, *, tenants: TenantRepository) -> None:
    """Campaign channels are plan features: SMS and WhatsApp on paid plans only (403 otherwise)."""
    plan = plan_of(tenant_id, tenants=tenants)
    if channel not in plan.campaign_channels:
        raise PlanFeatureError(f"{channel}_campaigns", plan.name)


def change_plan(tenant_id: str, plan_name: str, *, tenants: TenantRepository) -> Tenant:
    """Set a tenant's plan in ``tenants`` (platform admins; billing integration would call this)."""
    plan = get_plan(plan_name)
    tenant = tenants.set_tenant_plan(tenant_id, plan.name)
    forget_tenant(tenant_id)
    return tenant

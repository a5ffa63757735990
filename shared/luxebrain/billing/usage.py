"""Usage counted atomically in DynamoDB against the tenant's plan (:mod:`luxebrain.billing.plans`): the one
place that decides whether a tenant's plan allows a metered action.

Every counter is one item per tenant, metric and period, updated with ``ADD`` under a condition that the
new total stays within the limit, so two concurrent requests can never both take the last unit. An action
that can fail after it was counted (a message the provider refuses, a store that could not be created)
gives its unit back with :meth:`PlanUsage.release`, so a failure is never billed.

What is metered, and where it is counted (each caller names the metric; the limits live only in the plans):

- ``email_messages`` / ``sms_messages`` / ``whatsapp_messages`` per month: the sender, just before the
  provider call (campaigns and flows alike); a channel the plan lacks is a 403 when a campaign or flow is
  set up and a skipped send (with the reason) when it is sent.
- ``training_runs`` per day: on-demand retraining (API) and the scheduled dispatcher.
- ``storefront_requests`` per month: the storefront key's own allowance; when it is spent only storefront
  answers degrade (429), never the merchant's own API.
- ``events`` per month: each webhook delivery the ingest processor stores.
- ``api_calls`` per month: the merchant's own API calls (batched, see below).
- sizes held (not per period): ``products`` and ``orders`` (ingest, when a new one is stored), ``stores``
  and ``members`` (when one is added; given back when one is removed).

Exceeding a plan's quota is a 402 naming the limit; a feature the plan lacks is a 403; a rate limit, and the
spent storefront allowance, a 429 with Retry-After.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Protocol

from luxebrain.billing.plans import (
    CHANNEL_METRICS,
    METERED_METRICS,
    SIZE_METRICS,
    Period,
    Plan,
    PlanFeatureError,
    PlanLimitExceededError,
    RateLimitedError,
    StorefrontAllowanceSpentError,
    plan_of,
)
from luxebrain.errors import InvalidInputError
from luxebrain.runtime import configured_settings, on_reset
from luxebrain.storage.tenants import TenantRepository, tenant_repository


# ----------------------------------------------------------------------------- counters
def period_label(period: Period, at: datetime | None = None) -> str:
    at = at or datetime.now(UTC)
    if period == "held":
        return "held"
    if period == "month":
        return at.strftime("%Y-%m")
    if period == "day":
        return at.strftime("%Y-%m-%d")
    return at.strftime("%Y-%m-%dT%H:%M")


_PERIOD_SECONDS = {"month": 31 * 86400, "day": 86400, "minute": 60}


def seconds_until_period_ends(period: Period, at: datetime | None = None) -> int:
    at = at or datetime.now(UTC)
    if period == "month":
        following = (at.replace(day=28) + timedelta(days=4)).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    elif period == "day":
        following = at.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)
    else:
        following = at.replace(second=0, microsecond=0) + timedelta(minutes=1)
    return max(1, int((following - at).total_seconds()))


_RATE = "rate:"


class UsageCounter(Protocol):
    """Counting a metered metric against the tenant's plan and giving units back (:meth:`PlanUsage.consume`,
    :meth:`PlanUsage.release`): what every metered caller is given (ingest, seats, store connection, training
    runs, campaign sends; ``PlanUsage`` in the product, an in-memory counter in the unit tier)."""

    def consume(self, tenant_id: str, metric: str, amount: int = 1) -> int: ...

    def release(self, tenant_id: str, metric: str, amount: int = 1) -> None: ...


class UsageLimiter(UsageCounter, Protocol):
    """A :class:`UsageCounter` that also counts per-minute rates (:meth:`PlanUsage.limit_rate` and the
    rest): what the storefront limits and the API's expensive actions are given (``PlanUsage``)."""

    def limit_rate(self, tenant_id: str, action: str, amount: int = 1) -> int: ...

    def release_rate(self, tenant_id: str, action: str, amount: int) -> None: ...

    def limit_client_rate(self, tenant_id: str, action: str, client: str, amount: int, allowed: int) -> int: ...

    def release_client_rate(self, tenant_id: str, action: str, client: str, amount: int) -> None: ...


@dataclass(frozen=True)
class UsageLine:
    limit: str
    used: int
    allowed: int
    period: str


class PlanUsage:
    """The usage counters against each tenant's plan, both read through the ``TenantRepository`` given (the
    plan from the tenant's cached profile, the counters with its conditional ADD)."""

    def __init__(self, tenants: TenantRepository) -> None:
        self.tenants = tenants

    def plan_of(self, tenant_id: str) -> Plan:
        return plan_of(tenant_id, tenants=self.tenants)

    def _add_within(self, tenant_id: str, metric: str, period: Period, amount: int, allowed: int) -> int | None:
        """ADD ``amount`` to the counter if the total stays <= allowed; the new total, or None if it would not."""
        # Kept for two periods so the dashboard can show the previous one; then TTL removes it.
        expires_at = None if period == "held" else int(time.time()) + 2 * _PERIOD_SECONDS[period]
        return self.tenants.add_usage_within(
            tenant_id, metric, period_label(period), amount, allowed, expires_at=expires_at
        )

    def _subtract(self, tenant_id: str, metric: str, period: Period, amount: int) -> None:
        """Take ``amount`` off this period's counter, never below zero."""
        self.tenants.subtract_usage(tenant_id, metric, period_label(period), amount)

    def counter_value(self, tenant_id: str, metric: str, period: Period) -> int:
        return self.tenants.usage_of(tenant_id, metric, period_label(period))

    def consume(self, tenant_id: str, metric: str, amount: int = 1) -> int:
        """Count ``amount`` of a metered metric (see the module doc) before the action it pays for.

        Returns the new total; raises PlanLimitExceededError naming the limit when it would be exceeded (a
        channel the plan lacks is a PlanFeatureError, the spent storefront allowance a 429).
        """
        if amount < 1:
            raise InvalidInputError("amount must be at least 1")
        plan = self.plan_of(tenant_id)
        channel = next((name for name, channel_metric in CHANNEL_METRICS.items() if channel_metric == metric), None)
        if channel is not None and channel not in plan.campaign_channels:
            raise PlanFeatureError(f"{channel}_campaigns", plan.name)
        allowed, period = plan.allowance(metric)
        total = self._add_within(tenant_id, metric, period, amount, allowed)
        if total is None:
            if metric.startswith("storefront_"):
                raise StorefrontAllowanceSpentError(metric, allowed, plan.name, seconds_until_period_ends(period))
            limit = metric if period == "held" else f"{metric}_per_{period}"
            raise PlanLimitExceededError(limit, allowed, plan.name)
        return total

    def release(self, tenant_id: str, metric: str, amount: int = 1) -> None:
        """Give back ``amount`` counted by :meth:`consume` for an action that did not happen (a failed send, a
        store that was not created) or that was undone (a member removed). Never below zero."""
        if amount < 1:
            return
        self._subtract(tenant_id, metric, self.plan_of(tenant_id).allowance(metric)[1], amount)

    def limit_rate(self, tenant_id: str, action: str, amount: int = 1) -> int:
        """A per-tenant, per-minute limit of an expensive or public action; 429 with Retry-After beyond it."""
        plan = self.plan_of(tenant_id)
        allowed = plan.rate_limits.get(action)
        if allowed is None:
            raise InvalidInputError(f"{action!r} has no rate limit; limits are {', '.join(plan.rate_limits)}")
        total = self._add_within(tenant_id, f"{_RATE}{action}", "minute", amount, allowed)
        if total is None:
            retry_after = 60 - datetime.now(UTC).second
            raise RateLimitedError(f"{action}_per_minute", allowed, retry_after)
        return total

    def release_rate(self, tenant_id: str, action: str, amount: int) -> None:
        """Give back ``amount`` counted by :meth:`limit_rate` for a request refused by a later check."""
        if amount >= 1:
            self._subtract(tenant_id, f"{_RATE}{action}", "minute", amount)

    def limit_client_rate(self, tenant_id: str, action: str, client: str, amount: int, allowed: int) -> int:
        """A per-minute limit of one client of a tenant (``client`` is an opaque digest, never an address), so
        one browser or one script cannot use up the whole tenant's rate; 429 with Retry-After beyond it."""
        total = self._add_within(tenant_id, f"{_RATE}{action}:{client}", "minute", amount, allowed)
        if total is None:
            retry_after = 60 - datetime.now(UTC).second
            raise RateLimitedError(f"{action}_per_minute_per_client", allowed, retry_after)
        return total

    def release_client_rate(self, tenant_id: str, action: str, client: str, amount: int) -> None:
        """Give back ``amount`` counted by :meth:`limit_client_rate` for a request refused by a later check."""
        if amount >= 1:
            self._subtract(tenant_id, f"{_RATE}{action}:{client}", "minute", amount)

    def check_catalog_size(self, tenant_id: str, *, products: int, orders: int) -> None:
        """The plan's size limits against the store's current counts (ingest calls this)."""
        plan = self.plan_of(tenant_id)
        if products > plan.max_products:
            raise PlanLimitExceededError("products", plan.max_products, plan.name)
        if orders > plan.max_orders:
            raise PlanLimitExceededError("orders", plan.max_orders, plan.name)

    def usage_report(self, tenant_id: str) -> list[UsageLine]:
        """This period's use of every quota of the tenant's plan and the sizes it holds (the dashboard's plan
        page): one BatchGetItem."""
        plan = self.plan_of(tenant_id)
        metrics = [metric for metric in METERED_METRICS if metric in plan.quotas or metric in SIZE_METRICS]
        labels = {metric: period_label(plan.allowance(metric)[1]) for metric in metrics}
        counters = self.tenants.usage_counts(tenant_id, list(labels.items()))
        lines = []
        for metric in metrics:
            allowed, period = plan.allowance(metric)
            used = max(0, counters[(metric, labels[metric])])
            limit = metric if period == "held" else f"{metric}_per_{period}"
            lines.append(UsageLine(limit=limit, used=used, allowed=allowed, period=period_label(period)))
        return lines


@cache
def plan_usage() -> PlanUsage:
    """The product's usage counters, over the Dynamo tenants repository: made once per execution environment
    (again after a runtime reset), the table bound on the first call, not at import."""
    configured_settings()
    return PlanUsage(tenant_repository())


on_reset(plan_usage.cache_clear)


# ----------------------------------------------------------------------------- API calls (batched)
# Counting every API call with its own DynamoDB write would double the cost of a cheap read. Calls are
# counted in memory and added to the tenant's monthly counter in one conditional ADD every
# API_CALL_FLUSH_EVERY calls or API_CALL_FLUSH_SECONDS, whichever comes first; a container that is frozen
# or recycled loses at most that many uncounted calls. Once a flush would pass the quota the tenant gets
# 402s (until the next month, rechecked each minute so an upgrade applies quickly).
API_CALL_FLUSH_EVERY = 100
API_CALL_FLUSH_SECONDS = 30.0
_OVER_QUOTA_RECHECK_SECONDS = 60.0


class ApiCallMeter:
    """The merchant's API calls of this execution environment, counted in memory and flushed in batches to the
    ``PlanUsage`` given (:func:`api_call_meter` in the product: one per execution environment, so the batches
    are the container's)."""

    def __init__(self, usage: PlanUsage) -> None:
        self.usage = usage
        self._lock = threading.Lock()
        self._pending: dict[str, tuple[int, float]] = {}  # tenant -> (uncounted calls, first uncounted at)
        self._over_quota_until: dict[str, float] = {}
        # tenant -> calls its quota had left at this container's last flush: the next flush comes no later than
        # that many calls, so near the quota calls are counted before they pass it (unknown: the first call
        # flushes).
        self._left: dict[str, int] = {}

    def count(self, tenant_id: str) -> None:
        """Count one API call of the tenant against its monthly quota (402 once it is used up)."""
        now = time.monotonic()
        with self._lock:
            blocked_until = self._over_quota_until.get(tenant_id)
            if blocked_until is not None and blocked_until > now:
                blocked = True
            else:
                blocked = False
                self._over_quota_until.pop(tenant_id, None)
                pending, since = self._pending.get(tenant_id, (0, now))
                pending += 1
                flush_every = min(API_CALL_FLUSH_EVERY, max(self._left.get(tenant_id, 1), 1))
                due = pending >= flush_every or now - since >= API_CALL_FLUSH_SECONDS
                self._pending[tenant_id] = (0, now) if due else (pending, since)
        if blocked:
            plan = self.usage.plan_of(tenant_id)
            allowed, period = plan.quotas["api_calls"]
            raise PlanLimitExceededError(f"api_calls_per_{period}", allowed, plan.name)
        if due:
            self.flush(tenant_id, pending)

    def flush(self, tenant_id: str, pending: int | None = None) -> None:
        """Add the uncounted calls of a tenant to its counter now (also called by the benchmark and tests)."""
        if pending is None:
            with self._lock:
                pending, _ = self._pending.pop(tenant_id, (0, 0.0))
        if pending <= 0:
            return
        usage = self.usage
        plan = usage.plan_of(tenant_id)
        allowed, period = plan.quotas["api_calls"]
        total = usage._add_within(tenant_id, "api_calls", period, pending, allowed)
        if total is None:
            # The calls that fitted are counted, so the counter reaches the quota: dropping the whole batch
            # would let the next ones through uncounted, batch after batch.
            rest = allowed - usage.counter_value(tenant_id, "api_calls", period)
            if 0 < rest < pending:
                usage._add_within(tenant_id, "api_calls", period, rest, allowed)
            with self._lock:
                self._over_quota_until[tenant_id] = time.monotonic() + _OVER_QUOTA_RECHECK_SECONDS
                self._left[tenant_id] = 0
            raise PlanLimitExceededError(f"api_calls_per_{period}", allowed, plan.name)
        with self._lock:
            self._left[tenant_id] = allowed - total


@cache
def api_call_meter() -> ApiCallMeter:
    """The execution environment's API call batches, over :func:`plan_usage` (dropped by a runtime reset, with
    the calls not yet flushed)."""
    return ApiCallMeter(plan_usage())


on_reset(api_call_meter.cache_clear)

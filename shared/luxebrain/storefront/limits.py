"""The limits storefront traffic meets: a per-minute rate for each client of a key (its address, its visitor id),
then the key's own per-minute rate and monthly allowance (metered apart from the merchant's API calls).

The narrow limits come first: a client refused there never reaches the key's counters, and a refusal further on
gives back what the earlier ones counted, so one script's refused calls cannot spend the rate every shopper of
the shop shares. The counters are DynamoDB items that expire after two minutes, so memory stays bounded however
many addresses call.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from luxebrain.billing.usage import UsageLimiter

REQUESTS_PER_CLIENT_PER_MINUTE = 60  # a page view asks for one to three placements; below every plan's key rate


@dataclass(frozen=True)
class ClientLimit:
    """One client's per-minute rate for an action: ``client`` is an opaque digest (:func:`client_digest`)."""

    action: str
    client: str
    per_minute: int


def client_digest(tenant_id: str, source: str) -> str:
    """An opaque, tenant-scoped digest of an address or visitor id: enough to rate-limit, useless to identify."""
    return hashlib.sha256(f"{tenant_id}|{source}".encode()).hexdigest()[:20]


def charge_clients(
    tenant_id: str, limits: Sequence[ClientLimit], amount: int, *, usage: UsageLimiter
) -> Callable[[], None]:
    """Count ``amount`` on each client's rate in ``usage`` in turn (429 beyond one, giving back the ones counted);
    returns what gives them all back, for a refusal further on."""
    charged: list[ClientLimit] = []

    def give_back() -> None:
        for limit in reversed(charged):
            usage.release_client_rate(tenant_id, limit.action, limit.client, amount)

    try:
        for limit in limits:
            usage.limit_client_rate(tenant_id, limit.action, limit.client, amount, limit.per_minute)
            charged.append(limit)
    except BaseException:
        give_back()
        raise
    return give_back


def charge_key(
    tenant_id: str, metric: str, amount: int, *, refund_clients: Callable[[], None], usage: UsageLimiter
) -> None:
    """Count ``amount`` on the key's per-minute rate and its monthly allowance in ``usage`` (``metric`` names
    both); a refusal gives back the rate and the clients' counts."""
    try:
        usage.limit_rate(tenant_id, metric, amount)
    except BaseException:
        refund_clients()
        raise
    try:
        usage.consume(tenant_id, metric, amount)
    except BaseException:
        usage.release_rate(tenant_id, metric, amount)
        refund_clients()
        raise


def refund_key(tenant_id: str, metric: str, amount: int, *, usage: UsageLimiter) -> None:
    """Give back what :func:`charge_key` counted for calls that turned out not to need it (replays that won a
    race to the same event ids)."""
    if amount >= 1:
        usage.release_rate(tenant_id, metric, amount)
        usage.release(tenant_id, metric, amount)

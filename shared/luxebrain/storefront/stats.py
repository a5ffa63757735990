"""The daily counters of a placement and arm (one item per tenant, placement, arm and UTC day)."""

from __future__ import annotations

import time

from luxebrain.storage.storefront import StorefrontRepository

STATS_RETENTION_DAYS = 400


def add_to_stats(
    tenant_id: str, placement: str, arm: str, day: str, amounts: dict[str, float], *, storefront: StorefrontRepository
) -> None:
    # Kept a year (results over any recent period); the raw events are gone after RETENTION_DAYS.
    expires_at = int(time.time()) + STATS_RETENTION_DAYS * 86400
    storefront.add_to_daily_stats(tenant_id, placement, arm, day, amounts, expires_at=expires_at)

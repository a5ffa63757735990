"""The daily counters of a placement and arm (one item per tenant, placement, arm and UTC day)."""

from __future__ import annotations

import time

from luxebrain.storage.models import StorefrontStatsItem, key_storefront_stats

STATS_RETENTION_DAYS = 400


def add_to_stats(tenant_id: str, placement: str, arm: str, day: str, amounts: dict[str, float]) -> None:
    if not amounts:
        return
    pk, sk = key_storefront_stats(tenant_id, placement, arm, day)
    stats = StorefrontStatsItem(pk, sk)
    actions = [
        StorefrontStatsItem.entity.set(StorefrontStatsItem.ENTITY),
        StorefrontStatsItem.tenant_id.set(tenant_id),
        StorefrontStatsItem.placement.set(placement),
        StorefrontStatsItem.arm.set(arm),
        StorefrontStatsItem.day.set(day),
        # Kept a year (results over any recent period); the raw events are gone after RETENTION_DAYS.
        StorefrontStatsItem.expires_at.set(int(time.time()) + STATS_RETENTION_DAYS * 86400),
    ]
    actions += [getattr(StorefrontStatsItem, name).add(amount) for name, amount in amounts.items()]
    stats.update(actions=actions)

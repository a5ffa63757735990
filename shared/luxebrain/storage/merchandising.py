"""The merchandising repository: the tenant's recommendation rules (pin, boost, block)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from pynamodb.exceptions import DoesNotExist

from luxebrain.storage.items.merchandising import MerchandisingRulesItem, key_merchandising_rules


@dataclass(frozen=True)
class MerchandisingRules:
    pinned: tuple[str, ...] = ()
    boosts: Mapping[str, float] = field(default_factory=dict)
    blocked: frozenset[str] = frozenset()
    updated_at: datetime | None = None
    updated_by: str | None = None


NO_MERCHANDISING = MerchandisingRules()


def get_rules(tenant_id: str) -> MerchandisingRules:
    """The tenant's rules; none set is an empty set of rules."""
    try:
        item = MerchandisingRulesItem.get(*key_merchandising_rules(tenant_id))
    except DoesNotExist:
        return NO_MERCHANDISING
    return MerchandisingRules(
        pinned=tuple(item.pinned or ()),
        boosts={str(product): float(amount) for product, amount in (item.boosts or {}).items()},
        blocked=frozenset(item.blocked or ()),
        updated_at=item.updated_at,
        updated_by=item.updated_by,
    )


def save_rules(
    tenant_id: str,
    *,
    pinned: Sequence[str],
    boosts: Mapping[str, float],
    blocked: Sequence[str],
    actor: str,
) -> MerchandisingRules:
    """Replace the tenant's rules with these."""
    pk, sk = key_merchandising_rules(tenant_id)
    MerchandisingRulesItem(
        pk,
        sk,
        entity=MerchandisingRulesItem.ENTITY,
        tenant_id=tenant_id,
        pinned=list(pinned),
        boosts={str(product): float(amount) for product, amount in boosts.items()},
        blocked=list(blocked),
        updated_by=actor,
    ).save()
    return get_rules(tenant_id)

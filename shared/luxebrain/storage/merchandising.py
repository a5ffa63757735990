"""The merchandising repository: the tenant's recommendation rules (pin, boost, block)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

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


# ----------------------------------------------------------------------------- the repository a caller is given
class MerchandisingRepository(Protocol):
    """The merchant's recommendation rules as serving reads them and the rules route replaces them
    (``DynamoMerchandisingRepository`` in the product, an in-memory one in the unit tier)."""

    def get_rules(self, tenant_id: str) -> MerchandisingRules: ...

    def save_rules(
        self,
        tenant_id: str,
        *,
        pinned: Sequence[str],
        boosts: Mapping[str, float],
        blocked: Sequence[str],
        actor: str,
    ) -> MerchandisingRules: ...


class DynamoMerchandisingRepository:
    """The merchandising repository on the table: this module's read and write."""

    get_rules = staticmethod(get_rules)
    save_rules = staticmethod(save_rules)


def merchandising_repository() -> DynamoMerchandisingRepository:
    """The product's merchandising repository (stateless: the table is bound once per execution environment)."""
    return _REPOSITORY


_REPOSITORY = DynamoMerchandisingRepository()

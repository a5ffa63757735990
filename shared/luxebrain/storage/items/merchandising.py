"""The merchant's recommendation rules: products pinned first, boosted, or never shown."""

from __future__ import annotations

from pynamodb.attributes import JSONAttribute, ListAttribute, UnicodeAttribute

from luxebrain.storage.items.base import BaseItem
from luxebrain.tenancy import tenant_partition


class MerchandisingRulesItem(BaseItem):
    """One per tenant: the whole rule set is replaced at once (the screen edits it as one form)."""

    ENTITY = "merchandising_rules"
    pinned = ListAttribute(of=UnicodeAttribute, default=list)  # shown first, in this order
    boosts = JSONAttribute(default=dict)  # product id -> amount added to its score
    blocked = ListAttribute(of=UnicodeAttribute, default=list)  # never shown
    updated_by = UnicodeAttribute(null=True)


def key_merchandising_rules(tenant_id: str) -> tuple[str, str]:
    return tenant_partition(tenant_id), "MERCHANDISING_RULES"

"""Pricing: the merchant's decisions on price suggestions."""

from __future__ import annotations

from pynamodb.attributes import (
    JSONAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)

from luxebrain.storage.items.base import BaseItem, utc_now
from luxebrain.tenancy import tenant_partition


class PriceDecisionItem(BaseItem):
    """A merchant's decision on a price suggestion: approved (and applied to WooCommerce), rejected, or
    rolled back. ``change_record`` is what luxebrain.ml.pricing.apply returned: enough to undo the change."""

    ENTITY = "price_decision"
    decision_id = UnicodeAttribute()
    product_id = UnicodeAttribute()
    variation_id = UnicodeAttribute(null=True)
    status = UnicodeAttribute()  # applied | rejected | rolled_back
    model_version = UnicodeAttribute()
    decided_by = UnicodeAttribute()
    decided_at = UTCDateTimeAttribute(default=utc_now)
    reason = UnicodeAttribute(null=True)
    suggestion = JSONAttribute(default=dict)
    change_record = JSONAttribute(null=True)
    rollback_record = JSONAttribute(null=True)


def key_price_decision(tenant_id: str, decision_id: str) -> tuple[str, str]:
    # Decision ids start with the decision time, so a query of the partition lists them in time order.
    return tenant_partition(tenant_id, "PRICE_DECISION"), decision_id

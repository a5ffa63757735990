"""Storefront events: what shoppers saw and clicked, exposures and daily counters.

No personal data: the visitor is a random id the widget keeps in the browser; every item expires (TTL).
"""

from __future__ import annotations

from pynamodb.attributes import (
    ListAttribute,
    MapAttribute,
    NumberAttribute,
    UnicodeAttribute,
)

from luxebrain.storage.items.base import BaseItem
from luxebrain.tenancy import tenant_partition


# What shoppers saw and clicked on the shop's own pages. No personal data: the visitor is a random id the
# widget keeps in the browser; every item expires (TTL) after STOREFRONT_RETENTION_DAYS.
class StorefrontEventItem(BaseItem):
    """One recorded widget event (impression, click, add-to-cart), keyed by its random event id inside the
    visitor's partition, so a replayed event is a failed conditional put and attribution reads one query."""

    ENTITY = "storefront_event"
    visitor_id = UnicodeAttribute()
    event_type = UnicodeAttribute()  # impression | click | add_to_cart
    placement = UnicodeAttribute()
    arm = UnicodeAttribute()  # treatment | holdout, recomputed from the visitor id, never from the body
    product_ids = ListAttribute(of=UnicodeAttribute, default=list)
    model_version = UnicodeAttribute(default="")
    response_id = UnicodeAttribute(default="")
    occurred_at = NumberAttribute()  # epoch seconds (the server's clock when the widget's is implausible)


class StorefrontExposureItem(BaseItem):
    """A visitor's first exposure to a placement, with the orders attributed to it (each order once)."""

    ENTITY = "storefront_exposure"
    visitor_id = UnicodeAttribute()
    placement = UnicodeAttribute()
    arm = UnicodeAttribute()
    first_seen = NumberAttribute()
    day = UnicodeAttribute()  # UTC day of the first exposure: the stats row the visitor is counted in
    revenue = NumberAttribute(default=0)
    order_ids = ListAttribute(of=UnicodeAttribute, default=list)  # counted as charged, before net was kept
    # order id -> {"revenue": net product revenue, "attributed": net clicked revenue} as counted now: a later
    # delivery of the order (a refund) adds the difference, once.
    counted_orders = MapAttribute(null=True)


class StorefrontStatsItem(BaseItem):
    """Counters of one placement, arm and UTC day, updated with ADD (one update per group in a batch)."""

    ENTITY = "storefront_stats"
    placement = UnicodeAttribute()
    arm = UnicodeAttribute()
    day = UnicodeAttribute()
    impressions = NumberAttribute(default=0)
    clicks = NumberAttribute(default=0)
    add_to_carts = NumberAttribute(default=0)
    visitors = NumberAttribute(default=0)
    converting_visitors = NumberAttribute(default=0)
    orders = NumberAttribute(default=0)
    revenue = NumberAttribute(default=0)  # all orders of the exposed visitors (intent to treat)
    revenue_squares = NumberAttribute(default=0)  # sum over visitors of (their revenue)^2, for the interval
    attributed_orders = NumberAttribute(default=0)
    attributed_revenue = NumberAttribute(default=0)  # order lines of products the visitor clicked here


def visitor_partition(tenant_id: str, visitor_id: str) -> str:
    return tenant_partition(tenant_id, "VISITOR", visitor_id)


def key_storefront_event(tenant_id: str, visitor_id: str, event_id: str) -> tuple[str, str]:
    return visitor_partition(tenant_id, visitor_id), f"EVENT#{event_id}"


def key_storefront_exposure(tenant_id: str, visitor_id: str, placement: str) -> tuple[str, str]:
    return visitor_partition(tenant_id, visitor_id), f"EXPOSURE#{placement}"


def storefront_stats_partition(tenant_id: str) -> str:
    return tenant_partition(tenant_id, "STOREFRONT_STATS")


def key_storefront_stats(tenant_id: str, placement: str, arm: str, day: str) -> tuple[str, str]:
    # Day first in the sort key: the results read one range of days across every placement with one query.
    return storefront_stats_partition(tenant_id), f"{day}#{placement}#{arm}"

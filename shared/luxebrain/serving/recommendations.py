"""Recommendations as the API serves them: the tenant's current model plus the serving-time rules that come
from the catalogue as it is now (a product that just went out of stock disappears without retraining)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from luxebrain.billing.plans import tenant_profile
from luxebrain.caching import ExpiringCache
from luxebrain.ml.recommend.rules import NO_RULES, RecommendationRules
from luxebrain.serving.loader import current_serving
from luxebrain.storage.catalogue import iter_products

if TYPE_CHECKING:
    from luxebrain.ml.recommend.serving import Recommender

# Products that may not be shown (out of stock, unpublished, deleted) and every product the store has, per
# tenant, refreshed each minute: one partition query per tenant per minute instead of one per request.
AVAILABILITY_SECONDS = 60.0


@dataclass(frozen=True)
class _Catalogue:
    known: frozenset[str]  # every product the store has
    hidden: frozenset[str]  # those that may not be shown


_catalogues: ExpiringCache[str, _Catalogue] = ExpiringCache(AVAILABILITY_SECONDS)


def _catalogue_of(tenant_id: str) -> _Catalogue:
    return _catalogues.get(tenant_id, lambda: _read_catalogue(tenant_id))


def _read_catalogue(tenant_id: str) -> _Catalogue:
    hide_out_of_stock = (tenant_profile(tenant_id).settings or {}).get("recommendations_exclude_out_of_stock", True)
    known: set[str] = set()
    hidden: set[str] = set()
    for product in iter_products(tenant_id):
        if not product.deleted:
            known.add(product.product_id)
        if (
            product.deleted
            or product.status != "publish"
            or (hide_out_of_stock and product.stock_status == "outofstock")
        ):
            hidden.add(product.product_id)
    return _Catalogue(frozenset(known), frozenset(hidden))


def unavailable_products(tenant_id: str) -> frozenset[str]:
    return _catalogue_of(tenant_id).hidden


def catalogue_products(tenant_id: str) -> frozenset[str]:
    """Every product (and variation) id the tenant's store has, deleted ones excepted."""
    return _catalogue_of(tenant_id).known


def recommender_with_rules(tenant_id: str) -> tuple[Recommender, str, RecommendationRules]:
    """The current model, its version, and the rules: what may not be shown right now, and the merchant's own
    (pinned first, boosted, blocked)."""
    from luxebrain.serving.merchandising import rules_of

    recommender, version = current_serving(tenant_id, "recommend")
    hidden = unavailable_products(tenant_id)
    merchant = rules_of(tenant_id)
    if not hidden and not (merchant.pinned or merchant.boosts or merchant.blocked):
        return recommender, version, NO_RULES
    rules = RecommendationRules(unavailable=hidden, pin=merchant.pinned, boost=merchant.boosts, block=merchant.blocked)
    return recommender, version, rules

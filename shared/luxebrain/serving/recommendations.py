"""Recommendations as the API serves them: the tenant's current model plus the serving-time rules that come
from the catalogue as it is now (a product that just went out of stock disappears without retraining)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from luxebrain.billing.plans import tenant_profile
from luxebrain.caching import ExpiringCache
from luxebrain.ml.recommend.rules import NO_RULES, RecommendationRules
from luxebrain.storage.catalogue import CatalogueRepository
from luxebrain.storage.merchandising import MerchandisingRepository
from luxebrain.storage.tenants import TenantRepository

if TYPE_CHECKING:
    from luxebrain.ml.recommend.serving import Recommender
    from luxebrain.serving.loader import ModelCache

# Products that may not be shown (out of stock, unpublished, deleted) and every product the store has, per
# tenant, refreshed each minute: one partition query per tenant per minute instead of one per request.
AVAILABILITY_SECONDS = 60.0


@dataclass(frozen=True)
class _Catalogue:
    known: frozenset[str]  # every product the store has
    hidden: frozenset[str]  # those that may not be shown, out-of-stock ones aside
    hidden_when_out_of_stock_hidden: frozenset[str]  # the same with the out-of-stock ones (``hidden`` if none)


_catalogues: ExpiringCache[str, _Catalogue] = ExpiringCache(AVAILABILITY_SECONDS)
# The merchant's out-of-stock setting as the availability window last read it: a change applies within the
# window, as the catalogue's own changes do. Apart from the catalogue view, so that the view (every product id,
# which the storefront events and the merchandising rules check against) needs no tenants repository.
_hides_out_of_stock: ExpiringCache[str, bool] = ExpiringCache(AVAILABILITY_SECONDS)


def _catalogue_of(tenant_id: str, catalogue: CatalogueRepository) -> _Catalogue:
    return _catalogues.get(tenant_id, lambda: _read_catalogue(tenant_id, catalogue))


def _read_catalogue(tenant_id: str, catalogue: CatalogueRepository) -> _Catalogue:
    known: set[str] = set()
    hidden: set[str] = set()
    out_of_stock: set[str] = set()  # shown unless the merchant hides out-of-stock products
    for product in catalogue.iter_products(tenant_id):
        if not product.deleted:
            known.add(product.product_id)
        if product.deleted or product.status != "publish":
            hidden.add(product.product_id)
        elif product.stock_status == "outofstock":
            out_of_stock.add(product.product_id)
    always = frozenset(hidden)
    return _Catalogue(frozenset(known), always, frozenset(hidden | out_of_stock) if out_of_stock else always)


def _hides_out_of_stock_of(tenant_id: str, tenants: TenantRepository) -> bool:
    settings = tenant_profile(tenant_id, tenants=tenants).settings or {}
    return bool(settings.get("recommendations_exclude_out_of_stock", True))


def unavailable_products(tenant_id: str, catalogue: CatalogueRepository, tenants: TenantRepository) -> frozenset[str]:
    """The products of ``catalogue`` that may not be shown now, out-of-stock ones as the tenant's settings in
    ``tenants`` say."""
    view = _catalogue_of(tenant_id, catalogue)
    # The merchant's setting only matters when a product that could be shown is out of stock.
    if view.hidden_when_out_of_stock_hidden is view.hidden:
        return view.hidden
    if _hides_out_of_stock.get(tenant_id, lambda: _hides_out_of_stock_of(tenant_id, tenants)):
        return view.hidden_when_out_of_stock_hidden
    return view.hidden


def catalogue_products(tenant_id: str, catalogue: CatalogueRepository) -> frozenset[str]:
    """Every product (and variation) id the tenant's store has, deleted ones excepted."""
    return _catalogue_of(tenant_id, catalogue).known


def recommender_with_rules(
    tenant_id: str,
    *,
    models: ModelCache,
    catalogue: CatalogueRepository,
    merchandising: MerchandisingRepository,
    tenants: TenantRepository,
) -> tuple[Recommender, str, RecommendationRules]:
    """The current model (from ``models``), its version, and the rules: what of ``catalogue`` may not be shown
    right now (out-of-stock products as the tenant's settings in ``tenants`` say), and the merchant's own from
    ``merchandising`` (pinned first, boosted, blocked)."""
    from luxebrain.serving.merchandising import rules_of

    recommender, version = models.current_serving(tenant_id, "recommend")
    hidden = unavailable_products(tenant_id, catalogue, tenants)
    merchant = rules_of(tenant_id, merchandising)
    if not hidden and not (merchant.pinned or merchant.boosts or merchant.blocked):
        return recommender, version, NO_RULES
    rules = RecommendationRules(unavailable=hidden, pin=merchant.pinned, boost=merchant.boosts, block=merchant.blocked)
    return recommender, version, rules

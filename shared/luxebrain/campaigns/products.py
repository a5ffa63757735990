"""Product data for messages: the tenant's catalogue (cached per container for a few minutes) and the
personalised product block from the recommendation model, in stock and published only.

No recommendation model yet (a new store) or a failure loading it: the message goes out without a product
block, and the reason is logged once per tenant and cache period, never silently.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

from luxebrain.campaigns.sources import ServingModels
from luxebrain.observability import logger
from luxebrain.runtime import on_reset
from luxebrain.storage.catalogue import CatalogueRepository
from luxebrain.storage.tenants import TenantRepository

CATALOG_TTL_SECONDS = 300.0
NO_MODEL_RECHECK_SECONDS = 60.0  # a newly trained model is used within a minute


@dataclass(frozen=True)
class ProductView:
    product_id: str
    name: str
    price: float | None
    regular_price: float | None
    in_stock: bool
    published: bool
    category: str | None

    def as_context(self, store_url: str) -> dict[str, Any]:
        return {
            "product_id": self.product_id,
            "name": self.name,
            "price": self.price or 0.0,
            "url": product_url(store_url, self.product_id),
        }


@dataclass(frozen=True)
class Catalog:
    products: dict[str, ProductView]
    currency: str
    store_url: str

    @property
    def available(self) -> frozenset[str]:
        return frozenset(p.product_id for p in self.products.values() if p.in_stock and p.published)


def product_url(store_url: str, product_id: str) -> str:
    # WooCommerce resolves ?p=<id> to the product's permalink whatever the permalink settings are.
    return f"{store_url.rstrip('/')}/?p={product_id}"


_catalogs: dict[str, tuple[float, Catalog]] = {}
_model_notes: dict[str, float] = {}
_lock = threading.Lock()
on_reset(_catalogs.clear)
on_reset(_model_notes.clear)


def load_catalog(
    tenant_id: str, *, tenants: TenantRepository, catalogue: CatalogueRepository, fresh: bool = False
) -> Catalog:
    """The tenant's published products from ``catalogue``, with the currency and URL of its first store in
    ``tenants``."""
    with _lock:
        cached = _catalogs.get(tenant_id)
        if cached and not fresh and cached[0] > time.monotonic():
            return cached[1]
    products: dict[str, ProductView] = {}
    for item in catalogue.iter_products(tenant_id):
        if item.deleted or item.parent_id:  # variations are shown through their parent product
            continue
        products[item.product_id] = ProductView(
            product_id=item.product_id,
            name=item.name or f"Product {item.product_id}",
            price=float(item.price) if item.price is not None else None,
            regular_price=float(item.regular_price) if item.regular_price is not None else None,
            in_stock=item.stock_status == "instock",
            published=item.status == "publish",
            category=(list(item.categories) or [None])[0],
        )
    stores = tenants.list_stores(tenant_id)
    currency = stores[0].currency if stores else "EUR"
    store_url = stores[0].url if stores else ""
    catalog = Catalog(products, currency, store_url)
    with _lock:
        _catalogs[tenant_id] = (time.monotonic() + CATALOG_TTL_SECONDS, catalog)
    return catalog


def _recommender(tenant_id: str, models: ServingModels) -> Any | None:
    now = time.monotonic()
    if _model_notes.get(tenant_id, 0.0) > now:
        return None  # known to have no usable model a moment ago: no lookup per message
    try:
        recommender, _version = models.current_serving(tenant_id, "recommend")
        return recommender
    except Exception as exc:  # no model yet, or one that fails to load: degrade, say why (once a while)
        if _model_notes.get(tenant_id, 0.0) < now:
            _model_notes[tenant_id] = now + NO_MODEL_RECHECK_SECONDS
            logger.info(
                "no product block: recommendation model unavailable",
                extra={"tenant_id": tenant_id, "reason": f"{type(exc).__name__}: {exc}"},
            )
        return None


def product_block(
    tenant_id: str,
    customer_id: str,
    catalog: Catalog,
    store_url: str,
    *,
    models: ServingModels,
    seed_products: list[str] | None = None,
    exclude: list[str] | None = None,
    k: int = 3,
) -> tuple[list[dict[str, Any]], str | None]:
    """Up to ``k`` products for this customer (or to go with ``seed_products``) from the recommendation model of
    ``models`` and, when empty, why."""
    recommender = _recommender(tenant_id, models)
    if recommender is None:
        return [], "no recommendation model for this tenant"
    from luxebrain.ml.recommend.serving import RecommendationRules

    rules = RecommendationRules(in_stock=catalog.available, exclude=frozenset(exclude or ()))
    try:
        if seed_products:
            recommendations = recommender.similar(list(seed_products), k=k, rules=rules)
        else:
            recommendations = recommender.for_customer(customer_id, k=k, rules=rules)
    except ValueError as exc:
        return [], f"recommendations failed: {exc}"
    block = [
        catalog.products[pid].as_context(store_url) for pid in recommendations.product_ids if pid in catalog.products
    ]
    return block, None if block else "no in-stock recommendation"

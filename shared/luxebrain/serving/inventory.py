"""Inventory advice from the demand forecast, the store's current stock levels (WooCommerce product data) and the
merchant's supply terms of each product (its own lead time, its supplier)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Literal

from luxebrain.auth.members import record_audit
from luxebrain.errors import InvalidInputError
from luxebrain.storage.catalogue import CatalogueRepository, Product, ProductSupply
from luxebrain.storage.tenants import AuditTrail

if TYPE_CHECKING:  # the forecast model (numpy) is loaded by the time a Forecasts object reaches this module
    from luxebrain.ml.forecast.serving import Forecasts, InventoryAdvice

__all__ = ["ProductAdvice", "ProductSupply", "product_advice", "reorder_list", "replace_supply", "supply_of"]


@dataclass(frozen=True)
class ProductAdvice:
    """The advice for one product with the supply terms it was computed from."""

    advice: InventoryAdvice
    supplier: str | None
    lead_time_source: Literal["product", "default"]  # the product's own lead time, or the one asked for all
    lead_time_counted_days: int  # days of demand counted: the lead time, or the forecast's horizon if shorter

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.advice.to_dict(),
            "supplier": self.supplier,
            "lead_time_source": self.lead_time_source,
            "lead_time_counted_days": self.lead_time_counted_days,
        }


def _advise(
    forecasts: Forecasts, product: Product, supply: ProductSupply | None, default_lead_time: int, service_level: float
) -> ProductAdvice:
    own = supply.lead_time_days if supply else None
    lead_time = own or default_lead_time
    # A supplier's lead time may outrun the forecast (26 weeks at most): demand is counted over the horizon only,
    # and the explanation says so rather than the advice failing.
    counted = min(lead_time, 7 * forecasts.horizon_weeks)
    advice = forecasts.inventory_advice(product.product_id, float(product.stock_quantity or 0), counted, service_level)
    if counted < lead_time:
        advice = replace(
            advice,
            lead_time_days=lead_time,
            explanation=advice.explanation
            + f" The lead time is {lead_time} days but the forecast reaches {counted}: demand after day"
            f" {counted} is not counted, so this quantity is a lower bound.",
        )
    return ProductAdvice(
        advice=advice,
        supplier=supply.supplier if supply else None,
        lead_time_source="product" if own else "default",
        lead_time_counted_days=counted,
    )


def product_advice(
    tenant_id: str,
    catalogue: CatalogueRepository,
    forecasts: Forecasts,
    product_id: str,
    default_lead_time: int,
    service_level: float,
) -> ProductAdvice:
    """Advice for one product of the tenant, with its own lead time if the merchant set one (NotFoundError for
    another tenant's or an unknown product)."""
    product = catalogue.get_product(tenant_id, product_id)
    if product.stock_quantity is None:
        raise InvalidInputError(f"product {product_id} does not manage stock in WooCommerce; no advice to give")
    supply = catalogue.get_product_supply(tenant_id, product_id)
    return _advise(forecasts, product, supply, default_lead_time, service_level)


def reorder_list(
    tenant_id: str,
    catalogue: CatalogueRepository,
    forecasts: Forecasts,
    default_lead_time: int,
    service_level: float,
    limit: int,
) -> tuple[list[ProductAdvice], int]:
    """Products to reorder now, shortest cover first (those that will last forever last), and how many
    products were checked (stock managed, not deleted, known to the forecast). Each product is advised with its
    own lead time where the merchant set one, ``default_lead_time`` otherwise."""
    known = set(forecasts.product_ids)
    supplies = catalogue.product_supplies(tenant_id)
    advice: list[ProductAdvice] = []
    checked = 0
    for product in catalogue.iter_products(tenant_id):
        if product.deleted or product.stock_quantity is None or product.product_id not in known:
            continue
        checked += 1
        answer = _advise(forecasts, product, supplies.get(product.product_id), default_lead_time, service_level)
        if answer.advice.reorder_now:
            advice.append(answer)
    advice.sort(key=lambda a: (a.advice.days_of_cover is None, a.advice.days_of_cover or 0.0))
    return advice[:limit], checked


def supply_of(tenant_id: str, catalogue: CatalogueRepository, product_id: str) -> ProductSupply:
    """The supply terms of a product of the tenant's catalogue (NotFoundError for an unknown product)."""
    catalogue.get_product(tenant_id, product_id)
    return catalogue.get_product_supply(tenant_id, product_id)


def replace_supply(
    tenant_id: str,
    catalogue: CatalogueRepository,
    product_id: str,
    *,
    lead_time_days: int | None,
    supplier: str | None,
    actor: str,
    audit: AuditTrail,
) -> ProductSupply:
    """Set the supply terms of a product of the tenant's catalogue (None clears a term), audited in ``audit``."""
    catalogue.get_product(tenant_id, product_id)
    saved = catalogue.save_product_supply(
        tenant_id, product_id, lead_time_days=lead_time_days, supplier=supplier, actor=actor
    )
    record_audit(
        tenant_id,
        action="product_supply.changed",
        actor=actor,
        audit=audit,
        details={"product_id": product_id, "lead_time_days": lead_time_days, "supplier": supplier},
    )
    return saved

"""Inventory advice from the demand forecast and the store's current stock levels (WooCommerce product data)."""

from __future__ import annotations

from luxebrain.errors import InvalidInputError
from luxebrain.ml.forecast.serving import Forecasts, InventoryAdvice
from luxebrain.storage.catalogue import get_product, iter_products


def product_advice(
    tenant_id: str, forecasts: Forecasts, product_id: str, lead_time_days: int, service_level: float
) -> InventoryAdvice:
    """Advice for one product of the tenant (NotFoundError for another tenant's or an unknown product)."""
    product = get_product(tenant_id, product_id)
    if product.stock_quantity is None:
        raise InvalidInputError(f"product {product_id} does not manage stock in WooCommerce; no advice to give")
    return forecasts.inventory_advice(product_id, float(product.stock_quantity), lead_time_days, service_level)


def reorder_list(
    tenant_id: str, forecasts: Forecasts, lead_time_days: int, service_level: float, limit: int
) -> tuple[list[InventoryAdvice], int]:
    """Products to reorder now, shortest cover first (those that will last forever last), and how many
    products were checked (stock managed, not deleted, known to the forecast)."""
    known = set(forecasts.product_ids)
    advice: list[InventoryAdvice] = []
    checked = 0
    for product in iter_products(tenant_id):
        if product.deleted or product.stock_quantity is None or product.product_id not in known:
            continue
        checked += 1
        answer = forecasts.inventory_advice(
            product.product_id, float(product.stock_quantity), lead_time_days, service_level
        )
        if answer.reorder_now:
            advice.append(answer)
    advice.sort(key=lambda a: (a.days_of_cover is None, a.days_of_cover or 0.0))
    return advice[:limit], checked

"""The one tabular shape every model trains on, whatever the source (DynamoDB snapshot, CSV, sample store).

Training code (ML layer) takes pandas frames with these columns; serving code never imports pandas.

``order_lines`` (one row per purchased line of a *paid* order; refunds / cancellations already removed):
    order_id: str, customer_id: str (guests: "guest:<sha256 of e-mail>"), product_id: str,
    ordered_at: datetime64[ns, UTC], quantity: float, unit_price: float, line_total: float
    optional: category: str, variation_id: str

``products`` (the catalogue as it is now):
    product_id: str, name: str, category: str, price: float, regular_price: float,
    stock_quantity: float (NaN when not managed), in_stock: bool, published: bool, cost: float (NaN when unknown)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pandas only in the ML layer; importing this module must stay cheap
    import pandas as pd

ORDER_LINE_COLUMNS: dict[str, str] = {
    "order_id": "object",
    "customer_id": "object",
    "product_id": "object",
    "ordered_at": "datetime64[ns, UTC]",
    "quantity": "float64",
    "unit_price": "float64",
    "line_total": "float64",
}
PRODUCT_COLUMNS: dict[str, str] = {
    "product_id": "object",
    "name": "object",
    "category": "object",
    "price": "float64",
    "regular_price": "float64",
    "stock_quantity": "float64",
    "in_stock": "bool",
    "published": "bool",
    "cost": "float64",
}


class DatasetError(ValueError):
    """A frame is missing a column or holds values that cannot be used."""


def require_columns(frame: pd.DataFrame, columns: dict[str, str] | list[str], what: str) -> None:
    """Raise a DatasetError naming every missing column."""
    missing = [column for column in columns if column not in frame.columns]
    if missing:
        raise DatasetError(f"{what} is missing column(s): {', '.join(missing)}")

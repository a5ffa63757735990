"""The two answers the pricing model gives per product, as plain data without numpy: a price to propose, or why
there is none. The API's price routes tell them apart without loading the model (luxebrain.ml.pricing.serving),
which is loaded when a request first asks for suggestions.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class PriceSuggestion:
    """A price to propose to the merchant, with what it is expected to do over ``horizon_weeks``."""

    product_id: str
    variation_id: str | None
    kind: str  # "regular" (new regular price, any sale cleared) or "sale" (sale price for sale_weeks)
    current_price: float
    suggested_price: float
    change: float  # fraction, +0.08 = 8 % up
    sale_weeks: int | None
    expected_units_change: float
    expected_revenue_change: float
    expected_margin_change: float
    horizon_weeks: int
    elasticity: float
    elasticity_interval: tuple[float, float]
    confidence: str  # "high" / "medium" / "low"
    reasons: list[str]
    bound_by: list[str]
    currency: str
    auto_apply: bool

    def to_dict(self) -> dict[str, Any]:
        return {"type": "suggestion", **asdict(self), "elasticity_interval": list(self.elasticity_interval)}


@dataclass(frozen=True)
class NoSuggestion:
    """Why a product gets no suggestion (``code`` is stable for the API; ``reason`` is for people)."""

    product_id: str
    variation_id: str | None
    code: str
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {"type": "no_suggestion", **asdict(self)}

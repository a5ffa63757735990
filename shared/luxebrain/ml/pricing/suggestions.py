"""The two answers the pricing model gives per product, as plain data without numpy: a price to propose, or why
there is none. The API's price routes tell them apart without loading the model (luxebrain.ml.pricing.serving),
which is loaded when a request first asks for suggestions.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any


@dataclass(frozen=True)
class PriceSuggestion:
    """A price to propose to the merchant, with what it is expected to do over ``horizon_weeks``."""

    product_id: str
    variation_id: str | None
    # "regular" (new regular price, any sale cleared), "sale" (sale price for sale_weeks) or "test" (a leg of a
    # switchback test: a new regular price for one period of ``test``)
    kind: str
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
    test: SwitchbackTest | None = None  # the test this leg belongs to (kind "test" only)

    def to_dict(self) -> dict[str, Any]:
        values = {**asdict(self), "elasticity_interval": list(self.elasticity_interval)}
        values["test"] = self.test.to_dict() if self.test else None
        return {"type": "suggestion", **values}


@dataclass(frozen=True)
class SwitchbackTest:
    """A bounded price test of one product: its price alternates between ``high_price`` and ``low_price``
    (both inside the guardrails, the same for every customer), one period each, ``periods`` periods from
    ``started_at``, so its own sales identify its elasticity. Recorded with every leg's price decision."""

    started_at: datetime
    centre_price: float  # the price the optimisation chose when the test was proposed
    high_price: float
    low_price: float
    period_weeks: int
    periods: int
    starts_high: bool = True  # the first leg is the one nearer the centre
    declined: bool = False  # the merchant rejected or rolled back a leg: never proposed again

    def leg_at(self, now: datetime) -> int | None:
        """The period ``now`` falls in (0 = the first), None before or after the test."""
        if self.declined:
            return None
        elapsed = (now - self.started_at) / timedelta(weeks=self.period_weeks)
        leg = math.floor(elapsed + 1e-9)
        return leg if 0 <= leg < self.periods else None

    def price_of(self, leg: int) -> float:
        return self.high_price if (leg % 2 == 0) == self.starts_high else self.low_price

    @property
    def ends_at(self) -> datetime:
        return self.started_at + timedelta(weeks=self.period_weeks * self.periods)

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "started_at": self.started_at.isoformat()}

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> SwitchbackTest:
        return cls(
            started_at=datetime.fromisoformat(str(values["started_at"])),
            centre_price=float(values["centre_price"]),
            high_price=float(values["high_price"]),
            low_price=float(values["low_price"]),
            period_weeks=int(values["period_weeks"]),
            periods=int(values["periods"]),
            starts_high=bool(values.get("starts_high", True)),
            declined=bool(values.get("declined", False)),
        )


@dataclass(frozen=True)
class NoSuggestion:
    """Why a product gets no suggestion (``code`` is stable for the API; ``reason`` is for people)."""

    product_id: str
    variation_id: str | None
    code: str
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {"type": "no_suggestion", **asdict(self)}

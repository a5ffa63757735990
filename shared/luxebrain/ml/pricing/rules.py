"""Pricing guardrails: floors, ceilings, step limits, never-discount tags, price endings, currency rounding.

Serving code: stdlib + pydantic only (numpy is not even needed). Every price the suggestion engine proposes
passes through :func:`price_bounds` (the interval every guardrail allows) and :func:`ending_candidates`
(the prices inside that interval with the right ending, rounded to the currency's minor units), so a
suggestion can only ever be a price that satisfies every guardrail at once; when no such price exists the
caller gets an :class:`Unsatisfiable` with a reason instead.

Margins are *gross margins on the price*: a minimum margin of 0.30 means ``price >= cost / (1 - 0.30)``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator, model_validator

# ISO 4217 minor units for currencies that do not use two decimals; every other code uses 2.
_MINOR_UNITS_EXCEPTIONS: dict[str, int] = {
    "BIF": 0, "CLP": 0, "DJF": 0, "GNF": 0, "ISK": 0, "JPY": 0, "KMF": 0, "KRW": 0, "PYG": 0,
    "RWF": 0, "UGX": 0, "UYI": 0, "VND": 0, "VUV": 0, "XAF": 0, "XOF": 0, "XPF": 0,
    "BHD": 3, "IQD": 3, "JOD": 3, "KWD": 3, "LYD": 3, "OMR": 3, "TND": 3,
}  # fmt: skip

# Tolerance when comparing a rounded price with a bound, in minor units: absorbs float noise only.
_EPSILON_MINOR = 1e-6


class GuardrailError(ValueError):
    """A guardrail setting is invalid (e.g. a negative step or an ending the currency cannot express)."""


def currency_minor_units(currency: str) -> int:
    """Decimals of a currency (ISO 4217): 2 for EUR / USD / GBP, 0 for JPY, 3 for KWD."""
    code = currency.strip().upper()
    if len(code) != 3 or not code.isalpha():
        raise GuardrailError(f"currency {currency!r} is not a three-letter ISO 4217 code")
    return _MINOR_UNITS_EXCEPTIONS.get(code, 2)


class GuardrailOverride(BaseModel):
    """Per-category settings; every field left as None falls back to the tenant default."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    min_margin: float | None = Field(default=None, ge=0.0, lt=1.0)
    floor_price: float | None = Field(default=None, ge=0.0)
    ceiling_price: float | None = Field(default=None, gt=0.0)
    max_markup: float | None = Field(default=None, gt=1.0)
    max_above_competitor: float | None = Field(default=None, ge=0.0)
    max_step: float | None = Field(default=None, gt=0.0, le=1.0)
    never_discount_tags: frozenset[str] | None = None
    min_days_between_changes: int | None = Field(default=None, ge=0)
    price_ending: str | None = None
    currency: str | None = None
    allow_sale: bool | None = None
    sale_weeks: int | None = Field(default=None, ge=1, le=52)
    require_cost: bool | None = None
    auto_apply: bool | None = None


class GuardrailRule(BaseModel):
    """The guardrails that apply to one product (the tenant default merged with its category's override).

    - ``min_margin``: floor = cost / (1 - min_margin) (gross margin on the price).
    - ``floor_price`` / ``ceiling_price``: absolute bounds for the category.
    - ``max_markup``: ceiling = cost x max_markup.
    - ``max_above_competitor``: ceiling = competitor price x (1 + this) when a competitor price is given.
    - ``max_step``: the largest change per suggestion as a fraction of the current price.
    - ``never_discount_tags``: products with any of these tags are never lowered and never put on sale.
    - ``min_days_between_changes``: no suggestion while the last change is more recent than this.
    - ``price_ending``: ``None`` (any price) or the fractional part every price ends with, e.g. ".95", ".00".
    - ``currency``: ISO 4217 code; prices are rounded to its minor units.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    min_margin: float = Field(default=0.0, ge=0.0, lt=1.0)
    floor_price: float | None = Field(default=None, ge=0.0)
    ceiling_price: float | None = Field(default=None, gt=0.0)
    max_markup: float | None = Field(default=None, gt=1.0)
    max_above_competitor: float | None = Field(default=None, ge=0.0)
    max_step: float = Field(default=0.10, gt=0.0, le=1.0)
    never_discount_tags: frozenset[str] = frozenset()
    min_days_between_changes: int = Field(default=14, ge=0)
    price_ending: str | None = None
    currency: str = "EUR"
    allow_sale: bool = True
    sale_weeks: int = Field(default=2, ge=1, le=52)
    require_cost: bool = True
    auto_apply: bool = False

    @field_validator("currency")
    @classmethod
    def _known_currency(cls, value: str) -> str:
        currency_minor_units(value)
        return value.strip().upper()

    @model_validator(mode="after")
    def _ending_fits_currency(self) -> GuardrailRule:
        if self.price_ending is not None:
            parse_price_ending(self.price_ending, self.minor_units)
        return self

    @property
    def minor_units(self) -> int:
        return currency_minor_units(self.currency)

    @cached_property
    def ending_minor(self) -> int | None:
        """The ending as a count of minor units (".95" in EUR -> 95), or None for any ending."""
        return None if self.price_ending is None else parse_price_ending(self.price_ending, self.minor_units)


def parse_price_ending(ending: str, minor_units: int) -> int:
    """ ".95" -> 95 for a two-decimal currency; raise GuardrailError if the currency cannot express it."""
    text = ending.strip()
    if text.startswith("0."):
        text = text[1:]
    if not text.startswith(".") or not text[1:].isdigit():
        raise GuardrailError(f"price_ending {ending!r} must look like '.95' or '.00'")
    digits = text[1:]
    if len(digits) > minor_units:
        raise GuardrailError(f"price_ending {ending!r} needs {len(digits)} decimals but the currency has {minor_units}")
    return int(digits.ljust(minor_units, "0")) if minor_units else 0


class GuardrailConfig(BaseModel):
    """A tenant's guardrails: a default rule plus optional overrides per category name."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    default: GuardrailRule = GuardrailRule()
    categories: dict[str, GuardrailOverride] = Field(default_factory=dict)
    _rule_cache: dict[str | None, GuardrailRule] = PrivateAttr(default_factory=dict)

    def rule_for(self, category: str | None) -> GuardrailRule:
        """The tenant default with the category's override (if any) laid over it; cached per category."""
        cache = self._rule_cache
        if category not in cache:
            override = self.categories.get(category) if category is not None else None
            if override is None:
                cache[category] = self.default
            else:
                merged = self.default.model_dump()
                merged.update(override.model_dump(exclude_none=True))
                cache[category] = GuardrailRule(**merged)
        return cache[category]


@dataclass(frozen=True)
class PriceBounds:
    """The closed interval of prices every guardrail allows, and which guardrail sets each end."""

    lower: float
    upper: float
    lower_by: str
    upper_by: str
    allow_sale: bool


@dataclass(frozen=True)
class Unsatisfiable:
    """No price satisfies the guardrails (or a required input is missing): the reason, in words."""

    code: str
    message: str


def price_bounds(
    rule: GuardrailRule,
    *,
    current_price: float,
    cost: float | None,
    tags: Iterable[str] = (),
    floor_price: float | None = None,
    ceiling_price: float | None = None,
    map_price: float | None = None,
    competitor_price: float | None = None,
) -> PriceBounds | Unsatisfiable:
    """Intersect every guardrail into one interval; Unsatisfiable when it is empty or an input is missing.

    ``floor_price`` / ``ceiling_price`` are per-product bounds (product meta), ``map_price`` a minimum
    advertised price (acts as a floor), ``competitor_price`` caps the price when ``max_above_competitor``
    is set.
    """
    if not _is_positive(current_price):
        return Unsatisfiable("price_zero", f"current price is {current_price!r}; need a positive price")
    has_cost = cost is not None and math.isfinite(cost) and cost > 0
    if rule.require_cost and not has_cost:
        return Unsatisfiable("no_cost", "no cost recorded for this product, so no margin floor can be enforced")
    never_discount = bool(rule.never_discount_tags.intersection(tags))

    floors: list[tuple[float, str]] = [(current_price * (1.0 - rule.max_step), "max step")]
    ceilings: list[tuple[float, str]] = [(current_price * (1.0 + rule.max_step), "max step")]
    if has_cost:
        assert cost is not None
        floors.append((cost / (1.0 - rule.min_margin), f"floor (cost + {rule.min_margin:.0%} margin)"))
        if rule.max_markup is not None:
            ceilings.append((cost * rule.max_markup, f"ceiling ({rule.max_markup:g}x cost)"))
    if rule.floor_price is not None:
        floors.append((rule.floor_price, "category floor"))
    if rule.ceiling_price is not None:
        ceilings.append((rule.ceiling_price, "category ceiling"))
    if _is_positive(floor_price):
        floors.append((float(floor_price), "product floor"))  # type: ignore[arg-type]
    if _is_positive(ceiling_price):
        ceilings.append((float(ceiling_price), "product ceiling"))  # type: ignore[arg-type]
    if _is_positive(map_price):
        floors.append((float(map_price), "MAP"))  # type: ignore[arg-type]
    if rule.max_above_competitor is not None and _is_positive(competitor_price):
        cap = float(competitor_price) * (1.0 + rule.max_above_competitor)  # type: ignore[arg-type]
        ceilings.append((cap, f"competitor + {rule.max_above_competitor:.0%}"))
    if never_discount:
        floors.append((current_price, "never discount"))

    lower, lower_by = max(floors)
    upper, upper_by = min(ceilings)
    if lower > upper * (1.0 + 1e-12):
        hard_floors = [(v, n) for v, n in floors if n != "max step"]
        hard_ceilings = [(v, n) for v, n in ceilings if n != "max step"]
        if hard_floors and hard_ceilings and max(hard_floors)[0] > min(hard_ceilings)[0]:
            floor_value, floor_name = max(hard_floors)
            ceiling_value, ceiling_name = min(hard_ceilings)
            return Unsatisfiable(
                "floor_above_ceiling",
                f"{floor_name} {floor_value:.2f} is above {ceiling_name} {ceiling_value:.2f}; fix the guardrails",
            )
        return Unsatisfiable(
            "outside_guardrails",
            f"current price {current_price:.2f} is more than one max step ({rule.max_step:.0%}) from the "
            f"allowed range ({lower_by} {lower:.2f}, {upper_by} {upper:.2f}); change it by hand first",
        )
    return PriceBounds(lower, upper, lower_by, upper_by, allow_sale=rule.allow_sale and not never_discount)


def ending_candidates(target: float, lower: float, upper: float, rule: GuardrailRule) -> list[float]:
    """The allowed prices (right ending, currency minor units, inside [lower, upper]) nearest ``target``.

    Returns the nearest one at or below and the nearest one at or above ``target`` (one when they coincide,
    none when the interval holds no price with the required ending).
    """
    scale = 10**rule.minor_units
    lo_minor = math.ceil(lower * scale - _EPSILON_MINOR)
    hi_minor = math.floor(upper * scale + _EPSILON_MINOR)
    if lo_minor > hi_minor:
        return []
    period, offset = (scale, rule.ending_minor) if rule.ending_minor is not None else (1, 0)
    first = _next_on_grid(lo_minor, period, offset)
    last = _previous_on_grid(hi_minor, period, offset)
    if first > last:
        return []
    target_minor = min(max(target * scale, first), last)
    below = _previous_on_grid(math.floor(target_minor + _EPSILON_MINOR), period, offset)
    above = _next_on_grid(math.ceil(target_minor - _EPSILON_MINOR), period, offset)
    chosen = sorted({min(max(below, first), last), min(max(above, first), last)})
    return [round(value / scale, rule.minor_units) for value in chosen]


def round_to_currency(price: float, rule: GuardrailRule) -> float:
    """Round half-up to the currency's minor units (no ending applied)."""
    scale = 10**rule.minor_units
    return math.floor(price * scale + 0.5) / scale


def check_price(price: float, bounds: PriceBounds, rule: GuardrailRule, *, tolerance: float = 1e-9) -> list[str]:
    """Every guardrail ``price`` breaks (empty when it satisfies all): used by tests and before applying."""
    broken: list[str] = []
    if price < bounds.lower * (1.0 - tolerance):
        broken.append(f"below {bounds.lower_by} {bounds.lower:.4f}")
    if price > bounds.upper * (1.0 + tolerance):
        broken.append(f"above {bounds.upper_by} {bounds.upper:.4f}")
    scale = 10**rule.minor_units
    minor = price * scale
    if abs(minor - round(minor)) > 1e-6:
        broken.append(f"not rounded to {rule.minor_units} decimals")
    elif rule.ending_minor is not None and round(minor) % scale != rule.ending_minor:
        broken.append(f"does not end in {rule.price_ending}")
    return broken


def days_since_change_blocks(rule: GuardrailRule, days_since_last_change: float | None) -> Unsatisfiable | None:
    """Unsatisfiable when the last change is more recent than the rule's minimum gap."""
    if days_since_last_change is None or days_since_last_change >= rule.min_days_between_changes:
        return None
    return Unsatisfiable(
        "changed_recently",
        f"price changed {days_since_last_change:.0f} days ago; guardrail waits "
        f"{rule.min_days_between_changes} days between changes",
    )


def explain_suggestion(
    *,
    change: float,
    kind: str,
    sale_weeks: int,
    velocity_ratio: float | None,
    weekly_units: float,
    cover_weeks: float | None,
    elasticity: float,
    elasticity_interval: tuple[float, float],
    elasticity_source: str,
    bound_by: list[str],
) -> list[str]:
    """Reasons in words, most important first, e.g. "sells 3.0x faster than its category"."""
    reasons: list[str] = []
    if velocity_ratio is not None and weekly_units > 0:
        if velocity_ratio >= 1.5:
            reasons.append(f"sells {velocity_ratio:.1f}x faster than its category ({weekly_units:.1f}/week)")
        elif velocity_ratio <= 0.67:
            reasons.append(f"slow mover: {velocity_ratio:.1f}x its category's pace ({weekly_units:.1f}/week)")
        else:
            reasons.append(f"sells at its category's pace ({weekly_units:.1f}/week)")
    elif weekly_units <= 0:
        reasons.append("no recent sales")
    if cover_weeks is not None:
        if cover_weeks < 4:
            reasons.append(f"{cover_weeks * 7:.0f} days of stock left")
        else:
            reasons.append(f"{cover_weeks:.0f} weeks of stock cover")
    low, high = elasticity_interval
    reasons.append(f"price elasticity {elasticity:.2f} (90 % interval {low:.2f} to {high:.2f}, {elasticity_source})")
    action = f"{change:+.0%}"
    if kind == "sale":
        action = f"{change:+.0%} sale for {sale_weeks} weeks"
    reasons.append(action)
    if bound_by:
        reasons.append("limited by " + ", ".join(bound_by))
    return reasons


def _next_on_grid(value: int, period: int, offset: int) -> int:
    """Smallest k * period + offset >= value."""
    return -((offset - value) // period) * period + offset if period > 1 else value


def _previous_on_grid(value: int, period: int, offset: int) -> int:
    """Largest k * period + offset <= value."""
    return ((value - offset) // period) * period + offset if period > 1 else value


def _is_positive(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value) and value > 0


def tags_of(product: Mapping[str, Any]) -> frozenset[str]:
    """Tag names of a product mapping: accepts a list of names or WooCommerce's [{"name": ...}] shape."""
    raw = product.get("tags") or ()
    names = [item.get("name", "") if isinstance(item, Mapping) else str(item) for item in raw]
    return frozenset(name for name in names if name)

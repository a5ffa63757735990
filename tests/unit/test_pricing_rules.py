"""Guardrails: bounds, endings, rounding; property tests that every allowed price satisfies every rule."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from luxebrain.ml.pricing.rules import (
    GuardrailConfig,
    GuardrailError,
    GuardrailOverride,
    GuardrailRule,
    PriceBounds,
    Unsatisfiable,
    check_price,
    currency_minor_units,
    days_since_change_blocks,
    ending_candidates,
    price_bounds,
    round_to_currency,
    tags_of,
)


def test_floor_is_cost_plus_gross_margin_and_step_limits_both_ways() -> None:
    # Given a 30 % minimum margin and a 10 % max step
    rule = GuardrailRule(min_margin=0.3, max_step=0.1)
    # When the bounds are computed for a 100.00 product that costs 65.00
    bounds = price_bounds(rule, current_price=100.0, cost=65.0)
    # Then the floor is cost / (1 - margin) = 92.86 and the step caps the top at 110
    assert isinstance(bounds, PriceBounds)
    assert bounds.lower == pytest.approx(65.0 / 0.7)
    assert bounds.lower_by.startswith("floor")
    assert bounds.upper == pytest.approx(110.0)
    assert bounds.upper_by == "max step"


def test_floor_above_ceiling_is_a_reason_not_a_price() -> None:
    rule = GuardrailRule(min_margin=0.5, ceiling_price=80.0)
    result = price_bounds(rule, current_price=75.0, cost=50.0)  # floor 100 > ceiling 80
    assert isinstance(result, Unsatisfiable)
    assert result.code == "floor_above_ceiling"
    assert "100.00" in result.message and "80.00" in result.message


def test_price_far_below_floor_needs_a_manual_change() -> None:
    result = price_bounds(GuardrailRule(min_margin=0.2, max_step=0.05), current_price=50.0, cost=60.0)
    assert isinstance(result, Unsatisfiable)
    assert result.code == "outside_guardrails"


@pytest.mark.parametrize(
    ("price", "cost", "code"),
    [(0.0, 10.0, "price_zero"), (-5.0, 10.0, "price_zero"), (10.0, None, "no_cost"), (10.0, math.nan, "no_cost")],
)
def test_missing_inputs_give_reasons(price: float, cost: float | None, code: str) -> None:
    result = price_bounds(GuardrailRule(), current_price=price, cost=cost)
    assert isinstance(result, Unsatisfiable) and result.code == code


def test_never_discount_tag_blocks_decreases_and_sales() -> None:
    rule = GuardrailRule(never_discount_tags=frozenset({"icon"}))
    bounds = price_bounds(rule, current_price=200.0, cost=50.0, tags={"icon", "bags"})
    assert isinstance(bounds, PriceBounds)
    assert bounds.lower == 200.0 and bounds.lower_by == "never discount"
    assert bounds.allow_sale is False


def test_map_and_competitor_prices_bound_the_interval() -> None:
    rule = GuardrailRule(max_step=0.5, max_above_competitor=0.05)
    bounds = price_bounds(rule, current_price=100.0, cost=20.0, map_price=90.0, competitor_price=100.0)
    assert isinstance(bounds, PriceBounds)
    assert (bounds.lower, bounds.lower_by) == (90.0, "MAP")
    assert bounds.upper == pytest.approx(105.0)


def test_endings_and_rounding() -> None:
    rule = GuardrailRule(price_ending=".95")
    assert ending_candidates(103.3, 90.0, 110.0, rule) == [102.95, 103.95]
    assert ending_candidates(500.0, 90.0, 110.0, rule) == [109.95]
    assert ending_candidates(95.2, 95.1, 95.3, rule) == []  # no .95 price in the interval
    yen = GuardrailRule(currency="JPY")
    assert ending_candidates(1234.4, 1000, 1500, yen) == [1234.0, 1235.0]
    assert round_to_currency(2.345, GuardrailRule(currency="KWD")) == 2.345
    assert currency_minor_units("jpy") == 0 and currency_minor_units("EUR") == 2


def test_invalid_settings_are_refused_with_the_field_named() -> None:
    with pytest.raises(ValueError, match="decimals"):
        GuardrailRule(currency="JPY", price_ending=".95")
    with pytest.raises(ValueError, match="max_step"):
        GuardrailRule(max_step=0.0)
    with pytest.raises(GuardrailError, match="ISO 4217"):
        currency_minor_units("EURO")


def test_category_override_merges_over_the_default() -> None:
    config = GuardrailConfig(
        default=GuardrailRule(min_margin=0.3, price_ending=".95"),
        categories={"Bags": GuardrailOverride(max_step=0.2, price_ending=".00")},
    )
    bags = config.rule_for("Bags")
    assert (bags.min_margin, bags.max_step, bags.price_ending) == (0.3, 0.2, ".00")
    assert config.rule_for("Shoes") == config.default
    assert config.rule_for(None) == config.default


def test_min_days_between_changes() -> None:
    rule = GuardrailRule(min_days_between_changes=14)
    blocked = days_since_change_blocks(rule, 3.0)
    assert blocked is not None and blocked.code == "changed_recently"
    assert days_since_change_blocks(rule, 20.0) is None
    assert days_since_change_blocks(rule, None) is None


def test_tags_accept_woocommerce_shape() -> None:
    assert tags_of({"tags": [{"id": 1, "name": "icon"}, "sale-ok"]}) == {"icon", "sale-ok"}
    assert tags_of({}) == frozenset()


rules = st.builds(
    GuardrailRule,
    min_margin=st.floats(0.0, 0.8),
    max_step=st.floats(0.01, 0.5),
    price_ending=st.sampled_from([None, ".00", ".95", ".99", ".5"]),
    currency=st.sampled_from(["EUR", "USD", "GBP"]),
    ceiling_price=st.none() | st.floats(1.0, 5000.0),
    floor_price=st.none() | st.floats(0.0, 500.0),
    max_markup=st.none() | st.floats(1.1, 10.0),
    never_discount_tags=st.sampled_from([frozenset(), frozenset({"icon"})]),
)


@settings(max_examples=300, deadline=None)
@given(
    rule=rules,
    price=st.floats(0.5, 5000.0),
    cost_share=st.floats(0.05, 1.5),
    target_factor=st.floats(0.3, 3.0),
    tagged=st.booleans(),
)
def test_every_candidate_price_satisfies_every_guardrail(
    rule: GuardrailRule, price: float, cost_share: float, target_factor: float, tagged: bool
) -> None:
    # Given any rule and product, when the bounds exist and candidates are drawn for any target
    tags = {"icon"} if tagged else set()
    bounds = price_bounds(rule, current_price=price, cost=price * cost_share, tags=tags)
    if isinstance(bounds, Unsatisfiable):
        assert bounds.message
        return
    # Then every candidate is inside the bounds, rounded, with the right ending
    for candidate in ending_candidates(price * target_factor, bounds.lower, bounds.upper, rule):
        assert check_price(candidate, bounds, rule) == []
        assert abs(candidate - price) <= rule.max_step * price * (1 + 1e-9) + 1e-9
        if tagged and rule.never_discount_tags:
            assert candidate >= price - 1e-9

"""Dynamic pricing, serving: guardrailed price suggestions from a trained pricing artifact (numpy only).

Serving (:class:`PricingModel`, :func:`suggest_prices`, numpy only) evaluates, for each product, the
expected profit over a planning horizon on a grid of prices inside the guardrails, with the stock it has
(sales stop at zero stock until the next restock), a holding cost for stock that sits, the demand forecast
when one is given, and the elasticity's uncertainty. The best price is snapped to the allowed price endings
and currency units, compared with keeping the current price, and explained in words.

A product whose elasticity interval is too wide to act on (a price that never moved, so only its category
speaks for it) is offered a switchback test instead, when one can narrow it within its periods: its price
alternates between a high and a low leg inside the guardrails, one period each (never per customer), recorded
as price decisions of kind "test"; its own sales in those periods then identify its elasticity at the next
training. A running test's next leg is suggested when its period starts.

A version whose demand model predicted its hold-out no better than the products' recent demand with price
ignored serves that baseline (``luxebrain.ml.kinds``): every product it would have decided on is answered
"keep the current price" (code ``keep_price_baseline``), and nothing else is suggested.


Training (:func:`luxebrain.ml.pricing.train.train_pricing_model`, ML layer) fits the elasticities it reads.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np

from luxebrain.ml.artifacts import ModelArtifact
from luxebrain.ml.pricing.rules import (
    GuardrailConfig,
    GuardrailRule,
    PriceBounds,
    Unsatisfiable,
    days_since_change_blocks,
    ending_candidates,
    explain_suggestion,
    price_bounds,
    tags_of,
)
from luxebrain.ml.pricing.suggestions import NoSuggestion, PriceSuggestion, SwitchbackTest

MODEL_KIND = "pricing"
# The code of every product's answer when the version serves its baseline: its demand model predicted the
# hold-out's units no better than recent demand with price ignored, so every price is kept (luxebrain.ml.kinds).
KEEP_PRICE_BASELINE = "keep_price_baseline"
_Z90 = 1.6448536269514722  # two-sided 90 % normal quantile


class PricingDataError(ValueError):
    """Training frames or serving inputs cannot be used (names the column / product / parameter)."""


@dataclass(frozen=True)
class PricingParams:
    """Training and suggestion settings (stored in the artifact manifest)."""

    history_weeks: int = 104  # weeks of order history used for elasticities
    velocity_weeks: int = 8  # recent weeks that define the sales velocity
    min_active_weeks: int = 8  # weeks on sale needed for a product's own elasticity
    min_units: float = 8.0  # units sold needed for a product's own elasticity
    min_price_variation: float = 0.02  # std of log price needed for a product's own elasticity
    max_own_se: float = 3.0  # own estimates less precise than this are left out (too noisy to pool)
    min_category_estimates: int = 3  # own estimates needed to pool a category; else the whole store
    prior_elasticity: float = -1.5  # used when no product in the store has price variation
    prior_sd: float = 1.0
    min_between_sd: float = 0.2  # floor on the between-product sd, so pooling never becomes total
    use_category_index: bool = True
    index_rounds: int = 4  # index <-> elasticity alternations (each removes more of the others' price moves)
    decision_elasticity_min: float = -6.0  # elasticities used for decisions are clipped into this range
    decision_elasticity_max: float = -0.3
    horizon_weeks: int = 13  # planning horizon of the profit a suggestion maximises
    holding_cost_per_week: float = 0.005  # cost of keeping one unit in stock for a week, fraction of its cost
    default_restock_weeks: float = 4.0  # weeks until stock is replenished when a product does not say
    min_relative_gain: float = 0.002  # expected profit gain (fraction of current profit) worth a change
    overstock_weeks: float = 26.0  # a decrease on a product with more cover than this is a sale
    grid_size: int = 49
    expect_over_uncertainty: bool = True  # maximise expected profit over the elasticity's uncertainty
    switchback_tests: bool = True  # offer a switchback test where the elasticity interval is too wide
    test_min_sd: float = 0.25  # elasticity sd from which an interval is too wide to act on
    test_step: float = 0.08  # each leg's distance from the price before the test (kept within one max step)
    test_period_weeks: int = 1  # lengthened to the guardrail's days between changes
    test_periods: int = 8  # legs, alternating high and low
    test_min_narrowing: float = 0.2  # a test must be expected to narrow the sd by this share to be offered
    evaluate_holdout: bool = True  # score the demand model on each product's last weeks against ignoring price
    holdout_weeks: int = 8  # the last weeks held out (fitted again on the weeks before them)
    holdout_min_product_weeks: int = 20  # held-out product-weeks needed to score the hold-out at all
    # how far apart, in the held-out counts' sampling noise, the model's and the baseline's predictions must be
    # for the hold-out to judge them (luxebrain.ml.pricing.evaluation)
    holdout_min_separation: float = 3.0

    def __post_init__(self) -> None:
        if self.horizon_weeks < 1 or self.velocity_weeks < 1 or self.history_weeks < 2:
            raise PricingDataError("horizon_weeks, velocity_weeks must be >= 1 and history_weeks >= 2")
        if not self.decision_elasticity_min < self.decision_elasticity_max < 0:
            raise PricingDataError("need decision_elasticity_min < decision_elasticity_max < 0")
        if self.grid_size < 3:
            raise PricingDataError("grid_size must be at least 3")
        if self.holding_cost_per_week < 0 or self.min_relative_gain < 0:
            raise PricingDataError("holding_cost_per_week and min_relative_gain must be >= 0")
        if self.test_step <= 0 or self.test_period_weeks < 1 or self.test_periods < 2:
            raise PricingDataError("test_step must be > 0, test_period_weeks >= 1 and test_periods >= 2")
        if self.holdout_weeks < 1:
            raise PricingDataError("holdout_weeks must be >= 1")

    def decision_elasticity(self, elasticity: np.ndarray) -> np.ndarray:
        """Elasticities as decisions use them: clipped into the decision range (the hold-out scores the same)."""
        return np.clip(elasticity, self.decision_elasticity_min, self.decision_elasticity_max)

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> PricingParams:
        known = {name for name in cls.__dataclass_fields__}
        return cls(**{key: value for key, value in values.items() if key in known})


@dataclass
class PricingModel:
    """The serving side of a pricing artifact (numpy only)."""

    product_ids: np.ndarray
    category_code: np.ndarray
    elasticity: np.ndarray
    elasticity_sd: np.ndarray
    own_weight: np.ndarray
    active_weeks: np.ndarray
    velocity: np.ndarray
    recent_price: np.ndarray
    categories: list[str]
    category_velocity: dict[str, float]
    params: PricingParams
    index: dict[str, int] = field(default_factory=dict)
    serves_baseline: bool = False  # the baseline serves: every price is kept (KEEP_PRICE_BASELINE)

    @classmethod
    def from_artifact(cls, artifact: ModelArtifact) -> PricingModel:
        if artifact.kind != MODEL_KIND:
            raise PricingDataError(f"artifact kind is {artifact.kind!r}, expected {MODEL_KIND!r}")
        arrays = artifact.arrays
        product_ids = arrays["product_ids"].astype(str)
        return cls(
            product_ids=product_ids,
            category_code=arrays["category_code"],
            elasticity=arrays["elasticity"],
            elasticity_sd=arrays["elasticity_sd"],
            own_weight=arrays["own_weight"],
            active_weeks=arrays["active_weeks"],
            velocity=arrays["velocity"],
            recent_price=arrays["recent_price"],
            categories=list(artifact.extra.get("categories", [])),
            category_velocity=dict(artifact.extra.get("category_velocity", {})),
            params=PricingParams.from_dict(artifact.params),
            index={pid: i for i, pid in enumerate(product_ids.tolist())},
            serves_baseline=artifact.serves_baseline,
        )


@dataclass
class _Candidate:
    """One product (or variation) that passed the input checks, waiting for the batched optimisation."""

    product_id: str
    variation_id: str | None
    row: int
    rule: GuardrailRule
    bounds: PriceBounds
    price: float
    regular_price: float
    cost: float
    stock: float  # inf when not managed
    restock_weeks: float
    restock_every: float
    restock_level: float
    weekly_demand: np.ndarray  # expected units per week at the current price, horizon long
    share: float  # this variation's share of the product's velocity
    never_discount: bool = False  # tagged never to be lowered: its floor is whatever price it has
    test: SwitchbackTest | None = None  # the product's switchback test, running or past


def suggest_prices(
    model: PricingModel,
    guardrails: GuardrailConfig,
    *,
    products: Sequence[Mapping[str, Any]],
    forecast: Mapping[str, Sequence[float]] | None = None,
    last_changes: Mapping[str, datetime] | None = None,
    tests: Mapping[str, SwitchbackTest] | None = None,
    now: datetime,
) -> list[PriceSuggestion | NoSuggestion]:
    """One answer per product (per priced variation for variable products), in input order.

    ``products``: mappings with product_id, category, price (active), regular_price, cost, stock_quantity
    (None when not managed), tags; optional: type ("variable") with variations (each: variation_id, price,
    regular_price, cost, stock_quantity), restock_in_weeks (inf = none planned; default from the params),
    restock_every_weeks, restock_level (stock after a restock; default unlimited), floor_price, ceiling_price,
    map_price, competitor_price. ``forecast``: product_id -> expected weekly units at the current price for
    the coming weeks. ``last_changes``: product_id (or "product_id:variation_id") -> time of the last
    price change. ``tests``: the same keys -> the product's switchback test (running, finished or declined;
    a product with one is never offered another).
    """
    params = model.params
    horizon = params.horizon_weeks
    results: list[PriceSuggestion | NoSuggestion | _Candidate] = []
    for product in products:
        product_id = str(product.get("product_id", ""))
        if not product_id:
            raise PricingDataError("every product needs a product_id")
        rule = guardrails.rule_for(_optional_str(product.get("category")))
        row = model.index.get(product_id)
        if row is None or model.active_weeks[row] == 0:
            results.append(NoSuggestion(product_id, None, "no_price_history", "no sales history for this product"))
            continue
        items = _priced_items(product)
        if isinstance(items, NoSuggestion):
            results.append(items)
            continue
        weekly = _weekly_demand(model, row, forecast.get(product_id) if forecast else None, horizon)
        for item, share in items:
            variation_id = _optional_str(item.get("variation_id"))
            change_key = product_id if variation_id is None else f"{product_id}:{variation_id}"
            checked = _check_item(model, rule, product, item, product_id, variation_id, row, weekly, share,
                                  (last_changes or {}).get(change_key), now)  # fmt: skip
            if isinstance(checked, _Candidate):
                checked.test = (tests or {}).get(change_key)
            results.append(checked)
    candidates = [r for r in results if isinstance(r, _Candidate)]
    if model.serves_baseline:
        # No suggestion beyond keeping the price, switchback legs and guardrail corrections included: the
        # model's price response did not predict its hold-out, so nothing it says about a price is trusted.
        return [
            NoSuggestion(r.product_id, r.variation_id, KEEP_PRICE_BASELINE, _BASELINE_REASON)
            if isinstance(r, _Candidate)
            else r
            for r in results
        ]
    decided: dict[int, PriceSuggestion | NoSuggestion] = {}
    if params.switchback_tests and candidates:
        decided = _switchback_answers(model, candidates, now)
    rest = [c for c in candidates if id(c) not in decided]
    if rest:
        decided.update(zip(map(id, rest), _decide(model, rest), strict=True))
    if params.switchback_tests:
        # A new test is centred on the price the optimisation chose, so it costs only the legs' spread.
        offered = [(c, t) for c in rest if c.test is None and (t := _new_test(model, c, decided[id(c)], now))]
        new_tests = {id(c): t for c, t in offered}
        decided.update(_switchback_answers(model, [c for c, _ in offered], now, new_tests=new_tests))
    return [decided[id(r)] if isinstance(r, _Candidate) else r for r in results]


_BASELINE_REASON = (
    "keep the current price: on its hold-out (each product's last weeks) the pricing model predicted weekly "
    "sales no better than the products' recent sales with price ignored, so it suggests no price change"
)


def top_suggestions(answers: Sequence[PriceSuggestion | NoSuggestion], limit: int = 10) -> list[PriceSuggestion]:
    """The suggestions with the largest expected margin gain first (for dashboards and the demo)."""
    suggestions = [answer for answer in answers if isinstance(answer, PriceSuggestion)]
    return sorted(suggestions, key=lambda s: s.expected_margin_change, reverse=True)[: max(limit, 0)]


def describe_suggestion(suggestion: PriceSuggestion) -> str:
    """One line for people: price move, expected effect, reasons and the guardrails that bound it."""
    target = suggestion.product_id + (f"/{suggestion.variation_id}" if suggestion.variation_id else "")
    move = f"{suggestion.current_price:.2f} -> {suggestion.suggested_price:.2f} {suggestion.currency}"
    if suggestion.kind == "sale":
        move += f" (sale, {suggestion.sale_weeks} weeks)"
    effect = (
        f"{suggestion.horizon_weeks} weeks: units {suggestion.expected_units_change:+.1f}, revenue "
        f"{suggestion.expected_revenue_change:+.2f}, margin {suggestion.expected_margin_change:+.2f}"
    )
    return f"{target}: {move}; {effect}; {'; '.join(suggestion.reasons)} [confidence {suggestion.confidence}]"


def _priced_items(product: Mapping[str, Any]) -> list[tuple[Mapping[str, Any], float]] | NoSuggestion:
    """The product itself, or its priced variations (each with an equal share of the product's velocity)."""
    product_id = str(product["product_id"])
    if str(product.get("type", "simple")) != "variable":
        return [(product, 1.0)]
    variations = [v for v in product.get("variations") or () if _positive(v.get("price"))]
    if not variations:
        return NoSuggestion(product_id, None, "no_priced_variations", "variable product has no variation with a price")
    return [(variation, 1.0 / len(variations)) for variation in variations]


def _check_item(
    model: PricingModel,
    rule: GuardrailRule,
    product: Mapping[str, Any],
    item: Mapping[str, Any],
    product_id: str,
    variation_id: str | None,
    row: int,
    weekly: tuple[np.ndarray, bool],
    share: float,
    last_change: datetime | None,
    now: datetime,
) -> _Candidate | NoSuggestion:
    price = _number(item.get("price"))
    if price is None or price <= 0:
        return NoSuggestion(
            product_id, variation_id, "price_zero", f"price is {item.get('price')!r}; nothing to adjust"
        )
    cost = _number(item.get("cost", product.get("cost") if item is not product else None))
    if last_change is not None:
        days = (now - last_change).total_seconds() / 86400.0
        blocked = days_since_change_blocks(rule, days)
        if blocked is not None:
            return NoSuggestion(product_id, variation_id, blocked.code, blocked.message)
    bounds = price_bounds(
        rule,
        current_price=price,
        cost=cost,
        tags=tags_of(product),
        floor_price=_number(item.get("floor_price", product.get("floor_price"))),
        ceiling_price=_number(item.get("ceiling_price", product.get("ceiling_price"))),
        map_price=_number(item.get("map_price", product.get("map_price"))),
        competitor_price=_number(item.get("competitor_price", product.get("competitor_price"))),
    )
    if isinstance(bounds, Unsatisfiable):
        return NoSuggestion(product_id, variation_id, bounds.code, bounds.message)
    stock = _number(item.get("stock_quantity"))
    if stock is not None and stock <= 0:
        return NoSuggestion(product_id, variation_id, "out_of_stock", "out of stock: no price change until restocked")
    weekly_demand, is_forecast = weekly
    recent_price = float(model.recent_price[row])
    if not is_forecast and recent_price > 0 and share == 1.0:
        # Velocity was measured at the model's last price; move it to today's price along the demand curve.
        params = model.params
        e = min(max(float(model.elasticity[row]), params.decision_elasticity_min), params.decision_elasticity_max)
        weekly_demand = weekly_demand * (price / recent_price) ** e
    if float(np.sum(weekly_demand)) <= 0:
        return NoSuggestion(
            product_id,
            variation_id,
            "no_recent_sales",
            "no recent sales and no forecast: the data cannot say which price would do better",
        )
    restock = _number(item.get("restock_in_weeks", product.get("restock_in_weeks")))
    restock_every = _number(item.get("restock_every_weeks", product.get("restock_every_weeks")))
    restock_level = _number(item.get("restock_level", product.get("restock_level")))
    regular = _number(item.get("regular_price")) or price
    return _Candidate(
        product_id=product_id,
        variation_id=variation_id,
        row=row,
        rule=rule,
        bounds=bounds,
        price=price,
        regular_price=max(regular, price),
        cost=cost if cost is not None and cost > 0 else 0.0,
        stock=stock if stock is not None else math.inf,
        restock_weeks=model.params.default_restock_weeks if restock is None else max(restock, 0.0),
        restock_every=restock_every if restock_every is not None and restock_every > 0 else math.inf,
        restock_level=restock_level if restock_level is not None and restock_level >= 0 else math.inf,
        weekly_demand=weekly_demand * share,
        share=share,
        never_discount=bool(rule.never_discount_tags.intersection(tags_of(product))),
    )


def _weekly_demand(
    model: PricingModel, row: int, forecast: Sequence[float] | None, horizon: int
) -> tuple[np.ndarray, bool]:
    """Expected units per week over the horizon, and whether they are a forecast at the *current* price
    (else: the velocity, measured at the last price the model saw)."""
    if forecast is not None and len(forecast) > 0:
        values = np.asarray(forecast, dtype=float)[:horizon]
        values = np.where(np.isfinite(values), np.maximum(values, 0.0), 0.0)
        return np.pad(values, (0, horizon - len(values)), mode="edge"), True
    return np.full(horizon, float(model.velocity[row])), False


def _demand_batch(model: PricingModel, candidates: list[_Candidate]) -> DemandBatch:
    params = model.params
    rows = np.array([c.row for c in candidates])
    return DemandBatch(
        price=np.array([c.price for c in candidates]),
        cost=np.array([c.cost for c in candidates]),
        elasticity=params.decision_elasticity(model.elasticity[rows]),
        weekly=np.stack([c.weekly_demand for c in candidates]),
        stock=np.array([c.stock for c in candidates]),
        restock_weeks=np.array([c.restock_weeks for c in candidates]),
        holding=params.holding_cost_per_week,
        restock_every=np.array([c.restock_every for c in candidates]),
        restock_level=np.array([c.restock_level for c in candidates]),
        elasticity_sd=model.elasticity_sd[rows] if params.expect_over_uncertainty else None,
    )


def _switchback_answers(
    model: PricingModel,
    candidates: list[_Candidate],
    now: datetime,
    new_tests: Mapping[int, SwitchbackTest] | None = None,
) -> dict[int, PriceSuggestion | NoSuggestion]:
    """Answers for the candidates in a running switchback test (its leg now), or offered ``new_tests``, keyed by
    ``id(candidate)`` (as ``new_tests`` are); every other candidate is left to the optimisation."""
    legs: list[tuple[_Candidate, SwitchbackTest, int]] = []
    for candidate in candidates:
        test = candidate.test if new_tests is None else new_tests.get(id(candidate))
        leg = test.leg_at(now) if test is not None else None
        if test is None or leg is None:
            continue
        target = test.price_of(leg)
        bounds = candidate.bounds
        if not bounds.lower * (1 - 1e-9) <= target <= bounds.upper * (1 + 1e-9):
            continue  # the guardrails moved since the test began: the optimisation takes over
        legs.append((candidate, test, leg))
    if not legs:
        return {}
    leg_candidates = [candidate for candidate, _, _ in legs]
    profit, units, revenue = _demand_batch(model, leg_candidates).evaluate(
        np.array([[c.price, t.high_price, t.low_price] for c, t, _ in legs])
    )
    answers: dict[int, PriceSuggestion | NoSuggestion] = {}
    for i, (candidate, test, leg) in enumerate(legs):
        target = test.price_of(leg)
        until = test.started_at + (leg + 1) * (test.ends_at - test.started_at) / test.periods
        if abs(target - candidate.price) < 10**-candidate.rule.minor_units / 2:
            answers[id(candidate)] = NoSuggestion(
                candidate.product_id, candidate.variation_id, "test_running",
                f"switchback test: period {leg + 1} of {test.periods} at {target:.2f} until {until:%Y-%m-%d}",
            )  # fmt: skip
            continue
        # Expected effect over the horizon: the test's weeks at its two legs on average, the rest unchanged.
        share = min(test.period_weeks * test.periods / model.params.horizon_weeks, 1.0)
        mix = np.array([1 - share, share / 2, share / 2])
        answers[id(candidate)] = _suggestion(
            model, candidate, target, target, target, units[i, 0], float(units[i] @ mix), revenue[i, 0],
            float(revenue[i] @ mix), float(profit[i, 0]), float(profit[i] @ mix), test=test, leg=leg,
        )  # fmt: skip
    return answers


def _new_test(
    model: PricingModel, candidate: _Candidate, answer: PriceSuggestion | NoSuggestion, now: datetime
) -> SwitchbackTest | None:
    """A switchback test for a product whose elasticity interval is too wide to act on, centred on the price
    the optimisation chose (``answer``), when one fits the guardrails, its stock lasts through it (a sold-out
    leg says nothing about demand) and its expected sales narrow the interval by at least
    ``test_min_narrowing``; else None."""
    params, rule, bounds = model.params, candidate.rule, candidate.bounds
    sd = float(model.elasticity_sd[candidate.row])
    if isinstance(answer, PriceSuggestion) and answer.kind == "regular" and "max step" not in answer.bound_by:
        centre = answer.suggested_price
    elif isinstance(answer, NoSuggestion) and answer.code == "keep":
        centre = candidate.price
    else:  # a sale, a price still on its way (held back by the max step), or none to move: not yet
        return None
    if sd < params.test_min_sd or candidate.share != 1.0 or candidate.variation_id is not None:
        return None
    if candidate.never_discount:  # its floor follows its price up, so every low leg would be refused
        return None
    period = max(params.test_period_weeks, math.ceil(rule.min_days_between_changes / 7))
    weeks = period * params.test_periods
    # Legs either side of the centre (shifted together where a bound cuts one off), close enough to each other
    # that every change between them is within one max step.
    step = min(params.test_step, rule.max_step / (2 + rule.max_step))
    shift = min(1.0, bounds.upper / (centre * (1 + step))) * max(1.0, bounds.lower / (centre * (1 - step)))
    high = _nearest_allowed(centre * (1 + step) * shift, bounds, rule)
    low = _nearest_allowed(centre * (1 - step) * shift, bounds, rule, below=high)
    if high is None or low is None or low < high * (1 - rule.max_step) - 1e-9:
        return None
    pace = float(np.mean(candidate.weekly_demand[: min(weeks, len(candidate.weekly_demand))]))
    if math.isfinite(candidate.stock) and candidate.stock < 1.2 * pace * min(weeks, candidate.restock_weeks):
        return None
    half_spread = (math.log(high) - math.log(low)) / 2
    information = pace * weeks * half_spread**2  # Poisson information on the elasticity from the test's weeks
    narrowed = 1.0 / math.sqrt(1.0 / sd**2 + information)
    if narrowed > (1 - params.test_min_narrowing) * sd:
        return None
    starts_high = abs(math.log(high / centre)) <= abs(math.log(low / centre))
    return SwitchbackTest(now, centre, high, low, period, params.test_periods, starts_high=starts_high)


def _nearest_allowed(
    target: float, bounds: PriceBounds, rule: GuardrailRule, *, above: float | None = None, below: float | None = None
) -> float | None:
    """The allowed price (ending, rounding, bounds) nearest ``target`` that is strictly above / below a price."""
    options = [
        price
        for price in ending_candidates(target, bounds.lower, bounds.upper, rule)
        if (above is None or price > above) and (below is None or price < below)
    ]
    return min(options, key=lambda price: abs(price - target)) if options else None


def _decide(model: PricingModel, candidates: list[_Candidate]) -> list[PriceSuggestion | NoSuggestion]:
    """Batched optimisation over a price grid inside each candidate's bounds, then endings and explanation."""
    params = model.params
    price = np.array([c.price for c in candidates])
    demand = _demand_batch(model, candidates)
    lower = np.array([c.bounds.lower for c in candidates])
    upper = np.array([c.bounds.upper for c in candidates])
    best_in_bounds = demand.best_price(lower, upper, params.grid_size)
    unbounded = demand.best_price(price * 0.25, price * 4.0, params.grid_size * 2)

    # Snap to allowed endings: evaluate the allowed neighbours of the best price, keep the better one.
    options = np.tile(price[:, None], (1, 3))
    for i, candidate in enumerate(candidates):
        allowed = ending_candidates(best_in_bounds[i], lower[i], upper[i], candidate.rule)
        options[i, 1 : 1 + len(allowed)] = allowed
        if len(allowed) == 1:
            options[i, 2] = allowed[0]
        if not allowed:
            options[i, 1:] = np.nan
    has_option = np.isfinite(options[:, 1])
    profit, units, revenue = demand.evaluate(np.where(np.isfinite(options), options, price[:, None]))
    choice = 1 + np.argmax(profit[:, 1:], axis=1)
    take = np.arange(len(candidates))
    gain = profit[take, choice] - profit[:, 0]
    current_allowed = (price >= lower * (1 - 1e-9)) & (price <= upper * (1 + 1e-9))

    answers: list[PriceSuggestion | NoSuggestion] = []
    for i, candidate in enumerate(candidates):
        if not has_option[i]:
            answers.append(
                NoSuggestion(candidate.product_id, candidate.variation_id, "no_allowed_price",
                             f"no price ending in {candidate.rule.price_ending} fits between "
                             f"{lower[i]:.2f} and {upper[i]:.2f}")
            )  # fmt: skip
            continue
        new_price = float(options[i, choice[i]])
        needed = params.min_relative_gain * max(abs(float(profit[i, 0])), 1e-9)
        unchanged = abs(new_price - candidate.price) < 10**-candidate.rule.minor_units / 2
        # A current price outside the guardrails is always moved inside them, gain or not.
        if unchanged or (current_allowed[i] and gain[i] <= needed):
            answers.append(
                NoSuggestion(candidate.product_id, candidate.variation_id, "keep",
                             f"current price {candidate.price:.2f} is within {params.min_relative_gain:.1%} "
                             "of the best expected profit inside the guardrails")
            )  # fmt: skip
            continue
        answers.append(
            _suggestion(model, candidate, new_price, float(unbounded[i]), float(best_in_bounds[i]),
                        units[i, 0], units[i, choice[i]], revenue[i, 0], revenue[i, choice[i]],
                        float(profit[i, 0]), float(profit[i, choice[i]]))
        )  # fmt: skip
    return answers


def _suggestion(
    model: PricingModel,
    candidate: _Candidate,
    new_price: float,
    unbounded_best: float,
    bounded_best: float,
    units_now: float,
    units_new: float,
    revenue_now: float,
    revenue_new: float,
    profit_now: float,
    profit_new: float,
    *,
    test: SwitchbackTest | None = None,
    leg: int = 0,
) -> PriceSuggestion:
    params = model.params
    row = candidate.row
    bounds = candidate.bounds
    bound_by: list[str] = []
    if unbounded_best > bounds.upper * (1 + 1e-9):
        bound_by.append(bounds.upper_by)
    if unbounded_best < bounds.lower * (1 - 1e-9):
        bound_by.append(bounds.lower_by)
    if abs(new_price - bounded_best) > 10**-candidate.rule.minor_units:
        bound_by.append(f"price ending {candidate.rule.price_ending}" if candidate.rule.price_ending else "rounding")
    velocity = float(model.velocity[row]) * candidate.share
    category = model.categories[int(model.category_code[row])] if model.categories else ""
    category_velocity = model.category_velocity.get(category, 0.0)
    velocity_ratio = float(model.velocity[row]) / category_velocity if category_velocity > 0 else None
    pace = float(np.mean(candidate.weekly_demand[:4]))  # expected weekly demand at today's price, near term
    cover = candidate.stock / pace if math.isfinite(candidate.stock) and pace > 0 else None
    change = new_price / candidate.price - 1.0
    is_sale = (
        test is None
        and new_price < candidate.regular_price
        and bounds.allow_sale
        and cover is not None
        and cover > params.overstock_weeks
    )
    elasticity = float(model.elasticity[row])
    sd = float(model.elasticity_sd[row])
    interval = (elasticity - _Z90 * sd, elasticity + _Z90 * sd)
    own_weight = float(model.own_weight[row])
    source = f"{own_weight:.0%} from own price history" if own_weight >= 0.05 else f"pooled from category {category!r}"
    kind = "test" if test is not None else "sale" if is_sale else "regular"
    reasons = explain_suggestion(
        change=change,
        kind=kind,
        sale_weeks=candidate.rule.sale_weeks,
        velocity_ratio=velocity_ratio,
        weekly_units=velocity,
        cover_weeks=cover,
        elasticity=elasticity,
        elasticity_interval=interval,
        elasticity_source=source,
        bound_by=bound_by,
    )
    if test is not None:
        reasons.append(
            f"switchback test to measure this product's own price response: period {leg + 1} of {test.periods} "
            f"({test.period_weeks} week{'s' if test.period_weeks > 1 else ''} each), alternating "
            f"{test.high_price:.2f} and {test.low_price:.2f} until {test.ends_at:%Y-%m-%d}, then "
            "optimised with what it showed"
        )
    return PriceSuggestion(
        product_id=candidate.product_id,
        variation_id=candidate.variation_id,
        kind=kind,
        current_price=candidate.price,
        suggested_price=new_price,
        change=round(change, 6),
        sale_weeks=candidate.rule.sale_weeks if is_sale else None,
        expected_units_change=round(float(units_new - units_now), 4),
        expected_revenue_change=round(float(revenue_new - revenue_now), 4),
        expected_margin_change=round(profit_new - profit_now, 4),
        horizon_weeks=params.horizon_weeks,
        elasticity=round(elasticity, 4),
        elasticity_interval=(round(interval[0], 4), round(interval[1], 4)),
        confidence="high" if sd < 0.3 else "medium" if sd < 0.7 else "low",
        reasons=reasons,
        bound_by=bound_by,
        currency=candidate.rule.currency,
        auto_apply=candidate.rule.auto_apply,
        test=test,
    )


@dataclass
class DemandBatch:
    """Constant-elasticity demand with stock, restocks and holding cost, for many products at once.

    Profit of a price p held for the horizon: (p - cost) x units sold - holding x cost x units left in
    stock each week - when no restock comes within the horizon, the holding cost of draining what is left
    at the final week's pace (so a slow mover's excess stock weighs on it beyond the horizon). Sales stop at
    zero stock; a restock tops stock up to ``restock_level`` (inf = as much as demand needs, which also ends
    the stock constraint), at ``restock_weeks`` and every ``restock_every`` weeks after.
    """

    price: np.ndarray  # (N,) current price
    cost: np.ndarray
    elasticity: np.ndarray
    weekly: np.ndarray  # (N, H) expected units per week at the current price
    stock: np.ndarray  # inf = not managed
    restock_weeks: np.ndarray  # weeks until the first restock (inf = none)
    holding: float
    restock_every: np.ndarray | None = None  # weeks between restocks after the first (inf = once)
    restock_level: np.ndarray | None = None  # stock after a restock (inf = unlimited)
    elasticity_sd: np.ndarray | None = None  # when given, profits are expectations over this uncertainty

    def evaluate(self, prices: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(profit, units, revenue) over the horizon for prices of shape (N, K).

        With ``elasticity_sd`` the figures are expectations over the elasticity's uncertainty (three-point
        Gauss-Hermite rule): a price far from today's is only as good as it is across plausible elasticities.
        """
        if self.elasticity_sd is None:
            return self._evaluate_at(prices, self.elasticity)
        totals = [np.zeros(prices.shape) for _ in range(3)]
        for node, weight in ((-math.sqrt(3.0), 1 / 6), (0.0, 2 / 3), (math.sqrt(3.0), 1 / 6)):
            elasticity = np.minimum(self.elasticity + node * self.elasticity_sd, -0.05)
            for total, part in zip(totals, self._evaluate_at(prices, elasticity), strict=True):
                total += weight * part
        return totals[0], totals[1], totals[2]

    def _evaluate_at(self, prices: np.ndarray, elasticity: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        n, horizon = self.weekly.shape
        every = self.restock_every if self.restock_every is not None else np.full(n, np.inf)
        level = self.restock_level if self.restock_level is not None else np.full(n, np.inf)
        scale = np.power(prices / self.price[:, None], elasticity[:, None])  # (N, K)
        stock = np.broadcast_to(self.stock[:, None], prices.shape).astype(float)
        unit_holding = (self.holding * self.cost)[:, None]
        units = np.zeros(prices.shape)
        holding = np.zeros(prices.shape)
        demand = scale
        for week in range(horizon):
            since_first = np.where(np.isfinite(self.restock_weeks), week - self.restock_weeks, -1.0)
            restocks_now = (since_first >= 0) & (
                (since_first == 0) | (np.isfinite(every) & (np.mod(since_first, np.where(every > 0, every, 1)) == 0))
            )
            stock = np.where(restocks_now[:, None], np.maximum(stock, level[:, None]), stock)
            demand = self.weekly[:, week : week + 1] * scale
            sold = np.minimum(demand, stock)
            stock = stock - sold
            units += sold
            holding += np.where(np.isfinite(stock), unit_holding * stock, 0.0)
        no_restock = (self.restock_weeks >= horizon)[:, None] & np.isfinite(stock)
        final_pace = np.maximum(demand, 1e-6)
        left = np.where(no_restock, stock, 0.0)
        drain_weeks = np.minimum(left / final_pace, 104.0)
        holding += unit_holding * left * drain_weeks / 2.0
        revenue = prices * units
        profit = (prices - self.cost[:, None]) * units - holding
        return profit, units, revenue

    def subset(self, part: slice) -> DemandBatch:
        return DemandBatch(
            self.price[part], self.cost[part], self.elasticity[part], self.weekly[part], self.stock[part],
            self.restock_weeks[part], self.holding,
            None if self.restock_every is None else self.restock_every[part],
            None if self.restock_level is None else self.restock_level[part],
            None if self.elasticity_sd is None else self.elasticity_sd[part],
        )  # fmt: skip

    def best_price(self, lower: np.ndarray, upper: np.ndarray, grid_size: int) -> np.ndarray:
        """Best price on a log-spaced grid between lower and upper, refined once around the winner."""
        n = len(lower)
        best = np.empty(n)
        for start in range(0, n, 2000):  # chunks keep the (N, K) arrays small
            part = slice(start, min(start + 2000, n))
            sub = self.subset(part)
            lo, hi = np.log(lower[part]), np.log(upper[part])
            steps = np.linspace(0.0, 1.0, grid_size)[None, :]
            grid = np.exp(lo[:, None] + (hi - lo)[:, None] * steps)
            winner = np.argmax(sub.evaluate(grid)[0], axis=1)
            width = (hi - lo) / (grid_size - 1)
            centre = np.log(grid[np.arange(len(winner)), winner])
            fine = np.exp(np.clip(centre[:, None] + width[:, None] * np.linspace(-1, 1, 9)[None, :],
                                  lo[:, None], hi[:, None]))  # fmt: skip
            best[part] = fine[np.arange(len(winner)), np.argmax(sub.evaluate(fine)[0], axis=1)]
        return best


def _number(value: Any) -> float | None:
    """A finite float, or None for missing / empty / non-numeric values (WooCommerce sends strings)."""
    if value is None or isinstance(value, bool) or value == "":
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) or number == math.inf else None


def _positive(value: Any) -> bool:
    number = _number(value)
    return number is not None and number > 0


def _optional_str(value: Any) -> str | None:
    return None if value is None or value == "" else str(value)

"""Dynamic pricing: price elasticity per product (pooled by category) and guardrailed price suggestions.

Training (:func:`train_pricing_model`, ML layer: pandas / numpy) turns order lines into weekly units and
prices per product and fits, for every product at once, a log-log demand model

    E[units in week w] = exp(a_i + e_i * log(price_w / mean price_i)) * category_index_w

by Poisson and then negative-binomial scoring (variance mu + alpha mu^2). ``category_index`` is the
leave-one-out weekly demand of the product's category with the other products' own price moves taken out;
it absorbs seasons and trends shared by the category, so they are not mistaken for price effects, and is
alternated with the elasticities a few times. Weeks in which a product ran out of stock are left out when a
stock history is given. Products whose own prices barely moved, or who sold too little, cannot identify
``e_i``: estimates shrink towards their category's mean, and category means towards the store's, by
empirical Bayes (DerSimonian-Laird between-product spread); the stated 90 % interval and confidence say how
much of the answer came from the product itself.

Serving (:class:`PricingModel`, :func:`suggest_prices`, numpy only) evaluates, for each product, the
expected profit over a planning horizon on a grid of prices inside the guardrails, with the stock it has
(sales stop at zero stock until the next restock), a holding cost for stock that sits, the demand forecast
when one is given, and the elasticity's uncertainty. The best price is snapped to the allowed price endings
and currency units, compared with keeping the current price, and explained in words.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

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

if TYPE_CHECKING:  # the ML layer only; serving never imports pandas
    import pandas as pd

MODEL_KIND = "pricing"
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

    def __post_init__(self) -> None:
        if self.horizon_weeks < 1 or self.velocity_weeks < 1 or self.history_weeks < 2:
            raise PricingDataError("horizon_weeks, velocity_weeks must be >= 1 and history_weeks >= 2")
        if not self.decision_elasticity_min < self.decision_elasticity_max < 0:
            raise PricingDataError("need decision_elasticity_min < decision_elasticity_max < 0")
        if self.grid_size < 3:
            raise PricingDataError("grid_size must be at least 3")
        if self.holding_cost_per_week < 0 or self.min_relative_gain < 0:
            raise PricingDataError("holding_cost_per_week and min_relative_gain must be >= 0")

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> PricingParams:
        known = {name for name in cls.__dataclass_fields__}
        return cls(**{key: value for key, value in values.items() if key in known})


# --------------------------------------------------------------------------------------------------
# Training (ML layer)
# --------------------------------------------------------------------------------------------------


def train_pricing_model(
    order_lines: pd.DataFrame,
    products: pd.DataFrame,
    *,
    params: PricingParams | None = None,
    as_of: date | None = None,
    price_history: pd.DataFrame | None = None,
    stock_history: pd.DataFrame | None = None,
) -> ModelArtifact:
    """Fit elasticities (with category shrinkage), velocities and stock cover for every product.

    ``order_lines`` / ``products`` follow :mod:`luxebrain.ml.dataset`. ``price_history`` (optional:
    product_id, changed_at, price) gives the price in weeks without sales; without it the last sold
    price is carried forward. ``stock_history`` (optional: product_id, recorded_at, stock_quantity)
    marks the weeks in which a product ran out: their sales say how much stock there was, not how much
    was wanted, so they are left out of the fits and the velocity. ``as_of`` ends the history
    (default: the last order's day).
    """
    import pandas as pd

    from luxebrain.ml.dataset import require_columns

    params = params or PricingParams()
    require_columns(order_lines, ["product_id", "ordered_at", "quantity", "unit_price"], "order_lines")
    require_columns(products, ["product_id", "category", "price", "stock_quantity"], "products")
    lines = order_lines.loc[:, ["product_id", "ordered_at", "quantity", "unit_price"]].copy()
    lines["product_id"] = lines["product_id"].astype(str)
    lines["ordered_at"] = pd.to_datetime(lines["ordered_at"], utc=True)
    for column in ("quantity", "unit_price"):
        values = pd.to_numeric(lines[column], errors="coerce")
        bad = ~np.isfinite(values.to_numpy(dtype=float)) | (values.to_numpy(dtype=float) < 0)
        if bad.any():
            row = lines.index[np.flatnonzero(bad)[0]]
            raise PricingDataError(f"order_lines.{column} must be a finite number >= 0 (row {row!r})")
        lines[column] = values.astype(float)
    lines = lines[(lines["quantity"] > 0) & (lines["unit_price"] > 0)]

    catalogue = products.drop_duplicates("product_id", keep="last").copy()
    catalogue["product_id"] = catalogue["product_id"].astype(str)
    catalogue["category"] = catalogue["category"].fillna("").astype(str)
    product_ids = catalogue["product_id"].to_numpy(dtype=str)
    n_products = len(product_ids)
    position = {pid: i for i, pid in enumerate(product_ids)}

    end = pd.Timestamp(as_of, tz="UTC") + pd.Timedelta(days=1) if as_of else None
    if end is None:
        end = lines["ordered_at"].max().normalize() + pd.Timedelta(days=1) if len(lines) else pd.Timestamp.now(UTC)
    n_weeks = params.history_weeks
    start = end - pd.Timedelta(weeks=n_weeks)
    lines = lines[(lines["ordered_at"] >= start) & (lines["ordered_at"] < end)]
    lines = lines[lines["product_id"].isin(position)]

    # Dense product x week panels: units, revenue, and the price in effect each week.
    row = lines["product_id"].map(position).to_numpy(dtype=np.int64)
    week = ((lines["ordered_at"] - start) // pd.Timedelta(weeks=1)).to_numpy(dtype=np.int64)
    units = np.zeros((n_products, n_weeks))
    revenue = np.zeros((n_products, n_weeks))
    np.add.at(units, (row, week), lines["quantity"].to_numpy())
    np.add.at(revenue, (row, week), (lines["quantity"] * lines["unit_price"]).to_numpy())
    observed_price = np.divide(revenue, units, out=np.full_like(units, np.nan), where=units > 0)
    weekly_price = _carry_forward(observed_price)
    if price_history is not None:
        weekly_price = _overlay_price_history(weekly_price, price_history, position, start, n_weeks)
    active = np.isfinite(weekly_price)
    if stock_history is not None:
        active &= ~_stockout_weeks(stock_history, position, start, n_weeks)

    categories, category_code = np.unique(catalogue["category"].to_numpy(dtype=str), return_inverse=True)
    # Elasticities without the category index first, then alternate: the index from the other products'
    # demand *with their own price moves taken out* (else a category-wide promotion would be read as a
    # seasonal peak and hide the price effect), and the elasticities given that index.
    no_offset = np.zeros_like(units)
    own, own_se, pooling_se, price_sd = _fit_poisson_elasticities(units, weekly_price, active, no_offset, params)
    shrunk, shrunk_sd, own_weight, category_prior = _shrink_by_category(
        own, own_se, pooling_se, category_code, len(categories), params
    )
    for _ in range(params.index_rounds if params.use_category_index else 0):
        log_relative_price = _log_relative_price(weekly_price, active)
        price_adjusted = units * np.exp(-np.clip(shrunk[:, None] * log_relative_price, -5.0, 5.0))
        offset = _category_offset(price_adjusted, active, category_code, len(categories), params)
        own, own_se, pooling_se, price_sd = _fit_poisson_elasticities(units, weekly_price, active, offset, params)
        shrunk, shrunk_sd, own_weight, category_prior = _shrink_by_category(
            own, own_se, pooling_se, category_code, len(categories), params
        )

    last_price = np.array([_last_finite(r) for r in weekly_price])
    velocity = _price_adjusted_velocity(units, weekly_price, active, last_price, shrunk, params)
    recent_price = last_price
    stock = pd.to_numeric(catalogue["stock_quantity"], errors="coerce").to_numpy(dtype=float)
    cover = np.where(
        np.isfinite(stock),
        np.divide(np.maximum(stock, 0), velocity, out=np.full(n_products, np.inf), where=velocity > 0),
        -1.0,  # stock not managed
    )
    category_velocity = {
        str(name): float(np.median(velocity[(category_code == c) & (active.sum(axis=1) > 0)]))
        if ((category_code == c) & (active.sum(axis=1) > 0)).any()
        else 0.0
        for c, name in enumerate(categories)
    }
    active_weeks = active.sum(axis=1)
    has_own = own_weight > 0
    metrics = {
        "products": int(n_products),
        "products_with_history": int((active_weeks > 0).sum()),
        "own_estimates": int((own_se > 0).sum()),
        "median_elasticity": float(np.median(shrunk)) if n_products else 0.0,
        "median_own_weight": float(np.median(own_weight[has_own])) if has_own.any() else 0.0,
    }
    return ModelArtifact(
        kind=MODEL_KIND,
        arrays={
            "product_ids": product_ids.astype(str),
            "category_code": category_code.astype(np.int32),
            "elasticity": shrunk,
            "elasticity_sd": shrunk_sd,
            "own_elasticity": own,
            "own_elasticity_se": own_se,  # -1 where the product's own history cannot identify it
            "own_weight": own_weight,
            "price_variation": price_sd,
            "active_weeks": active_weeks.astype(np.int32),
            "units_sold": units.sum(axis=1),
            "velocity": velocity,
            "recent_price": recent_price,
            "stock_cover_weeks": cover,  # -1 = stock not managed; inf = no recent sales
        },
        params=asdict(params),
        metrics=metrics,
        data_counts={"order_lines": len(lines), "products": n_products, "weeks": n_weeks},
        extra={
            "categories": [str(name) for name in categories],
            "category_velocity": category_velocity,
            "category_prior": category_prior,
            "as_of": str((end - pd.Timedelta(days=1)).date()),
        },
    )


def _carry_forward(observed: np.ndarray) -> np.ndarray:
    """Fill each row's NaNs with the last observed value (leading NaNs stay NaN: not yet on sale)."""
    n_rows, n_cols = observed.shape
    index = np.where(np.isfinite(observed), np.arange(n_cols), -1)
    np.maximum.accumulate(index, axis=1, out=index)
    filled = observed[np.arange(n_rows)[:, None], np.maximum(index, 0)]
    filled[index < 0] = np.nan
    return filled


def _stockout_weeks(stock_history: pd.DataFrame, position: Mapping[str, int], start: Any, n_weeks: int) -> np.ndarray:
    """(products, weeks) True where a stock record of zero or less falls in the week."""
    import pandas as pd

    from luxebrain.ml.dataset import require_columns

    require_columns(stock_history, ["product_id", "recorded_at", "stock_quantity"], "stock_history")
    out = np.zeros((len(position), n_weeks), dtype=bool)
    records = stock_history.loc[:, ["product_id", "recorded_at", "stock_quantity"]].copy()
    records["product_id"] = records["product_id"].astype(str)
    records["recorded_at"] = pd.to_datetime(records["recorded_at"], utc=True)
    stock = pd.to_numeric(records["stock_quantity"], errors="coerce")
    empty = records[(stock <= 0).to_numpy() & records["product_id"].isin(position).to_numpy()]
    week = ((empty["recorded_at"] - start) // pd.Timedelta(weeks=1)).to_numpy(dtype=np.int64)
    inside = (week >= 0) & (week < n_weeks)
    rows = empty["product_id"].map(position).to_numpy(dtype=np.int64)
    out[rows[inside], week[inside]] = True
    return out


def _overlay_price_history(
    weekly_price: np.ndarray,
    price_history: pd.DataFrame,
    position: Mapping[str, int],
    start: Any,
    n_weeks: int,
) -> np.ndarray:
    """Use recorded price changes (step function, price in effect mid-week) where they exist."""
    import pandas as pd

    from luxebrain.ml.dataset import require_columns

    require_columns(price_history, ["product_id", "changed_at", "price"], "price_history")
    history = price_history.loc[:, ["product_id", "changed_at", "price"]].copy()
    history["product_id"] = history["product_id"].astype(str)
    history["changed_at"] = pd.to_datetime(history["changed_at"], utc=True)
    history["price"] = pd.to_numeric(history["price"], errors="coerce")
    history = history[history["product_id"].isin(position) & (history["price"] > 0)]
    history = history.sort_values(["product_id", "changed_at"])
    midweeks = start + pd.Timedelta(days=3.5) + pd.to_timedelta(np.arange(n_weeks) * 7, unit="D")
    result = weekly_price.copy()
    for product_id, changes in history.groupby("product_id", sort=False):
        times = changes["changed_at"].to_numpy(dtype="datetime64[ns]")
        slot = np.searchsorted(times, midweeks.to_numpy(dtype="datetime64[ns]"), side="right") - 1
        prices = np.where(slot >= 0, changes["price"].to_numpy()[np.maximum(slot, 0)], np.nan)
        row = position[str(product_id)]
        result[row] = np.where(np.isfinite(prices), prices, result[row])
    return result


def _price_adjusted_velocity(
    units: np.ndarray,
    price: np.ndarray,
    active: np.ndarray,
    last_price: np.ndarray,
    elasticity: np.ndarray,
    params: PricingParams,
) -> np.ndarray:
    """Weekly units at the last price: recent weeks' sales moved along the demand curve to that price.

    The window is ``velocity_weeks``, widened (x2, x4, ... up to the history) for slow movers until it
    holds at least ``min_units`` units, so one lucky week does not set a slow mover's pace.
    """
    n_products, n_weeks = units.shape
    ratio = np.divide(last_price[:, None], price, out=np.ones_like(price), where=active & (price > 0))
    adjusted = units * np.power(ratio, elasticity[:, None]) * active
    velocity = np.zeros(n_products)
    settled = np.zeros(n_products, dtype=bool)
    window = params.velocity_weeks
    while True:
        window = min(window, n_weeks)
        weeks = active[:, n_weeks - window :].sum(axis=1)
        total = units[:, n_weeks - window :].sum(axis=1)
        pace = np.divide(adjusted[:, n_weeks - window :].sum(axis=1), weeks, out=np.zeros(n_products), where=weeks > 0)
        take = ~settled & ((total >= params.min_units) | (window == n_weeks))
        velocity[take] = pace[take]
        settled |= take
        if settled.all() or window == n_weeks:
            return velocity
        window *= 2


def _log_relative_price(price: np.ndarray, active: np.ndarray) -> np.ndarray:
    """log(price / the product's mean price) in active weeks, 0 elsewhere."""
    log_price = np.log(np.where(active, price, 1.0))
    n = active.sum(axis=1)
    mean = np.divide((log_price * active).sum(axis=1), n, out=np.zeros(len(price)), where=n > 0)
    return (log_price - mean[:, None]) * active


def _category_offset(
    units: np.ndarray, active: np.ndarray, category_code: np.ndarray, n_categories: int, params: PricingParams
) -> np.ndarray:
    """log of the leave-one-out weekly demand index of each product's category (0 where unusable)."""
    offset = np.zeros_like(units)
    if not params.use_category_index:
        return offset
    totals = np.zeros((n_categories, units.shape[1]))
    np.add.at(totals, category_code, units)
    members = np.bincount(category_code, minlength=n_categories)
    others = totals[category_code] - units
    # Smooth over a window wide enough to hold ~100 units (3 to 13 weeks): the index should carry seasons
    # and trends, not the week-to-week noise of a sparse category.
    n_weeks = units.shape[1]
    pace = np.maximum(others.mean(axis=1), 1e-9)
    half = np.clip(np.ceil(100.0 / pace / 2.0), 1, 6).astype(np.int64)
    cumulative = np.concatenate([np.zeros((len(units), 1)), np.cumsum(others, axis=1)], axis=1)
    weeks = np.arange(n_weeks)[None, :]
    left = np.clip(weeks - half[:, None], 0, n_weeks)
    right = np.clip(weeks + half[:, None] + 1, 0, n_weeks)
    smooth = (np.take_along_axis(cumulative, right, axis=1) - np.take_along_axis(cumulative, left, axis=1)) / (
        right - left
    )
    weight = active.sum(axis=1)
    mean = np.divide((smooth * active).sum(axis=1), weight, out=np.zeros(len(units)), where=weight > 0)
    usable = (members[category_code] >= 3) & (mean > 0)
    index = np.divide(smooth, mean[:, None], out=np.ones_like(smooth), where=usable[:, None])
    offset = np.log(np.clip(index, 0.1, 10.0))
    offset[~usable] = 0.0
    return offset


def _fit_poisson_elasticities(
    units: np.ndarray, price: np.ndarray, active: np.ndarray, offset: np.ndarray, params: PricingParams
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per-product log-log demand fits, all products at once: Poisson first, then negative binomial.

    The negative-binomial pass (variance mu + alpha mu^2, alpha by moments from the Poisson fit) keeps the
    Poisson's efficiency for slow movers while stopping a few huge weeks (a promotion with a display) from
    dominating a fast mover's estimate. Standard errors are scaled by the Pearson dispersion (>= 1).
    Returns (own elasticity, its standard error or -1 where unidentified, the standard error used to pool
    it, std of log price).
    """
    n_products = len(units)
    mask = active.astype(float)
    n = mask.sum(axis=1)
    x = _log_relative_price(price, active)
    price_sd = np.sqrt(np.divide((x**2).sum(axis=1), n, out=np.zeros(n_products), where=n > 0))
    y = units * mask
    total = y.sum(axis=1)
    identifiable = (
        (n >= params.min_active_weeks) & (total >= params.min_units) & (price_sd >= params.min_price_variation)
    )
    base = np.divide(total, (np.exp(offset) * mask).sum(axis=1), out=np.ones(n_products), where=n > 0)
    a = np.log(np.maximum(base, 1e-9))
    b = np.zeros(n_products)
    alpha = np.zeros(n_products)
    a, b, info = _scoring(y, x, offset, mask, identifiable, a, b, alpha)
    mu = np.exp(np.clip(a[:, None] + b[:, None] * x + offset, -30.0, 30.0)) * mask
    excess = (((y - mu) ** 2 - mu) * mask).sum(axis=1)
    alpha = np.maximum(np.divide(excess, (mu**2).sum(axis=1), out=np.zeros(n_products), where=n > 2), 0.0)
    a, b, info = _scoring(y, x, offset, mask, identifiable, a, b, alpha)
    mu = np.exp(np.clip(a[:, None] + b[:, None] * x + offset, -30.0, 30.0)) * mask
    variance_fn = mu * (1.0 + alpha[:, None] * mu)
    pearson = np.divide((y - mu) ** 2, variance_fn, out=np.zeros_like(mu), where=variance_fn > 0).sum(axis=1)
    dispersion = np.maximum(1.0, np.divide(pearson, n - 2, out=np.ones(n_products), where=n > 2))
    h_aa, h_ab, h_bb = info
    det = h_aa * h_bb - h_ab**2
    variance = np.divide(h_aa * dispersion, det, out=np.full(n_products, np.inf), where=det > 1e-12)
    se = np.sqrt(variance)
    usable = identifiable & np.isfinite(se) & np.isfinite(b) & (se > 0) & (se <= params.max_own_se)
    own = np.where(usable, np.clip(b, -10.0, 5.0), 0.0)
    # For pooling, weights from the information at the product's *average* demand: at the fitted curve a
    # more elastic estimate (bigger promotion spikes) looks more precise, and weighting by that would drag
    # every category mean towards its most elastic products.
    mean_demand = np.divide(total, n, out=np.zeros(n_products), where=n > 0)
    x_mean = np.divide(x.sum(axis=1), n, out=np.zeros(n_products), where=n > 0)
    spread = (((x - x_mean[:, None]) * mask) ** 2).sum(axis=1)
    information = mean_demand / (1.0 + alpha * mean_demand) * spread
    pooling_se = np.sqrt(np.divide(dispersion, information, out=np.full(n_products, np.inf), where=information > 0))
    return own, np.where(usable, se, -1.0), np.where(usable, pooling_se, -1.0), price_sd


def _scoring(
    y: np.ndarray,
    x: np.ndarray,
    offset: np.ndarray,
    mask: np.ndarray,
    identifiable: np.ndarray,
    a: np.ndarray,
    b: np.ndarray,
    alpha: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Fisher scoring for log mu = a + b x + offset with variance mu (1 + alpha mu), batched over rows."""
    a, b = a.copy(), b.copy()
    info = (np.ones(len(a)), np.zeros(len(a)), np.ones(len(a)))
    for _ in range(40):
        mu = np.exp(np.clip(a[:, None] + b[:, None] * x + offset, -30.0, 30.0)) * mask
        scale = 1.0 / (1.0 + alpha[:, None] * mu)
        residual = (y - mu) * scale
        weight = mu * scale
        g_a, g_b = residual.sum(axis=1), (residual * x).sum(axis=1)
        info = (weight.sum(axis=1), (weight * x).sum(axis=1), (weight * x * x).sum(axis=1))
        h_aa, h_ab, h_bb = info
        det = h_aa * h_bb - h_ab**2
        ok = identifiable & (det > 1e-12)
        safe_det = np.where(ok, det, 1.0)
        step_a = np.where(ok, (h_bb * g_a - h_ab * g_b) / safe_det, 0.0)
        step_b = np.where(ok, (h_aa * g_b - h_ab * g_a) / safe_det, 0.0)
        # Damped steps keep the batch stable where a product's data are nearly flat.
        a += np.clip(step_a, -2.0, 2.0)
        b += np.clip(step_b, -1.0, 1.0)
        if np.max(np.abs(step_b), initial=0.0) < 1e-7:
            break
    return a, b, info


def _shrink_by_category(
    own: np.ndarray,
    own_se: np.ndarray,
    pooling_se: np.ndarray,
    category_code: np.ndarray,
    n_categories: int,
    params: PricingParams,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict[str, list[float]]]:
    """Empirical Bayes on three levels: product estimates shrink to their category, categories to the store.

    Each category's mean (a random-effects mean of its products' own estimates) is itself shrunk towards
    the store-wide mean by its precision, so a category with three noisy estimates does not set its
    products' prior on its own. A store with no own estimates at all uses the prior from the params.
    Returns (elasticity, sd, weight of the product's own estimate, {category code: [prior mean, prior sd]}).
    """
    has_own = own_se > 0
    store_mean, store_tau, store_mean_se = _random_effects(own[has_own], pooling_se[has_own], params)
    category_stats: dict[int, tuple[float, float, float]] = {}
    for c in range(n_categories):
        members = (category_code == c) & has_own
        if members.sum() >= params.min_category_estimates:
            category_stats[c] = _random_effects(own[members], pooling_se[members], params)
        elif members.any():  # too few to estimate a spread: borrow the store's
            w = 1.0 / (pooling_se[members] ** 2 + store_tau**2)
            category_stats[c] = (float((w * own[members]).sum() / w.sum()), store_tau, float(np.sqrt(1 / w.sum())))
    means = np.array([m for m, _, _ in category_stats.values()])
    mean_ses = np.array([se for _, _, se in category_stats.values()])
    if len(means) >= params.min_category_estimates:
        _, between_categories, _ = _random_effects(means, np.maximum(mean_ses, 1e-6), params)
    else:
        between_categories = store_tau
    elasticity = np.empty_like(own)
    sd = np.empty_like(own)
    weight = np.zeros_like(own)
    priors: dict[str, list[float]] = {}
    for c in range(n_categories):
        in_category = category_code == c
        if c in category_stats:
            raw_mean, tau, mean_se = category_stats[c]
            precision = 1.0 / max(mean_se, 1e-6) ** 2 + 1.0 / between_categories**2
            mean = (raw_mean / max(mean_se, 1e-6) ** 2 + store_mean / between_categories**2) / precision
            mean_var = 1.0 / precision
        else:
            mean, tau, mean_var = store_mean, store_tau, between_categories**2 + store_mean_se**2
        prior_var = tau**2 + mean_var
        priors[str(c)] = [float(mean), float(math.sqrt(prior_var))]
        members = in_category & has_own
        se2 = np.where(members, own_se**2, 1.0)
        w = np.where(members, prior_var / (prior_var + se2), 0.0)
        elasticity[in_category] = (w * own + (1 - w) * mean)[in_category]
        posterior_var = np.where(members, 1.0 / (1.0 / prior_var + 1.0 / se2), prior_var)
        sd[in_category] = np.sqrt(posterior_var)[in_category]
        weight[in_category] = w[in_category]
    return elasticity, sd, weight, priors


def _random_effects(estimates: np.ndarray, se: np.ndarray, params: PricingParams) -> tuple[float, float, float]:
    """DerSimonian-Laird random-effects mean, between-product sd, and the mean's standard error."""
    if len(estimates) < params.min_category_estimates:
        return params.prior_elasticity, params.prior_sd, 0.0
    w = 1.0 / se**2
    fixed_mean = float((w * estimates).sum() / w.sum())
    q = float((w * (estimates - fixed_mean) ** 2).sum())
    c = float(w.sum() - (w**2).sum() / w.sum())
    tau2 = max((q - (len(estimates) - 1)) / c, 0.0) if c > 0 else 0.0
    tau = max(math.sqrt(tau2), params.min_between_sd)
    w_star = 1.0 / (se**2 + tau**2)
    mean = float((w_star * estimates).sum() / w_star.sum())
    return mean, tau, float(math.sqrt(1.0 / w_star.sum()))


def _last_finite(values: np.ndarray) -> float:
    finite = np.flatnonzero(np.isfinite(values))
    return float(values[finite[-1]]) if len(finite) else 0.0


# --------------------------------------------------------------------------------------------------
# Serving (numpy only)
# --------------------------------------------------------------------------------------------------


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


def suggest_prices(
    model: PricingModel,
    guardrails: GuardrailConfig,
    *,
    products: Sequence[Mapping[str, Any]],
    forecast: Mapping[str, Sequence[float]] | None = None,
    last_changes: Mapping[str, datetime] | None = None,
    now: datetime,
) -> list[PriceSuggestion | NoSuggestion]:
    """One answer per product (per priced variation for variable products), in input order.

    ``products``: mappings with product_id, category, price (active), regular_price, cost, stock_quantity
    (None when not managed), tags; optional: type ("variable") with variations (each: variation_id, price,
    regular_price, cost, stock_quantity), restock_in_weeks (inf = none planned; default from the params),
    restock_every_weeks, restock_level (stock after a restock; default unlimited), floor_price, ceiling_price,
    map_price, competitor_price. ``forecast``: product_id -> expected weekly units at the current price for
    the coming weeks. ``last_changes``: product_id (or "product_id:variation_id") -> time of the last
    price change.
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
            results.append(
                _check_item(model, rule, product, item, product_id, variation_id, row, weekly, share,
                            (last_changes or {}).get(change_key), now)
            )  # fmt: skip
    candidates = [r for r in results if isinstance(r, _Candidate)]
    decided = dict(zip(map(id, candidates), _decide(model, candidates), strict=True)) if candidates else {}
    return [decided[id(r)] if isinstance(r, _Candidate) else r for r in results]


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


def _decide(model: PricingModel, candidates: list[_Candidate]) -> list[PriceSuggestion | NoSuggestion]:
    """Batched optimisation over a price grid inside each candidate's bounds, then endings and explanation."""
    params = model.params
    rows = np.array([c.row for c in candidates])
    price = np.array([c.price for c in candidates])
    elasticity = np.clip(model.elasticity[rows], params.decision_elasticity_min, params.decision_elasticity_max)
    at_current = np.stack([c.weekly_demand for c in candidates])
    demand = DemandBatch(
        price=price,
        cost=np.array([c.cost for c in candidates]),
        elasticity=elasticity,
        weekly=at_current,
        stock=np.array([c.stock for c in candidates]),
        restock_weeks=np.array([c.restock_weeks for c in candidates]),
        holding=params.holding_cost_per_week,
        restock_every=np.array([c.restock_every for c in candidates]),
        restock_level=np.array([c.restock_level for c in candidates]),
        elasticity_sd=model.elasticity_sd[rows] if params.expect_over_uncertainty else None,
    )
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
        new_price < candidate.regular_price
        and bounds.allow_sale
        and cover is not None
        and cover > params.overstock_weeks
    )
    elasticity = float(model.elasticity[row])
    sd = float(model.elasticity_sd[row])
    interval = (elasticity - _Z90 * sd, elasticity + _Z90 * sd)
    own_weight = float(model.own_weight[row])
    source = f"{own_weight:.0%} from own price history" if own_weight >= 0.05 else f"pooled from category {category!r}"
    reasons = explain_suggestion(
        change=change,
        kind="sale" if is_sale else "regular",
        sale_weeks=candidate.rule.sale_weeks,
        velocity_ratio=velocity_ratio,
        weekly_units=velocity,
        cover_weeks=cover,
        elasticity=elasticity,
        elasticity_interval=interval,
        elasticity_source=source,
        bound_by=bound_by,
    )
    return PriceSuggestion(
        product_id=candidate.product_id,
        variation_id=candidate.variation_id,
        kind="sale" if is_sale else "regular",
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

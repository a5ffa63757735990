"""Dynamic pricing, training: price elasticity per product (pooled by category), velocities and stock cover.

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

The manifest's ``metrics["holdout"]`` scores the same fit of the weeks before each product's last
``holdout_weeks`` on those weeks against the product's recent demand with price ignored
(:mod:`luxebrain.ml.pricing.evaluation`); the served model is fitted on every week.

The artifact is served by :mod:`luxebrain.ml.pricing.serving` (numpy only).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict
from datetime import UTC, date
from typing import TYPE_CHECKING, Any

import numpy as np

from luxebrain.ml.artifacts import ModelArtifact
from luxebrain.ml.pricing.evaluation import HoldoutFit, holdout_metrics
from luxebrain.ml.pricing.serving import MODEL_KIND, PricingDataError, PricingParams

if TYPE_CHECKING:  # the ML layer only; serving never imports pandas
    import pandas as pd


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
    n_categories = len(categories)
    own, own_se, price_sd, shrunk, shrunk_sd, own_weight, category_prior = _fit_demand(
        units, weekly_price, active, category_code, n_categories, params
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
    metrics: dict[str, Any] = {
        "products": int(n_products),
        "products_with_history": int((active_weeks > 0).sum()),
        "own_estimates": int((own_se > 0).sum()),
        "median_elasticity": float(np.median(shrunk)) if n_products else 0.0,
        "median_own_weight": float(np.median(own_weight[has_own])) if has_own.any() else 0.0,
        "holdout": (
            _holdout(units, weekly_price, active, category_code, n_categories, params)
            if params.evaluate_holdout
            else {"scored": False, "reason": "disabled"}
        ),
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


def _fit_demand(
    units: np.ndarray,
    weekly_price: np.ndarray,
    active: np.ndarray,
    category_code: np.ndarray,
    n_categories: int,
    params: PricingParams,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict[str, list[float]]]:
    """Elasticities of a product x week panel: (own, own se, std of log price, shrunk, its sd, own weight,
    category priors)."""
    # Elasticities without the category index first, then alternate: the index from the other products'
    # demand *with their own price moves taken out* (else a category-wide promotion would be read as a
    # seasonal peak and hide the price effect), and the elasticities given that index.
    no_offset = np.zeros_like(units)
    own, own_se, pooling_se, price_sd = _fit_poisson_elasticities(units, weekly_price, active, no_offset, params)
    shrunk, shrunk_sd, own_weight, category_prior = _shrink_by_category(
        own, own_se, pooling_se, category_code, n_categories, params
    )
    for _ in range(params.index_rounds if params.use_category_index else 0):
        log_relative_price = _log_relative_price(weekly_price, active)
        price_adjusted = units * np.exp(-np.clip(shrunk[:, None] * log_relative_price, -5.0, 5.0))
        offset = _category_offset(price_adjusted, active, category_code, n_categories, params)
        own, own_se, pooling_se, price_sd = _fit_poisson_elasticities(units, weekly_price, active, offset, params)
        shrunk, shrunk_sd, own_weight, category_prior = _shrink_by_category(
            own, own_se, pooling_se, category_code, n_categories, params
        )
    return own, own_se, price_sd, shrunk, shrunk_sd, own_weight, category_prior


def _holdout(
    units: np.ndarray,
    weekly_price: np.ndarray,
    active: np.ndarray,
    category_code: np.ndarray,
    n_categories: int,
    params: PricingParams,
) -> dict[str, Any]:
    """The demand model fitted on the weeks before the last ``holdout_weeks``, scored on them against each
    product's recent demand with price ignored (``luxebrain.ml.pricing.evaluation``)."""

    def fit(units_before: np.ndarray, price_before: np.ndarray, active_before: np.ndarray) -> HoldoutFit:
        *_, shrunk, _, _, _ = _fit_demand(units_before, price_before, active_before, category_code, n_categories,
                                          params)  # fmt: skip
        last_price = np.array([_last_finite(r) for r in price_before])
        velocity = _price_adjusted_velocity(units_before, price_before, active_before, last_price, shrunk, params)
        recent = _price_adjusted_velocity(units_before, price_before, active_before, last_price,
                                          np.zeros_like(shrunk), params)  # fmt: skip
        return HoldoutFit(
            velocity=velocity, recent_mean=recent, elasticity=params.decision_elasticity(shrunk), last_price=last_price
        )

    return holdout_metrics(
        units,
        weekly_price,
        active,
        fit,
        holdout_weeks=params.holdout_weeks,
        min_training_weeks=params.min_active_weeks,
        min_product_weeks=params.holdout_min_product_weeks,
        min_separation=params.holdout_min_separation,
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
    """log of the leave-one-out weekly demand index of each product's category (0 where unusable).

    The index of week w is the other products' demand that week over what they sell in an ordinary week,
    counting only products that could sell that week (on sale and in stock): a product launched late or sold
    out would otherwise read as a dip of the whole category, and a price move of this product's in that week
    as no price effect at all.
    """
    offset = np.zeros_like(units)
    if not params.use_category_index:
        return offset
    on_sale = active.astype(float)
    weeks_on_sale = on_sale.sum(axis=1)
    level = np.divide((units * on_sale).sum(axis=1), weeks_on_sale, out=np.zeros(len(units)), where=weeks_on_sale > 0)
    sold = np.zeros((n_categories, units.shape[1]))
    expected = np.zeros((n_categories, units.shape[1]))
    np.add.at(sold, category_code, units * on_sale)
    np.add.at(expected, category_code, level[:, None] * on_sale)
    members = np.bincount(category_code, minlength=n_categories)
    others_sold = sold[category_code] - units * on_sale
    others_expected = expected[category_code] - level[:, None] * on_sale
    # Smooth over a window wide enough to hold ~100 units (3 to 13 weeks): the index should carry seasons
    # and trends, not the week-to-week noise of a sparse category.
    n_weeks = units.shape[1]
    pace = np.maximum(others_sold.mean(axis=1), 1e-9)
    half = np.clip(np.ceil(100.0 / pace / 2.0), 1, 6).astype(np.int64)
    weeks = np.arange(n_weeks)[None, :]
    left = np.clip(weeks - half[:, None], 0, n_weeks)
    right = np.clip(weeks + half[:, None] + 1, 0, n_weeks)

    def window_sum(values: np.ndarray) -> np.ndarray:
        cumulative = np.concatenate([np.zeros((len(values), 1)), np.cumsum(values, axis=1)], axis=1)
        return np.take_along_axis(cumulative, right, axis=1) - np.take_along_axis(cumulative, left, axis=1)

    smooth_sold, smooth_expected = window_sum(others_sold), window_sum(others_expected)
    seen = smooth_expected > 1e-9
    smooth = np.divide(smooth_sold, smooth_expected, out=np.ones_like(smooth_sold), where=seen)
    weight = on_sale * seen
    mean = np.divide((smooth * weight).sum(axis=1), weight.sum(axis=1), out=np.zeros(len(units)),
                     where=weight.sum(axis=1) > 0)  # fmt: skip
    usable = (members[category_code] >= 3) & (mean > 0)
    index = np.divide(smooth, mean[:, None], out=np.ones_like(smooth), where=usable[:, None] & seen)
    log_index = np.log(np.clip(index, 0.1, 10.0))
    # Shrink the index towards flat by how much of its spread is the counts' sampling noise (Poisson: the
    # variance of a log rate is 1 / expected units in the window): in a sparse category without a season the
    # index is mostly noise, and an offset of noise only blurs the price effect.
    noise = np.divide(1.0, smooth_expected, out=np.full_like(smooth, np.inf), where=seen)
    total_weight = np.maximum(weight.sum(axis=1), 1.0)
    centred = log_index - (log_index * weight).sum(axis=1, keepdims=True) / total_weight[:, None]
    spread = (centred**2 * weight).sum(axis=1) / total_weight
    mean_noise = (np.where(seen, noise, 0.0) * weight).sum(axis=1) / total_weight
    signal = np.maximum(spread - mean_noise, 0.0)[:, None]
    offset = np.where(seen, log_index * signal / (signal + noise), 0.0)
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

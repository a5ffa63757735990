"""Demand forecasting (training side): weekly quantile forecasts per product and for the whole store.

How it works, in one paragraph. Sales are bucketed into weeks that end on the forecast origin. A *global*
gradient-boosting model (scikit-learn ``HistGradientBoostingRegressor`` with quantile losses for P10 / P50 /
P90) learns from every product at once on scale-free features: recent lags, rolling means, exponentially
weighted levels, zero-run statistics, last year's same week, the category's recent growth, the horizon and
the week of the year. Targets are divided by each series' recent level and weighted by it, so the loss is
absolute error in units (what WAPE measures). Statistical fallbacks run beside it: TSB (Teunter-Syntetos-
Babai) for intermittent demand, a 13-week mean, a category-borrowed level for new products, simple exponential
smoothing, the Theta method and, from 78 weeks of history, a robust yearly decomposition whose adjusted series
is forecast by damped-trend exponential smoothing (MSTL's recipe); the last three also averaged with the GBM.
The last 13 weeks are held out as a backtest: for each demand class (smooth / erratic / intermittent / lumpy / new)
the method with the lowest error there is chosen, and its P10 / P90 are conformally recalibrated so that the
interval covers ~80 % of outcomes. Then the model is refitted on all data and the forecasts are stored as
plain arrays; daily forecasts split each week by the product's (shrunk) day-of-week profile.

Serving (``luxebrain.ml.forecast.serving``) reads only the stored arrays and never imports this module.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.isotonic import IsotonicRegression
from threadpoolctl import threadpool_limits

from luxebrain.ml.artifacts import ModelArtifact
from luxebrain.ml.dataset import DatasetError, require_columns
from luxebrain.ml.forecast.evaluation import (
    Forecaster,
    QuantileForecast,
    SalesPanel,
    moving_average_with_trend,
    seasonal_naive,
    tsb_numpy,
)
from luxebrain.ml.forecast.series import partial_edges, quiet_empty_slices, tsb_fitted

QUANTILES: tuple[float, float, float] = (0.1, 0.5, 0.9)
METHODS: tuple[str, ...] = (
    "gbm",
    "gbm+ses",
    "gbm+theta",
    "gbm+stl_ets",
    "ses",
    "theta",
    "stl_ets",
    "tsb",
    "mean13",
    "seasonal_naive",
    "category",
)
BASELINE_METHOD = "seasonal_naive"  # the kind's simplest baseline, served when the chosen methods do not beat it
BaselineJudge = Callable[[Mapping[str, Any]], bool]
SEGMENTS: tuple[str, ...] = ("smooth", "erratic", "intermittent", "lumpy", "new", "no_sales")
STORE_UNITS_ID = "__store_units__"
STORE_REVENUE_ID = "__store_revenue__"
# Syntetos-Boylan classification cut-offs (average inter-demand interval, squared CV of demand sizes).
ADI_CUTOFF = 1.32
CV2_CUTOFF = 0.49
# Interval recalibration rests on one validation origin: a calm validation quarter would shrink the band
# for a rougher next one. Narrowing is therefore limited to a quarter of the band's own width (widening is
# not limited). Chosen on Walmart's last cut-off (-0.9: 62 % coverage, 0: 90 %), checked on the benchmark.
NARROWING_FLOOR = -0.25


class ForecastInputError(DatasetError):
    """Order lines, a panel or a parameter cannot be used for forecasting; the message says which and why."""


@dataclass(frozen=True)
class ForecastParams:
    """Settings of the forecaster (defaults checked with benchmarks/forecast.py)."""

    horizon_weeks: int = 13
    validation_weeks: int = 13
    max_train_rows: int = 60_000
    gbm_max_iter: int = 100
    gbm_learning_rate: float = 0.08
    gbm_max_leaf_nodes: int = 31
    gbm_min_samples_leaf: int = 40
    min_series_for_choice: int = 5  # a demand class needs this many series in the backtest to pick its method
    new_product_weeks: int = 8  # fewer weeks of life than this: a "new" product that borrows from its category
    category_prior_weeks: float = 4.0  # how many weeks of own history the category level is worth
    dow_prior_units: float = 14.0  # shrinkage of a product's day-of-week profile towards the store's
    calibrate_intervals: bool = True
    refit_after_validation: bool = True
    rollup_variations: bool = True
    random_state: int = 0
    # One OpenMP thread: on a busy 2-core box (or a 1-vCPU Lambda) more threads spin and run slower.
    threads: int = 1

    def __post_init__(self) -> None:
        if not 1 <= self.horizon_weeks <= 52:
            raise ForecastInputError(f"horizon_weeks must be between 1 and 52, got {self.horizon_weeks}")
        if self.validation_weeks < 1:
            raise ForecastInputError(f"validation_weeks must be at least 1, got {self.validation_weeks}")
        if self.max_train_rows < 1000:
            raise ForecastInputError(f"max_train_rows must be at least 1000, got {self.max_train_rows}")
        if self.gbm_max_iter < 1 or not 0 < self.gbm_learning_rate <= 1:
            raise ForecastInputError("gbm_max_iter must be >= 1 and gbm_learning_rate in (0, 1]")


@dataclass
class PanelForecast:
    """Quantile forecasts for a panel of series: arrays of shape (n_series, horizon)."""

    p10: np.ndarray
    p50: np.ndarray
    p90: np.ndarray
    method: np.ndarray  # chosen method name per series
    segment: np.ndarray  # demand class per series at the forecast origin
    selection: dict[str, Any] = field(default_factory=dict)  # backtest errors per segment and method
    # The chosen methods' calibrated forecasts from the validation origin (n_series, validation weeks), if any.
    validation_origin: int | None = None
    validation: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
    # With prices: the horizon's total P50 of each series when every planned price is multiplied by
    # PRICE_MULTIPLIERS[k], over the total at the planned prices (n_series, len(PRICE_MULTIPLIERS)).
    price_response: np.ndarray | None = None
    # The multipliers of the planned price each series' what-if may ask (n_series, 2): the deepest and highest
    # price against the regular one that the panel's history holds, within PRICE_MULTIPLIERS.
    price_bounds: np.ndarray | None = None
    # Calibrated forecasts of the chosen methods from every calibration origin (the validation origin first):
    # (origin, (p10, p50, p90)) with as many weeks as the data holds after the origin, up to the validation's.
    calibration: list[tuple[int, tuple[np.ndarray, np.ndarray, np.ndarray]]] = field(default_factory=list)


# --------------------------------------------------------------------------------------------------------
# Feature engineering on a weekly panel. ``y`` has shape (n_series, n_weeks); NaN before a series exists.
# --------------------------------------------------------------------------------------------------------

ORIGIN_FEATURES: tuple[str, ...] = (
    *(f"lag_{k}" for k in range(1, 9)),
    *(f"mean_{w}" for w in (4, 8, 13, 26, 52)),
    "ewm_0.1",
    "ewm_0.3",
    "ewm_0.6",
    "std_13",
    "zero_frac_13",
    "zero_frac_all",
    "weeks_since_sale",
    "age_weeks",
    "log_scale",
    "slope_13",
    "yoy_growth",
    "category_growth",
    "tsb",
)
TARGET_FEATURES: tuple[str, ...] = (
    "horizon",
    "lag52_target",
    "lag52_target_smooth",
    "seasonal_ratio_forecast",
    "category_seasonal_ratio",
    "woy_sin",
    "woy_cos",
    "holiday",
    "holiday_last_year",
    "price_vs_regular",
    "recent_price_vs_regular",
    "promotion",
    "recent_promotion",
)
FEATURE_NAMES: tuple[str, ...] = (*ORIGIN_FEATURES, *TARGET_FEATURES)
# A higher price than the regular one never raises the forecast: the GBM is held to that, so a "what if this
# price" question gets an answer that moves the right way even where the history holds few price changes.
PRICE_FEATURE = FEATURE_NAMES.index("price_vs_regular")
REGULAR_PRICE_WEEKS = 13  # the regular price is the highest seen in this many weeks before the origin
PROMOTED_BELOW_REGULAR = 0.05  # a price this far below the regular one is a promotion, like a flagged week
PRICE_MULTIPLIERS: tuple[float, ...] = (0.7, 0.8, 0.9, 0.95, 1.0, 1.05, 1.1, 1.2, 1.3)


def _filled_prices(prices: np.ndarray) -> np.ndarray:
    """Each series' price carried forward over the periods it has none (a week without a sale keeps the
    price it had), and its first known price carried back; NaN for a series that never has one."""
    prices = np.where(np.nan_to_num(prices) > 0, prices, np.nan)
    n, t_len = prices.shape
    known = ~np.isnan(prices)
    last = np.maximum.accumulate(np.where(known, np.arange(t_len)[None, :], -1), axis=1)
    first = np.where(known.any(axis=1), known.argmax(axis=1), 0)
    position = np.where(last >= 0, last, first[:, None])
    return prices[np.arange(n)[:, None], position]


def _regular_prices(filled: np.ndarray, t_len: int) -> np.ndarray:
    """(n, t_len + 1): at each origin, the highest price of the REGULAR_PRICE_WEEKS before it (markdowns sit
    below it); at origin 0, the first price."""
    regular = np.full((filled.shape[0], t_len + 1), np.nan)
    with quiet_empty_slices():
        for shift in range(1, min(REGULAR_PRICE_WEEKS, t_len) + 1):
            shifted = np.full_like(regular, np.nan)
            shifted[:, shift:] = filled[:, : t_len + 1 - shift]
            regular = np.fmax(regular, shifted)
    regular[:, 0] = filled[:, 0]
    return regular


def _ewm_levels(y: np.ndarray, alpha: float) -> np.ndarray:
    """Exponentially weighted level after consuming y[:, :o], for o = 0..T (NaN before the first value)."""
    n, t_len = y.shape
    levels = np.full((n, t_len + 1), np.nan)
    level = np.full(n, np.nan)
    for t in range(t_len):
        value = y[:, t]
        has_value = ~np.isnan(value)
        fresh = has_value & np.isnan(level)
        update = has_value & ~fresh
        level = np.where(fresh, value, level)
        level = np.where(update, alpha * value + (1 - alpha) * level, level)
        levels[:, t + 1] = level
    return levels


class _PanelFeatures:
    """Pre-computes everything needed to build feature rows for any (series, origin, horizon)."""

    def __init__(
        self,
        y: np.ndarray,
        categories: np.ndarray,
        week_of_year: np.ndarray | None,
        holidays: np.ndarray | None = None,
        prices: np.ndarray | None = None,
        promotions: np.ndarray | None = None,
    ) -> None:
        self.y = y
        n, t_len = y.shape
        self.n, self.t_len = n, t_len
        valid = ~np.isnan(y)
        filled = np.nan_to_num(y)
        zero_pad = np.zeros((n, 1))
        self.cum = np.hstack([zero_pad, np.cumsum(filled, axis=1)])
        self.cum_sq = np.hstack([zero_pad, np.cumsum(filled**2, axis=1)])
        self.cum_n = np.hstack([zero_pad, np.cumsum(valid, axis=1)])
        self.cum_zero = np.hstack([zero_pad, np.cumsum(valid & (filled <= 0), axis=1)])
        index = np.where(valid & (filled > 0), np.arange(t_len)[None, :], -1)
        self.last_sale = np.hstack([np.full((n, 1), -1), np.maximum.accumulate(index, axis=1)])
        self.ewm = {alpha: _ewm_levels(y, alpha) for alpha in (0.1, 0.3, 0.6)}
        # Cumulative one-step-ahead absolute error of each smoothing constant, to pick one per series and origin.
        self.ewm_error = {
            alpha: np.hstack([zero_pad, np.cumsum(np.nan_to_num(np.abs(level[:, :-1] - y)), axis=1)])
            for alpha, level in self.ewm.items()
        }
        self.tsb = tsb_fitted(y)
        self.week_of_year = week_of_year  # length >= t_len + horizon when known
        self.holidays = holidays  # 1 in a holiday week, known in advance; length >= t_len + horizon when known
        # Prices and promotion flags per series (n, >= t_len + horizon): the future ones are planned (a what-if).
        self.prices = None if prices is None else _filled_prices(prices)
        self.regular = None if self.prices is None else _regular_prices(self.prices, t_len)
        self.promotions = promotions
        # Category totals (sum of the member series) give new products a seasonal and growth signal.
        codes, self.category_index = np.unique(categories, return_inverse=True)
        totals = np.zeros((len(codes), t_len))
        np.add.at(totals, self.category_index, filled)
        self.category_cum = np.hstack([np.zeros((len(codes), 1)), np.cumsum(totals, axis=1)])
        self.category_totals = totals

    def _mean(self, rows: np.ndarray, origins: np.ndarray, width: int, min_count: int) -> np.ndarray:
        origins = np.clip(origins, 0, None)  # an origin before the data has no history (count 0 -> NaN)
        start = np.clip(origins - width, 0, None)
        total = self.cum[rows, origins] - self.cum[rows, start]
        count = self.cum_n[rows, origins] - self.cum_n[rows, start]
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(count >= min_count, total / np.maximum(count, 1), np.nan)

    def scale(self, rows: np.ndarray, origins: np.ndarray) -> np.ndarray:
        """Recent level used to make series comparable: 26-week mean, else all-history mean, else 1."""
        recent = self._mean(rows, origins, 26, 1)
        overall = self._mean(rows, origins, origins.max() + 1 if len(origins) else 1, 1)
        scale = np.where(np.nan_to_num(recent) > 0, recent, overall)
        return np.where(np.nan_to_num(scale) > 0, scale, 1.0)

    def rows(self, rows: np.ndarray, origins: np.ndarray, horizons: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Feature matrix and scale for predicting y[row, origin + horizon - 1] from y[row, :origin]."""
        y = self.y
        scale = self.scale(rows, origins)
        columns: list[np.ndarray] = []

        def value_at(index: np.ndarray) -> np.ndarray:
            inside = (index >= 0) & (index < self.t_len)
            return np.where(inside, y[rows, np.clip(index, 0, self.t_len - 1)], np.nan)

        for lag in range(1, 9):
            columns.append(value_at(origins - lag) / scale)
        for width in (4, 8, 13, 26, 52):
            columns.append(self._mean(rows, origins, width, max(1, width // 2)) / scale)
        for alpha in (0.1, 0.3, 0.6):
            columns.append(self.ewm[alpha][rows, origins] / scale)
        mean13 = self._mean(rows, origins, 13, 1)
        start13 = np.clip(origins - 13, 0, None)
        count13 = self.cum_n[rows, origins] - self.cum_n[rows, start13]
        with np.errstate(invalid="ignore", divide="ignore"):
            sq13 = (self.cum_sq[rows, origins] - self.cum_sq[rows, start13]) / np.maximum(count13, 1)
            columns.append(np.sqrt(np.clip(sq13 - mean13**2, 0, None)) / scale)
            zeros13 = self.cum_zero[rows, origins] - self.cum_zero[rows, start13]
            columns.append(np.where(count13 > 0, zeros13 / np.maximum(count13, 1), np.nan))
            age = self.cum_n[rows, origins]
            columns.append(np.where(age > 0, self.cum_zero[rows, origins] / np.maximum(age, 1), np.nan))
        last_sale = self.last_sale[rows, origins]
        columns.append(np.where(last_sale >= 0, origins - 1 - last_sale, age).astype(float))
        columns.append(age.astype(float))
        columns.append(np.log1p(scale))
        # Trend: difference of the last two 6-week means, per week, relative to the level.
        recent6 = self._mean(rows, origins, 6, 3)
        before6 = self._mean(rows, origins - 6, 6, 3)
        columns.append((recent6 - before6) / 6.0 / scale)
        mean4 = self._mean(rows, origins, 4, 2)
        last_year4 = self._mean(rows, origins - 52, 4, 2)
        with np.errstate(invalid="ignore", divide="ignore"):
            columns.append(np.where(np.nan_to_num(last_year4) > 0, mean4 / last_year4, np.nan))
        category = self.category_index[rows]
        cat4 = self.category_cum[category, origins] - self.category_cum[category, np.clip(origins - 4, 0, None)]
        cat26 = self.category_cum[category, origins] - self.category_cum[category, np.clip(origins - 26, 0, None)]
        weeks26 = np.minimum(origins, 26)
        weeks4 = np.minimum(origins, 4)
        with np.errstate(invalid="ignore", divide="ignore"):
            columns.append(
                np.where(cat26 > 0, (cat4 / np.maximum(weeks4, 1)) / (cat26 / np.maximum(weeks26, 1)), np.nan)
            )
        columns.append(self.tsb[rows, origins] / scale)
        # Target-dependent features.
        target = origins + horizons - 1
        columns.append(horizons.astype(float))
        lag52 = value_at(target - 52)
        columns.append(lag52 / scale)
        with quiet_empty_slices():
            smooth52 = np.nanmean(np.stack([value_at(target - 53), lag52, value_at(target - 51)]), axis=0)
        columns.append(smooth52 / scale)
        with np.errstate(invalid="ignore", divide="ignore"):
            ratio = np.where(np.nan_to_num(last_year4) > 0, smooth52 / last_year4, np.nan)
            columns.append(mean4 * ratio / scale)
            cat_target = self.category_totals[category, np.clip(target - 52, 0, self.t_len - 1)]
            cat_last_year = (
                self.category_cum[category, np.clip(origins - 52, 0, None)]
                - self.category_cum[category, np.clip(origins - 56, 0, None)]
            ) / 4.0
            cat_ratio = np.where(
                (target - 52 >= 0) & (origins - 56 >= 0) & (cat_last_year > 0),
                cat_target / cat_last_year,
                np.nan,
            )
        columns.append(cat_ratio)
        if self.week_of_year is not None:
            woy = self.week_of_year[np.clip(target, 0, len(self.week_of_year) - 1)]
            columns.append(np.sin(2 * np.pi * woy / 52.18))
            columns.append(np.cos(2 * np.pi * woy / 52.18))
        else:
            columns.append(np.full(len(rows), np.nan))
            columns.append(np.full(len(rows), np.nan))
        # Holidays move around the calendar, so the week's own flag and that of the week a year before (which the
        # yearly lags read) both matter: a holiday last year but not this year means last year's spike is not due.
        if self.holidays is not None:
            for shift in (0, 52):
                index = target - shift
                columns.append(np.where(index >= 0, self.holidays[np.clip(index, 0, len(self.holidays) - 1)], np.nan))
        else:
            columns.append(np.full(len(rows), np.nan))
            columns.append(np.full(len(rows), np.nan))
        # Price against the regular price at the origin: in the target week (planned) and in the week before the
        # origin (a promotion then inflates the lags, which the model should not carry forward).
        if self.prices is not None and self.regular is not None:
            regular = self.regular[rows, np.clip(origins, 0, self.t_len)]
            width = self.prices.shape[1]
            with np.errstate(invalid="ignore", divide="ignore"):
                for index in (target, origins - 1):
                    price = np.where(index >= 0, self.prices[rows, np.clip(index, 0, width - 1)], np.nan)
                    columns.append(np.log(price / regular))
        else:
            columns.append(np.full(len(rows), np.nan))
            columns.append(np.full(len(rows), np.nan))
        if self.promotions is not None:
            width = self.promotions.shape[1]
            for index in (target, origins - 1):
                columns.append(np.where(index >= 0, self.promotions[rows, np.clip(index, 0, width - 1)], np.nan))
        else:
            columns.append(np.full(len(rows), np.nan))
            columns.append(np.full(len(rows), np.nan))
        return np.column_stack(columns).astype(np.float32), scale

    def driven_steps(self, origin: int, horizon: int) -> np.ndarray:
        """(n, horizon) True where a driver only the GBM reads is active: a holiday, a promotion, or a price
        away from the regular one."""
        steps = np.zeros((self.n, horizon), dtype=bool)
        if self.holidays is not None:
            steps |= (self.holidays[origin : origin + horizon] > 0)[None, :]
        if self.promotions is not None:
            steps |= np.nan_to_num(self.promotions[:, origin : origin + horizon]) > 0
        if self.prices is not None and self.regular is not None:
            with np.errstate(invalid="ignore", divide="ignore"):
                ratio = self.prices[:, origin : origin + horizon] / self.regular[:, [min(origin, self.t_len)]]
            steps |= np.abs(np.nan_to_num(np.log(ratio))) > PROMOTED_BELOW_REGULAR
        return steps


# --------------------------------------------------------------------------------------------------------
# Fitting and forecasting on a weekly panel.
# --------------------------------------------------------------------------------------------------------


def _candidate_rows(
    y: np.ndarray, end: int, horizon: int, max_rows: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(series, origin, horizon) triples with the target before ``end`` and the series alive at the origin."""
    n = y.shape[0]
    exists = ~np.isnan(y[:, :end])
    first = np.where(exists.any(axis=1), exists.argmax(axis=1), end)
    if n * end * horizon <= 3 * max_rows:  # small panel: every triple
        grid = np.meshgrid(np.arange(n), np.arange(1, end), np.arange(1, horizon + 1), indexing="ij")
        rows, origins, horizons = (g.ravel() for g in grid)
    else:
        size = 3 * max_rows
        rows = rng.integers(0, n, size)
        origins = rng.integers(1, end, size)
        horizons = rng.integers(1, horizon + 1, size)
    target = origins + horizons - 1
    keep = (target < end) & (origins > first[rows])
    keep &= ~np.isnan(y[rows, np.clip(target, 0, end - 1)])
    return rows[keep], origins[keep], horizons[keep]


def _fit_gbm(
    features: _PanelFeatures, end: int, horizon: int, params: ForecastParams
) -> list[HistGradientBoostingRegressor] | None:
    rng = np.random.default_rng(params.random_state)
    rows, origins, horizons = _candidate_rows(features.y, end, horizon, params.max_train_rows, rng)
    if len(rows) < 200:  # too little data for a global model; fallbacks take over
        return None
    # Rows are drawn with probability proportional to the series' scale (clipped so that no single huge
    # series dominates): the scaled loss then equals absolute error in units, which is what WAPE measures.
    # Resampling instead of sample_weight because weighted fits are ~10x slower in scikit-learn.
    scale = features.scale(rows, origins)
    weight = np.clip(scale, np.quantile(scale, 0.05), np.quantile(scale, 0.95))
    pick = rng.choice(len(rows), min(params.max_train_rows, len(rows)), replace=True, p=weight / weight.sum())
    rows, origins, horizons = rows[pick], origins[pick], horizons[pick]
    x, scale = features.rows(rows, origins, horizons)
    x[:, np.isnan(x).all(axis=0)] = 0.0  # scikit-learn cannot bin a column with no value at all
    target = features.y[rows, origins + horizons - 1] / scale
    monotonic = np.zeros(x.shape[1], dtype=int)
    if features.prices is not None:
        monotonic[PRICE_FEATURE] = -1
    models = []
    for quantile in QUANTILES:
        model = HistGradientBoostingRegressor(
            monotonic_cst=monotonic,
            loss="quantile",
            quantile=quantile,
            max_iter=params.gbm_max_iter,
            learning_rate=params.gbm_learning_rate,
            max_leaf_nodes=params.gbm_max_leaf_nodes,
            min_samples_leaf=params.gbm_min_samples_leaf,
            l2_regularization=1.0,
            early_stopping=False,
            random_state=params.random_state,
        )
        with threadpool_limits(params.threads):
            model.fit(x, target)
        models.append(model)
    return models


def _dispersion(y: np.ndarray, end: int, window_periods: int = 26) -> np.ndarray:
    """Variance-to-mean ratio of the last ``window_periods`` before ``end`` (>= 1), for gamma quantiles."""
    window = y[:, max(0, end - window_periods) : end]
    with np.errstate(invalid="ignore", divide="ignore"), quiet_empty_slices():
        mean = np.nanmean(window, axis=1)
        var = np.nanvar(window, axis=1)
        ratio = np.where(np.nan_to_num(mean) > 0, var / np.maximum(np.nan_to_num(mean), 1e-12), 1.0)
    return np.clip(np.nan_to_num(ratio, nan=1.0), 1.0, None)


def _gamma_quantiles(mean: np.ndarray, dispersion: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """P10 / P50 / P90 of a gamma distribution with the given mean and variance = mean x dispersion."""
    mean = np.clip(np.nan_to_num(mean), 0, None)
    shape = mean / dispersion
    positive = shape > 1e-9
    safe_shape = np.where(positive, shape, 1.0)
    out = []
    for quantile in QUANTILES:
        value = stats.gamma.ppf(quantile, a=safe_shape, scale=dispersion)
        out.append(np.where(positive, value, 0.0))
    return out[0], out[1], out[2]


def _classify(y: np.ndarray, end: int, new_weeks: int) -> np.ndarray:
    """Syntetos-Boylan demand class of each series from its history before ``end`` (plus new / no_sales)."""
    history = y[:, :end]
    valid = ~np.isnan(history)
    age = valid.sum(axis=1)
    positive = np.nan_to_num(history) > 0
    n_sales = positive.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"), quiet_empty_slices():
        adi = np.where(n_sales > 0, age / np.maximum(n_sales, 1), np.inf)
        sizes = np.where(positive, history, np.nan)
        cv2 = np.nan_to_num(np.nanvar(sizes, axis=1) / np.nanmean(sizes, axis=1) ** 2, nan=0.0)
    segment = np.where(adi < ADI_CUTOFF, np.where(cv2 < CV2_CUTOFF, "smooth", "erratic"), "")
    segment = np.where(adi >= ADI_CUTOFF, np.where(cv2 < CV2_CUTOFF, "intermittent", "lumpy"), segment)
    segment = np.where(n_sales == 0, "no_sales", segment)
    # Young series (including ones that did not exist yet) borrow from their category, even before a sale.
    return np.where(age < new_weeks, "new", segment).astype("<U12")


def _seasonal_indices(history: np.ndarray, season: int) -> np.ndarray:
    """Multiplicative seasonal index per series and season position (n, season), 1 where not seasonal.

    Classical decomposition (ratio to a centred 2 x season moving average, averaged per position, normalised
    to mean 1), kept only where the autocorrelation at the seasonal lag passes the 90 % test statsforecast's
    Theta models use; series shorter than two seasons and one period are not seasonal.
    """
    n, t_len = history.shape
    indices = np.ones((n, season))
    if t_len < 2 * season + 1:
        return indices
    filled = np.nan_to_num(history)
    valid = ~np.isnan(history)
    half = season // 2
    cum = np.hstack([np.zeros((n, 1)), np.cumsum(filled, axis=1)])
    cum_valid = np.hstack([np.zeros((n, 1)), np.cumsum(valid, axis=1)])
    centres = np.arange(half, t_len - half)
    # 2 x m moving average for even m: full weights inside, half weights at both ends.
    inner = cum[:, centres + half] - cum[:, centres - half + 1]
    ends = filled[:, centres - half] + filled[:, centres + half]
    average = (inner + ends / 2) / season
    complete = (cum_valid[:, centres + half + 1] - cum_valid[:, centres - half]) == 2 * half + 1
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.where(complete & (average > 0), filled[:, centres] / average, np.nan)
    positions = centres % season
    with quiet_empty_slices():
        for position in range(season):
            indices[:, position] = np.nanmean(ratio[:, positions == position], axis=1)
        indices = np.nan_to_num(indices, nan=1.0)
        indices = indices / np.maximum(indices.mean(axis=1, keepdims=True), 1e-9)
    # Seasonality test on the autocorrelations (Bartlett's bound at the seasonal lag, 90 % two-sided).
    seasonal = np.zeros(n, dtype=bool)
    for row in np.flatnonzero(valid.sum(axis=1) >= 2 * season + 1):
        values = history[row][valid[row]]
        centred = values - values.mean()
        denominator = float((centred**2).sum())
        if denominator <= 0:
            continue
        acf = np.array([(centred[lag:] * centred[:-lag]).sum() / denominator for lag in range(1, season + 1)])
        bound = 1.645 * math.sqrt((1 + 2 * float((acf[:-1] ** 2).sum())) / len(values))
        seasonal[row] = abs(acf[-1]) > bound
    indices[~seasonal] = 1.0
    return np.clip(indices, 0.05, 20.0)


def theta_forecast(y: np.ndarray, origin: int, horizon: int, season: int = 52) -> np.ndarray:
    """Standard Theta method (Assimakopoulos & Nikolopoulos 2000; Hyndman & Billah 2003) per series.

    On the seasonally adjusted history: simple exponential smoothing (constant chosen per series by one-step
    error) plus half the slope of a least-squares line, h-step drift b/2 (h - 1 + 1/a - (1 - a)^n / a); then
    re-seasonalised. The method statsforecast's AutoTheta wraps, as one more candidate for the backtest.
    """
    history = y[:, :origin]
    n = history.shape[0]
    if origin < 3:
        return np.zeros((n, horizon))
    indices = _seasonal_indices(history, season)
    position = np.arange(origin + horizon) % season
    adjusted = history / indices[:, position[:origin]]
    valid = ~np.isnan(adjusted)
    length = valid.sum(axis=1).astype(float)
    best_level = np.zeros(n)
    best_alpha = np.full(n, 0.5)
    best_error = np.full(n, np.inf)
    for alpha in (0.05, 0.1, 0.2, 0.3, 0.5, 0.8):
        levels = _ewm_levels(adjusted, alpha)
        with quiet_empty_slices():
            error = np.nanmean(np.abs(levels[:, 1:-1] - adjusted[:, 1:]), axis=1)
        error = np.nan_to_num(error, nan=np.inf)
        better = error < best_error
        best_error = np.where(better, error, best_error)
        best_level = np.where(better, np.nan_to_num(levels[:, -1]), best_level)
        best_alpha = np.where(better, alpha, best_alpha)
    # Least-squares slope of the adjusted history on time, each series over its own life.
    t = np.where(valid, np.arange(origin)[None, :], np.nan)
    with quiet_empty_slices():
        t_mean = np.nanmean(t, axis=1, keepdims=True)
        y_mean = np.nanmean(adjusted, axis=1, keepdims=True)
        covariance = np.nansum((t - t_mean) * (adjusted - y_mean), axis=1)
        variance = np.nansum((t - t_mean) ** 2, axis=1)
    slope = np.where(variance > 0, covariance / np.maximum(variance, 1e-12), 0.0)
    steps = np.arange(1, horizon + 1)[None, :]
    alpha = best_alpha[:, None]
    drift = slope[:, None] / 2 * (steps - 1 + 1 / alpha - (1 - alpha) ** length[:, None] / alpha)
    point = (best_level[:, None] + drift) * indices[:, position[origin:]]
    return np.clip(np.nan_to_num(point), 0, None)


# The decomposition candidate needs a year and a half of a series' own past: with less, a week's seasonal
# value rests on one year's observation of it and is as much noise as season.
DECOMPOSITION_MIN_WEEKS = 78
# Trend window of the decomposition, in weeks: STL's default for a 52-week season (1.5 x season /
# (1 - 1.5 / seasonal window of 11 cycles), next odd number), as R's and statsforecast's MSTL use.
DECOMPOSITION_TREND_WEEKS = 91
# Damped-trend exponential smoothing grid: smoothing of the level, of the trend, and the damping; a trend
# smoothing of 0 keeps the trend at its start (0): simple exponential smoothing.
ETS_ALPHAS: tuple[float, ...] = (0.05, 0.1, 0.2, 0.3, 0.5, 0.8)
ETS_BETAS: tuple[float, ...] = (0.0, 0.02, 0.05, 0.1, 0.2)
ETS_PHIS: tuple[float, ...] = (0.8, 0.9, 0.98)


def _local_linear(values: np.ndarray, weights: np.ndarray, window: int) -> np.ndarray:
    """Loess of degree 1 with tricube weights over ``window`` periods, per row: the fitted value at each period
    (the ends are fitted by the local line, not left out as a centred moving average leaves them)."""
    t_len = values.shape[1]
    t = np.arange(t_len, dtype=float)
    half = max(window / 2, 2.0)
    distance = np.abs(t[:, None] - t[None, :]) / half
    kernel = np.where(distance < 1, (1 - distance**3) ** 3, 0.0)  # (target, source)
    filled = np.nan_to_num(values)
    s0 = weights @ kernel.T
    s1 = (weights * t) @ kernel.T
    s2 = (weights * t**2) @ kernel.T
    sy = (weights * filled) @ kernel.T
    sxy = (weights * t * filled) @ kernel.T
    determinant = s0 * s2 - s1**2
    with np.errstate(invalid="ignore", divide="ignore"):
        slope = np.where(determinant > 1e-9 * np.maximum(s0, 1e-12) ** 2, (s0 * sxy - s1 * sy) / determinant, 0.0)
        level = np.where(s0 > 0, (sy - slope * s1) / np.maximum(s0, 1e-12), 0.0)
    return level + slope * t[None, :]


def seasonal_profile(history: np.ndarray, season: int = 52) -> np.ndarray:
    """Additive seasonal value per series and season position (n, season), centred on zero: an STL-style robust
    decomposition of each series' own past (zeros for a series with fewer than ``DECOMPOSITION_MIN_WEEKS``
    weeks).

    Alternates a trend (local-linear loess over ``DECOMPOSITION_TREND_WEEKS``) and the profile (per position,
    the weighted mean over the years of the detrended values), twice, then twice more with bisquare robustness
    weights from the remainder, so one freak week (a stock-out, a bulk order) does not become a "season"
    repeated next year. Additive, as MSTL's: it needs no care for weeks that sell nothing. (A multiplicative
    profile, ratios to the trend, was tried: WAPE 0.053 against 0.049 over weeks 1-13 on Walmart from the
    origins before the benchmark's test weeks.)
    """
    n, t_len = history.shape
    valid = ~np.isnan(history)
    profile = np.zeros((n, season))
    eligible = valid.sum(axis=1) >= DECOMPOSITION_MIN_WEEKS
    if not eligible.any():
        return profile
    values = np.nan_to_num(history[eligible])
    mask = valid[eligible].astype(float)
    positions = np.arange(t_len) % season
    one_hot = (positions[:, None] == np.arange(season)[None, :]).astype(float)  # (period, position)
    robustness = np.ones_like(values)
    per_position = np.zeros((len(values), season))
    trend = np.zeros_like(values)  # the first profile, centred, is one of the level
    for outer in range(3):
        weights = mask * robustness
        for _ in range(2):
            total = (weights * (values - trend)) @ one_hot
            count = weights @ one_hot
            with np.errstate(invalid="ignore", divide="ignore"):
                per_position = np.where(count > 0, total / np.maximum(count, 1e-12), np.nan)
            with quiet_empty_slices():
                centre = np.nan_to_num(np.nanmean(per_position, axis=1, keepdims=True))
            per_position = np.nan_to_num(per_position - centre)
            trend = _local_linear(values - per_position[:, positions], weights, DECOMPOSITION_TREND_WEEKS)
        if outer == 2:
            break
        remainder = np.abs(values - trend - per_position[:, positions]) * mask
        with quiet_empty_slices():
            typical = np.nanmedian(np.where(mask > 0, remainder, np.nan), axis=1, keepdims=True)
        scaled = remainder / np.maximum(6 * np.nan_to_num(typical), 1e-9)
        robustness = np.where(scaled < 1, (1 - scaled**2) ** 2, 0.0)
    profile[eligible] = per_position
    return profile


def damped_trend_ses(adjusted: np.ndarray, horizon: int) -> tuple[np.ndarray, np.ndarray]:
    """Damped-trend exponential smoothing (additive, Gardner & McKenzie) per series: point forecasts and their
    variances, each (n, horizon).

    Every (alpha, beta, phi) of the ``ETS_*`` grid is run on the whole panel at once; each series keeps the
    one with the lowest AIC of its one-step errors (k = 2 without a trend, 4 with one), the way AutoETS
    chooses. Periods before a series exists (NaN) leave its state untouched.
    """
    n, t_len = adjusted.shape
    grid = [(a, b, p) for a in ETS_ALPHAS for b in ETS_BETAS for p in (ETS_PHIS if b > 0 else (1.0,))]
    alpha, beta, phi = (np.array(column)[:, None] for column in zip(*grid, strict=True))  # (grid, 1)
    valid = ~np.isnan(adjusted)
    length = valid.sum(axis=1).astype(float)
    first = np.where(valid.any(axis=1), valid.argmax(axis=1), t_len)
    start = np.nan_to_num(adjusted[np.arange(n), np.minimum(first, t_len - 1)])
    level = np.repeat(start[None, :], len(grid), axis=0)
    slope = np.zeros_like(level)
    squared = np.zeros_like(level)
    filled = np.nan_to_num(adjusted)
    for t in range(t_len):
        live = (valid[:, t] & (t > first))[None, :]
        predicted = level + phi * slope
        error = np.where(live, filled[None, :, t] - predicted, 0.0)
        squared += error**2
        slope = np.where(live, phi * slope + beta * error, slope)
        level = np.where(live, predicted + alpha * error, level)
    k = np.where(beta > 0, 4.0, 2.0)
    aic = length[None, :] * np.log(np.maximum(squared / np.maximum(length - 1, 1)[None, :], 1e-12)) + 2 * k
    pick = aic.argmin(axis=0)
    columns = np.arange(n)
    damping = np.cumsum(phi[pick] ** np.arange(1, horizon + 1)[None, :], axis=1)  # (n, horizon)
    point = level[pick, columns][:, None] + slope[pick, columns][:, None] * damping
    # Forecast variance of the additive damped-trend model: sigma^2 (1 + sum_{j<h} (alpha + beta phi_j)^2),
    # phi_j = phi + ... + phi^j, sigma^2 the chosen smoothing's one-step mean squared error.
    sigma2 = squared[pick, columns] / np.maximum(length - 1, 1)
    weights = (alpha[pick] + beta[pick] * damping[:, :-1]) ** 2  # (n, horizon - 1)
    growth = 1 + np.hstack([np.zeros((n, 1)), np.cumsum(weights, axis=1)])
    return point, sigma2[:, None] * growth


def decomposition_forecast(
    y: np.ndarray, origin: int, horizon: int, season: int = 52
) -> tuple[np.ndarray, np.ndarray] | None:
    """Seasonal decomposition + damped-trend smoothing: each series' robust yearly profile (``seasonal_profile``)
    taken out, the adjusted series forecast by ``damped_trend_ses``, the profile put back (what statsforecast's
    MSTL does with STL and AutoETS): point forecasts and their variances (n, horizon), the variances from the
    smoothing's own one-step errors (the spread of the raw sales would count the season as noise). None when no
    series has ``DECOMPOSITION_MIN_WEEKS`` weeks before ``origin`` (the candidate is then not offered); a
    shorter series in a panel that has some gets the smoothing of its raw sales."""
    history = y[:, :origin]
    if origin < DECOMPOSITION_MIN_WEEKS or not ((~np.isnan(history)).sum(axis=1) >= DECOMPOSITION_MIN_WEEKS).any():
        return None
    profile = seasonal_profile(history, season)
    positions = np.arange(origin + horizon) % season
    adjusted = history - profile[:, positions[:origin]]
    point, variance = damped_trend_ses(adjusted, horizon)
    return np.clip(np.nan_to_num(point + profile[:, positions[origin:]]), 0, None), np.nan_to_num(variance)


def _combine(
    gbm: tuple[np.ndarray, np.ndarray, np.ndarray],
    other: tuple[np.ndarray, np.ndarray, np.ndarray],
    driven_steps: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The average of each quantile (Vincentisation), except in weeks a driver moves (a holiday, a promotion, a
    price off the regular one), where only the GBM knows it and the combination is the GBM's alone."""
    return tuple(  # type: ignore[return-value]
        np.where(driven_steps, a, (a + b) / 2) for a, b in zip(gbm, other, strict=True)
    )


def _horizon_rows(n: int, origin: int, horizon: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(series, origin, horizon) of every series at every step 1..horizon from ``origin``, series-major."""
    return np.repeat(np.arange(n), horizon), np.full(n * horizon, origin), np.tile(np.arange(1, horizon + 1), n)


def _candidate_forecasts(
    features: _PanelFeatures,
    models: list[HistGradientBoostingRegressor] | None,
    origin: int,
    horizon: int,
    params: ForecastParams,
    methods: set[str] | None = None,
) -> dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Every method's P10 / P50 / P90 (n_series, horizon) from data before ``origin`` (only ``methods``, and
    what they combine, when given)."""
    y = features.y
    n = y.shape[0]

    def wanted(*names: str) -> bool:
        return methods is None or any(name in methods for name in names)

    candidates: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
    dispersion = np.repeat(_dispersion(y, origin)[:, None], horizon, axis=1)
    driven_steps = features.driven_steps(origin, horizon)
    if models is not None and wanted("gbm", "gbm+ses", "gbm+theta", "gbm+stl_ets"):
        x, scale = features.rows(*_horizon_rows(n, origin, horizon))
        with threadpool_limits(params.threads):
            predictions = [np.clip(model.predict(x), 0, None) * scale for model in models]
        p10, p50, p90 = (p.reshape(n, horizon) for p in predictions)
        p50 = np.maximum(p50, p10)
        candidates["gbm"] = (p10, p50, np.maximum(p90, p50))
    if wanted("ses", "gbm+ses"):
        # Simple exponential smoothing, the smoothing constant picked per series by one-step error so far.
        alphas = list(features.ewm)
        errors = np.stack([features.ewm_error[a][:, origin] for a in alphas], axis=1)
        levels = np.stack([features.ewm[a][:, origin] for a in alphas], axis=1)
        ses = np.nan_to_num(levels[np.arange(n), errors.argmin(axis=1)])
        candidates["ses"] = _gamma_quantiles(np.repeat(ses[:, None], horizon, axis=1), dispersion)
        if "gbm" in candidates:  # forecast combination: the average of each quantile (Vincentisation)
            candidates["gbm+ses"] = _combine(candidates["gbm"], candidates["ses"], driven_steps)
    if wanted("theta", "gbm+theta"):
        theta = theta_forecast(y, origin, horizon)
        candidates["theta"] = _gamma_quantiles(theta, dispersion)
        if "gbm" in candidates:
            candidates["gbm+theta"] = _combine(candidates["gbm"], candidates["theta"], driven_steps)
    if wanted("stl_ets", "gbm+stl_ets"):
        decomposition = decomposition_forecast(y, origin, horizon)
        if decomposition is not None:
            point, variance = decomposition
            with np.errstate(invalid="ignore", divide="ignore"):
                spread = np.where(point > 0, variance / np.maximum(point, 1e-12), 1.0)
            candidates["stl_ets"] = _gamma_quantiles(point, np.clip(spread, 1.0, None))
            if "gbm" in candidates:
                candidates["gbm+stl_ets"] = _combine(candidates["gbm"], candidates["stl_ets"], driven_steps)
    if wanted("tsb"):
        tsb_level = np.nan_to_num(features.tsb[:, origin])
        candidates["tsb"] = _gamma_quantiles(np.repeat(tsb_level[:, None], horizon, axis=1), dispersion)
    with np.errstate(invalid="ignore"):
        mean13 = np.nan_to_num(features._mean(np.arange(n), np.full(n, origin), 13, 1))
    if wanted("mean13"):
        candidates["mean13"] = _gamma_quantiles(np.repeat(mean13[:, None], horizon, axis=1), dispersion)
    if wanted("seasonal_naive"):
        # Seasonal naive: the same week last year when there is one, else the last week seen.
        target = origin + np.arange(horizon)
        last_year = y[:, np.clip(target - 52, 0, None)]
        last_value = np.nan_to_num(y[:, origin - 1]) if origin >= 1 else np.zeros(n)
        naive = np.where((target - 52 >= 0)[None, :] & ~np.isnan(last_year), last_year, last_value[:, None])
        candidates["seasonal_naive"] = _gamma_quantiles(naive, dispersion)
    if wanted("category"):
        # Category borrowing: shrink a young series' own mean towards the typical level of established
        # products in its category (established = at least new_product_weeks of life).
        age = features.cum_n[:, origin]
        own_total = features.cum[:, origin]
        with np.errstate(invalid="ignore", divide="ignore"):
            own_mean = np.where(age > 0, own_total / np.maximum(age, 1), 0.0)
        category_level = np.zeros(n)
        established = age >= params.new_product_weeks
        for code in np.unique(features.category_index):
            members = features.category_index == code
            pool = members & established
            level = float(np.median(mean13[pool])) if pool.any() else float(np.median(own_mean[members]))
            category_level[members] = level
        prior = params.category_prior_weeks
        borrowed = (age * own_mean + prior * category_level) / (age + prior)
        candidates["category"] = _gamma_quantiles(np.repeat(borrowed[:, None], horizon, axis=1), dispersion)
    scale = features.scale(np.arange(n), np.full(n, origin))
    return {method: _never_narrowing(band, scale) for method, band in candidates.items()}


def _never_narrowing(
    band: tuple[np.ndarray, np.ndarray, np.ndarray], scale: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The band with each side, relative to the median, never narrower than at an earlier step: a forecast
    further ahead knows no more. (A quantile model's own band wobbles from week to week, and a gamma band is
    relatively narrower where the level is higher.) Relative to the median floored at 5 % of the series'
    scale, so a band around zero keeps its width in units."""
    p10, p50, p90 = band
    level = np.maximum(p50, 0.05 * scale[:, None])
    below = np.maximum.accumulate(np.maximum(p50 - p10, 0.0) / level, axis=1) * level
    above = np.maximum.accumulate(np.maximum(p90 - p50, 0.0) / level, axis=1) * level
    return np.clip(p50 - below, 0, None), p50, p50 + above


def _shift_for_miss_rate(scores: np.ndarray, rate: float, weights: np.ndarray | None = None) -> float:
    """The shift d whose empirical (weighted) miss rate, share of scores > d, is closest to ``rate``.

    Plain conformal quantiles assume continuous scores; sales are counts with many ties (zeros above all),
    so d is searched among the observed values and the points just below them.
    """
    order = np.argsort(scores, kind="stable")
    values = scores[order]
    weight = np.ones(len(values)) if weights is None else np.asarray(weights, dtype=float)[order]
    cumulative = np.concatenate([[0.0], np.cumsum(weight)])
    total = cumulative[-1]
    unique = np.unique(values)
    above = total - cumulative[np.searchsorted(values, unique, side="right")]  # misses when d = value
    at_or_above = total - cumulative[np.searchsorted(values, unique, side="left")]  # misses when d is just below
    below = np.r_[unique[0] - 1.0, unique[:-1]]
    candidates = np.concatenate([unique, (unique + below) / 2])
    miss = np.concatenate([above, at_or_above]) / total
    return float(candidates[np.argmin(np.abs(miss - rate) + 1e-9 * np.abs(candidates))])


def _band_sides(p10: np.ndarray, p50: np.ndarray, p90: np.ndarray, scale: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Widths below and above the median, floored at 5 % of the series' scale (a band may have no width)."""
    floor = 0.05 * np.broadcast_to(scale[:, None], p50.shape)
    return np.maximum(p50 - p10, floor), np.maximum(p90 - p50, floor)


# A step's own error spread is trusted from this many held-out outcomes; below it the panel's curve is used.
MIN_STEP_OUTCOMES = 30


def _error_growth(
    p10: np.ndarray, p50: np.ndarray, p90: np.ndarray, actual: np.ndarray, scale: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """How the forecast error grows with the horizon: per step, the mean absolute error in units of the band's
    mean side, made non-decreasing by isotonic regression weighted by each step's outcomes (a running maximum
    would ratchet up on the noise of the thin last steps); and those outcome counts."""
    mask = ~np.isnan(actual)
    support = mask.sum(axis=0).astype(float)
    below, above = _band_sides(p10, p50, p90, scale)
    error = np.where(mask, np.abs(np.nan_to_num(actual) - p50) / ((below + above) / 2), 0.0)
    spread = error.sum(axis=0) / np.maximum(support, 1)
    if not support.any() or spread.max() <= 0:
        return np.ones(actual.shape[1]), support
    steps = np.arange(actual.shape[1], dtype=float)
    growth = IsotonicRegression(increasing=True).fit_transform(steps, spread, sample_weight=np.maximum(support, 1e-6))
    growth = np.maximum(growth, 1e-3 * growth.max())
    return growth / growth[0], support


def _interval_offsets(
    p10: np.ndarray,
    p50: np.ndarray,
    p90: np.ndarray,
    actual: np.ndarray,
    scale: np.ndarray,
    growth: np.ndarray | None = None,
    min_scores: int = 200,
) -> tuple[np.ndarray, np.ndarray]:
    """Conformal (CQR-style, scaled) factors per horizon step that make 10 % of outcomes fall below P10 and
    10 % above P90 on held-out data: P10 moves down by factor x its distance to P50, P90 up likewise.

    Rows of ``actual`` are held-out outcomes (a series from one origin), columns horizon steps, NaN where
    none. Scores are divided by the band's own sides, so a band that is wide where the series is volatile
    stays so. Each step is calibrated on its own column when at least ``min_scores`` outcomes back it; the
    last steps have few (only the earliest origins reach them), so a thin step is pooled with neighbouring
    steps, its scores first divided by the error's growth to their step (``_error_growth``: a mean needs far
    fewer outcomes than a tail quantile; the panel's ``growth`` where some step of this group has fewer than
    ``MIN_STEP_OUTCOMES``) so that pooled steps speak of the same width. The factors are then made
    non-decreasing with the horizon by isotonic regression, and narrow a band by at most a quarter
    (``NARROWING_FLOOR``).
    """
    horizon = actual.shape[1]
    mask = ~np.isnan(actual)
    if mask.sum() < 20:
        return np.zeros(horizon), np.zeros(horizon)
    own_growth, support = _error_growth(p10, p50, p90, actual, scale)
    if growth is None or (support >= MIN_STEP_OUTCOMES).all():
        growth = own_growth
    below, above = _band_sides(p10, p50, p90, scale)
    # In units of the side, counted from the median: 1 is the model's own P10 / P90 (``_apply_offsets`` moves
    # P10 by (factor - 1) x its side, so a floored side still leaves the band's edge where the model put it).
    low_score = ((p10 - actual) / below + 1.0) / growth[None, :]
    high_score = ((actual - p90) / above + 1.0) / growth[None, :]
    low_factor, high_factor = np.zeros(horizon), np.zeros(horizon)
    for step in range(horizon):
        half = 0
        while half < horizon and mask[:, max(0, step - half) : step + half + 1].sum() < min_scores:
            half += 1
        columns = slice(max(0, step - half), step + half + 1)
        window = mask[:, columns]
        low_factor[step] = _shift_for_miss_rate(low_score[:, columns][window], 0.1)
        high_factor[step] = _shift_for_miss_rate(high_score[:, columns][window], 0.1)
    steps = np.arange(horizon, dtype=float)
    weight = np.maximum(support, 1e-6)
    shifts = []
    for factor in (low_factor, high_factor):
        shift = np.maximum(np.clip(factor, 0, None) * growth - 1.0, NARROWING_FLOOR)
        shifts.append(IsotonicRegression(increasing=True).fit_transform(steps, shift, sample_weight=weight))
    return shifts[0], shifts[1]


def _apply_offsets(
    band: tuple[np.ndarray, np.ndarray, np.ndarray], offsets: tuple[np.ndarray, np.ndarray], scale: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The recalibrated P10 / P90 of a band, with per-step factors from ``_interval_offsets``."""
    p10, p50, p90 = band
    horizon = p50.shape[1]
    below, above = _band_sides(p10, p50, p90, scale)
    low = p10 - _extend_steps(offsets[0], horizon)[None, :] * below
    high = p90 + _extend_steps(offsets[1], horizon)[None, :] * above
    return low, high


def _extend_steps(shift: np.ndarray, horizon: int) -> np.ndarray:
    """Per-step shifts for ``horizon`` steps: steps past the calibrated ones keep the last step's shift."""
    if len(shift) >= horizon:
        return shift[:horizon]
    last = shift[-1] if len(shift) else 0.0
    return np.concatenate([shift, np.full(horizon - len(shift), last)])


ROLLING_ORIGIN_SERIES = 500  # up to this many series, interval calibration forecasts from every validation week
POOLED_OFFSETS = ("all", "chosen")  # interval factors of every judged class's chosen method together


def _rolling_origin_offsets(
    features: _PanelFeatures,
    models: list[HistGradientBoostingRegressor] | None,
    validation_origin: int,
    first_candidates: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]],
    segments: np.ndarray,
    chosen: dict[str, str],
    selection: dict[str, Any],
    params: ForecastParams,
) -> tuple[
    dict[tuple[str, str], tuple[np.ndarray, np.ndarray]],
    list[tuple[int, dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]]],
]:
    """Per-step interval factors per (demand class, method) for each judged class's chosen method and the
    baseline, from the origins of the validation weeks (the models fitted before the first of them; every
    week up to ``ROLLING_ORIGIN_SERIES`` series, every second one up to twice as many, and so on): step h
    is scored at each origin whose h-th week is still in the data, so the first steps have many outcomes
    and the last only the first origin's. The classes' chosen methods pooled give ``POOLED_OFFSETS`` and the
    growth curve a thin class borrows. Also returns each origin with its candidates' forecasts (every class's
    method), in order."""
    y = features.y
    n, t_len = y.shape
    weeks = t_len - validation_origin
    judged = list(selection["segments"])
    pairs = {(segment, method) for segment in judged for method in (chosen[segment], BASELINE_METHOD)}
    pairs = {pair for pair in pairs if pair[1] in first_candidates}
    needed = {method for _, method in pairs}
    if not needed:
        return {}, []
    # Every class's method is forecast at each origin, so the origins' whole forecasts can calibrate days.
    methods = needed | ({*chosen.values(), "tsb"} & first_candidates.keys())
    blocks: dict[tuple[str, str], list[list[np.ndarray]]] = {pair: [[], [], [], [], []] for pair in pairs}
    alive = ~np.isnan(y[:, validation_origin:]).all(axis=1)
    # Every origin while the panel is small; a large one has outcomes enough at fewer (and each costs a
    # forecast of the whole panel).
    stride = math.ceil(n / ROLLING_ORIGIN_SERIES)
    forecasts: list[tuple[int, dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]]] = []
    for k in range(0, weeks, stride):
        origin = validation_origin + k
        steps = weeks - k
        candidates = (
            first_candidates if k == 0 else _candidate_forecasts(features, models, origin, steps, params, methods)
        )
        forecasts.append((origin, candidates))
        actual = y[:, origin:]
        scale = features.scale(np.arange(n), np.full(n, origin))
        padding = np.full((n, k), np.nan)
        for segment, method in pairs:
            members = (segments == segment) & alive
            columns = [np.hstack([values, padding])[members] for values in (*candidates[method], actual)]
            for part, values in zip(blocks[(segment, method)], (*columns, scale[members]), strict=True):
                part.append(values)
    stacked = {pair: [np.concatenate(part) for part in parts] for pair, parts in blocks.items()}
    pooled_pairs = [(segment, chosen[segment]) for segment in judged if (segment, chosen[segment]) in stacked]
    offsets: dict[tuple[str, str], tuple[np.ndarray, np.ndarray]] = {}
    if pooled_pairs:
        pooled = [np.concatenate([stacked[pair][i] for pair in pooled_pairs]) for i in range(5)]
        growth, _ = _error_growth(*pooled)
        offsets[POOLED_OFFSETS] = _interval_offsets(*pooled, growth=growth)
        for pair, group in stacked.items():
            if (~np.isnan(group[3])).sum() < 20:  # too few outcomes of its own: the pool's factors
                offsets[pair] = offsets[POOLED_OFFSETS]
            else:
                offsets[pair] = _interval_offsets(*group, growth=growth)
    return offsets, forecasts


def forecast_weekly_panel(
    y: np.ndarray,
    horizon: int,
    *,
    categories: np.ndarray | None = None,
    week_of_year: np.ndarray | None = None,
    holidays: np.ndarray | None = None,
    prices: np.ndarray | None = None,
    promotions: np.ndarray | None = None,
    params: ForecastParams | None = None,
    serves_baseline: BaselineJudge | None = None,
) -> PanelForecast:
    """Forecast every series of a weekly panel ``horizon`` weeks past its end.

    ``y``: (n_series, n_weeks) non-negative demand, NaN before a series exists. ``categories``: one label per
    series (None: all in one category). ``week_of_year``: week number (1-53) of each of the n_weeks + horizon
    periods, when the calendar is known. ``holidays``: 1 for a holiday week, 0 otherwise, for the same n_weeks +
    horizon periods (holidays are known in advance). ``prices`` / ``promotions``: (n_series, n_weeks + horizon)
    selling price (NaN when unknown: the last one holds) and promotion flag or share of each series; the future
    ones are the planned ones, so the forecast answers "what if this price" (``price_response``).
    ``serves_baseline``: given the backtest's metrics
    (``{"backtest_by_segment": ...}``), whether the chosen methods are no better than seasonal naive; if so
    every judged segment is forecast by seasonal naive (``selection["serves"]`` says "baseline").
    """
    params = params or ForecastParams()
    y = np.asarray(y, dtype=float)
    if y.ndim != 2 or y.shape[0] == 0 or y.shape[1] == 0:
        raise ForecastInputError(f"the weekly panel must be a non-empty 2-D array, got shape {y.shape}")
    if horizon < 1:
        raise ForecastInputError(f"horizon must be at least 1 week, got {horizon}")
    if np.any(np.nan_to_num(y) < 0):
        raise ForecastInputError("the weekly panel holds negative demand; net returns and clip at zero first")
    n, t_len = y.shape
    categories = np.zeros(n, dtype=int) if categories is None else np.asarray(categories)
    if week_of_year is not None and len(week_of_year) < t_len + horizon:
        raise ForecastInputError("week_of_year must cover the history and the forecast horizon")
    if holidays is not None:
        holidays = np.asarray(holidays, dtype=float)
        if holidays.ndim != 1 or len(holidays) < t_len + horizon:
            raise ForecastInputError("holidays must hold one flag per week of the history and the forecast horizon")
    drivers = _checked_drivers(
        n, t_len + horizon, "week of the history and the forecast horizon", prices=prices, promotions=promotions
    )
    features = _PanelFeatures(
        y, categories, week_of_year, holidays, **{name: v[:, : t_len + horizon] for name, v in drivers.items()}
    )
    validation_weeks = min(params.validation_weeks, horizon)
    validation_origin = t_len - validation_weeks
    selection: dict[str, Any] = {"validation_weeks": validation_weeks, "segments": {}}
    # Defaults when the backtest has too little evidence: new products borrow, never-selling ones get TSB (~0).
    chosen = {segment: "gbm" for segment in SEGMENTS} | {"new": "category", "no_sales": "tsb"}
    offsets: dict[tuple[str, str], tuple[np.ndarray, np.ndarray]] = {}
    final_models: list[HistGradientBoostingRegressor] | None = None
    validation_forecast: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None = None
    origin_candidates: list[tuple[int, dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]]] = []
    calibration: list[tuple[int, tuple[np.ndarray, np.ndarray, np.ndarray]]] = []
    if validation_origin >= 6:
        validation_models = _fit_gbm(features, validation_origin, horizon, params)
        candidates = _candidate_forecasts(features, validation_models, validation_origin, validation_weeks, params)
        actual = y[:, validation_origin:]
        segments = _classify(y, validation_origin, params.new_product_weeks)
        scale = features.scale(np.arange(n), np.full(n, validation_origin))
        for segment in SEGMENTS:
            members = (segments == segment) & ~np.isnan(actual).all(axis=1)
            if not members.any():
                continue
            seg_actual = actual[members]
            denominator = float(np.nansum(np.abs(seg_actual)))
            if denominator <= 0:  # nothing sold in the held-out weeks: no WAPE, no evidence to choose by
                continue
            errors = {}
            for method, (_, p50, _) in candidates.items():
                errors[method] = float(np.nansum(np.abs(p50[members] - seg_actual))) / max(denominator, 1e-9)
            best = min(errors, key=lambda m: errors[m])
            if members.sum() < params.min_series_for_choice:  # too little evidence: keep the default
                best = chosen[segment] if chosen[segment] in candidates else best
            chosen[segment] = best
            selection["segments"][segment] = {"series": int(members.sum()), "wape": errors, "chosen": best}
        if params.calibrate_intervals:
            offsets, origin_candidates = _rolling_origin_offsets(
                features, validation_models, validation_origin, candidates, segments, chosen, selection, params
            )
        if serves_baseline is not None and serves_baseline({"backtest_by_segment": selection["segments"]}):
            chosen |= {segment: BASELINE_METHOD for segment in selection["segments"]}
            selection["serves"] = "baseline"
        validation_forecast = _assemble(candidates, segments, chosen, offsets, scale)
        calibration = [
            (origin, _assemble(found, segments, chosen, offsets, features.scale(np.arange(n), np.full(n, origin)))[:3])
            for origin, found in origin_candidates
            if origin != validation_origin
        ]
        calibration.insert(0, (validation_origin, validation_forecast[:3]))
        if not params.refit_after_validation:
            final_models = validation_models
    if final_models is None:
        final_models = _fit_gbm(features, t_len, horizon, params)
    if final_models is None:
        chosen = {segment: ("tsb" if method == "gbm" else method) for segment, method in chosen.items()}
    candidates = _candidate_forecasts(features, final_models, t_len, horizon, params)
    segments = _classify(y, t_len, params.new_product_weeks)
    scale = features.scale(np.arange(n), np.full(n, t_len))
    p10, p50, p90, method = _assemble(candidates, segments, chosen, offsets, scale)
    price_response = price_bounds = None
    if features.prices is not None and final_models is not None:
        price_response = _non_increasing(_price_response(features, final_models, t_len, horizon, params))
        price_bounds = _seen_price_bounds(features, t_len)
    selection["chosen"] = {segment: chosen[segment] for segment in SEGMENTS}
    selection["interval_offsets"] = {
        "/".join(key): {"low_per_step": low.round(4).tolist(), "high_per_step": high.round(4).tolist()}
        for key, (low, high) in offsets.items()
    }
    return PanelForecast(
        p10=p10,
        p50=p50,
        p90=p90,
        method=method,
        segment=segments,
        selection=selection,
        validation_origin=validation_origin if validation_forecast is not None else None,
        validation=validation_forecast[:3] if validation_forecast is not None else None,
        calibration=calibration,
        price_response=price_response,
        price_bounds=price_bounds,
    )


def _checked_drivers(n: int, periods: int, per: str, **drivers: np.ndarray | None) -> dict[str, np.ndarray]:
    """The drivers given, as float arrays, each with one row per series and at least ``periods`` columns."""
    checked: dict[str, np.ndarray] = {}
    for name, values in drivers.items():
        if values is None:
            continue
        values = np.asarray(values, dtype=float)
        if values.ndim != 2 or values.shape[0] != n or values.shape[1] < periods:
            raise ForecastInputError(f"{name} must hold one value per series and {per}")
        checked[name] = values
    return checked


def _price_response(
    features: _PanelFeatures,
    models: list[HistGradientBoostingRegressor],
    origin: int,
    horizon: int,
    params: ForecastParams,
) -> np.ndarray:
    """The GBM's horizon total of P50 under each PRICE_MULTIPLIERS x the planned prices, over the total at the
    planned prices; 1 where the planned total is 0 (nothing to scale) or the series has no price."""
    n = features.n
    x, scale = features.rows(*_horizon_rows(n, origin, horizon))
    # Only the target week's price against the regular one moves with the planned price: log(m x p / r) is
    # log(p / r) + log(m), so one feature matrix serves every multiplier.
    at_plan = x[:, PRICE_FEATURE].astype(np.float64)
    median_model = models[QUANTILES.index(0.5)]
    totals = []
    for multiplier in PRICE_MULTIPLIERS:
        x[:, PRICE_FEATURE] = at_plan + math.log(multiplier)
        with threadpool_limits(params.threads):
            p50 = np.clip(median_model.predict(x), 0, None) * scale
        totals.append(p50.reshape(n, horizon).sum(axis=1))
    stacked = np.stack(totals, axis=1)
    at_plan = stacked[:, [PRICE_MULTIPLIERS.index(1.0)]]
    response = np.where(at_plan > 0, stacked / np.maximum(at_plan, 1e-12), 1.0)
    response[np.isnan(features.prices).all(axis=1)] = 1.0
    return response


def _non_increasing(response: np.ndarray) -> np.ndarray:
    """The response with no rise along the price grid. The GBM is held monotone in the price, but the quantile
    loss re-fits each leaf to a quantile after its tree is grown, which can undo the constraint by a little."""
    return np.minimum.accumulate(response, axis=1)


def _seen_price_bounds(features: _PanelFeatures, t_len: int) -> np.ndarray:
    """(n, 2) multipliers of each series' planned price between which its what-if speaks from evidence: the 1st
    and 99th percentile of price / regular price over the panel's history (the GBM learns it globally), taken
    against the series' regular price at the forecast origin, within PRICE_MULTIPLIERS and around 1."""
    assert features.prices is not None and features.regular is not None
    n = features.n
    with np.errstate(invalid="ignore", divide="ignore"):
        ratios = features.prices[:, 1:t_len] / features.regular[:, 1:t_len]
    seen = ratios[np.isfinite(ratios) & (ratios > 0)]
    if seen.size == 0:
        return np.ones((n, 2))
    deepest, highest = np.quantile(seen, [0.01, 0.99])
    with np.errstate(invalid="ignore", divide="ignore"):
        versus_plan = features.regular[:, t_len] / features.prices[:, t_len]
    low = np.clip(np.nan_to_num(versus_plan * deepest, nan=1.0), PRICE_MULTIPLIERS[0], 1.0)
    high = np.clip(np.nan_to_num(versus_plan * highest, nan=1.0), 1.0, PRICE_MULTIPLIERS[-1])
    return np.column_stack([low, high])


def _assemble(
    candidates: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]],
    segments: np.ndarray,
    chosen: dict[str, str],
    offsets: dict[tuple[str, str], tuple[np.ndarray, np.ndarray]],
    scale: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Each series gets its demand class's chosen method, with that method's interval shifts."""
    n, horizon = next(iter(candidates.values()))[1].shape
    p10, p50, p90 = np.zeros((n, horizon)), np.zeros((n, horizon)), np.zeros((n, horizon))
    method = np.empty(n, dtype="<U16")
    for segment in SEGMENTS:
        members = segments == segment
        if not members.any():
            continue
        best = chosen[segment] if chosen[segment] in candidates else "tsb"
        # A class the backtest could not judge (no member then) takes the panel's pooled factors.
        factors = offsets.get((segment, best), offsets.get(POOLED_OFFSETS, (np.zeros(horizon), np.zeros(horizon))))
        c10, c50, c90 = candidates[best]
        p50[members] = c50[members]
        p10[members], p90[members] = _apply_offsets((c10[members], c50[members], c90[members]), factors, scale[members])
        method[members] = best
    p50 = np.clip(np.nan_to_num(p50), 0, None)
    p10 = np.clip(np.minimum(np.nan_to_num(p10), p50), 0, None)
    p90 = np.maximum(np.nan_to_num(p90), p50)
    return p10, p50, p90, method


# --------------------------------------------------------------------------------------------------------
# Daily panels: aggregate to weeks ending on the last day, forecast weeks, split by day-of-week profile.
# --------------------------------------------------------------------------------------------------------


HISTORY_WEEKS = 26  # weeks of actual sales kept in the artifact for charts (half a year)


def _pad_to_a_week(daily: np.ndarray) -> np.ndarray:
    """Less than a week of history: the days before the first one did not exist (NaN)."""
    if daily.shape[1] >= 7:
        return daily
    return np.hstack([np.full((daily.shape[0], 7 - daily.shape[1]), np.nan), daily])


def weeks_from_days(daily: np.ndarray) -> np.ndarray:
    """Sum days into weeks ending on the last day (a leading partial week is dropped); NaN = not existing."""
    n, days = daily.shape
    n_weeks = days // 7
    if n_weeks == 0:
        raise ForecastInputError(f"a daily panel needs at least 7 days of history, got {days}")
    block = daily[:, days - 7 * n_weeks :].reshape(n, n_weeks, 7)
    exists = ~np.isnan(block).all(axis=2)
    return np.where(exists, np.nansum(block, axis=2), np.nan)


def weekly_means(daily: np.ndarray, history_days: int, horizon_weeks: int) -> np.ndarray:
    """(n, history weeks + horizon_weeks): the mean of the known daily values (prices, promotion flags) of each
    week, weeks aligned as ``weeks_from_days`` aligns them (ending on the last day of history) and continued
    into the horizon; NaN for a week with none (NaN days are missing values: a day without a sale)."""
    n = daily.shape[0]
    n_weeks = max(history_days, 7) // 7
    start = history_days - 7 * n_weeks
    span = 7 * (n_weeks + horizon_weeks)
    padded = np.full((n, span), np.nan)
    window = daily[:, max(start, 0) : start + span]
    offset = max(-start, 0)
    padded[:, offset : offset + window.shape[1]] = window[:, : span - offset]
    with quiet_empty_slices():
        return np.nanmean(padded.reshape(n, n_weeks + horizon_weeks, 7), axis=2)


def day_of_week_profile(daily: np.ndarray, weekdays: np.ndarray, prior_units: float) -> np.ndarray:
    """Share of a week's demand falling on each weekday (Mon=0), per series, shrunk to the panel's profile.

    ``weekdays``: weekday of each column of ``daily``. Uses the last 26 weeks.
    """
    recent = np.nan_to_num(daily[:, -182:])
    recent_days = weekdays[-182:]
    per_day = np.stack([recent[:, recent_days == d].sum(axis=1) for d in range(7)], axis=1)
    overall = per_day.sum(axis=0)
    overall_share = overall / overall.sum() if overall.sum() > 0 else np.full(7, 1 / 7)
    totals = per_day.sum(axis=1, keepdims=True)
    return (per_day + prior_units * overall_share) / (totals + prior_units)


def _daily_scale(daily: np.ndarray) -> np.ndarray:
    """Mean daily demand over the last 26 weeks (floored), the unit of the daily interval shifts."""
    with quiet_empty_slices():
        mean = np.nanmean(daily[:, -182:], axis=1) if daily.shape[1] else np.zeros(len(daily))
    return np.maximum(np.nan_to_num(mean), 1e-3)


def _count_interval(mean: np.ndarray, dispersion: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """P10 and P90 of a count with the given mean and variance = mean x dispersion: negative binomial, or
    Poisson where the dispersion is 1.

    A product's day is a count, mostly 0 or 1 for a slow mover: a continuous band around a small mean, such
    as the gamma's [0.0001, 0.4], holds neither 0 nor 1 and so covers no day at all.
    """
    mean = np.clip(np.nan_to_num(mean), 0, None)
    dispersion = np.broadcast_to(dispersion, mean.shape)
    positive = mean > 1e-9
    overdispersed = positive & (dispersion > 1.0 + 1e-6)
    safe_mean = np.where(positive, mean, 1.0)
    size = np.where(overdispersed, safe_mean / np.maximum(dispersion - 1.0, 1e-6), 1.0)
    bounds = []
    for quantile in (QUANTILES[0], QUANTILES[2]):
        negative_binomial = stats.nbinom.ppf(quantile, size, size / (size + safe_mean))
        poisson = stats.poisson.ppf(quantile, safe_mean)
        bounds.append(np.where(positive, np.where(overdispersed, negative_binomial, poisson), 0.0))
    return bounds[0], bounds[1]


def _daily_quantiles(
    weekly: tuple[np.ndarray, np.ndarray, np.ndarray],
    share: np.ndarray,
    dispersion: np.ndarray,
    *,
    counts: bool = False,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Daily P10 / P50 / P90 from weekly quantiles and each day's share of its week.

    P50 is the weekly P50 split by the shares (so days add up to weeks). The interval is a gamma around the
    day's share of the weekly mean (Pearson-Tukey: 0.3 P10 + 0.4 P50 + 0.3 P90) with the daily dispersion,
    or with ``counts`` that of a count (for a band no held-out days will recalibrate).
    """
    week_of_day = np.repeat(np.arange(weekly[1].shape[1]), 7)[: share.shape[1]]
    p50 = weekly[1][:, week_of_day] * share
    weekly_mean = 0.3 * weekly[0] + 0.4 * weekly[1] + 0.3 * weekly[2]
    daily_mean = weekly_mean[:, week_of_day] * share
    if counts:
        low, high = _count_interval(daily_mean, dispersion[:, None])
    else:
        low, _, high = _gamma_quantiles(daily_mean, np.repeat(dispersion[:, None], share.shape[1], axis=1))
    return low, p50, high


def _weekday_offsets(
    band: tuple[np.ndarray, np.ndarray, np.ndarray], actual: np.ndarray, scale: np.ndarray, horizon_days: int
) -> tuple[np.ndarray, np.ndarray]:
    """Per-day interval factors for ``horizon_days`` days, calibrated on held-out days of each weekday apart.

    Day j of ``actual`` (held-out days that start a week after a whole number of weeks) falls on the weekday
    of forecast day j. One curve for all weekdays, made non-decreasing over the days, averages a lumpy weekday
    (bulk orders, a market day) with the calm ones: its band is too narrow and theirs too wide. Each weekday's
    factors are non-decreasing over its own weeks; past the held-out weeks a weekday keeps its last factor.
    """
    low, high = np.zeros(horizon_days), np.zeros(horizon_days)
    for weekday in range(7):
        held_out = np.arange(weekday, actual.shape[1], 7)
        ahead = np.arange(weekday, horizon_days, 7)
        if not len(held_out) or not len(ahead):
            continue
        factors = _interval_offsets(*(side[:, held_out] for side in band), actual[:, held_out], scale)
        low[ahead] = _extend_steps(factors[0], len(ahead))
        high[ahead] = _extend_steps(factors[1], len(ahead))
    return low, high


@dataclass
class DailyPanelForecast:
    weekly: PanelForecast
    daily_p10: np.ndarray
    daily_p50: np.ndarray
    daily_p90: np.ndarray
    dow_profile: np.ndarray


def forecast_daily_panel(
    daily: np.ndarray,
    horizon_days: int,
    *,
    last_day: date | None = None,
    categories: np.ndarray | None = None,
    prices: np.ndarray | None = None,
    promotions: np.ndarray | None = None,
    params: ForecastParams | None = None,
    serves_baseline: BaselineJudge | None = None,
) -> DailyPanelForecast:
    """Forecast a daily panel ``horizon_days`` ahead via weekly forecasts split by day-of-week profiles.

    ``prices`` / ``promotions``: daily, (n, days + horizon_days), NaN where unknown; the weekly model reads each
    week's mean (see ``forecast_weekly_panel``).

    Daily intervals: a gamma distribution around each day's share of the weekly mean (Pearson-Tukey estimate
    from P10 / P50 / P90), with the series' daily dispersion, conformally recalibrated per weekday on the held-out
    days of the weekly model's calibration origins.
    """
    params = params or ForecastParams()
    daily = np.asarray(daily, dtype=float)
    if daily.ndim != 2 or daily.shape[0] == 0:
        raise ForecastInputError(f"the daily panel must be a non-empty 2-D array, got shape {daily.shape}")
    if np.any(np.nan_to_num(daily) < 0):
        raise ForecastInputError("the daily panel holds negative demand; net returns and clip at zero first")
    horizon_weeks = max(1, math.ceil(horizon_days / 7))
    history_days = daily.shape[1]
    daily = _pad_to_a_week(daily)
    days = daily.shape[1]
    last_day = last_day or date(2000, 1, 2)  # any day works when the calendar is unknown
    day_dates = np.array([last_day - timedelta(days=days - 1 - i) for i in range(days + 7 * horizon_weeks)])
    weekdays = np.array([d.weekday() for d in day_dates])
    weekly = weeks_from_days(daily)
    n_weeks = weekly.shape[1]
    week_ends = [last_day - timedelta(days=7 * (n_weeks - 1 - k)) for k in range(n_weeks + horizon_weeks)]
    week_of_year = np.array([d.isocalendar()[1] for d in week_ends], dtype=float)
    drivers = _checked_drivers(daily.shape[0], history_days, "day of the history", prices=prices, promotions=promotions)
    weekly_forecast = forecast_weekly_panel(
        weekly,
        horizon_weeks,
        categories=categories,
        week_of_year=week_of_year,
        params=params,
        serves_baseline=serves_baseline,
        **{name: weekly_means(values, history_days, horizon_weeks) for name, values in drivers.items()},
    )
    profile = day_of_week_profile(daily, weekdays[:days], params.dow_prior_units)
    forecast_weeks = (weekly_forecast.p10, weekly_forecast.p50, weekly_forecast.p90)
    # Held-out days recalibrate the gamma band (below). A history too short for them gets the count band.
    recalibrate = params.calibrate_intervals and weekly_forecast.validation is not None
    low, p50, high = _daily_quantiles(
        forecast_weeks, profile[:, weekdays[days:]], _dispersion(daily, days, 182), counts=not recalibrate
    )
    # Recalibrate the daily interval on the weekly model's calibration origins, each day band built the same
    # way from that origin's weekly forecast and the data before it.
    if recalibrate:
        offset = days - 7 * n_weeks
        span = 7 * weekly_forecast.calibration[0][1][1].shape[1]
        parts: list[list[np.ndarray]] = [[], [], [], []]
        scales: list[np.ndarray] = []
        for origin, band in weekly_forecast.calibration:
            start = offset + 7 * origin
            end = start + 7 * band[1].shape[1]
            past_profile = day_of_week_profile(daily[:, :start], weekdays[:start], params.dow_prior_units)
            check = _daily_quantiles(band, past_profile[:, weekdays[start:end]], _dispersion(daily, start, 182))
            padding = np.full((len(daily), span - (end - start)), np.nan)
            for part, values in zip(parts, (*check, daily[:, start:end]), strict=True):
                part.append(np.hstack([values, padding]))
            scales.append(_daily_scale(daily[:, :start]))
        check_low, check_p50, check_high, held_out = (np.concatenate(part) for part in parts)
        factors = _weekday_offsets((check_low, check_p50, check_high), held_out, np.concatenate(scales), low.shape[1])
        low, high = _apply_offsets((low, p50, high), factors, _daily_scale(daily))
    p50 = np.clip(np.nan_to_num(p50), 0, None)[:, :horizon_days]
    low = np.clip(np.minimum(np.nan_to_num(low)[:, :horizon_days], p50), 0, None)
    high = np.maximum(np.nan_to_num(high)[:, :horizon_days], p50)
    return DailyPanelForecast(weekly_forecast, low, p50, high, profile)


# --------------------------------------------------------------------------------------------------------
# Training on a store's order lines.
# --------------------------------------------------------------------------------------------------------


def _daily_panel_from_order_lines(
    order_lines: pd.DataFrame, as_of: date, rollup_variations: bool
) -> tuple[list[str], np.ndarray, np.ndarray, date]:
    """(series ids, daily units, daily revenue, first day); NaN before each product's first sale."""
    frame = order_lines
    key = "product_id"
    if not rollup_variations and "variation_id" in frame.columns:
        variation = frame["variation_id"].fillna("").astype(str)
        frame = frame.assign(
            series_id=np.where(
                variation != "",
                frame["product_id"].astype(str) + ":" + variation,
                frame["product_id"].astype(str),
            )
        )
        key = "series_id"
    days = pd.to_datetime(frame["ordered_at"], utc=True).dt.tz_convert("UTC").dt.date
    frame = frame.assign(day=days, series=frame[key].astype(str))
    frame = frame[frame["day"] <= as_of]
    if frame.empty:
        raise ForecastInputError(f"no order lines on or before as_of={as_of.isoformat()}")
    grouped = frame.groupby(["series", "day"], sort=True)[["quantity", "line_total"]].sum()
    series_ids = sorted(grouped.index.get_level_values(0).unique())
    first_day = min(grouped.index.get_level_values(1))
    n_days = (as_of - first_day).days + 1
    index = {sid: i for i, sid in enumerate(series_ids)}
    rows = np.array([index[s] for s in grouped.index.get_level_values(0)])
    cols = np.array([(d - first_day).days for d in grouped.index.get_level_values(1)])
    units = np.zeros((len(series_ids), n_days))
    revenue = np.zeros((len(series_ids), n_days))
    # Returns (negative quantities) net against sales of the same day; a net negative day counts as zero.
    np.add.at(units, (rows, cols), grouped["quantity"].to_numpy(float))
    np.add.at(revenue, (rows, cols), grouped["line_total"].to_numpy(float))
    units = np.clip(units, 0, None)
    revenue = np.clip(revenue, 0, None)
    first_sale = np.array([cols[rows == i].min() for i in range(len(series_ids))])
    before = np.arange(n_days)[None, :] < first_sale[:, None]
    units[before] = np.nan
    revenue[before] = np.nan
    return series_ids, units, revenue, first_day


def _validate_order_lines(order_lines: pd.DataFrame) -> pd.DataFrame:
    require_columns(order_lines, ["product_id", "ordered_at", "quantity", "line_total"], "order_lines")
    if order_lines.empty:
        raise ForecastInputError("order_lines is empty: a forecast needs at least one paid order line")
    frame = order_lines.copy()
    for column in ("quantity", "line_total"):
        numbers = pd.to_numeric(frame[column], errors="coerce")
        bad = numbers.isna() & frame[column].notna()
        if bad.any():
            row = frame.index[bad.to_numpy()][0]
            raise ForecastInputError(
                f"order_lines column {column!r} is not numeric at row {row}: {frame.at[row, column]!r}"
            )
        frame[column] = numbers.fillna(0.0)
    stamps = pd.to_datetime(frame["ordered_at"], utc=True, errors="coerce")
    if stamps.isna().any():
        row = frame.index[stamps.isna().to_numpy()][0]
        raise ForecastInputError(f"order_lines column 'ordered_at' is not a date at row {row}")
    frame["ordered_at"] = stamps
    return frame


def _drivers(daily: np.ndarray, weekly: np.ndarray, horizon_weeks: int) -> tuple[np.ndarray, np.ndarray]:
    """Trend (% change per week of the 13-week level, from a least-squares line) and a yearly index per
    forecast week (last year's same week / last year's level around the origin; 1 when unknown)."""
    n, n_weeks = weekly.shape
    window = np.nan_to_num(weekly[:, -13:])
    t = np.arange(window.shape[1], dtype=float)
    t -= t.mean()
    denominator = float((t**2).sum()) or 1.0
    slope = (window * t).sum(axis=1) / denominator
    level = window.mean(axis=1)
    trend = np.where(level > 0, slope / np.maximum(level, 1e-9), 0.0)
    yearly = np.ones((n, horizon_weeks))
    if n_weeks >= 52 + 4:
        last_year_level = np.nan_to_num(weekly[:, n_weeks - 56 : n_weeks - 52]).mean(axis=1)
        for h in range(horizon_weeks):
            index = n_weeks - 52 + h
            same_week = np.nan_to_num(weekly[:, max(index - 1, 0) : index + 2]).mean(axis=1)
            yearly[:, h] = np.where(last_year_level > 0, same_week / np.maximum(last_year_level, 1e-9), 1.0)
    return np.clip(trend, -1.0, 1.0), np.clip(yearly, 0.0, 10.0)


def train_forecaster(
    order_lines: pd.DataFrame,
    products: pd.DataFrame | None = None,
    *,
    params: ForecastParams | None = None,
    as_of: date | datetime | None = None,
    serves_baseline: BaselineJudge | None = None,
) -> ModelArtifact:
    """Fit on a store's paid order lines; store its 1-13 week forecasts as a ``forecast`` artifact.

    ``as_of``: the last day of history (a date), or the run's moment (a datetime: its day is still going,
    so history ends the day before); by default the day of the latest order line. ``serves_baseline``: see
    ``forecast_weekly_panel`` (the table of kinds passes its verdict). A first or last day that
    sold far less than the same weekday around it is taken as partial and left out
    (``extra["partial_days_left_out"]``), so forecasts start the day after the last complete one.

    Arrays (row i = ``extra["series_ids"][i]``; the last two rows are the store's units and revenue):
    ``weekly_p10/p50/p90`` (n, horizon_weeks), ``daily_p10/p50/p90`` (n, 7 x horizon_weeks) in units
    (revenue rows in currency), ``unit_price`` (n,) for revenue of product rows, ``trend`` (n,),
    ``yearly_index`` (n, horizon_weeks), ``dow_profile`` (n, 7), ``recent_weekly_units`` (n,), and
    ``history_weekly`` (n, up to HISTORY_WEEKS): what each series actually sold in the weeks ending on ``as_of``
    (units; currency for the store's revenue row), so a chart can show actual beside forecast.
    """
    params = params or ForecastParams()
    frame = _validate_order_lines(order_lines)
    left_out: list[str] = []
    if isinstance(as_of, datetime):
        # The run's moment: its own day is still going, so history ends the day before (and is forecast).
        run_day = as_of.astimezone(UTC).date() if as_of.tzinfo else as_of.date()
        as_of = run_day - timedelta(days=1)
        if (frame["ordered_at"].dt.date == run_day).any():
            left_out.append(run_day.isoformat())
    as_of = as_of or frame["ordered_at"].max().date()
    series_ids, units, revenue, first_day = _daily_panel_from_order_lines(frame, as_of, params.rollup_variations)
    # Partial edge days (back-fill starting mid-day, a last day still going) would read as collapses.
    first_partial, last_partial = partial_edges(np.nansum(units, axis=0), 7)
    if units.shape[1] > 28 and (first_partial or last_partial):
        keep = slice(1 if first_partial else 0, units.shape[1] - 1 if last_partial else units.shape[1])
        if first_partial:
            left_out.append(first_day.isoformat())
        if last_partial:
            left_out.append(as_of.isoformat())
            as_of = as_of - timedelta(days=1)
        units, revenue = units[:, keep], revenue[:, keep]
    if "category" not in frame.columns and products is not None and "category" in products.columns:
        category_of = dict(zip(products["product_id"].astype(str), products["category"].astype(str), strict=False))
    elif "category" in frame.columns:
        latest = frame.sort_values("ordered_at").groupby("product_id")["category"].last()
        category_of = {str(k): str(v) for k, v in latest.items()}
    else:
        category_of = {}
    product_of = [sid.split(":", 1)[0] for sid in series_ids]
    categories = np.array([category_of.get(p, "__uncategorised__") for p in product_of] + ["__store__", "__store__"])
    store_units = np.nansum(units, axis=0)
    store_revenue = np.nansum(revenue, axis=0)
    daily = np.vstack([units, store_units[None, :], store_revenue[None, :]])
    all_ids = [*series_ids, STORE_UNITS_ID, STORE_REVENUE_ID]
    horizon_days = 7 * params.horizon_weeks
    catalogue_price = _catalogue_prices(products, product_of)
    result = forecast_daily_panel(
        daily,
        horizon_days,
        last_day=as_of,
        categories=categories,
        prices=_daily_prices(units, revenue, catalogue_price, horizon_days),
        params=params,
        serves_baseline=serves_baseline,
    )
    weekly_history = weeks_from_days(_pad_to_a_week(daily))
    trend, yearly = _drivers(daily, weekly_history, params.horizon_weeks)
    # Revenue of a product = units x its recent average selling price (the price it sells at now).
    recent_units = np.nansum(units[:, -91:], axis=1)
    recent_revenue = np.nansum(revenue[:, -91:], axis=1)
    all_units = np.nansum(units, axis=1)
    all_revenue = np.nansum(revenue, axis=1)
    unit_price = np.where(
        recent_units > 0,
        recent_revenue / np.maximum(recent_units, 1e-9),
        np.where(all_units > 0, all_revenue / np.maximum(all_units, 1e-9), 0.0),
    )
    unit_price = np.where(np.isfinite(catalogue_price) & (catalogue_price > 0), catalogue_price, unit_price)
    unit_price = np.append(unit_price, [1.0, 1.0])  # the store rows are already in their own unit
    recent_weekly = np.nan_to_num(weekly_history[:, -13:]).mean(axis=1)
    first_forecast_day = as_of + timedelta(days=1)
    weekly = result.weekly
    metrics = _selection_metrics(weekly.selection)
    return ModelArtifact(
        kind="forecast",
        arrays={
            "weekly_p10": weekly.p10.astype(np.float32),
            "weekly_p50": weekly.p50.astype(np.float32),
            "weekly_p90": weekly.p90.astype(np.float32),
            "daily_p10": result.daily_p10.astype(np.float32),
            "daily_p50": result.daily_p50.astype(np.float32),
            "daily_p90": result.daily_p90.astype(np.float32),
            "unit_price": unit_price.astype(np.float64),
            "trend": trend.astype(np.float32),
            "yearly_index": yearly.astype(np.float32),
            "dow_profile": result.dow_profile.astype(np.float32),
            "recent_weekly_units": recent_weekly.astype(np.float32),
            "history_weekly": np.nan_to_num(weekly_history[:, -HISTORY_WEEKS:]).astype(np.float32),
            **_price_response_arrays(weekly.price_response, weekly.price_bounds, len(all_ids)),
        },
        params={k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(params).items()},
        metrics=metrics,
        data_counts={
            "order_lines": len(frame),
            "series": len(series_ids),
            "history_days": int(daily.shape[1]),
        },
        extra={
            "series_ids": all_ids,
            "categories": [str(c) for c in categories],
            "methods": [str(m) for m in weekly.method],
            "segments": [str(s) for s in weekly.segment],
            "first_forecast_day": first_forecast_day.isoformat(),
            "as_of": as_of.isoformat(),
            "store_units_id": STORE_UNITS_ID,
            "store_revenue_id": STORE_REVENUE_ID,
            "quantiles": list(QUANTILES),
            "partial_days_left_out": sorted(left_out),
        },
    )


def _catalogue_prices(products: pd.DataFrame | None, product_of: list[str]) -> np.ndarray:
    """The catalogue's current price of each product row (NaN when unknown)."""
    if products is None or not {"product_id", "price"} <= set(products.columns):
        return np.full(len(product_of), np.nan)
    price_of = dict(
        zip(products["product_id"].astype(str), pd.to_numeric(products["price"], errors="coerce"), strict=False)
    )
    return np.array([price_of.get(p, np.nan) for p in product_of], dtype=float)


def _daily_prices(units: np.ndarray, revenue: np.ndarray, planned: np.ndarray, horizon_days: int) -> np.ndarray:
    """(n + 2 store rows, days + horizon_days): each product's average selling price on the days it sold, and
    over the horizon the catalogue's current price (its sale price when one runs); NaN elsewhere (the last
    price holds). The store's rows have no price."""
    with np.errstate(invalid="ignore", divide="ignore"):
        history = np.where(np.nan_to_num(units) > 0, revenue / units, np.nan)
    future = np.repeat(np.where(planned > 0, planned, np.nan)[:, None], horizon_days, axis=1)
    products = np.hstack([history, future])
    return np.vstack([products, np.full((2, products.shape[1]), np.nan)])


def _price_response_arrays(response: np.ndarray | None, bounds: np.ndarray | None, rows: int) -> dict[str, np.ndarray]:
    """``price_multipliers`` (k,), ``price_response`` (rows, k): a series' horizon demand when its price is the
    multiplier x the planned one, relative to the forecast (all ones when prices were not known), and
    ``price_bounds`` (rows, 2): the multipliers its history speaks for (both 1 then: no what-if)."""
    if response is None or bounds is None:
        response, bounds = np.ones((rows, len(PRICE_MULTIPLIERS))), np.ones((rows, 2))
    return {
        "price_multipliers": np.asarray(PRICE_MULTIPLIERS, dtype=np.float64),
        "price_response": response.astype(np.float32),
        "price_bounds": bounds.astype(np.float64),
    }


def _selection_metrics(selection: dict[str, Any]) -> dict[str, Any]:
    """Backtest figures for the manifest: per segment the WAPE of every method (seasonal naive included as
    the baseline) on the held-out last weeks, and which one was chosen."""
    segments = selection.get("segments", {})
    chosen_wape = {s: v["wape"][v["chosen"]] for s, v in segments.items()}
    baseline_wape = {s: v["wape"].get("seasonal_naive") for s, v in segments.items()}
    return {
        "validation_weeks": selection.get("validation_weeks"),
        "backtest_by_segment": segments,
        "chosen_wape_by_segment": chosen_wape,
        "seasonal_naive_wape_by_segment": baseline_wape,
        "chosen_method_by_segment": selection.get("chosen", {}),
        "serves": selection.get("serves", "model"),
    }


# ----------------------------------------------------------------------------- ours in the backtest harness
def luxebrain_forecaster(params: ForecastParams | None = None) -> Forecaster:
    """Our model: weekly global GBM + fallbacks; daily panels go through weeks and day-of-week profiles."""

    def forecast(panel: SalesPanel, horizon: int) -> QuantileForecast:
        t_len = panel.values.shape[1]
        drivers = {
            name: driver_window(values, t_len, horizon, known_ahead=ahead)
            for name, values, ahead in (
                ("prices", panel.prices, panel.prices_known_ahead),
                ("promotions", panel.promotions, True),
            )
            if values is not None
        }
        if panel.freq == "D":
            last_day = panel.period_ends[-1] if panel.period_ends else None
            result = forecast_daily_panel(panel.values, horizon, last_day=last_day, params=params, **drivers)
            return QuantileForecast(result.daily_p10, result.daily_p50, result.daily_p90)
        week_of_year = None
        if panel.period_ends:
            start = pd.Timestamp(panel.period_ends[0])
            ends = [start + pd.Timedelta(weeks=k) for k in range(len(panel.period_ends) + horizon)]
            week_of_year = np.array([d.isocalendar()[1] for d in ends], dtype=float)
        holidays = None if panel.holidays is None else panel.holidays[: panel.values.shape[1] + horizon]
        result = forecast_weekly_panel(
            panel.values, horizon, week_of_year=week_of_year, holidays=holidays, params=params, **drivers
        )
        return QuantileForecast(result.p10, result.p50, result.p90)

    return forecast


def driver_window(values: np.ndarray, t_len: int, horizon: int, *, known_ahead: bool = True) -> np.ndarray:
    """A driver over ``t_len`` periods of history and ``horizon`` after, NaN-padded past the data's end (the last
    value then holds); a driver not known ahead is NaN after the history too."""
    window = np.full((values.shape[0], t_len + horizon), np.nan)
    kept = values[:, : t_len + horizon if known_ahead else t_len]
    window[:, : kept.shape[1]] = kept
    return window


def builtin_methods(params: ForecastParams | None = None) -> dict[str, Forecaster]:
    return {
        "luxebrain": luxebrain_forecaster(params),
        "seasonal_naive": seasonal_naive,
        "moving_avg_trend": moving_average_with_trend,
        "tsb_numpy": tsb_numpy,
    }

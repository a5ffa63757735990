"""Training side of the demand forecaster: panel forecasts, intermittent demand, new products, bad input."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from luxebrain.ml.artifacts import ModelArtifact
from luxebrain.ml.dataset import DatasetError
from luxebrain.ml.forecast import train
from luxebrain.ml.forecast.series import partial_edges, tsb_levels
from luxebrain.ml.forecast.serving import ForecastQueryError, Forecasts
from luxebrain.ml.forecast.train import (
    STORE_REVENUE_ID,
    STORE_UNITS_ID,
    ForecastInputError,
    ForecastParams,
    _interval_offsets,
    forecast_daily_panel,
    forecast_weekly_panel,
    train_forecaster,
    weeks_from_days,
)

FAST = ForecastParams(max_train_rows=2000, gbm_max_iter=25, horizon_weeks=6, validation_weeks=6)


def make_order_lines(seed: int = 0, days: int = 420, as_of: date = date(2026, 6, 30)) -> pd.DataFrame:
    """Daily Poisson sales of 12 products in 2 categories (weekend peak), plus returns and duplicates."""
    rng = np.random.default_rng(seed)
    start = pd.Timestamp(as_of) - pd.Timedelta(days=days - 1)
    rows = []
    rates = {f"p{i}": (0.2 + 0.4 * i, "Bags" if i % 2 else "Shoes") for i in range(12)}
    for day in range(days):
        moment = start + pd.Timedelta(days=day, hours=12)
        weekend = 1.6 if moment.weekday() >= 5 else 1.0
        for product, (rate, category) in rates.items():
            for _ in range(rng.poisson(rate * weekend)):
                rows.append((product, moment, 1.0, 100.0, category))
    frame = pd.DataFrame(rows, columns=["product_id", "ordered_at", "quantity", "unit_price", "category"])
    frame["ordered_at"] = pd.to_datetime(frame["ordered_at"], utc=True)
    frame["line_total"] = frame["quantity"] * frame["unit_price"]
    frame["order_id"] = [f"o{i}" for i in range(len(frame))]
    frame["customer_id"] = "c"
    return frame


def seasonal_panel(n: int = 30, years: int = 3, seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    weeks = 52 * years
    season = 1 + 0.8 * np.sin(2 * np.pi * np.arange(weeks) / 52)
    level = rng.uniform(5, 30, n)
    return rng.poisson(level[:, None] * season[None, :]).astype(float)


def test_forecasts_are_finite_ordered_and_non_negative_with_awkward_series() -> None:
    # Given a panel with a late-starting series, an all-zero series and a series with one data point
    y = seasonal_panel(n=12, years=2)
    y[0, :-20] = np.nan
    y[1] = 0.0
    y[2, :-1] = np.nan
    # When forecasting 6 weeks
    result = forecast_weekly_panel(y, 6, params=FAST)
    # Then every quantile is defined, ordered and non-negative; the all-zero series forecasts zero
    for array in (result.p10, result.p50, result.p90):
        assert array.shape == (12, 6)
        assert np.isfinite(array).all()
        assert (array >= 0).all()
    assert (result.p10 <= result.p50).all() and (result.p50 <= result.p90).all()
    assert result.p50[1].sum() == 0
    assert result.segment[1] == "no_sales"


def test_yearly_seasonality_is_learned_better_than_a_flat_mean() -> None:
    # Given three years of strongly seasonal weekly sales, the last 13 weeks held out
    y = seasonal_panel(n=30, years=3)
    history, future = y[:, :-13], y[:, -13:]
    week_of_year = np.tile(np.arange(1, 53), 3).astype(float)
    # When forecasting the held-out weeks
    result = forecast_weekly_panel(history, 13, week_of_year=week_of_year, params=FAST)
    # Then its error is well below that of the last 13 weeks' mean (which cannot see the season turning)
    flat = history[:, -13:].mean(axis=1, keepdims=True)
    ours = np.abs(result.p50 - future).sum() / future.sum()
    baseline = np.abs(flat - future).sum() / future.sum()
    assert ours < 0.8 * baseline


def test_known_holidays_let_the_forecast_lift_the_weeks_they_fall_in() -> None:
    # Given weekly sales that double in holiday weeks that move around the calendar (so last year's same week
    # does not hold the spike), one holiday in the last quarter of the history (where the model choice is
    # backtested) and two in the 13 weeks held out
    rng = np.random.default_rng(3)
    weeks, horizon = 156, 13
    holidays = np.zeros(weeks)
    holidays[rng.choice(weeks - horizon, 14, replace=False)] = 1.0
    holidays[weeks - 2 * horizon : weeks - horizon] = 0.0
    holidays[[weeks - 20, weeks - 10, weeks - 4]] = 1.0
    level = rng.uniform(10, 40, 30)
    y = rng.poisson(level[:, None] * (1 + holidays[None, :])).astype(float)
    history, future = y[:, :-horizon], y[:, -horizon:]
    holiday_weeks = holidays[-horizon:] == 1
    # When forecasting with and without the holiday calendar
    blind = forecast_weekly_panel(history, horizon, params=FAST)
    informed = forecast_weekly_panel(history, horizon, holidays=holidays, params=FAST)

    # Then only the informed forecast lifts the holiday weeks, and its error there is a fraction of the blind one
    def holiday_error(p50: np.ndarray) -> float:
        return float(np.abs(p50[:, holiday_weeks] - future[:, holiday_weeks]).sum() / future[:, holiday_weeks].sum())

    assert holiday_error(informed.p50) < 0.5 * holiday_error(blind.p50)
    lift = informed.p50[:, holiday_weeks].mean() / informed.p50[:, ~holiday_weeks].mean()
    assert lift > 1.5
    # And a calendar that does not reach the end of the horizon is refused
    with pytest.raises(ForecastInputError, match="holidays"):
        forecast_weekly_panel(history, horizon, holidays=holidays[:-1], params=FAST)


def test_tsb_probability_decays_while_nothing_sells() -> None:
    # Given an intermittent series: a sale of 4, then nothing
    y = np.array([[4.0, 0, 0, 0, 0, 0]])
    # When smoothing with TSB
    levels = tsb_levels(y, alpha_demand=0.2, alpha_probability=0.2)[0]
    # Then the forecast after the sale is the size, and it falls every empty week instead of staying flat
    assert levels[1] == pytest.approx(4.0)
    assert all(np.diff(levels[1:]) < 0)
    assert levels[-1] > 0


def test_weeks_from_days_end_on_the_last_day_and_keep_missing_as_missing() -> None:
    daily = np.arange(1.0, 16.0)[None, :]  # 15 days: the first day is a partial week and is dropped
    daily_with_gap = daily.copy()
    daily_with_gap[0, :5] = np.nan  # the series starts on day 6
    np.testing.assert_array_equal(weeks_from_days(daily), [[sum(range(2, 9)), sum(range(9, 16))]])
    np.testing.assert_array_equal(weeks_from_days(daily_with_gap), [[6 + 7 + 8, sum(range(9, 16))]])
    daily_with_gap[0, :8] = np.nan  # the series starts after the first week: that week does not exist
    assert np.isnan(weeks_from_days(daily_with_gap)[0, 0])
    with pytest.raises(ForecastInputError, match="at least 7 days"):
        weeks_from_days(np.ones((1, 5)))


def test_daily_forecast_follows_the_weekday_profile() -> None:
    # Given sales only on Saturdays
    days = 7 * 30
    last_day = date(2026, 6, 28)  # a Sunday
    weekdays = np.array([(last_day.toordinal() - (days - 1 - i)) % 7 for i in range(days)])  # 0 = Sunday
    daily = np.where(weekdays == 6, 5.0, 0.0)[None, :].repeat(4, axis=0)
    # When forecasting two weeks of days
    result = forecast_daily_panel(daily, 14, last_day=last_day, params=FAST)
    # Then almost all of each week's demand falls on Saturdays (the profile is shrunk a little to the panel's)
    saturday = np.array([(last_day.toordinal() + 1 + k) % 7 == 6 for k in range(14)])
    assert result.daily_p50.shape == (4, 14)
    assert result.daily_p50[:, saturday].sum() > 0.9 * result.daily_p50.sum()


def test_train_forecaster_stores_plain_arrays_and_backtest_metrics() -> None:
    # Given order lines with a return and a duplicated line
    lines = make_order_lines()
    extra = lines.iloc[[0, 0]].copy()
    extra["quantity"] = [-1.0, 1.0]
    lines = pd.concat([lines, extra], ignore_index=True)
    # When training
    artifact = train_forecaster(lines, params=FAST)
    # Then the artifact round-trips and holds product rows plus the store's units and revenue
    loaded = ModelArtifact.from_files(artifact.to_files())
    assert loaded.kind == "forecast"
    ids = loaded.extra["series_ids"]
    assert ids[-2:] == [STORE_UNITS_ID, STORE_REVENUE_ID] and len(ids) == 14
    assert loaded.arrays["weekly_p50"].shape == (14, 6)
    assert loaded.arrays["daily_p50"].shape == (14, 42)
    for name, array in loaded.arrays.items():
        assert np.isfinite(array).all(), name
    smooth = loaded.metrics["backtest_by_segment"]
    assert smooth, "the backtest figures are in the manifest"
    for figures in smooth.values():
        assert "seasonal_naive" in figures["wape"] and figures["chosen"] in figures["wape"]
    # Store revenue is about 100 x store units (every unit sells for 100)
    weekly = loaded.arrays["weekly_p50"]
    assert weekly[-1].sum() == pytest.approx(100 * weekly[-2].sum(), rel=0.25)
    assert loaded.extra["first_forecast_day"] == "2026-07-01"


def test_a_new_product_borrows_its_category_level() -> None:
    # Given a product first sold three days ago (2 units) in a category whose products sell ~7-30 a week
    lines = make_order_lines(days=200)
    newcomer = lines.iloc[:1].copy()
    newcomer["product_id"] = "new"
    newcomer["category"] = "Bags"
    newcomer["quantity"] = 2.0
    newcomer["ordered_at"] = pd.Timestamp("2026-06-28 10:00", tz="UTC")
    artifact = train_forecaster(pd.concat([lines, newcomer], ignore_index=True), params=FAST)
    # When reading its forecast
    row = artifact.extra["series_ids"].index("new")
    weekly = artifact.arrays["weekly_p50"][row]
    # Then it is pulled up from its own 2 units towards the category, but not all the way
    assert artifact.extra["segments"][row] == "new"
    assert 3.0 < weekly[0] < 20.0


def test_bad_order_lines_get_clear_errors() -> None:
    lines = make_order_lines(days=60)
    with pytest.raises(DatasetError, match="quantity"):
        train_forecaster(lines.drop(columns=["quantity"]), params=FAST)
    with pytest.raises(ForecastInputError, match="empty"):
        train_forecaster(lines.iloc[:0], params=FAST)
    broken = lines.copy()
    broken["quantity"] = broken["quantity"].astype(object)
    broken.loc[5, "quantity"] = "two"
    with pytest.raises(ForecastInputError, match="row 5"):
        train_forecaster(broken, params=FAST)
    with pytest.raises(ForecastInputError, match="as_of"):
        train_forecaster(lines, params=FAST, as_of=date(2000, 1, 1))
    with pytest.raises(ForecastInputError, match="horizon_weeks"):
        ForecastParams(horizon_weeks=0)
    with pytest.raises(ForecastInputError, match="negative"):
        forecast_weekly_panel(-np.ones((2, 10)), 4, params=FAST)


def test_a_single_order_line_still_gives_a_forecast() -> None:
    lines = make_order_lines(days=60).iloc[:1]
    artifact = train_forecaster(lines, params=FAST)
    assert np.isfinite(artifact.arrays["weekly_p50"]).all()
    assert artifact.arrays["weekly_p50"].shape == (3, 6)


def test_interval_shifts_are_calibrated_per_step_and_never_shrink_with_the_horizon() -> None:
    # Given held-out outcomes whose errors grow with the horizon (a random walk) around a zero-width band
    rng = np.random.default_rng(3)
    n, horizon = 400, 13
    actual = 100 + np.cumsum(rng.normal(0, 5, (n, horizon)), axis=1)
    p10, p50, p90 = np.full((n, horizon), 95.0), np.full((n, horizon), 100.0), np.full((n, horizon), 105.0)
    # When calibrating
    low, high = _interval_offsets(p10, p50, p90, actual, np.full(n, 100.0))
    # Then the factors grow with the step and each step misses ~10 % on each side (sides are 5 wide)
    assert low.shape == high.shape == (horizon,)
    assert np.all(np.diff(low) >= -1e-9) and np.all(np.diff(high) >= -1e-9)
    assert high[-1] > high[0] + 1.0 and low[-1] > low[0] + 1.0
    for step in (0, horizon - 1):
        below = np.mean(actual[:, step] < 95 - 5 * low[step])
        above = np.mean(actual[:, step] > 105 + 5 * high[step])
        assert 0.05 <= below <= 0.15 and 0.05 <= above <= 0.15


def test_forecast_bands_widen_with_the_horizon_and_cover_about_80_percent_at_each_end() -> None:
    # Given 60 random-walk series (uncertainty grows with the horizon), 3 years of weeks
    rng = np.random.default_rng(5)
    n, weeks, horizon = 60, 156 + 13, 13
    walk = np.clip(50 + np.cumsum(rng.normal(0, 3, (n, weeks)), axis=1), 1, None)
    y = rng.poisson(walk).astype(float)
    history, future = y[:, :-horizon], y[:, -horizon:]
    # When forecasting 13 weeks ahead
    params = ForecastParams(max_train_rows=2000, gbm_max_iter=25, horizon_weeks=horizon, validation_weeks=horizon)
    forecast = forecast_weekly_panel(history, horizon, params=params)
    # Then the P10-P90 band is wider in week 13 than in week 1 and covers most outcomes at both ends
    width = (forecast.p90 - forecast.p10).mean(axis=0)
    # (the recalibration factors never fall with the step; the model's own band may wobble a little)
    assert all(width[k] >= 0.95 * width[:k].max() for k in range(1, horizon))
    assert width[-1] > 1.15 * width[0]
    inside = (future >= forecast.p10) & (future <= forecast.p90)
    assert inside[:, 0].mean() >= 0.6 and inside[:, -1].mean() >= 0.6
    offsets = next(iter(forecast.selection["interval_offsets"].values()))
    assert len(offsets["high_per_step"]) == horizon
    assert np.all(np.diff(offsets["high_per_step"]) >= 0) and np.all(np.diff(offsets["low_per_step"]) >= 0)


def random_walk_panel(n: int, weeks: int, seed: int) -> np.ndarray:
    """Poisson sales around a random-walk level: the error of a forecast grows with its horizon."""
    rng = np.random.default_rng(seed)
    walk = np.clip(50 + np.cumsum(rng.normal(0, 3, (n, weeks)), axis=1), 1, None)
    return rng.poisson(walk).astype(float)


def test_a_small_panel_s_band_widens_from_the_first_weeks_and_holds_80_percent_at_both_ends() -> None:
    # Given small stores: 4 panels of 20 random-walk series (too few outcomes per step for a tail quantile
    # each, with one validation origin), 3 years of weeks, and the 13 weeks that follow each
    horizon = 13
    params = ForecastParams(max_train_rows=2000, gbm_max_iter=25, horizon_weeks=horizon, validation_weeks=horizon)
    widths, inside = [], []
    for seed in range(4):
        y = random_walk_panel(20, 156 + horizon, seed)
        history, future = y[:, :-horizon], y[:, -horizon:]
        # When forecasting 13 weeks ahead
        forecast = forecast_weekly_panel(history, horizon, params=params)
        widths.append((forecast.p90 - forecast.p10).mean(axis=0))
        inside.append((future >= forecast.p10) & (future <= forecast.p90))
    width = np.mean(widths, axis=0)
    covered = np.concatenate(inside).mean(axis=0)
    # Then the band is already wider in week 4 than in week 1, far wider in week 13, and never narrows
    assert width[3] > 1.08 * width[0]
    assert width[-1] > 1.3 * width[0]
    assert np.all(np.diff(width) >= -0.01 * width[0])
    # and it holds about 80 % of the outcomes in the first week and in the last one (80 per step)
    assert 0.7 <= covered[0] <= 0.9 and 0.7 <= covered[-1] <= 0.9


def test_a_young_store_s_daily_band_holds_the_counts_it_will_see() -> None:
    # Given three weeks of a new store's daily sales: slow movers that sell 0 or 1 on most days
    rng = np.random.default_rng(3)
    rates = np.repeat([0.1, 0.3, 1.0, 3.0], 20)
    days, horizon = 21 + 28, 28
    sales = rng.poisson(rates[:, None], (len(rates), days)).astype(float)
    history, future = sales[:, :-horizon], sales[:, -horizon:]
    # When forecasting four weeks of days (too little history for held-out days to recalibrate the band)
    result = forecast_daily_panel(history, horizon, last_day=date(2026, 6, 28), params=FAST)
    assert result.weekly.validation is None
    # Then the P10-P90 band is one of counts: it holds most of the days that follow, and for slow movers at
    # least 80 % of them (a continuous band around a mean of 0.1 holds neither 0 nor 1: almost no day)
    inside = (future >= result.daily_p10) & (future <= result.daily_p90)
    assert inside[rates <= 0.3].mean() >= 0.8
    assert all(inside[rates == rate].mean() >= 0.6 for rate in np.unique(rates))
    assert np.all(result.daily_p10 == np.floor(result.daily_p10))


def weekday_volatile_panel(n: int, days: int, volatile_weekday: int, last_day: date, seed: int) -> np.ndarray:
    """Daily Poisson sales around 4 a day, except one weekday that gets bulk orders (lumpy, same mean level
    over the week): that weekday's errors are far wider than the others'."""
    rng = np.random.default_rng(seed)
    weekdays = np.array([(last_day - timedelta(days=days - 1 - i)).weekday() for i in range(days)])
    sales = rng.poisson(4.0, (n, days)).astype(float)
    volatile = weekdays == volatile_weekday
    bulk = rng.random((n, int(volatile.sum()))) < 0.25
    sales[:, volatile] = np.where(bulk, rng.poisson(14.0, bulk.shape), rng.poisson(0.7, bulk.shape))
    return sales


def test_a_daily_band_is_calibrated_per_weekday_so_a_volatile_first_day_is_covered() -> None:
    # Given 2 years of daily sales whose Mondays are lumpy (bulk orders) and the other days steady, forecast
    # from a Sunday so that the first and the last (91st) day are Mondays
    last_day, horizon = date(2026, 6, 28), 91
    assert last_day.weekday() == 6
    params = ForecastParams(max_train_rows=3000, gbm_max_iter=25, horizon_weeks=13, validation_weeks=13)
    inside = []
    for seed in range(2):
        sales = weekday_volatile_panel(80, 2 * 364 + horizon, 0, last_day + timedelta(days=horizon), seed)
        history, future = sales[:, :-horizon], sales[:, -horizon:]
        # When forecasting 13 weeks of days
        result = forecast_daily_panel(history, horizon, last_day=last_day, params=params)
        inside.append((future >= result.daily_p10) & (future <= result.daily_p90))
    covered = np.concatenate(inside).mean(axis=0)
    mondays, other_days = covered[0::7], np.delete(covered, np.arange(0, horizon, 7))
    # Then the band holds about 80 % of the outcomes (160 a day) on the first and the last day (both Mondays),
    # on Mondays as a whole and on the other days as a whole: one factor for all weekdays would be too narrow
    # on Mondays and too wide on the rest
    assert 0.7 <= covered[0] <= 0.9 and 0.7 <= covered[-1] <= 0.9
    assert 0.74 <= mondays.mean() <= 0.86 and 0.74 <= other_days.mean() <= 0.86


def test_partial_edges_find_a_cut_short_first_or_last_day_but_not_a_quiet_weekday() -> None:
    days = np.arange(71)
    totals = np.where(days % 7 == 3, 0.0, 100.0)  # a store closed every seventh day
    assert partial_edges(totals, 7) == (False, False)
    cut = totals.copy()
    cut[-1], cut[0] = 30.0, 20.0  # the last day still going, the first one back-filled from noon
    assert partial_edges(cut, 7) == (True, True)
    assert partial_edges(np.array([5.0, 100, 100, 100, 100, 100]), 1) == (True, False)
    assert partial_edges(np.zeros(30), 7) == (False, False)


def test_training_leaves_out_a_partial_last_day_and_the_run_day() -> None:
    # Given a store whose last day (30 June) has only its first hours of orders
    lines = make_order_lines(days=120)
    last_day = lines["ordered_at"].dt.date == date(2026, 6, 30)
    morning = lines[last_day].iloc[:1]
    lines = pd.concat([lines[~last_day], morning], ignore_index=True)
    # When training with the latest order's day as the end of history
    artifact = train_forecaster(lines, params=FAST)
    # Then that day is left out and forecast, not learnt as a collapse
    assert artifact.extra["partial_days_left_out"] == ["2026-06-30"]
    assert artifact.extra["first_forecast_day"] == "2026-06-30"
    # And a run at 03:00 on 1 July ends history on 30 June (its own day is still going)
    full = make_order_lines(days=120)
    run = train_forecaster(full, params=FAST, as_of=datetime(2026, 7, 1, 3, 0, tzinfo=UTC))
    assert run.extra["first_forecast_day"] == "2026-07-01"
    assert run.extra["partial_days_left_out"] == []


def seasonal_shift_panel(n: int, weeks: int, seed: int) -> np.ndarray:
    """Weekly sales with a strong yearly season (a summer swell and a sharp year-end peak) around a level that
    steps up by 40 % in the second year."""
    rng = np.random.default_rng(seed)
    position = np.arange(weeks) % 52
    season = 0.35 * np.sin(2 * np.pi * position / 52) + np.where(position >= 47, 0.9, 0.0)
    level = rng.uniform(40, 200, n)[:, None] * np.where(np.arange(weeks) >= 60, 1.4, 1.0)[None, :]
    return rng.poisson(level * (1 + season[None, :])).astype(float)


def test_a_yearly_season_after_a_level_shift_is_forecast_by_the_decomposition_the_validation_weeks_choose(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given 30 series with 100 weeks of strongly seasonal sales (too short for the Theta method's seasonal
    # test, which needs two full years) whose level stepped up by 40 % in week 60, and the 13 weeks that
    # follow, the year-end peak among them
    horizon = 13
    y = seasonal_shift_panel(30, 100 + horizon, seed=1)
    history, future = y[:, :-horizon], y[:, -horizon:]
    params = ForecastParams(max_train_rows=4000, gbm_max_iter=50, horizon_weeks=horizon, validation_weeks=horizon)
    # When forecasting the 13 weeks with the decomposition candidate and without it (the forecaster before it)
    forecast = forecast_weekly_panel(history, horizon, params=params)
    # Then the validation weeks choose the decomposition, alone or averaged with the global model
    assert forecast.selection["segments"]["smooth"]["chosen"] in ("stl_ets", "gbm+stl_ets")
    monkeypatch.setattr(train, "decomposition_forecast", lambda *args, **kwargs: None)
    without = forecast_weekly_panel(history, horizon, params=params)
    assert "stl_ets" not in without.selection["segments"]["smooth"]["wape"]

    # and on the weeks that follow its error is well below what the forecaster chose without it
    def wape(p50: np.ndarray) -> float:
        return float(np.abs(p50 - future).sum() / future.sum())

    assert wape(forecast.p50) < 0.85 * wape(without.p50)


def test_the_decomposition_is_offered_only_from_a_year_and_a_half_of_history() -> None:
    # Given the same kind of sales over 70 weeks (validation origin at week 57), and over 110 weeks
    short = seasonal_shift_panel(20, 70, seed=2)
    long = seasonal_shift_panel(20, 110, seed=2)
    # When forecasting both
    short_forecast = forecast_weekly_panel(short, 13, params=FAST)
    long_forecast = forecast_weekly_panel(long, 13, params=FAST)
    # Then only the long history's backtest holds the decomposition candidates
    assert not {"stl_ets", "gbm+stl_ets"} & set(short_forecast.selection["segments"]["smooth"]["wape"])
    assert {"stl_ets", "gbm+stl_ets"} <= set(long_forecast.selection["segments"]["smooth"]["wape"])
    # and its yearly profile ignores one freak week: a bulk order of 20 x the level in one week of year one
    # moves that week's seasonal value by less than a tenth of the order
    freak = long.copy()
    freak[:, 30] *= 20
    moved = np.abs(train.seasonal_profile(freak[:, :104]) - train.seasonal_profile(long[:, :104]))[:, 30]
    assert (moved < 0.1 * 19 * long[:, 30]).all()


def test_the_decomposition_s_spread_is_its_own_one_step_error_growing_with_the_horizon() -> None:
    # Given 40 series of noise (sd 5) around a level that takes a random step (sd 2) each week, and 40 of noise
    # (sd 5) around a fixed level of 100
    rng = np.random.default_rng(4)
    walking = 100 + np.cumsum(rng.normal(0, 2, (40, 120)), axis=1) + rng.normal(0, 5, (40, 120))
    steady = 100 + rng.normal(0, 5, (40, 120))
    # When smoothing them 13 weeks ahead
    _, walking_variance = train.damped_trend_ses(walking, 13)
    _, steady_variance = train.damped_trend_ses(steady, 13)
    # Then the one-step variance is about that of the noise and the step (25 + 4, or 25), never falling with
    # the horizon, and it grows far more for the walking level than for the steady one
    assert 20 < np.median(steady_variance[:, 0]) < 32 and 22 < np.median(walking_variance[:, 0]) < 45
    assert (np.diff(walking_variance, axis=1) >= 0).all() and (np.diff(steady_variance, axis=1) >= 0).all()
    assert np.median(walking_variance[:, -1] / walking_variance[:, 0]) > 1.5
    assert np.median(steady_variance[:, -1] / steady_variance[:, 0]) < 1.3


def promoted_panel(seed: int = 5) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """Weekly Poisson demand of 40 products with elasticity -2 around their regular price; one week in six,
    at random, is a markdown of 10-30 %. Returns (sales, prices, regular prices, elasticity), 104 + 13 weeks."""
    rng = np.random.default_rng(seed)
    n, weeks, elasticity = 40, 117, -2.0
    regular = rng.uniform(10, 100, n)
    prices = np.repeat(regular[:, None], weeks, axis=1)
    markdown = rng.random((n, weeks)) < 1 / 6
    prices[markdown] *= rng.choice([0.7, 0.8, 0.9], size=int(markdown.sum()))
    level = rng.uniform(5, 40, n)
    sales = rng.poisson(level[:, None] * (prices / regular[:, None]) ** elasticity).astype(float)
    return sales, prices, regular, elasticity


def test_planned_prices_let_the_forecast_follow_markdowns_and_say_what_another_price_would_sell() -> None:
    # Given weekly sales that jump when a product is marked down, markdowns at random weeks (no calendar
    # explains them) and known for the 13 weeks ahead, as a merchant plans them
    sales, prices, _, elasticity = promoted_panel()
    horizon = 13
    history, future = sales[:, :-horizon], sales[:, -horizon:]
    # When forecasting with and without the prices
    blind = forecast_weekly_panel(history, horizon, params=FAST)
    informed = forecast_weekly_panel(history, horizon, prices=prices, params=FAST)

    # Then the informed forecast's error is well below the blind one's, most of all in the markdown weeks
    def wape(p50: np.ndarray, weeks: np.ndarray) -> float:
        return float(np.abs(p50 - future)[weeks].sum() / future[weeks].sum())

    marked_down = prices[:, -horizon:] < prices.max(axis=1, keepdims=True) * 0.95
    everywhere = np.ones_like(marked_down)
    assert wape(informed.p50, everywhere) < 0.85 * wape(blind.p50, everywhere)
    assert wape(informed.p50, marked_down) < 0.6 * wape(blind.p50, marked_down)
    # And it answers "what if this price": demand falls as the price rises, by about what the data says for the
    # markdown range it has seen (elasticity -2: 20 % off sells 0.8^-2 = 1.56 x)
    assert informed.price_response is not None
    multipliers = np.array(train.PRICE_MULTIPLIERS)
    response = np.median(informed.price_response, axis=0)
    assert response[multipliers == 1.0][0] == pytest.approx(1.0)
    assert response[multipliers == 0.8][0] == pytest.approx(0.8**elasticity, rel=0.2)
    assert blind.price_response is None
    # And prices that do not cover the horizon are refused
    with pytest.raises(ForecastInputError, match="prices"):
        forecast_weekly_panel(history, horizon, prices=prices[:, :-1], params=FAST)


def test_training_reads_prices_from_order_lines_and_the_artifact_answers_another_price() -> None:
    # Given order lines whose unit price is each product's price that week (markdowns selling more), and the
    # catalogue's current prices
    sales, prices, regular, _ = promoted_panel(seed=6)
    history_weeks = 104
    first_day = pd.Timestamp("2024-07-02", tz="UTC")
    rows = []
    for product in range(sales.shape[0]):
        for week in range(history_weeks):
            units = sales[product, week]
            if units > 0:
                moment = first_day + pd.Timedelta(days=7 * week + 3, hours=12)
                price = float(prices[product, week])
                rows.append((f"p{product}", moment, units, price, units * price))
    lines = pd.DataFrame(rows, columns=["product_id", "ordered_at", "quantity", "unit_price", "line_total"])
    lines["order_id"] = [f"o{i}" for i in range(len(lines))]
    lines["customer_id"] = "c"
    products = pd.DataFrame({"product_id": [f"p{i}" for i in range(len(regular))], "price": regular})
    # When training
    artifact = train_forecaster(lines, products, params=FAST, as_of=date(2026, 6, 30))
    forecasts = Forecasts(ModelArtifact.from_files(artifact.to_files()))
    # Then a markdown of 20 % is forecast to sell more, a rise less, and revenue is at the asked price
    product = "p3"
    planned = forecasts.for_product(product, horizon_weeks=4)
    cheaper = forecasts.for_product(product, horizon_weeks=4, price=0.8 * regular[3])
    assert sum(cheaper.units_p50) > 1.2 * sum(planned.units_p50)
    assert cheaper.drivers["price"]["demand_multiplier"] > 1.2
    assert cheaper.revenue_p50[0] == pytest.approx(cheaper.units_p50[0] * 0.8 * regular[3], rel=1e-3)
    assert planned.drivers["price"]["planned"] == pytest.approx(regular[3], rel=1e-4)
    # And the range the history holds is every answer's: never above the regular price (every markdown was below
    # it), down to the deepest markdown it holds (30 % off); both bounds are the model's own answers
    lowest, highest = planned.drivers["price"]["lowest"], planned.drivers["price"]["highest"]
    assert lowest == pytest.approx(0.7 * regular[3], abs=0.02) and highest == pytest.approx(regular[3], abs=0.01)
    deepest = forecasts.for_product(product, price=lowest).drivers["price"]
    assert deepest["demand_multiplier"] > 1.3 and deepest["extrapolated"] is False
    assert forecasts.for_product(product, price=highest).drivers["price"]["demand_multiplier"] == pytest.approx(
        1.0, abs=0.01
    )
    # A rise beyond it is carried on at the elasticity the markdowns show (-2 here: 10 % more sells about 0.83 x),
    # and said to be extrapolated, not the flat "no change" a GBM would read beyond what it has seen
    rise = forecasts.for_product(product, price=1.1 * regular[3]).drivers["price"]
    assert rise["extrapolated"] is True and rise["demand_multiplier"] == pytest.approx(1.1**-2, rel=0.1)
    # Further out than 0.7-1.3 x the price, the answer is a 422 naming the range, whose bounds are accepted
    with pytest.raises(ForecastQueryError, match="between") as refused:
        forecasts.for_product(product, price=2 * regular[3])
    low_ask, high_ask = (float(v) for v in re.findall(r"\d+\.\d\d", str(refused.value))[:2])
    assert forecasts.for_product(product, price=low_ask).drivers["price"]["extrapolated"] is False
    assert forecasts.for_product(product, price=high_ask).drivers["price"]["extrapolated"] is True
    with pytest.raises(ForecastQueryError, match="positive"):
        forecasts.for_product(product, price=-1.0)


def test_a_forecast_never_sells_more_at_a_higher_price_even_where_prices_explain_nothing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given demand that ignores the price (pure noise around 20 a week) while prices wander by +-40 %
    rng = np.random.default_rng(7)
    prices = rng.uniform(0.6, 1.4, (40, 117)) * 50
    sales = rng.poisson(np.full((40, 117), 20.0)).astype(float)
    # When forecasting with the prices, looking at the GBM's own response (before the last smoothing of the curve)
    monkeypatch.setattr(train, "_non_increasing", lambda response: response)
    result = forecast_weekly_panel(sales[:, :-13], 13, prices=prices, params=FAST)
    # Then no product's demand rises with its price (an unconstrained GBM reads the noise as rises of 1 %+)
    assert result.price_response is not None
    assert np.diff(result.price_response, axis=1).max() < 0.002


def test_a_demand_class_that_sold_nothing_in_the_validation_weeks_does_not_judge_the_model() -> None:
    # Given 30 steady series and 6 products launched just before the validation weeks that then sold nothing
    rng = np.random.default_rng(11)
    weeks, horizon = 80, 6
    steady = rng.poisson(20.0, (30, weeks)).astype(float)
    launched = np.full((6, weeks), np.nan)
    launched[:, weeks - horizon - 3] = 3.0
    launched[:, weeks - horizon - 2 :] = 0.0
    # When forecasting
    result = forecast_weekly_panel(np.vstack([steady, launched]), horizon, params=FAST)
    # Then the backtest holds no WAPE of a class with nothing to score (it read 1e9 from a 1e-9 denominator,
    # which made the store's model look worse than its baseline) and the steady class is judged as before
    segments = result.selection["segments"]
    assert "new" not in segments
    assert all(wape < 1.0 for wape in segments["smooth"]["wape"].values())

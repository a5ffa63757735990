"""Demand-forecast benchmark: our model against statsforecast and simple baselines on real sales.

Run: ``.venv/bin/python -m benchmarks.forecast [--datasets walmart uci_weekly retail_daily sample_store]
[--retail-series 300] [--cutoffs 4] [--speed-products 5000] [--skip-speed] [--smoke]``

Data (read-only, /work/shared/data): Walmart weekly sales of 45 stores; UCI weekly sales of 811 products (no
calendar); daily unit sales per product built from UCI Online Retail (net of returns per day, clipped at 0;
only StockCodes that start with a digit, i.e. real products, with sales on at least 20 days; a random sample,
seed 0, of ``--retail-series`` (200) of them because AutoETS costs ~50-100 ms per series and fit); and the sample
store's daily sales per product. Every method forecasts from the same 4 cut-offs (4 weeks apart, the last one
13 weeks before the end) and is scored on weeks 1-4 and 1-13, in the same process. The field: statsforecast
AutoETS, AutoTheta, AutoARIMA, MSTL (when the history holds its seasons twice), SeasonalNaive, CrostonOptimized,
TSB and ADIDA, and mlforecast with LightGBM (a global model); the goals compare ours with the BEST of them per
window. CrostonOptimized, TSB and ADIDA give no intervals: theirs come from the empirical quantiles of one-step
changes (the same construction as the seed's moving average and seasonal naive). A partial first or last period
(e.g. Online Retail's last day, which ends at noon) is left out of every method's data.

Speed: 5,000 synthetic products x 730 days (negative-binomial demand with weekly and yearly seasonality and
trend; no real data set has that many daily series), fitted and forecast 91 days ahead by ``forecast_daily_panel``
in a fresh process (wall time and peak RSS of that process). AutoETS on the same series is timed on a random
sample and scaled linearly to 5,000 (statsforecast fits series independently, so its time is linear).

Outputs: benchmarks/out/forecast.json, benchmarks/out/forecast.png.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import multiprocessing
import resource
import sys
import time
import warnings
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from luxebrain.ml.forecast.evaluation import (
    BacktestResult,
    Forecaster,
    QuantileForecast,
    SalesPanel,
    _residual_quantiles,
    format_table,
    panel_from_frame,
    rolling_origin_backtest,
)
from luxebrain.ml.forecast.train import ForecastParams, builtin_methods, driver_window, forecast_daily_panel

DATA = Path("/work/shared/data")
OURS_WITHOUT_DRIVERS = "luxebrain_no_drivers"
OUT = Path(__file__).resolve().parent / "out"


# --------------------------------------------------------------------------------------------------------
# Data sets
# --------------------------------------------------------------------------------------------------------


def load_walmart(with_holidays: bool = True) -> SalesPanel:
    """Walmart's 45 stores, with the data set's holiday weeks (Super Bowl, Labor Day, Thanksgiving, Christmas)
    as a driver known in advance (``with_holidays=False``: without it, to measure what it brings)."""
    frame = pd.read_csv(DATA / "walmart-store-sales" / "walmart_store_sales.csv.gz")
    panel = panel_from_frame(frame, "Store", "Date", "Weekly_Sales", freq="W", time_format="%d-%m-%Y")
    if with_holidays and panel.period_ends:
        flagged = frame.groupby("Date")["Holiday_Flag"].max()
        start = pd.Timestamp(panel.period_ends[0])
        weeks = np.round((pd.to_datetime(flagged.index, format="%d-%m-%Y") - start).days / 7).astype(int)
        holidays = np.zeros(len(panel.period_ends))
        inside = (weeks >= 0) & (weeks < len(holidays))
        holidays[weeks[inside]] = flagged.to_numpy()[inside]
        panel.holidays = holidays
        panel.notes.append(f"holiday weeks known in advance: {int(holidays.sum())} of {len(holidays)}")
    return panel


def load_uci_weekly() -> SalesPanel:
    frame = pd.read_csv(DATA / "uci-sales-transactions-weekly" / "sales_transactions_weekly.csv.gz")
    weeks = [f"W{k}" for k in range(52)]
    long = frame.melt(id_vars="Product_Code", value_vars=weeks, var_name="week", value_name="units")
    long["week"] = long["week"].str[1:].astype(int)  # no calendar dates in this data set
    return panel_from_frame(long, "Product_Code", "week", "units", freq="W")


def load_retail_daily(n_series: int, seed: int = 0, with_prices: bool = True) -> SalesPanel:
    """Online Retail's daily units per product; with the day's average unit price of what it sold (weighted by
    quantity). That price also falls for bulk buyers, so it is known up to the origin only: ahead it would tell
    the forecast a big order is coming."""
    frame = pd.read_csv(
        DATA / "uci-online-retail" / "online_retail.csv.gz",
        usecols=["StockCode", "Quantity", "InvoiceDate", "UnitPrice"],
        dtype={"StockCode": str},
    )
    frame = frame[frame["StockCode"].str.match(r"^\d")]
    frame["day"] = pd.to_datetime(frame["InvoiceDate"]).dt.strftime("%Y-%m-%d")
    panel = panel_from_frame(frame, "StockCode", "day", "Quantity", freq="D")
    selling_days = (np.nan_to_num(panel.values) > 0).sum(axis=1)
    eligible = np.flatnonzero(selling_days >= 20)
    rng = np.random.default_rng(seed)
    rows = np.sort(rng.choice(eligible, min(n_series, len(eligible)), replace=False))
    panel = panel.subset(rows)
    panel.notes.append(
        f"random sample (seed {seed}) of {len(rows)} of {len(eligible)} products with sales on >= 20 days"
    )
    if with_prices and panel.period_ends:
        sold = frame[(frame["Quantity"] > 0) & (frame["UnitPrice"] > 0)]
        sold = sold.assign(revenue=sold["Quantity"] * sold["UnitPrice"])
        panel.prices = _daily_average_prices(sold, "StockCode", "Quantity", panel)
        panel.prices_known_ahead = False  # a day's average price says who bought that day: not a plan
        panel.notes.append("average unit price of each day's sales, known up to the forecast's origin")
    return panel


def _daily_average_prices(frame: pd.DataFrame, series_col: str, units_col: str, panel: SalesPanel) -> np.ndarray:
    """Each series' revenue / units of each day (``frame`` has ``day`` and ``revenue``) on the panel's rows and
    days; NaN on days without a sale."""
    assert panel.period_ends is not None
    totals = frame.groupby([series_col, "day"])[[units_col, "revenue"]].sum()
    price = (totals["revenue"] / totals[units_col].where(totals[units_col] > 0)).unstack("day")
    days = [d.isoformat() for d in panel.period_ends]
    return price.reindex(index=panel.series_ids, columns=days).to_numpy(float)


def load_sample_store(with_prices: bool = True) -> SalesPanel:
    """The sample store's daily units per product; with each product's selling price on the days it sold (its
    sale price in the summer and winter sales), known in advance as the merchant plans it."""
    from luxebrain_dev.sample_store import generate_sample_store

    store = generate_sample_store(as_of=datetime(2026, 11, 1, tzinfo=UTC))
    rows = []
    for order in store.orders:
        if order["status"] not in ("processing", "completed"):
            continue
        day = order["date_created_gmt"][:10]
        for line in order["line_items"]:
            rows.append((str(line["product_id"]), day, float(line["quantity"]), float(line["total"])))
    frame = pd.DataFrame(rows, columns=["product_id", "day", "units", "revenue"])
    panel = panel_from_frame(frame, "product_id", "day", "units", freq="D")
    if with_prices and panel.period_ends:
        panel.prices = _daily_average_prices(frame, "product_id", "units", panel)
        panel.notes.append("selling prices (sale prices in the sales) known in advance")
    return panel


def _scanner_panel(
    units: np.ndarray, prices: np.ndarray, promotions: np.ndarray, ids: list[str], what: str
) -> SalesPanel:
    panel = SalesPanel(ids, units.astype(float), "W", None, [f"{what}: price and promotion known in advance"])
    panel.prices, panel.promotions = prices.astype(float), promotions.astype(float)
    return panel


def load_cheese() -> SalesPanel:
    """bayesm's sliced cheese: weekly volume of one brand in 88 retailer-markets, with its price and display
    share (rows in time order within a retailer; no calendar). Retailers are cut to the shortest history."""
    frame = pd.read_csv(DATA / "bayesm-cheese-tuna" / "cheese.csv.gz")
    groups = [group for _, group in frame.groupby("RETAILER", sort=True)]
    weeks = min(len(group) for group in groups)
    pick = [group.iloc[-weeks:] for group in groups]

    def stack(column: str) -> np.ndarray:
        return np.stack([group[column].to_numpy(float) for group in pick])

    ids = [str(group["RETAILER"].iloc[0]) for group in pick]
    return _scanner_panel(stack("VOLUME"), stack("PRICE"), stack("DISP"), ids, f"cheese, last {weeks} weeks each")


def load_tuna() -> SalesPanel:
    """bayesm's canned tuna at Dominick's: weekly units of 7 brands, with each one's price and sale/display
    share (no calendar)."""
    frame = pd.read_csv(DATA / "bayesm-cheese-tuna" / "tuna.csv.gz").sort_values("WEEK")
    brands = range(1, 8)
    units = np.stack([frame[f"MOVE{b}"].to_numpy(float) for b in brands])
    prices = np.stack([np.exp(frame[f"LPRICE{b}"].to_numpy(float)) for b in brands])
    promotions = np.stack([frame[f"NSALE{b}"].to_numpy(float) for b in brands])
    return _scanner_panel(units, prices, promotions, [f"brand {b}" for b in brands], "tuna")


# --------------------------------------------------------------------------------------------------------
# statsforecast baselines (benchmark only)
# --------------------------------------------------------------------------------------------------------


def _long_frame(panel: SalesPanel) -> pd.DataFrame:
    n, t_len = panel.values.shape
    ids = np.repeat(np.arange(n), t_len)
    ds = np.tile(np.arange(t_len), n)
    y = panel.values.ravel()
    keep = ~np.isnan(y)
    return pd.DataFrame({"unique_id": ids[keep], "ds": ds[keep], "y": y[keep]})


STATSFORECAST_WITH_INTERVALS = ("AutoETS", "AutoTheta", "AutoARIMA", "MSTL", "SeasonalNaive")
STATSFORECAST_INTERMITTENT = ("CrostonOptimized", "TSB", "ADIDA")


def _season(panel: SalesPanel) -> int:
    return 7 if panel.freq == "D" else 52


def _statsforecast_model(kind: str, panel: SalesPanel) -> Any:
    from statsforecast.models import (
        ADIDA,
        MSTL,
        TSB,
        AutoARIMA,
        AutoETS,
        AutoTheta,
        CrostonOptimized,
        SeasonalNaive,
    )

    season = _season(panel)
    if kind == "MSTL":
        # Every season the history holds twice: weekly and yearly for daily data, yearly for weekly data.
        t_len = panel.values.shape[1]
        seasons = [m for m in ((7, 365) if panel.freq == "D" else (52,)) if t_len >= 2 * m + 1]
        return MSTL(season_length=seasons, trend_forecaster=AutoETS(model="ZZN")) if seasons else None
    return {
        "AutoETS": lambda: AutoETS(season_length=season),
        "AutoTheta": lambda: AutoTheta(season_length=season),
        "AutoARIMA": lambda: AutoARIMA(season_length=season),
        "SeasonalNaive": lambda: SeasonalNaive(season_length=season),
        "CrostonOptimized": CrostonOptimized,
        "TSB": lambda: TSB(alpha_d=0.1, alpha_p=0.1),
        "ADIDA": ADIDA,
    }[kind]()


def statsforecast_method(kind: str) -> Forecaster:
    """One statsforecast model, fitted per series (SeasonalNaive where a series is too short for it)."""
    from statsforecast import StatsForecast
    from statsforecast.models import SeasonalNaive

    def forecast(panel: SalesPanel, horizon: int) -> QuantileForecast:
        model = _statsforecast_model(kind, panel)
        if model is None:
            raise ValueError(f"{kind}: the history holds no full season twice")
        frame = _long_frame(panel)
        with_intervals = kind in STATSFORECAST_WITH_INTERVALS
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = StatsForecast(
                models=[model], freq=1, n_jobs=1, fallback_model=SeasonalNaive(season_length=_season(panel))
            ).forecast(df=frame, h=horizon, level=[80] if with_intervals else None)
        result = result.sort_values(["unique_id", "ds"])
        column = str(model)
        n = panel.values.shape[0]
        point = np.zeros((n, horizon))
        ids = result["unique_id"].to_numpy().astype(int)
        step = result.groupby("unique_id").cumcount().to_numpy()
        point[ids, step] = np.clip(np.nan_to_num(result[column].to_numpy()), 0, None)
        if not with_intervals:
            return _residual_quantiles(np.nan_to_num(panel.values), point, 1)
        low = np.zeros((n, horizon))
        high = np.zeros((n, horizon))
        low[ids, step] = np.clip(np.nan_to_num(result[f"{column}-lo-80"].to_numpy()), 0, None)
        high[ids, step] = np.clip(np.nan_to_num(result[f"{column}-hi-80"].to_numpy()), 0, None)
        return QuantileForecast(np.minimum(low, point), point, np.maximum(high, point))

    return forecast


def mlforecast_lightgbm() -> Forecaster:
    """Nixtla mlforecast with LightGBM: one global model on lags, rolling means and calendar features,
    series standardised locally, recursive multi-step, conformal 80 % intervals per step when the history
    allows two calibration windows (else the residual construction of the other intervals-less baselines)."""
    import lightgbm as lgb
    from mlforecast import MLForecast
    from mlforecast.lag_transforms import RollingMean
    from mlforecast.target_transforms import LocalStandardScaler
    from mlforecast.utils import PredictionIntervals

    def forecast(panel: SalesPanel, horizon: int) -> QuantileForecast:
        daily = panel.freq == "D"
        t_len = panel.values.shape[1]
        lags = [1, 2, 3, 7, 14, 21, 28] if daily else [1, 2, 3, 4, 8, 13]
        if not daily and t_len > 60:
            lags.append(52)
        windows = [7, 28] if daily else [4, 13]
        frame = _long_frame(panel)
        exogenous = _exogenous_frame(panel, horizon)
        if exogenous is not None:
            frame = frame.merge(exogenous, on=["unique_id", "ds"], how="left")
        frame["unique_id"] = frame["unique_id"].astype(str)
        features: list[Any] = []
        if panel.period_ends:
            start = pd.Timestamp(panel.period_ends[0])
            step = pd.Timedelta(days=1 if daily else 7)
            frame["ds"] = start + frame["ds"] * step
            if exogenous is not None:
                exogenous["ds"] = start + exogenous["ds"] * step
            freq = "D" if daily else pd.tseries.frequencies.to_offset(step)
            features = ["dayofweek", "month"] if daily else ["week", "month"]
        else:
            freq = 1
        model = lgb.LGBMRegressor(n_estimators=300, learning_rate=0.05, num_leaves=31, n_jobs=1, verbosity=-1)
        engine = MLForecast(
            models={"lgbm": model},
            freq=freq,
            lags=lags,
            lag_transforms={1: [RollingMean(window_size=w) for w in windows]},
            date_features=features,
            target_transforms=[LocalStandardScaler()],
        )
        # Series too short for the longest lag cannot make a feature row; they get the last value instead.
        counts = frame.groupby("unique_id")["y"].size()
        long_enough = counts.index[counts > max(lags) + 4]
        if len(long_enough) == 0:  # no series can make a feature row: the last value, like a naive forecast
            point = np.repeat(np.nan_to_num(panel.values[:, -1:]), horizon, axis=1)
            return _residual_quantiles(np.nan_to_num(panel.values), point, 1)
        fit_frame = frame[frame["unique_id"].isin(long_enough)]
        shortest = int(counts[long_enough].min())
        intervals = PredictionIntervals(n_windows=2, h=horizon) if shortest > max(lags) + 2 * horizon + 4 else None
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            engine.fit(fit_frame, prediction_intervals=intervals, static_features=[])
            future = None
            if exogenous is not None:
                exogenous["unique_id"] = exogenous["unique_id"].astype(str)
                ahead = exogenous[exogenous["unique_id"].isin(long_enough)]
                future = (
                    ahead[ahead["ds"] > fit_frame["ds"].max()] if panel.period_ends else ahead[ahead["ds"] >= t_len]
                )
            result = engine.predict(horizon, level=[80] if intervals else None, X_df=future)
        n = panel.values.shape[0]
        point = np.repeat(np.nan_to_num(panel.values[:, -1:]), horizon, axis=1)
        low, high = point.copy(), point.copy()
        result = result.sort_values(["unique_id", "ds"])
        ids = result["unique_id"].astype(int).to_numpy()
        step_index = result.groupby("unique_id").cumcount().to_numpy()
        point[ids, step_index] = np.clip(result["lgbm"].to_numpy(), 0, None)
        if intervals is None:
            return _residual_quantiles(np.nan_to_num(panel.values), point, 1)
        low[ids, step_index] = np.clip(result["lgbm-lo-80"].to_numpy(), 0, None)
        high[ids, step_index] = np.clip(result["lgbm-hi-80"].to_numpy(), 0, None)
        rest = np.setdiff1d(np.arange(n), ids)
        fallback = _residual_quantiles(np.nan_to_num(panel.values[rest]), point[rest], 1)
        low[rest], high[rest] = fallback.p10, fallback.p90
        return QuantileForecast(np.minimum(low, point), point, np.maximum(high, point))

    return forecast


def _exogenous_frame(panel: SalesPanel, horizon: int) -> pd.DataFrame | None:
    """The panel's drivers as mlforecast's dynamic exogenous columns over history and horizon (what ours sees):
    log price against the series' median price (carried forward over periods without one) and the promotion
    flag."""
    if panel.prices is None and panel.promotions is None:
        return None
    n, t_len = panel.values.shape
    periods = t_len + horizon
    columns: dict[str, np.ndarray] = {}
    if panel.prices is not None:
        window = driver_window(panel.prices, t_len, horizon, known_ahead=panel.prices_known_ahead)
        filled = pd.DataFrame(window).ffill(axis=1).bfill(axis=1).to_numpy()
        with np.errstate(invalid="ignore", divide="ignore"):
            relative = np.log(filled / np.nanmedian(filled[:, :t_len], axis=1, keepdims=True))
        columns["log_relative_price"] = np.nan_to_num(relative)
    if panel.promotions is not None:
        columns["promotion"] = np.nan_to_num(driver_window(panel.promotions, t_len, horizon))
    frame = pd.DataFrame({"unique_id": np.repeat(np.arange(n), periods), "ds": np.tile(np.arange(periods), n)})
    for name, values in columns.items():
        frame[name] = values.ravel()
    return frame


PEERS = (
    "AutoETS",
    "AutoTheta",
    "AutoARIMA",
    "MSTL",
    "SeasonalNaive",
    "CrostonOptimized",
    "TSB",
    "ADIDA",
    "mlforecast_lgbm",
)


def _without_drivers(forecaster: Forecaster) -> Forecaster:
    """The same method blind to prices and promotions, to measure what they bring."""

    def forecast(panel: SalesPanel, horizon: int) -> QuantileForecast:
        return forecaster(dataclasses.replace(panel, prices=None, promotions=None), horizon)

    return forecast


def all_methods(skip: tuple[str, ...] = (), with_drivers: bool = False) -> dict[str, Forecaster]:
    ours = builtin_methods()
    methods: dict[str, Forecaster] = {"luxebrain": ours["luxebrain"]}
    if with_drivers:
        methods[OURS_WITHOUT_DRIVERS] = _without_drivers(ours["luxebrain"])
    for name in PEERS:
        if name in skip:
            continue
        methods[name] = mlforecast_lightgbm() if name == "mlforecast_lgbm" else statsforecast_method(name)
        if name == "mlforecast_lgbm" and with_drivers:
            methods["mlforecast_lgbm_no_drivers"] = _without_drivers(methods[name])
    methods["moving_avg_trend"] = ours["moving_avg_trend"]
    return methods


# --------------------------------------------------------------------------------------------------------
# Speed and memory on 5,000 products x 2 years of daily history
# --------------------------------------------------------------------------------------------------------


def synthetic_daily(n_products: int, days: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(days)
    level = rng.lognormal(-1.0, 1.2, n_products)  # mostly slow sellers, a few fast ones
    weekly = 1 + 0.3 * np.sin(2 * np.pi * (t[None, :] + rng.integers(0, 7, (n_products, 1))) / 7)
    yearly = 1 + 0.4 * np.sin(2 * np.pi * t[None, :] / 365.25 + rng.uniform(0, 6.3, (n_products, 1)))
    trend = 1 + rng.normal(0, 0.3, (n_products, 1)) * t[None, :] / days
    mean = level[:, None] * weekly * yearly * np.clip(trend, 0.2, None)
    dispersion = 2.0
    demand = rng.negative_binomial(dispersion, dispersion / (dispersion + mean)).astype(float)
    launch = rng.integers(0, days // 2, n_products) * (rng.random(n_products) < 0.3)  # 30 % launched later
    demand[t[None, :] < launch[:, None]] = np.nan
    return demand


def _speed_child(n_products: int, days: int, queue: Any) -> None:
    daily = synthetic_daily(n_products, days)
    started, cpu_started = time.perf_counter(), time.process_time()
    result = forecast_daily_panel(daily, 91, params=ForecastParams())
    seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu_started
    assert not np.isnan(result.daily_p50).any()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    queue.put({"seconds": seconds, "cpu_seconds": cpu_seconds, "peak_rss_mb": peak_mb})


def speed_test(n_products: int, days: int, ets_sample: int) -> dict[str, Any]:
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    process = context.Process(target=_speed_child, args=(n_products, days, queue))
    process.start()
    ours = queue.get()
    process.join()
    daily = synthetic_daily(n_products, days)
    rows = np.sort(np.random.default_rng(1).choice(n_products, min(ets_sample, n_products), replace=False))
    sample = SalesPanel([str(i) for i in rows], daily[rows], "D")
    ets = statsforecast_method("AutoETS")
    ets(SalesPanel(["0"], daily[:1, -60:], "D"), 7)  # compile numba code outside the timing
    started, cpu_started = time.perf_counter(), time.process_time()
    ets(sample, 91)
    ets_seconds = (time.perf_counter() - started) * n_products / len(rows)
    ets_cpu_seconds = (time.process_time() - cpu_started) * n_products / len(rows)
    return {
        "products": n_products,
        "days": days,
        "luxebrain_seconds": ours["seconds"],
        "luxebrain_cpu_seconds": ours["cpu_seconds"],
        "autoets_cpu_seconds_extrapolated": ets_cpu_seconds,
        "luxebrain_peak_rss_mb": ours["peak_rss_mb"],
        "autoets_seconds_extrapolated": ets_seconds,
        "autoets_sample": len(rows),
    }


# --------------------------------------------------------------------------------------------------------
# Plot
# --------------------------------------------------------------------------------------------------------


def plot(results: dict[str, BacktestResult], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(results)
    fig, axes = plt.subplots(len(names), 3, figsize=(15, 3.2 * len(names)), squeeze=False)
    for row, name in enumerate(names):
        result = results[name]
        panel = result.panel
        cutoff = result.cutoffs[-1]
        volume = np.nansum(panel.values, axis=1)
        picks = np.argsort(-volume)[[0, len(volume) // 4, len(volume) // 2]]
        for col, series in enumerate(picks):
            ax = axes[row][col]
            start = max(0, cutoff - 3 * result.horizon)
            x_hist = np.arange(start, cutoff + result.horizon)
            ax.plot(x_hist, panel.values[series, start : cutoff + result.horizon], color="0.4", lw=1, label="actual")
            x_future = np.arange(cutoff, cutoff + result.horizon)
            for method, color in (("luxebrain", "tab:blue"), (best_peer(result, "1-13w")[0], "tab:orange")):
                if method not in result.methods:
                    continue
                forecast = result.methods[method].forecasts[-1]
                ax.plot(x_future, forecast.p50[series], color=color, lw=1.5, label=f"{method} P50")
                ax.fill_between(x_future, forecast.p10[series], forecast.p90[series], color=color, alpha=0.2)
            ax.axvline(cutoff, color="k", ls=":", lw=0.8)
            ax.set_title(f"{name}: {panel.series_ids[series]}", fontsize=9)
            if row == 0 and col == 0:
                ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


# --------------------------------------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=["walmart", "uci_weekly", "retail_daily", "sample_store"])
    parser.add_argument("--retail-series", type=int, default=200)
    parser.add_argument("--cutoffs", type=int, default=4)
    parser.add_argument("--speed-products", type=int, default=5000)
    parser.add_argument("--speed-days", type=int, default=730)
    parser.add_argument("--ets-sample", type=int, default=100)
    parser.add_argument("--skip-speed", action="store_true")
    parser.add_argument("--skip", nargs="*", default=[], choices=PEERS, help="peers not to run (e.g. AutoARIMA)")
    parser.add_argument("--smoke", action="store_true", help="tiny run: few series, 2 cut-offs, small speed test")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    if args.smoke:
        args.retail_series, args.cutoffs = 30, 2
        args.speed_products, args.speed_days, args.ets_sample = 50, 120, 10
    args.out.mkdir(parents=True, exist_ok=True)
    loaders = {
        "walmart": load_walmart,
        "walmart_no_holidays": lambda: load_walmart(with_holidays=False),
        "uci_weekly": load_uci_weekly,
        "retail_daily": lambda: load_retail_daily(args.retail_series),
        "retail_daily_no_prices": lambda: load_retail_daily(args.retail_series, with_prices=False),
        "sample_store": load_sample_store,
        "sample_store_no_prices": lambda: load_sample_store(with_prices=False),
        "cheese": load_cheese,
        "tuna": load_tuna,
    }
    unknown = [name for name in args.datasets if name not in loaders]
    if unknown:
        parser.error(f"unknown data set(s) {unknown}; choose from {list(loaders)}")
    results: dict[str, BacktestResult] = {}
    report: dict[str, Any] = {"run_at": datetime.now(UTC).isoformat(), "datasets": {}}
    for name in args.datasets:
        panel = loaders[name]()
        if args.smoke and len(panel.series_ids) > 30:
            panel = panel.subset(np.arange(30))
        started = time.perf_counter()
        skip = tuple(args.skip)
        # MSTL needs a full season twice before the first cut-off (52 weeks / 7 days).
        horizon = 13 * (7 if panel.freq == "D" else 1)
        first_cutoff = panel.values.shape[1] - horizon - 4 * (7 if panel.freq == "D" else 1) * (args.cutoffs - 1)
        if first_cutoff < 2 * (7 if panel.freq == "D" else 52) + 1:
            skip += ("MSTL",)
            panel.notes.append(f"MSTL not run: {first_cutoff} periods before the first cut-off hold no season twice")
        drivers = panel.prices is not None or panel.promotions is not None
        result = rolling_origin_backtest(panel, all_methods(skip, with_drivers=drivers), n_cutoffs=args.cutoffs)
        results[name] = result
        title = (
            f"\n{name}: {result.series} series, freq {panel.freq}, cut-offs {result.cutoffs} "
            f"({time.perf_counter() - started:.0f} s)"
        )
        print(format_table(result, best_peer(result, "1-13w")[0], title))
        for note in result.notes:
            print(f"  note: {note}")
        report["datasets"][name] = result.to_json()
        sys.stdout.flush()
    print()
    print(goals_table(results))
    if not args.skip_speed:
        speed = speed_test(args.speed_products, args.speed_days, args.ets_sample)
        report["speed"] = speed
        wall_ratio = speed["luxebrain_seconds"] / max(speed["autoets_seconds_extrapolated"], 1e-9)
        cpu_ratio = speed["luxebrain_cpu_seconds"] / max(speed["autoets_cpu_seconds_extrapolated"], 1e-9)
        print(
            f"\nspeed: {speed['products']} products x {speed['days']} days, 91-day forecast:\n"
            f"  luxebrain: wall {speed['luxebrain_seconds']:.1f} s, CPU {speed['luxebrain_cpu_seconds']:.1f} s, "
            f"peak RSS {speed['luxebrain_peak_rss_mb']:.0f} MB (goal < 60 s, < 2048 MB)\n"
            f"  AutoETS (timed on {speed['autoets_sample']} series, scaled to all): wall "
            f"{speed['autoets_seconds_extrapolated']:.0f} s, CPU {speed['autoets_cpu_seconds_extrapolated']:.0f} s\n"
            f"  luxebrain / AutoETS: wall {wall_ratio:.2f}, CPU {cpu_ratio:.2f} (goal <= 1)"
        )
    if results:
        plot(results, args.out / "forecast.png")
    (args.out / "forecast.json").write_text(json.dumps(report, indent=2, default=float))
    print(f"\nwrote {args.out / 'forecast.json'} and {args.out / 'forecast.png'}")
    return 0


def best_peer(result: BacktestResult, window: str) -> tuple[str, float]:
    """The peer (any method but ours, with or without its drivers) with the lowest WAPE in ``window``."""
    peers = {
        name: r.metrics[window]["wape"]
        for name, r in result.methods.items()
        if name not in ("luxebrain", OURS_WITHOUT_DRIVERS)
    }
    name = min(peers, key=lambda k: peers[k])
    return name, peers[name]


def goals_table(results: dict[str, BacktestResult]) -> str:
    lines = [
        "goals (luxebrain): WAPE <= 0.95 x the best peer at 1-4 and 1-13 weeks, MASE < 1, P10-P90 coverage "
        "75-85 % at the first and the last step, band widening with the horizon",
        f"  {'data set':<14} {'window':<6} {'best peer':<18} {'peer WAPE':>9} {'ours':>7} {'ratio':>6} {'MASE':>5}"
        f" {'cov 1st':>7} {'cov last':>8} {'width 1st':>9} {'last':>6}  verdict",
    ]
    for name, result in results.items():
        for window in result.windows:
            ours = result.methods["luxebrain"].metrics[window]
            peer, peer_wape = best_peer(result, window)
            ratio = ours["wape"] / max(peer_wape, 1e-12)
            verdict = [
                "WAPE ok" if ratio <= 0.95 else "WAPE MISSED",
                "MASE ok" if ours["mase"] < 1 else "MASE MISSED",
                "coverage ok"
                if all(0.75 <= ours[k] <= 0.85 for k in ("coverage_first", "coverage_last"))
                else "coverage MISSED",
                "widens" if ours["width_last"] >= ours["width_first"] else "NARROWS",
            ]
            lines.append(
                f"  {name:<14} {window:<6} {peer:<18} {peer_wape:>9.3f} {ours['wape']:>7.3f} {ratio:>6.2f}"
                f" {ours['mase']:>5.2f} {ours['coverage_first']:>7.1%} {ours['coverage_last']:>8.1%}"
                f" {ours['width_first']:>9.2f} {ours['width_last']:>6.2f}  " + ", ".join(verdict)
            )
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())

"""Demand-forecast benchmark: our model against statsforecast and simple baselines on real sales.

Run: ``.venv/bin/python -m benchmarks.forecast [--datasets walmart uci_weekly retail_daily sample_store]
[--retail-series 300] [--cutoffs 4] [--speed-products 5000] [--skip-speed] [--smoke]``

Data (read-only, /work/shared/data): Walmart weekly sales of 45 stores; UCI weekly sales of 811 products (no
calendar); daily unit sales per product built from UCI Online Retail (net of returns per day, clipped at 0;
only StockCodes that start with a digit, i.e. real products, with sales on at least 20 days; a random sample,
seed 0, of ``--retail-series`` (200) of them because AutoETS costs ~50-100 ms per series and fit); and the sample
store's daily sales per product. Every method forecasts from the same 4 cut-offs (4 weeks apart, the last one
13 weeks before the end) and is scored on weeks 1-4 and 1-13. Ratios are to statsforecast AutoETS in the same run.
CrostonOptimized and TSB give no intervals: theirs come from the empirical quantiles of one-step changes
(the same construction as the seed's moving average and seasonal naive).

Speed: 5,000 synthetic products x 730 days (negative-binomial demand with weekly and yearly seasonality and
trend; no real data set has that many daily series), fitted and forecast 91 days ahead by ``forecast_daily_panel``
in a fresh process (wall time and peak RSS of that process). AutoETS on the same series is timed on a random
sample and scaled linearly to 5,000 (statsforecast fits series independently, so its time is linear).

Outputs: benchmarks/out/forecast.json, benchmarks/out/forecast.png.
"""

from __future__ import annotations

import argparse
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

from luxebrain.ml.forecast import ForecastParams, forecast_daily_panel
from luxebrain.ml.forecast_harness import (
    BacktestResult,
    Forecaster,
    QuantileForecast,
    SalesPanel,
    _residual_quantiles,
    builtin_methods,
    format_table,
    panel_from_frame,
    rolling_origin_backtest,
)

DATA = Path("/work/shared/data")
OUT = Path(__file__).resolve().parent / "out"


# --------------------------------------------------------------------------------------------------------
# Data sets
# --------------------------------------------------------------------------------------------------------


def load_walmart() -> SalesPanel:
    frame = pd.read_csv(DATA / "walmart-store-sales" / "walmart_store_sales.csv.gz")
    return panel_from_frame(frame, "Store", "Date", "Weekly_Sales", freq="W", time_format="%d-%m-%Y")


def load_uci_weekly() -> SalesPanel:
    frame = pd.read_csv(DATA / "uci-sales-transactions-weekly" / "sales_transactions_weekly.csv.gz")
    weeks = [f"W{k}" for k in range(52)]
    long = frame.melt(id_vars="Product_Code", value_vars=weeks, var_name="week", value_name="units")
    long["week"] = long["week"].str[1:].astype(int)  # no calendar dates in this data set
    return panel_from_frame(long, "Product_Code", "week", "units", freq="W")


def load_retail_daily(n_series: int, seed: int = 0) -> SalesPanel:
    frame = pd.read_csv(
        DATA / "uci-online-retail" / "online_retail.csv.gz",
        usecols=["StockCode", "Quantity", "InvoiceDate"],
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
    return panel


def load_sample_store() -> SalesPanel:
    from luxebrain_dev.sample_store import generate_sample_store

    store = generate_sample_store(as_of=datetime(2026, 11, 1, tzinfo=UTC))
    rows = []
    for order in store.orders:
        if order["status"] not in ("processing", "completed"):
            continue
        day = order["date_created_gmt"][:10]
        for line in order["line_items"]:
            rows.append((str(line["product_id"]), day, float(line["quantity"])))
    frame = pd.DataFrame(rows, columns=["product_id", "day", "units"])
    return panel_from_frame(frame, "product_id", "day", "units", freq="D")


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


def statsforecast_method(kind: str) -> Forecaster:
    from statsforecast import StatsForecast
    from statsforecast.models import TSB, AutoETS, CrostonOptimized

    def forecast(panel: SalesPanel, horizon: int) -> QuantileForecast:
        season = 7 if panel.freq == "D" else 52
        model = {
            "AutoETS": lambda: AutoETS(season_length=season),
            "CrostonOptimized": CrostonOptimized,
            "TSB": lambda: TSB(alpha_d=0.1, alpha_p=0.1),
        }[kind]()
        frame = _long_frame(panel)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = StatsForecast(models=[model], freq=1, n_jobs=1).forecast(
                df=frame, h=horizon, level=[80] if kind == "AutoETS" else None
            )
        result = result.sort_values(["unique_id", "ds"])
        n = panel.values.shape[0]
        point = np.zeros((n, horizon))
        ids = result["unique_id"].to_numpy().astype(int)
        step = result.groupby("unique_id").cumcount().to_numpy()
        point[ids, step] = np.clip(np.nan_to_num(result[kind].to_numpy()), 0, None)
        if kind != "AutoETS":
            return _residual_quantiles(np.nan_to_num(panel.values), point, 1)
        low = np.zeros((n, horizon))
        high = np.zeros((n, horizon))
        low[ids, step] = np.clip(np.nan_to_num(result[f"{kind}-lo-80"].to_numpy()), 0, None)
        high[ids, step] = np.clip(np.nan_to_num(result[f"{kind}-hi-80"].to_numpy()), 0, None)
        return QuantileForecast(np.minimum(low, point), point, np.maximum(high, point))

    return forecast


def all_methods() -> dict[str, Forecaster]:
    ours = builtin_methods()
    return {
        "luxebrain": ours["luxebrain"],
        "AutoETS": statsforecast_method("AutoETS"),
        "CrostonOptimized": statsforecast_method("CrostonOptimized"),
        "TSB": statsforecast_method("TSB"),
        "seasonal_naive": ours["seasonal_naive"],
        "moving_avg_trend": ours["moving_avg_trend"],
    }


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
            for method, color in (("luxebrain", "tab:blue"), ("AutoETS", "tab:orange")):
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
    parser.add_argument("--smoke", action="store_true", help="tiny run: few series, 2 cut-offs, small speed test")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    if args.smoke:
        args.retail_series, args.cutoffs = 30, 2
        args.speed_products, args.speed_days, args.ets_sample = 50, 120, 10
    args.out.mkdir(parents=True, exist_ok=True)
    loaders = {
        "walmart": load_walmart,
        "uci_weekly": load_uci_weekly,
        "retail_daily": lambda: load_retail_daily(args.retail_series),
        "sample_store": load_sample_store,
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
        result = rolling_origin_backtest(panel, all_methods(), n_cutoffs=args.cutoffs)
        results[name] = result
        title = (
            f"\n{name}: {result.series} series, freq {panel.freq}, cut-offs {result.cutoffs} "
            f"({time.perf_counter() - started:.0f} s)"
        )
        print(format_table(result, "AutoETS", title))
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


def goals_table(results: dict[str, BacktestResult]) -> str:
    lines = ["goals at weeks 1-4 (luxebrain): WAPE/AutoETS <= 0.90, MASE < 1, P10-P90 coverage 75-85 %"]
    for name, result in results.items():
        ours = result.methods["luxebrain"].metrics["1-4w"]
        ets = result.methods["AutoETS"].metrics["1-4w"]
        ratio = ours["wape"] / max(ets["wape"], 1e-12)
        verdict = [
            "WAPE ok" if ratio <= 0.9 else "WAPE MISSED",
            "MASE ok" if ours["mase"] < 1 else "MASE MISSED",
            "coverage ok" if 0.75 <= ours["coverage"] <= 0.85 else "coverage MISSED",
        ]
        lines.append(
            f"  {name:<14} WAPE ratio {ratio:.2f}  MASE {ours['mase']:.2f}  coverage {ours['coverage']:.1%}  "
            + ", ".join(verdict)
        )
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())

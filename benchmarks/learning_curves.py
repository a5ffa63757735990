"""Learning curves: each model against its simplest baseline on a store's first 50, 200, 1,000 and 5,000 orders.

Run: ``nice -n 10 .venv/bin/python -m benchmarks.learning_curves [--sizes 50 200 1000 5000]
[--datasets online-retail sample-store cdnow] [--kinds customers recommend forecast]``

A young store is simulated by the start of a real order history: its first N orders are all it has, and the
13 weeks after the day of the N-th are the hold-out. For each size, each kind is trained exactly as the
training worker trains it (its own internal hold-out decides, through ``luxebrain.ml.kinds``, whether the
version serves the model or the kind's baseline), and then scored on the real 13 weeks that follow, beside
its simplest baseline:

- customers (Online Retail, CDNOW full cohort, sample store): top-decile lift of "who buys again" of the
  purchase model, of the hybrid ranker, of the R + F + M sum and of what the version serves (the ranker its
  own hold-out chose, or the RFM sum), and the P10-P90 coverage of the 13-week value interval (goal 75-85 %);
- recommend (Online Retail, sample store): NDCG@10 on the next 13 weeks' purchases of the customers seen
  in training (all items), of the model, of all-time popularity (the baseline) and of re-buy, and of what the
  version serves;
- forecast (Online Retail daily, sample store daily): WAPE of weeks 1-4 and 1-13 of ours and of seasonal
  naive (the baseline), on products sold in training, and the P10-P90 coverage of ours over all 91 days and
  on the first and the last day. "served" is the forecaster with the kind's model-or-baseline judge on its
  own backtest, as training runs it.

Pricing's hold-out needs price moves in a store's orders, and no data set has orders and price moves beyond the
pricing benchmark's simulator, so it has no learning curve here; Walmart, UCI weekly and cheese / tuna hold no
orders.

Data: Online Retail (customers with an id; cancellations, non-positive lines and postage / fee codes left out),
the CDNOW full cohort (one line per purchase), the development sample store (paid orders, guests keyed by
e-mail as ingest keys them). Outputs: benchmarks/out/learning_curves.json and learning_curves.png.
"""

from __future__ import annotations

import argparse
import json
import time
import warnings
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from benchmarks.customers import DATA
from benchmarks.customers import load_dataset as load_customer_transactions
from benchmarks.recommend import NON_PRODUCT_CODES, load_sample_store
from luxebrain.ml.customers.evaluation import (
    HYBRID_RANKER,
    PURCHASE_MODEL_RANKER,
    HoldoutSkipped,
    evaluate_holdout,
)
from luxebrain.ml.customers.model import DAY_NS, order_totals
from luxebrain.ml.customers.train import fit_models, train_customer_model
from luxebrain.ml.forecast.evaluation import (
    HarnessInputError,
    QuantileForecast,
    SalesPanel,
    rolling_origin_backtest,
    seasonal_naive,
)
from luxebrain.ml.forecast.train import forecast_daily_panel, luxebrain_forecaster
from luxebrain.ml.kinds import BASELINE, kind_verdict
from luxebrain.ml.recommend.evaluation import (
    RANKING_LENGTH,
    SplitError,
    evaluate_rankings,
    popularity_ranker,
    repeat_ranker,
    temporal_split,
)
from luxebrain.ml.recommend.train import rank_customers, train_recommender

OUT = Path(__file__).resolve().parent / "out"
SIZES = (50, 200, 1_000, 5_000)
HOLDOUT_DAYS = 91
KINDS_BY_DATASET = {
    "online-retail": ("customers", "recommend", "forecast"),
    "sample-store": ("customers", "recommend", "forecast"),
    "cdnow": ("customers",),
}


# ------------------------------------------------------------------------------------------------ data


def online_retail_lines() -> pd.DataFrame:
    raw = pd.read_csv(DATA / "uci-online-retail" / "online_retail.csv.gz", dtype={"InvoiceNo": str, "StockCode": str})
    raw = raw[raw["CustomerID"].notna() & ~raw["InvoiceNo"].str.startswith("C")]
    raw = raw[(raw["Quantity"] > 0) & (raw["UnitPrice"] > 0) & ~raw["StockCode"].isin(NON_PRODUCT_CODES)]
    lines = pd.DataFrame(
        {
            "order_id": raw["InvoiceNo"].to_numpy(),
            "customer_id": raw["CustomerID"].astype("int64").astype(str).to_numpy(),
            "product_id": raw["StockCode"].astype(str).to_numpy(),
            "ordered_at": pd.to_datetime(raw["InvoiceDate"], utc=True).to_numpy(),
            "quantity": raw["Quantity"].astype(float).to_numpy(),
            "unit_price": raw["UnitPrice"].astype(float).to_numpy(),
        }
    )
    lines["ordered_at"] = pd.to_datetime(lines["ordered_at"], utc=True)
    # An invoice's lines share its first line's time (a few invoices straddle a minute).
    lines["ordered_at"] = lines.groupby("order_id")["ordered_at"].transform("min")
    lines["line_total"] = lines["quantity"] * lines["unit_price"]
    return lines


def cdnow_lines() -> pd.DataFrame:
    """The CDNOW cohort's purchases as one order line each (the data set has no products)."""
    transactions, _, _ = load_customer_transactions("cdnow-master")
    amount = transactions["amount"].astype(float).to_numpy()
    return pd.DataFrame(
        {
            "order_id": [f"cdnow-{i}" for i in range(len(transactions))],
            "customer_id": transactions["customer_id"].astype(str).to_numpy(),
            "product_id": "cd",
            "ordered_at": pd.to_datetime(transactions["ordered_at"], utc=True).to_numpy(),
            "quantity": 1.0,
            "unit_price": amount,
            "line_total": amount,
        }
    ).assign(ordered_at=lambda frame: pd.to_datetime(frame["ordered_at"], utc=True))


LOADERS: dict[str, Callable[[], pd.DataFrame]] = {
    "online-retail": online_retail_lines,
    "sample-store": lambda: load_sample_store(amounts=True),
    "cdnow": cdnow_lines,
}


def first_orders(lines: pd.DataFrame, size: int) -> tuple[pd.DataFrame, pd.DataFrame, int] | None:
    """(the first ``size`` orders' lines, the lines of the 13 weeks after the day of the last of them, that day),
    or None when the data holds fewer orders or less than 13 weeks after them. Later orders of that same day
    are in neither (they are not yet history, and the hold-out starts the next day)."""
    order_times = lines.groupby("order_id")["ordered_at"].min().sort_values(kind="stable")
    if len(order_times) < size:
        return None
    day = lines["ordered_at"].to_numpy(dtype="datetime64[ns]").astype(np.int64) // DAY_NS
    cut_day = int(order_times.iloc[size - 1].value // DAY_NS)
    if int(day.max()) < cut_day + HOLDOUT_DAYS:
        return None
    train = lines[lines["order_id"].isin(order_times.index[:size])]
    test = lines[(day > cut_day) & (day <= cut_day + HOLDOUT_DAYS)]
    return train, test, cut_day


def midnight_after(day: int) -> datetime:
    return pd.Timestamp((day + 1) * DAY_NS, tz="UTC").to_pydatetime()


# ------------------------------------------------------------------------------------------------ kinds


def customers_point(train: pd.DataFrame, test: pd.DataFrame, cut_day: int) -> dict[str, Any]:
    artifact = train_customer_model(train, as_of=midnight_after(cut_day))
    verdict = kind_verdict("customers", artifact.metrics)
    internal = artifact.metrics.get("holdout", {})
    ranker = internal.get("ranker", PURCHASE_MODEL_RANKER)
    point: dict[str, Any] = {
        "model": artifact.params["model"],
        "serves": "rfm_heuristic" if verdict.serves == BASELINE else ranker,
        "internal_holdout": internal.get("skipped") or "scored",
    }
    transactions = order_totals(pd.concat([train, test]))
    try:
        evaluation = evaluate_holdout(
            transactions, calibration_end_day=cut_day, holdout_end_day=cut_day + HOLDOUT_DAYS, fit=fit_models
        )
    except HoldoutSkipped as exc:
        return point | {"skipped": str(exc)}
    metrics = evaluation.metrics
    lift, rfm_lift, hybrid_lift = (
        metrics["top_decile_lift"],
        metrics["top_decile_lift_rfm_heuristic"],
        metrics["top_decile_lift_hybrid"],
    )
    served = {"rfm_heuristic": rfm_lift, HYBRID_RANKER: hybrid_lift}.get(point["serves"], lift)
    return point | {
        "customers": metrics["customers"],
        "holdout_buyers": metrics["holdout_buyers"],
        "lift_model": lift,
        "lift_hybrid": hybrid_lift,
        "hybrid_skipped": metrics.get("hybrid_skipped"),
        "lift_rfm": rfm_lift,
        "lift_served": served,
        "value_interval_coverage": metrics["value_interval_coverage"],
        "value_predicted_over_actual": metrics["predicted_holdout_value"] / max(metrics["actual_holdout_value"], 1e-9),
    }


def recommend_point(train: pd.DataFrame, test: pd.DataFrame, cut_day: int) -> dict[str, Any]:
    as_of = midnight_after(cut_day)
    artifact = train_recommender(train, now=as_of)
    verdict = kind_verdict("recommend", artifact.metrics)
    internal = artifact.metrics.get("holdout", {})
    point: dict[str, Any] = {
        "serves": verdict.serves,
        "internal_holdout": internal.get("holdout_skipped") or "scored",
    }
    try:
        task = temporal_split(pd.concat([train, test]), cutoff=pd.Timestamp(as_of), protocol="all_items")
    except SplitError as exc:
        return point | {"skipped": str(exc)}
    scores: dict[str, float] = {}
    for serves, label in (("model", "model"), (verdict.serves, "served")):
        artifact.extra["serves"] = serves
        scores[label] = evaluate_rankings(task, rank_customers(artifact, task.customers, RANKING_LENGTH)).overall[
            "ndcg@10"
        ]
    scores["popularity"] = evaluate_rankings(task, popularity_ranker(task)).overall["ndcg@10"]
    scores["rebuy"] = evaluate_rankings(task, repeat_ranker(task)).overall["ndcg@10"]
    return point | {"test_customers": len(task.customers)} | {f"ndcg_{k}": v for k, v in scores.items()}


def daily_panel(train: pd.DataFrame, test: pd.DataFrame, cut_day: int) -> tuple[SalesPanel, int]:
    """Daily units of every product sold in training, from the first training day to the hold-out's end."""
    first_day = int(train["ordered_at"].min().value // DAY_NS)
    days = cut_day + HOLDOUT_DAYS - first_day + 1
    products = np.sort(train["product_id"].unique())
    position = {p: i for i, p in enumerate(products)}
    both = pd.concat([train, test])
    both = both[both["product_id"].isin(position)]
    row = both["product_id"].map(position).to_numpy(dtype=np.int64)
    column = both["ordered_at"].to_numpy(dtype="datetime64[ns]").astype(np.int64) // DAY_NS - first_day
    values = np.zeros((len(products), days))
    np.add.at(values, (row, column), both["quantity"].to_numpy(dtype=float))
    first_sale = np.full(len(products), days)
    np.minimum.at(first_sale, row, column)
    values[np.arange(days)[None, :] < first_sale[:, None]] = np.nan
    ends = [pd.Timestamp((first_day + k) * DAY_NS, tz="UTC").date() for k in range(days)]
    return SalesPanel([str(p) for p in products], values, "D", ends), days - HOLDOUT_DAYS


def served_forecaster(record: dict[str, str]) -> Callable[[SalesPanel, int], QuantileForecast]:
    """Ours with the kind's model-or-baseline judge on its own backtest, as training runs it."""

    def forecast(panel: SalesPanel, horizon: int) -> QuantileForecast:
        result = forecast_daily_panel(
            panel.values,
            horizon,
            last_day=panel.period_ends[-1] if panel.period_ends else None,
            serves_baseline=lambda metrics: kind_verdict("forecast", metrics).serves_baseline,
        )
        record["serves"] = str(result.weekly.selection.get("serves", "model"))
        return QuantileForecast(result.daily_p10, result.daily_p50, result.daily_p90)

    return forecast


def forecast_point(train: pd.DataFrame, test: pd.DataFrame, cut_day: int) -> dict[str, Any]:
    panel, training_days = daily_panel(train, test, cut_day)
    record: dict[str, str] = {}
    methods = {
        "ours": luxebrain_forecaster(),
        "served": served_forecaster(record),
        "seasonal_naive": seasonal_naive,
    }
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = rolling_origin_backtest(
                panel, methods, n_cutoffs=1, windows={"1-4w": 28, "1-13w": HOLDOUT_DAYS}, min_history=1
            )
    except HarnessInputError as exc:
        return {"skipped": str(exc), "training_days": training_days}
    assert result.cutoffs == [training_days]
    point: dict[str, Any] = {"training_days": training_days, "series": result.series, "serves": record["serves"]}
    for name, method in result.methods.items():
        for window, metrics in method.metrics.items():
            point[f"wape_{window}_{name}"] = metrics["wape"]
        if name == "ours":
            point["coverage"] = method.metrics["1-13w"]["coverage"]
            point["coverage_first_day"] = method.metrics["1-13w"]["coverage_first"]
            point["coverage_last_day"] = method.metrics["1-13w"]["coverage_last"]
    return point


POINTS: dict[str, Callable[[pd.DataFrame, pd.DataFrame, int], dict[str, Any]]] = {
    "customers": customers_point,
    "recommend": recommend_point,
    "forecast": forecast_point,
}


# ------------------------------------------------------------------------------------------------ report


def fmt(value: Any, digits: int = 3) -> str:
    return f"{value:.{digits}f}" if isinstance(value, int | float) and np.isfinite(value) else "–"


def ratio(a: Any, b: Any) -> str:
    return f"{a / b:.2f}" if isinstance(a, int | float) and isinstance(b, int | float) and b > 0 else "–"


def table(kind: str, rows: list[dict[str, Any]]) -> str:
    if kind == "customers":
        head = (
            "| data | orders | customers | who-buys-again lift: purchase model / hybrid / RFM | serves "
            "| served / RFM | value P10-P90 coverage | value predicted / actual |\n|---|---|---|---|---|---|---|---|"
        )
        body = [
            f"| {r['dataset']} | {r['orders']:,} | {r.get('customers', '–')} | "
            + (
                f"skipped: {r['skipped']} | {r['serves']} | –"
                if "skipped" in r
                else f"{fmt(r['lift_model'])} / {fmt(r['lift_hybrid'])} / {fmt(r['lift_rfm'])} | {r['serves']} "
                f"| {ratio(r['lift_served'], r['lift_rfm'])}"
            )
            + f" | {fmt(r.get('value_interval_coverage'))}"
            + f" | {fmt(r.get('value_predicted_over_actual'))} |"
            for r in rows
        ]
    elif kind == "recommend":
        head = (
            "| data | orders | test customers | NDCG@10 ours | popularity | re-buy | ours / popularity | serves "
            "| served |\n|---|---|---|---|---|---|---|---|---|"
        )
        body = [
            f"| {r['dataset']} | {r['orders']:,} | "
            + (
                f"skipped: {r['skipped']} | | | | | {r['serves']} | |"
                if "skipped" in r
                else f"{r['test_customers']:,} | {fmt(r['ndcg_model'])} | {fmt(r['ndcg_popularity'])} | "
                f"{fmt(r['ndcg_rebuy'])} | {ratio(r['ndcg_model'], r['ndcg_popularity'])} | {r['serves']} | "
                f"{fmt(r['ndcg_served'])} |"
            )
            for r in rows
        ]
    else:
        head = (
            "| data | orders | days of history | products | WAPE 1-4 w ours / seasonal naive | WAPE 1-13 w ours / "
            "seasonal naive | serves (WAPE 1-13 w served) | P10-P90 coverage, all days (first / last day) |\n"
            "|---|---|---|---|---|---|---|---|"
        )
        body = [
            f"| {r['dataset']} | {r['orders']:,} | {r.get('training_days', '–')} | "
            + (
                f"skipped: {r['skipped']} | | | | |"
                if "skipped" in r
                else f"{r['series']:,} | {fmt(r['wape_1-4w_ours'])} / {fmt(r['wape_1-4w_seasonal_naive'])} "
                f"({ratio(r['wape_1-4w_ours'], r['wape_1-4w_seasonal_naive'])}) | {fmt(r['wape_1-13w_ours'])} / "
                f"{fmt(r['wape_1-13w_seasonal_naive'])} ({ratio(r['wape_1-13w_ours'], r['wape_1-13w_seasonal_naive'])})"
                f" | {r['serves']} ({fmt(r['wape_1-13w_served'])}) | {fmt(r.get('coverage'))} "
                f"({fmt(r['coverage_first_day'])} / {fmt(r['coverage_last_day'])}) |"
            )
            for r in rows
        ]
    return "\n".join([head, *body])


def plot(results: dict[str, list[dict[str, Any]]], path: Path) -> None:
    """One panel per kind: ours / baseline by size (log scale), one line per data set; 1 = no better."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figures = {
        "customers": ("who-buys-again lift, served ranker / RFM", "lift_served", "lift_rfm", True),
        "recommend": ("NDCG@10, ours / popularity", "ndcg_model", "ndcg_popularity", True),
        "forecast": ("WAPE 1-13 w, seasonal naive / ours", "wape_1-13w_seasonal_naive", "wape_1-13w_ours", True),
    }
    # one colour per data set in every panel, so a line is read the same way across kinds
    colours = {dataset: f"C{index}" for index, dataset in enumerate(KINDS_BY_DATASET)}
    kinds = [kind for kind in figures if results.get(kind)]
    fig, axes = plt.subplots(1, len(kinds), figsize=(4.5 * len(kinds), 3.6), squeeze=False)
    for ax, kind in zip(axes[0], kinds, strict=True):
        title, top, bottom, _ = figures[kind]
        for dataset in sorted({r["dataset"] for r in results[kind]}):
            rows = [r for r in results[kind] if r["dataset"] == dataset and top in r and r.get(bottom)]
            if rows:
                ax.plot(
                    [r["orders"] for r in rows],
                    [r[top] / r[bottom] for r in rows],
                    marker="o",
                    label=dataset,
                    color=colours.get(dataset),
                )
        ax.axhline(1.0, color="black", linewidth=0.8, linestyle="--")
        ax.set_xscale("log")
        sizes = sorted({r["orders"] for r in results[kind]})
        ax.set_xticks(sizes, [f"{size:,}" for size in sizes], fontsize=7)
        ax.minorticks_off()
        ax.set_xlabel("orders in the store's history")
        ax.set_title(title + " (> 1: ours better)", fontsize=9)
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES))
    parser.add_argument("--datasets", nargs="+", default=list(KINDS_BY_DATASET), choices=list(KINDS_BY_DATASET))
    parser.add_argument("--kinds", nargs="+", default=list(POINTS), choices=list(POINTS))
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    results: dict[str, list[dict[str, Any]]] = {kind: [] for kind in args.kinds}
    for dataset in args.datasets:
        lines = LOADERS[dataset]()
        for size in args.sizes:
            split = first_orders(lines, size)
            if split is None:
                print(f"{dataset}: fewer than {size} orders with 13 weeks after them; size left out", flush=True)
                continue
            train, test, cut_day = split
            orders = int(train["order_id"].nunique())
            for kind in args.kinds:
                if kind not in KINDS_BY_DATASET[dataset]:
                    continue
                started = time.perf_counter()
                point = POINTS[kind](train, test, cut_day)
                point |= {"dataset": dataset, "orders": orders, "seconds": round(time.perf_counter() - started, 2)}
                results[kind].append(point)
                print(f"{dataset} {kind} {orders} orders: {point}", flush=True)
    for kind, rows in results.items():
        if rows:
            print(f"\n{kind} (hold-out: the {HOLDOUT_DAYS} days after the last training day)")
            print(table(kind, rows))
    (args.out / "learning_curves.json").write_text(json.dumps(results, indent=2, default=str))
    plot(results, args.out / "learning_curves.png")


if __name__ == "__main__":
    main()

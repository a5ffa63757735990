"""``luxebrain evaluate recommend | forecast | customers``: the command-line front ends of the evaluation
harnesses (``luxebrain.ml.<kind>.evaluation``), which themselves know nothing of argparse.

Each command reads the user's own CSV export, runs the kind's hold-out or backtest against its baselines and
prints the table; exit code 0, or 2 with a one-line message on bad input. Imported by the CLI only when the
``evaluate`` command is asked for (the harnesses import pandas).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from luxebrain.ml.artifacts import ModelArtifact
from luxebrain.ml.customers import evaluation as customers_evaluation
from luxebrain.ml.customers.evaluation import evaluate_holdout
from luxebrain.ml.customers.evaluation import load_transactions_csv as load_customer_transactions_csv
from luxebrain.ml.customers.model import DAY_NS, CustomerParams, utc_datetime64_ns
from luxebrain.ml.customers.serving import CustomerModelError
from luxebrain.ml.customers.train import fit_models
from luxebrain.ml.forecast.evaluation import format_table as format_forecast_table
from luxebrain.ml.forecast.evaluation import load_sales_csv, rolling_origin_backtest
from luxebrain.ml.forecast.train import ForecastParams, builtin_methods
from luxebrain.ml.recommend.evaluation import (
    RANKING_LENGTH,
    EvaluationResult,
    EvaluationTask,
    Ranker,
    SplitError,
    TransactionsFileError,
    evaluate_rankings,
    format_table,
    leave_last_basket_splits,
    load_transactions_csv,
    popularity_ranker,
    repeat_ranker,
    temporal_splits,
)
from luxebrain.ml.recommend.train import RecommenderParams, rank_customers, train_recommender


def add_evaluate_parsers(subparsers: argparse._SubParsersAction) -> None:
    """Register the three kinds under ``luxebrain evaluate``."""
    add_recommend_parser(subparsers)
    add_forecast_parser(subparsers)
    add_customers_parser(subparsers)


# ----------------------------------------------------------------------------- recommend


def add_recommend_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register ``evaluate recommend`` on the CLI's ``evaluate`` subparsers."""
    parser = subparsers.add_parser(
        "recommend",
        help="score the recommender against popularity and repeat-purchase baselines on a transactions CSV",
        description="Evaluate recommendations on any transactions CSV (temporal, leave-last-basket splits).",
    )
    parser.add_argument("--transactions", required=True, type=Path, help="CSV file (gzip allowed)")
    parser.add_argument("--user-col", required=True, help="customer id column")
    parser.add_argument("--item-col", required=True, help="product id column")
    parser.add_argument("--time-col", required=True, help="timestamp column")
    parser.add_argument("--quantity-col", default=None, help="quantity column (rows <= 0 are dropped)")
    parser.add_argument("--order-col", default=None, help="order / basket id column (default: user + time)")
    parser.add_argument("--time-format", default=None, help="strptime format of the time column")
    parser.add_argument("--test-fraction", type=float, default=0.1, help="share of lines in the test period")
    parser.set_defaults(run=run_evaluate_recommend)
    return parser


def evaluate_methods(
    lines: pd.DataFrame,
    *,
    test_fraction: float = 0.1,
    extra_rankers: dict[str, Ranker] | None = None,
) -> list[tuple[str, str, list[tuple[str, EvaluationResult]]]]:
    """Score our recommender (EASE or item-kNN) and the simple baselines on both splits and protocols.

    Returns ``[(split, protocol, [(method, result), ...]), ...]``.
    """
    from luxebrain.ml.recommend.train import RecommenderParams

    def model_ranker(params: RecommenderParams) -> Ranker:
        fitted: dict[int, ModelArtifact] = {}  # one fit per training frame, shared by both protocols

        def rank(task: EvaluationTask) -> list[list[str]]:
            key = id(task.train)
            if key not in fitted:
                fitted.clear()
                fitted[key] = _train_quietly(train_recommender, task.train, params)
            return rank_customers(fitted[key], task.customers, RANKING_LENGTH, exclude_seen=task.exclude_seen)

        return rank

    rankers: dict[str, Ranker] = {
        "ours (auto)": model_ranker(RecommenderParams(evaluate_holdout=False)),
        "ours item_knn": model_ranker(RecommenderParams(evaluate_holdout=False, algorithm="item_knn")),
        "popularity": popularity_ranker,
        "repeat own purchases": repeat_ranker,
        **(extra_rankers or {}),
    }
    results = []
    splits = {
        "temporal": temporal_splits(lines, test_fraction=test_fraction),
        "leave_last_basket": leave_last_basket_splits(lines),
    }
    for split_name, tasks in splits.items():
        for protocol, task in tasks.items():
            rows = [(name, evaluate_rankings(task, ranker(task))) for name, ranker in rankers.items()]
            results.append((split_name, protocol, rows))
    return results


def _train_quietly(train: Callable[..., ModelArtifact], lines: pd.DataFrame, params: Any) -> ModelArtifact:
    return train(lines, None, params=params, now=lines["ordered_at"].max().to_pydatetime())


def run_evaluate_recommend(args: argparse.Namespace) -> int:
    """CLI entry: load the CSV, evaluate, print one table per split and protocol. Exit 2 on bad input."""
    try:
        lines = load_transactions_csv(
            args.transactions,
            user_col=args.user_col,
            item_col=args.item_col,
            time_col=args.time_col,
            quantity_col=args.quantity_col,
            order_col=args.order_col,
            time_format=args.time_format,
        )
        print(
            f"{len(lines):,} purchase lines, {lines['customer_id'].nunique():,} customers, "
            f"{lines['product_id'].nunique():,} products, {lines['order_id'].nunique():,} orders"
        )
        results = evaluate_methods(lines, test_fraction=args.test_fraction)
    except (TransactionsFileError, SplitError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for split_name, protocol, rows in results:
        customers = rows[0][1].customers
        print(f"\n{split_name} split, {protocol} protocol ({customers:,} test customers)")
        print(format_table(rows, baseline="popularity"))
    return 0


# ----------------------------------------------------------------------------- forecast


def add_forecast_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register ``evaluate forecast`` on the CLI's ``evaluate`` subparsers."""
    parser = subparsers.add_parser(
        "forecast",
        help="backtest the demand forecaster against seasonal-naive, moving-average and TSB baselines",
        description="Rolling-origin backtest of demand forecasts on any long sales CSV (one row per series and date).",
    )
    parser.add_argument("--sales", required=True, type=Path, help="CSV file (gzip allowed)")
    parser.add_argument("--series-col", required=True, help="product / series id column")
    parser.add_argument("--time-col", required=True, help="date column (or integer period number)")
    parser.add_argument("--value-col", required=True, help="units (or revenue) sold column")
    parser.add_argument("--freq", choices=["D", "W"], default=None, help="period length (default: inferred)")
    parser.add_argument("--time-format", default=None, help="strptime format of the date column")
    parser.add_argument("--cutoffs", type=int, default=4, help="number of forecast origins (default 4)")
    parser.add_argument("--max-series", type=int, default=2000, help="random sample of series above this many")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures to this JSON file")
    parser.add_argument(
        "--quick",
        action="store_true",
        help="a small model (10 boosting rounds on 2,000 rows): checks the input and the report fast",
    )
    parser.set_defaults(run=run_evaluate_forecast)
    return parser


def run_evaluate_forecast(args: argparse.Namespace) -> int:
    """Exit code 0 on success, 2 on bad input (the message is printed)."""
    try:
        panel = load_sales_csv(
            args.sales,
            series_col=args.series_col,
            time_col=args.time_col,
            value_col=args.value_col,
            freq=args.freq,
            time_format=args.time_format,
        )
        if len(panel.series_ids) > args.max_series:
            rows = np.sort(np.random.default_rng(0).choice(len(panel.series_ids), args.max_series, replace=False))
            panel.notes.append(f"random sample of {args.max_series} of {len(panel.series_ids)} series (seed 0)")
            panel = panel.subset(rows)
        params = ForecastParams(gbm_max_iter=10, max_train_rows=2_000) if args.quick else None
        result = rolling_origin_backtest(panel, builtin_methods(params), n_cutoffs=args.cutoffs)
    except ValueError as exc:
        print(f"error: {exc}")
        return 2
    print(
        format_forecast_table(
            result, "seasonal_naive", f"{args.sales.name}: {result.series} series, cut-offs {result.cutoffs}"
        )
    )
    for note in result.notes:
        print(f"note: {note}")
    if args.json is not None:
        args.json.write_text(json.dumps(result.to_json(), indent=2, allow_nan=True))
    return 0


# ----------------------------------------------------------------------------- customers


def _parse_day(text: str) -> int:
    try:
        stamp = pd.Timestamp(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from exc
    if stamp.tzinfo is None:
        stamp = stamp.tz_localize("UTC")
    return int(stamp.value // DAY_NS)


def add_customers_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``customers`` under ``luxebrain evaluate``."""
    parser = subparsers.add_parser(
        "customers",
        help="calibration / hold-out check of the BG/NBD + Gamma-Gamma customer model on a transactions CSV",
        description=customers_evaluation.__doc__.split("\n\n")[1] if customers_evaluation.__doc__ else None,
    )
    parser.add_argument(
        "--transactions", required=True, type=Path, help="CSV file (gzip allowed), one row per order or line"
    )
    parser.add_argument("--customer-col", required=True, help="column with the customer id")
    parser.add_argument("--time-col", required=True, help="column with the order date or time")
    parser.add_argument(
        "--amount-col", required=True, help="column with the order amount (unit price with --quantity-col)"
    )
    parser.add_argument("--order-col", help="column with the order id: lines of one order are summed")
    parser.add_argument("--quantity-col", help="column with quantities: amount = amount column x quantity")
    parser.add_argument("--calibration-end", type=_parse_day, help="last day of the calibration period (YYYY-MM-DD)")
    parser.add_argument("--holdout-end", type=_parse_day, help="last day of the hold-out period (default: last date)")
    parser.add_argument("--min-repeat-customers", type=int, default=CustomerParams.min_repeat_customers)
    parser.add_argument("--skip-missing-customers", action="store_true", help="leave out rows without a customer id")
    parser.add_argument(
        "--exclude-negative", action="store_true", help="leave out rows or orders with a negative amount"
    )
    parser.add_argument("--json", type=Path, help="also write the metrics to this JSON file")
    parser.set_defaults(run=run_evaluate_customers)
    return parser


def run_evaluate_customers(args: argparse.Namespace) -> int:
    """Run the hold-out evaluation for the CLI; prints the metrics; exit code 0, or 2 on bad input."""
    try:
        transactions = load_customer_transactions_csv(
            args.transactions,
            customer_col=args.customer_col,
            time_col=args.time_col,
            amount_col=args.amount_col,
            order_col=args.order_col,
            quantity_col=args.quantity_col,
            skip_missing_customers=args.skip_missing_customers,
            exclude_negative=args.exclude_negative,
        )
        day = np.floor_divide(utc_datetime64_ns(transactions["ordered_at"], "ordered_at"), DAY_NS)
        holdout_end = args.holdout_end if args.holdout_end is not None else int(day.max())
        transactions = transactions[day <= holdout_end]
        first_day = int(day.min())
        calibration_end = args.calibration_end
        if calibration_end is None:  # default: the last quarter of the history is the hold-out
            calibration_end = holdout_end - max(1, (holdout_end - first_day) // 4)
        evaluation = evaluate_holdout(
            transactions,
            calibration_end_day=calibration_end,
            holdout_end_day=holdout_end,
            params=CustomerParams(min_repeat_customers=args.min_repeat_customers),
            fit=fit_models,
        )
    except CustomerModelError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    width = max(len(key) for key in evaluation.metrics)
    for key, value in evaluation.metrics.items():
        print(f"{key:<{width}}  {value}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(evaluation.metrics, indent=2, allow_nan=False))
    return 0

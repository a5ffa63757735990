"""Hold-out harness and ``luxebrain evaluate customers``: lift, CSV loading errors, the CLI entry."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from luxebrain.ml.customers.evaluation import (
    HoldoutSkipped,
    evaluate_holdout,
    load_transactions_csv,
    top_decile_lift,
)
from luxebrain.ml.customers.model import CustomerDataError, CustomerParams
from luxebrain.ml.customers.train import fit_models
from luxebrain_dev.evaluate import add_customers_parser

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "customers_cdnow_120.csv"
CDNOW_COLUMNS = {"customer_col": "customer_id", "time_col": "date", "amount_col": "dollar_value"}


def day(text: str) -> int:
    return int(np.datetime64(text, "D").astype(np.int64))


def cli(*arguments: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="luxebrain evaluate")
    add_customers_parser(parser.add_subparsers(dest="command", required=True))
    return parser.parse_args(list(arguments))


def test_top_decile_lift_of_a_perfect_and_of_a_useless_score() -> None:
    bought = np.array([1] * 10 + [0] * 90)
    assert top_decile_lift(np.arange(100, 0, -1), bought) == pytest.approx(10.0)
    assert top_decile_lift(np.ones(100), bought) == pytest.approx(1.0)  # all tied: the random-order expectation
    assert top_decile_lift(np.arange(100), np.zeros(100)) == 0.0


def test_top_decile_lift_splits_ties_at_the_cutoff_in_proportion() -> None:
    # 5 clear winners (all buyers), then 10 tied customers of whom 5 buyers, for a top decile of 10 of 100
    scores = np.array([3.0] * 5 + [2.0] * 10 + [1.0] * 85)
    bought = np.array([1] * 5 + [1, 0] * 5 + [0] * 85)
    # 5 + 5 slots x 1/2 = 7.5 buyers in the top 10, base rate 10 %
    assert top_decile_lift(scores, bought) == pytest.approx(7.5)


def test_holdout_on_cdnow_fixture_reports_finite_metrics() -> None:
    transactions = load_transactions_csv(FIXTURE, **CDNOW_COLUMNS)
    evaluation = evaluate_holdout(
        transactions,
        calibration_end_day=day("1997-09-30"),
        holdout_end_day=day("1998-06-30"),
        params=CustomerParams(min_repeat_customers=10),
        fit=fit_models,
    )
    metrics = evaluation.metrics
    assert metrics["customers"] == 120
    assert metrics["actual_holdout_purchases"] == evaluation.actual.sum() > 0
    assert metrics["mae"] >= 0 and metrics["top_decile_lift"] > 0
    json.dumps(metrics, allow_nan=False)  # JSON-ready, no NaN
    # the tracking curves end at the totals: actual repeat purchases and a model curve that only grows
    assert np.all(np.diff(evaluation.tracking_predicted_cumulative) >= 0)
    assert evaluation.tracking_actual_cumulative[-1] > 0


def test_holdout_with_too_few_repeat_customers_is_skipped_with_a_reason() -> None:
    transactions = load_transactions_csv(FIXTURE, **CDNOW_COLUMNS)
    with pytest.raises(HoldoutSkipped, match="repeat customer"):
        evaluate_holdout(
            transactions,
            calibration_end_day=day("1997-09-30"),
            holdout_end_day=day("1998-06-30"),
            params=CustomerParams(min_repeat_customers=1000),
            fit=fit_models,
        )


def test_csv_with_missing_column_names_what_it_has(tmp_path: Path) -> None:
    with pytest.raises(CustomerDataError, match="no column\\(s\\) 'when'; its columns are: customer_id, date"):
        load_transactions_csv(FIXTURE, customer_col="customer_id", time_col="when", amount_col="dollar_value")


def test_csv_bad_rows_are_named_and_can_be_skipped(tmp_path: Path) -> None:
    path = tmp_path / "orders.csv"
    pd.DataFrame(
        {
            "who": ["a", "", "b", "a"],
            "when": ["2024-01-01", "2024-01-02", "2024-01-03", "2024-02-01"],
            "paid": [5, 6, -7, 8],
        }
    ).to_csv(path, index=False)
    columns = {"customer_col": "who", "time_col": "when", "amount_col": "paid"}
    with pytest.raises(CustomerDataError, match="'who' is empty at data row 2"):
        load_transactions_csv(path, **columns)
    with pytest.raises(CustomerDataError, match="negative amount"):
        load_transactions_csv(path, **columns, skip_missing_customers=True)
    frame = load_transactions_csv(path, **columns, skip_missing_customers=True, exclude_negative=True)
    assert frame["customer_id"].tolist() == ["a", "a"]
    bad_date = tmp_path / "dates.csv"
    pd.DataFrame({"who": ["a"], "when": ["yesterday-ish"], "paid": [1]}).to_csv(bad_date, index=False)
    with pytest.raises(CustomerDataError, match="'when'"):
        load_transactions_csv(bad_date, **columns)


def test_csv_lines_are_summed_per_order_with_quantities(tmp_path: Path) -> None:
    path = tmp_path / "lines.csv"
    pd.DataFrame(
        {
            "inv": ["1", "1", "2"],
            "cust": ["x", "x", "y"],
            "at": ["2024-01-01 10:00"] * 3,
            "price": [2.0, 3.0, 4.0],
            "qty": [1, 2, 5],
        }
    ).to_csv(path, index=False)
    frame = load_transactions_csv(
        path, customer_col="cust", time_col="at", amount_col="price", order_col="inv", quantity_col="qty"
    )
    assert sorted(frame["amount"].tolist()) == [8.0, 20.0]


def test_cli_prints_metrics_and_writes_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "metrics.json"
    args = cli(
        "customers", "--transactions", str(FIXTURE), "--customer-col", "customer_id", "--time-col", "date",
        "--amount-col", "dollar_value", "--calibration-end", "1997-09-30", "--min-repeat-customers", "10",
        "--json", str(out),
    )  # fmt: skip
    assert args.run(args) == 0
    printed = capsys.readouterr().out
    assert "top_decile_lift_rfm_heuristic" in printed
    assert json.loads(out.read_text())["customers"] == 120


def test_cli_bad_input_exits_2_with_the_reason(capsys: pytest.CaptureFixture[str]) -> None:
    args = cli(
        "customers", "--transactions", str(FIXTURE), "--customer-col", "nope", "--time-col", "date", "--amount-col", "x"
    )
    assert args.run(args) == 2
    assert "no column(s) 'nope', 'x'" in capsys.readouterr().err

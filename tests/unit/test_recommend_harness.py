"""The recommendation harness: CSV loading with clear errors, splits, metrics, the CLI subcommand."""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from luxebrain.ml.recommend.evaluation import (
    EvaluationTask,
    TransactionsFileError,
    evaluate_rankings,
    leave_last_basket_split,
    load_transactions_csv,
    popularity_ranker,
    repeat_ranker,
    temporal_split,
    temporal_splits,
)
from luxebrain_dev.evaluate import add_recommend_parser

FIXTURE = Path(__file__).parents[1] / "fixtures" / "recommend_online_retail_sample.csv"
ONLINE_RETAIL_COLUMNS = {
    "user_col": "CustomerID",
    "item_col": "StockCode",
    "time_col": "InvoiceDate",
    "quantity_col": "Quantity",
    "order_col": "InvoiceNo",
}


def write_csv(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "transactions.csv"
    path.write_text(text)
    return path


def make_lines(rows: list[tuple[str, str, str, str]]) -> pd.DataFrame:
    """(order, customer, product, ISO time) rows as order_lines."""
    frame = pd.DataFrame(rows, columns=["order_id", "customer_id", "product_id", "ordered_at"])
    frame["ordered_at"] = pd.to_datetime(frame["ordered_at"], utc=True)
    frame["quantity"] = 1.0
    frame["unit_price"] = 1.0
    frame["line_total"] = 1.0
    return frame


def test_loading_the_sample_drops_guests_and_returns_and_keeps_the_standard_shape() -> None:
    # Given a real Online Retail excerpt with guest rows and cancellations
    raw = pd.read_csv(FIXTURE, dtype=str)
    # When it is loaded with its column names
    lines = load_transactions_csv(FIXTURE, **ONLINE_RETAIL_COLUMNS)
    # Then guests and non-positive quantities are gone and the order_lines columns are there
    assert {"order_id", "customer_id", "product_id", "ordered_at", "quantity"} <= set(lines.columns)
    assert lines["customer_id"].notna().all() and (lines["quantity"] > 0).all()
    expected = raw["CustomerID"].notna() & (raw["Quantity"].astype(float) > 0)
    assert len(lines) == int(expected.sum())
    assert str(lines["ordered_at"].dt.tz) == "UTC"
    assert lines["ordered_at"].is_monotonic_increasing


def test_a_missing_column_is_named(tmp_path: Path) -> None:
    path = write_csv(tmp_path, "cust,item,when\n1,A,2024-01-01\n")
    with pytest.raises(TransactionsFileError, match=r"'sku'.*columns found: cust, item, when"):
        load_transactions_csv(path, user_col="cust", item_col="sku", time_col="when")


def test_an_unparsable_date_names_the_column_and_the_row(tmp_path: Path) -> None:
    path = write_csv(tmp_path, "cust,item,when\n1,A,2024-01-01\n2,B,2024-01-02\n3,C,not a date\n")
    with pytest.raises(TransactionsFileError, match=r"column 'when', row 3: cannot parse 'not a date'"):
        load_transactions_csv(path, user_col="cust", item_col="item", time_col="when")


def test_an_empty_date_and_a_bad_quantity_are_named(tmp_path: Path) -> None:
    empty_date = write_csv(tmp_path, "cust,item,when\n1,A,2024-01-01\n2,B,\n")
    with pytest.raises(TransactionsFileError, match=r"column 'when', row 2: timestamp is empty"):
        load_transactions_csv(empty_date, user_col="cust", item_col="item", time_col="when")
    bad_quantity = write_csv(tmp_path, "cust,item,when,qty\n1,A,2024-01-01,2\n2,B,2024-01-02,two\n")
    with pytest.raises(TransactionsFileError, match=r"column 'qty', row 2: 'two' is not a number"):
        load_transactions_csv(bad_quantity, user_col="cust", item_col="item", time_col="when", quantity_col="qty")


def test_a_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(TransactionsFileError, match="not found"):
        load_transactions_csv(tmp_path / "nope.csv", user_col="a", item_col="b", time_col="c")


def test_without_an_order_column_a_basket_is_one_customer_at_one_time(tmp_path: Path) -> None:
    path = write_csv(tmp_path, "cust,item,when\n1,A,2024-01-01 10:00\n1,B,2024-01-01 10:00\n1,C,2024-02-01\n")
    lines = load_transactions_csv(path, user_col="cust", item_col="item", time_col="when")
    assert lines["order_id"].nunique() == 2


def test_temporal_split_trains_before_the_cutoff_and_tests_known_customers_after_it() -> None:
    # Given two customers, one of them new in the test period
    lines = make_lines(
        [
            ("o1", "ann", "A", "2024-01-01"),
            ("o1", "ann", "B", "2024-01-01"),
            ("o2", "bob", "A", "2024-01-02"),
            ("o3", "ann", "A", "2024-02-01"),
            ("o3", "ann", "C", "2024-02-01"),
            ("o4", "cat", "A", "2024-02-02"),
        ]
    )
    cutoff = pd.Timestamp("2024-01-15", tz="UTC")
    # When split under both protocols
    all_items = temporal_split(lines, cutoff=cutoff, protocol="all_items")
    new_items = temporal_split(lines, cutoff=cutoff, protocol="new_items")
    # Then training is before the cut-off, only known customers are tested, and new_items drops re-purchases
    assert (all_items.train["ordered_at"] < cutoff).all()
    assert all_items.customers == ["ann"] and all_items.truth == [frozenset({"A", "C"})]
    assert all_items.cold_customers == 1
    assert new_items.truth == [frozenset({"C"})] and new_items.exclude_seen


def test_temporal_splits_share_one_training_frame() -> None:
    lines = make_lines([(f"o{i}", f"c{i % 3}", f"P{i}", f"2024-01-{i + 1:02d}") for i in range(20)])
    tasks = temporal_splits(lines, test_fraction=0.3)
    assert tasks["all_items"].train is tasks["new_items"].train


def test_leave_last_basket_split_holds_out_each_repeat_customers_last_order() -> None:
    lines = make_lines(
        [
            ("o1", "ann", "A", "2024-01-01"),
            ("o2", "ann", "B", "2024-01-05"),
            ("o3", "bob", "C", "2024-01-02"),
            ("o4", "ann", "C", "2024-01-09"),
        ]
    )
    task = leave_last_basket_split(lines)
    assert task.customers == ["ann"] and task.truth == [frozenset({"C"})]
    assert set(task.train["order_id"]) == {"o1", "o2", "o3"}
    assert task.train_orders.tolist() == [2]


def tiny_task(truth: list[set[str]], train_orders: list[int], catalogue: int = 10) -> EvaluationTask:
    return EvaluationTask(
        name="t",
        protocol="all_items",
        train=make_lines([("o", "c", "A", "2024-01-01")]),
        customers=[f"c{i}" for i in range(len(truth))],
        truth=[frozenset(t) for t in truth],
        train_orders=np.asarray(train_orders),
        seen=[frozenset() for _ in truth],
        catalogue_size=catalogue,
    )


def test_metrics_match_hand_computed_values() -> None:
    # Given customer 0 whose two relevant items sit at ranks 2 and 4, and customer 1 with no hit
    task = tiny_task([{"b", "d"}, {"z"}], train_orders=[1, 12])
    rankings = [["a", "b", "c", "d"], ["a", "c"]]
    # When scored
    result = evaluate_rankings(task, rankings)
    # Then every metric matches the textbook formula
    dcg = 1 / math.log2(3) + 1 / math.log2(5)
    idcg = 1 / math.log2(2) + 1 / math.log2(3)
    assert result.overall["hr@10"] == pytest.approx(0.5)
    assert result.overall["ndcg@10"] == pytest.approx(dcg / idcg / 2)
    assert result.overall["recall@20"] == pytest.approx(0.5)
    assert result.overall["mrr"] == pytest.approx(0.25)
    assert result.overall["coverage@10"] == pytest.approx(4 / 10)
    assert result.buckets["1-2"]["hr@10"] == 1.0 and result.buckets["10+"]["hr@10"] == 0.0
    assert result.bucket_customers == {"1-2": 1, "3-9": 0, "10+": 1}


def test_rankings_must_cover_every_test_customer() -> None:
    with pytest.raises(ValueError, match="1 rankings for 2 test customers"):
        evaluate_rankings(tiny_task([{"a"}, {"b"}], [1, 1]), [["a"]])


def test_repeat_baseline_ranks_own_frequent_purchases_first() -> None:
    lines = make_lines(
        [
            ("o1", "ann", "A", "2024-01-01"),
            ("o2", "ann", "A", "2024-01-02"),
            ("o2", "ann", "B", "2024-01-02"),
            ("o3", "bob", "C", "2024-01-03"),
            ("o4", "cat", "C", "2024-01-03"),
            ("o5", "ann", "B", "2024-02-01"),
        ]
    )
    task = temporal_split(lines, cutoff=pd.Timestamp("2024-01-15", tz="UTC"))
    assert repeat_ranker(task)[0][:3] == ["A", "B", "C"]
    assert popularity_ranker(task)[0][0] == "C"


def test_cli_subcommand_prints_tables_and_reports_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # Given the CLI parser with the recommend subcommand registered
    parser = argparse.ArgumentParser()
    add_recommend_parser(parser.add_subparsers())
    args = parser.parse_args(
        ["recommend", "--transactions", str(FIXTURE)]
        + [f"--{k.replace('_col', '-col').replace('_', '-')}={v}" for k, v in ONLINE_RETAIL_COLUMNS.items()]
        + ["--test-fraction", "0.3"]
    )
    # When run on the sample
    assert args.run(args) == 0
    out = capsys.readouterr().out
    # Then it prints a table per split and protocol with our model and the baselines
    assert "temporal split, all_items protocol" in out and "leave_last_basket split, new_items" in out
    assert "ours (auto)" in out and "repeat own purchases" in out and "ndcg@10" in out
    # And a missing column is an exit code 2 with the column named
    bad_columns = ["--user-col", "Who", "--item-col", "StockCode", "--time-col", "InvoiceDate"]
    bad = parser.parse_args(["recommend", "--transactions", str(FIXTURE), *bad_columns])
    assert bad.run(bad) == 2
    assert "'Who'" in capsys.readouterr().err

"""Evaluation harness for recommendations: any transactions CSV, two splits, ranking metrics, buckets.

Used three ways: by ``train_recommender`` (a holdout score stored in the manifest), by the benchmark
(``benchmarks/recommend.py``, against library baselines) and by the CLI
(``luxebrain evaluate recommend --transactions FILE.csv --user-col ... --item-col ... --time-col ...``).

Protocols. A *ranking* is a list of product ids per test customer, best first. Two protocols are scored:
``all_items`` (the customer's real next purchases, re-purchases included: shoppers re-buy, so a recommender
must rank them) and ``new_items`` (only items the customer never bought before count, and rankers must
leave those out). Metrics: HR@10, NDCG@10 (binary relevance), Recall@20 (hits / min(|truth|, 20)),
MRR (reciprocal rank of the first hit within the top 20, else 0) and catalogue coverage (share of the
training catalogue that appears in at least one top-10 list). Customers are bucketed by how many distinct
orders they placed in the training data: 1-2, 3-9, 10+.

Training-side module: pandas and numpy only (never imported by the API).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    pass

HIT_CUTOFF = 10
RECALL_CUTOFF = 20
RANKING_LENGTH = 20  # every ranker returns this many items per customer
ACTIVITY_BUCKETS: tuple[tuple[str, int, int], ...] = (("1-2", 1, 2), ("3-9", 3, 9), ("10+", 10, 10**9))
PROTOCOLS = ("all_items", "new_items")
METRIC_NAMES = ("hr@10", "ndcg@10", "recall@20", "mrr", "coverage@10")

# A ranker gets the task and returns, per test customer (task order), up to RANKING_LENGTH product ids.
Ranker = Callable[["EvaluationTask"], list[list[str]]]


class TransactionsFileError(ValueError):
    """A transactions CSV cannot be used: missing file or column, unparsable value (named with its row)."""


class SplitError(ValueError):
    """The data is too small or too narrow in time for the requested split."""


# ---------------------------------------------------------------------------------------------- loading


def load_transactions_csv(
    path: str | Path,
    *,
    user_col: str,
    item_col: str,
    time_col: str,
    quantity_col: str | None = None,
    order_col: str | None = None,
    time_format: str | None = None,
) -> pd.DataFrame:
    """Read any transactions export into the standard ``order_lines`` shape (see ``luxebrain.ml.dataset``).

    Rows without a customer (guest checkouts) or product are dropped; rows with a quantity <= 0 (returns,
    cancellations) are dropped. Without ``order_col`` a basket is one customer at one timestamp.
    Unparsable timestamps or quantities raise ``TransactionsFileError`` naming the column and the row
    (``row N`` = N-th data row, i.e. line N + 1 of the file).
    """
    path = Path(path)
    if not path.is_file():
        raise TransactionsFileError(f"transactions file not found: {path}")
    wanted = [c for c in (user_col, item_col, time_col, quantity_col, order_col) if c is not None]
    try:
        header = pd.read_csv(path, nrows=0)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise TransactionsFileError(f"{path} is not a readable CSV file: {exc}") from exc
    missing = [c for c in wanted if c not in header.columns]
    if missing:
        raise TransactionsFileError(
            f"{path.name} has no column(s) {', '.join(repr(c) for c in missing)}; "
            f"columns found: {', '.join(map(str, header.columns))}"
        )
    text_columns = {c: "string" for c in (user_col, item_col, order_col) if c is not None}
    raw = pd.read_csv(path, usecols=wanted, dtype={**text_columns, time_col: "string"})
    return transactions_to_order_lines(
        raw,
        user_col=user_col,
        item_col=item_col,
        time_col=time_col,
        quantity_col=quantity_col,
        order_col=order_col,
        time_format=time_format,
    )


def transactions_to_order_lines(
    raw: pd.DataFrame,
    *,
    user_col: str,
    item_col: str,
    time_col: str,
    quantity_col: str | None = None,
    order_col: str | None = None,
    time_format: str | None = None,
) -> pd.DataFrame:
    """Turn an in-memory transactions frame into ``order_lines`` (same rules as ``load_transactions_csv``)."""
    for column in (user_col, item_col, time_col, quantity_col, order_col):
        if column is not None and column not in raw.columns:
            raise TransactionsFileError(f"transactions have no column {column!r}")
    time_text = raw[time_col].astype("string").str.strip()
    empty_time = time_text.isna() | (time_text == "")
    if empty_time.any():
        row = int(np.flatnonzero(empty_time.to_numpy())[0])
        raise TransactionsFileError(f"column {time_col!r}, row {row + 1}: timestamp is empty")
    with warnings.catch_warnings():  # "could not infer format": we report unparsable rows ourselves
        warnings.simplefilter("ignore", UserWarning)
        parsed = pd.to_datetime(time_text, utc=True, errors="coerce", format=time_format)
    bad = parsed.isna().to_numpy()
    if bad.any() and time_format is None:  # pandas infers one format from the first row; allow a mix
        parsed[bad] = pd.to_datetime(time_text[bad], utc=True, errors="coerce", format="mixed")
        bad = parsed.isna().to_numpy()
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise TransactionsFileError(
            f"column {time_col!r}, row {row + 1}: cannot parse {time_text.iloc[row]!r} as a date/time"
            + (f" with format {time_format!r}" if time_format else "")
        )
    if quantity_col is not None:
        quantity = pd.to_numeric(raw[quantity_col], errors="coerce")
        bad = (quantity.isna() | ~np.isfinite(quantity.to_numpy(dtype=float, na_value=np.nan))).to_numpy()
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            raise TransactionsFileError(
                f"column {quantity_col!r}, row {row + 1}: {raw[quantity_col].iloc[row]!r} is not a number"
            )
        quantity = quantity.astype(float)
    else:
        quantity = pd.Series(1.0, index=raw.index)
    customer = raw[user_col].astype("string").str.strip()
    product = raw[item_col].astype("string").str.strip()
    keep = (customer.notna() & (customer != "") & product.notna() & (product != "") & (quantity > 0)).to_numpy()
    customer, product = customer[keep].astype(str), product[keep].astype(str)
    ordered_at = parsed[keep]
    if order_col is not None:
        order_id = raw[order_col].astype("string").fillna("").astype(str)[keep]
        # An order id shared by two customers would merge baskets: qualify it by the customer.
        order_id = customer + "|" + order_id
    else:
        order_id = customer + "|" + ordered_at.astype("int64").astype(str)
    lines = pd.DataFrame(
        {
            "order_id": order_id.to_numpy(dtype=object),
            "customer_id": customer.to_numpy(dtype=object),
            "product_id": product.to_numpy(dtype=object),
            "ordered_at": ordered_at.to_numpy(),
            "quantity": quantity[keep].to_numpy(dtype=float),
            "unit_price": 0.0,
            "line_total": 0.0,
        }
    )
    lines["ordered_at"] = pd.to_datetime(lines["ordered_at"], utc=True)
    return lines.sort_values("ordered_at", kind="stable").reset_index(drop=True)


# ----------------------------------------------------------------------------------------------- splits


@dataclass(frozen=True)
class EvaluationTask:
    """Training lines plus, per test customer, the set of products they bought next."""

    name: str
    protocol: str  # "all_items" or "new_items"
    train: pd.DataFrame  # order_lines shape
    customers: list[str]
    truth: list[frozenset[str]]
    train_orders: np.ndarray  # distinct training orders of each test customer (activity bucket)
    seen: list[frozenset[str]]  # products each test customer bought in training
    catalogue_size: int  # distinct products in training
    cutoff: pd.Timestamp | None = None
    cold_customers: int = 0  # test customers absent from training (not scored)

    @property
    def exclude_seen(self) -> bool:
        return self.protocol == "new_items"


def _protocol_task(
    name: str,
    protocol: str,
    train: pd.DataFrame,
    test: pd.DataFrame,
    cutoff: pd.Timestamp | None,
) -> EvaluationTask:
    if protocol not in PROTOCOLS:
        raise ValueError(f"protocol must be one of {', '.join(PROTOCOLS)}, got {protocol!r}")
    truth_by_customer = test.groupby("customer_id", sort=True)["product_id"].agg(frozenset)
    # Only the test customers' histories are needed: most of a store's customers buy nothing in the test period.
    known = train[train["customer_id"].isin(truth_by_customer.index)]
    seen_by_customer = known.groupby("customer_id", sort=False)["product_id"].agg(frozenset)
    orders_by_customer = known.groupby("customer_id", sort=False)["order_id"].nunique()
    customers: list[str] = []
    truth: list[frozenset[str]] = []
    seen: list[frozenset[str]] = []
    activity: list[int] = []
    cold = 0
    for customer, items in truth_by_customer.items():
        if customer not in seen_by_customer.index:
            cold += 1
            continue
        customer_seen = seen_by_customer[customer]
        relevant = items - customer_seen if protocol == "new_items" else items
        if not relevant:
            continue
        customers.append(str(customer))
        truth.append(frozenset(relevant))
        seen.append(customer_seen)
        activity.append(int(orders_by_customer[customer]))
    if not customers:
        raise SplitError(f"{name} split ({protocol}) leaves no test customer with training history")
    return EvaluationTask(
        name=name,
        protocol=protocol,
        train=train,
        customers=customers,
        truth=truth,
        train_orders=np.asarray(activity, dtype=np.int64),
        seen=seen,
        catalogue_size=int(train["product_id"].nunique()),
        cutoff=cutoff,
        cold_customers=cold,
    )


def temporal_split(
    lines: pd.DataFrame,
    *,
    test_fraction: float = 0.1,
    cutoff: pd.Timestamp | None = None,
    protocol: str = "all_items",
) -> EvaluationTask:
    """Train on everything before a cut-off; test on each known customer's purchases after it.

    Without ``cutoff`` it is the time at which the last ``test_fraction`` of the lines begins.
    """
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"test_fraction must be between 0 and 1 (exclusive), got {test_fraction}")
    if lines.empty:
        raise SplitError("temporal split needs transactions; the data is empty")
    times = lines["ordered_at"]
    if cutoff is None:
        cutoff = times.sort_values(kind="stable").iloc[int(len(times) * (1.0 - test_fraction))]
    train = lines[times < cutoff]
    test = lines[times >= cutoff]
    if train.empty or test.empty:
        raise SplitError(f"cut-off {cutoff} leaves an empty train or test period")
    return _protocol_task("temporal", protocol, train, test, cutoff)


def temporal_splits(lines: pd.DataFrame, *, test_fraction: float = 0.1) -> dict[str, EvaluationTask]:
    """``temporal_split`` for both protocols, sharing one training frame (a model fitted once serves both)."""
    first = temporal_split(lines, test_fraction=test_fraction, protocol=PROTOCOLS[0])
    test = lines[lines["ordered_at"] >= first.cutoff]
    return {
        PROTOCOLS[0]: first,
        **{p: _protocol_task("temporal", p, first.train, test, first.cutoff) for p in PROTOCOLS[1:]},
    }


def leave_last_basket_splits(lines: pd.DataFrame) -> dict[str, EvaluationTask]:
    """``leave_last_basket_split`` for both protocols, sharing one training frame."""
    first = leave_last_basket_split(lines, protocol=PROTOCOLS[0])
    test = lines.loc[~lines.index.isin(first.train.index)]
    return {
        PROTOCOLS[0]: first,
        **{p: _protocol_task("leave_last_basket", p, first.train, test, None) for p in PROTOCOLS[1:]},
    }


def leave_last_basket_split(lines: pd.DataFrame, *, protocol: str = "all_items") -> EvaluationTask:
    """Each customer with two or more orders: the last order is the test basket, the rest is training."""
    if lines.empty:
        raise SplitError("leave-last-basket split needs transactions; the data is empty")
    order_times = lines.groupby(["customer_id", "order_id"], sort=False)["ordered_at"].min().reset_index()
    order_times = order_times.sort_values(["customer_id", "ordered_at", "order_id"], kind="stable")
    last_orders = order_times.groupby("customer_id", sort=False).tail(1)
    order_counts = order_times.groupby("customer_id", sort=False)["order_id"].size()
    repeaters = order_counts.index[order_counts >= 2]
    test_order_ids = set(last_orders.loc[last_orders["customer_id"].isin(repeaters), "order_id"])
    in_test = lines["order_id"].isin(test_order_ids).to_numpy()
    return _protocol_task("leave_last_basket", protocol, lines[~in_test], lines[in_test], None)


# ---------------------------------------------------------------------------------------------- metrics


@dataclass(frozen=True)
class EvaluationResult:
    """Metrics overall and per activity bucket (bucket name -> metrics, plus customer counts)."""

    overall: dict[str, float]
    buckets: dict[str, dict[str, float]]
    customers: int
    bucket_customers: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "overall": self.overall,
            "buckets": self.buckets,
            "customers": self.customers,
            "bucket_customers": self.bucket_customers,
        }


def _per_customer_metrics(ranking: Sequence[str], truth: frozenset[str]) -> tuple[float, float, float, float]:
    hits = np.fromiter((item in truth for item in ranking[:RANKING_LENGTH]), dtype=bool)
    if hits.size == 0:
        return 0.0, 0.0, 0.0, 0.0
    top = hits[:HIT_CUTOFF]
    discounts = 1.0 / np.log2(np.arange(2, HIT_CUTOFF + 2))
    dcg = float(top @ discounts[: top.size])
    idcg = float(discounts[: min(len(truth), HIT_CUTOFF)].sum())
    recall = float(hits[:RECALL_CUTOFF].sum()) / min(len(truth), RECALL_CUTOFF)
    first = np.flatnonzero(hits)
    mrr = 1.0 / (first[0] + 1) if first.size else 0.0
    return float(top.any()), dcg / idcg, recall, mrr


def evaluate_rankings(task: EvaluationTask, rankings: Sequence[Sequence[str]]) -> EvaluationResult:
    """Score one ranking per test customer (same order as ``task.customers``)."""
    if len(rankings) != len(task.customers):
        raise ValueError(f"got {len(rankings)} rankings for {len(task.customers)} test customers")
    per_customer = np.zeros((len(rankings), 4), dtype=float)
    for row, (ranking, truth) in enumerate(zip(rankings, task.truth, strict=True)):
        per_customer[row] = _per_customer_metrics(list(ranking), truth)

    def summarise(mask: np.ndarray) -> dict[str, float]:
        if not mask.any():
            return {name: 0.0 for name in METRIC_NAMES}
        means = per_customer[mask].mean(axis=0)
        shown = {item for ranking, chosen in zip(rankings, mask, strict=True) if chosen for item in ranking[:10]}
        coverage = len(shown) / task.catalogue_size if task.catalogue_size else 0.0
        return {
            "hr@10": float(means[0]),
            "ndcg@10": float(means[1]),
            "recall@20": float(means[2]),
            "mrr": float(means[3]),
            "coverage@10": float(coverage),
        }

    overall = summarise(np.ones(len(rankings), dtype=bool))
    buckets: dict[str, dict[str, float]] = {}
    bucket_customers: dict[str, int] = {}
    for bucket, low, high in ACTIVITY_BUCKETS:
        mask = (task.train_orders >= low) & (task.train_orders <= high)
        buckets[bucket] = summarise(mask)
        bucket_customers[bucket] = int(mask.sum())
    return EvaluationResult(overall, buckets, len(rankings), bucket_customers)


# ------------------------------------------------------------------------------------- simple baselines


def popularity_ranker(task: EvaluationTask) -> list[list[str]]:
    """Most-bought products (distinct customers) in training, the same list for everyone."""
    counts = task.train.groupby("product_id")["customer_id"].nunique().sort_values(ascending=False, kind="stable")
    ranked = counts.index.astype(str).tolist()
    return _fill(task, [[] for _ in task.customers], ranked)


def repeat_ranker(task: EvaluationTask) -> list[list[str]]:
    """The customer's own past purchases, most frequent (distinct orders) first, then recency; popular fill.

    Under the ``new_items`` protocol this degenerates to popularity (past purchases are excluded).
    """
    popular = (
        task.train.groupby("product_id")["customer_id"].nunique().sort_values(ascending=False, kind="stable")
    ).index.astype(str)
    wanted = set(task.customers)
    train = task.train[task.train["customer_id"].isin(wanted)]
    history = (
        train.groupby(["customer_id", "product_id"], sort=False)
        .agg(orders=("order_id", "nunique"), last=("ordered_at", "max"))
        .reset_index()
        .sort_values(["customer_id", "orders", "last"], ascending=[True, False, False], kind="stable")
    )
    own = history.groupby("customer_id", sort=False)["product_id"].agg(list)
    personal = [[] if task.exclude_seen else own.get(c, [])[:RANKING_LENGTH] for c in task.customers]
    return _fill(task, personal, popular.tolist())


def _fill(task: EvaluationTask, rankings: list[list[str]], popular: list[str]) -> list[list[str]]:
    """Top up each ranking to RANKING_LENGTH with popular products it does not hold (nor, if asked, seen)."""
    filled: list[list[str]] = []
    for ranking, seen in zip(rankings, task.seen, strict=True):
        ranking = list(ranking[:RANKING_LENGTH])
        present = set(ranking)
        for item in popular:
            if len(ranking) >= RANKING_LENGTH:
                break
            if item in present or (task.exclude_seen and item in seen):
                continue
            ranking.append(item)
            present.add(item)
        filled.append(ranking)
    return filled


# ------------------------------------------------------------------------------------------------ table


def format_table(rows: Sequence[tuple[str, EvaluationResult]], baseline: str | None = None) -> str:
    """A fixed-width table: one row per method, metrics overall, NDCG@10 per bucket, ratio to a baseline."""
    reference = dict(rows).get(baseline) if baseline else None
    bucket_names = [name for name, _, _ in ACTIVITY_BUCKETS]
    header = f"{'method':<26}" + "".join(f"{m:>12}" for m in METRIC_NAMES)
    header += "".join(f"{'ndcg ' + b:>11}" for b in bucket_names)
    ratio_title = f"  ndcg@10 / {baseline}"
    if reference is not None:
        header += ratio_title
    lines = [header, "-" * len(header)]
    for name, result in rows:
        line = f"{name:<26}" + "".join(f"{result.overall[m]:>12.4f}" for m in METRIC_NAMES)
        line += "".join(
            f"{result.buckets[b]['ndcg@10']:>11.4f}" if result.bucket_customers.get(b) else f"{'-':>11}"
            for b in bucket_names
        )
        if reference is not None:
            base = reference.overall["ndcg@10"]
            ratio = f"{result.overall['ndcg@10'] / base:.2f}" if base else "n/a"
            line += f"{ratio:>{len(ratio_title)}}"
        lines.append(line)
    return "\n".join(lines)


# -------------------------------------------------------------------------------------------------- CLI

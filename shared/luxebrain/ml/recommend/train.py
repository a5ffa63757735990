"""Training of the recommender: EASE or item-kNN item-to-item model, repeat-purchase memory, popularity.

What a trained artifact (kind ``recommend``) holds, all as plain arrays (no pickle):
- an item-to-item score matrix S, pruned to the strongest ``neighbours_per_item`` targets per item (CSR).
  For catalogues that fit memory it is Steck's EASE (2019): B = I - P / diag(P), P = (XᵀX + λI)⁻¹,
  with X the binary customer × product matrix; beyond ``ease_max_items`` products it is item-kNN
  (cosine with shrinkage and popularity damping on time-decayed interactions).
- each customer's purchase history with a recency-weighted repeat score (CSR), because shoppers re-buy
  and a recommender that ignores repurchase loses to "rank what they bought before";
- bought-together pairs (order co-occurrence with support and lift, CSR);
- all-time popularity, trending (recency-weighted) popularity, rising popularity (products whose share of
  recent orders exceeds their long-run share: launches and seasonal items) and product categories.
Scoring lives in ``luxebrain.ml.recommend.serving`` (numpy only) so training, evaluation and the API rank identically.

Training-side module: numpy, scipy.sparse and pandas.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from luxebrain.ml.artifacts import ModelArtifact
from luxebrain.ml.dataset import DatasetError, require_columns
from luxebrain.ml.recommend.evaluation import (
    EvaluationTask,
    SplitError,
    evaluate_rankings,
    popularity_ranker,
    repeat_ranker,
    temporal_splits,
)
from luxebrain.ml.recommend.serving import KIND, Recommender

ALGORITHMS = ("auto", "ease", "item_knn")
REQUIRED_COLUMNS = ["order_id", "customer_id", "product_id", "ordered_at"]
SECONDS_PER_DAY = 86_400.0


@dataclass(frozen=True)
class RecommenderParams:
    """Hyper-parameters. Defaults were chosen on a validation split of Online Retail (see benchmarks)."""

    algorithm: str = "auto"  # "auto": EASE up to ease_max_items products, item-kNN beyond
    ease_lambda: float = 300.0  # L2 penalty of EASE; larger = more popularity-like
    ease_max_items: int = 6_000  # dense n x n float64 Gram matrix: 6,000 products ~ 0.3 GB per copy
    knn_shrinkage: float = 10.0  # cosine denominator shrinkage: damps pairs seen by few customers
    knn_popularity_damping: float = 0.5  # 0.5 = cosine; higher damps popular target products more
    knn_half_life_days: float = 365.0  # time decay of interactions for item-kNN
    neighbours_per_item: int = 100  # strongest targets kept per product (artifact size, serving speed)
    knn_max_history_items: int = 500  # item-kNN learns from each customer's most recent products only
    repeat_weight: float = 1.0  # weight of the customer's own (recency-weighted) repeat score
    repeat_half_life_days: float = 120.0
    # The customer's history feeds the item-item model with recency weights: recent baskets say most
    # about the next one (weight = (decayed order count / customer's max) ** power; power 0 = binary).
    history_half_life_days: float = 10.0
    history_weight_power: float = 0.5
    trending_half_life_days: float = 14.0
    popularity_weight: float = 0.2  # popularity share mixed into every personal ranking
    # Rising popularity: recent share of orders minus long-run share, in units of the top recent share, so a
    # store whose sales do not shift (no launches, no season) gets only small values and little change.
    rising_weight: float = 1.0
    rising_half_life_days: float = 7.0
    rising_baseline_half_life_days: float = 365.0
    small_store_shrinkage: float = 50.0  # popularity share grows as 50 / (50 + customers) for small stores
    bought_together_min_support: int = 2  # orders a pair must share before its lift is trusted
    bought_together_per_item: int = 50
    evaluate_holdout: bool = True  # score a temporal holdout (last 10 % of lines) into the manifest
    holdout_fraction: float = 0.1
    holdout_max_customers: int = 2_000  # sample of test customers, keeps training time bounded

    def validate(self) -> None:
        if self.algorithm not in ALGORITHMS:
            raise ValueError(f"algorithm must be one of {', '.join(ALGORITHMS)}, got {self.algorithm!r}")
        positive = {
            "ease_lambda": self.ease_lambda,
            "knn_half_life_days": self.knn_half_life_days,
            "repeat_half_life_days": self.repeat_half_life_days,
            "history_half_life_days": self.history_half_life_days,
            "trending_half_life_days": self.trending_half_life_days,
            "rising_half_life_days": self.rising_half_life_days,
            "rising_baseline_half_life_days": self.rising_baseline_half_life_days,
            "neighbours_per_item": self.neighbours_per_item,
            "knn_max_history_items": self.knn_max_history_items,
            "ease_max_items": self.ease_max_items,
            "bought_together_per_item": self.bought_together_per_item,
        }
        for name, value in positive.items():
            if not value > 0:
                raise ValueError(f"{name} must be positive, got {value}")
        non_negative = {
            "knn_shrinkage": self.knn_shrinkage,
            "repeat_weight": self.repeat_weight,
            "popularity_weight": self.popularity_weight,
            "rising_weight": self.rising_weight,
            "small_store_shrinkage": self.small_store_shrinkage,
            "bought_together_min_support": self.bought_together_min_support,
            "knn_popularity_damping": self.knn_popularity_damping,
            "history_weight_power": self.history_weight_power,
        }
        for name, value in non_negative.items():
            if value < 0:
                raise ValueError(f"{name} must be >= 0, got {value}")
        if not 0.0 < self.holdout_fraction < 1.0:
            raise ValueError(f"holdout_fraction must be between 0 and 1, got {self.holdout_fraction}")


# ------------------------------------------------------------------------------------------ input prep


def _clean_order_lines(order_lines: pd.DataFrame) -> pd.DataFrame:
    require_columns(order_lines, REQUIRED_COLUMNS, "order_lines")
    lines = order_lines[[c for c in order_lines.columns if c in {*REQUIRED_COLUMNS, "category"}]].copy()
    for column in ("order_id", "customer_id", "product_id"):
        missing = lines[column].isna().to_numpy()
        if missing.any():
            row = int(np.flatnonzero(missing)[0])
            raise DatasetError(f"order_lines column {column!r}, row {row}: value is missing")
        lines[column] = lines[column].astype(str)
    try:
        lines["ordered_at"] = pd.to_datetime(lines["ordered_at"], utc=True)
    except (ValueError, TypeError) as exc:
        raise DatasetError(f"order_lines column 'ordered_at' holds values that are not timestamps: {exc}") from exc
    missing = lines["ordered_at"].isna().to_numpy()
    if missing.any():
        raise DatasetError(f"order_lines column 'ordered_at', row {int(np.flatnonzero(missing)[0])}: no timestamp")
    return lines


def _catalogue(lines: pd.DataFrame, products: pd.DataFrame | None) -> tuple[list[str], dict[str, str]]:
    """Product ids (sold ones first, by id, then unsold catalogue products) and product -> category."""
    sold = sorted(lines["product_id"].unique().tolist())
    categories: dict[str, str] = {}
    if "category" in lines.columns:
        named = lines.dropna(subset=["category"]).drop_duplicates("product_id", keep="last")
        categories.update(zip(named["product_id"], named["category"].astype(str), strict=True))
    unsold: list[str] = []
    if products is not None and not products.empty:
        require_columns(products, ["product_id"], "products")
        ids = products["product_id"].astype(str)
        sold_set = set(sold)
        unsold = sorted(set(ids) - sold_set)
        if "category" in products.columns:
            named = products.assign(product_id=ids).dropna(subset=["category"])
            categories.update(zip(named["product_id"], named["category"].astype(str), strict=True))
    return sold + unsold, categories


def _decay(ages_days: np.ndarray, half_life_days: float) -> np.ndarray:
    return np.exp(-np.maximum(ages_days, 0.0) * (math.log(2.0) / half_life_days))


# ------------------------------------------------------------------------------------- item-item models


def ease_matrix(interactions: sp.csr_matrix, ease_lambda: float) -> np.ndarray:
    """Steck's EASE: closed-form item-item weights with a zero diagonal (dense, float64)."""
    gram = (interactions.T @ interactions).toarray().astype(np.float64, copy=False)
    gram[np.diag_indices_from(gram)] += ease_lambda
    precision = np.linalg.inv(gram)
    del gram
    precision /= -np.diag(precision)[np.newaxis, :]  # B_ij = -P_ij / P_jj, in place to spare memory
    np.fill_diagonal(precision, 0.0)
    return precision


def gram_top_per_row(
    matrix: sp.csr_matrix,
    keep: int,
    *,
    score: Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray] | None = None,
    min_value: float = 0.0,
    block_pairs: int = 4_000_000,
) -> sp.csr_matrix:
    """The ``keep`` largest entries of each row of ``matrix.T @ matrix`` (diagonal left out), in row blocks.

    The full product holds one entry per pair of products a customer (or an order) shares: it grows with the
    square of a long history and reached 16 GB on a 70,000-product grocery export. Rows are computed a block
    at a time, each block sized so that it produces at most about ``block_pairs`` products before pruning,
    scored by ``score(rows, columns, co-occurrence)`` and cut to its top ``keep``: memory is bounded by the
    block, not by the catalogue or the customers' history lengths, and the result equals pruning the full
    product.
    """
    matrix = matrix.tocsr()
    n_items = matrix.shape[1]
    by_item = matrix.T.tocsr()
    pattern = by_item.copy()
    pattern.data = np.ones_like(pattern.data, dtype=np.float64)
    row_lengths = np.diff(matrix.indptr).astype(np.float64)
    pairs_per_item = pattern @ row_lengths  # entries each item's row produces before pruning
    blocks: list[sp.csr_matrix] = []
    start = 0
    while start < n_items:
        produced = np.cumsum(pairs_per_item[start:])
        end = start + max(1, int(np.searchsorted(produced, block_pairs, side="right")))
        block = (by_item[start:end] @ matrix).tocoo()
        rows, columns, values = block.row, block.col, block.data.astype(np.float64)
        del block
        off_diagonal = columns != rows + start
        rows, columns, values = rows[off_diagonal], columns[off_diagonal], values[off_diagonal]
        if score is not None:
            values = score(rows + start, columns, values)
        chosen = values > min_value
        scored = sp.csr_matrix((values[chosen], (rows[chosen], columns[chosen])), shape=(end - start, n_items))
        blocks.append(top_per_row(scored, keep))
        start = end
    if not blocks:
        return sp.csr_matrix((0, n_items), dtype=np.float32)
    return sp.vstack(blocks, format="csr").astype(np.float32)


def item_knn_matrix(
    interactions: sp.csr_matrix, *, shrinkage: float, popularity_damping: float, keep: int
) -> sp.csr_matrix:
    """Item-kNN: co-occurrence / (|i|^(1-a) |j|^a + shrinkage), a = 0.5 is cosine, larger damps popular j;
    the ``keep`` strongest neighbours of each product, computed in blocks (see ``gram_top_per_row``)."""
    norms = np.sqrt(np.asarray(interactions.multiply(interactions).sum(axis=0)).ravel())

    def cosine(rows: np.ndarray, columns: np.ndarray, co: np.ndarray) -> np.ndarray:
        denominator = norms[rows] ** (2 * (1 - popularity_damping)) * norms[columns] ** (2 * popularity_damping)
        return co / (denominator + shrinkage)

    return gram_top_per_row(interactions, keep, score=cosine)


def cap_history(customers: np.ndarray, items: np.ndarray, ages_days: np.ndarray, max_items: int) -> np.ndarray:
    """Mask keeping each customer's ``max_items`` most recent (customer, product) pairs.

    A loyal grocery household buys hundreds of distinct products; its pairs grow with the square of that
    and say little about the next basket that its recent products do not.
    """
    order = np.lexsort((ages_days, customers))  # by customer, most recent first
    sorted_customers = customers[order]
    starts = np.searchsorted(sorted_customers, sorted_customers, side="left")
    rank = np.arange(order.size) - starts
    keep = np.zeros(order.size, dtype=bool)
    keep[order[rank < max_items]] = True
    return keep


def top_per_row(matrix: np.ndarray | sp.csr_matrix, keep: int) -> sp.csr_matrix:
    """Keep the ``keep`` largest positive entries of each row (pruned similarity, smaller and faster)."""
    if isinstance(matrix, np.ndarray):
        n_rows, n_cols = matrix.shape
        keep = min(keep, n_cols)
        if keep == 0 or n_rows == 0:
            return sp.csr_matrix((n_rows, n_cols), dtype=np.float32)
        columns = np.argpartition(-matrix, keep - 1, axis=1)[:, :keep]
        values = np.take_along_axis(matrix, columns, axis=1)
        rows = np.repeat(np.arange(n_rows), keep)
        positive = values.ravel() > 0
        pruned = sp.csr_matrix(
            (values.ravel()[positive], (rows[positive], columns.ravel()[positive])), shape=matrix.shape
        )
    else:
        coo = matrix.tocoo()
        positive = coo.data > 0
        row, col, data = coo.row[positive], coo.col[positive], coo.data[positive]
        order = np.lexsort((-data, row))
        row, col, data = row[order], col[order], data[order]
        starts = np.searchsorted(row, row, side="left")
        rank = np.arange(row.size) - starts
        chosen = rank < keep
        pruned = sp.csr_matrix((data[chosen], (row[chosen], col[chosen])), shape=matrix.shape)
    pruned.sort_indices()
    return pruned.astype(np.float32)


def bought_together(
    order_index: np.ndarray, item_index: np.ndarray, n_items: int, *, min_support: int, keep: int
) -> tuple[sp.csr_matrix, sp.csr_matrix]:
    """Pairs bought in the same order: (lift, support) CSR matrices, top ``keep`` per product by support."""
    _, order_rows = np.unique(order_index, return_inverse=True)
    n_orders = int(order_rows.max()) + 1 if order_rows.size else 0
    baskets = sp.csr_matrix(
        (np.ones(order_rows.size, dtype=np.float32), (order_rows, item_index)), shape=(n_orders, n_items)
    )
    baskets.data[:] = 1.0  # duplicates of a product in one order count once
    baskets.sum_duplicates()
    baskets.data[:] = 1.0
    item_orders = np.asarray(baskets.sum(axis=0)).ravel().astype(np.float64)
    support = gram_top_per_row(baskets, keep, min_value=max(min_support, 1) - 0.5)
    rows = np.repeat(np.arange(n_items), np.diff(support.indptr))
    lift = support.copy()
    lift.data = (support.data * n_orders / (item_orders[rows] * item_orders[support.indices])).astype(np.float32)
    return lift, support


# ------------------------------------------------------------------------------------------- training


def train_recommender(
    order_lines: pd.DataFrame,
    products: pd.DataFrame | None = None,
    *,
    params: RecommenderParams | None = None,
    now: datetime | None = None,
) -> ModelArtifact:
    """Train the recommender on ``order_lines`` (see ``luxebrain.ml.dataset``) and return its artifact.

    ``products`` (optional) adds unsold catalogue products and categories. ``now`` anchors recency
    weights (default: the last order's time). An empty store yields a valid popularity-only artifact.
    """
    params = params or RecommenderParams()
    params.validate()
    lines = _clean_order_lines(order_lines)
    if now is None:
        now = lines["ordered_at"].max().to_pydatetime() if not lines.empty else datetime.now(UTC)
    elif now.tzinfo is None:
        now = now.replace(tzinfo=UTC)

    metrics: dict[str, Any] = {}
    if params.evaluate_holdout:
        metrics = _holdout_metrics(lines, products, params)

    arrays, extra, counts = _fit(lines, products, params, now)
    return ModelArtifact(
        kind=KIND, arrays=arrays, params=asdict(params), metrics=metrics, data_counts=counts, extra=extra
    )


def _ranking_artifact(
    lines: pd.DataFrame, products: pd.DataFrame | None, params: RecommenderParams, now: datetime
) -> ModelArtifact:
    """An artifact for the hold-out's personal rankings (``lines`` already cleaned): bought-together pairs
    are left empty, as they never enter ``for_customer``, which spares an order co-occurrence pass."""
    arrays, extra, counts = _fit(lines, products, params, now, with_bought_together=False)
    return ModelArtifact(kind=KIND, arrays=arrays, params=asdict(params), data_counts=counts, extra=extra)


def _fit(
    lines: pd.DataFrame,
    products: pd.DataFrame | None,
    params: RecommenderParams,
    now: datetime,
    *,
    with_bought_together: bool = True,
) -> tuple[dict[str, np.ndarray], dict[str, Any], dict[str, int]]:
    product_ids, categories = _catalogue(lines, products)
    n_items = len(product_ids)
    product_position = pd.Index(product_ids)
    customers, customer_rows = np.unique(lines["customer_id"].to_numpy(dtype=str), return_inverse=True)
    n_customers = len(customers)
    item_cols = product_position.get_indexer(lines["product_id"])
    now_ts = pd.Timestamp(now).tz_convert("UTC") if pd.Timestamp(now).tzinfo else pd.Timestamp(now, tz="UTC")
    ages_days = ((now_ts - lines["ordered_at"]).dt.total_seconds() / SECONDS_PER_DAY).to_numpy(dtype=np.float64)

    # One row per (customer, product, order): repeat purchases count once per order, not per line.
    order_codes = pd.factorize(lines["order_id"])[0]
    per_order = pd.DataFrame({"c": customer_rows, "i": item_cols, "o": order_codes, "age": ages_days})
    per_order = per_order.groupby(["c", "i", "o"], sort=False)["age"].min().reset_index()
    c, i, age = per_order["c"].to_numpy(), per_order["i"].to_numpy(), per_order["age"].to_numpy()

    binary = sp.csr_matrix((np.ones(c.size), (c, i)), shape=(n_customers, n_items))
    binary.data[:] = 1.0
    n_sold = int((np.diff(binary.tocsc().indptr) > 0).sum()) if n_items else 0

    algorithm = params.algorithm
    if algorithm == "auto":
        algorithm = "ease" if n_sold <= params.ease_max_items else "item_knn"
    if n_sold == 0:
        similarity = sp.csr_matrix((n_items, n_items), dtype=np.float32)
    elif algorithm == "ease":
        sold_binary = binary[:, :n_sold]  # sold products come first in the index
        dense = ease_matrix(sold_binary, params.ease_lambda)
        pruned = top_per_row(dense, params.neighbours_per_item)
        del dense
        similarity = sp.csr_matrix(
            (
                pruned.data,
                pruned.indices,
                np.concatenate([pruned.indptr, np.full(n_items - n_sold, pruned.nnz)]),
            ),
            shape=(n_items, n_items),
        )
    else:
        # One weight per customer and product (their latest purchase, decayed): counts would let a few
        # heavy re-buyers dominate the cosine.
        latest = pd.DataFrame({"c": c, "i": i, "age": age}).groupby(["c", "i"], sort=False)["age"].min()
        latest_c = latest.index.get_level_values(0).to_numpy()
        latest_i = latest.index.get_level_values(1).to_numpy()
        latest_age = latest.to_numpy()
        recent = cap_history(latest_c, latest_i, latest_age, params.knn_max_history_items)
        decayed = sp.csr_matrix(
            (_decay(latest_age[recent], params.knn_half_life_days), (latest_c[recent], latest_i[recent])),
            shape=(n_customers, n_items),
        )
        similarity = item_knn_matrix(
            decayed,
            shrinkage=params.knn_shrinkage,
            popularity_damping=params.knn_popularity_damping,
            keep=params.neighbours_per_item,
        )

    # Repeat memory and model input: sums over the customer's orders of a recency weight, scaled to 1
    # per customer (same sparsity pattern, so one index array serves both).
    history = _recency_history(c, i, age, (n_customers, n_items), params.repeat_half_life_days)
    history_weight = _recency_history(c, i, age, (n_customers, n_items), params.history_half_life_days)
    history_weight.data = history_weight.data**params.history_weight_power

    popularity = np.asarray(binary.sum(axis=0)).ravel()
    line_orders = pd.DataFrame({"i": item_cols, "o": order_codes, "age": ages_days}).drop_duplicates(["i", "o"])

    def decayed_orders(half_life_days: float) -> np.ndarray:
        return np.bincount(
            line_orders["i"].to_numpy(),
            weights=_decay(line_orders["age"].to_numpy(), half_life_days),
            minlength=n_items,
        )

    trending = decayed_orders(params.trending_half_life_days)
    rising = rising_popularity(
        decayed_orders(params.rising_half_life_days), decayed_orders(params.rising_baseline_half_life_days)
    )
    if with_bought_together:
        lift, support = bought_together(
            order_codes,
            item_cols,
            n_items,
            min_support=params.bought_together_min_support,
            keep=params.bought_together_per_item,
        )
    else:
        lift = support = sp.csr_matrix((n_items, n_items), dtype=np.float32)

    category_names = sorted(set(categories.values()))
    category_position = {name: position for position, name in enumerate(category_names)}
    item_category = np.array([category_position.get(categories.get(p, ""), -1) for p in product_ids], np.int32)
    small_store_share = params.small_store_shrinkage / (params.small_store_shrinkage + n_customers)
    popularity_weight = params.popularity_weight + (1.0 - params.popularity_weight) * small_store_share

    arrays = {
        "similarity_indptr": similarity.indptr.astype(np.int64),
        "similarity_indices": similarity.indices.astype(np.int32),
        "similarity_values": similarity.data.astype(np.float32),
        "history_indptr": history.indptr.astype(np.int64),
        "history_items": history.indices.astype(np.int32),
        "history_repeat": history.data.astype(np.float32),
        "history_weight": history_weight.data.astype(np.float32),
        "together_indptr": lift.indptr.astype(np.int64),
        "together_indices": lift.indices.astype(np.int32),
        "together_lift": lift.data.astype(np.float32),
        "together_support": support.data.astype(np.int32),
        "popularity": popularity.astype(np.float32),
        "trending": trending.astype(np.float32),
        "rising": rising.astype(np.float32),
        "item_category": item_category,
    }
    extra = {
        "product_ids": product_ids,
        "customer_ids": customers.tolist(),
        "categories": category_names,
        "algorithm": algorithm if n_sold else "popular",
        "repeat_weight": params.repeat_weight,
        "popularity_weight": popularity_weight,
        "rising_weight": params.rising_weight,
        "trained_at": now_ts.isoformat(),
    }
    counts = {
        "order_lines": len(lines),
        "orders": int(order_codes.max()) + 1 if len(lines) else 0,
        "customers": n_customers,
        "products_sold": n_sold,
        "products": n_items,
    }
    return arrays, extra, counts


def rising_popularity(recent_orders: np.ndarray, long_run_orders: np.ndarray) -> np.ndarray:
    """Each product's recent share of orders above its long-run share, divided by the top recent share.

    Dividing by the top recent share (not by the largest rise) keeps the term in the units of popularity:
    where shares barely move, the values stay small instead of stretching noise to 1.
    """
    recent_total, long_run_total = float(recent_orders.sum()), float(long_run_orders.sum())
    if recent_total <= 0 or long_run_total <= 0:
        return np.zeros_like(recent_orders, dtype=np.float64)
    recent_share = recent_orders / recent_total
    return np.maximum(recent_share - long_run_orders / long_run_total, 0.0) / float(recent_share.max())


def _recency_history(
    customers: np.ndarray, items: np.ndarray, ages_days: np.ndarray, shape: tuple[int, int], half_life: float
) -> sp.csr_matrix:
    """Customer x product sums of recency weights (one term per order), scaled so each customer's max is 1."""
    # Ages count from the customer's own latest order, so old customers do not underflow to zero.
    latest = np.full(shape[0], np.inf)
    np.minimum.at(latest, customers, ages_days)
    relative = ages_days - latest[customers] if customers.size else ages_days
    history = sp.csr_matrix((_decay(relative, half_life), (customers, items)), shape=shape)
    history.sum_duplicates()
    history.sort_indices()
    lengths = np.diff(history.indptr)
    if history.nnz:
        row_max = np.ones(shape[0])
        row_max[lengths > 0] = np.maximum.reduceat(history.data, history.indptr[:-1][lengths > 0])
        history.data = history.data / np.repeat(row_max, lengths)
    return history


# ---------------------------------------------------------------------------------------- evaluation


def rank_customers(
    artifact: ModelArtifact, customer_ids: list[str], k: int, *, exclude_seen: bool = False
) -> list[list[str]]:
    """Top-k product ids per customer exactly as the API ranks them (no business rules)."""
    recommender = Recommender.from_artifact(artifact)
    return [recommender.rank_ids(customer, k, exclude_purchased=exclude_seen) for customer in customer_ids]


def _subsample(task: EvaluationTask, limit: int) -> EvaluationTask:
    if len(task.customers) <= limit:
        return task
    chosen = np.sort(np.random.default_rng(0).choice(len(task.customers), size=limit, replace=False))
    return replace(
        task,
        customers=[task.customers[j] for j in chosen],
        truth=[task.truth[j] for j in chosen],
        seen=[task.seen[j] for j in chosen],
        train_orders=task.train_orders[chosen],
    )


def _holdout_metrics(lines: pd.DataFrame, products: pd.DataFrame | None, params: RecommenderParams) -> dict:
    """Temporal holdout: train on the first 90 % of lines, score the rest against popularity and repeat."""
    results: dict[str, Any] = {"split": "temporal", "test_fraction": params.holdout_fraction}
    artifact: ModelArtifact | None = None
    try:
        tasks = temporal_splits(lines, test_fraction=params.holdout_fraction)
    except SplitError as exc:
        return {"holdout_skipped": str(exc)}
    for protocol, task in tasks.items():
        task = _subsample(task, params.holdout_max_customers)
        if artifact is None:
            cutoff = task.cutoff if task.cutoff is not None else task.train["ordered_at"].max()
            artifact = _ranking_artifact(task.train, products, params, cutoff.to_pydatetime())
        model = evaluate_rankings(task, rank_customers(artifact, task.customers, 20, exclude_seen=task.exclude_seen))
        popular = evaluate_rankings(task, popularity_ranker(task))
        repeat = evaluate_rankings(task, repeat_ranker(task))
        base = popular.overall["ndcg@10"]
        results[protocol] = {
            "test_customers": model.customers,
            "model": model.overall,
            "popularity": popular.overall,
            "repeat_baseline": repeat.overall,
            "model_buckets_ndcg@10": {name: m["ndcg@10"] for name, m in model.buckets.items()},
            "ndcg@10_ratio_to_popularity": (model.overall["ndcg@10"] / base) if base > 0 else None,
        }
    return {"holdout": results}

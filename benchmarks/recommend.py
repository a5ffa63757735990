"""Recommendation benchmark: our recommender against tuned implicit ALS, BPR, item-kNN, popularity and repeat.

Run: ``.venv/bin/python -m benchmarks.recommend`` (Online Retail; about 3-5 minutes on 2 cores).
Options: ``--quick`` (smaller grids, no 1M scaling run), ``--skip-scaling``, ``--skip-serving``,
``--transactions FILE --user-col ... --item-col ... --time-col ...`` for another data set, ``--sample-store``
for the development sample store (guests keyed by e-mail as ingest keys them; ``recommend_sample_store.json``).

Protocol (same run, same split for every method):
- temporal split: the last 10 % of purchase lines (by time) is the test period; test customers are those
  with training history. Hyper-parameters of ALS, BPR and ours are chosen on a validation split cut the
  same way from the training period only, with the same budget of configurations (ALS and ours: 8 each).
- two protocols: ``all_items`` (next purchases, re-purchases included) and ``new_items`` (only products
  new to the customer count; everyone excludes past purchases). Also a leave-last-basket split.
Large catalogue (``--large-catalogue`` alone, or with the scaling runs): a generated grocery-like store
(``generated_catalogue_store``) of 5,000 products x 200,000 lines (EASE, the small path, and item-kNN) and of
100,000 products x 2 million lines (item-kNN, similarities in blocks with top-k pruning and histories capped
to their 500 most recent products): time, peak RSS of a fresh process and the training hold-out's NDCG@10
beside popularity and re-buy.
Outputs: ``benchmarks/out/recommend.json`` and ``recommend_ndcg.png``, ``recommend_scaling.png``.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import resource
import subprocess
import sys
import time
import warnings
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from luxebrain.ml.artifacts import ModelArtifact
from luxebrain.ml.recommend.evaluation import (
    ACTIVITY_BUCKETS,
    PROTOCOLS,
    RANKING_LENGTH,
    EvaluationResult,
    EvaluationTask,
    Ranker,
    format_table,
    leave_last_basket_splits,
    load_transactions_csv,
    popularity_ranker,
    repeat_ranker,
    temporal_splits,
)
from luxebrain.ml.recommend.serving import RecommendationRules, Recommender
from luxebrain.ml.recommend.train import RecommenderParams, rank_customers, train_recommender

OUT = Path(__file__).parent / "out"
DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
if not DATA.is_dir():  # a worktree one level further down; else the handbook's own place (as benchmarks/customers.py)
    DATA = next(
        (p for p in (Path(__file__).resolve().parents[3] / "shared" / "data", Path("/work/shared/data")) if p.is_dir()),
        DATA,
    )
ONLINE_RETAIL = DATA / "uci-online-retail" / "online_retail.csv.gz"
NON_PRODUCT_CODES = {"POST", "M", "C2", "DOT", "BANK CHARGES", "PADS", "D", "CRUK", "AMAZONFEE", "S", "B"}

ALS_GRID = [
    {"factors": f, "regularization": r, "alpha": a} for f in (64, 128) for r in (0.01, 0.1) for a in (1.0, 10.0)
]
BPR_GRID = [{"factors": 64, "learning_rate": lr} for lr in (0.01, 0.05)]  # BPR is slow and far behind
OURS_GRID = [  # one-at-a-time moves around the defaults (same budget as ALS: 8 fits)
    {},
    {"rising_weight": 0.0},
    {"ease_lambda": 600.0},
    {"rising_weight": 2.0},
    {"history_half_life_days": 3.0},
    {"history_half_life_days": 30.0},
    {"popularity_weight": 0.05},
    {"repeat_weight": 2.0},
]
# The small-catalogue path (EASE, and item-kNN on the same data) beside 100,000 products x 2M lines.
LARGE_CATALOGUE_RUNS = [(5_000, 200_000, "auto"), (5_000, 200_000, "item_knn"), (100_000, 2_000_000, "auto")]


# ------------------------------------------------------------------------------------------------ data


def load_online_retail(path: Path = ONLINE_RETAIL) -> pd.DataFrame:
    """Online Retail as order_lines: guests, cancellations (quantity <= 0) and postage/fee codes dropped."""
    lines = load_transactions_csv(
        path,
        user_col="CustomerID",
        item_col="StockCode",
        time_col="InvoiceDate",
        quantity_col="Quantity",
        order_col="InvoiceNo",
    )
    cancelled = lines["order_id"].str.split("|").str[1].str.startswith("C")
    return lines[~cancelled & ~lines["product_id"].isin(NON_PRODUCT_CODES)].reset_index(drop=True)


def load_sample_store(*, amounts: bool = False) -> pd.DataFrame:
    """The development sample store's paid orders as order_lines, guests keyed by e-mail as ingest keys them.

    With ``amounts``, each line's quantity, unit price and total too (what the customer and forecast models read).
    """
    from datetime import UTC, datetime

    from luxebrain.ingest.mapping import guest_customer_id
    from luxebrain_dev.sample_store import generate_sample_store

    store = generate_sample_store(as_of=datetime(2026, 11, 1, tzinfo=UTC))
    rows = [
        (
            str(order["id"]),
            str(order["customer_id"]) if order["customer_id"] else guest_customer_id(order["billing"].get("email")),
            str(line["product_id"]),
            order["date_created_gmt"],
            float(line["quantity"]),
            float(line["total"]),
        )
        for order in store.orders
        if order["status"] in ("processing", "completed")
        for line in order["line_items"]
    ]
    lines = pd.DataFrame(
        rows, columns=["order_id", "customer_id", "product_id", "ordered_at", "quantity", "line_total"]
    )
    lines["ordered_at"] = pd.to_datetime(lines["ordered_at"], utc=True)
    if not amounts:
        return lines.drop(columns=["quantity", "line_total"])
    lines["unit_price"] = lines["line_total"] / lines["quantity"].where(lines["quantity"] > 0, 1.0)
    return lines


# ------------------------------------------------------------------------------------- implicit baselines


class ImplicitRanker:
    """Wraps an ``implicit`` model: fit on a task's training lines, rank its test customers."""

    def __init__(self, factory: Any, confidence: str = "orders") -> None:
        self.factory = factory
        self.confidence = confidence

        self._fitted: tuple[int, Any, Any, Any, Any] | None = None  # one fit per training frame

    def __call__(self, task: EvaluationTask) -> list[list[str]]:
        from threadpoolctl import threadpool_limits

        if self._fitted is None or self._fitted[0] != id(task.train):
            self._fitted = (id(task.train), *self._fit(task.train))
        _, model, users, items, user_items = self._fitted
        with threadpool_limits(1, "blas"):
            user_position = {u: j for j, u in enumerate(users)}
            rows = np.array([user_position[c] for c in task.customers])
            ids, _ = model.recommend(
                rows, user_items[rows], N=RANKING_LENGTH, filter_already_liked_items=task.exclude_seen
            )
        return [[items[j] for j in row if 0 <= j < len(items)] for row in ids]

    def _fit(self, train: pd.DataFrame) -> tuple[Any, np.ndarray, np.ndarray, Any]:
        import scipy.sparse as sp
        from threadpoolctl import threadpool_limits

        users, user_rows = np.unique(train["customer_id"].to_numpy(dtype=str), return_inverse=True)
        items, item_cols = np.unique(train["product_id"].to_numpy(dtype=str), return_inverse=True)
        pairs = pd.DataFrame({"u": user_rows, "i": item_cols, "o": train["order_id"].to_numpy()})
        counts = pairs.drop_duplicates().groupby(["u", "i"]).size().reset_index(name="n")
        values = counts["n"].to_numpy(np.float32) if self.confidence == "orders" else np.ones(len(counts), np.float32)
        user_items = sp.csr_matrix((values, (counts["u"], counts["i"])), shape=(len(users), len(items)))
        with threadpool_limits(1, "blas"):  # implicit's advice: its own threads, single-threaded BLAS
            model = self.factory()
            model.fit(user_items, show_progress=False)
        return model, users, items, user_items


def als_factory(factors: int, regularization: float, alpha: float) -> Any:
    from implicit.cpu.als import AlternatingLeastSquares

    return lambda: AlternatingLeastSquares(
        factors=factors, regularization=regularization, alpha=alpha, iterations=15, random_state=7
    )


def bpr_factory(factors: int, learning_rate: float) -> Any:
    from implicit.cpu.bpr import BayesianPersonalizedRanking

    return lambda: BayesianPersonalizedRanking(
        factors=factors, learning_rate=learning_rate, regularization=0.01, iterations=100, random_state=7
    )


def cosine_factory(neighbours: int = 100) -> Any:
    from implicit.nearest_neighbours import CosineRecommender

    return lambda: CosineRecommender(K=neighbours)


def ours_ranker(params: RecommenderParams) -> Ranker:
    fitted: dict[int, ModelArtifact] = {}  # one fit per training frame, shared by both protocols

    def rank(task: EvaluationTask) -> list[list[str]]:
        if id(task.train) not in fitted:
            fitted.clear()
            now = task.train["ordered_at"].max().to_pydatetime()
            fitted[id(task.train)] = train_recommender(task.train, params=params, now=now)
        artifact = fitted[id(task.train)]
        return rank_customers(artifact, task.customers, RANKING_LENGTH, exclude_seen=task.exclude_seen)

    return rank


# -------------------------------------------------------------------------------------------- tuning


def tune(
    name: str, candidates: list[tuple[dict, Ranker]], validation: dict[str, EvaluationTask]
) -> dict[str, tuple[dict, float]]:
    """Pick, per protocol, the configuration with the best validation NDCG@10 (each config fitted once)."""
    from luxebrain.ml.recommend.evaluation import evaluate_rankings

    best: dict[str, tuple[dict, float]] = {}
    for config, ranker in candidates:
        started = time.perf_counter()
        for protocol, task in validation.items():
            score = evaluate_rankings(task, ranker(task)).overall["ndcg@10"]
            if protocol not in best or score > best[protocol][1]:
                best[protocol] = (config, score)
        print(f"  {name} {config}: {time.perf_counter() - started:.1f}s", flush=True)
    return best


# -------------------------------------------------------------------------------------------- accuracy


def accuracy(lines: pd.DataFrame, quick: bool) -> dict[str, Any]:
    from luxebrain.ml.recommend.evaluation import evaluate_rankings

    tasks = temporal_splits(lines, test_fraction=0.1)
    train = tasks["all_items"].train
    validation = temporal_splits(train, test_fraction=0.1)
    print(
        f"temporal split: cut-off {tasks['all_items'].cutoff}, {len(train):,} training lines, "
        f"{len(tasks['all_items'].customers):,} test customers (all_items), "
        f"{len(tasks['new_items'].customers):,} (new_items); validation cut-off {validation['all_items'].cutoff}",
        flush=True,
    )
    als_grid = ALS_GRID[:4] if quick else ALS_GRID
    ours_grid = OURS_GRID[:4] if quick else OURS_GRID
    bpr_grid = BPR_GRID[:2] if quick else BPR_GRID
    base = RecommenderParams(evaluate_holdout=False)
    print(f"tuning on validation ({len(als_grid)} ALS / {len(ours_grid)} ours / {len(bpr_grid)} BPR configs)")
    best_als = tune("als", [(c, ImplicitRanker(als_factory(**c))) for c in als_grid], validation)
    best_ours = tune("ours", [(c, ours_ranker(replace(base, **c))) for c in ours_grid], validation)
    best_bpr = tune("bpr", [(c, ImplicitRanker(bpr_factory(**c), "binary")) for c in bpr_grid], validation)

    shared = {  # the same object for both protocols: fitted once per split
        "ours (defaults)": ours_ranker(base),
        "ours item_knn": ours_ranker(replace(base, algorithm="item_knn")),
        "implicit item-kNN cosine": ImplicitRanker(cosine_factory(), "binary"),
    }
    tuned = {  # tuned per protocol
        protocol: {
            "ours (tuned)": ours_ranker(replace(base, **best_ours[protocol][0])),
            "implicit ALS (tuned)": ImplicitRanker(als_factory(**best_als[protocol][0])),
            "implicit BPR (tuned)": ImplicitRanker(bpr_factory(**best_bpr[protocol][0]), "binary"),
        }
        for protocol in PROTOCOLS
    }

    def methods_for(protocol: str) -> dict[str, Ranker]:
        return {
            "ours (tuned)": tuned[protocol]["ours (tuned)"],
            "ours (defaults)": shared["ours (defaults)"],
            "ours item_knn": shared["ours item_knn"],
            "implicit ALS (tuned)": tuned[protocol]["implicit ALS (tuned)"],
            "implicit BPR (tuned)": tuned[protocol]["implicit BPR (tuned)"],
            "implicit item-kNN cosine": shared["implicit item-kNN cosine"],
            "popularity": popularity_ranker,
            "repeat own purchases": repeat_ranker,
        }

    results: dict[str, Any] = {
        "tuned": {
            "als": {p: best_als[p][0] for p in PROTOCOLS},
            "ours": {p: best_ours[p][0] for p in PROTOCOLS},
            "bpr": {p: best_bpr[p][0] for p in PROTOCOLS},
        },
        "splits": {},
    }
    tables = []
    for split_name, split_tasks in (("temporal", tasks), ("leave_last_basket", leave_last_basket_splits(lines))):
        for protocol, task in split_tasks.items():
            rows: list[tuple[str, EvaluationResult]] = []
            timings: dict[str, float] = {}
            for name, ranker in methods_for(protocol).items():
                started = time.perf_counter()
                rows.append((name, evaluate_rankings(task, ranker(task))))
                timings[name] = time.perf_counter() - started
            key = f"{split_name}/{protocol}"
            results["splits"][key] = {
                "customers": len(task.customers),
                "methods": {name: {**r.as_dict(), "fit_and_rank_seconds": timings[name]} for name, r in rows},
            }
            tables.append((key, len(task.customers), rows, timings))
    for key, customers, rows, timings in tables:
        print(f"\n{key} ({customers:,} test customers); last column = NDCG@10 / tuned ALS")
        print(format_table(rows, baseline="implicit ALS (tuned)"))
        print("fit + rank seconds: " + ", ".join(f"{n} {t:.1f}" for n, t in timings.items()))
    return results


# ---------------------------------------------------------------------------------------- scaling


def scaled_lines(lines: pd.DataFrame, size: int) -> pd.DataFrame:
    """The first ``size`` lines by time; beyond the data, copies with renamed customers and orders."""
    if size <= len(lines):
        return lines.iloc[:size].reset_index(drop=True)
    copies = []
    for copy in range(-(-size // len(lines))):
        part = lines.copy()
        if copy:
            part["customer_id"] = part["customer_id"] + f"~{copy}"
            part["order_id"] = part["order_id"] + f"~{copy}"
        copies.append(part)
    return pd.concat(copies, ignore_index=True).iloc[:size]


def _read_status(field: str) -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field):
                return int(line.split()[1]) * 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def scaling_child(size: int, holdout: bool) -> dict[str, Any]:
    """Run in a fresh process: train on ``size`` lines, report seconds and peak RSS during training."""
    lines = scaled_lines(load_online_retail(), size)
    gc.collect()
    before = _read_status("VmRSS")
    try:  # reset the peak-RSS counter so it measures training, not CSV parsing
        with open("/proc/self/clear_refs", "w") as clear:
            clear.write("5")
    except OSError:
        pass
    started, cpu_started = time.perf_counter(), time.process_time()
    artifact = train_recommender(lines, params=RecommenderParams(evaluate_holdout=holdout))
    seconds = time.perf_counter() - started
    cpu_seconds = time.process_time() - cpu_started  # all threads; shows the cost apart from contention
    return {
        "lines": size,
        "holdout_evaluation": holdout,
        "seconds": seconds,
        "cpu_seconds": cpu_seconds,
        "load_average_1min": os.getloadavg()[0],
        "peak_rss_bytes": _read_status("VmHWM"),
        "rss_before_bytes": before,
        "customers": artifact.data_counts["customers"],
        "products": artifact.data_counts["products"],
        "algorithm": artifact.extra["algorithm"],
        "artifact_bytes": sum(len(b) for b in artifact.to_files().values()),
    }


def scaling(sizes: list[int]) -> list[dict[str, Any]]:
    rows = []
    for size in sizes:
        for holdout in (False, True):
            out = subprocess.run(
                [sys.executable, "-m", "benchmarks.recommend", "--scaling-child", str(size)]
                + (["--holdout"] if holdout else []),
                capture_output=True,
                text=True,
                check=True,
                cwd=Path(__file__).resolve().parents[1],
            )
            rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
            row = rows[-1]
            print(
                f"  {size:>9,} lines holdout={holdout!s:<5}: {row['seconds']:6.1f} s "
                f"({row['cpu_seconds']:.1f} s CPU, load average {row['load_average_1min']:.1f}), "
                f"peak RSS {row['peak_rss_bytes'] / 2**20:7.0f} MiB",
                flush=True,
            )
    return rows


# ------------------------------------------------------------------------------ large catalogue


def generated_catalogue_store(products: int, lines: int, seed: int = 7) -> pd.DataFrame:
    """A generated grocery-like store: ``products`` products in categories of 100, about ``lines`` order lines.

    Customers (one per ~100 lines; a tenth of them loyal households with 5x the orders) each favour 3
    categories and 20 staples from them. A line is a staple (40 %), a product of a favourite category (45 %,
    Zipf-popular within it) or any product (15 %, Zipf over categories). So there is something to learn:
    repeats, category taste and popularity, as in a real store, and histories long enough to stress pairs.
    """
    rng = np.random.default_rng(seed)
    per_category = 100
    categories = max(1, products // per_category)
    customers = max(10, lines // 130)
    loyal = rng.random(customers) < 0.1
    orders_per_customer = 1 + rng.negative_binomial(2, 0.2, customers) * np.where(loyal, 5, 1)
    order_customer = np.repeat(np.arange(customers), orders_per_customer)
    basket = 1 + rng.poisson(9, order_customer.size)
    scale = lines / basket.sum()
    basket = np.maximum(1, np.round(basket * scale)).astype(int)
    line_order = np.repeat(np.arange(order_customer.size), basket)
    line_customer = order_customer[line_order]
    favourite = rng.integers(0, categories, (customers, 3))

    def zipf_rank(size: int) -> np.ndarray:
        return np.minimum(rng.zipf(1.6, size) - 1, per_category - 1)

    staple_category = favourite[np.arange(customers)[:, None], rng.integers(0, 3, (customers, 20))]
    staples = staple_category * per_category + zipf_rank(customers * 20).reshape(customers, 20)
    kind = rng.random(line_order.size)
    staple = staples[line_customer, rng.integers(0, 20, line_order.size)]
    in_favourite = favourite[line_customer, rng.integers(0, 3, line_order.size)] * per_category + zipf_rank(
        line_order.size
    )
    anywhere = (np.minimum(rng.zipf(1.3, line_order.size) - 1, categories - 1)) * per_category + zipf_rank(
        line_order.size
    )
    product = np.where(kind < 0.4, staple, np.where(kind < 0.85, in_favourite, anywhere)) % products
    order_day = rng.uniform(0, 365, order_customer.size)
    start = pd.Timestamp("2025-01-01", tz="UTC")
    return pd.DataFrame(
        {
            "order_id": pd.Index(line_order).astype(str),
            "customer_id": pd.Index(line_customer).astype(str),
            "product_id": pd.Index(product).astype(str),
            "ordered_at": start + pd.to_timedelta(order_day[line_order], unit="D"),
            "quantity": 1.0,
            "line_total": 5.0,
        }
    )


def large_catalogue_child(products: int, lines: int, algorithm: str) -> dict[str, Any]:
    """In a fresh process: train (hold-out evaluation on) on a generated store; seconds, peak RSS, accuracy."""
    store = generated_catalogue_store(products, lines)
    gc.collect()
    try:  # reset the peak-RSS counter so it measures training, with the order lines already in memory
        with open("/proc/self/clear_refs", "w") as clear:
            clear.write("5")
    except OSError:
        pass
    before = _read_status("VmRSS")
    started, cpu_started = time.perf_counter(), time.process_time()
    artifact = train_recommender(store, params=RecommenderParams(algorithm=algorithm))
    holdout = artifact.metrics.get("holdout", {})

    def ndcg(protocol: str, method: str) -> float | None:
        return holdout.get(protocol, {}).get(method, {}).get("ndcg@10")

    return {
        "products": products,
        "lines": len(store),
        "customers": artifact.data_counts["customers"],
        "products_sold": artifact.data_counts["products_sold"],
        "algorithm": artifact.extra["algorithm"],
        "seconds": time.perf_counter() - started,
        "cpu_seconds": time.process_time() - cpu_started,
        "load_average_1min": os.getloadavg()[0],
        "peak_rss_bytes": _read_status("VmHWM"),
        "rss_before_bytes": before,
        "ndcg@10": {
            protocol: {method: ndcg(protocol, method) for method in ("model", "popularity", "repeat_baseline")}
            for protocol in ("all_items", "new_items")
        },
    }


def large_catalogue(runs: list[tuple[int, int, str]]) -> list[dict[str, Any]]:
    rows = []
    for products, lines, algorithm in runs:
        out = subprocess.run(
            [sys.executable, "-m", "benchmarks.recommend", "--large-child", str(products), str(lines), algorithm],
            capture_output=True,
            text=True,
            check=True,
            cwd=Path(__file__).resolve().parents[1],
        )
        row = json.loads(out.stdout.strip().splitlines()[-1])
        rows.append(row)
        scores = row["ndcg@10"]
        print(
            f"  {products:>7,} products x {row['lines']:>9,} lines ({row['algorithm']}): {row['seconds']:6.1f} s "
            f"({row['cpu_seconds']:.1f} s CPU, load {row['load_average_1min']:.1f}), peak RSS "
            f"{row['peak_rss_bytes'] / 2**20:6.0f} MiB; NDCG@10 all items ours {scores['all_items']['model']:.3f} "
            f"popularity {scores['all_items']['popularity']:.3f} re-buy {scores['all_items']['repeat_baseline']:.3f}"
            f"; new items ours {scores['new_items']['model']:.3f} popularity {scores['new_items']['popularity']:.3f}",
            flush=True,
        )
    return rows


# ---------------------------------------------------------------------------------------- serving


def catalogue_of(lines: pd.DataFrame, target_products: int, seed: int = 3) -> pd.DataFrame:
    """Widen the catalogue to ``target_products``: a copy of the data where some products get twins."""
    rng = np.random.default_rng(seed)
    products = lines["product_id"].unique()
    extra = max(target_products - len(products), 0)
    twins = set(rng.choice(products, size=min(extra, len(products)), replace=False))
    copy = lines.copy()
    copy["customer_id"] = copy["customer_id"] + "~twin"
    copy["order_id"] = copy["order_id"] + "~twin"
    copy["product_id"] = np.where(copy["product_id"].isin(twins), copy["product_id"] + "~twin", copy["product_id"])
    return pd.concat([lines, copy], ignore_index=True)


def serving(lines: pd.DataFrame, calls: int = 2_000) -> dict[str, Any]:
    wide = catalogue_of(lines, 5_000)
    artifact = train_recommender(wide, params=RecommenderParams(evaluate_holdout=False))
    files = artifact.to_files()
    load_times = []
    for _ in range(15):
        started = time.perf_counter()
        recommender = Recommender.from_artifact(ModelArtifact.from_files(files))
        load_times.append(time.perf_counter() - started)
    rng = np.random.default_rng(11)
    customers = rng.choice(recommender.customer_ids, size=calls)
    products = rng.choice(recommender.product_ids, size=(calls, 3))
    unavailable = frozenset(rng.choice(recommender.product_ids, size=200, replace=False).tolist())
    in_stock = frozenset(recommender.product_ids) - unavailable
    rules = RecommendationRules(unavailable=unavailable, exclude_purchased=True, block=frozenset(list(unavailable)[:5]))
    allow_list_rules = RecommendationRules(in_stock=in_stock)
    kinds = {
        "for_customer (rules)": lambda j: recommender.for_customer(str(customers[j]), 10, rules),
        "for_customer (in_stock allow-list)": lambda j: recommender.for_customer(
            str(customers[j]), 10, allow_list_rules
        ),
        "similar (1 product)": lambda j: recommender.similar([str(products[j, 0])], 10, rules),
        "bought_together (3 products)": lambda j: recommender.similar([str(p) for p in products[j]], 10, rules),
        "popular (rules)": lambda j: recommender.popular(10, rules),
    }
    latency: dict[str, dict[str, float]] = {}
    for name, call in kinds.items():
        for j in range(50):  # warm-up
            call(j)
        samples = np.empty(calls)
        cpu_samples = np.empty(calls)  # CPU time of this thread: excludes waiting for a busy core
        for j in range(calls):
            started, cpu_started = time.perf_counter(), time.thread_time()
            call(j)
            samples[j] = time.perf_counter() - started
            cpu_samples[j] = time.thread_time() - cpu_started
        latency[name] = {
            "p50_ms": float(np.percentile(samples, 50) * 1e3),
            "p99_ms": float(np.percentile(samples, 99) * 1e3),
            "cpu_p99_ms": float(np.percentile(cpu_samples, 99) * 1e3),
        }
    return {
        "products": recommender.n_products,
        "customers": len(recommender.customer_ids),
        "artifact_bytes": sum(len(b) for b in files.values()),
        "load_ms_median": float(np.median(load_times) * 1e3),
        "load_ms_max": float(np.max(load_times) * 1e3),
        "latency": latency,
        "load_average_1min": os.getloadavg()[0],
    }


# ------------------------------------------------------------------------------------------ plots


def plot(results: dict[str, Any]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    splits = results.get("accuracy", {}).get("splits", {})
    keys = [k for k in ("temporal/all_items", "temporal/new_items") if k in splits]
    fig, axes = plt.subplots(1, max(len(keys), 1), figsize=(7 * max(len(keys), 1), 5))
    for ax, key in zip(np.atleast_1d(axes), keys, strict=False):
        methods = splits[key]["methods"]
        names = list(methods)
        buckets = [b for b, _, _ in ACTIVITY_BUCKETS]
        width = 0.8 / (len(buckets) + 1)
        x = np.arange(len(names))
        ax.bar(x, [methods[n]["overall"]["ndcg@10"] for n in names], width, label="all customers")
        for offset, bucket in enumerate(buckets, start=1):
            ax.bar(
                x + offset * width,
                [methods[n]["buckets"][bucket]["ndcg@10"] for n in names],
                width,
                label=f"{bucket} orders",
            )
        ax.set_xticks(x + width * len(buckets) / 2, names, rotation=35, ha="right", fontsize=8)
        ax.set_ylabel("NDCG@10")
        ax.set_title(f"Online Retail, {key}")
        ax.legend(fontsize=8)
    fig.tight_layout()
    if keys:
        fig.savefig(OUT / "recommend_ndcg.png", dpi=110)
    plt.close(fig)

    if results.get("scaling"):
        rows = [r for r in results["scaling"] if not r["holdout_evaluation"]]
        rows_h = [r for r in results["scaling"] if r["holdout_evaluation"]]
        fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
        for series, label in ((rows, "train"), (rows_h, "train + holdout evaluation")):
            left.plot([r["lines"] for r in series], [r["seconds"] for r in series], marker="o", label=label)
            right.plot(
                [r["lines"] for r in series], [r["peak_rss_bytes"] / 2**30 for r in series], marker="o", label=label
            )
        left.axhline(30, color="red", linestyle="--", label="goal 30 s")
        right.axhline(2, color="red", linestyle="--", label="goal 2 GB")
        for ax, label in ((left, "seconds"), (right, "peak RSS (GiB)")):
            ax.set_xscale("log")
            ax.set_xlabel("purchase lines")
            ax.set_ylabel(label)
            ax.legend(fontsize=8)
        fig.tight_layout()
        fig.savefig(OUT / "recommend_scaling.png", dpi=110)
        plt.close(fig)


# -------------------------------------------------------------------------------------------- goals


def goals(results: dict[str, Any]) -> list[str]:
    report = []
    for key in ("temporal/all_items", "temporal/new_items") if "accuracy" in results else ():
        methods = results["accuracy"]["splits"][key]["methods"]
        ours, als, pop = (methods[n] for n in ("ours (tuned)", "implicit ALS (tuned)", "popularity"))
        vs_als = ours["overall"]["ndcg@10"] / als["overall"]["ndcg@10"]
        vs_pop = ours["overall"]["ndcg@10"] / pop["overall"]["ndcg@10"]
        worst = min(
            (ours["buckets"][b]["ndcg@10"] / max(als["buckets"][b]["ndcg@10"], 1e-12), b) for b in ours["buckets"]
        )
        report.append(f"{key}: NDCG@10 ours/ALS {vs_als:.2f} (goal >= 1.2: {'met' if vs_als >= 1.2 else 'MISSED'})")
        report.append(f"{key}: NDCG@10 ours/popularity {vs_pop:.2f} (goal >= 2: {'met' if vs_pop >= 2 else 'MISSED'})")
        report.append(
            f"{key}: worst bucket ours/ALS {worst[0]:.2f} in {worst[1]} "
            f"(goal >= 1: {'met' if worst[0] >= 1 else 'MISSED'})"
        )
    for key in ("temporal/all_items", "leave_last_basket/all_items") if "accuracy" in results else ():
        methods = results["accuracy"]["splits"][key]["methods"]
        vs_rebuy = methods["ours (tuned)"]["overall"]["ndcg@10"] / methods["repeat own purchases"]["overall"]["ndcg@10"]
        report.append(
            f"{key}: NDCG@10 ours/re-buy {vs_rebuy:.3f} (goal >= 1.05: {'met' if vs_rebuy >= 1.05 else 'MISSED'})"
        )
    for row in results.get("large_catalogue", []):
        if row["products"] >= 100_000:
            ok = row["peak_rss_bytes"] <= 2 * 2**30
            report.append(
                f"{row['products']:,} products x {row['lines']:,} lines: peak RSS "
                f"{row['peak_rss_bytes'] / 2**30:.2f} GiB (goal <= 2 GB: {'met' if ok else 'MISSED'}), "
                f"{row['seconds']:.0f} s"
            )
    for row in results.get("scaling", []):
        if row["lines"] == 1_000_000:
            ok = row["seconds"] < 30 and row["peak_rss_bytes"] < 2e9
            report.append(
                f"1M lines (holdout evaluation {'on' if row['holdout_evaluation'] else 'off'}): "
                f"{row['seconds']:.1f} s, peak RSS {row['peak_rss_bytes'] / 1e9:.2f} GB "
                f"(goal < 30 s and < 2 GB: {'met' if ok else 'MISSED'})"
            )
    if "serving" in results:
        s = results["serving"]
        worst_p99 = max(v["p99_ms"] for v in s["latency"].values())
        worst_cpu = max(v["cpu_p99_ms"] for v in s["latency"].values())
        report.append(
            f"serving p99 worst call {worst_p99:.2f} ms wall, {worst_cpu:.2f} ms CPU "
            f"(goal < 5 ms: {'met' if worst_p99 < 5 else 'MISSED'} on wall time, "
            f"load average {s['load_average_1min']:.1f})"
        )
        report.append(
            f"artifact load ({s['products']:,} products) median {s['load_ms_median']:.0f} ms, "
            f"max {s['load_ms_max']:.0f} ms "
            f"(goal < 200 ms: {'met' if s['load_ms_median'] < 200 else 'MISSED'})"
        )
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="smaller grids, no 1M-line scaling run")
    parser.add_argument("--skip-scaling", action="store_true")
    parser.add_argument("--skip-serving", action="store_true")
    parser.add_argument("--skip-accuracy", action="store_true", help="only scaling and serving")
    parser.add_argument("--transactions", type=Path, default=None, help="another CSV (default: Online Retail)")
    parser.add_argument("--sample-store", action="store_true", help="the development sample store's orders")
    parser.add_argument("--user-col")
    parser.add_argument("--item-col")
    parser.add_argument("--time-col")
    parser.add_argument("--quantity-col")
    parser.add_argument("--order-col")
    parser.add_argument("--scaling-child", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--holdout", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--large-catalogue", action="store_true", help="only the generated 100,000-product runs")
    parser.add_argument("--large-child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.scaling_child:
        print(json.dumps(scaling_child(args.scaling_child, args.holdout)))
        return 0
    if args.large_child:
        products, lines, algorithm = args.large_child
        print(json.dumps(large_catalogue_child(int(products), int(lines), algorithm)))
        return 0
    if args.large_catalogue:
        OUT.mkdir(parents=True, exist_ok=True)
        print("large catalogue (generated store, fresh process per run, hold-out evaluation on)")
        results = {"large_catalogue": large_catalogue(LARGE_CATALOGUE_RUNS)}
        results["goals"] = goals(results)
        for line in results["goals"]:
            print("  " + line)
        (OUT / "recommend_large.json").write_text(json.dumps(results, indent=2, default=str))
        return 0

    OUT.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    if args.transactions:
        lines = load_transactions_csv(
            args.transactions,
            user_col=args.user_col,
            item_col=args.item_col,
            time_col=args.time_col,
            quantity_col=args.quantity_col,
            order_col=args.order_col,
        )
    elif args.sample_store:
        lines = load_sample_store()
    else:
        lines = load_online_retail()
    print(
        f"{len(lines):,} lines, {lines['customer_id'].nunique():,} customers, "
        f"{lines['product_id'].nunique():,} products, {lines['order_id'].nunique():,} orders",
        flush=True,
    )
    results: dict[str, Any] = {} if args.skip_accuracy else {"accuracy": accuracy(lines, args.quick)}
    other_data = bool(args.transactions or args.sample_store)
    if not args.skip_scaling and not other_data:
        print("\nscaling (fresh process per size; peak RSS during training)")
        results["scaling"] = scaling([10_000, 100_000] if args.quick else [10_000, 100_000, 1_000_000])
    if not args.skip_scaling and not other_data:
        print("\nlarge catalogue (generated store, fresh process per run, hold-out evaluation on)")
        results["large_catalogue"] = large_catalogue(LARGE_CATALOGUE_RUNS)
    if not args.skip_serving:
        print("\nserving (5,000-product catalogue)")
        results["serving"] = serving(lines)
        s = results["serving"]
        print(f"  artifact {s['artifact_bytes'] / 2**20:.1f} MiB, load median {s['load_ms_median']:.1f} ms")
        for name, v in s["latency"].items():
            print(
                f"  {name:<36} p50 {v['p50_ms']:.2f} ms  p99 {v['p99_ms']:.2f} ms  "
                f"(CPU-time p99 {v['cpu_p99_ms']:.2f} ms)"
            )
        print(f"  machine load average while measuring: {s['load_average_1min']:.1f} on {os.cpu_count()} cores")
    results["goals"] = goals(results) if not args.transactions else []
    stem = "recommend_sample_store" if args.sample_store else "recommend"
    print("\ngoals")
    for line in results["goals"]:
        print("  " + line)
    results["total_seconds"] = time.perf_counter() - started
    (OUT / f"{stem}.json").write_text(json.dumps(results, indent=2, default=str))
    if other_data:
        print(f"\nwrote {OUT / f'{stem}.json'} in {results['total_seconds']:.0f} s")
        return 0
    plot(results)
    print(
        f"\nwrote {OUT / 'recommend.json'}, recommend_ndcg.png, recommend_scaling.png "
        f"in {results['total_seconds']:.0f} s"
    )
    return 0


if __name__ == "__main__":
    warnings.filterwarnings("ignore", module="implicit")  # CSR-conversion notices, not results
    raise SystemExit(main())

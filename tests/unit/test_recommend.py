"""Recommender training (EASE / item-kNN, repeat memory, bought-together lift) and numpy-only serving."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from luxebrain.ml.artifacts import ModelArtifact
from luxebrain.ml.dataset import DatasetError
from luxebrain.ml.recommend.evaluation import load_transactions_csv
from luxebrain.ml.recommend.serving import (
    RecommendationInputError,
    RecommendationRules,
    Recommender,
)
from luxebrain.ml.recommend.train import (
    RecommenderParams,
    bought_together,
    cap_history,
    ease_matrix,
    gram_top_per_row,
    item_knn_matrix,
    rank_customers,
    rising_popularity,
    top_per_row,
    train_recommender,
)

FIXTURE = Path(__file__).parents[1] / "fixtures" / "recommend_online_retail_sample.csv"
START = datetime(2024, 1, 1, tzinfo=UTC)
NO_HOLDOUT = RecommenderParams(evaluate_holdout=False)


def family_store(customers: int = 60, seed: int = 0) -> pd.DataFrame:
    """Two product families: garden (G1..G4) and kitchen (K1..K4). Each customer shops one family."""
    rng = np.random.default_rng(seed)
    rows = []
    for c in range(customers):
        family = "G" if c % 2 == 0 else "K"
        for order in range(3):
            items = rng.choice([f"{family}{n}" for n in range(1, 5)], size=2, replace=False)
            when = START + timedelta(days=int(rng.integers(0, 90)), hours=order)
            rows += [(f"o{c}-{order}", f"cust{c}", str(item), when) for item in items]
    frame = pd.DataFrame(rows, columns=["order_id", "customer_id", "product_id", "ordered_at"])
    frame["ordered_at"] = pd.to_datetime(frame["ordered_at"], utc=True)
    frame["quantity"], frame["unit_price"], frame["line_total"] = 1.0, 5.0, 5.0
    return frame


def catalogue(ids: list[str]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "product_id": ids,
            "name": ids,
            "category": ["garden" if p.startswith("G") else "kitchen" for p in ids],
            "in_stock": True,
            "published": True,
        }
    )


@pytest.fixture(scope="module")
def store() -> pd.DataFrame:
    return family_store()


@pytest.fixture(scope="module")
def recommender(store: pd.DataFrame) -> Recommender:
    products = catalogue([*sorted(store["product_id"].unique()), "G9"])  # G9: in the catalogue, never sold
    artifact = train_recommender(store, products, params=NO_HOLDOUT)
    return Recommender.from_artifact(ModelArtifact.from_files(artifact.to_files()))


# ------------------------------------------------------------------------------------------- algorithms


def test_ease_weights_solve_the_constrained_ridge_regression() -> None:
    # Given a random binary customer x product matrix
    rng = np.random.default_rng(1)
    interactions = sp.csr_matrix((rng.random((40, 7)) < 0.3).astype(float))
    weights = ease_matrix(interactions, ease_lambda=5.0)
    # Then the diagonal is zero and, off the diagonal, (G + λI) B = G (the EASE normal equations)
    gram = (interactions.T @ interactions).toarray()
    residual = (gram + 5.0 * np.eye(7)) @ weights - gram
    off_diagonal = ~np.eye(7, dtype=bool)
    assert np.allclose(np.diag(weights), 0.0)
    assert np.allclose(residual[off_diagonal], 0.0, atol=1e-9)


def test_bought_together_lift_is_pair_support_over_chance() -> None:
    # Given 4 orders over products 0..2: {0,1}, {0,1}, {0,2}, {2}
    orders = np.array([0, 0, 1, 1, 2, 2, 3])
    items = np.array([0, 1, 0, 1, 0, 2, 2])
    lift, support = bought_together(orders, items, 3, min_support=2, keep=10)
    # Then only the pair seen twice is kept, with lift = 2 * 4 / (3 * 2)
    assert support[0, 1] == 2 and support[0, 2] == 0
    assert lift[0, 1] == pytest.approx(2 * 4 / (3 * 2))


def test_customers_get_their_own_family_and_similar_items_stay_in_family(recommender: Recommender) -> None:
    # When a garden shopper asks "for you" and a kitchen product page asks "similar"
    garden = recommender.for_customer("cust0", k=4, rules=RecommendationRules(exclude_purchased=False))
    similar = recommender.similar(["K1"], k=3)
    # Then the answers come from the right family, the model names itself, scores are finite and sorted
    assert all(p.startswith("G") for p in garden.product_ids)
    assert garden.strategy in {"ease", "blend"} and garden.mode == "for_customer"
    assert similar.mode == "similar" and all(p.startswith("K") for p in similar.product_ids)
    assert "K1" not in similar.product_ids
    scores = [p.score for p in garden.products]
    assert all(np.isfinite(scores)) and scores == sorted(scores, reverse=True)


def test_a_basket_gets_bought_together_items_with_lift(recommender: Recommender) -> None:
    answer = recommender.similar(["G1", "G2"], k=2)
    assert answer.mode == "bought_together"
    assert set(answer.product_ids) <= {"G3", "G4"}
    assert all(p.lift is not None and p.lift > 1.0 for p in answer.products)


def test_item_knn_is_used_beyond_the_ease_size_limit(store: pd.DataFrame) -> None:
    artifact = train_recommender(store, params=RecommenderParams(evaluate_holdout=False, ease_max_items=4))
    served = Recommender.from_artifact(artifact)
    assert artifact.extra["algorithm"] == "item_knn"
    assert all(p.startswith("K") for p in served.similar(["K2"], k=3).product_ids)


def test_batch_ranking_matches_the_api(store: pd.DataFrame, recommender: Recommender) -> None:
    artifact = train_recommender(store, catalogue([*sorted(store["product_id"].unique()), "G9"]), params=NO_HOLDOUT)
    batch = rank_customers(artifact, ["cust1", "cust2", "nobody"], 5)
    assert batch[0] == recommender.for_customer("cust1", 5).product_ids
    assert batch[1] == recommender.for_customer("cust2", 5).product_ids
    assert batch[2] == recommender.popular(5).product_ids


def test_recent_repeat_purchases_rank_high_for_you() -> None:
    # Given a customer who re-bought G1 many times, recently
    lines = family_store()
    extra = pd.DataFrame(
        {
            "order_id": [f"r{n}" for n in range(4)],
            "customer_id": "cust0",
            "product_id": "G1",
            "ordered_at": pd.to_datetime([START + timedelta(days=95 + n) for n in range(4)], utc=True),
            "quantity": 1.0,
            "unit_price": 5.0,
            "line_total": 5.0,
        }
    )
    served = Recommender.from_artifact(train_recommender(pd.concat([lines, extra]), params=NO_HOLDOUT))
    # Then G1 comes first unless already-bought products are excluded
    assert served.for_customer("cust0", 3).product_ids[0] == "G1"
    assert "G1" not in served.for_customer("cust0", 3, RecommendationRules(exclude_purchased=True)).product_ids


def test_rising_popularity_is_the_recent_share_above_the_long_run_share() -> None:
    # Given recent shares 0.4 / 0.1 / 0.5 against long-run shares 0.4 / 0.4 / 0.2
    rising = rising_popularity(np.array([8.0, 2.0, 10.0]), np.array([40.0, 40.0, 20.0]))
    # Then only the third rose, by 0.3, in units of the top recent share (0.5)
    np.testing.assert_allclose(rising, [0.0, 0.0, 0.6])
    # And a store whose shares do not move has no rising product
    np.testing.assert_allclose(rising_popularity(np.array([1.0, 3.0]), np.array([10.0, 30.0])), [0.0, 0.0])


def test_a_product_launched_recently_rises_in_new_item_rankings() -> None:
    # Given a kitchen product, K9, bought by ten kitchen customers in the store's last three days
    lines = family_store()
    last = lines["ordered_at"].max()
    launch = pd.DataFrame(
        {
            "order_id": [f"launch{n}" for n in range(10)],
            "customer_id": [f"cust{2 * n + 1}" for n in range(10)],
            "product_id": "K9",
            "ordered_at": [last - timedelta(hours=7 * n) for n in range(10)],
            "quantity": 1.0,
            "unit_price": 5.0,
            "line_total": 5.0,
        }
    )
    lines = pd.concat([lines, launch], ignore_index=True)
    rising = Recommender.from_artifact(train_recommender(lines, params=NO_HOLDOUT))
    flat = Recommender.from_artifact(train_recommender(lines, params=replace(NO_HOLDOUT, rising_weight=0.0)))
    # Then it rises most, and a garden customer sees it higher among products new to them than without the term
    assert rising.product_ids[int(np.argmax(rising._rising))] == "K9"
    position = {
        name: model.rank_ids("cust0", 8, exclude_purchased=True).index("K9")
        for name, model in (("rising", rising), ("flat", flat))
    }
    assert position["rising"] < position["flat"]


def test_new_item_scores_are_scaled_over_the_products_not_yet_bought() -> None:
    # Given A and B almost always bought together, C sometimes with A, and a customer who bought A and B
    baskets = [("A", "B")] * 30 + [("A", "C")] * 5 + [("B", "D")] * 3
    rows = [(f"o{n}", f"c{n}", item, START + timedelta(days=n)) for n, basket in enumerate(baskets) for item in basket]
    lines = pd.DataFrame(rows, columns=["order_id", "customer_id", "product_id", "ordered_at"])
    # And personal scores made of the item-to-item score alone
    params = replace(NO_HOLDOUT, popularity_weight=0.0, small_store_shrinkage=0.0, rising_weight=0.0)
    served = Recommender.from_artifact(train_recommender(lines, params=params))
    # When the customer's own purchases are excluded
    answer = served.for_customer("c0", 2, RecommendationRules(exclude_purchased=True))
    # Then the best product they have not bought scores 1: A and B, which point at each other, do not set the scale
    assert set(answer.product_ids) == {"C", "D"}
    assert answer.products[0].score == pytest.approx(1.0)


# ------------------------------------------------------------------------------------------------ rules


def test_out_of_stock_and_blocked_products_disappear_without_retraining(recommender: Recommender) -> None:
    before = recommender.similar(["G1"], k=3).product_ids
    rules = RecommendationRules(unavailable={before[0]}, block={before[1]})
    after = recommender.similar(["G1"], k=3, rules=rules).product_ids
    assert before[0] not in after and before[1] not in after and len(after) == 3


def test_allow_lists_category_pins_and_boosts(recommender: Recommender) -> None:
    in_stock = {"G2", "G3", "K1", "K2", "K3"}
    answer = recommender.for_customer("cust0", 5, RecommendationRules(in_stock=in_stock, published=in_stock - {"G3"}))
    assert set(answer.product_ids) <= in_stock - {"G3"}
    kitchen_only = recommender.for_customer("cust0", 4, RecommendationRules(category="kitchen"))
    assert kitchen_only.product_ids and all(p.startswith("K") for p in kitchen_only.product_ids)
    pinned = recommender.for_customer("cust0", 3, RecommendationRules(pin=("K4", "NEW-PRODUCT")))
    assert pinned.product_ids[:2] == ["K4", "NEW-PRODUCT"] and pinned.products[0].pinned
    plain = recommender.similar(["G1"], k=8).product_ids
    boosted = recommender.similar(["G1"], k=8, rules=RecommendationRules(boost={plain[-1]: 10.0})).product_ids
    assert boosted[0] == plain[-1]


def test_popular_by_category_and_unsold_catalogue_products(recommender: Recommender) -> None:
    garden = recommender.popular(10, category="garden")
    assert garden.strategy == "popular_fallback" and all(p.startswith("G") for p in garden.product_ids)
    assert garden.product_ids[-1] == "G9"  # in the catalogue, never sold: last, score 0
    assert recommender.popular(10, category="no such category").product_ids == []
    unsold = recommender.similar(["G9"], k=3)
    assert unsold.strategy == "popular_fallback" and "G9" not in unsold.product_ids


# -------------------------------------------------------------------------------------------- bad input


def test_unknown_customer_and_unknown_product_fall_back_to_popular(recommender: Recommender) -> None:
    assert recommender.for_customer("stranger", 3).strategy == "popular_fallback"
    answer = recommender.similar(["no-such-product"], k=3)
    assert answer.strategy == "popular_fallback" and len(answer.product_ids) == 3


def test_k_out_of_range_and_ids_of_the_wrong_type_are_clear_errors(recommender: Recommender) -> None:
    for bad_k in (0, 101, "3", 2.5, True):
        with pytest.raises(RecommendationInputError, match="k must be"):
            recommender.popular(bad_k)  # type: ignore[arg-type]
    with pytest.raises(RecommendationInputError, match=r"product_ids\[1\] must be a string id, got float"):
        recommender.similar(["G1", 1.5], 3)  # type: ignore[list-item]
    with pytest.raises(RecommendationInputError, match="list of product id strings"):
        recommender.similar("G1", 3)  # type: ignore[arg-type]
    with pytest.raises(RecommendationInputError, match="customer_id must be a string id"):
        recommender.for_customer(None, 3)  # type: ignore[arg-type]
    # Integer ids (WooCommerce) are read as their decimal text
    assert recommender.for_customer(12345, 2).strategy == "popular_fallback"


def test_an_empty_store_trains_and_answers_without_crashing() -> None:
    empty = family_store().iloc[0:0]
    artifact = train_recommender(empty, catalogue(["G1", "K1"]), params=RecommenderParams())
    served = Recommender.from_artifact(ModelArtifact.from_files(artifact.to_files()))
    assert artifact.data_counts["order_lines"] == 0 and "holdout_skipped" in artifact.metrics
    assert served.for_customer("anyone", 5).strategy == "popular_fallback"
    assert sorted(served.popular(5).product_ids) == ["G1", "K1"]
    assert all(p.score == 0.0 for p in served.popular(5).products)


def test_a_small_store_blends_popularity_and_says_so() -> None:
    served = Recommender.from_artifact(train_recommender(family_store(customers=3), params=NO_HOLDOUT))
    answer = served.for_customer("cust0", 5)
    assert answer.strategy == "blend" and len(answer.product_ids) == 5


def test_bad_training_input_names_the_problem() -> None:
    with pytest.raises(DatasetError, match="missing column"):
        train_recommender(pd.DataFrame({"order_id": ["o"], "customer_id": ["c"]}))
    lines = family_store(customers=2)
    lines.loc[1, "product_id"] = None
    with pytest.raises(DatasetError, match="'product_id', row 1"):
        train_recommender(lines, params=NO_HOLDOUT)
    with pytest.raises(ValueError, match="algorithm must be one of"):
        train_recommender(family_store(2), params=RecommenderParams(algorithm="als"))


# ---------------------------------------------------------------------------------- artifact, real data


def test_real_sample_trains_with_holdout_metrics_and_a_popularity_baseline() -> None:
    # Given the Online Retail excerpt in the standard shape
    lines = load_transactions_csv(
        FIXTURE,
        user_col="CustomerID",
        item_col="StockCode",
        time_col="InvoiceDate",
        quantity_col="Quantity",
        order_col="InvoiceNo",
    )
    # When trained with the holdout evaluation on
    artifact = train_recommender(lines, params=RecommenderParams(holdout_fraction=0.3))
    # Then the manifest carries the model's and the popularity baseline's scores, and the artifact round-trips
    holdout = artifact.metrics["holdout"]["all_items"]
    assert 0.0 <= holdout["model"]["ndcg@10"] <= 1.0 and "ndcg@10" in holdout["popularity"]
    assert artifact.kind == "recommend" and artifact.data_counts["customers"] == lines["customer_id"].nunique()
    served = Recommender.from_artifact(ModelArtifact.from_files(artifact.to_files()))
    customer = lines["customer_id"].iloc[-1]
    assert len(served.for_customer(customer, 10).product_ids) == 10


def test_serving_module_imports_numpy_only() -> None:
    code = (
        "import sys, luxebrain.ml.recommend.serving\n"
        "heavy = {'pandas', 'scipy', 'sklearn'} & {m.split('.')[0] for m in sys.modules}\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)  # noqa: S603 (our own code string)


def test_reused_and_new_frozen_sets_of_unavailable_products_both_apply(recommender: Recommender) -> None:
    # Given a frozen set reused across calls (as the API does) and then a different one
    first = frozenset({"G2"})
    second = frozenset({"G3"})
    for _ in range(2):
        assert "G2" not in recommender.similar(["G1"], 3, RecommendationRules(unavailable=first)).product_ids
    # Then the second set is honoured too, not the cached positions of the first
    answer = recommender.similar(["G1"], 3, RecommendationRules(unavailable=second)).product_ids
    assert "G3" not in answer and "G2" in answer


def test_similarities_in_small_blocks_equal_pruning_the_full_co_occurrence() -> None:
    # Given 300 customers with long, random histories over 400 products
    rng = np.random.default_rng(4)
    rows = np.repeat(np.arange(300), 60)
    cols = rng.integers(0, 400, rows.size)
    interactions = sp.csr_matrix((rng.random(rows.size), (rows, cols)), shape=(300, 400))
    interactions.sum_duplicates()
    # When computing the 15 strongest neighbours per product in blocks of ~5,000 pairs (dozens of blocks)
    blocked = item_knn_matrix(interactions, shrinkage=10.0, popularity_damping=0.5, keep=15)
    # Then it equals the full item-item matrix, scored the same way and pruned afterwards
    full = (interactions.T @ interactions).tocsr()
    full.setdiag(0.0)
    full.eliminate_zeros()
    norms = np.sqrt(np.asarray(interactions.multiply(interactions).sum(axis=0)).ravel())
    r = np.repeat(np.arange(400), np.diff(full.indptr))
    full.data = full.data / (norms[r] * norms[full.indices] + 10.0)
    expected = top_per_row(full, 15)
    small_blocks = gram_top_per_row(
        interactions,
        15,
        score=lambda i, j, co: co / (norms[i] * norms[j] + 10.0),
        block_pairs=5_000,
    )
    for result in (blocked, small_blocks):
        np.testing.assert_allclose(result.toarray(), expected.toarray(), rtol=1e-5)
        assert result.getnnz(axis=1).max() <= 15 and result.diagonal().sum() == 0


def test_long_histories_are_capped_to_the_most_recent_products() -> None:
    customers = np.array([0, 0, 0, 0, 1])
    items = np.array([1, 2, 3, 4, 1])
    ages = np.array([5.0, 1.0, 9.0, 3.0, 100.0])
    keep = cap_history(customers, items, ages, 2)
    assert keep.tolist() == [False, True, False, True, True]

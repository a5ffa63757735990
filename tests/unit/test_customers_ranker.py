"""The hybrid "who buys again" ranker: the purchase and spend models' outputs and R, F, M as features."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from luxebrain.ml.artifacts import SERVES_MODEL
from luxebrain.ml.customers.evaluation import HYBRID_RANKER, evaluate_holdout
from luxebrain.ml.customers.model import CustomerParams
from luxebrain.ml.customers.ranker import RankerSkipped, fit_buy_again_ranker
from luxebrain.ml.customers.serving import CHURN_RISK_FROM_HYBRID, CustomerScores
from luxebrain.ml.customers.train import fit_models, train_customer_model
from luxebrain.ml.kinds import kind_verdict

START = datetime(2024, 1, 1, tzinfo=UTC)
START_DAY = int(START.timestamp() // 86_400)


def gift_and_regular_store(customers: int, seed: int) -> pd.DataFrame:
    """Half the customers buy a gift once (small orders) and almost never return; the others buy at a gamma
    rate and leave after a purchase with a beta probability (BG/NBD). A one-order customer's order value tells
    the two apart, which BG/NBD's purchase count ignores; a heavy buyer gone silent has left, which the R + F
    + M sum ignores. Orders over 491 days: the first 400 are history, the last 91 the hold-out."""
    rng = np.random.default_rng(seed)
    rows = []
    for customer in range(customers):
        gift = rng.random() < 0.5
        order_value = float(np.exp(rng.normal(np.log(25.0 if gift else 70.0), 0.3)))
        rate = rng.gamma(1.0, 1 / 30)
        leave = 0.9 if gift else rng.beta(1.0, 5.0)
        day = rng.uniform(0, 380)
        while day <= 491:
            rows.append((f"c{customer:05d}", START + timedelta(days=day), float(rng.gamma(6.0, order_value / 6.0))))
            if rng.random() < leave:
                break
            day += rng.exponential(1 / rate)
    return pd.DataFrame(rows, columns=["customer_id", "ordered_at", "amount"])


def test_the_hybrid_ranks_who_buys_again_better_than_the_purchase_model_and_the_rfm_sum() -> None:
    transactions = gift_and_regular_store(2000, seed=0)
    evaluation = evaluate_holdout(
        transactions, calibration_end_day=START_DAY + 400, holdout_end_day=START_DAY + 491, fit=fit_models
    )
    bought = evaluation.actual > 0
    assert evaluation.hybrid_score is not None
    hybrid = roc_auc_score(bought, evaluation.hybrid_score)
    assert hybrid > roc_auc_score(bought, evaluation.predicted) + 0.01  # catches the order value
    assert hybrid > roc_auc_score(bought, evaluation.rfm_score) + 0.01  # catches who has left
    metrics = evaluation.metrics
    assert metrics["hybrid_window_days"] == 91
    assert metrics["top_decile_lift_hybrid"] > metrics["top_decile_lift_rfm_heuristic"]
    assert metrics["top_decile_lift_hybrid"] >= metrics["top_decile_lift"]
    assert metrics["ranker"] == HYBRID_RANKER
    assert metrics["top_decile_lift_ranker"] == metrics["top_decile_lift_hybrid"]


def test_the_ranker_learns_only_from_the_history_before_its_as_of_day() -> None:
    transactions = gift_and_regular_store(600, seed=1)
    later = pd.DataFrame(  # orders after the as-of day must change nothing
        {"customer_id": ["c00000"] * 30, "ordered_at": [START + timedelta(days=450)] * 30, "amount": [1.0] * 30}
    )
    params = CustomerParams()
    first = fit_buy_again_ranker(
        transactions, as_of_day=START_DAY + 400, horizon_days=91, params=params, fit=fit_models
    )
    second = fit_buy_again_ranker(
        pd.concat([transactions, later]), as_of_day=START_DAY + 400, horizon_days=91, params=params, fit=fit_models
    )
    assert first.training_buyers == second.training_buyers
    probe = np.random.default_rng(0).normal(size=(5, 12))
    assert np.allclose(first.probability(probe), second.probability(probe))


def test_too_few_buyers_in_the_window_skip_the_ranker_with_the_reason() -> None:
    transactions = gift_and_regular_store(120, seed=2)
    with pytest.raises(RankerSkipped, match="bought in the ranker's 7-day window"):
        fit_buy_again_ranker(
            transactions, as_of_day=START_DAY + 400, horizon_days=7, params=CustomerParams(), fit=fit_models
        )


def test_a_version_whose_hold_out_chose_the_hybrid_orders_churn_risk_by_it_labelled() -> None:
    transactions = gift_and_regular_store(2000, seed=0)
    order_lines = transactions.assign(
        order_id=[f"o{i}" for i in range(len(transactions))], line_total=transactions["amount"]
    )
    as_of = START + timedelta(days=492)
    hybrid = train_customer_model(order_lines, as_of=as_of, params=CustomerParams(holdout_days=91))
    plain = train_customer_model(
        order_lines, as_of=as_of, params=CustomerParams(holdout_days=91, evaluate_holdout=False)
    )
    assert hybrid.metrics["holdout"]["ranker"] == HYBRID_RANKER
    assert hybrid.params["churn_risk_basis"] == CHURN_RISK_FROM_HYBRID
    assert kind_verdict("customers", hybrid.metrics).serves == SERVES_MODEL
    # the hybrid reorders the model's risks: the same values, so the same band sizes, another order
    risk, model_risk = hybrid.arrays["churn_risk"], plain.arrays["churn_risk"]
    assert np.array_equal(np.sort(risk), np.sort(model_risk))
    assert np.array_equal(np.bincount(hybrid.arrays["churn_band"]), np.bincount(plain.arrays["churn_band"]))
    assert not np.array_equal(risk, model_risk)
    hybrid.extra["serves"] = SERVES_MODEL
    scores = CustomerScores.from_artifact(hybrid)
    assert scores.customer("c00001")["churn_risk_basis"] == CHURN_RISK_FROM_HYBRID
    assert all(row["churn_risk_basis"] == CHURN_RISK_FROM_HYBRID for row in scores.at_risk(limit=5))

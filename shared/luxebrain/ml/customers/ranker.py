"""Who buys again: a small ranking model on the purchase and spend models' outputs and the R, F, M figures.

ML layer (numpy / pandas / scikit-learn). BG/NBD ranks customers by expected purchases alone and ignores what
it assumes away (spend that goes with buying often, a store's own recency pattern); the R + F + M sum sees
those but not a heavy buyer's long silence. The hybrid takes both as features: P(alive), expected purchases
and expected spend in the horizon, and recency, frequency, age, revenue and the RFM quintile scores, in a
regularised logistic regression of "buys again within the horizon".

It is fitted without looking past the as-of day: the features are computed at an earlier cut (the as-of day
minus the horizon, with the purchase and spend models fitted on the history up to that cut) and the label is
whether the customer bought in the window from the cut to the as-of day. It then scores the features computed
at the as-of day. Whether it serves is decided by the hold-out against the pure purchase model and the RFM sum
(``luxebrain.ml.customers.evaluation``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from luxebrain.ml.customers.model import (
    DAY_NS,
    CustomerParams,
    CustomerSummary,
    PurchaseModel,
    SpendModel,
    expected_order_value,
    expected_purchases,
    summarize_transactions,
    utc_datetime64_ns,
)
from luxebrain.ml.customers.serving import CustomerModelError, bgnbd_probability_alive, rfm_segments

# Training's fit: the fitted purchase and spend models, and notes for the metrics (fallbacks and their reasons).
# Here, not in evaluation (which imports this module), so the ranker can refit at its earlier cut.
FitModels = Callable[[CustomerSummary, CustomerParams], tuple[PurchaseModel, SpendModel, dict[str, Any]]]

RANKER_FEATURES: tuple[str, ...] = (
    "p_alive",
    "log_expected_purchases",
    "log_expected_order_value",
    "log_expected_value",
    "log_days_since_last_purchase",
    "log_repeat_purchase_days",
    "log_days_since_first_purchase",
    "log_revenue",
    "log_orders",
    "r_score",
    "f_score",
    "m_score",
)
RANKER_REGULARISATION = 1.0  # inverse L2 strength on standardised features: a few dozen buyers must not overfit


class RankerSkipped(CustomerModelError):
    """Too little history before the cut, or too few buyers in the window after it, to fit the ranker."""


def ranking_features(
    summary: CustomerSummary, purchase: PurchaseModel, spend: SpendModel, horizon_days: float
) -> np.ndarray:
    """One row per customer of ``summary``, columns ``RANKER_FEATURES``, from models fitted on that summary."""
    x, tx, big_t = summary.frequency, summary.recency, summary.T
    p_alive = bgnbd_probability_alive(purchase.params, x, tx, big_t) if purchase.dropout else np.ones(x.size)
    purchases = expected_purchases(purchase, horizon_days, x, tx, big_t, p_alive=p_alive)
    order_value = expected_order_value(spend, summary)
    rfm = rfm_segments(summary.recency_days, summary.orders, summary.revenue)
    columns = (
        p_alive,
        np.log1p(purchases),
        np.log1p(order_value),
        np.log1p(purchases * order_value),
        np.log1p(summary.recency_days.astype(np.float64)),
        np.log1p(x),
        np.log1p(big_t),
        np.log1p(summary.revenue),
        np.log1p(summary.orders.astype(np.float64)),
        rfm["r_score"].astype(np.float64),
        rfm["f_score"].astype(np.float64),
        rfm["m_score"].astype(np.float64),
    )
    return np.column_stack(columns)


@dataclass(frozen=True)
class BuyAgainRanker:
    """The fitted hybrid: P(buys again within ``horizon_days``) from ``ranking_features``."""

    model: Any  # a scikit-learn pipeline (scaler + logistic regression)
    horizon_days: int
    training_customers: int
    training_buyers: int

    def probability(self, features: np.ndarray) -> np.ndarray:
        return np.asarray(self.model.predict_proba(features)[:, 1], dtype=np.float64)


def fit_buy_again_ranker(
    transactions: pd.DataFrame,
    *,
    as_of_day: int,
    horizon_days: int,
    params: CustomerParams,
    fit: FitModels,
) -> BuyAgainRanker:
    """Fit the hybrid on ``transactions`` up to ``as_of_day``: features at ``as_of_day - horizon_days``, label
    "bought in the window after" (later rows are ignored). ``RankerSkipped`` when the data cannot support it."""
    from sklearn.linear_model import LogisticRegression  # training-only dependency (the ML layer)
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    cut = as_of_day - horizon_days
    day = np.floor_divide(utc_datetime64_ns(transactions["ordered_at"], "ordered_at"), DAY_NS)
    before = day <= cut
    if horizon_days < 1:
        raise RankerSkipped("the ranker's window is shorter than a day")
    if not before.any():
        raise RankerSkipped("no purchase before the ranker's cut")
    summary = summarize_transactions(transactions[before], as_of_day=cut)
    repeat_customers = int((summary.frequency > 0).sum())
    if repeat_customers < params.min_repeat_customers:
        raise RankerSkipped(
            f"{repeat_customers} repeat customer(s) before the ranker's cut, fewer than {params.min_repeat_customers}"
        )
    purchase, spend, _ = fit(summary, params)
    window = (day > cut) & (day <= as_of_day)
    window_customers = np.unique(transactions["customer_id"].astype(str).to_numpy()[window])
    bought = np.isin(summary.customer_ids.astype(str), window_customers)
    buyers = int(bought.sum())
    if buyers < params.min_repeat_customers or len(summary) - buyers < params.min_repeat_customers:
        raise RankerSkipped(
            f"{buyers} of {len(summary)} customers bought in the ranker's {horizon_days}-day window: "
            f"it needs at least {params.min_repeat_customers} buyers and as many non-buyers"
        )
    features = ranking_features(summary, purchase, spend, float(horizon_days))
    model = make_pipeline(StandardScaler(), LogisticRegression(C=RANKER_REGULARISATION, max_iter=1000))
    model.fit(features, bought)
    return BuyAgainRanker(
        model=model, horizon_days=int(horizon_days), training_customers=len(summary), training_buyers=buyers
    )

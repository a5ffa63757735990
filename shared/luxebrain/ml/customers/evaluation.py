"""Calibration / hold-out evaluation of the customer model, and ``luxebrain evaluate customers``.

The split is by date, as in Fader, Hardie & Lee (2005): the model is fitted on every purchase up to the end of
the calibration period, then for each customer seen by then we compare the expected number of purchase days
in the hold-out period with the actual number. Reported:
- per customer: mean absolute error and Pearson correlation of predicted vs actual hold-out purchases;
- in aggregate: total predicted vs actual, and the week-by-week cumulative repeat purchases of the paper's
  tracking chart (model: sum over customers of the unconditional E[X(t)] since their first purchase);
- "who buys again": top-decile lift (share of repeat buyers among the top 10 % by score, over the share among
  all) of the model's expected purchases, of the hybrid ranker (``luxebrain.ml.customers.ranker``, fitted on
  the calibration period alone) and of a plain RFM-score heuristic (R + F + M quintile scores). The better of
  the model and the hybrid is the version's ranker (``ranker``, ``top_decile_lift_ranker``); the kinds table
  judges it against the RFM sum.

Used by ``train_customer_model`` (metrics in the manifest), ``benchmarks/customers.py`` and the CLI.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from luxebrain.ml.customers.model import (
    DAY_NS,
    CustomerDataError,
    CustomerParams,
    CustomerSummary,
    PurchaseModel,
    SpendModel,
    bgnbd_unconditional_expected_purchases,
    describe_models,
    expected_order_value,
    expected_purchases,
    predictive_value_quantiles,
    summarize_transactions,
    utc_datetime64_ns,
)
from luxebrain.ml.customers.ranker import FitModels, RankerSkipped, fit_buy_again_ranker, ranking_features
from luxebrain.ml.customers.serving import CustomerModelError, bgnbd_probability_alive, rfm_segments


class HoldoutSkipped(CustomerModelError):
    """The history is too short, or has too few repeat customers, for a meaningful hold-out check."""


@dataclass(frozen=True)
class HoldoutEvaluation:
    """Everything one calibration / hold-out run produced; ``metrics`` is JSON-ready and finite."""

    metrics: dict[str, Any]
    summary: CustomerSummary  # calibration statistics, sorted by customer id
    purchase: PurchaseModel
    spend: SpendModel
    actual: np.ndarray  # hold-out purchase days per calibration customer
    predicted: np.ndarray  # expected hold-out purchase days per calibration customer
    rfm_score: np.ndarray  # R + F + M at the calibration end
    hybrid_score: np.ndarray | None  # the hybrid ranker's P(buys again), None where it could not be fitted
    tracking_week_end_days: np.ndarray  # days since the epoch
    tracking_actual_cumulative: np.ndarray
    tracking_predicted_cumulative: np.ndarray
    calibration_end_day: int
    holdout_end_day: int


def top_decile_lift(scores: np.ndarray, bought_again: np.ndarray, *, fraction: float = 0.1) -> float:
    """Repeat-buyer share among the top ``fraction`` by score over the share among everyone.

    Ties at the cut-off count in proportion (the expected value of a random tie-break), so a coarse score such
    as an RFM sum is not flattered or punished by the order of rows. 0.0 when nobody bought again.
    """
    scores = np.asarray(scores, dtype=np.float64)
    outcome = np.asarray(bought_again, dtype=np.float64)
    if scores.shape != outcome.shape or scores.size == 0:
        raise CustomerModelError("scores and outcomes must be non-empty arrays of the same length")
    base_rate = outcome.mean()
    if base_rate <= 0:
        return 0.0
    take = max(1, math.ceil(fraction * scores.size))
    order = np.argsort(-scores, kind="stable")
    sorted_scores, sorted_outcome = scores[order], outcome[order]
    cutoff = sorted_scores[take - 1]
    above = sorted_scores > cutoff
    tied = sorted_scores == cutoff
    slots_left = take - int(above.sum())
    buyers = sorted_outcome[above].sum() + slots_left * sorted_outcome[tied].mean()
    return float((buyers / take) / base_rate)


PURCHASE_MODEL_RANKER = "purchase_model"
HYBRID_RANKER = "hybrid"


def ranker_window_days(holdout_days: int, calibration_days: int) -> int:
    """The hybrid's label window inside a calibration period: the hold-out's length, or half the calibration
    period when that is shorter (the features need history before the window's start)."""
    return int(min(holdout_days, calibration_days // 2))


def _ranks(values: np.ndarray) -> np.ndarray:
    """Average ranks (ties share their mean rank), for a Spearman correlation."""
    return pd.Series(values).rank(method="average").to_numpy()


def _finite_or_none(value: float) -> float | None:
    return float(value) if np.isfinite(value) else None


def _correlation(first: np.ndarray, second: np.ndarray) -> float | None:
    if first.size < 2 or first.std() == 0 or second.std() == 0:
        return None  # undefined, not NaN
    return _finite_or_none(float(np.corrcoef(first, second)[0, 1]))


def evaluate_holdout(
    transactions: pd.DataFrame,
    *,
    calibration_end_day: int,
    holdout_end_day: int,
    params: CustomerParams | None = None,
    fit: FitModels,
) -> HoldoutEvaluation:
    """Fit on purchases up to ``calibration_end_day`` (inclusive, days since the epoch) with ``fit`` (training's
    ``fit_models``) and score the hold-out ``(calibration_end_day, holdout_end_day]`` for the customers of the
    calibration period."""
    params = params or CustomerParams()
    if holdout_end_day <= calibration_end_day:
        raise HoldoutSkipped("the hold-out period must end after the calibration period")
    day = np.floor_divide(utc_datetime64_ns(transactions["ordered_at"], "ordered_at"), DAY_NS)
    if (day > holdout_end_day).any():
        raise CustomerDataError(f"{int((day > holdout_end_day).sum())} transaction(s) fall after the hold-out end")
    in_calibration = day <= calibration_end_day
    if not in_calibration.any():
        raise HoldoutSkipped("no purchase falls in the calibration period")
    calibration = transactions[in_calibration]
    summary = summarize_transactions(calibration, as_of_day=calibration_end_day)
    repeat_customers = int((summary.frequency > 0).sum())
    if repeat_customers < params.min_repeat_customers:
        raise HoldoutSkipped(
            f"{repeat_customers} repeat customer(s) in the calibration period, fewer than {params.min_repeat_customers}"
        )
    started = time.perf_counter()
    purchase, spend, notes = fit(summary, params)
    fit_seconds = time.perf_counter() - started
    holdout_days = float(holdout_end_day - calibration_end_day)
    predicted = expected_purchases(purchase, holdout_days, summary.frequency, summary.recency, summary.T)

    # actual hold-out purchase days of calibration customers (several orders on one day = one purchase)
    holdout = transactions[~in_calibration]
    holdout_days_frame = pd.DataFrame(
        {"customer_id": holdout["customer_id"].astype(str).to_numpy(), "day": day[~in_calibration]}
    ).drop_duplicates()
    position = np.searchsorted(summary.customer_ids.astype(str), holdout_days_frame["customer_id"].to_numpy())
    position = np.minimum(position, len(summary) - 1)
    known = summary.customer_ids[position] == holdout_days_frame["customer_id"].to_numpy()
    actual = np.bincount(position[known], minlength=len(summary)).astype(np.float64)

    rfm = rfm_segments(summary.recency_days, summary.orders, summary.revenue)
    rfm_score = (rfm["r_score"].astype(np.int64) + rfm["f_score"] + rfm["m_score"]).astype(np.float64)
    bought_again = actual > 0
    hybrid_notes: dict[str, Any] = {}
    hybrid_score: np.ndarray | None = None
    window = ranker_window_days(int(holdout_days), calibration_end_day - int(summary.first_day.min()))
    try:
        ranker = fit_buy_again_ranker(
            calibration, as_of_day=calibration_end_day, horizon_days=window, params=params, fit=fit
        )
        hybrid_score = ranker.probability(ranking_features(summary, purchase, spend, holdout_days))
        hybrid_notes["hybrid_window_days"] = window
    except RankerSkipped as exc:
        hybrid_notes["hybrid_skipped"] = str(exc)
    model_lift = top_decile_lift(predicted, bought_again)
    hybrid_lift = top_decile_lift(hybrid_score, bought_again) if hybrid_score is not None else None
    # a tie keeps the purchase model: the simpler ranker
    ranker_name = HYBRID_RANKER if hybrid_lift is not None and hybrid_lift > model_lift else PURCHASE_MODEL_RANKER
    # Hold-out value (spend) per calibration customer, its predicted mean and its drawn P10-P90 interval.
    amounts = holdout["amount"].to_numpy(dtype=np.float64)
    holdout_customers = holdout["customer_id"].astype(str).to_numpy()
    order_position = np.searchsorted(summary.customer_ids.astype(str), holdout_customers)
    order_position = np.minimum(order_position, len(summary) - 1)
    order_known = summary.customer_ids[order_position] == holdout_customers
    actual_value = np.bincount(order_position[order_known], weights=amounts[order_known], minlength=len(summary))
    predicted_value = predicted * expected_order_value(spend, summary)
    p_alive = (
        bgnbd_probability_alive(purchase.params, summary.frequency, summary.recency, summary.T)
        if purchase.dropout
        else np.ones(len(summary))
    )
    value_low, value_high = predictive_value_quantiles(
        summary, purchase, spend, holdout_days, params.clv_interval, p_alive=p_alive
    )
    inside = (actual_value >= value_low - 1e-9) & (actual_value <= value_high + 1e-9)
    week_ends, actual_cumulative, predicted_cumulative = _weekly_tracking(
        transactions, day, summary, purchase, calibration_end_day, holdout_end_day
    )
    calibration_weeks = int((week_ends <= calibration_end_day).sum())
    metrics: dict[str, Any] = {
        "model": f"{purchase.name}+{spend.name}",
        "models": describe_models(purchase, spend),
        **notes,
        "calibration_end": str(pd.Timestamp(calibration_end_day * DAY_NS, tz="UTC").date()),
        "holdout_end": str(pd.Timestamp(holdout_end_day * DAY_NS, tz="UTC").date()),
        "holdout_days": int(holdout_days),
        "customers": len(summary),
        "calibration_repeat_customers": repeat_customers,
        "holdout_buyers": int(bought_again.sum()),
        "actual_holdout_purchases": float(actual.sum()),
        "predicted_holdout_purchases": round(float(predicted.sum()), 3),
        "mae": round(float(np.abs(predicted - actual).mean()), 6),
        "rmse": round(float(np.sqrt(((predicted - actual) ** 2).mean())), 6),
        "correlation": _correlation(predicted, actual),
        "top_decile_lift": round(model_lift, 6),
        "top_decile_lift_hybrid": round(hybrid_lift, 6) if hybrid_lift is not None else None,
        **hybrid_notes,
        "ranker": ranker_name,
        "top_decile_lift_ranker": round(hybrid_lift if ranker_name == HYBRID_RANKER else model_lift, 6),
        "top_decile_lift_rfm_heuristic": round(top_decile_lift(rfm_score, bought_again), 6),
        # Ranking of next-period value: mean hold-out spend of the top 10 % by score over everyone's.
        "value_top_decile_lift": round(top_decile_lift(predicted_value, actual_value), 6),
        "value_top_decile_lift_hybrid": (
            round(top_decile_lift(hybrid_score * expected_order_value(spend, summary), actual_value), 6)
            if hybrid_score is not None
            else None
        ),
        "value_top_decile_lift_rfm_heuristic": round(top_decile_lift(rfm_score, actual_value), 6),
        "value_spearman": _correlation(_ranks(predicted_value), _ranks(actual_value)),
        "value_spearman_rfm_heuristic": _correlation(_ranks(rfm_score), _ranks(actual_value)),
        "actual_holdout_value": round(float(actual_value.sum()), 2),
        "predicted_holdout_value": round(float(predicted_value.sum()), 2),
        # Share of customers whose hold-out spend falls inside the drawn interval (80 % is the target), and
        # the same among the customers who did buy (for whom a lower bound of 0 is no free pass).
        "value_interval": list(params.clv_interval),
        "value_interval_coverage": round(float(inside.mean()), 6),
        "value_interval_coverage_buyers": round(float(inside[bought_again].mean()), 6) if bought_again.any() else None,
        "value_interval_zero_width_share": round(float((value_high <= 0).mean()), 6),
        "tracking_mean_absolute_weekly_error_holdout": round(
            float(
                np.abs(np.diff(np.r_[0.0, predicted_cumulative]) - np.diff(np.r_[0.0, actual_cumulative]))[
                    calibration_weeks:
                ].mean()
            )
            if week_ends.size > calibration_weeks
            else 0.0,
            6,
        ),
        "fit_seconds": round(fit_seconds, 4),
    }
    return HoldoutEvaluation(
        metrics=metrics,
        summary=summary,
        purchase=purchase,
        spend=spend,
        actual=actual,
        predicted=predicted,
        rfm_score=rfm_score,
        hybrid_score=hybrid_score,
        tracking_week_end_days=week_ends,
        tracking_actual_cumulative=actual_cumulative,
        tracking_predicted_cumulative=predicted_cumulative,
        calibration_end_day=calibration_end_day,
        holdout_end_day=holdout_end_day,
    )


def _weekly_tracking(
    transactions: pd.DataFrame,
    day: np.ndarray,
    summary: CustomerSummary,
    purchase: PurchaseModel,
    calibration_end_day: int,
    holdout_end_day: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cumulative repeat purchase days of the calibration customers by week: actual and model (the paper's chart)."""
    start = int(summary.first_day.min())
    week_ends = np.arange(start + 6, holdout_end_day + 7, 7, dtype=np.int64)
    week_ends[-1] = min(week_ends[-1], holdout_end_day)
    # actual: every purchase day after a customer's first one
    customers = transactions["customer_id"].astype(str).to_numpy()
    frame = pd.DataFrame({"customer_id": customers, "day": day}).drop_duplicates()
    frame = frame[frame["customer_id"].isin(set(summary.customer_ids.tolist()))]
    first = frame.groupby("customer_id")["day"].transform("min").to_numpy()
    repeat_days = frame["day"].to_numpy()[frame["day"].to_numpy() > first]
    actual_cumulative = np.searchsorted(np.sort(repeat_days), week_ends, side="right").astype(np.float64)
    # model: sum over first-purchase days of E[X(week end - first day)], weighted by cohort size
    first_days, cohort_sizes = np.unique(summary.first_day, return_counts=True)
    elapsed = np.clip(week_ends[:, None] - first_days[None, :], 0, None).astype(np.float64)
    if purchase.dropout:
        expected = bgnbd_unconditional_expected_purchases(purchase.params, elapsed.ravel()).reshape(elapsed.shape)
    else:
        expected = elapsed * purchase.params.r / purchase.params.alpha
    predicted_cumulative = expected @ cohort_sizes.astype(np.float64)
    return week_ends, actual_cumulative, predicted_cumulative


# --- CSV loading --------------------------------------------------------------------------------------
def load_transactions_csv(
    path: str | Path,
    *,
    customer_col: str,
    time_col: str,
    amount_col: str,
    order_col: str | None = None,
    quantity_col: str | None = None,
    skip_missing_customers: bool = False,
    exclude_negative: bool = False,
) -> pd.DataFrame:
    """Read a transaction CSV (gzip by extension) into ``customer_id, ordered_at, amount`` (+ ``order_id``).

    ``quantity_col``: the amount column is then a unit price and the amount is price x quantity. With
    ``order_col`` rows are summed per order. Errors name the file, column and row.
    """
    path = Path(path)
    if not path.is_file():
        raise CustomerDataError(f"transactions file {path} does not exist")
    wanted = [c for c in (customer_col, time_col, amount_col, order_col, quantity_col) if c]
    header = pd.read_csv(path, nrows=0).columns
    missing = [c for c in wanted if c not in header]
    if missing:
        raise CustomerDataError(
            f"{path.name} has no column(s) {', '.join(map(repr, missing))}; its columns are: {', '.join(header)}"
        )
    raw = pd.read_csv(path, usecols=wanted, dtype={customer_col: str, **({order_col: str} if order_col else {})})
    customer_missing = raw[customer_col].isna() | (raw[customer_col].astype(str).str.strip() == "")
    if customer_missing.any():
        if not skip_missing_customers:
            row = int(customer_missing.to_numpy().nonzero()[0][0])
            raise CustomerDataError(
                f"{path.name} column {customer_col!r} is empty at data row {row + 1} "
                f"({int(customer_missing.sum())} rows); "
                "pass --skip-missing-customers to leave such rows out"
            )
        raw = raw[~customer_missing]
    amount = pd.to_numeric(raw[amount_col], errors="coerce")
    if quantity_col:
        amount = amount * pd.to_numeric(raw[quantity_col], errors="coerce")
    bad = amount.isna().to_numpy()
    if bad.any():
        row = int(raw.index[bad.nonzero()[0][0]])
        raise CustomerDataError(f"{path.name} column {amount_col!r} is not a number at data row {row + 1}")
    try:
        ordered_at = pd.to_datetime(raw[time_col], utc=True, format="mixed")
    except (ValueError, TypeError) as exc:
        raise CustomerDataError(f"{path.name} column {time_col!r} holds a value that is not a date: {exc}") from exc
    if ordered_at.isna().any():
        row = int(raw.index[ordered_at.isna().to_numpy().nonzero()[0][0]])
        raise CustomerDataError(f"{path.name} column {time_col!r} is empty at data row {row + 1}")
    frame = pd.DataFrame(
        {
            "customer_id": raw[customer_col].astype(str).str.strip().to_numpy(),
            "ordered_at": ordered_at,
            "amount": amount,
        }
    )
    if order_col:
        frame["order_id"] = raw[order_col].astype(str).to_numpy()
        per_order = frame.groupby("order_id", sort=False).agg(
            customer_id=("customer_id", "first"),
            customers=("customer_id", "nunique"),
            ordered_at=("ordered_at", "min"),
            amount=("amount", "sum"),
        )
        split = per_order.index[per_order["customers"] > 1]
        if len(split):
            raise CustomerDataError(
                f"{path.name}: order {split[0]!r} in column {order_col!r} has more than one customer"
            )
        frame = per_order.drop(columns="customers").reset_index()
    negative = frame["amount"].to_numpy() < 0
    if negative.any():
        if not exclude_negative:
            first = frame.iloc[int(negative.nonzero()[0][0])]
            what = f"order {first['order_id']!r}" if order_col else f"customer {first['customer_id']!r}"
            raise CustomerDataError(
                f"{path.name}: {int(negative.sum())} transaction(s) have a negative amount (first: {what}); "
                "returns are not purchases: pass --exclude-negative to leave them out"
            )
        frame = frame[~negative]
    if frame.empty:
        raise CustomerDataError(f"{path.name} has no usable transactions")
    return frame.reset_index(drop=True)


# --- CLI ----------------------------------------------------------------------------------------------

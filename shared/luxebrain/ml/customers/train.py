"""Customer intelligence training: RFM segments, BG/NBD purchase model, Gamma-Gamma spend model, 12-month CLV.

ML layer (numpy / scipy / pandas). ``train_customer_model`` turns the standard ``order_lines`` frame into a
``ModelArtifact`` of kind ``"customers"`` that ``luxebrain.ml.customers.serving.CustomerScores`` serves.

Models
- BG/NBD (Fader, Hardie & Lee 2005, "Counting your customers the easy way"): while alive a customer buys at
  rate lambda ~ Gamma(r, alpha) and after each purchase leaves with probability p ~ Beta(a, b). Fitted by
  maximum likelihood in log-parameter space with an analytic gradient; the likelihood is summed in log
  space (``logaddexp`` of its two terms) so large purchase counts cannot overflow, and rows with equal
  (x, t_x, T) are fitted once with a weight.
- Gamma-Gamma (Fader, Hardie & Lee 2005, "RFM and CLV"): spend per order ~ Gamma(p, nu), nu ~ Gamma(q, gamma),
  fitted on customers with at least one repeat order of positive value.

Purchases are counted per customer and calendar day (UTC): several orders on one day are one purchase
occasion, as in the published CDNOW analyses and the ``lifetimes`` package. Time is measured in days.

Fallbacks (documented, reported in the manifest as ``params.model`` and ``params.purchase_fallback_reason``):
- when the BG/NBD likelihood is highest at "nobody leaves" (a -> 0, b -> infinity, as on Online Retail's
  calibration year) or its optimiser fails, its limit, the NBD model (gamma-Poisson rates, no dropout), is
  fitted by maximum likelihood instead (``nbd_no_dropout``);
- with fewer than ``CustomerParams.min_repeat_customers`` repeat customers, or when the NBD fails too,
  purchases follow a gamma-Poisson model without dropout whose shape is fixed at 1 and whose mean rate is the
  store's pooled repeat rate ((repeat purchases + 1/2) / (observed customer-days + 1))
  (``poisson_gamma_fallback``).
Without dropout P(alive) is 1 and churn risk comes from the purchase rate alone. Likewise, with too few repeat
customers with spend, or a Gamma-Gamma fit with q <= 1 (infinite mean spend), the expected order value is the
customer's own mean order value shrunk towards the store's by one pseudo-order.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd
from scipy.optimize import minimize
from scipy.special import betaln, digamma, gammaln, hyp2f1

from luxebrain.ml.artifacts import ModelArtifact
from luxebrain.ml.customers.serving import (
    ARTIFACT_KIND,
    CHURN_BANDS,
    NO_SEGMENT,
    SECONDS_PER_DAY,
    SEGMENT_DESCRIPTIONS,
    SEGMENT_NAMES,
    BGNBDParams,
    CustomerModelError,
    GammaGammaParams,
    bgnbd_probability_alive,
    churn_band_codes,
    days_until_even_odds_of_next_order,
    probability_no_purchase,
    rfm_segments,
)
from luxebrain.ml.dataset import require_columns

__all__ = [
    "BGNBDParams",
    "CustomerDataError",
    "CustomerParams",
    "CustomerSummary",
    "FitError",
    "GammaGammaParams",
    "bgnbd_expected_purchases",
    "bgnbd_unconditional_expected_purchases",
    "fit_bgnbd",
    "fit_gamma_gamma",
    "fit_nbd",
    "gamma_gamma_expected_spend",
    "order_totals",
    "score_customers",
    "summarize_transactions",
    "train_customer_model",
]

DAY_NS = SECONDS_PER_DAY * 1_000_000_000
LOG_PARAM_BOUND = 15.0  # exp(+-15): far outside any real store, keeps the optimiser finite


class CustomerDataError(CustomerModelError):
    """The orders cannot be used (missing values, negative totals, orders after the as-of time)."""


class FitError(CustomerModelError):
    """A maximum-likelihood fit has too little data or did not converge."""


@dataclass(frozen=True)
class CustomerParams:
    """Settings of a customer-model training run (defaults suit a small WooCommerce store)."""

    min_repeat_customers: int = 20  # fewer -> documented fallback instead of BG/NBD / Gamma-Gamma
    horizons_days: tuple[int, int, int] = (30, 90, 365)
    clv_horizon_days: int = 365
    clv_interval: tuple[float, float] = (0.1, 0.9)  # 80 % predictive interval
    margin: float = 1.0  # share of revenue that is value; 1.0 = CLV in revenue
    holdout_days: int | None = None  # None: a quarter of the history, between 28 and 182 days
    evaluate_holdout: bool = True
    penalizer: float = 0.0  # L2 penalty on the log-parameters (0 = plain maximum likelihood)

    def __post_init__(self) -> None:
        if self.min_repeat_customers < 1:
            raise CustomerModelError("min_repeat_customers must be at least 1")
        if any(h <= 0 for h in self.horizons_days) or self.clv_horizon_days <= 0:
            raise CustomerModelError("horizons must be positive numbers of days")
        low, high = self.clv_interval
        if not 0.0 < low < high < 1.0:
            raise CustomerModelError(f"clv_interval must be two quantiles 0 < low < high < 1, got {self.clv_interval}")
        if not 0.0 < self.margin <= 1.0:
            raise CustomerModelError(f"margin must be in (0, 1], got {self.margin}")
        if self.holdout_days is not None and self.holdout_days < 1:
            raise CustomerModelError("holdout_days must be at least 1")
        if self.penalizer < 0:
            raise CustomerModelError("penalizer must be >= 0")


# --- data preparation ---------------------------------------------------------------------------------
def order_totals(order_lines: pd.DataFrame) -> pd.DataFrame:
    """One row per order: ``order_id, customer_id, ordered_at, amount`` from the standard order_lines frame.

    Refunds and cancellations are removed upstream (see ``luxebrain.ml.dataset``); an order whose total is
    still negative is an error here, named by its id. Zero-total orders (free samples, 100 % coupons) count as
    purchases but never as spend.
    """
    require_columns(order_lines, ["order_id", "customer_id", "ordered_at", "line_total"], "order_lines")
    if order_lines.empty:
        raise CustomerDataError("order_lines is empty: a customer model needs at least one order")
    frame = order_lines[["order_id", "customer_id", "ordered_at", "line_total"]]
    _reject_missing(frame, "order_lines", id_column="order_id")
    per_order = frame.groupby("order_id", sort=False).agg(
        customer_id=("customer_id", "first"),
        customers=("customer_id", "nunique"),
        ordered_at=("ordered_at", "min"),
        amount=("line_total", "sum"),
    )
    split = per_order.index[per_order["customers"] > 1]
    if len(split):
        raise CustomerDataError(f"order {split[0]!r} has lines of more than one customer_id ({len(split)} such orders)")
    negative = per_order.index[per_order["amount"] < 0]
    if len(negative):
        raise CustomerDataError(
            f"order {negative[0]!r} has a negative total {per_order.loc[negative[0], 'amount']:.2f} "
            f"({len(negative)} such orders); remove refunds before training"
        )
    return per_order.drop(columns="customers").reset_index()


def _reject_missing(frame: pd.DataFrame, what: str, *, id_column: str | None) -> None:
    for column in frame.columns:
        values = frame[column]
        bad = values.isna()
        if values.dtype == object:
            bad |= values.astype(str).str.strip() == ""
        if bad.any():
            first = bad.to_numpy().nonzero()[0][0]
            where = (
                f"{id_column} {frame[id_column].iloc[first]!r}" if id_column and column != id_column else f"row {first}"
            )
            raise CustomerDataError(f"{what} column {column!r} is empty at {where} ({int(bad.sum())} such rows)")


def _utc_datetime64_ns(values: pd.Series, column: str) -> np.ndarray:
    """Timestamps as int64 nanoseconds since the epoch, UTC (naive timestamps are taken as UTC)."""
    try:
        parsed = pd.to_datetime(values, utc=True)
    except (ValueError, TypeError) as exc:
        raise CustomerDataError(f"column {column!r} holds values that are not dates: {exc}") from exc
    if parsed.isna().any():
        row = int(parsed.isna().to_numpy().nonzero()[0][0])
        raise CustomerDataError(f"column {column!r} has a missing date at row {row}")
    return parsed.dt.tz_localize(None).astype("datetime64[ns]").to_numpy().view(np.int64)


def as_of_day_index(as_of: datetime | None) -> tuple[int, datetime]:
    """The calendar day (UTC, days since the epoch) the model is trained at, and the as-of time itself."""
    moment = datetime.now(UTC) if as_of is None else as_of
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    seconds = moment.timestamp()
    return math.floor(seconds / SECONDS_PER_DAY), moment


@dataclass(frozen=True)
class CustomerSummary:
    """Per-customer calibration statistics in days (sorted by customer id).

    ``frequency`` x = repeat purchase days; ``recency`` t_x = days from first to last purchase day; ``T`` =
    days from first purchase day to the as-of day; ``monetary`` = mean value of positive repeat purchase days
    (0 where there is none) over ``spend_frequency`` such days.
    """

    customer_ids: np.ndarray  # str objects
    frequency: np.ndarray
    recency: np.ndarray
    T: np.ndarray
    monetary: np.ndarray
    spend_frequency: np.ndarray
    orders: np.ndarray
    revenue: np.ndarray
    first_day: np.ndarray
    last_day: np.ndarray
    as_of_day: int
    extra: dict[str, Any] = field(default_factory=dict)

    def __len__(self) -> int:
        return int(self.customer_ids.size)

    @property
    def recency_days(self) -> np.ndarray:
        """Days since the last purchase (RFM recency)."""
        return self.as_of_day - self.last_day


def summarize_transactions(transactions: pd.DataFrame, *, as_of_day: int) -> CustomerSummary:
    """Per-customer BG/NBD / Gamma-Gamma / RFM inputs from ``customer_id, ordered_at, amount`` rows
    (``order_id`` optional: one row per order when absent). Rows after ``as_of_day`` are an error."""
    require_columns(transactions, ["customer_id", "ordered_at", "amount"], "transactions")
    if transactions.empty:
        raise CustomerDataError("there are no orders to summarise")
    ns = _utc_datetime64_ns(transactions["ordered_at"], "ordered_at")
    day = np.floor_divide(ns, DAY_NS)
    late = day > as_of_day
    if late.any():
        first = int(late.nonzero()[0][0])
        when = pd.Timestamp(int(ns[first]), tz="UTC").isoformat()
        raise CustomerDataError(
            f"{int(late.sum())} order(s) are dated after the as-of day "
            f"{pd.Timestamp(as_of_day * DAY_NS, tz='UTC').date()} (first: row {first}, {when}); "
            "future dates are not allowed"
        )
    amount = pd.to_numeric(transactions["amount"], errors="coerce").to_numpy(dtype=np.float64)
    if not np.isfinite(amount).all():
        row = int((~np.isfinite(amount)).nonzero()[0][0])
        raise CustomerDataError(f"column 'amount' is missing or not a number at row {row}")
    if (amount < 0).any():
        row = int((amount < 0).nonzero()[0][0])
        raise CustomerDataError(f"column 'amount' is negative ({amount[row]:.2f}) at row {row}; remove refunds first")
    customer_text = transactions["customer_id"].astype(str).to_numpy()
    codes, customer_ids = pd.factorize(customer_text, sort=True)

    occasions = (
        pd.DataFrame({"customer": codes, "day": day, "amount": amount})
        .groupby(["customer", "day"], sort=True)["amount"]
        .agg(["sum", "size"])
    )
    occasion_customer = occasions.index.get_level_values("customer").to_numpy()
    occasion_day = occasions.index.get_level_values("day").to_numpy()
    occasion_amount = occasions["sum"].to_numpy()
    n_customers = customer_ids.size
    days_per_customer = np.bincount(occasion_customer, minlength=n_customers)
    first_index = np.r_[0, np.cumsum(days_per_customer)[:-1]]
    last_index = first_index + days_per_customer - 1
    first_day = occasion_day[first_index]
    last_day = occasion_day[last_index]
    # repeat spend: every purchase day after the first one with a positive value
    is_first = np.zeros(occasion_day.size, dtype=bool)
    is_first[first_index] = True
    repeat_positive = (~is_first) & (occasion_amount > 0)
    spend_frequency = np.bincount(occasion_customer[repeat_positive], minlength=n_customers)
    spend_total = np.bincount(occasion_customer[repeat_positive], occasion_amount[repeat_positive], n_customers)
    monetary = np.divide(spend_total, spend_frequency, out=np.zeros(n_customers), where=spend_frequency > 0)
    orders = np.bincount(codes, minlength=n_customers)  # one row per order
    return CustomerSummary(
        customer_ids=np.asarray(customer_ids, dtype=object),
        frequency=(days_per_customer - 1).astype(np.float64),
        recency=(last_day - first_day).astype(np.float64),
        T=(as_of_day - first_day).astype(np.float64),
        monetary=monetary,
        spend_frequency=spend_frequency.astype(np.float64),
        orders=orders.astype(np.int64),
        revenue=np.bincount(codes, amount, n_customers),
        first_day=first_day.astype(np.int64),
        last_day=last_day.astype(np.int64),
        as_of_day=int(as_of_day),
    )


# --- BG/NBD --------------------------------------------------------------------------------------------
def _validate_rfm_arrays(frequency: Any, recency: Any, T: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    x = np.asarray(frequency, dtype=np.float64)
    tx = np.asarray(recency, dtype=np.float64)
    big_t = np.asarray(T, dtype=np.float64)
    if not (x.shape == tx.shape == big_t.shape) or x.ndim != 1:
        raise CustomerModelError("frequency, recency and T must be 1-d arrays of the same length")
    for name, values in (("frequency", x), ("recency", tx), ("T", big_t)):
        if not np.isfinite(values).all():
            raise CustomerModelError(f"{name} holds a missing or infinite value")
        if (values < 0).any():
            raise CustomerModelError(f"{name} holds a negative value")
    if (tx > big_t + 1e-9).any():
        raise CustomerModelError("recency (time of the last purchase) is greater than T for some customer")
    if ((x == 0) & (tx > 0)).any():
        raise CustomerModelError("a customer with frequency 0 must have recency 0")
    return x, tx, big_t


def _levels(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct purchase counts and each row's index into them: the special functions of the likelihoods
    depend on x alone, and a store has few distinct x, so they are evaluated once per distinct x."""
    values, index = np.unique(x, return_inverse=True)
    return values, index.ravel()


def _bgnbd_negative_log_likelihood(
    log_params: np.ndarray,
    x: np.ndarray,
    tx: np.ndarray,
    big_t: np.ndarray,
    weights: np.ndarray,
    penalizer: float,
    x_levels: tuple[np.ndarray, np.ndarray] | None = None,
) -> tuple[float, np.ndarray]:
    """Mean negative log-likelihood of BG/NBD and its gradient in log-parameters (Fader, Hardie & Lee 2005, eq. 6)."""
    r, alpha, a, b = np.exp(log_params)
    values, index = x_levels if x_levels is not None else _levels(x)
    # per distinct x: the gamma / beta functions and their derivatives
    repeat_v = values > 0
    safe_b_x_1 = np.where(repeat_v, b + values - 1.0, 1.0)  # b + x - 1 is only used where x >= 1
    log_beta_ab = betaln(a, b)
    psi_ab = digamma(a + b)
    psi_abx_v = digamma(a + b + values)
    rate_v = gammaln(r + values) - gammaln(r) + r * np.log(alpha)
    stay_beta_v = betaln(a, b + values) - log_beta_ab
    left_beta_v = np.where(repeat_v, betaln(a + 1.0, safe_b_x_1) - log_beta_ab, -np.inf)
    d_r_v = digamma(r + values) - digamma(r) + np.log(alpha)
    d_a_stay_v = psi_ab - psi_abx_v
    d_a_left_v = digamma(a + 1.0) - digamma(a) + psi_ab - psi_abx_v
    d_b_stay_v = digamma(b + values) - psi_abx_v - digamma(b) + psi_ab
    d_b_left_v = digamma(safe_b_x_1) - psi_abx_v - digamma(b) + psi_ab

    log_alpha_t = np.log(alpha + big_t)
    log_alpha_tx = np.log(alpha + tx)
    term_stay = stay_beta_v[index] - (r + x) * log_alpha_t
    term_left = left_beta_v[index] - (r + x) * log_alpha_tx
    log_mix = np.logaddexp(term_stay, term_left)
    log_likelihood = rate_v[index] + log_mix
    weight_stay = np.exp(term_stay - log_mix)
    weight_left = 1.0 - weight_stay

    d_r = d_r_v[index] - weight_stay * log_alpha_t - weight_left * log_alpha_tx
    d_alpha = r / alpha - (r + x) * (weight_stay / (alpha + big_t) + weight_left / (alpha + tx))
    d_a = weight_stay * d_a_stay_v[index] + weight_left * d_a_left_v[index]
    d_b = weight_stay * d_b_stay_v[index] + weight_left * d_b_left_v[index]

    total = weights.sum()
    value = -float(weights @ log_likelihood) / total + penalizer * float(log_params @ log_params)
    gradient = -np.array([weights @ d_r * r, weights @ d_alpha * alpha, weights @ d_a * a, weights @ d_b * b]) / total
    gradient += 2.0 * penalizer * log_params
    return value, gradient


def _weighted_unique_rows(*columns: np.ndarray) -> tuple[list[np.ndarray], np.ndarray]:
    """Distinct rows and how often each occurs: customers with equal statistics are fitted once."""
    order = np.lexsort(columns[::-1])
    sorted_columns = [column[order] for column in columns]
    starts = np.ones(order.size, dtype=bool)
    if order.size:
        starts[1:] = np.any([np.diff(column) != 0 for column in sorted_columns], axis=0)
    first = np.flatnonzero(starts)
    counts = np.diff(np.r_[first, order.size]).astype(np.float64)
    return [column[first] for column in sorted_columns], counts


def _minimize(objective: Any, start: np.ndarray, args: tuple[Any, ...], what: str) -> np.ndarray:
    with warnings.catch_warnings(), np.errstate(all="ignore"):  # a failed fit raises FitError instead
        warnings.simplefilter("ignore")
        result = minimize(
            objective,
            start,
            args=args,
            jac=True,
            method="SLSQP",
            bounds=[(-LOG_PARAM_BOUND, LOG_PARAM_BOUND)] * start.size,
            options={"maxiter": 1000, "ftol": 1e-14},
        )
    if not np.isfinite(result.fun) or not np.isfinite(result.x).all():
        raise FitError(f"{what} fit did not converge (non-finite likelihood)")
    gradient_norm = float(np.max(np.abs(result.jac)))
    if not result.success and gradient_norm > 1e-4:
        raise FitError(f"{what} fit did not converge: {result.message} (gradient {gradient_norm:.2g})")
    if np.any(np.abs(result.x) >= LOG_PARAM_BOUND - 1e-6):
        raise FitError(f"{what} fit ran to a parameter bound: the data cannot identify the model")
    return result.x


def fit_bgnbd(frequency: Any, recency: Any, T: Any, *, penalizer: float = 0.0) -> BGNBDParams:
    """Maximum-likelihood BG/NBD parameters from per-customer (x, t_x, T); alpha is in the unit of t_x and T.

    Raises ``FitError`` when there is no repeat customer (the dropout process is then unidentified) or the
    optimiser does not converge.
    """
    x, tx, big_t = _validate_rfm_arrays(frequency, recency, T)
    if x.size == 0 or not (x > 0).any():
        raise FitError("BG/NBD needs at least one customer with a repeat purchase")
    scale = float(big_t.max())
    if scale <= 0:
        raise FitError("BG/NBD needs customers observed for a positive length of time")
    # Fit in time units of the longest observation (alpha scales with time, r, a, b do not): well conditioned.
    (ux, utx, ut), weights = _weighted_unique_rows(x, tx / scale, big_t / scale)
    start = np.zeros(4)
    arguments = (ux, utx, ut, weights, penalizer, _levels(ux))
    log_params = _minimize(_bgnbd_negative_log_likelihood, start, arguments, "BG/NBD")
    r, alpha, a, b = np.exp(log_params)
    return BGNBDParams(r=float(r), alpha=float(alpha * scale), a=float(a), b=float(b))


def _nbd_negative_log_likelihood(
    log_params: np.ndarray, x: np.ndarray, big_t: np.ndarray, weights: np.ndarray, penalizer: float
) -> tuple[float, np.ndarray]:
    """NBD (gamma-Poisson, no dropout): the BG/NBD limit p -> 0. Mean negative log-likelihood and gradient."""
    r, alpha = np.exp(log_params)
    log_alpha_t = np.log(alpha + big_t)
    log_likelihood = gammaln(r + x) - gammaln(r) + r * np.log(alpha) - (r + x) * log_alpha_t
    d_r = digamma(r + x) - digamma(r) + np.log(alpha) - log_alpha_t
    d_alpha = r / alpha - (r + x) / (alpha + big_t)
    total = weights.sum()
    value = -float(weights @ log_likelihood) / total + penalizer * float(log_params @ log_params)
    gradient = -np.array([weights @ d_r * r, weights @ d_alpha * alpha]) / total + 2.0 * penalizer * log_params
    return value, gradient


def fit_nbd(frequency: Any, T: Any, *, penalizer: float = 0.0) -> BGNBDParams:
    """Maximum-likelihood NBD purchase model (rate ~ Gamma(r, alpha), nobody leaves); ``a`` and ``b`` are
    returned as 0 and mean nothing. Used when the BG/NBD optimum lies at "no dropout" (a -> 0, b -> inf)."""
    x, _, big_t = _validate_rfm_arrays(frequency, np.zeros_like(np.asarray(frequency, dtype=np.float64)), T)
    if not (x > 0).any():
        raise FitError("NBD needs at least one customer with a repeat purchase")
    scale = float(big_t.max())
    if scale <= 0:
        raise FitError("NBD needs customers observed for a positive length of time")
    (ux, ut), weights = _weighted_unique_rows(x, big_t / scale)
    log_params = _minimize(_nbd_negative_log_likelihood, np.zeros(2), (ux, ut, weights, penalizer), "NBD")
    r, alpha = np.exp(log_params)
    return BGNBDParams(r=float(r), alpha=float(alpha * scale), a=0.0, b=0.0)


def bgnbd_log_likelihood(params: BGNBDParams, frequency: Any, recency: Any, T: Any) -> float:
    """Total log-likelihood of the data under ``params`` (for reports and comparisons)."""
    x, tx, big_t = _validate_rfm_arrays(frequency, recency, T)
    log_params = np.log([params.r, params.alpha, params.a, params.b])
    value, _ = _bgnbd_negative_log_likelihood(log_params, x, tx, big_t, np.ones_like(x), 0.0)
    return -value * x.size


def _away_from_one(a: float) -> float:
    # E[Y] has the factor 1 / (a - 1); at a == 1 exactly it is a removable 0/0: step beside it.
    return a if abs(a - 1.0) > 1e-7 else 1.0 + 1e-7


def bgnbd_expected_purchases(
    params: BGNBDParams, t: float, frequency: Any, recency: Any, T: Any, *, p_alive: np.ndarray | None = None
) -> np.ndarray:
    """E[purchases in (T, T + t] | x, t_x, T] (Fader, Hardie & Lee 2005, eq. 10).

    The factor ((alpha+T)/(alpha+T+t))^(r+x) 2F1(r+x, b+x; a+b+x-1; z) is rewritten with Euler's transform
    as (1-z)^(a-1) 2F1(a+b-1-r, a-1; a+b+x-1; z), whose parameters stay small for heavy buyers, so it
    neither overflows nor loses precision.
    """
    x, tx, big_t = _validate_rfm_arrays(frequency, recency, T)
    r, alpha, b = params.r, params.alpha, params.b
    a = _away_from_one(params.a)
    z = t / (alpha + big_t + t)
    log_one_minus_z = np.log(alpha + big_t) - np.log(alpha + big_t + t)
    with np.errstate(all="ignore"):
        hyper = hyp2f1(a + b - 1.0 - r, a - 1.0, a + b + x - 1.0, z)
        bracket = -np.expm1((a - 1.0) * log_one_minus_z) - np.exp((a - 1.0) * log_one_minus_z) * (hyper - 1.0)
        expected = (a + b + x - 1.0) / (a - 1.0) * bracket
    if p_alive is None:  # callers scoring several horizons pass it once
        p_alive = bgnbd_probability_alive(BGNBDParams(r, alpha, a, b), x, tx, big_t)
    return np.maximum(expected * p_alive, 0.0)


def bgnbd_unconditional_expected_purchases(params: BGNBDParams, t: Any) -> np.ndarray:
    """E[X(t)]: expected repeat purchases in the first t time units after a customer's first purchase (eq. 7)."""
    t = np.asarray(t, dtype=np.float64)
    r, alpha, b = params.r, params.alpha, params.b
    a = _away_from_one(params.a)
    z = t / (alpha + t)
    log_one_minus_z = np.log(alpha) - np.log(alpha + t)
    with np.errstate(all="ignore"):
        hyper = hyp2f1(a + b - 1.0 - r, a - 1.0, a + b - 1.0, z)
        bracket = -np.expm1((a - 1.0) * log_one_minus_z) - np.exp((a - 1.0) * log_one_minus_z) * (hyper - 1.0)
        expected = (a + b - 1.0) / (a - 1.0) * bracket
    return np.maximum(np.where(t > 0, expected, 0.0), 0.0)


# --- Gamma-Gamma ---------------------------------------------------------------------------------------
def _gamma_gamma_negative_log_likelihood(
    log_params: np.ndarray,
    x: np.ndarray,
    m: np.ndarray,
    weights: np.ndarray,
    penalizer: float,
    x_levels: tuple[np.ndarray, np.ndarray] | None = None,
) -> tuple[float, np.ndarray]:
    """Mean negative log-likelihood of the average spend m over x transactions, and its log-parameter gradient."""
    p, q, gamma = np.exp(log_params)
    values, index = x_levels if x_levels is not None else _levels(x)
    px_v = p * values
    gamma_terms_v = gammaln(px_v + q) - gammaln(px_v) - gammaln(q)
    psi_pxq_v = digamma(px_v + q)
    psi_px_v = digamma(px_v)
    px = p * x
    log_m = np.log(m)
    log_x = np.log(x)
    log_gamma_xm = np.log(gamma + m * x)
    log_likelihood = (
        gamma_terms_v[index] + q * np.log(gamma) + (px - 1.0) * log_m + px * log_x - (px + q) * log_gamma_xm
    )
    psi_pxq = psi_pxq_v[index]
    d_p = x * (psi_pxq - psi_px_v[index] + log_m + log_x - log_gamma_xm)
    d_q = psi_pxq - digamma(q) + np.log(gamma) - log_gamma_xm
    d_gamma = q / gamma - (px + q) / (gamma + m * x)
    total = weights.sum()
    value = -float(weights @ log_likelihood) / total + penalizer * float(log_params @ log_params)
    gradient = -np.array([weights @ d_p * p, weights @ d_q * q, weights @ d_gamma * gamma]) / total
    gradient += 2.0 * penalizer * log_params
    return value, gradient


def fit_gamma_gamma(frequency: Any, monetary: Any, *, penalizer: float = 0.0) -> GammaGammaParams:
    """Maximum-likelihood Gamma-Gamma parameters from repeat-purchase counts and mean repeat spend.

    Customers with frequency 0 or non-positive spend carry no spend information and are left out (as in the
    paper); ``FitError`` if fewer than two customers remain or the optimiser does not converge.
    """
    x = np.asarray(frequency, dtype=np.float64)
    m = np.asarray(monetary, dtype=np.float64)
    if x.shape != m.shape or x.ndim != 1:
        raise CustomerModelError("frequency and monetary must be 1-d arrays of the same length")
    if not (np.isfinite(x).all() and np.isfinite(m).all()):
        raise CustomerModelError("frequency and monetary must be finite numbers")
    if (m < 0).any():
        raise CustomerModelError("monetary holds a negative average spend")
    usable = (x > 0) & (m > 0)
    if usable.sum() < 2:
        raise FitError("Gamma-Gamma needs at least two customers with repeat purchases of positive value")
    scale = float(m[usable].mean())  # gamma scales with money; fit in units of the mean spend
    (ux, um), weights = _weighted_unique_rows(x[usable], m[usable] / scale)
    log_params = _minimize(
        _gamma_gamma_negative_log_likelihood, np.zeros(3), (ux, um, weights, penalizer, _levels(ux)), "Gamma-Gamma"
    )
    p, q, gamma = np.exp(log_params)
    return GammaGammaParams(p=float(p), q=float(q), gamma=float(gamma * scale))


def gamma_gamma_expected_spend(params: GammaGammaParams, frequency: Any, monetary: Any) -> np.ndarray:
    """E[spend per order | x, m] = (q - 1) / (p x + q - 1) * population mean + p x / (p x + q - 1) * m."""
    x = np.asarray(frequency, dtype=np.float64)
    m = np.asarray(monetary, dtype=np.float64)
    population_mean = params.population_mean_spend()
    weight_own = params.p * x / (params.p * x + params.q - 1.0)
    return (1.0 - weight_own) * population_mean + weight_own * m


# --- scoring -------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class PurchaseModel:
    """BG/NBD parameters in days, or the no-dropout fallback (``dropout=False``, then a and b are unused)."""

    params: BGNBDParams
    dropout: bool
    name: str


@dataclass(frozen=True)
class SpendModel:
    """Gamma-Gamma parameters, or the shrunk-mean fallback (``params is None``) with the store mean order value."""

    params: GammaGammaParams | None
    store_mean_order_value: float
    name: str


def fallback_purchase_model(summary_frequency: np.ndarray, summary_T: np.ndarray) -> PurchaseModel:
    """Poisson-gamma without dropout, shape 1, mean rate = pooled repeat rate (see module docstring)."""
    pooled_rate = (float(summary_frequency.sum()) + 0.5) / (float(summary_T.sum()) + 1.0)
    return PurchaseModel(
        BGNBDParams(r=1.0, alpha=1.0 / pooled_rate, a=1.0, b=1.0), dropout=False, name="poisson_gamma_fallback"
    )


def expected_purchases(
    model: PurchaseModel,
    t: float,
    x: np.ndarray,
    tx: np.ndarray,
    big_t: np.ndarray,
    *,
    p_alive: np.ndarray | None = None,
) -> np.ndarray:
    if model.dropout:
        return bgnbd_expected_purchases(model.params, t, x, tx, big_t, p_alive=p_alive)
    return t * (model.params.r + x) / (model.params.alpha + big_t)


def expected_order_value(model: SpendModel, summary: CustomerSummary) -> np.ndarray:
    if model.params is not None:
        return gamma_gamma_expected_spend(model.params, summary.spend_frequency, summary.monetary)
    # one pseudo-order at the store mean: a single big order does not make a customer "high value" alone
    return (summary.revenue + model.store_mean_order_value) / (summary.orders + 1.0)


def _fallback_spend_shape(summary: CustomerSummary) -> float:
    """Gamma shape (1 / CV^2) of order values when no Gamma-Gamma model could be fitted, from customers'
    average order values (a rough but data-driven spread; clipped to a plausible range)."""
    with_orders = summary.orders > 0
    average = summary.revenue[with_orders] / summary.orders[with_orders]
    if average.size < 2 or average.mean() <= 0 or average.var() <= 0:
        return 4.0
    return float(np.clip(average.mean() ** 2 / average.var(), 0.5, 50.0))


def predictive_value_quantiles(
    summary: CustomerSummary,
    purchase: PurchaseModel,
    spend: SpendModel,
    horizon_days: float,
    quantiles: tuple[float, float],
    *,
    p_alive: np.ndarray,
    margin: float = 1.0,
    draws: int = 200,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Quantiles of each customer's value over the next ``horizon_days``, drawn from the fitted models.

    The customer is alive at the end of the history with probability P(alive); then the purchase rate comes
    from the BG/NBD posterior Gamma(r + x, alpha + T); purchases in the horizon are Poisson(rate x t), cut at
    the beta-geometric dropout (the purchase after which the customer leaves, p ~ Beta(a, b + x)); each
    order's value comes from the Gamma-Gamma model with the customer's posterior nu ~ Gamma(q + p x,
    gamma + x m), so the sum of n orders is Gamma(n p, nu). Without a Gamma-Gamma fit, orders are gamma around
    the expected order value with the store's spread. Spend variation and parameter uncertainty are both in
    the interval (a count quantile times the mean order value had neither).

    Cost grows with the distinct (x, T, spend x) of the store, not with its customers: the value is
    alive x scale x Y, where the scale, (gamma + x m) / Gamma(...)'s rate or the mean order value over the
    spread, is the customer's own number and Y's distribution depends on (x, T, spend x) only. So ``draws``
    values of Y are drawn once per distinct (x, T, spend x), and each customer's quantile u is read from
    them at level (u - (1 - P(alive))) / P(alive) (0 below the no-order atom), times its scale.

    Value has an atom at 0 (no order). When the lower quantile falls on it, [0, P90] would hold P(V <= P90)
    = 90 % of the predictive mass, not 80 % (on a store simulated from the model itself its hold-out coverage
    is 90 %), so the upper bound is then the quantile of the interval's mass (P80 for P10-P90): the interval
    holds its nominal 80 %. It is [0, 0] exactly when P(no order in the horizon) >= 80 %: then no interval
    holds less mass than that, and [0, 0] is the honest answer (``p_order_365d`` says how unlikely an order is).
    """
    rng = np.random.default_rng(seed)
    n = len(summary)
    low_out, high_out = np.zeros(n), np.zeros(n)
    bg = purchase.params
    low_q, high_q = quantiles
    mass = high_q - low_q
    # Where no order at all is likely enough that [0, 0] already holds the interval's mass: no draws needed.
    no_order = 1.0 - p_alive * (1.0 - probability_no_purchase(bg, summary.frequency, summary.T, horizon_days))
    uncertain = np.flatnonzero(no_order < max(low_q, mass))
    if uncertain.size == 0:
        return low_out, high_out
    x, big_t, spend_x = summary.frequency[uncertain], summary.T[uncertain], summary.spend_frequency[uncertain]
    if spend.params is not None:
        gg = spend.params
        scale = margin * (gg.gamma + spend_x * summary.monetary[uncertain])
    else:
        fallback_shape = _fallback_spend_shape(summary)
        scale = margin * expected_order_value(spend, summary)[uncertain] / fallback_shape
    alive_probability = p_alive[uncertain]
    # Customers grouped by (x, T, spend x): contiguous runs of ``order``, one run per distinct key.
    order = np.lexsort((spend_x, big_t, x))
    keys = np.column_stack([x[order], big_t[order], spend_x[order]])
    starts = np.flatnonzero(np.r_[True, (keys[1:] != keys[:-1]).any(axis=1)])
    key_of_customer = np.cumsum(np.r_[False, (keys[1:] != keys[:-1]).any(axis=1)])  # run index, sorted order
    distinct = keys[starts]
    levels = np.array([low_q, high_q, mass])
    sorted_low, sorted_high = np.zeros(uncertain.size), np.zeros(uncertain.size)
    chunk = max(1, 1_000_000 // draws)
    for first_key in range(0, len(distinct), chunk):
        key_x, key_t, key_spend_x = distinct[first_key : first_key + chunk].T
        size = (len(key_x), draws)
        rate = rng.gamma((bg.r + key_x)[:, None], 1.0 / (bg.alpha + key_t)[:, None], size)
        count = rng.poisson(rate * horizon_days)
        if purchase.dropout:
            leave = rng.beta(bg.a, (bg.b + key_x)[:, None], size)
            count = np.minimum(count, rng.geometric(np.clip(leave, 1e-12, 1.0)))
        if spend.params is not None:
            value = rng.gamma(count * gg.p) / rng.gamma((gg.q + gg.p * key_spend_x)[:, None], 1.0, size)
        else:
            value = rng.gamma(count * fallback_shape)
        value.sort(axis=1)
        # the customers of these keys: a contiguous slice of the sorted order
        first_row = starts[first_key]
        end_row = starts[first_key + chunk] if first_key + chunk < len(starts) else uncertain.size
        rows = slice(first_row, end_row)
        local_key = key_of_customer[rows] - first_key
        alive = alive_probability[order[rows]][:, None]
        # P(V <= v) = (1 - alive) + alive * P(Y <= v / scale): level u of V is level (u - 1 + alive) / alive of Y
        y_level = np.clip((levels[None, :] - (1.0 - alive)) / alive, 0.0, 1.0)
        position = y_level * (draws - 1)
        below = np.floor(position).astype(np.int64)
        above = np.minimum(below + 1, draws - 1)
        weight = position - below
        y = value[local_key[:, None], below] * (1.0 - weight) + value[local_key[:, None], above] * weight
        y = np.where(levels[None, :] <= 1.0 - alive, 0.0, y)
        low, high, high_from_zero = (y * scale[order[rows]][:, None]).T
        sorted_low[rows], sorted_high[rows] = low, np.where(low > 0, high, high_from_zero)
    low_out[uncertain[order]], high_out[uncertain[order]] = sorted_low, sorted_high
    return low_out, high_out


def score_customers(
    summary: CustomerSummary, purchase: PurchaseModel, spend: SpendModel, params: CustomerParams
) -> dict[str, np.ndarray]:
    """Per-customer predictions (all finite): P(alive), expected purchases per horizon, next-order days
    (-1 = never even odds), churn band, expected order value and 12-month CLV with its predictive interval.

    The CLV interval is the ``params.clv_interval`` quantiles of the customer's value in the CLV horizon,
    drawn from the purchase and spend models (``predictive_value_quantiles``). It is [0, 0] only when the
    chance of no order at all in the horizon is at least the interval's mass (e.g. >= 80 %).
    """
    x, tx, big_t = summary.frequency, summary.recency, summary.T
    model_params = purchase.params
    # the fallback has no dropout: everyone is alive, churn risk then comes from the purchase rate alone
    p_alive = bgnbd_probability_alive(model_params, x, tx, big_t) if purchase.dropout else np.ones(x.size)
    scores: dict[str, np.ndarray] = {"p_alive": p_alive}
    for horizon in params.horizons_days:
        scores[f"expected_purchases_{horizon}d"] = expected_purchases(
            purchase, float(horizon), x, tx, big_t, p_alive=p_alive
        )
    clv_key = f"expected_purchases_{params.clv_horizon_days}d"
    clv_purchases = (
        scores[clv_key]
        if clv_key in scores
        else expected_purchases(purchase, float(params.clv_horizon_days), x, tx, big_t, p_alive=p_alive)
    )
    no_order_year = probability_no_purchase(model_params, x, big_t, 365.0)
    scores["p_order_365d"] = p_alive * (1.0 - no_order_year)
    scores["churn_risk"] = 1.0 - scores["p_order_365d"]
    scores["churn_band"] = churn_band_codes(scores["churn_risk"])
    next_days = days_until_even_odds_of_next_order(model_params, x, big_t, p_alive, days_per_unit=1.0)
    scores["next_order_days"] = np.where(np.isfinite(next_days) & (next_days <= 3650), next_days, -1.0)

    value_per_order = expected_order_value(spend, summary) * params.margin
    scores["expected_order_value"] = value_per_order
    scores["clv_12m"] = clv_purchases * value_per_order
    scores["clv_12m_low"], scores["clv_12m_high"] = predictive_value_quantiles(
        summary,
        purchase,
        spend,
        float(params.clv_horizon_days),
        params.clv_interval,
        p_alive=p_alive,
        margin=params.margin,
    )
    for name, values in scores.items():
        if not np.isfinite(values).all():  # a bug, not bad input: never ship NaN to the API
            raise FitError(f"customer scoring produced a non-finite {name}; model {purchase.name} {model_params}")
    return scores


def _refuse_degenerate_bgnbd(candidate: PurchaseModel, summary: CustomerSummary, params: CustomerParams) -> None:
    """A FitError when the fitted BG/NBD cannot be evaluated on this store's own customers.

    Small stores can put the optimum at a and b in the hundreds of thousands (the dropout Beta becomes a point
    mass): the likelihood is fine there, but the expectations' hypergeometric term overflows to NaN.
    """
    for horizon in (30.0, float(params.clv_horizon_days)):
        probe = expected_purchases(candidate, horizon, summary.frequency, summary.recency, summary.T)
        if not np.isfinite(probe).all():
            fitted = candidate.params
            raise FitError(
                f"BG/NBD's optimum is degenerate (a={fitted.a:.3g}, b={fitted.b:.3g}): its expected purchases "
                f"over {horizon:g} days are not finite"
            )


def fit_models(summary: CustomerSummary, params: CustomerParams) -> tuple[PurchaseModel, SpendModel, dict[str, Any]]:
    """BG/NBD and Gamma-Gamma when the data allow, else the documented fallbacks; with the reasons."""
    notes: dict[str, Any] = {}
    repeat_customers = int((summary.frequency > 0).sum())
    purchase: PurchaseModel | None = None
    if repeat_customers < params.min_repeat_customers:
        notes["purchase_fallback_reason"] = (
            f"{repeat_customers} repeat customer(s), fewer than the {params.min_repeat_customers} BG/NBD needs"
        )
    else:
        try:
            bgnbd = fit_bgnbd(summary.frequency, summary.recency, summary.T, penalizer=params.penalizer)
            candidate = PurchaseModel(bgnbd, dropout=True, name="bgnbd")
            _refuse_degenerate_bgnbd(candidate, summary, params)
            purchase = candidate
        except FitError as exc:
            notes["purchase_fallback_reason"] = str(exc)
            # Typically the optimum is "nobody leaves" (a -> 0, b -> inf): BG/NBD's own limit, the NBD.
            try:
                nbd = fit_nbd(summary.frequency, summary.T, penalizer=params.penalizer)
                purchase = PurchaseModel(nbd, dropout=False, name="nbd_no_dropout")
                notes["purchase_fallback_reason"] += "; fitted its no-dropout limit (NBD) instead"
            except FitError as nbd_exc:
                notes["purchase_fallback_reason"] += f"; NBD: {nbd_exc}"
    if purchase is None:
        purchase = fallback_purchase_model(summary.frequency, summary.T)

    store_mean = float(summary.revenue.sum() / max(summary.orders.sum(), 1))
    spend: SpendModel | None = None
    spenders = int(((summary.spend_frequency > 0) & (summary.monetary > 0)).sum())
    if spenders < params.min_repeat_customers:
        notes["spend_fallback_reason"] = (
            f"{spenders} repeat customer(s) with spend, fewer than the {params.min_repeat_customers} Gamma-Gamma needs"
        )
    else:
        try:
            gamma_gamma = fit_gamma_gamma(summary.spend_frequency, summary.monetary, penalizer=params.penalizer)
            gamma_gamma.population_mean_spend()  # raises when q <= 1
            spend = SpendModel(gamma_gamma, store_mean, name="gamma_gamma")
        except CustomerModelError as exc:
            notes["spend_fallback_reason"] = str(exc)
    if spend is None:
        spend = SpendModel(None, store_mean, name="shrunk_mean_fallback")
    return purchase, spend, notes


# --- training ------------------------------------------------------------------------------------------
def train_customer_model(
    order_lines: pd.DataFrame,
    *,
    as_of: datetime | None = None,
    previous: ModelArtifact | None = None,
    params: CustomerParams | None = None,
) -> ModelArtifact:
    """Fit the customer model of one tenant and return its artifact (kind ``"customers"``).

    ``as_of`` (default: now, UTC) is the moment the predictions are made from; an order dated after it is an
    error. ``previous`` is the last run's artifact, for segment movement. The manifest holds the fitted
    parameters, the model actually used (with the fallback reason, if any) and hold-out metrics.
    """
    params = params or CustomerParams()
    as_of_day, as_of_moment = as_of_day_index(as_of)
    transactions = order_totals(order_lines)
    summary = summarize_transactions(transactions, as_of_day=as_of_day)
    purchase, spend, notes = fit_models(summary, params)
    scores = score_customers(summary, purchase, spend, params)
    rfm = rfm_segments(summary.recency_days, summary.orders, summary.revenue)

    customer_ids = np.array([str(c).encode("utf-8") for c in summary.customer_ids], dtype=np.bytes_)
    previous_segment = _previous_segments(customer_ids, previous)
    movements = _segment_movements(previous_segment, rfm["segment"])
    revenue_at_stake = summary.revenue * scores["churn_risk"]
    at_risk_candidates = np.flatnonzero(scores["churn_band"] >= CHURN_BANDS.index("medium"))
    at_risk_order = at_risk_candidates[np.argsort(-revenue_at_stake[at_risk_candidates], kind="stable")]
    segment_order = np.lexsort((-scores["clv_12m"], rfm["segment"]))
    segment_counts = np.bincount(rfm["segment"], minlength=len(SEGMENT_NAMES))
    segment_starts = np.r_[0, np.cumsum(segment_counts)[:-1]]

    arrays: dict[str, np.ndarray] = {
        "customer_ids": customer_ids,
        "orders": summary.orders.astype(np.int64),
        "revenue": summary.revenue,
        "average_order_value": summary.revenue / np.maximum(summary.orders, 1),
        "recency_days": summary.recency_days.astype(np.int64),
        "last_order_at": summary.last_day.astype(np.int64) * SECONDS_PER_DAY,
        "frequency": summary.frequency,
        "recency": summary.recency,
        "T": summary.T,
        **{name: values for name, values in rfm.items()},
        "previous_segment": previous_segment,
        **{name: values for name, values in scores.items() if name != "churn_risk"},
        "churn_risk": scores["churn_risk"],
        "revenue_at_stake": revenue_at_stake,
        "at_risk_order": at_risk_order.astype(np.int64),
        "segment_order": segment_order.astype(np.int64),
        "segment_bounds": np.column_stack([segment_starts, segment_starts + segment_counts]).astype(np.int64),
    }
    metrics: dict[str, Any] = {
        "holdout": _holdout_metrics(transactions, as_of_day, params)
        if params.evaluate_holdout
        else {"skipped": "disabled"},
        "purchase_model_log_likelihood": (
            float(bgnbd_log_likelihood(purchase.params, summary.frequency, summary.recency, summary.T))
            if purchase.dropout
            else None
        ),
    }
    model_params: dict[str, Any] = {
        "model": f"{purchase.name}+{spend.name}",
        "purchase_model": purchase.name,
        "spend_model": spend.name,
        "bgnbd": purchase.params.as_dict() if purchase.dropout else None,
        "no_dropout_rate_model": (
            {"r": purchase.params.r, "alpha": purchase.params.alpha} if not purchase.dropout else None
        ),
        "gamma_gamma": spend.params.as_dict() if spend.params is not None else None,
        "store_mean_order_value": spend.store_mean_order_value,
        "time_unit": "day",
        "as_of": as_of_moment.isoformat(),
        "as_of_epoch_seconds": as_of_day * SECONDS_PER_DAY,
        "horizons_days": list(params.horizons_days),
        "clv_horizon_days": params.clv_horizon_days,
        "clv_interval": list(params.clv_interval),
        "margin": params.margin,
        "churn_risk": "1 - P(at least one order in the next 365 days); bands low < 0.4 <= medium < 0.7 <= high",
        **notes,
    }
    return ModelArtifact(
        kind=ARTIFACT_KIND,
        arrays=arrays,
        params=model_params,
        metrics=metrics,
        data_counts={
            "order_lines": len(order_lines),
            "orders": len(transactions),
            "customers": len(summary),
            "repeat_customers": int((summary.frequency > 0).sum()),
        },
        extra={
            "segment_summary": _segment_summary(rfm["segment"], summary.revenue, previous_segment),
            "segment_movements": movements,
        },
    )


def _previous_segments(customer_ids: np.ndarray, previous: ModelArtifact | None) -> np.ndarray:
    result = np.full(customer_ids.size, NO_SEGMENT, dtype=np.int8)
    if previous is None:
        return result
    if previous.kind != ARTIFACT_KIND or "customer_ids" not in previous.arrays:
        raise CustomerModelError(f"previous artifact is of kind {previous.kind!r}, not a customer model")
    previous_ids = previous.arrays["customer_ids"]
    if previous_ids.size == 0:
        return result
    position = np.minimum(np.searchsorted(previous_ids, customer_ids), previous_ids.size - 1)
    found = previous_ids[position] == customer_ids
    result[found] = previous.arrays["segment"][position[found]]
    return result


def _segment_movements(previous_segment: np.ndarray, segment: np.ndarray) -> list[dict[str, Any]]:
    known = previous_segment != NO_SEGMENT
    moved = known & (previous_segment != segment)
    n = len(SEGMENT_NAMES)
    counts = np.bincount(previous_segment[moved].astype(np.int64) * n + segment[moved], minlength=n * n)
    pairs = np.flatnonzero(counts)
    pairs = pairs[np.argsort(-counts[pairs], kind="stable")]
    return [
        {"from": SEGMENT_NAMES[pair // n], "to": SEGMENT_NAMES[pair % n], "customers": int(counts[pair])}
        for pair in pairs
    ]


def _segment_summary(segment: np.ndarray, revenue: np.ndarray, previous_segment: np.ndarray) -> list[dict[str, Any]]:
    total_customers = max(segment.size, 1)
    total_revenue = float(revenue.sum())
    known = previous_segment != NO_SEGMENT
    rows = []
    for code, name in enumerate(SEGMENT_NAMES):
        members = segment == code
        segment_revenue = float(revenue[members].sum())
        rows.append(
            {
                "segment": name,
                "description": SEGMENT_DESCRIPTIONS[name],
                "customers": int(members.sum()),
                "customer_share": round(float(members.sum()) / total_customers, 6),
                "revenue": round(segment_revenue, 2),
                "revenue_share": round(segment_revenue / total_revenue, 6) if total_revenue > 0 else 0.0,
                "previous_customers": int((previous_segment == code).sum()),
                "moved_in": int((members & known & (previous_segment != code)).sum()),
                "moved_out": int(((previous_segment == code) & ~members).sum()),
                "new_customers": int((members & ~known).sum()),
            }
        )
    return rows


def _holdout_metrics(transactions: pd.DataFrame, as_of_day: int, params: CustomerParams) -> dict[str, Any]:
    """Calibration / hold-out check of the purchase model on this store's own history (see the harness)."""
    from luxebrain.ml.customers.evaluation import HoldoutSkipped, evaluate_holdout  # harness imports this module

    first_day = int(np.floor_divide(_utc_datetime64_ns(transactions["ordered_at"], "ordered_at").min(), DAY_NS))
    span = as_of_day - first_day
    holdout_days = params.holdout_days or int(min(182, max(28, span // 4)))
    try:
        evaluation = evaluate_holdout(
            transactions, calibration_end_day=as_of_day - holdout_days, holdout_end_day=as_of_day, params=params
        )
    except HoldoutSkipped as exc:
        return {"skipped": str(exc), "holdout_days": holdout_days}
    return evaluation.metrics


def describe_models(purchase: PurchaseModel, spend: SpendModel) -> str:
    """One line naming the models and their parameters, for logs and the CLI."""
    shown = purchase.params.as_dict() if purchase.dropout else {"r": purchase.params.r, "alpha": purchase.params.alpha}
    parts = [f"{purchase.name}: " + ", ".join(f"{k}={v:.4g}" for k, v in shown.items())]
    if spend.params is not None:
        parts.append(f"{spend.name}: " + ", ".join(f"{k}={v:.4g}" for k, v in spend.params.as_dict().items()))
    else:
        parts.append(f"{spend.name}: store mean order value {spend.store_mean_order_value:.2f}")
    return "; ".join(parts)

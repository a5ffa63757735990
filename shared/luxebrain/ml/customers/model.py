"""The customer model once fitted: its inputs, its parameters and what it predicts.

ML layer (numpy / scipy / pandas). Training (``train``) fits the parameters; the hold-out harness
(``evaluation``) and training both score with what is here: the per-customer summary of transactions
(``summarize_transactions``), the fitted purchase and spend models (``PurchaseModel``, ``SpendModel``), their
expectations and the drawn 12-month value interval (``score_customers``). The API serves the stored arrays through
``luxebrain.ml.customers.serving`` (numpy only) and never imports this module.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import hyp2f1

from luxebrain.ml.customers.serving import (
    SECONDS_PER_DAY,
    BGNBDParams,
    CustomerModelError,
    GammaGammaParams,
    bgnbd_probability_alive,
    churn_band_codes,
    days_until_even_odds_of_next_order,
    probability_no_purchase,
)
from luxebrain.ml.dataset import require_columns

DAY_NS = SECONDS_PER_DAY * 1_000_000_000


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


def utc_datetime64_ns(values: pd.Series, column: str) -> np.ndarray:
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
    ns = utc_datetime64_ns(transactions["ordered_at"], "ordered_at")
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


def validate_rfm_arrays(frequency: Any, recency: Any, T: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
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
    x, tx, big_t = validate_rfm_arrays(frequency, recency, T)
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


def gamma_gamma_expected_spend(params: GammaGammaParams, frequency: Any, monetary: Any) -> np.ndarray:
    """E[spend per order | x, m] = (q - 1) / (p x + q - 1) * population mean + p x / (p x + q - 1) * m."""
    x = np.asarray(frequency, dtype=np.float64)
    m = np.asarray(monetary, dtype=np.float64)
    population_mean = params.population_mean_spend()
    weight_own = params.p * x / (params.p * x + params.q - 1.0)
    return (1.0 - weight_own) * population_mean + weight_own * m


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


def describe_models(purchase: PurchaseModel, spend: SpendModel) -> str:
    """One line naming the models and their parameters, for logs and the CLI."""
    shown = purchase.params.as_dict() if purchase.dropout else {"r": purchase.params.r, "alpha": purchase.params.alpha}
    parts = [f"{purchase.name}: " + ", ".join(f"{k}={v:.4g}" for k, v in shown.items())]
    if spend.params is not None:
        parts.append(f"{spend.name}: " + ", ".join(f"{k}={v:.4g}" for k, v in spend.params.as_dict().items()))
    else:
        parts.append(f"{spend.name}: store mean order value {spend.store_mean_order_value:.2f}")
    return "; ".join(parts)

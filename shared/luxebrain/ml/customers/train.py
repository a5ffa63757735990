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

import warnings
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd
from scipy.optimize import minimize
from scipy.special import betaln, digamma, gammaln

from luxebrain.ml.artifacts import ModelArtifact
from luxebrain.ml.customers.evaluation import HYBRID_RANKER, HoldoutSkipped, evaluate_holdout
from luxebrain.ml.customers.model import (
    DAY_NS,
    CustomerParams,
    CustomerSummary,
    FitError,
    PurchaseModel,
    SpendModel,
    as_of_day_index,
    expected_purchases,
    order_totals,
    score_customers,
    summarize_transactions,
    utc_datetime64_ns,
    validate_rfm_arrays,
)
from luxebrain.ml.customers.ranker import fit_buy_again_ranker, ranking_features
from luxebrain.ml.customers.segments import SEGMENT_DESCRIPTIONS
from luxebrain.ml.customers.serving import (
    ARTIFACT_KIND,
    CHURN_BANDS,
    CHURN_RISK_FROM_HYBRID,
    CHURN_RISK_FROM_MODEL,
    NO_SEGMENT,
    SECONDS_PER_DAY,
    SEGMENT_NAMES,
    BGNBDParams,
    CustomerModelError,
    GammaGammaParams,
    churn_band_codes,
    rfm_segments,
)

__all__ = ["fit_bgnbd", "fit_gamma_gamma", "fit_models", "fit_nbd", "train_customer_model"]

LOG_PARAM_BOUND = 15.0  # exp(+-15): far outside any real store, keeps the optimiser finite


# --- data preparation ---------------------------------------------------------------------------------


# --- BG/NBD --------------------------------------------------------------------------------------------


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
    x, tx, big_t = validate_rfm_arrays(frequency, recency, T)
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
    x, _, big_t = validate_rfm_arrays(frequency, np.zeros_like(np.asarray(frequency, dtype=np.float64)), T)
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
    x, tx, big_t = validate_rfm_arrays(frequency, recency, T)
    log_params = np.log([params.r, params.alpha, params.a, params.b])
    value, _ = _bgnbd_negative_log_likelihood(log_params, x, tx, big_t, np.ones_like(x), 0.0)
    return -value * x.size


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


# --- scoring -------------------------------------------------------------------------------------------


def fallback_purchase_model(summary_frequency: np.ndarray, summary_T: np.ndarray) -> PurchaseModel:
    """Poisson-gamma without dropout, shape 1, mean rate = pooled repeat rate (see module docstring)."""
    pooled_rate = (float(summary_frequency.sum()) + 0.5) / (float(summary_T.sum()) + 1.0)
    return PurchaseModel(
        BGNBDParams(r=1.0, alpha=1.0 / pooled_rate, a=1.0, b=1.0), dropout=False, name="poisson_gamma_fallback"
    )


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
    holdout = _holdout_metrics(transactions, as_of_day, params) if params.evaluate_holdout else {"skipped": "disabled"}
    churn_risk_basis = CHURN_RISK_FROM_MODEL
    if holdout.get("ranker") == HYBRID_RANKER:
        ranker = fit_buy_again_ranker(
            transactions,
            as_of_day=as_of_day,
            horizon_days=int(holdout["hybrid_window_days"]),
            params=params,
            fit=fit_models,
        )
        features = ranking_features(summary, purchase, spend, float(ranker.horizon_days))
        _rank_churn_risk_by(ranker.probability(features), scores)
        churn_risk_basis = CHURN_RISK_FROM_HYBRID
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
        "holdout": holdout,
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
        "churn_risk_basis": churn_risk_basis,
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


def _rank_churn_risk_by(buy_again: np.ndarray, scores: dict[str, np.ndarray]) -> None:
    """Churn risk ordered by the hybrid's P(buys again), with the purchase model's values (in place).

    The hold-out validated the hybrid's order, not its probabilities (fitted on a shorter window than the
    risk's year), so the customer the hybrid ranks k-th most likely to buy gets the k-th lowest of the
    model's risks: the risk's distribution, and so the bands' sizes, stay the purchase model's.
    """
    order = np.argsort(-buy_again, kind="stable")
    risk = np.empty_like(scores["churn_risk"])
    risk[order] = np.sort(scores["churn_risk"], kind="stable")
    scores["churn_risk"] = risk
    scores["churn_band"] = churn_band_codes(risk)


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
    first_day = int(np.floor_divide(utc_datetime64_ns(transactions["ordered_at"], "ordered_at").min(), DAY_NS))
    span = as_of_day - first_day
    holdout_days = params.holdout_days or int(min(182, max(28, span // 4)))
    try:
        evaluation = evaluate_holdout(
            transactions,
            calibration_end_day=as_of_day - holdout_days,
            holdout_end_day=as_of_day,
            params=params,
            fit=fit_models,
        )
    except HoldoutSkipped as exc:
        return {"skipped": str(exc), "holdout_days": holdout_days}
    return evaluation.metrics

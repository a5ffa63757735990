"""Customer intelligence at serving time: numpy only (the API imports this module).

Everything a request needs was computed by ``luxebrain.ml.customers.train_customer_model`` and stored in a
``ModelArtifact`` of kind ``"customers"``; this module only looks values up, in O(log n) per customer and
O(limit) per list, because the artifact holds the orderings the lists need.

It also holds what training and serving share without pandas or scipy: the parameter records, the RFM
segment rule table, the churn-risk bands, and the closed-form BG/NBD quantities that need no special
functions (probability alive, the next-order date, the predictive interval of the purchase count).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from luxebrain.ml.artifacts import ModelArtifact
from luxebrain.ml.customers.segments import (
    NO_SEGMENT,
    SEGMENT_NAMES,
    SEGMENT_RULES,
    CustomerModelError,
    UnknownCustomerError,
    UnknownSegmentError,
)

ARTIFACT_KIND = "customers"
SECONDS_PER_DAY = 86_400


@dataclass(frozen=True)
class BGNBDParams:
    """BG/NBD population parameters (Fader, Hardie & Lee 2005).

    Purchase rate lambda ~ Gamma(shape r, rate alpha) (alpha is in the time unit of the data it was fitted
    on); dropout probability after each purchase p ~ Beta(a, b).
    """

    r: float
    alpha: float
    a: float
    b: float

    def as_dict(self) -> dict[str, float]:
        return asdict(self)


@dataclass(frozen=True)
class GammaGammaParams:
    """Gamma-Gamma spend parameters (Fader, Hardie & Lee 2005, "RFM and CLV").

    A transaction value z ~ Gamma(p, nu); a customer's nu ~ Gamma(q, gamma) (gamma is in money units).
    """

    p: float
    q: float
    gamma: float

    def as_dict(self) -> dict[str, float]:
        return asdict(self)

    def population_mean_spend(self) -> float:
        """Mean transaction value of a customer we know nothing about: p * gamma / (q - 1), finite for q > 1."""
        if self.q <= 1.0:
            raise CustomerModelError(f"Gamma-Gamma q = {self.q:.4g} <= 1: the population mean spend is infinite")
        return self.p * self.gamma / (self.q - 1.0)


def _segment_lookup_table() -> np.ndarray:
    """A 6 x 6 table (index 1..5) of segment codes, checked to cover every (R, FM) cell exactly once."""
    table = np.full((6, 6), NO_SEGMENT, dtype=np.int8)
    for name, (r_low, r_high), (fm_low, fm_high), _ in SEGMENT_RULES:
        for r_score in range(r_low, r_high + 1):
            for fm_score in range(fm_low, fm_high + 1):
                if table[r_score, fm_score] == NO_SEGMENT:  # first matching rule wins
                    table[r_score, fm_score] = SEGMENT_NAMES.index(name)
    assert (table[1:, 1:] != NO_SEGMENT).all(), "SEGMENT_RULES must cover every (R, FM) cell"
    return table


SEGMENT_TABLE = _segment_lookup_table()


def quintile_scores(values: np.ndarray, *, higher_is_better: bool = True) -> np.ndarray:
    """Scores 1..5 from store-relative quintiles; tied values get the same score (mid-rank of the tie)."""
    values = np.asarray(values, dtype=np.float64)
    count = values.size
    if count == 0:
        return np.zeros(0, dtype=np.int8)
    if not higher_is_better:
        values = -values
    order = np.argsort(values, kind="stable")
    sorted_values = values[order]
    # Mid-rank of each run of equal values, so ties never split across two scores.
    starts = np.flatnonzero(np.r_[True, sorted_values[1:] != sorted_values[:-1]])
    ends = np.r_[starts[1:], count]
    mid_rank = (starts + ends - 1) / 2.0 + 0.5  # 0.5 .. count - 0.5
    run_of_position = np.repeat(np.arange(starts.size), ends - starts)
    fraction = np.empty(count)
    fraction[order] = mid_rank[run_of_position] / count
    return np.clip(np.ceil(fraction * 5.0), 1, 5).astype(np.int8)


def rfm_segments(recency_days: np.ndarray, orders: np.ndarray, revenue: np.ndarray) -> dict[str, np.ndarray]:
    """R, F, M, FM scores (1..5) and segment codes (indexes into ``SEGMENT_NAMES``), per the table above."""
    r_score = quintile_scores(recency_days, higher_is_better=False)
    f_score = quintile_scores(orders)
    m_score = quintile_scores(revenue)
    # round half up: (F + M) / 2 = 2.5 -> 3
    fm_score = np.floor((f_score.astype(np.int16) + m_score + 1) / 2).astype(np.int8)
    segment = SEGMENT_TABLE[r_score, fm_score] if r_score.size else np.zeros(0, dtype=np.int8)
    return {"r_score": r_score, "f_score": f_score, "m_score": m_score, "fm_score": fm_score, "segment": segment}


# --- churn-risk bands ---------------------------------------------------------------------------------
# Churn risk = 1 - P(the customer orders at least once in the next year) under the purchase model. It joins
# the chance they have left (BG/NBD P(alive)) with how rarely they buy, so a one-order customer (whom BG/NBD
# always counts as alive) is still "high" risk when a year without an order is likely.
CHURN_BANDS: tuple[str, ...] = ("low", "medium", "high")
CHURN_BAND_UPPER_RISK: tuple[float, ...] = (0.4, 0.7)  # risk < 0.4 -> low, < 0.7 -> medium, else high


def churn_band_codes(churn_risk: np.ndarray) -> np.ndarray:
    return np.searchsorted(np.asarray(CHURN_BAND_UPPER_RISK), churn_risk, side="right").astype(np.int8)


# --- closed-form BG/NBD quantities (numpy only) ---------------------------------------------------------
def bgnbd_probability_alive(
    params: BGNBDParams, frequency: np.ndarray, recency: np.ndarray, T: np.ndarray
) -> np.ndarray:
    """P(alive at T | x, t_x, T) = 1 / (1 + [x > 0] a / (b + x - 1) ((alpha + T) / (alpha + t_x))^(r + x)).

    Computed as a logistic of a log-odds so a large x or a long silence cannot overflow.
    """
    x = np.asarray(frequency, dtype=np.float64)
    recency = np.asarray(recency, dtype=np.float64)
    T = np.asarray(T, dtype=np.float64)
    repeat = x > 0
    log_odds_dead = np.full(x.shape, -np.inf)
    xr = x[repeat]
    log_odds_dead[repeat] = (
        np.log(params.a)
        - np.log(params.b + xr - 1.0)
        + (params.r + xr) * (np.log(params.alpha + T[repeat]) - np.log(params.alpha + recency[repeat]))
    )
    # 1 / (1 + e^z) without overflow for large z
    return np.exp(-np.logaddexp(0.0, log_odds_dead))


def probability_no_purchase(params: BGNBDParams, frequency: np.ndarray, T: np.ndarray, t: float) -> np.ndarray:
    """P(no purchase in (T, T + t] | alive) = ((alpha + T) / (alpha + T + t))^(r + x).

    That is the gamma posterior's mixture of e^(-lambda t)."""
    x = np.asarray(frequency, dtype=np.float64)
    T = np.asarray(T, dtype=np.float64)
    return np.exp((params.r + x) * (np.log(params.alpha + T) - np.log(params.alpha + T + t)))


def days_until_even_odds_of_next_order(
    params: BGNBDParams, frequency: np.ndarray, T: np.ndarray, p_alive: np.ndarray, *, days_per_unit: float
) -> np.ndarray:
    """Days from now until P(at least one more order) reaches 1/2; ``inf`` where it never does (P(alive) <= 1/2).

    P(order within t) = P(alive) (1 - ((alpha + T) / (alpha + T + t))^(r + x)), solved for t in closed form.
    """
    x = np.asarray(frequency, dtype=np.float64)
    T = np.asarray(T, dtype=np.float64)
    days = np.full(x.shape, np.inf)
    reachable = p_alive > 0.5
    remaining = 1.0 - 0.5 / p_alive[reachable]  # in (0, 1/2]
    # t = (alpha + T) (remaining^(-1 / (r + x)) - 1), via expm1 for precision when r + x is large
    units = (params.alpha + T[reachable]) * np.expm1(-np.log(remaining) / (params.r + x[reachable]))
    days[reachable] = units * days_per_unit
    return days


def purchase_count_quantiles(
    *,
    shape: np.ndarray,
    no_purchase_probability_per_step: np.ndarray,
    p_alive: np.ndarray,
    stay_ratio_offset: np.ndarray | None,
    a: float,
    quantiles: tuple[float, float],
    max_count: int = 100_000,
) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper quantiles of the number of purchases Y in the next t, exactly, under BG/NBD.

    Given the customer is alive, the purchase count N ~ NegBin(r + x, pi) with pi = (alpha + T) / (alpha + T + t)
    (the Poisson-gamma posterior), and the number of purchases G until dropout is beta-geometric with
    P(G >= y) = B(a, b + x + y - 1) / B(a, b + x); the two are independent a posteriori, and Y = min(N, G).
    So P(Y >= y) = P(alive) P(N >= y) P(G >= y), summed term by term with recurrences (log space for the
    NegBin pmf, so a heavy buyer's tiny P(N = 0) cannot underflow the sum). ``stay_ratio_offset`` is b + x
    (``None`` for a model without dropout, where G is infinite).
    """
    shape = np.asarray(shape, dtype=np.float64)
    count = shape.size
    lower = np.zeros(count, dtype=np.float64)
    upper = np.zeros(count, dtype=np.float64)
    low_q, high_q = quantiles
    log_one_minus_pi = np.log1p(-no_purchase_probability_per_step)
    log_pmf = shape * np.log(no_purchase_probability_per_step)  # log P(N = 0)
    cdf_n = np.exp(log_pmf)  # P(N <= y)
    survive_g = np.ones(count)  # P(G >= y + 1), y = 0
    active = np.arange(count)
    low_found = np.zeros(count, dtype=bool)
    y = 0
    while active.size and y < max_count:
        # P(Y <= y) = 1 - P(alive) P(N >= y + 1) P(G >= y + 1)
        cdf_y = 1.0 - p_alive[active] * (1.0 - cdf_n) * survive_g
        new_low = (~low_found[active]) & (cdf_y >= low_q)
        lower[active[new_low]] = y
        low_found[active[new_low]] = True
        done = cdf_y >= high_q
        upper[active[done]] = y
        keep = ~done
        active = active[keep]
        log_pmf, cdf_n, survive_g = log_pmf[keep], cdf_n[keep], survive_g[keep]
        log_one_minus_pi = log_one_minus_pi[keep]
        y += 1
        shape_active = shape[active]
        log_pmf = log_pmf + np.log((shape_active + y - 1.0) / y) + log_one_minus_pi
        cdf_n = np.minimum(cdf_n + np.exp(log_pmf), 1.0)
        if stay_ratio_offset is not None:
            # P(G >= y + 1) / P(G >= y) = (b + x + y - 1) / (a + b + x + y - 1)
            offset = stay_ratio_offset[active] + y - 1.0
            survive_g = survive_g * offset / (a + offset)
    upper[active] = max_count  # only reached by absurd inputs; documented cap rather than a hang
    lower[active[~low_found[active]]] = max_count
    return lower, upper


# --- serving --------------------------------------------------------------------------------------------
CHURN_RISK_FROM_MODEL = "model"
CHURN_RISK_FROM_RFM = "rfm_heuristic"
CHURN_RISK_FROM_HYBRID = "hybrid_ranker"  # the model's risks, ordered by the hybrid ranker (see training)
_PER_CUSTOMER_FLOATS = (
    "revenue",
    "average_order_value",
    "p_alive",
    "expected_purchases_30d",
    "expected_purchases_90d",
    "expected_purchases_365d",
    "p_order_365d",
    "expected_order_value",
    "clv_12m",
    "clv_12m_low",
    "clv_12m_high",
)


class CustomerScores:
    """Read-only view of one tenant's customer model, built from its artifact without pandas or scipy."""

    def __init__(self, artifact: ModelArtifact) -> None:
        if artifact.kind != ARTIFACT_KIND:
            raise CustomerModelError(f"artifact kind is {artifact.kind!r}, expected {ARTIFACT_KIND!r}")
        missing = [name for name in ("customer_ids", "segment", *_PER_CUSTOMER_FLOATS) if name not in artifact.arrays]
        if missing:
            raise CustomerModelError(f"customer artifact is missing array(s): {', '.join(missing)}")
        self.artifact = artifact
        self._arrays = artifact.arrays
        self._ids: np.ndarray = artifact.arrays["customer_ids"]  # sorted bytes, so lookups are a binary search
        self._segment: np.ndarray = artifact.arrays["segment"]
        self.model = str(artifact.params.get("model", "unknown"))
        self.as_of = str(artifact.params.get("as_of", ""))
        # A purchase model that ranked who buys again no better than the R + F + M sum on its hold-out (the
        # kind's baseline) does not set churn risk: the RFM sum does, labelled, and orders the at-risk list.
        self.churn_risk_basis = (
            CHURN_RISK_FROM_RFM
            if artifact.serves_baseline
            else str(artifact.params.get("churn_risk_basis", CHURN_RISK_FROM_MODEL))
        )
        if self.churn_risk_basis == CHURN_RISK_FROM_RFM:
            self._churn_band, self._revenue_at_stake, self._at_risk_order = _rfm_churn_risk(artifact.arrays)
        else:
            self._churn_band = artifact.arrays["churn_band"]
            self._revenue_at_stake = artifact.arrays["revenue_at_stake"]
            self._at_risk_order = artifact.arrays["at_risk_order"]

    @classmethod
    def from_artifact(cls, artifact: ModelArtifact) -> CustomerScores:
        return cls(artifact)

    def __len__(self) -> int:
        return int(self._ids.size)

    def _index(self, customer_id: str) -> int:
        if not isinstance(customer_id, str) or not customer_id:
            raise CustomerModelError("customer_id must be a non-empty string")
        key = customer_id.encode("utf-8")
        position = int(np.searchsorted(self._ids, key))
        if position >= self._ids.size or self._ids[position] != key:
            raise UnknownCustomerError(
                f"customer {customer_id!r} is not in the customer model trained as of {self.as_of}"
            )
        return position

    def _row(self, index: int) -> dict[str, Any]:
        arrays = self._arrays
        next_days = float(arrays["next_order_days"][index])
        last_order = int(arrays["last_order_at"][index])
        row: dict[str, Any] = {
            "customer_id": arrays["customer_ids"][index].decode("utf-8"),
            "segment": SEGMENT_NAMES[int(self._segment[index])],
            "previous_segment": _segment_name_or_none(int(arrays["previous_segment"][index])),
            "rfm": {
                "recency": int(arrays["r_score"][index]),
                "frequency": int(arrays["f_score"][index]),
                "monetary": int(arrays["m_score"][index]),
            },
            "orders": int(arrays["orders"][index]),
            "days_since_last_order": int(arrays["recency_days"][index]),
            "last_order_date": _iso_date(last_order),
            "churn_risk_band": CHURN_BANDS[int(self._churn_band[index])],
            "churn_risk_basis": self.churn_risk_basis,
            # the day by which another order becomes more likely than not; None where it never does
            "expected_next_order_date": None if next_days < 0 else _iso_date(self._as_of_plus_days(next_days)),
        }
        for name in _PER_CUSTOMER_FLOATS:
            row[name] = round(float(arrays[name][index]), 6)
        return row

    def _as_of_plus_days(self, days: float) -> int:
        """Epoch seconds of the training as-of time plus a number of days."""
        return int(self.artifact.params.get("as_of_epoch_seconds", 0)) + round(days * SECONDS_PER_DAY)

    def customer(self, customer_id: str) -> dict[str, Any]:
        """Everything the model knows about one customer; ``UnknownCustomerError`` if there is no such customer."""
        return self._row(self._index(customer_id))

    def segment_summary(self) -> list[dict[str, Any]]:
        """Per segment (in ``SEGMENT_NAMES`` order): size, share of customers and of revenue, movement."""
        return [dict(entry) for entry in self.artifact.extra.get("segment_summary", [])]

    def movements(self) -> list[dict[str, Any]]:
        """Counts of customers who moved between segments since the previous run (largest first)."""
        return [dict(entry) for entry in self.artifact.extra.get("segment_movements", [])]

    def at_risk(self, limit: int = 20, min_value: float = 0.0) -> list[dict[str, Any]]:
        """Top at-risk valuable customers: churn band medium or high, revenue >= ``min_value``, ranked by
        revenue at stake = historical revenue x churn risk (computed at training time)."""
        _check_limit(limit)
        if not np.isfinite(min_value):
            raise CustomerModelError("min_value must be a finite number")
        order = self._at_risk_order
        qualifies = self._arrays["revenue"][order] >= min_value
        chosen = order[qualifies][:limit]
        rows = []
        for index in chosen:
            row = self._row(int(index))
            row["revenue_at_stake"] = round(float(self._revenue_at_stake[index]), 6)
            rows.append(row)
        return rows

    def customers_in_segment(self, segment: str, limit: int = 50, cursor: str | None = None) -> dict[str, Any]:
        """One page of a segment's customers, highest 12-month CLV first; pass ``next_cursor`` for the next page."""
        _check_limit(limit)
        if segment not in SEGMENT_NAMES:
            raise UnknownSegmentError(f"unknown segment {segment!r}; segments are: {', '.join(SEGMENT_NAMES)}")
        code = SEGMENT_NAMES.index(segment)
        start, stop = (int(v) for v in self._arrays["segment_bounds"][code])
        offset = 0
        if cursor is not None:
            if not cursor.isdigit():
                raise CustomerModelError(f"cursor {cursor!r} is not one this API returned")
            offset = int(cursor)
        page = self._arrays["segment_order"][start + offset : min(stop, start + offset + limit)]
        next_offset = offset + page.size
        return {
            "segment": segment,
            "total": stop - start,
            "customers": [self._row(int(index)) for index in page],
            "next_cursor": str(next_offset) if start + next_offset < stop else None,
        }


def rfm_churn_risk(r_score: np.ndarray, f_score: np.ndarray, m_score: np.ndarray) -> np.ndarray:
    """The RFM heuristic's churn risk: 0 for R + F + M = 15 (the best), 1 for 3 (the worst)."""
    total = r_score.astype(np.float64) + f_score + m_score
    return np.clip((15.0 - total) / 12.0, 0.0, 1.0)


def _rfm_churn_risk(arrays: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Churn bands, revenue at stake and the at-risk order from the RFM heuristic instead of the model."""
    risk = rfm_churn_risk(arrays["r_score"], arrays["f_score"], arrays["m_score"])
    bands = churn_band_codes(risk)
    at_stake = arrays["revenue"].astype(np.float64) * risk
    candidates = np.flatnonzero(bands >= CHURN_BANDS.index("medium"))
    return bands, at_stake, candidates[np.argsort(-at_stake[candidates], kind="stable")]


def _segment_name_or_none(code: int) -> str | None:
    return None if code == NO_SEGMENT else SEGMENT_NAMES[code]


def _check_limit(limit: int) -> None:
    if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= 1000:
        raise CustomerModelError(f"limit must be an integer from 1 to 1000, got {limit!r}")


def _iso_date(epoch_seconds: int) -> str:
    return str(np.datetime64(int(epoch_seconds) // SECONDS_PER_DAY, "D"))

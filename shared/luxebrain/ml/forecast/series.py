"""Numpy building blocks of the demand forecast shared by its training and its backtest harness: the TSB
intermittent-demand levels and the check for cut-short first and last periods.

Numpy only; no model is fitted here.
"""

from __future__ import annotations

import warnings

import numpy as np


class quiet_empty_slices:
    """Silence numpy's 'mean of empty slice' warnings for all-NaN rows (they are handled explicitly)."""

    def __enter__(self) -> None:
        self._catch = warnings.catch_warnings()
        self._catch.__enter__()
        warnings.simplefilter("ignore", category=RuntimeWarning)

    def __exit__(self, *exc: object) -> None:
        self._catch.__exit__(*exc)


def tsb_levels(y: np.ndarray, alpha_demand: float = 0.1, alpha_probability: float = 0.1) -> np.ndarray:
    """TSB forecast (probability of demand x demand size) after consuming y[:, :o], for o = 0..T.

    Teunter, Syntetos & Babai (2011): the probability is updated every period (so it decays while nothing
    sells, unlike Croston), the size only when something sells. Initialised from the first observations.
    """
    n, t_len = y.shape
    out = np.full((n, t_len + 1), np.nan)
    probability = np.full(n, np.nan)
    size = np.full(n, np.nan)
    for t in range(t_len):
        value = y[:, t]
        has_value = ~np.isnan(value)
        sold = has_value & (value > 0)
        first = has_value & np.isnan(probability)
        probability = np.where(first, sold.astype(float), probability)
        size = np.where(first & sold, value, size)
        later = has_value & ~first
        probability = np.where(later, probability + alpha_probability * (sold - probability), probability)
        new_size = np.where(np.isnan(size), value, size + alpha_demand * (value - size))
        size = np.where(later & sold, new_size, size)
        out[:, t + 1] = probability * np.nan_to_num(size)
    return out


def tsb_fitted(y: np.ndarray) -> np.ndarray:
    """TSB levels with smoothing constants chosen per series by one-step-ahead absolute error."""
    grid = [(0.05, 0.05), (0.1, 0.1), (0.2, 0.1), (0.1, 0.3), (0.3, 0.3)]
    best: np.ndarray | None = None
    best_error = np.full(y.shape[0], np.inf)
    for alpha_demand, alpha_probability in grid:
        levels = tsb_levels(y, alpha_demand, alpha_probability)
        with quiet_empty_slices():
            error = np.nanmean(np.abs(levels[:, 1:-1] - y[:, 1:]), axis=1) if y.shape[1] > 1 else np.zeros(len(y))
        error = np.nan_to_num(error, nan=np.inf)
        if best is None:
            best, best_error = levels, np.where(np.isinf(error), 0.0, error)
            continue
        better = error < best_error
        best = np.where(better[:, None], levels, best)
        best_error = np.where(better, error, best_error)
    assert best is not None
    return best


def partial_edges(totals: np.ndarray, season: int, threshold: float = 0.5, references: int = 8) -> tuple[bool, bool]:
    """Whether the first and the last period of a store's total sales look cut short (a partial day or week).

    Data rarely starts and ends on a period boundary: the first back-filled day begins at some hour, the
    last day is still going when the data is read. Such a period is drawn and learnt as a collapse of
    demand. An edge period counts as partial when it sold less than ``threshold`` x the median of up to
    ``references`` comparable periods next to it: the same weekday for daily data (``season`` 7), the
    neighbouring periods otherwise. Without three comparable periods nothing is called partial.
    """
    values = np.nan_to_num(np.asarray(totals, dtype=float))
    t_len = len(values)
    step = season if season > 1 else 1

    def cut_short(edge: int, direction: int) -> bool:
        positions = edge + direction * step * np.arange(1, references + 1)
        positions = positions[(positions >= 0) & (positions < t_len)]
        if len(positions) < 3:
            return False
        reference = float(np.median(values[positions]))
        return reference > 0 and values[edge] < threshold * reference

    if t_len < 4:
        return False, False
    return cut_short(0, 1), cut_short(t_len - 1, -1)

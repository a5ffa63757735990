"""Rolling-origin backtest for demand forecasts: any sales CSV, our model and simple baselines, one table.

Used by ``benchmarks/forecast.py`` (which adds the statsforecast baselines) and by the CLI:
``luxebrain evaluate forecast --sales FILE.csv --series-col ... --time-col ... --value-col ...``. The methods
are passed in: ours comes from training (``luxebrain.ml.forecast.train.builtin_methods``, ours beside the
baselines below), so this module never imports the forecaster's training code.

Protocol: ``n_cutoffs`` forecast origins, ``step`` periods apart, the last one ``horizon`` periods before the end
of the data; every method forecasts ``horizon`` periods from every origin using only data before it. Metrics are
pooled over series, origins and the periods of a window (e.g. weeks 1-4):
- WAPE = sum |actual - P50| / sum actual; bias = sum (P50 - actual) / sum actual;
- MASE = mean over (series, origin) of MAE / in-sample MAE of the seasonal naive forecast (season 52 weeks or
  7 days, 1 period when the history is shorter than a season; series with a constant history are skipped);
- pinball = mean pinball loss over P10 / P50 / P90 divided by the mean actual (scale-free);
- coverage = share of actuals inside [P10, P90] (80 % is the target), over the window and at its first and last
  period (``coverage_first`` / ``coverage_last``: calibration per horizon step); ``width_first`` / ``width_last``
  = mean P90 - P10 at those periods divided by the mean actual (a band that widens with the horizon grows).
"""

from __future__ import annotations

import dataclasses
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from luxebrain.ml.forecast.series import partial_edges, tsb_fitted

PERIOD_DAYS = {"D": 1, "W": 7}
SEASON_LENGTH = {"D": 7, "W": 52}


class HarnessInputError(ValueError):
    """The sales file or a backtest setting cannot be used; the message names the column, row or setting."""


@dataclass
class SalesPanel:
    """Sales per series and period. ``values`` (n_series, n_periods): NaN before a series' first record,
    0 for periods without a record after it. ``period_ends`` are real dates when the calendar is known.
    ``holidays``: 1 for a period with a holiday, 0 otherwise, from the first period on, when the data has them;
    holidays are known in advance, so the history seen at an origin keeps the whole calendar. ``prices`` and
    ``promotions`` (n_series, n_periods), when the data has them, are kept whole the same way: a price is the
    merchant's plan, known for the weeks ahead (NaN where a period has none), unless ``prices_known_ahead`` is
    False (prices read off transactions, which move with who bought): then a forecast sees only past ones."""

    series_ids: list[str]
    values: np.ndarray
    freq: str
    period_ends: list[date] | None = None
    notes: list[str] = field(default_factory=list)
    holidays: np.ndarray | None = None
    prices: np.ndarray | None = None
    promotions: np.ndarray | None = None
    prices_known_ahead: bool = True

    def head(self, periods: int) -> SalesPanel:
        """The first ``periods`` periods (the history seen at an origin)."""
        ends = self.period_ends[:periods] if self.period_ends is not None else None
        return dataclasses.replace(self, values=self.values[:, :periods], period_ends=ends)

    def subset(self, rows: np.ndarray) -> SalesPanel:
        ids = [self.series_ids[i] for i in rows]
        return dataclasses.replace(
            self,
            series_ids=ids,
            values=self.values[rows],
            prices=None if self.prices is None else self.prices[rows],
            promotions=None if self.promotions is None else self.promotions[rows],
        )


@dataclass
class QuantileForecast:
    p10: np.ndarray
    p50: np.ndarray
    p90: np.ndarray


Forecaster = Callable[[SalesPanel, int], QuantileForecast]


# --------------------------------------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------------------------------------


def load_sales_csv(
    path: Path,
    *,
    series_col: str,
    time_col: str,
    value_col: str,
    freq: str | None = None,
    time_format: str | None = None,
) -> SalesPanel:
    """Read a long sales CSV (one row per series and date; gzip allowed) into a panel."""
    if not Path(path).is_file():
        raise HarnessInputError(f"sales file not found: {path}")
    try:
        header = pd.read_csv(path, nrows=0)
    except (ValueError, OSError) as exc:
        raise HarnessInputError(f"cannot read {path} as CSV: {exc}") from exc
    missing = [c for c in (series_col, time_col, value_col) if c not in header.columns]
    if missing:
        raise HarnessInputError(
            f"{path} has no column(s) {', '.join(map(repr, missing))}; columns are: {', '.join(header.columns)}"
        )
    frame = pd.read_csv(path, usecols=[series_col, time_col, value_col], dtype={series_col: str})
    return panel_from_frame(frame, series_col, time_col, value_col, freq=freq, time_format=time_format)


def panel_from_frame(
    frame: pd.DataFrame,
    series_col: str,
    time_col: str,
    value_col: str,
    *,
    freq: str | None = None,
    time_format: str | None = None,
) -> SalesPanel:
    """Build a panel from long rows. Duplicated (series, period) rows are summed; periods with no row after a
    series' first record are zero sales; negative totals (returns beyond sales) count as zero.

    The time column holds dates (daily or weekly; weekly dates are snapped to the week of the last date) or
    integer period numbers (then ``freq`` says what a period is and the calendar is unknown).
    """
    for column in (series_col, time_col, value_col):
        if column not in frame.columns:
            raise HarnessInputError(f"column {column!r} not found; columns are: {', '.join(map(str, frame.columns))}")
    if freq is not None and freq not in PERIOD_DAYS:
        raise HarnessInputError(f"freq must be 'D' or 'W', got {freq!r}")
    if frame.empty:
        raise HarnessInputError("the sales data has no rows")
    notes: list[str] = []
    values = pd.to_numeric(frame[value_col], errors="coerce")
    bad = values.isna() & frame[value_col].notna()
    if bad.any():
        position = int(np.flatnonzero(bad.to_numpy())[0])
        raise HarnessInputError(
            f"column {value_col!r} is not numeric at data row {position + 1}: {frame[value_col].iloc[position]!r}"
        )
    if values.isna().any():
        notes.append(f"{int(values.isna().sum())} empty {value_col!r} value(s) counted as 0")
    values = values.fillna(0.0)
    series = frame[series_col].astype(str)
    raw_time = frame[time_col]
    numeric_time = pd.to_numeric(raw_time, errors="coerce")
    if numeric_time.notna().all() and np.allclose(numeric_time, np.round(numeric_time)) and time_format is None:
        period = numeric_time.astype(int).to_numpy()
        freq = freq or "W"
        period_ends = None
        period = period - period.min()
        n_periods = int(period.max()) + 1
    else:
        stamps = pd.to_datetime(raw_time, format=time_format, errors="coerce", dayfirst=False)
        if stamps.isna().any():
            position = int(np.flatnonzero(stamps.isna().to_numpy())[0])
            raise HarnessInputError(
                f"column {time_col!r} is not a date at data row {position + 1}: {raw_time.iloc[position]!r}"
                + (" (pass --time-format)" if time_format is None else "")
            )
        days = stamps.dt.tz_localize(None).dt.normalize() if stamps.dt.tz is not None else stamps.dt.normalize()
        unique_days = np.sort(days.unique())
        if freq is None:
            gaps = np.diff(unique_days).astype("timedelta64[D]").astype(int)
            if len(gaps) == 0:
                raise HarnessInputError("the sales data has a single date; at least two periods are needed")
            typical = int(np.median(gaps))
            freq = "D" if typical <= 1 else "W" if 5 <= typical <= 8 else ""
            if not freq:
                raise HarnessInputError(f"dates are {typical} days apart; pass freq 'D' or 'W' (--freq)")
        last = pd.Timestamp(unique_days[-1])
        offset = ((last - days).dt.days // PERIOD_DAYS[freq]).to_numpy()
        n_periods = int(offset.max()) + 1
        period = n_periods - 1 - offset
        period_ends = [
            (last - pd.Timedelta(days=PERIOD_DAYS[freq] * (n_periods - 1 - k))).date() for k in range(n_periods)
        ]
    codes, uniques = pd.factorize(series, sort=True)
    panel = np.zeros((len(uniques), n_periods))
    np.add.at(panel, (codes, period), values.to_numpy(float))
    duplicated = pd.DataFrame({"s": codes, "p": period}).duplicated().sum()
    if duplicated:
        notes.append(f"{int(duplicated)} duplicated (series, period) row(s) summed")
    negative = int((panel < 0).sum())
    if negative:
        notes.append(f"{negative} period total(s) below zero (returns) counted as 0")
    panel = np.clip(panel, 0, None)
    first = np.full(len(uniques), n_periods)
    np.minimum.at(first, codes, period)
    panel[np.arange(n_periods)[None, :] < first[:, None]] = np.nan
    # A first or last period cut short (data starting mid-period, a last day still going) is left out of
    # every method's training and of the evaluation: it would read as a collapse of demand.
    first_partial, last_partial = partial_edges(np.nansum(panel, axis=0), 7 if freq == "D" else 1)
    if n_periods > 8 and (first_partial or last_partial):
        keep = slice(1 if first_partial else 0, n_periods - 1 if last_partial else n_periods)
        for flag, position in ((first_partial, 0), (last_partial, n_periods - 1)):
            if flag:
                label = period_ends[position].isoformat() if period_ends else f"period {position}"
                notes.append(f"partial {'first' if position == 0 else 'last'} period {label} left out")
        panel = panel[:, keep]
        period_ends = period_ends[keep] if period_ends is not None else None
        alive = ~np.isnan(panel).all(axis=1)
        uniques, panel = uniques[alive], panel[alive]
    return SalesPanel([str(u) for u in uniques], panel, freq, period_ends, notes)


# --------------------------------------------------------------------------------------------------------
# Methods
# --------------------------------------------------------------------------------------------------------


def _residual_quantiles(history: np.ndarray, point: np.ndarray, lag: int) -> QuantileForecast:
    """Intervals for a point forecast from the empirical 10 % / 90 % quantiles of the history's ``lag``-step
    changes, widened with the square root of the horizon (random-walk errors)."""
    changes = history[:, lag:] - history[:, :-lag] if history.shape[1] > lag else np.zeros((len(history), 1))
    with np.errstate(all="ignore"):
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            low = np.nan_to_num(np.nanquantile(changes, 0.1, axis=1))
            high = np.nan_to_num(np.nanquantile(changes, 0.9, axis=1))
    growth = np.sqrt(np.arange(1, point.shape[1] + 1) / lag).clip(1, None)[None, :]
    p10 = np.clip(point + low[:, None] * growth, 0, None)
    p90 = np.clip(point + high[:, None] * growth, 0, None)
    return QuantileForecast(np.minimum(p10, point), point, np.maximum(p90, point))


def seasonal_naive(panel: SalesPanel, horizon: int) -> QuantileForecast:
    """Repeat the last season (52 weeks / 7 days), or the last value when the history is shorter."""
    y = np.nan_to_num(panel.values)
    season = SEASON_LENGTH[panel.freq]
    t_len = y.shape[1]
    if t_len >= season:
        index = t_len - season + (np.arange(horizon) % season)
        point = y[:, index]
        lag = season
    else:
        point = np.repeat(y[:, -1:], horizon, axis=1)
        lag = 1
    return _residual_quantiles(y, point, lag)


def moving_average_with_trend(panel: SalesPanel, horizon: int, weeks: int = 8) -> QuantileForecast:
    """The seed's method: the mean of the last ``weeks`` weeks plus a linear trend fitted on them."""
    y = np.nan_to_num(panel.values)
    window = max(2, weeks * 7 // PERIOD_DAYS[panel.freq])
    recent = y[:, -window:]
    t = np.arange(recent.shape[1], dtype=float)
    t_centered = t - t.mean()
    slope = (recent * t_centered).sum(axis=1) / max(float((t_centered**2).sum()), 1e-9)
    future = (t[-1] - t.mean()) + np.arange(1, horizon + 1)
    point = np.clip(recent.mean(axis=1)[:, None] + slope[:, None] * future[None, :], 0, None)
    return _residual_quantiles(y, point, 1)


def tsb_numpy(panel: SalesPanel, horizon: int) -> QuantileForecast:
    """Our vectorised TSB (the fallback inside the model), with residual-based intervals."""
    levels = tsb_fitted(panel.values)
    point = np.repeat(np.nan_to_num(levels[:, -1:]), horizon, axis=1)
    return _residual_quantiles(np.nan_to_num(panel.values), point, 1)


# --------------------------------------------------------------------------------------------------------
# Backtest
# --------------------------------------------------------------------------------------------------------


@dataclass
class MethodResult:
    metrics: dict[str, dict[str, float]]  # window -> metric -> value
    seconds: float  # wall time
    cpu_seconds: float  # CPU time of this process (fair on a shared machine)
    peak_mb: float  # peak of memory traced by tracemalloc (numpy buffers included)
    forecasts: list[QuantileForecast]  # one per cut-off, in cut-off order


@dataclass
class BacktestResult:
    cutoffs: list[int]
    horizon: int
    windows: dict[str, int]
    methods: dict[str, MethodResult]
    series: int
    panel: SalesPanel
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "cutoffs": self.cutoffs,
            "horizon": self.horizon,
            "windows": self.windows,
            "series": self.series,
            "notes": self.notes,
            "methods": {
                name: {"metrics": r.metrics, "seconds": r.seconds, "cpu_seconds": r.cpu_seconds, "peak_mb": r.peak_mb}
                for name, r in self.methods.items()
            },
        }


def default_windows(freq: str) -> dict[str, int]:
    per_week = 7 // PERIOD_DAYS[freq]
    return {"1-4w": 4 * per_week, "1-13w": 13 * per_week}


def rolling_origin_backtest(
    panel: SalesPanel,
    methods: dict[str, Forecaster],
    *,
    n_cutoffs: int = 4,
    step: int | None = None,
    windows: dict[str, int] | None = None,
    min_history: int | None = None,
) -> BacktestResult:
    """Run every method from every cut-off on the same data; see the module docstring for the metrics."""
    if not methods:
        raise HarnessInputError("no forecasting methods given")
    if n_cutoffs < 1:
        raise HarnessInputError(f"n_cutoffs must be at least 1, got {n_cutoffs}")
    windows = windows or default_windows(panel.freq)
    horizon = max(windows.values())
    per_week = 7 // PERIOD_DAYS[panel.freq]
    step = step or 4 * per_week
    min_history = min_history if min_history is not None else 4 * per_week
    t_len = panel.values.shape[1]
    cutoffs = [t_len - horizon - step * k for k in range(n_cutoffs)][::-1]
    if cutoffs[0] < min_history:
        raise HarnessInputError(
            f"{t_len} periods are too few for {n_cutoffs} cut-offs {step} apart with a {horizon}-period horizon "
            f"and {min_history} periods of history; use fewer cut-offs or a shorter horizon"
        )
    # A series needs some history at the first cut-off; shorter ones (e.g. a single data point) are left out.
    history_at_first = (~np.isnan(panel.values[:, : cutoffs[0]])).sum(axis=1)
    keep = np.flatnonzero(history_at_first >= min_history)
    notes = list(panel.notes)
    if len(keep) < len(panel.series_ids):
        notes.append(
            f"{len(panel.series_ids) - len(keep)} series with fewer than {min_history} periods before the first "
            "cut-off left out"
        )
    if len(keep) == 0:
        raise HarnessInputError(f"no series has {min_history} periods of history before the first cut-off")
    panel = panel.subset(keep)
    results: dict[str, MethodResult] = {}
    for name, method in methods.items():
        forecasts: list[QuantileForecast] = []
        seconds = cpu_seconds = 0.0
        tracemalloc.start()
        for cutoff in cutoffs:
            history = panel.head(cutoff)
            started, cpu_started = time.perf_counter(), time.process_time()
            forecast = method(history, horizon)
            seconds += time.perf_counter() - started
            cpu_seconds += time.process_time() - cpu_started
            forecasts.append(_checked(forecast, name, len(keep), horizon))
        peak_mb = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
        metrics = {label: _window_metrics(panel, cutoffs, forecasts, periods) for label, periods in windows.items()}
        results[name] = MethodResult(metrics, seconds, cpu_seconds, peak_mb, forecasts)
    return BacktestResult(cutoffs, horizon, windows, results, len(keep), panel, notes)


def _checked(forecast: QuantileForecast, name: str, n: int, horizon: int) -> QuantileForecast:
    arrays = []
    for label in ("p10", "p50", "p90"):
        array = np.asarray(getattr(forecast, label), dtype=float)
        if array.shape != (n, horizon):
            raise HarnessInputError(f"method {name!r} returned {label} of shape {array.shape}, expected {(n, horizon)}")
        arrays.append(np.clip(np.nan_to_num(array, nan=0.0, posinf=0.0), 0, None))
    p10, p50, p90 = arrays
    return QuantileForecast(np.minimum(p10, p50), p50, np.maximum(p90, p50))


def _mase_scale(history: np.ndarray, season: int) -> np.ndarray:
    """In-sample MAE of the seasonal naive forecast per series (season 1 when the history is too short)."""
    scales = np.zeros(len(history))
    for i, row in enumerate(history):
        values = row[~np.isnan(row)]
        lag = season if len(values) > season else 1
        if len(values) <= lag:
            scales[i] = 0.0
            continue
        scales[i] = float(np.mean(np.abs(values[lag:] - values[:-lag])))
    return scales


def _window_metrics(
    panel: SalesPanel, cutoffs: list[int], forecasts: list[QuantileForecast], periods: int
) -> dict[str, float]:
    actual_parts, p10_parts, p50_parts, p90_parts, mase_values = [], [], [], [], []
    season = SEASON_LENGTH[panel.freq]
    for cutoff, forecast in zip(cutoffs, forecasts, strict=True):
        actual = np.nan_to_num(panel.values[:, cutoff : cutoff + periods])
        actual_parts.append(actual)
        p10_parts.append(forecast.p10[:, :periods])
        p50_parts.append(forecast.p50[:, :periods])
        p90_parts.append(forecast.p90[:, :periods])
        scale = _mase_scale(panel.values[:, :cutoff], season)
        mae = np.abs(actual - forecast.p50[:, :periods]).mean(axis=1)
        usable = scale > 0
        mase_values.extend((mae[usable] / scale[usable]).tolist())
    actual = np.concatenate(actual_parts)
    p10, p50, p90 = (np.concatenate(parts) for parts in (p10_parts, p50_parts, p90_parts))
    total = max(float(actual.sum()), 1e-9)
    pinball = 0.0
    for quantile, prediction in ((0.1, p10), (0.5, p50), (0.9, p90)):
        diff = actual - prediction
        pinball += float(np.mean(np.maximum(quantile * diff, (quantile - 1) * diff)))
    metrics = {
        "wape": float(np.abs(actual - p50).sum()) / total,
        "mase": float(np.mean(mase_values)) if mase_values else float("nan"),
        "bias": float((p50 - actual).sum()) / total,
        "pinball": pinball / 3 / max(float(actual.mean()), 1e-9),
        "coverage": float(np.mean((actual >= p10) & (actual <= p90))),
    }
    # Calibration per horizon step: the first and the last period of the window (each over series and origins).
    inside = (actual >= p10) & (actual <= p90)
    metrics["coverage_first"] = float(np.mean(inside[:, 0]))
    metrics["coverage_last"] = float(np.mean(inside[:, -1]))
    metrics["width_first"] = float(np.mean(p90[:, 0] - p10[:, 0])) / max(float(actual.mean()), 1e-9)
    metrics["width_last"] = float(np.mean(p90[:, -1] - p10[:, -1])) / max(float(actual.mean()), 1e-9)
    if panel.freq == "D" and periods >= 7:
        # Daily forecasts summed to weeks: what a weekly replenishment decision sees.
        weeks = periods // 7
        weekly_actual = actual[:, : 7 * weeks].reshape(len(actual), weeks, 7).sum(axis=2)
        weekly_p50 = p50[:, : 7 * weeks].reshape(len(p50), weeks, 7).sum(axis=2)
        weekly_total = max(float(weekly_actual.sum()), 1e-9)
        metrics["wape_weekly_sum"] = float(np.abs(weekly_actual - weekly_p50).sum()) / weekly_total
    return metrics


def format_table(result: BacktestResult, reference: str, title: str = "") -> str:
    """Rows: methods; columns: each window's WAPE (and its ratio to ``reference``), MASE, bias, pinball ratio,
    coverage; then time and peak memory."""
    if reference not in result.methods:
        raise HarnessInputError(f"reference method {reference!r} is not among {list(result.methods)}")
    lines = []
    if title:
        lines.append(title)
    header = f"{'method':<18}"
    for label in result.windows:
        header += f" | {label:>5} WAPE  x{reference[:8]:<8} MASE   bias  pinb.x  cover"
    header += " | wall s  cpu s  peak MB"
    lines.append(header)
    lines.append("-" * len(header))
    ref = result.methods[reference].metrics
    for name, method in result.methods.items():
        row = f"{name:<18}"
        for label in result.windows:
            m = method.metrics[label]
            ratio = m["wape"] / max(ref[label]["wape"], 1e-12)
            pin_ratio = m["pinball"] / max(ref[label]["pinball"], 1e-12)
            row += (
                f" | {m['wape']:>10.3f}  {ratio:>9.2f} {m['mase']:>5.2f} {m['bias']:>+6.2f}"
                f" {pin_ratio:>6.2f} {m['coverage']:>6.1%}"
            )
        row += f" | {method.seconds:>6.1f} {method.cpu_seconds:>6.1f} {method.peak_mb:>8.0f}"
        lines.append(row)
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------------------
# CLI: luxebrain evaluate forecast
# --------------------------------------------------------------------------------------------------------

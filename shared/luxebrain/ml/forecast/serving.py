"""Serving demand forecasts and inventory advice from a ``forecast`` artifact (numpy only: the API imports it).

Everything here reads the plain arrays that ``luxebrain.ml.forecast.train_forecaster`` stored; nothing is
fitted at request time. Answers are JSON-friendly dataclasses (``to_dict``) and never hold NaN.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from typing import Any, Literal

import numpy as np

from luxebrain.errors import InvalidInputError, NotFoundError
from luxebrain.ml.artifacts import ArtifactError, ModelArtifact

Granularity = Literal["week", "day"]
REQUIRED_ARRAYS = (
    "weekly_p10",
    "weekly_p50",
    "weekly_p90",
    "daily_p10",
    "daily_p50",
    "daily_p90",
    "unit_price",
    "trend",
    "yearly_index",
    "dow_profile",
    "recent_weekly_units",
)
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


class ForecastQueryError(InvalidInputError):
    """A forecast request has an invalid parameter; the message names it."""


class UnknownProductError(NotFoundError, ValueError):
    """The product has no sales history in the forecast (never sold, or sold after the model was trained)."""


@dataclass(frozen=True)
class ForecastSeries:
    """Forecast of one product (or the store) over consecutive periods starting on ``period_starts``."""

    series_id: str
    granularity: str
    period_starts: list[str]
    units_p10: list[float]
    units_p50: list[float]
    units_p90: list[float]
    revenue_p10: list[float]
    revenue_p50: list[float]
    revenue_p90: list[float]
    method: str
    demand_class: str
    drivers: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class InventoryAdvice:
    product_id: str
    stock_quantity: float
    lead_time_days: int
    service_level: float
    days_of_cover: float | None  # None: no demand expected, the stock lasts indefinitely
    stockout_date: str | None  # ISO date of the expected stock-out (median demand path), None if none expected
    lead_time_demand_p50: float
    order_up_to: float  # stock needed to cover lead-time demand at the service level
    reorder_quantity: int
    reorder_now: bool
    explanation: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _normal_quantile(probability: float) -> float:
    """Inverse standard normal CDF (Acklam's rational approximation, relative error < 1.2e-9)."""
    a = (-3.969683028665376e01, 2.209460984245205e02, -2.759285104469687e02, 1.383577518672690e02)
    a5 = (-3.066479806614716e01, 2.506628277459239e00)
    b = (-5.447609879822406e01, 1.615858368580409e02, -1.556989798598866e02, 6.680131188771972e01)
    b5 = -1.328068155288572e01
    c = (-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e00, -2.549732539343734e00)
    c5 = (4.374664141464968e00, 2.938163982698783e00)
    d = (7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e00, 3.754408661907416e00)
    low = 0.02425
    if probability < low or probability > 1 - low:
        q = math.sqrt(-2 * math.log(probability if probability < low else 1 - probability))
        num = ((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c5[0]) * q + c5[1]
        den = (((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1
        return num / den if probability < low else -num / den
    q = probability - 0.5
    r = q * q
    num = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a5[0]) * r + a5[1]) * q
    den = ((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b5) * r + 1
    return num / den


class Forecasts:
    """Stored forecasts of one tenant: per product and for the whole store."""

    def __init__(self, artifact: ModelArtifact) -> None:
        if artifact.kind != "forecast":
            raise ArtifactError(f"expected a 'forecast' artifact, got {artifact.kind!r}")
        missing = [name for name in REQUIRED_ARRAYS if name not in artifact.arrays]
        if missing:
            raise ArtifactError(f"forecast artifact is missing array(s): {', '.join(missing)}")
        extra = artifact.extra
        self.series_ids: list[str] = list(extra["series_ids"])
        self._index = {sid: i for i, sid in enumerate(self.series_ids)}
        self.store_units_id: str = extra["store_units_id"]
        self.store_revenue_id: str = extra["store_revenue_id"]
        self.first_forecast_day = date.fromisoformat(extra["first_forecast_day"])
        self.methods: list[str] = list(extra.get("methods", ["unknown"] * len(self.series_ids)))
        self.segments: list[str] = list(extra.get("segments", ["unknown"] * len(self.series_ids)))
        # Stored arrays are finite by construction; nan_to_num guards against a hand-made artifact.
        self._arrays = {name: np.nan_to_num(artifact.arrays[name].astype(np.float64)) for name in REQUIRED_ARRAYS}
        n = len(self.series_ids)
        for name, array in self._arrays.items():
            if array.shape[0] != n:
                raise ArtifactError(f"array {name!r} has {array.shape[0]} rows for {n} series")
        self.horizon_weeks = int(self._arrays["weekly_p50"].shape[1])
        # Actual weekly sales before the forecast (absent from artifacts trained before it was kept).
        history = artifact.arrays.get("history_weekly")
        self._history = (
            np.zeros((n, 0)) if history is None or history.shape[0] != n else np.nan_to_num(history.astype(np.float64))
        )
        # Demand at other prices (absent from artifacts trained before prices were a driver: no what-if then).
        multipliers = artifact.arrays.get("price_multipliers")
        response = artifact.arrays.get("price_response")
        bounds = artifact.arrays.get("price_bounds")
        self._price_multipliers: np.ndarray | None = None
        self._price_response = np.ones((n, 0))
        self._price_bounds = np.ones((n, 2))
        if (
            multipliers is not None
            and response is not None
            and bounds is not None
            and response.shape == (n, len(multipliers))
            and bounds.shape == (n, 2)
        ):
            # Rounded: a multiplier stored as float32 (1.3 -> 1.2999999) must not refuse the bound it names.
            self._price_multipliers = np.round(multipliers.astype(np.float64), 6)
            self._price_response = np.nan_to_num(response.astype(np.float64), nan=1.0)
            self._price_bounds = np.nan_to_num(bounds.astype(np.float64), nan=1.0)
        self.metrics = artifact.metrics

    @classmethod
    def from_artifact(cls, artifact: ModelArtifact) -> Forecasts:
        return cls(artifact)

    @property
    def product_ids(self) -> list[str]:
        return [sid for sid in self.series_ids if sid not in (self.store_units_id, self.store_revenue_id)]

    def _row(self, product_id: str) -> int:
        key = str(product_id)
        if key in (self.store_units_id, self.store_revenue_id) or key not in self._index:
            raise UnknownProductError(
                f"product {product_id!r} has no forecast: it has no paid sales before the last training run"
            )
        return self._index[key]

    def _check_horizon(self, horizon_weeks: int, granularity: str) -> None:
        if granularity not in ("week", "day"):
            raise ForecastQueryError(f"granularity must be 'week' or 'day', got {granularity!r}")
        if not isinstance(horizon_weeks, int) or not 1 <= horizon_weeks <= self.horizon_weeks:
            raise ForecastQueryError(
                f"horizon_weeks must be an integer from 1 to {self.horizon_weeks}, got {horizon_weeks!r}"
            )

    def _series(
        self, row: int, horizon_weeks: int, granularity: str, price: float, units_factor: float = 1.0
    ) -> ForecastSeries:
        if granularity == "week":
            arrays = [self._arrays[f"weekly_{q}"][row, :horizon_weeks] for q in ("p10", "p50", "p90")]
            starts = [self.first_forecast_day + timedelta(days=7 * k) for k in range(horizon_weeks)]
        else:
            days = 7 * horizon_weeks
            arrays = [self._arrays[f"daily_{q}"][row, :days] for q in ("p10", "p50", "p90")]
            starts = [self.first_forecast_day + timedelta(days=k) for k in range(days)]
        p10, p50, p90 = (np.clip(a, 0, None) * units_factor for a in arrays)

        def rounded(values: np.ndarray) -> list[float]:
            return [round(float(v), 4) for v in values]

        return ForecastSeries(
            series_id=self.series_ids[row],
            granularity=granularity,
            period_starts=[d.isoformat() for d in starts],
            units_p10=rounded(p10),
            units_p50=rounded(p50),
            units_p90=rounded(p90),
            revenue_p10=rounded(p10 * price),
            revenue_p50=rounded(p50 * price),
            revenue_p90=rounded(p90 * price),
            method=self.methods[row],
            demand_class=self.segments[row],
            drivers=self._drivers(row, horizon_weeks),
        )

    def _drivers(self, row: int, horizon_weeks: int) -> dict[str, Any]:
        profile = self._arrays["dow_profile"][row]
        yearly = self._arrays["yearly_index"][row, :horizon_weeks]
        return {
            "trend_per_week": round(float(self._arrays["trend"][row]), 4),
            "weekly_seasonality": {day: round(float(share), 4) for day, share in zip(WEEKDAYS, profile, strict=True)},
            "yearly_index": [round(float(v), 3) for v in yearly],
            "recent_weekly_units": round(float(self._arrays["recent_weekly_units"][row]), 4),
        }

    def for_product(
        self,
        product_id: str,
        horizon_weeks: int = 4,
        granularity: Granularity = "week",
        *,
        price: float | None = None,
    ) -> ForecastSeries:
        """Units (P10 / P50 / P90) and revenue (units x the product's selling price) per week or day.

        ``price``: what if the product sold at this price over the whole horizon instead of the planned one
        (the catalogue's price when training ran): units scale by the demand the model learnt at that price
        relative to the planned one, revenue is at ``price``; ``drivers["price"]`` says by how much."""
        self._check_horizon(horizon_weeks, granularity)
        row = self._row(product_id)
        planned = float(self._arrays["unit_price"][row])
        lowest, highest = self._price_range(row)
        known = {"planned": round(planned, 4), "lowest": lowest, "highest": highest}
        if price is None:
            series = self._series(row, horizon_weeks, granularity, planned)
            series.drivers["price"] = known
            return series
        multiplier, extrapolated = self.demand_multiplier(row, price)
        series = self._series(row, horizon_weeks, granularity, price, units_factor=multiplier)
        series.drivers["price"] = known | {
            "asked": round(float(price), 4),
            "demand_multiplier": round(multiplier, 4),
            "extrapolated": extrapolated,
        }
        return series

    def _price_range(self, row: int) -> tuple[float, float]:
        """The lowest and highest price (to the cent) the store's history holds for this product: a what-if
        between them is the model's own; beyond them it is extrapolated."""
        planned = float(self._arrays["unit_price"][row])
        if self._price_multipliers is None or planned <= 0:
            return round(planned, 2), round(planned, 2)
        low, high = (float(bound) for bound in self._price_bounds[row])
        return round(planned * low, 2), round(planned * high, 2)

    def demand_multiplier(self, row: int, price: float) -> tuple[float, bool]:
        """The horizon's demand at ``price`` over the demand at the planned price, and whether it is extrapolated.

        Within the prices the store's history holds (``price_bounds``), the model's own response, interpolated
        in log price. Beyond them up to 0.7-1.3 x the planned price, the response at the nearest bound carried
        on at the constant elasticity the model shows inside them (a GBM reads nothing beyond what it has seen:
        left alone it would answer "no change" to any rise above the regular price), and said to be so."""
        if self._price_multipliers is None:
            raise ForecastQueryError("this forecast was trained without prices; retrain to ask for another price")
        planned = float(self._arrays["unit_price"][row])
        if not math.isfinite(price) or price <= 0:
            raise ForecastQueryError(f"price must be a positive number, got {price!r}")
        if planned <= 0:
            raise ForecastQueryError(f"product {self.series_ids[row]!r} has no known selling price to compare with")
        low, high = (float(bound) for bound in self._price_bounds[row])
        if low >= high:
            raise ForecastQueryError(
                f"product {self.series_ids[row]!r} never sold at another price: the forecast cannot say what one "
                "would sell (the price suggestions estimate it from the whole catalogue)"
            )
        first, last = float(self._price_multipliers[0]), float(self._price_multipliers[-1])
        if not round(planned * first, 2) - 0.005 <= price <= round(planned * last, 2) + 0.005:
            raise ForecastQueryError(
                f"price must be between {planned * first:.2f} and {planned * last:.2f} "
                f"({first:g}-{last:g} x the current {planned:.2f})"
            )
        ratio = price / planned
        inside = min(max(ratio, low), high)
        grid = np.log(self._price_multipliers)
        response = self._price_response[row]
        at = float(np.interp(math.log(inside), grid, response))
        if abs(price - planned * inside) <= 0.005 + 1e-9:  # a bound as the API names it, to the cent
            return at, False
        at_low, at_high = (float(np.interp(math.log(bound), grid, response)) for bound in (low, high))
        elasticity = math.log(max(at_low, 1e-9) / max(at_high, 1e-9)) / math.log(low / high)
        elasticity = min(max(elasticity, -6.0), 0.0)
        return at * (ratio / inside) ** elasticity, True

    def for_store(
        self,
        horizon_weeks: int = 4,
        granularity: Granularity = "week",
        measure: Literal["units", "revenue"] = "revenue",
    ) -> ForecastSeries:
        """The whole store's units or revenue, forecast as its own series (quantiles of a sum are not sums of
        quantiles). For ``measure="revenue"`` the ``units_*`` fields hold currency too."""
        self._check_horizon(horizon_weeks, granularity)
        if measure not in ("units", "revenue"):
            raise ForecastQueryError(f"measure must be 'units' or 'revenue', got {measure!r}")
        row = self._index[self.store_units_id if measure == "units" else self.store_revenue_id]
        return self._series(row, horizon_weeks, granularity, 1.0)

    def actual_weekly(self, weeks: int, *, product_id: str | None = None, measure: str = "units") -> dict[str, Any]:
        """What was sold in the ``weeks`` weeks before the forecast: a product's units, or the store's units or
        revenue (``measure``). Fewer weeks when the store's history (or the artifact) is shorter."""
        if not isinstance(weeks, int) or weeks < 1:
            raise ForecastQueryError(f"history weeks must be a positive integer, got {weeks!r}")
        if product_id is None:
            row = self._index[self.store_units_id if measure == "units" else self.store_revenue_id]
        else:
            row = self._row(product_id)
        values = self._history[row, -weeks:] if self._history.shape[1] else np.zeros(0)
        first = self.first_forecast_day - timedelta(days=7 * len(values))
        return {
            "measure": "units" if product_id is not None else measure,
            "period_starts": [(first + timedelta(days=7 * k)).isoformat() for k in range(len(values))],
            "values": [round(float(v), 4) for v in values],
        }

    def best_sellers(self, n: int = 10, horizon_weeks: int = 4) -> list[str]:
        """Product ids with the most units forecast (P50) over the next ``horizon_weeks``; ties by recent sales."""
        if not isinstance(n, int) or n < 1:
            raise ForecastQueryError(f"n must be a positive integer, got {n!r}")
        self._check_horizon(horizon_weeks, "week")
        rows = np.array([self._index[p] for p in self.product_ids], dtype=int)
        if len(rows) == 0:
            return []
        upcoming = self._arrays["weekly_p50"][rows, :horizon_weeks].sum(axis=1)
        recent = self._arrays["recent_weekly_units"][rows]
        order = np.lexsort((recent * -1, upcoming * -1))
        return [self.series_ids[rows[i]] for i in order[:n]]

    def inventory_advice(
        self,
        product_id: str,
        stock_quantity: float,
        lead_time_days: int,
        service_level: float = 0.95,
    ) -> InventoryAdvice:
        """Days of cover and stock-out date from the median daily demand path; reorder quantity so that stock
        covers demand over the lead time with probability ``service_level``.

        Lead-time demand: mean from the daily forecasts (Pearson-Tukey weights on P10 / P50 / P90), spread
        from the weekly P10-P90 range (normal approximation, independent days), rounded up to whole units.
        """
        if stock_quantity is None or not math.isfinite(float(stock_quantity)):
            raise ForecastQueryError("stock_quantity must be a finite number (is stock managed for this product?)")
        if not isinstance(lead_time_days, int) or not 1 <= lead_time_days <= 7 * self.horizon_weeks:
            raise ForecastQueryError(
                f"lead_time_days must be an integer from 1 to {7 * self.horizon_weeks}, got {lead_time_days!r}"
            )
        if not 0.5 <= float(service_level) < 1.0:
            raise ForecastQueryError(f"service_level must be in [0.5, 1), got {service_level!r}")
        row = self._row(product_id)
        stock = float(stock_quantity)
        daily_p50 = self._arrays["daily_p50"][row]
        days_of_cover, stockout = self._cover(stock, daily_p50, row)
        daily_mean = 0.3 * self._arrays["daily_p10"][row] + 0.4 * daily_p50 + 0.3 * self._arrays["daily_p90"][row]
        weekly_sigma = (self._arrays["weekly_p90"][row] - self._arrays["weekly_p10"][row]) / (2 * 1.2815515655)
        mean_lead = float(daily_mean[:lead_time_days].sum())
        full_weeks, extra_days = divmod(lead_time_days, 7)
        variance = float((weekly_sigma[:full_weeks] ** 2).sum())
        if extra_days:  # a part-week adds its share of the week's variance (independent days)
            variance += (extra_days / 7) * float(weekly_sigma[full_weeks] ** 2)
        z = _normal_quantile(float(service_level))
        order_up_to = max(0.0, math.ceil(mean_lead + z * math.sqrt(max(variance, 0.0)) - 1e-9))
        reorder = max(0, math.ceil(order_up_to - stock - 1e-9))
        lead_p50 = float(daily_p50[:lead_time_days].sum())
        if days_of_cover is None:
            cover_text = "no demand is expected, so the stock lasts"
        else:
            cover_text = f"stock covers about {days_of_cover:.1f} days of median demand"
        explanation = (
            f"{cover_text}; over the {lead_time_days}-day lead time median demand is {lead_p50:.1f} units and "
            f"{order_up_to:.0f} units cover it with {service_level:.0%} probability"
            + (f", so order {reorder} now." if reorder > 0 else ", so no order is needed yet.")
        )
        return InventoryAdvice(
            product_id=str(product_id),
            stock_quantity=stock,
            lead_time_days=lead_time_days,
            service_level=float(service_level),
            days_of_cover=days_of_cover,
            stockout_date=stockout,
            lead_time_demand_p50=round(lead_p50, 4),
            order_up_to=float(order_up_to),
            reorder_quantity=int(reorder),
            reorder_now=reorder > 0,
            explanation=explanation,
        )

    def _cover(self, stock: float, daily_p50: np.ndarray, row: int) -> tuple[float | None, str | None]:
        """Days until cumulative median demand reaches the stock (linear within a day); beyond the horizon the
        last four weeks' median rate is extrapolated."""
        if stock <= 0:
            return 0.0, self.first_forecast_day.isoformat()
        cumulative = np.cumsum(daily_p50)
        if cumulative.size and cumulative[-1] >= stock:
            day = int(np.searchsorted(cumulative, stock))
            before = float(cumulative[day - 1]) if day > 0 else 0.0
            within = (stock - before) / max(float(daily_p50[day]), 1e-12)
            cover = day + min(max(within, 0.0), 1.0)
        else:
            rate = float(daily_p50[-28:].mean()) if daily_p50.size else 0.0
            if rate <= 1e-9:
                return None, None
            remaining = stock - (float(cumulative[-1]) if cumulative.size else 0.0)
            cover = daily_p50.size + remaining / rate
        if not math.isfinite(cover) or cover > 3650:
            return None, None
        stockout = self.first_forecast_day + timedelta(days=math.floor(cover))
        return round(cover, 2), stockout.isoformat()

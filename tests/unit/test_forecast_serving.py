"""Serving stored forecasts: per product and store, best sellers, inventory advice, numpy-only imports."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from luxebrain.ml.artifacts import ArtifactError, ModelArtifact
from luxebrain.ml.forecast.serving import (
    ForecastQueryError,
    Forecasts,
    UnknownProductError,
    _normal_quantile,
)

WEEKS = 4


def make_artifact() -> ModelArtifact:
    """Hand-made forecasts: 'steady' sells 2 a day (P10 10, P90 18 a week), 'slow' 1 a week, 'dead' nothing."""
    ids = ["steady", "slow", "dead", "__store_units__", "__store_revenue__"]
    weekly_p50 = np.array([[14.0] * WEEKS, [1.0] * WEEKS, [0.0] * WEEKS, [15.0] * WEEKS, [1500.0] * WEEKS])
    spread = np.array([[4.0], [1.0], [0.0], [4.0], [400.0]])
    daily_p50 = np.repeat(weekly_p50 / 7, 7, axis=1)
    return ModelArtifact(
        kind="forecast",
        arrays={
            "weekly_p10": weekly_p50 - spread,
            "weekly_p50": weekly_p50,
            "weekly_p90": weekly_p50 + spread,
            "daily_p10": np.clip(daily_p50 - spread / 7, 0, None),
            "daily_p50": daily_p50,
            "daily_p90": daily_p50 + spread / 7,
            "unit_price": np.array([100.0, 2500.0, 50.0, 1.0, 1.0]),
            "trend": np.array([0.01, 0.0, 0.0, 0.0, 0.0]),
            "yearly_index": np.ones((5, WEEKS)),
            "dow_profile": np.full((5, 7), 1 / 7),
            "recent_weekly_units": np.array([13.0, 1.0, 0.0, 14.0, 1400.0]),
        },
        extra={
            "series_ids": ids,
            "store_units_id": "__store_units__",
            "store_revenue_id": "__store_revenue__",
            "first_forecast_day": "2026-07-01",
            "methods": ["gbm", "tsb", "tsb", "gbm", "gbm"],
            "segments": ["smooth", "intermittent", "no_sales", "smooth", "smooth"],
        },
    )


@pytest.fixture
def forecasts() -> Forecasts:
    return Forecasts.from_artifact(ModelArtifact.from_files(make_artifact().to_files()))


def test_product_forecast_by_week_and_day_with_revenue(forecasts: Forecasts) -> None:
    weekly = forecasts.for_product("steady", 2)
    assert weekly.period_starts == ["2026-07-01", "2026-07-08"]
    assert weekly.units_p50 == [14.0, 14.0]
    assert weekly.revenue_p50 == [1400.0, 1400.0]
    assert weekly.units_p10 == [10.0, 10.0] and weekly.units_p90 == [18.0, 18.0]
    assert weekly.drivers["trend_per_week"] == 0.01
    daily = forecasts.for_product("steady", 1, granularity="day")
    assert len(daily.units_p50) == 7 and daily.period_starts[-1] == "2026-07-07"
    assert sum(daily.units_p50) == pytest.approx(14.0, abs=1e-3)
    assert daily.to_dict()["method"] == "gbm"


def test_store_forecast_units_and_revenue(forecasts: Forecasts) -> None:
    assert forecasts.for_store(1, measure="units").units_p50 == [15.0]
    assert forecasts.for_store(1, measure="revenue").units_p50 == [1500.0]


def test_unknown_product_and_bad_parameters_get_clear_errors(forecasts: Forecasts) -> None:
    with pytest.raises(UnknownProductError, match="'nope'"):
        forecasts.for_product("nope")
    with pytest.raises(UnknownProductError):
        forecasts.for_product("__store_units__")  # the store rows are not products
    assert issubclass(UnknownProductError, ValueError)
    with pytest.raises(ForecastQueryError, match="horizon_weeks"):
        forecasts.for_product("steady", WEEKS + 1)
    with pytest.raises(ForecastQueryError, match="granularity"):
        forecasts.for_product("steady", 1, granularity="month")  # type: ignore[arg-type]
    with pytest.raises(ForecastQueryError, match="service_level"):
        forecasts.inventory_advice("steady", 10, 7, service_level=1.0)
    with pytest.raises(ForecastQueryError, match="lead_time_days"):
        forecasts.inventory_advice("steady", 10, 0)
    with pytest.raises(ForecastQueryError, match="stock_quantity"):
        forecasts.inventory_advice("steady", float("nan"), 7)


def test_best_sellers_rank_by_upcoming_demand(forecasts: Forecasts) -> None:
    assert forecasts.best_sellers(2) == ["steady", "slow"]
    assert forecasts.best_sellers(10) == ["steady", "slow", "dead"]


def test_inventory_advice_for_a_steady_seller(forecasts: Forecasts) -> None:
    # Given 10 units in stock of a product selling 2 a day, a 7-day lead time and a 95 % service level
    advice = forecasts.inventory_advice("steady", 10, 7, 0.95)
    # Then the stock lasts 5 days, and the order-up-to level is the mean plus 1.645 weekly sigmas
    assert advice.days_of_cover == pytest.approx(5.0)
    assert advice.stockout_date == "2026-07-06"
    sigma = 8.0 / (2 * 1.2815515655)
    mean = 0.3 * (10 / 7) * 7 + 0.4 * 14 + 0.3 * (18 / 7) * 7
    assert advice.order_up_to == np.ceil(mean + 1.6448536 * sigma)
    assert advice.reorder_quantity == advice.order_up_to - 10
    assert advice.reorder_now and "order" in advice.explanation


def test_inventory_advice_without_demand_or_with_backorders(forecasts: Forecasts) -> None:
    idle = forecasts.inventory_advice("dead", 3, 14, 0.9)
    assert idle.days_of_cover is None and idle.stockout_date is None
    assert idle.reorder_quantity == 0 and not idle.reorder_now
    backordered = forecasts.inventory_advice("slow", -2, 14, 0.9)
    assert backordered.days_of_cover == 0.0
    assert backordered.reorder_quantity >= 2 + 2  # the backorders plus two weeks of demand
    beyond = forecasts.inventory_advice("slow", 10, 7, 0.9)  # 10 weeks of stock: extrapolated past the horizon
    assert beyond.days_of_cover == pytest.approx(70.0)


def test_wrong_artifact_is_refused() -> None:
    artifact = make_artifact()
    with pytest.raises(ArtifactError, match="forecast"):
        Forecasts.from_artifact(ModelArtifact(kind="recommend", arrays=artifact.arrays, extra=artifact.extra))
    arrays = dict(artifact.arrays)
    del arrays["daily_p50"]
    with pytest.raises(ArtifactError, match="daily_p50"):
        Forecasts.from_artifact(ModelArtifact(kind="forecast", arrays=arrays, extra=artifact.extra))


def test_normal_quantile_matches_known_values() -> None:
    assert _normal_quantile(0.5) == pytest.approx(0.0, abs=1e-9)
    assert _normal_quantile(0.95) == pytest.approx(1.6448536, abs=1e-6)
    assert _normal_quantile(0.995) == pytest.approx(2.5758293, abs=1e-6)


def test_serving_imports_numpy_only() -> None:
    code = (
        "import sys, luxebrain.ml.forecast.serving\n"
        "print(sorted(m for m in ('pandas', 'scipy', 'sklearn') if m in sys.modules))"
    )
    output = subprocess.run(  # noqa: S603 - our own interpreter and a fixed script
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert output.strip() == "[]"


def test_actual_weekly_sales_end_the_day_before_the_forecast() -> None:
    artifact = make_artifact()
    artifact.arrays["history_weekly"] = np.array(
        [[12.0, 13.0, 14.0], [1, 0, 2], [0, 0, 0], [13, 13, 16], [1300, 1300, 1600]]
    )
    forecasts = Forecasts.from_artifact(ModelArtifact.from_files(artifact.to_files()))
    steady = forecasts.actual_weekly(2, product_id="steady")
    assert steady == {"measure": "units", "period_starts": ["2026-06-17", "2026-06-24"], "values": [13.0, 14.0]}
    revenue = forecasts.actual_weekly(26, measure="revenue")  # asks for more than is kept: what there is
    assert revenue["period_starts"][0] == "2026-06-10" and revenue["values"] == [1300.0, 1300.0, 1600.0]
    with pytest.raises(UnknownProductError):
        forecasts.actual_weekly(2, product_id="__store_units__")
    with pytest.raises(ForecastQueryError):
        forecasts.actual_weekly(0)


def test_artifacts_without_history_answer_an_empty_history(forecasts: Forecasts) -> None:
    assert forecasts.actual_weekly(4, product_id="steady") == {"measure": "units", "period_starts": [], "values": []}

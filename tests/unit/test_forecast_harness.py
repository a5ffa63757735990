"""The forecast harness: CSV loading with clear errors, metrics on known numbers, the CLI subcommand."""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from luxebrain.ml.forecast.evaluation import (
    HarnessInputError,
    QuantileForecast,
    SalesPanel,
    format_table,
    load_sales_csv,
    moving_average_with_trend,
    panel_from_frame,
    rolling_origin_backtest,
    seasonal_naive,
)
from luxebrain_dev.evaluate import add_forecast_parser

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "forecast_walmart_two_stores.csv"


def write_csv(tmp_path: Path, rows: list[tuple[str, str, object]]) -> Path:
    path = tmp_path / "sales.csv"
    pd.DataFrame(rows, columns=["sku", "day", "units"]).to_csv(path, index=False)
    return path


def test_loading_sums_duplicates_fills_gaps_and_clips_returns(tmp_path: Path) -> None:
    # Given daily rows with a duplicated date, a gap, a net return and a product that starts later
    path = write_csv(
        tmp_path,
        [
            ("a", "2026-01-01", 2),
            ("a", "2026-01-01", 1),
            ("a", "2026-01-03", -4),
            ("a", "2026-01-04", 5),
            ("b", "2026-01-03", 1),
        ],
    )
    # When loading
    panel = load_sales_csv(path, series_col="sku", time_col="day", value_col="units")
    # Then duplicates are summed, the gap is zero sales, the net return counts as zero, b does not exist before
    assert panel.freq == "D" and panel.series_ids == ["a", "b"]
    np.testing.assert_array_equal(panel.values[0], [3, 0, 0, 5])
    assert np.isnan(panel.values[1, :2]).all() and list(panel.values[1, 2:]) == [1, 0]
    assert any("duplicated" in note for note in panel.notes)
    assert any("below zero" in note for note in panel.notes)
    assert str(panel.period_ends[-1]) == "2026-01-04"


def test_loading_errors_name_the_column_or_row(tmp_path: Path) -> None:
    path = write_csv(tmp_path, [("a", "2026-01-01", 2), ("a", "2026-01-02", "x")])
    with pytest.raises(HarnessInputError, match=r"'qty'.*columns are: sku, day, units"):
        load_sales_csv(path, series_col="sku", time_col="day", value_col="qty")
    with pytest.raises(HarnessInputError, match="not numeric at data row 2"):
        load_sales_csv(path, series_col="sku", time_col="day", value_col="units")
    bad_date = write_csv(tmp_path, [("a", "2026-01-01", 2), ("a", "someday", 1)])
    with pytest.raises(HarnessInputError, match="not a date at data row 2"):
        load_sales_csv(bad_date, series_col="sku", time_col="day", value_col="units")
    single = write_csv(tmp_path, [("a", "2026-01-01", 2)])
    with pytest.raises(HarnessInputError, match="single date"):
        load_sales_csv(single, series_col="sku", time_col="day", value_col="units")
    with pytest.raises(HarnessInputError, match="not found"):
        load_sales_csv(tmp_path / "missing.csv", series_col="sku", time_col="day", value_col="units")


def test_weekly_fixture_loads_with_a_date_format() -> None:
    panel = load_sales_csv(
        FIXTURE, series_col="Store", time_col="Date", value_col="Weekly_Sales", time_format="%d-%m-%Y"
    )
    assert panel.freq == "W" and panel.values.shape == (2, 143)
    assert not np.isnan(panel.values).any()


def constant(value: float) -> object:
    def forecast(panel: SalesPanel, horizon: int) -> QuantileForecast:
        point = np.full((len(panel.series_ids), horizon), value)
        return QuantileForecast(point - 1, point, point + 1)

    return forecast


def test_metrics_on_known_numbers() -> None:
    # Given a series that always sells 10, forecast by a constant 10 (perfect) and a constant 12
    panel = SalesPanel(["x", "y"], np.full((2, 40), 10.0), "W")
    windows = {"1-4w": 4}
    result = rolling_origin_backtest(panel, {"ten": constant(10), "twelve": constant(12)}, n_cutoffs=2, windows=windows)
    perfect = result.methods["ten"].metrics["1-4w"]
    high = result.methods["twelve"].metrics["1-4w"]
    # Then WAPE, bias, coverage and pinball are what the definitions give
    assert perfect["wape"] == 0 and perfect["bias"] == 0 and perfect["coverage"] == 1
    assert high["wape"] == pytest.approx(0.2) and high["bias"] == pytest.approx(0.2)
    assert high["coverage"] == 0  # [11, 13] never holds 10
    # pinball: (0.9 * 1 + 0.5 * 2 + 0.1 * 3) / 3 / 10
    assert high["pinball"] == pytest.approx((0.9 + 1.0 + 0.3) / 3 / 10)
    assert np.isnan(high["mase"])  # a constant history has no naive error to scale by
    assert result.cutoffs == [32, 36]
    assert "twelve" in format_table(result, "ten")


def test_backtest_leaves_out_too_short_series_and_rejects_impossible_settings() -> None:
    values = np.vstack([np.arange(30, dtype=float), np.r_[np.full(29, np.nan), 1.0]])  # b: one data point
    panel = SalesPanel(["a", "b"], values, "W")
    result = rolling_origin_backtest(panel, {"naive": seasonal_naive}, n_cutoffs=1, windows={"1-4w": 4})
    assert result.series == 1 and any("left out" in note for note in result.notes)
    with pytest.raises(HarnessInputError, match="too few"):
        rolling_origin_backtest(panel, {"naive": seasonal_naive}, n_cutoffs=10, windows={"1-13w": 13})


def test_moving_average_with_trend_extrapolates_the_line() -> None:
    panel = SalesPanel(["up"], np.arange(20, dtype=float)[None, :], "W")
    forecast = moving_average_with_trend(panel, 3)
    np.testing.assert_allclose(forecast.p50[0], [20, 21, 22])


@pytest.mark.slow(reason="fits the gradient-boosted forecaster (quick setting) on the Walmart fixture via the CLI")
def test_cli_runs_on_the_fixture_and_reports_a_wrong_column(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    parser = argparse.ArgumentParser()
    add_forecast_parser(parser.add_subparsers())
    common = ["--sales", str(FIXTURE), "--series-col", "Store", "--time-col", "Date", "--time-format", "%d-%m-%Y"]
    args = parser.parse_args(
        [
            "forecast",
            *common,
            "--value-col",
            "Weekly_Sales",
            "--cutoffs",
            "1",
            "--quick",
            "--json",
            str(tmp_path / "r.json"),
        ]
    )
    assert args.run(args) == 0
    output = capsys.readouterr().out
    assert "luxebrain" in output and "seasonal_naive" in output and "1-4w" in output
    assert (tmp_path / "r.json").is_file()
    args = parser.parse_args(["forecast", *common, "--value-col", "Sales"])
    assert args.run(args) == 2
    assert "no column(s) 'Sales'" in capsys.readouterr().out


def test_integer_periods_are_weeks_without_a_calendar() -> None:
    frame = pd.DataFrame({"p": ["a"] * 3, "w": [0, 1, 2], "u": [1, 2, 3]})
    panel = panel_from_frame(frame, "p", "w", "u")
    assert panel.freq == "W" and panel.period_ends is None
    np.testing.assert_array_equal(panel.values, [[1, 2, 3]])


def test_a_partial_last_day_is_left_out_of_every_method_and_said_so() -> None:
    # Given 8 weeks of daily sales of two products whose last day holds only a morning's orders
    days = pd.date_range("2026-01-01", periods=57, freq="D")
    rows = [(sku, day.strftime("%Y-%m-%d"), 10.0) for day in days[:-1] for sku in ("a", "b")]
    rows.append(("a", days[-1].strftime("%Y-%m-%d"), 2.0))
    frame = pd.DataFrame(rows, columns=["sku", "day", "units"])
    # When loading
    panel = panel_from_frame(frame, "sku", "day", "units")
    # Then the last day is not a period of the panel and a note names it
    assert panel.values.shape == (2, 56)
    assert str(panel.period_ends[-1]) == "2026-02-25"
    assert any("partial last period 2026-02-26" in note for note in panel.notes)


def test_prices_read_off_transactions_are_seen_only_up_to_the_origin() -> None:
    from luxebrain.ml.forecast.evaluation import SalesPanel
    from luxebrain.ml.forecast.train import ForecastParams, luxebrain_forecaster

    # Given weekly sales that follow their prices, prices known for the whole data, and two futures of them
    rng = np.random.default_rng(2)
    prices = rng.choice([7.0, 10.0, 10.0, 10.0], (20, 70))
    values = rng.poisson(20.0 * (prices / 10.0) ** -2.0).astype(float)
    cheap_future = prices.copy()
    cheap_future[:, 60:] *= 0.5
    forecaster = luxebrain_forecaster(ForecastParams(max_train_rows=2000, gbm_max_iter=20, horizon_weeks=4))

    def p50(future: np.ndarray, known_ahead: bool) -> np.ndarray:
        panel = SalesPanel([str(i) for i in range(20)], values, "W", prices=future, prices_known_ahead=known_ahead)
        return forecaster(panel.head(60), 4).p50

    # When they are planned prices, the future ones move the forecast; when they are read off transactions
    # (known only up to the origin), the forecast is the same whatever came after
    assert not np.allclose(p50(prices, True), p50(cheap_future, True))
    assert np.allclose(p50(prices, False), p50(cheap_future, False))

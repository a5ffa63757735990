"""The one table of model kinds: training, the model loader and the routers read it, and its metric and baseline
paths name figures that training really writes."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from test_customers import AS_OF, simulated_order_lines  # noqa: F401 (a fixture) helper module beside this one
from test_recommend import family_store

from luxebrain.ml.kinds import MODEL_KINDS, TrainingInputs
from luxebrain.serving.loader import serving_kinds
from luxebrain.training.registry import registered_kinds

REPO = Path(__file__).resolve().parents[2]


def test_the_table_lists_the_four_product_kinds_and_every_reader_agrees_with_it() -> None:
    assert list(MODEL_KINDS) == ["recommend", "forecast", "customers", "pricing"]
    trained, served = registered_kinds(), serving_kinds()
    for kind, spec in MODEL_KINDS.items():
        assert trained[kind].train is spec.train
        assert trained[kind].serving_class == spec.serving_class == served[kind].serving_class
        assert trained[kind].metric_name == spec.metric_name
        assert trained[kind].higher_is_better is spec.higher_is_better
        assert trained[kind].baseline_metric is spec.baseline
    assert MODEL_KINDS["forecast"].higher_is_better is False
    assert MODEL_KINDS["forecast"].metric_name == "weighted_chosen_wape"


def test_the_table_imports_neither_pandas_nor_an_ml_module() -> None:
    # Given a fresh interpreter, when the table is imported, then no training stack or kind module is loaded
    code = (
        "import sys, luxebrain.ml.kinds\n"
        "print([m for m in sys.modules if m.split('.')[0] in ('pandas', 'sklearn', 'scipy')"
        " or m.startswith(('luxebrain.ml.recommend', 'luxebrain.ml.forecast', 'luxebrain.ml.customers',"
        " 'luxebrain.ml.pricing'))])"
    )
    result = subprocess.run(  # noqa: S603 (our interpreter, a fixed command)
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip() == "[]"


@pytest.mark.parametrize("kind", ["recommend", "customers"])
def test_metric_and_baseline_read_what_training_writes(kind: str, simulated_order_lines) -> None:  # noqa: F811
    # Given a small store trained through the table's own train entry
    if kind == "recommend":
        lines, as_of = family_store(), datetime(2025, 4, 15, tzinfo=UTC)
    else:
        lines, as_of = simulated_order_lines, AS_OF
    spec = MODEL_KINDS[kind]
    artifact = spec.train(TrainingInputs("t-kinds", lines, products=None, as_of=as_of))  # type: ignore[arg-type]
    # Then the metric the gate compares and the baseline beside it are both found in the manifest
    assert artifact.kind == kind
    assert spec.metric is not None and spec.baseline is not None
    assert spec.metric(artifact.metrics) is not None
    assert spec.baseline(artifact.metrics) is not None


def test_forecast_metric_and_baseline_weight_segments_by_series() -> None:
    metrics = {
        "backtest_by_segment": {
            "smooth": {"series": 30, "wape": {"gbm": 0.5, "seasonal_naive": 0.7}, "chosen": "gbm"},
            "lumpy": {"series": 10, "wape": {"tsb": 0.9, "seasonal_naive": 1.1}, "chosen": "tsb"},
        }
    }
    spec = MODEL_KINDS["forecast"]
    assert spec.metric is not None and spec.baseline is not None
    assert spec.metric(metrics) == pytest.approx((30 * 0.5 + 10 * 0.9) / 40)
    assert spec.baseline(metrics) == pytest.approx((30 * 0.7 + 10 * 1.1) / 40)

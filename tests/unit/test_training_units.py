"""Pure parts of the training pipeline: the quality gate, metric extraction, who is due (and the dispatcher and
on-demand retraining over the in-memory repositories), the snapshot's merge rules and format, and the report's
summary."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest
from fakes import (
    InMemoryObjectStore,
    InMemoryTenantRepository,
    InMemoryTrainingRepository,
    InMemoryUsageCounter,
    RecordingQueue,
)

from luxebrain.billing.plans import PlanLimitExceededError
from luxebrain.ml.artifacts import ModelArtifact
from luxebrain.ml.kinds import forecast_weighted_wape, metric_at
from luxebrain.storage.customers import OrderSummary
from luxebrain.storage.training import RetrainRateLimitedError, TrainingState
from luxebrain.training.deltas import delta_prefix, invalidate_snapshot, snapshot_key, write_delta
from luxebrain.training.dispatch import TrainRequest, dispatch_due_tenants, is_due, request_retrain
from luxebrain.training.gate import quality_gate
from luxebrain.training.pipeline import KindResult, TrainingReport
from luxebrain.training.registry import ModelKind, registered_kinds
from luxebrain.training.snapshot import OrderSnapshot, ReadStats, refresh_snapshot, seed_training_snapshot

NOW = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)


def spec(higher_is_better: bool = True) -> ModelKind:
    return ModelKind("toy", lambda inputs: None, metric_at("holdout.score"), "holdout.score", higher_is_better)  # type: ignore[arg-type, return-value]


def artifact(score: float | None) -> ModelArtifact:
    metrics = {} if score is None else {"holdout": {"score": score}}
    return ModelArtifact("toy", {"x": np.zeros(3)}, metrics=metrics)


def gate(new: float | None, current: float | None, *, higher_is_better: bool = True) -> Any:
    return quality_gate(
        spec(higher_is_better),
        artifact(new),
        artifact(current) if current is not None else None,
        max_relative_regression=0.10,
        min_absolute_regression=0.005,
    )


@pytest.mark.parametrize(
    ("new", "current", "higher_is_better", "accepted"),
    [
        (0.30, None, True, True),  # first version
        (0.28, 0.30, True, True),  # 6.7 % worse: within 10 %
        (0.26, 0.30, True, False),  # 13 % worse
        (0.50, 0.30, True, True),  # better
        (0.95, 0.90, False, True),  # WAPE: lower is better, 5.6 % worse
        (1.10, 0.90, False, False),  # 22 % worse
        (0.004, 0.001, False, True),  # tiny values: the absolute floor applies
        (None, 0.30, True, False),  # the current one had a metric, the new one none
        (None, None, True, True),  # neither has one (a kind without a holdout, or too little history for one)
    ],
)
def test_quality_gate(new: float | None, current: float | None, higher_is_better: bool, accepted: bool) -> None:
    decision = gate(new, current, higher_is_better=higher_is_better)
    assert decision.accepted is accepted, decision.reason
    assert decision.new_metric == new and decision.current_metric == current


def test_quality_gate_reason_names_both_numbers() -> None:
    reason = gate(0.2, 0.3).reason
    assert "0.2" in reason and "0.3" in reason and "allowed" in reason


def test_quality_gate_refuses_an_artifact_of_another_kind() -> None:
    wrong = ModelArtifact("other", {"x": np.zeros(1)})
    decision = quality_gate(spec(), wrong, None, max_relative_regression=0.1, min_absolute_regression=0.0)
    assert not decision.accepted and "expected 'toy'" in decision.reason


def test_metric_paths_ignore_missing_and_non_finite_values() -> None:
    extract = metric_at("holdout.all_items.model.ndcg@10")
    assert extract({"holdout": {"all_items": {"model": {"ndcg@10": 0.12}}}}) == 0.12
    assert extract({"holdout_skipped": "too few orders"}) is None
    assert extract({"holdout": {"all_items": {"model": {"ndcg@10": float("nan")}}}}) is None
    assert extract({"holdout": {"all_items": {"model": {"ndcg@10": True}}}}) is None


def test_forecast_metric_is_the_series_weighted_wape_of_the_chosen_methods() -> None:
    metrics = {
        "backtest_by_segment": {
            "smooth": {"series": 30, "wape": {"gbm": 0.5, "tsb": 0.7}, "chosen": "gbm"},
            "lumpy": {"series": 10, "wape": {"gbm": 1.2, "tsb": 0.9}, "chosen": "tsb"},
            "no_sales": {"series": 5, "wape": {}, "chosen": "category"},
        }
    }
    assert forecast_weighted_wape(metrics) == pytest.approx((30 * 0.5 + 10 * 0.9) / 40)
    assert forecast_weighted_wape({}) is None


def test_the_four_product_kinds_are_registered_with_their_gates() -> None:
    kinds = registered_kinds()
    assert set(kinds) >= {"recommend", "forecast", "customers", "pricing"}
    assert kinds["forecast"].higher_is_better is False
    assert kinds["recommend"].metric_name == "holdout.all_items.model.ndcg@10"
    assert kinds["recommend"].serving_class == "luxebrain.ml.recommend.serving:Recommender"


def state(**values: Any) -> TrainingState:
    return TrainingState(tenant_id="t-aaaa", **values)


@pytest.mark.parametrize(
    ("training", "plan", "due"),
    [
        (None, "free", True),
        (state(last_trained_at=NOW - timedelta(days=1), data_changed_at=NOW - timedelta(hours=3)), "pro", True),
        (state(last_trained_at=NOW - timedelta(days=1), data_changed_at=NOW - timedelta(days=2)), "pro", False),
        (state(last_trained_at=NOW - timedelta(days=1), data_changed_at=NOW - timedelta(hours=3)), "free", False),
        (state(last_trained_at=NOW - timedelta(days=8), data_changed_at=NOW - timedelta(hours=3)), "free", True),
        (state(last_trained_at=NOW - timedelta(hours=23)), "pro", True),  # no change tracking: plan interval
        (state(last_trained_at=NOW - timedelta(hours=12)), "pro", False),
        (
            state(last_trained_at=NOW - timedelta(days=2), lease_expires_at=NOW.timestamp() + 60),
            "pro",
            False,
        ),  # a run in progress
    ],
)
def test_who_is_due(training: TrainingState | None, plan: str, due: bool) -> None:
    assert is_due(training, plan, NOW)[0] is due


def test_the_dispatcher_queues_each_due_active_tenant_once_within_its_plans_runs() -> None:
    # Given a trained tenant with no change since, one never trained, a suspended one and one whose runs are used
    tenants, training, usage, queue = (
        InMemoryTenantRepository(),
        InMemoryTrainingRepository(),
        InMemoryUsageCounter(),
        RecordingQueue(),
    )
    idle, fresh, suspended, spent = (tenants.create_tenant(name).tenant_id for name in ("A", "B", "C", "D"))
    tenants.set_tenant_status(suspended, "suspended")
    training.states[idle] = state(last_trained_at=NOW - timedelta(days=8), data_changed_at=NOW - timedelta(days=9))
    usage.consume(spent, "training_runs", 2)  # the free plan's two a day
    # When the schedule fires
    result = dispatch_due_tenants(queue, tenants=tenants, training=training, usage=usage, now=NOW)
    # Then only the never-trained tenant is queued and counted; each other one says why not
    assert (result.considered, result.due, result.sent) == (4, [fresh], 1)
    assert [body["tenant_id"] for body in queue.bodies()] == [fresh]
    assert result.skipped[idle] == "data unchanged since the last run"
    assert result.skipped[suspended] == "tenant is suspended"
    assert "training runs" in result.skipped[spent]
    assert usage.used[(fresh, "training_runs")] == 1


def test_a_dispatch_the_queue_refused_gives_its_counted_runs_back() -> None:
    tenants, training, usage = InMemoryTenantRepository(), InMemoryTrainingRepository(), InMemoryUsageCounter()
    tenant_id = tenants.create_tenant("A").tenant_id
    with pytest.raises(ConnectionError):
        dispatch_due_tenants(
            RecordingQueue(refuse=ConnectionError("queue down")),
            tenants=tenants,
            training=training,
            usage=usage,
            now=NOW,
        )
    assert usage.used[(tenant_id, "training_runs")] == 0


def test_an_on_demand_retrain_is_queued_once_per_interval_and_counted_only_when_queued(
    local_settings: Callable[..., None],
) -> None:
    local_settings(LUXEBRAIN_TRAINING_RETRAIN_MIN_INTERVAL_SECONDS="300")
    training, usage, queue = InMemoryTrainingRepository(), InMemoryUsageCounter(), RecordingQueue()
    request = request_retrain("t-aaaa", queue, NOW, training=training, usage=usage)
    assert (request.reason, queue.bodies()[0]["tenant_id"]) == ("on_demand", "t-aaaa")
    # a second request within the interval is refused and gives its run back
    with pytest.raises(RetrainRateLimitedError) as refused:
        request_retrain("t-aaaa", queue, NOW + timedelta(seconds=100), training=training, usage=usage)
    assert refused.value.retry_after == 201
    assert usage.used[("t-aaaa", "training_runs")] == 1 and len(queue.sent) == 1
    # after it, the plan's second run of the day; a third is over the free plan's runs (402)
    request_retrain("t-aaaa", queue, NOW + timedelta(seconds=300), training=training, usage=usage)
    with pytest.raises(PlanLimitExceededError):
        request_retrain("t-aaaa", queue, NOW + timedelta(seconds=600), training=training, usage=usage)
    assert len(queue.sent) == 2


def test_train_request_validates_the_tenant() -> None:
    with pytest.raises(ValueError, match="not well formed"):
        TrainRequest(tenant_id="../x", requested_at=NOW)
    assert TrainRequest(tenant_id="t-aaaa", requested_at=NOW).reason == "scheduled"


def record(order_id: str, modified: str, *, purchase: bool = True, lines: int = 1) -> dict[str, Any]:
    return {
        "order_id": order_id,
        "modified_gmt": modified,
        "purchase": purchase,
        "customer_id": f"c-{order_id}",
        "created_gmt": "2026-10-01T10:00:00",
        "lines": [[f"p-{n}", 1.0, 10.0, 10.0] for n in range(lines)],
    }


def test_snapshot_merge_newest_wins_and_cancellations_remove_lines() -> None:
    base = OrderSnapshot.from_records([record("1", "2026-10-01T10:00:00", lines=2), record("2", "2026-10-01T10:00:00")])
    merged, changed = base.merged_with(
        [
            record("1", "2026-10-02T00:00:00", purchase=False),  # refunded: its lines go
            record("1", "2026-09-30T00:00:00", lines=5),  # an older copy: ignored
            record("2", "2026-10-01T10:00:00", lines=3),  # same version: a duplicate, ignored
            record("3", "2026-10-03T00:00:00", lines=2),  # new
        ]
    )
    assert changed == 2
    frame = merged.order_lines_frame()
    assert sorted(frame["order_id"]) == ["2", "3", "3"]
    # and an older delta cannot bring the refunded order back (its tombstone is newer)
    again, changed_again = merged.merged_with([record("1", "2026-10-01T12:00:00", lines=1)])
    assert changed_again == 0 and again is merged


def test_snapshot_round_trips_through_bytes_without_pickle() -> None:
    base = OrderSnapshot.from_records([record("1", "2026-10-01T10:00:00", lines=2)], built_at=NOW.isoformat())
    loaded = OrderSnapshot.from_bytes(base.to_bytes())
    assert loaded.built_at == NOW.isoformat()
    frame = loaded.order_lines_frame({"p-0": "Shoes"})
    assert list(frame.columns) == [
        "order_id",
        "customer_id",
        "product_id",
        "ordered_at",
        "quantity",
        "unit_price",
        "line_total",
        "category",
    ]
    assert str(frame["ordered_at"].dtype) == "datetime64[ns, UTC]"
    assert list(frame["category"]) == ["Shoes", "__uncategorised__"]


def test_report_summary_lists_each_kind() -> None:
    report = TrainingReport(
        "t-aaaa",
        "run1",
        "partial",
        NOW,
        NOW + timedelta(seconds=12),
        kinds=[
            KindResult("recommend", "v2", "succeeded", 3.2, 1000, "ndcg", 0.31, 0.30),
            KindResult("forecast", "v2", "failed", 0.1, 1000, reason="ValueError: too short"),
            KindResult(
                "customers",
                "v2",
                "succeeded",
                1.0,
                1000,
                "lift",
                2.1,
                serves="baseline",
                model_metric_value=1.9,
                baseline_metric_value=2.1,
            ),
        ],
        read={"source": "snapshot", "rows": 1000, "products": 40, "seconds": 0.4},
    )
    text = report.summary()
    assert "recommend" in text and "0.31" in text and "previous 0.3" in text
    assert "ValueError: too short" in text and "12.0 s" in text
    assert "lift = 2.1; model 1.9, baseline 2.1: serves its baseline" in text
    assert text.count("serves its baseline") == 1
    assert report.to_dict()["duration_seconds"] == 12.0


def test_raw_table_items_and_model_items_make_the_same_record() -> None:
    # The full-table read parses DynamoDB's JSON directly; it must agree with the pynamodb path ingest uses.
    from luxebrain.storage.customers import order_from_item, order_summary_from_raw
    from luxebrain.storage.items.customers import LineItem, OrderItem
    from luxebrain.training.deltas import order_record
    from luxebrain.training.snapshot import record_from_summary

    order = OrderItem(
        "TENANT#t-aaaa#ORDER",
        "42",
        entity="order",
        tenant_id="t-aaaa",
        order_id="42",
        status="completed",
        status_class="purchase",
        customer_id="guest:abc",
        created_gmt="2026-10-01T10:00:00",
        modified_gmt="2026-10-02T10:00:00",
        line_items=[LineItem(line_id="1", product_id="p-9", quantity=2, unit_price=12.5, subtotal=25, total=25)],
    )
    assert record_from_summary(order_summary_from_raw(order.serialize())) == order_record(order_from_item(order))


# ----------------------------------------------------------------------------- the snapshot in the models bucket
SNAPSHOT_TENANT = "t-snapshot"


class NoOrderReads:
    """The customers repository of a refresh within the rebuild interval: it must not read the orders."""

    def iter_order_summaries(self, tenant_id: str) -> Iterator[OrderSummary]:
        raise AssertionError(f"the orders of {tenant_id} were read: the snapshot was rebuilt")


NO_ORDER_READS = NoOrderReads()


def test_a_seeded_snapshot_is_empty_and_never_overwrites_one_that_exists() -> None:
    # Given a tenant without a snapshot, when it is seeded, then an empty snapshot built now is written
    files = InMemoryObjectStore()
    assert seed_training_snapshot(SNAPSHOT_TENANT, files=files, now=NOW) is True
    seeded = OrderSnapshot.from_bytes(files.get(snapshot_key(SNAPSHOT_TENANT)))
    assert seeded.order_count == 0 and seeded.built_at == NOW.isoformat()
    # and when a snapshot with orders exists, seeding again writes nothing
    stocked = OrderSnapshot.from_records([record("1", "2026-10-01T10:00:00")]).to_bytes()
    files.put(snapshot_key(SNAPSHOT_TENANT), stocked)
    assert seed_training_snapshot(SNAPSHOT_TENANT, files=files, now=NOW) is False
    assert files.get(snapshot_key(SNAPSHOT_TENANT)) == stocked


def test_a_refresh_merges_the_deltas_saves_the_snapshot_and_deletes_only_its_own_deltas() -> None:
    # Given a current snapshot with one paid order, and two deltas: its refund and a new order
    files = InMemoryObjectStore()
    base = OrderSnapshot.from_records([record("1", "2026-10-01T10:00:00", lines=2)], built_at=NOW.isoformat())
    files.put(snapshot_key(SNAPSHOT_TENANT), base.to_bytes())
    write_delta(SNAPSHOT_TENANT, [record("1", "2026-10-02T00:00:00", purchase=False)], files=files, now=NOW)
    write_delta(SNAPSHOT_TENANT, [record("2", "2026-10-02T00:00:00", lines=3)], files=files, now=NOW)
    other_tenant_delta = write_delta("t-another", [record("9", "2026-10-02T00:00:00")], files=files, now=NOW)
    # When the snapshot is refreshed within its rebuild interval
    stats = ReadStats()
    later = NOW + timedelta(days=1)
    snapshot, _ = refresh_snapshot(
        SNAPSHOT_TENANT, files=files, customers=NO_ORDER_READS, now=later, stats=stats, rebuild_after=timedelta(days=7)
    )
    # Then both deltas are merged (no table read), the merged snapshot is saved and the deltas are gone
    assert (stats.source, stats.deltas_applied, stats.orders_changed, stats.dynamodb_items) == ("snapshot", 2, 2, 0)
    assert sorted(snapshot.order_lines_frame()["order_id"]) == ["2", "2", "2"]
    saved = OrderSnapshot.from_bytes(files.get(snapshot_key(SNAPSHOT_TENANT)))
    assert sorted(saved.order_lines_frame()["order_id"]) == ["2", "2", "2"] and saved.built_at == NOW.isoformat()
    assert list(files.objects(delta_prefix(SNAPSHOT_TENANT))) == []
    assert files.exists(other_tenant_delta)
    # and the read's cost is two lists (the deltas, the price history), three gets, one put and one batch delete
    assert (stats.s3_lists, stats.s3_gets, stats.s3_puts, stats.s3_deletes) == (2, 3, 1, 1)
    # When nothing changed since, a refresh reads the snapshot only and writes nothing
    again = ReadStats()
    refresh_snapshot(
        SNAPSHOT_TENANT, files=files, customers=NO_ORDER_READS, now=later, stats=again, rebuild_after=timedelta(days=7)
    )
    assert (again.s3_lists, again.s3_gets, again.s3_puts, again.s3_deletes, again.deltas_applied) == (2, 1, 0, 0, 0)


def test_product_versions_build_a_price_history_that_outlives_the_snapshot() -> None:
    from luxebrain.storage.catalogue import Product
    from luxebrain.training.deltas import price_history_key, product_record

    # Given a seeded snapshot and ingest's delta of two versions of a product (on sale, then sold out)
    files = InMemoryObjectStore()
    assert seed_training_snapshot(SNAPSHOT_TENANT, files=files, now=NOW)
    first = Product(
        SNAPSHOT_TENANT, "7", price=30.0, regular_price=30.0, stock_quantity=5, modified_gmt="2026-09-01T08:00:00"
    )
    on_sale = replace(first, price=24.0, sale_price=24.0, modified_gmt="2026-09-15T08:00:00")
    sold_out = replace(on_sale, stock_quantity=None, stock_status="outofstock", modified_gmt="2026-09-20T08:00:00")
    variation = replace(first, product_id="8", parent_id="7", product_type="variation")
    versions = [product_record(p) for p in (first, on_sale, variation)]
    assert versions[2] is None  # variations' sales are their parent's
    write_delta(SNAPSHOT_TENANT, [], files=files, now=NOW, products=[v for v in versions if v])
    # When a run refreshes the snapshot with the catalogue's current version of the product
    later = NOW + timedelta(days=1)
    _, history = refresh_snapshot(
        SNAPSHOT_TENANT,
        files=files,
        customers=NO_ORDER_READS,
        now=later,
        rebuild_after=timedelta(days=7),
        catalogue=[sold_out],
    )
    # Then the history holds all three versions, and the stock-out as a zero
    prices, stock = history.frames()
    assert prices.sort_values("changed_at")["price"].tolist() == [30.0, 24.0, 24.0]
    assert stock.sort_values("recorded_at")["stock_quantity"].tolist() == [5.0, 5.0, 0.0]
    # and it is saved apart from the snapshot: invalidating the snapshot (rebuilt from the table) keeps it
    invalidate_snapshot(SNAPSHOT_TENANT, files=files)
    assert not files.exists(snapshot_key(SNAPSHOT_TENANT)) and files.exists(price_history_key(SNAPSHOT_TENANT))
    # and the same versions seen again add nothing and write nothing
    files.put(snapshot_key(SNAPSHOT_TENANT), OrderSnapshot.from_records([], built_at=later.isoformat()).to_bytes())
    stats = ReadStats()
    _, again = refresh_snapshot(
        SNAPSHOT_TENANT,
        files=files,
        customers=NO_ORDER_READS,
        now=later,
        stats=stats,
        rebuild_after=timedelta(days=7),
        catalogue=[sold_out],
    )
    assert len(again.versions) == 3 and stats.s3_puts == 0


def test_an_invalidated_snapshot_is_gone_and_its_deltas_stay() -> None:
    # Given a snapshot and a delta, when the snapshot is invalidated (a delta could not be written)
    files = InMemoryObjectStore()
    assert seed_training_snapshot(SNAPSHOT_TENANT, files=files, now=NOW)
    delta = write_delta(SNAPSHOT_TENANT, [record("1", "2026-10-02T00:00:00")], files=files, now=NOW)
    invalidate_snapshot(SNAPSHOT_TENANT, files=files)
    # Then the next run finds no snapshot (it rebuilds from the table) and the delta is still there
    assert not files.exists(snapshot_key(SNAPSHOT_TENANT)) and files.exists(delta)

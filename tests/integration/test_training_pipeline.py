"""Training pipeline against the embedded AWS (moto over HTTP): promotion, the quality gate, a failing kind,
a crashed run, concurrent runs, the incremental snapshot and the serving cache's refresh.

The model kinds here are tiny but real: a popularity model whose holdout metric (hit rate of the top products
on the last fifth of the lines) is computed from the data, so the gate sees true numbers.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest

from luxebrain.adapters.aws import models_bucket
from luxebrain.errors import NotFoundError
from luxebrain.ml.artifacts import ArtifactError, ModelArtifact
from luxebrain.ml.kinds import MODEL_KINDS
from luxebrain.runtime import aws_client, configured_settings
from luxebrain.serving.loader import ModelCache, artifact_prefix, current_model
from luxebrain.storage.items.catalogue import ProductItem, key_product
from luxebrain.storage.items.customers import LineItem, OrderItem, key_order
from luxebrain.storage.training import (
    acquire_lease,
    get_pointer,
    get_training_state,
    mark_tenant_data_changed,
    training_repository,
)
from luxebrain.tenancy import new_tenant_id
from luxebrain.training import (
    LeaseBusyError,
    TrainingInputs,
    append_training_delta,
    list_run_records,
    register_kind,
    registered_kinds,
    train_tenant,
)
from luxebrain.training.deltas import order_record, snapshot_key
from luxebrain.training.registry import register_default_kinds, unregister_kind
from luxebrain.training.snapshot import OrderSnapshot, load_training_data
from luxebrain.training.sources import table_sources
from luxebrain_dev.sample_store import SampleStore, generate_sample_store

AS_OF = datetime(2026, 11, 1, tzinfo=UTC)
TRAINING = training_repository()  # the product's training repository, on the embedded DynamoDB
SOURCES = table_sources()  # and its catalogue, customers and price decision repositories


# ----------------------------------------------------------------------------- a tiny real model kind
class PopularityServing:
    """Numpy-only serving class of the test kind: checks its arrays like the real ones do."""

    def __init__(self, artifact: ModelArtifact) -> None:
        ids, counts = artifact.arrays["product_ids"], artifact.arrays["counts"]
        if ids.shape != counts.shape:
            raise ArtifactError("product_ids and counts differ in length")
        self.top = ids[np.argsort(-counts, kind="stable")]

    @classmethod
    def from_artifact(cls, artifact: ModelArtifact) -> PopularityServing:
        return cls(artifact)


def train_popularity(inputs: TrainingInputs, *, degrade: float = 0.0) -> ModelArtifact:
    lines = inputs.order_lines.sort_values("ordered_at")
    cut = int(len(lines) * 0.8)
    train, test = lines.iloc[:cut], lines.iloc[cut:]
    top = train.groupby("product_id")["quantity"].sum().sort_values(ascending=False)
    top10 = set(top.index[:10])
    hit_rate = float(test["product_id"].isin(top10).mean()) if len(test) else 0.0
    counts = lines.groupby("product_id")["quantity"].sum()
    return ModelArtifact(
        kind="popularity",
        arrays={
            "product_ids": counts.index.to_numpy().astype("S"),
            "counts": counts.to_numpy(dtype=np.float64),
        },
        metrics={"holdout": {"hit_rate": hit_rate * (1.0 - degrade)}},
        data_counts={"order_lines": len(lines)},
    )


@pytest.fixture
def only_test_kinds() -> Iterator[None]:
    """Replace the registry by the test kind for one test (the product kinds are exercised elsewhere)."""
    saved = registered_kinds()
    for kind in saved:
        unregister_kind(kind)
    register_kind(
        "popularity",
        train_popularity,
        serving_class=f"{__name__}:PopularityServing",
        holdout_metric="holdout.hit_rate",
    )
    yield
    for kind in registered_kinds():
        unregister_kind(kind)
    register_default_kinds()  # the product kinds exactly as the table of kinds registers them
    for spec in saved.values():
        if spec.kind in MODEL_KINDS:
            continue
        register_kind(
            spec.kind,
            spec.train,
            serving_class=spec.serving_class,
            holdout_metric=spec.holdout_metric,
            higher_is_better=spec.higher_is_better,
            baseline_metric=spec.baseline_metric,
        )


# ----------------------------------------------------------------------------- a store in DynamoDB
def order_from_payload(tenant_id: str, payload: dict[str, Any]) -> OrderItem:
    status_class = {"processing": "purchase", "completed": "purchase", "refunded": "refund"}.get(
        payload["status"], "cancelled" if payload["status"] in ("cancelled", "failed") else "cart"
    )
    pk, sk = key_order(tenant_id, str(payload["id"]))
    customer = str(payload["customer_id"]) if payload["customer_id"] else f"guest:{payload['billing']['email']}"
    return OrderItem(
        pk,
        sk,
        entity=OrderItem.ENTITY,
        tenant_id=tenant_id,
        order_id=str(payload["id"]),
        status=payload["status"],
        status_class=status_class,
        customer_id=customer,
        total=float(payload["total"]),
        created_gmt=payload["date_created_gmt"],
        modified_gmt=payload["date_modified_gmt"],
        line_items=[
            LineItem(
                line_id=str(line["id"]),
                product_id=str(line["product_id"]),
                quantity=line["quantity"],
                unit_price=float(line["price"]),
                subtotal=float(line["subtotal"]),
                total=float(line["total"]),
            )
            for line in payload["line_items"]
        ],
    )


def product_from_payload(tenant_id: str, payload: dict[str, Any]) -> ProductItem:
    pk, sk = key_product(tenant_id, str(payload["id"]))
    return ProductItem(
        pk,
        sk,
        entity=ProductItem.ENTITY,
        tenant_id=tenant_id,
        product_id=str(payload["id"]),
        name=payload["name"],
        categories=[category["name"] for category in payload["categories"]],
        price=float(payload["price"]),
        regular_price=float(payload["regular_price"]),
        stock_quantity=payload.get("stock_quantity"),
        stock_status=payload["stock_status"],
        modified_gmt=payload["date_modified_gmt"],
    )


@pytest.fixture(scope="module")
def sample_store() -> SampleStore:
    return generate_sample_store(products=40, customers=300, years=1.0, seed=3, as_of=AS_OF)


def _put_products(tenant_id: str, store: SampleStore) -> None:
    with ProductItem.batch_write() as batch:
        for payload in store.products:
            batch.save(product_from_payload(tenant_id, payload))


@pytest.fixture
def stocked_tenant(tenant_id: str, sample_store: SampleStore) -> str:
    """A tenant with a small sample store (about 1,100 order lines): products in the table, orders in its
    training snapshot in S3, as ingest's deltas would have left it (moto's Query is too slow to re-read the
    orders table in every test; the table path has its own test below)."""
    return stock_tenant(tenant_id, sample_store)


def stock_tenant(tenant_id: str, store: SampleStore) -> str:
    _put_products(tenant_id, store)
    records = [order_record(order_from_payload(tenant_id, payload)) for payload in store.orders]
    snapshot = OrderSnapshot.from_records(records, built_at=datetime.now(UTC).isoformat())
    models_bucket().put(snapshot_key(tenant_id), snapshot.to_bytes())
    mark_tenant_data_changed(tenant_id, AS_OF)  # this tenant's ingest keeps its snapshot current
    return tenant_id


@pytest.fixture
def tabled_tenant(tenant_id: str, sample_store: SampleStore) -> str:
    """A tenant whose orders are only in the table (no snapshot yet)."""
    _put_products(tenant_id, sample_store)
    with OrderItem.batch_write() as batch:
        for payload in sample_store.orders[:300]:
            batch.save(order_from_payload(tenant_id, payload))
    return tenant_id


# ----------------------------------------------------------------------------- tests
def test_first_run_promotes_and_the_api_serves_it(only_test_kinds: None, stocked_tenant: str) -> None:
    # Given a tenant with orders and no model yet
    messages: list[str] = []
    # When it is trained
    report = train_tenant(
        stocked_tenant, progress=messages.append, now=AS_OF, files=models_bucket(), training=TRAINING, sources=SOURCES
    )
    # Then the version is current, its files are in S3 under the agreed prefix, and the API reads it back
    (result,) = report.kinds
    assert report.status == "succeeded" and result.status == "succeeded"
    assert result.rows_used == report.read["rows"] > 500
    pointer = get_pointer(stocked_tenant, "popularity")
    assert pointer is not None and pointer.version == result.version
    assert pointer.artifact_prefix == artifact_prefix(stocked_tenant, "popularity", result.version)
    listed = aws_client("s3").list_objects_v2(
        Bucket=configured_settings().models_bucket, Prefix=pointer.artifact_prefix
    )
    assert sorted(entry["Key"].rsplit("/", 1)[1] for entry in listed["Contents"]) == ["arrays.npz", "manifest.json"]
    artifact, version = current_model(stocked_tenant, "popularity")
    assert version == result.version and artifact.kind == "popularity"
    # and the run is recorded with its metrics, and progress was reported
    (record,) = list_run_records(stocked_tenant, training=training_repository())
    assert record.status == "succeeded" and record.metrics["gate_metric"]["name"] == "holdout.hit_rate"
    assert any("popularity: succeeded" in message for message in messages)
    assert "popularity" in report.summary()


def test_quality_gate_rejects_a_materially_worse_model(only_test_kinds: None, stocked_tenant: str) -> None:
    # Given a current version
    first = train_tenant(stocked_tenant, now=AS_OF, files=models_bucket(), training=TRAINING, sources=SOURCES).kinds[0]
    # When the next run's model is 50 % worse on its holdout metric
    register_kind(
        "popularity",
        lambda inputs: train_popularity(inputs, degrade=0.5),
        serving_class=f"{__name__}:PopularityServing",
        holdout_metric="holdout.hit_rate",
    )
    second = train_tenant(
        stocked_tenant, now=AS_OF + timedelta(days=1), files=models_bucket(), training=TRAINING, sources=SOURCES
    ).kinds[0]
    # Then it is rejected with its numbers, and the old version keeps serving
    assert second.status == "rejected"
    assert "worse than the current" in (second.reason or "")
    assert second.metric_value == pytest.approx(first.metric_value * 0.5)
    assert get_pointer(stocked_tenant, "popularity").version == first.version
    statuses = [
        record.status for record in list_run_records(stocked_tenant, training=training_repository(), kind="popularity")
    ]
    assert statuses == ["rejected", "succeeded"]


def test_quality_gate_accepts_a_slightly_worse_model(only_test_kinds: None, stocked_tenant: str) -> None:
    # Given a current version, when the next one is 2 % worse (within the 10 % tolerance)
    train_tenant(stocked_tenant, now=AS_OF, files=models_bucket(), training=TRAINING, sources=SOURCES)
    register_kind(
        "popularity",
        lambda inputs: train_popularity(inputs, degrade=0.02),
        serving_class=f"{__name__}:PopularityServing",
        holdout_metric="holdout.hit_rate",
    )
    second = train_tenant(
        stocked_tenant, now=AS_OF + timedelta(days=1), files=models_bucket(), training=TRAINING, sources=SOURCES
    ).kinds[0]
    # Then it becomes current
    assert second.status == "succeeded"
    assert get_pointer(stocked_tenant, "popularity").version == second.version


def test_a_model_that_cannot_be_served_is_rejected(only_test_kinds: None, stocked_tenant: str) -> None:
    # Given a kind whose artifact breaks its serving class's checks
    def broken(inputs: TrainingInputs) -> ModelArtifact:
        good = train_popularity(inputs)
        return ModelArtifact("popularity", {**good.arrays, "counts": np.zeros(1)}, metrics=good.metrics)

    register_kind(
        "popularity", broken, serving_class=f"{__name__}:PopularityServing", holdout_metric="holdout.hit_rate"
    )
    # When it trains
    result = train_tenant(stocked_tenant, now=AS_OF, files=models_bucket(), training=TRAINING, sources=SOURCES).kinds[0]
    # Then it is rejected and nothing serves
    assert result.status == "rejected" and "serving model cannot be built" in (result.reason or "")
    assert get_pointer(stocked_tenant, "popularity") is None


def test_one_failing_kind_does_not_stop_the_others(only_test_kinds: None, stocked_tenant: str) -> None:
    # Given two kinds, both current after a first run
    register_kind(
        "second", lambda inputs: _renamed(train_popularity(inputs), "second"), holdout_metric="holdout.hit_rate"
    )
    first = {
        result.kind: result
        for result in train_tenant(
            stocked_tenant, now=AS_OF, files=models_bucket(), training=TRAINING, sources=SOURCES
        ).kinds
    }

    # When one of them raises on the next run
    def failing(inputs: TrainingInputs) -> ModelArtifact:
        raise ValueError("not enough data for this model")

    register_kind("second", failing, holdout_metric="holdout.hit_rate")
    report = train_tenant(
        stocked_tenant, now=AS_OF + timedelta(days=1), files=models_bucket(), training=TRAINING, sources=SOURCES
    )
    # Then the other kind is promoted, the failing one is recorded and keeps its previous version
    by_kind = {result.kind: result for result in report.kinds}
    assert report.status == "partial"
    assert by_kind["popularity"].status == "succeeded"
    assert by_kind["second"].status == "failed" and "not enough data" in (by_kind["second"].reason or "")
    assert get_pointer(stocked_tenant, "second").version == first["second"].version
    assert (
        list_run_records(stocked_tenant, training=training_repository(), kind="second")[0].reason
        == "ValueError: not enough data for this model"
    )


def _renamed(artifact: ModelArtifact, kind: str) -> ModelArtifact:
    return ModelArtifact(kind, artifact.arrays, metrics=artifact.metrics, data_counts=artifact.data_counts)


class SimulatedCrash(BaseException):
    """Stands for the process dying (Lambda timeout, out of memory): no ``except Exception`` sees it."""


def test_a_crashed_run_keeps_the_old_version_and_is_taken_over_after_its_lease(
    only_test_kinds: None, stocked_tenant: str
) -> None:
    # Given a current version
    first = train_tenant(stocked_tenant, now=AS_OF, files=models_bucket(), training=TRAINING, sources=SOURCES).kinds[0]

    # When the next run dies in the middle of training
    def crash(inputs: TrainingInputs) -> ModelArtifact:
        raise SimulatedCrash

    register_kind("popularity", crash, holdout_metric="holdout.hit_rate")
    crashed_at = AS_OF + timedelta(days=1)
    with pytest.raises(SimulatedCrash):
        train_tenant(
            stocked_tenant,
            now=crashed_at,
            run_id="deadbeefdeadbeef",
            files=models_bucket(),
            training=TRAINING,
            sources=SOURCES,
        )
    # Then the old version still serves and the lease is still held (a retry right away is refused)
    assert get_pointer(stocked_tenant, "popularity").version == first.version
    assert list_run_records(stocked_tenant, training=training_repository(), kind="popularity")[0].status == "running"
    with pytest.raises(LeaseBusyError):
        train_tenant(
            stocked_tenant,
            now=crashed_at + timedelta(minutes=5),
            files=models_bucket(),
            training=TRAINING,
            sources=SOURCES,
        )

    # When the message is redelivered after the lease expired
    register_kind("popularity", train_popularity, holdout_metric="holdout.hit_rate")
    lease = configured_settings().training_lease_seconds
    report = train_tenant(
        stocked_tenant,
        now=crashed_at + timedelta(seconds=lease + 1),
        files=models_bucket(),
        training=TRAINING,
        sources=SOURCES,
    )
    # Then the new run trains, and the dead run's record says what happened
    assert report.kinds[0].status == "succeeded"
    dead = [
        record
        for record in list_run_records(stocked_tenant, training=training_repository())
        if record.run_id == "deadbeefdeadbeef"
    ]
    assert [record.status for record in dead] == ["abandoned"]
    assert "crash or timeout" in (dead[0].reason or "")


def test_two_runs_for_one_tenant_never_interleave(only_test_kinds: None, stocked_tenant: str) -> None:
    # Given a run that is in the middle of training (held at a gate inside its train function)
    inside, release = threading.Event(), threading.Event()

    def slow(inputs: TrainingInputs) -> ModelArtifact:
        inside.set()
        release.wait(timeout=30)
        return train_popularity(inputs)

    register_kind("popularity", slow, holdout_metric="holdout.hit_rate")
    outcome: dict[str, Any] = {}
    first = threading.Thread(
        target=lambda: outcome.update(
            first=train_tenant(stocked_tenant, now=AS_OF, files=models_bucket(), training=TRAINING, sources=SOURCES)
        )
    )
    first.start()
    assert inside.wait(timeout=30)
    # When a second run for the same tenant starts meanwhile
    with pytest.raises(LeaseBusyError):
        train_tenant(stocked_tenant, now=AS_OF, files=models_bucket(), training=TRAINING, sources=SOURCES)
    release.set()
    first.join(timeout=60)
    # Then only the first one trained, and the lease is free again afterwards
    assert outcome["first"].status == "succeeded"
    assert len(list_run_records(stocked_tenant, training=training_repository())) == 1
    assert get_training_state(stocked_tenant).lease_owner is None


def test_the_lease_is_a_conditional_write(stocked_tenant: str) -> None:
    # Given a lease held by one run, when another asks for it before expiry, then it is refused
    acquire_lease(stocked_tenant, "run-a", AS_OF, 60)
    with pytest.raises(LeaseBusyError):
        acquire_lease(stocked_tenant, "run-b", AS_OF + timedelta(seconds=59), 60)
    # and after expiry the new run gets it and learns whose lease it replaced
    assert acquire_lease(stocked_tenant, "run-b", AS_OF + timedelta(seconds=61), 60) == "run-a"


def test_snapshot_is_rebuilt_once_then_updated_from_deltas(tabled_tenant: str) -> None:
    stocked_tenant = tabled_tenant
    # Given a first read (no snapshot yet: the table is queried once and the snapshot written)
    first = load_training_data(stocked_tenant, now=AS_OF, files=models_bucket(), training=TRAINING, sources=SOURCES)
    # (two PUTs: the snapshot, and the price history started from the catalogue's current versions)
    assert first.stats.source == "table" and first.stats.dynamodb_items > 0 and first.stats.s3_puts == 2
    # When ingest records a refund of a paid order and a new paid order (and a stale copy of the refund)
    paid = first.order_lines.iloc[0]
    refunded = OrderItem.get(*key_order(stocked_tenant, paid["order_id"]))
    refunded.status, refunded.status_class, refunded.modified_gmt = "refunded", "refund", "2026-11-02T00:00:00"
    stale = OrderItem.get(*key_order(stocked_tenant, paid["order_id"]))
    new = OrderItem.get(*key_order(stocked_tenant, paid["order_id"]))
    new.order_id, new.modified_gmt = "999999", "2026-11-02T00:00:00"
    append_training_delta(stocked_tenant, [refunded, new], files=models_bucket(), training=TRAINING)
    append_training_delta(stocked_tenant, [stale], files=models_bucket(), training=TRAINING)
    # Then the next read merges the deltas without querying the table
    second = load_training_data(
        stocked_tenant, now=AS_OF + timedelta(days=1), files=models_bucket(), training=TRAINING, sources=SOURCES
    )
    assert second.stats.source == "snapshot" and second.stats.dynamodb_items == 0
    assert second.stats.deltas_applied == 2 and second.stats.orders_changed == 2
    assert paid["order_id"] not in set(second.order_lines["order_id"])
    refunded_lines = int((first.order_lines["order_id"] == paid["order_id"]).sum())
    assert len(second.order_lines) == len(first.order_lines) - refunded_lines + len(new.line_items)
    # and the consumed deltas are gone, and the data change is recorded for the dispatcher
    third = load_training_data(
        stocked_tenant, now=AS_OF + timedelta(days=1), files=models_bucket(), training=TRAINING, sources=SOURCES
    )
    assert third.stats.deltas_applied == 0
    assert get_training_state(stocked_tenant).data_changed_at is not None


def test_product_versions_and_price_decisions_reach_pricing_training(stocked_tenant: str) -> None:
    from luxebrain.storage.catalogue import product_from_item
    from luxebrain.storage.pricing import record_decision

    # Given a product whose price ingest saw go from 30 to 24 (a sale), then its stock run out
    item = ProductItem.get(*key_product(stocked_tenant, _some_product(stocked_tenant)))
    product_id = item.product_id
    versions = []
    for modified, price, sale, stock in (
        ("2026-09-01T08:00:00", 30.0, None, 12),
        ("2026-09-15T08:00:00", 24.0, 24.0, 7),
        ("2026-10-01T08:00:00", 24.0, 24.0, 0),
    ):
        item.modified_gmt, item.price, item.regular_price, item.sale_price = modified, price, 30.0, sale
        item.stock_quantity = stock
        versions.append(product_from_item(item))
    append_training_delta(stocked_tenant, [], files=models_bucket(), training=TRAINING, products=versions)
    # and the platform applied a suggestion on it (back to 27) that the store's webhook has not reported yet
    record_decision(
        stocked_tenant,
        "20261020T100000000000-abc123",
        product_id=product_id,
        variation_id=None,
        status="applied",
        model_version="v1",
        decided_by="owner",
        decided_at=datetime(2026, 10, 20, 10, tzinfo=UTC),
        reason=None,
        suggestion={"kind": "regular", "current_price": 24.0, "suggested_price": 27.0},
        change_record={"applied_at": "2026-10-20T10:00:00+00:00", "suggested_price": 27.0, "written": {}},
    )
    # When training reads its data
    data = load_training_data(stocked_tenant, now=AS_OF, files=models_bucket(), training=TRAINING, sources=SOURCES)
    # Then the price history holds every version's price and the decision's, in time order
    assert data.price_history is not None and data.stock_history is not None
    prices = data.price_history[data.price_history["product_id"] == product_id].sort_values("changed_at")
    assert prices["price"].tolist()[:3] == [30.0, 24.0, 24.0] and prices["price"].iloc[-1] == 27.0
    assert prices["changed_at"].iloc[-1] == datetime(2026, 10, 20, 10, tzinfo=UTC)
    # and the stock history the empty week
    stock = data.stock_history[data.stock_history["product_id"] == product_id]
    assert 0.0 in stock["stock_quantity"].tolist()
    # and both survive the deltas' deletion and a rebuild of the order snapshot from the table
    models_bucket().delete(snapshot_key(stocked_tenant))
    again = load_training_data(
        stocked_tenant, now=AS_OF + timedelta(days=1), files=models_bucket(), training=TRAINING, sources=SOURCES
    )
    assert again.stats.deltas_applied == 0 and again.price_history is not None
    assert len(again.price_history[again.price_history["product_id"] == product_id]) == len(prices)
    # and the pricing kind trains on them: the stock-out week is left out of the product's active weeks
    spec = MODEL_KINDS["pricing"]
    inputs = TrainingInputs(stocked_tenant, data.order_lines, data.products, as_of=AS_OF)
    without = spec.train(inputs)
    with_history = spec.train(
        TrainingInputs(
            stocked_tenant,
            data.order_lines,
            data.products,
            as_of=AS_OF,
            price_history=data.price_history,
            stock_history=data.stock_history,
        )
    )
    row = list(without.arrays["product_ids"]).index(product_id)
    assert with_history.arrays["active_weeks"][row] < without.arrays["active_weeks"][row]
    assert with_history.arrays["recent_price"][row] == 27.0


def _some_product(tenant_id: str) -> str:
    """A simple (not variable) product of the tenant that has sold."""
    data = load_training_data(tenant_id, now=AS_OF, files=models_bucket(), training=TRAINING, sources=SOURCES)
    sold = set(data.order_lines["product_id"])
    return next(pid for pid in data.products["product_id"] if pid in sold)


def test_serving_cache_picks_up_a_new_version_within_its_check_interval(
    only_test_kinds: None, stocked_tenant: str
) -> None:
    # Given a cache (60 s version check) serving version 1
    clock = [1000.0]
    cache = ModelCache(
        pointers=TRAINING,
        files=models_bucket(),
        max_entries=8,
        max_bytes=10_000_000,
        check_interval_seconds=60,
        clock=lambda: clock[0],
    )
    v1 = (
        train_tenant(stocked_tenant, now=AS_OF, files=models_bucket(), training=TRAINING, sources=SOURCES)
        .kinds[0]
        .version
    )
    assert cache.current_model(stocked_tenant, "popularity")[1] == v1
    # When version 2 is promoted
    v2 = (
        train_tenant(
            stocked_tenant, now=AS_OF + timedelta(days=1), files=models_bucket(), training=TRAINING, sources=SOURCES
        )
        .kinds[0]
        .version
    )
    # Then within the interval the cached version is served without a DynamoDB read
    clock[0] += 30
    checks = cache.stats["pointer_checks"]
    assert cache.current_model(stocked_tenant, "popularity")[1] == v1
    assert cache.stats["pointer_checks"] == checks
    # and after it, version 2 is served
    clock[0] += 31
    _, version = cache.current_model(stocked_tenant, "popularity")
    assert version == v2 and cache.stats["loads"] == 2
    serving, _ = cache.current_serving(stocked_tenant, "popularity")
    assert isinstance(serving, PopularityServing)


def test_serving_refuses_a_tampered_artifact(only_test_kinds: None, stocked_tenant: str) -> None:
    # Given a current version whose arrays file is altered in S3 after training
    version = (
        train_tenant(stocked_tenant, now=AS_OF, files=models_bucket(), training=TRAINING, sources=SOURCES)
        .kinds[0]
        .version
    )
    bucket, key = (
        configured_settings().models_bucket,
        artifact_prefix(stocked_tenant, "popularity", version) + "arrays.npz",
    )
    s3 = aws_client("s3")
    content = bytearray(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
    content[len(content) // 2] ^= 0xFF
    s3.put_object(Bucket=bucket, Key=key, Body=bytes(content))
    cache = ModelCache(
        pointers=TRAINING, files=models_bucket(), max_entries=8, max_bytes=10_000_000, check_interval_seconds=60
    )
    # When the API loads it, then the checksum check refuses it
    with pytest.raises(ArtifactError, match="checksum mismatch"):
        cache.current_model(stocked_tenant, "popularity")


def test_cache_is_bounded_across_tenants(only_test_kinds: None, stocked_tenant: str) -> None:
    # Given a cache that holds one entry, and a model for the stocked tenant only
    train_tenant(stocked_tenant, now=AS_OF, files=models_bucket(), training=TRAINING, sources=SOURCES)
    other_tenant = new_tenant_id()
    cache = ModelCache(
        pointers=TRAINING, files=models_bucket(), max_entries=1, max_bytes=10_000_000, check_interval_seconds=60
    )
    cache.current_model(stocked_tenant, "popularity")
    # When a tenant without a model is asked for, then it is a clear not-found, and the cache stays bounded
    with pytest.raises(NotFoundError, match="no popularity model"):
        cache.current_model(other_tenant, "popularity")
    assert len(cache) == 1 and cache.size_bytes > 0


@pytest.mark.slow(reason="fits all four model kinds (gradient-boosted forecast and pricing too) on a real small store")
def test_every_product_kind_trains_on_the_sample_store(stocked_tenant: str) -> None:
    # Given the four product kinds (recommend, forecast, customers, pricing) and a real small store
    # When the tenant is trained
    report = train_tenant(stocked_tenant, now=AS_OF, files=models_bucket(), training=TRAINING, sources=SOURCES)
    # Then each kind ends with a recorded status, and every promoted one is served by its own serving class
    assert {result.kind for result in report.kinds} == {"recommend", "forecast", "customers", "pricing"}
    for result in report.kinds:
        assert result.status in ("succeeded", "rejected", "failed"), result
        if result.status == "succeeded":
            assert current_model(stocked_tenant, result.kind)[1] == result.version
    assert sum(result.status == "succeeded" for result in report.kinds) >= 3, report.summary()


def test_old_versions_are_pruned_but_the_current_one_never(only_test_kinds: None, stocked_tenant: str) -> None:
    # Given seven runs, the last two of them rejected (so the current version is the fifth)
    from luxebrain.training.pipeline import KEEP_VERSIONS

    versions = [
        train_tenant(
            stocked_tenant, now=AS_OF + timedelta(days=day), files=models_bucket(), training=TRAINING, sources=SOURCES
        )
        .kinds[0]
        .version
        for day in range(5)
    ]
    register_kind(
        "popularity",
        lambda inputs: train_popularity(inputs, degrade=0.9),
        serving_class=f"{__name__}:PopularityServing",
        holdout_metric="holdout.hit_rate",
    )
    rejected = [
        train_tenant(
            stocked_tenant, now=AS_OF + timedelta(days=day), files=models_bucket(), training=TRAINING, sources=SOURCES
        ).kinds[0]
        for day in (5, 6)
    ]
    assert [result.status for result in rejected] == ["rejected", "rejected"]
    # Then S3 holds the newest versions only, the current one among them, and it still loads
    bucket = configured_settings().models_bucket
    parent = f"tenants/{stocked_tenant}/models/popularity/"
    # (keys, not CommonPrefixes: moto still lists prefixes whose objects are all delete markers)
    listed = aws_client("s3").list_objects_v2(Bucket=bucket, Prefix=parent)["Contents"]
    kept = sorted({entry["Key"][len(parent) :].split("/")[0] for entry in listed})
    assert kept == sorted([*versions, *(r.version for r in rejected)])[-KEEP_VERSIONS:]
    assert get_pointer(stocked_tenant, "popularity").version == versions[-1] in kept
    assert current_model(stocked_tenant, "popularity")[1] == versions[-1]


def test_a_seeded_snapshot_with_deltas_never_needs_the_table(tabled_tenant: str) -> None:
    # Given a new tenant whose snapshot was seeded when its store was connected, and ingest recording deltas
    from luxebrain.training.snapshot import seed_training_snapshot

    fresh = new_tenant_id()
    assert seed_training_snapshot(fresh, files=models_bucket()) is True
    assert seed_training_snapshot(fresh, files=models_bucket()) is False  # never overwrites
    orders = [OrderItem.get(*key_order(tabled_tenant, order_id)) for order_id in _some_order_ids(tabled_tenant)]
    for order in orders:
        order.tenant_id = fresh
    append_training_delta(fresh, orders, files=models_bucket(), training=TRAINING)
    # When the tenant's data is read for training
    data = load_training_data(fresh, now=AS_OF, files=models_bucket(), training=TRAINING, sources=SOURCES)
    # Then it comes from the snapshot and its deltas alone
    assert data.stats.source == "snapshot" and data.stats.dynamodb_items == 0
    paid = [order for order in orders if order.status_class == "purchase"]
    assert len(data.order_lines) == sum(len(order.line_items) for order in paid) > 0


def _some_order_ids(tenant_id: str) -> list[str]:
    return [order.order_id for _, order in zip(range(20), OrderItem.query(f"TENANT#{tenant_id}#ORDER"), strict=False)]


def test_a_run_that_fails_as_a_whole_is_retried_not_skipped(only_test_kinds: None, stocked_tenant: str) -> None:
    # Given a scheduled run whose every kind fails (say, a transient error)
    from luxebrain.training import handle_train_request
    from luxebrain.training.worker import TrainingFailedError

    def failing(inputs: TrainingInputs) -> ModelArtifact:
        raise ConnectionError("S3 unavailable")

    register_kind("popularity", failing, holdout_metric="holdout.hit_rate")
    body = f'{{"tenant_id": "{stocked_tenant}", "reason": "scheduled", "requested_at": "{AS_OF.isoformat()}"}}'
    with pytest.raises(TrainingFailedError, match="S3 unavailable"):
        handle_train_request(body, files=models_bucket(), training=TRAINING, sources=SOURCES)
    # When the same scheduled message is delivered again, then it trains instead of being skipped as up to date
    register_kind("popularity", train_popularity, holdout_metric="holdout.hit_rate")
    assert handle_train_request(body, files=models_bucket(), training=TRAINING, sources=SOURCES).status == "succeeded"
    # and once trained, a duplicate of it is skipped
    assert handle_train_request(body, files=models_bucket(), training=TRAINING, sources=SOURCES).status == "skipped"

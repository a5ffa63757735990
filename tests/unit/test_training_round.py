"""A training round of ``train_tenant`` over the in-memory bucket, training, catalogue, customers and price
decision repositories (no table, no moto): the data read through the snapshot, the lease, the quality gate's
pointer switch or refusal, the run records and the skip of an unchanged tenant."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from fakes import (
    InMemoryCatalogueRepository,
    InMemoryCustomerRepository,
    InMemoryObjectStore,
    InMemoryPriceDecisionRepository,
    InMemoryTrainingRepository,
)

from luxebrain.ml.artifacts import ArtifactError, ModelArtifact
from luxebrain.ml.kinds import TrainingInputs
from luxebrain.serving.loader import artifact_prefix
from luxebrain.storage.catalogue import Product
from luxebrain.storage.customers import Order, OrderLine
from luxebrain.storage.training import LeaseBusyError
from luxebrain.training import TrainingReport, register_kind, train_tenant
from luxebrain.training.registry import unregister_kind
from luxebrain.training.snapshot import snapshot_key
from luxebrain.training.sources import TrainingSources

TENANT = "round-tenant-1"
AS_OF = datetime(2026, 11, 1, tzinfo=UTC)


class CountsServing:
    """Numpy-only serving class of the toy kind: refuses arrays that do not match."""

    def __init__(self, artifact: ModelArtifact) -> None:
        if artifact.arrays["product_ids"].shape != artifact.arrays["counts"].shape:
            raise ArtifactError("product_ids and counts differ in length")

    @classmethod
    def from_artifact(cls, artifact: ModelArtifact) -> CountsServing:
        return cls(artifact)


def train_counts(inputs: TrainingInputs, *, hit_rate: float = 0.4) -> ModelArtifact:
    counts = inputs.order_lines.groupby("product_id")["quantity"].sum()
    return ModelArtifact(
        kind="counts",
        arrays={"product_ids": counts.index.to_numpy().astype("S"), "counts": counts.to_numpy(dtype=np.float64)},
        metrics={"holdout": {"hit_rate": hit_rate}},
        data_counts={"order_lines": len(inputs.order_lines)},
    )


@pytest.fixture(autouse=True)
def settings(local_settings: Callable[..., None]) -> None:
    """The run reads its thresholds from the settings (binding the table's models costs no request)."""
    local_settings()


@pytest.fixture
def counts_kind() -> Iterator[None]:
    register_kind("counts", train_counts, serving_class=f"{__name__}:CountsServing", holdout_metric="holdout.hit_rate")
    yield
    unregister_kind("counts")


def line(product_id: str, quantity: float) -> OrderLine:
    return OrderLine(
        line_id=f"l-{product_id}",
        product_id=product_id,
        variation_id=None,
        name=None,
        sku=None,
        quantity=quantity,
        unit_price=10.0,
        subtotal=10.0 * quantity,
        total=10.0 * quantity,
    )


def paid_order(order_id: str, days_before: int, *lines: OrderLine) -> Order:
    created = f"{AS_OF - timedelta(days=days_before):%Y-%m-%dT%H:%M:%S}"
    return Order(
        tenant_id=TENANT,
        order_id=order_id,
        status="completed",
        status_class="purchase",
        customer_id=f"c{order_id}",
        created_gmt=created,
        modified_gmt=created,
        line_items=lines,
    )


def three_orders() -> TrainingSources:
    """Three paid orders of four lines over three products, as ingest stored them."""
    orders = [
        paid_order("1", 9, line("p1", 2.0), line("p2", 1.0)),
        paid_order("2", 5, line("p1", 1.0)),
        paid_order("3", 1, line("p3", 4.0)),
    ]
    categories = {"p1": "a", "p2": "a", "p3": "b"}
    products = [Product(TENANT, product_id, categories=(category,)) for product_id, category in categories.items()]
    return TrainingSources(
        catalogue=InMemoryCatalogueRepository(products),
        customers=InMemoryCustomerRepository(orders),
        decisions=InMemoryPriceDecisionRepository(),
    )


def train(
    training: InMemoryTrainingRepository, files: InMemoryObjectStore, now: datetime, *, only_if_changed: bool = False
) -> TrainingReport:
    return train_tenant(
        TENANT,
        files=files,
        training=training,
        sources=three_orders(),
        now=now,
        kinds=["counts"],
        only_if_changed=only_if_changed,
    )


def test_a_round_promotes_the_first_version_then_refuses_a_worse_one(counts_kind: None) -> None:
    training, files = InMemoryTrainingRepository(), InMemoryObjectStore()
    # When a tenant is trained for the first time
    first = train(training, files, AS_OF)
    # Then its version is current, its files are in the bucket, its run recorded and the lease given back
    (result,) = first.kinds
    assert first.status == "succeeded" and result.status == "succeeded" and result.rows_used == 4
    # read from the orders and the catalogue (no snapshot yet: it was built from the orders and saved)
    assert (first.read["source"], first.read["rows"], first.read["products"]) == ("table", 4, 3)
    assert files.exists(snapshot_key(TENANT))
    pointer = training.get_pointer(TENANT, "counts")
    assert pointer is not None and pointer.version == result.version and pointer.holdout_metric == 0.4
    assert pointer.artifact_prefix == artifact_prefix(TENANT, "counts", result.version)
    assert files.exists(pointer.artifact_prefix + "manifest.json")
    (record,) = training.list_run_records(TENANT, ["counts"])
    assert (record.status, record.run_id, record.artifact_prefix) == (
        "succeeded",
        first.run_id,
        pointer.artifact_prefix,
    )
    assert record.metrics["gate_metric"]["value"] == 0.4
    state = training.get_training_state(TENANT)
    assert state is not None and state.lease_owner is None and state.last_trained_at == AS_OF

    # When the next day's model is half as good
    register_kind(
        "counts",
        lambda inputs: train_counts(inputs, hit_rate=0.2),
        serving_class=f"{__name__}:CountsServing",
        holdout_metric="holdout.hit_rate",
    )
    second = train(training, files, AS_OF + timedelta(days=1))
    # Then it is rejected with both numbers, and the first version keeps serving
    (refused,) = second.kinds
    assert refused.status == "rejected" and (refused.metric_value, refused.current_metric_value) == (0.2, 0.4)
    assert refused.serving_version == result.version
    assert training.get_pointer(TENANT, "counts") == pointer
    assert [r.status for r in training.list_run_records(TENANT, ["counts"])] == ["rejected", "succeeded"]


def test_a_held_lease_refuses_the_run_and_an_unchanged_tenant_is_skipped(counts_kind: None) -> None:
    training, files = InMemoryTrainingRepository(), InMemoryObjectStore()
    training.acquire_lease(TENANT, "other-run", AS_OF, 900)
    with pytest.raises(LeaseBusyError):
        train(training, files, AS_OF + timedelta(minutes=1))
    assert files.keys() == [] and training.list_run_records(TENANT, ["counts"]) == []

    # Once the other run released it after training on data no newer than its start
    training.release_lease(TENANT, "other-run", AS_OF, status="succeeded", started_at=AS_OF)
    state = training.get_training_state(TENANT)
    assert state is not None
    training.states[TENANT] = replace(state, data_changed_at=AS_OF - timedelta(hours=1))
    skipped = train(training, files, AS_OF + timedelta(hours=2), only_if_changed=True)
    assert skipped.status == "skipped" and skipped.kinds == [] and files.keys() == []

    # and a data change after it makes the scheduled run train again
    training.states[TENANT] = replace(state, data_changed_at=AS_OF + timedelta(hours=1))
    assert train(training, files, AS_OF + timedelta(hours=2), only_if_changed=True).status == "succeeded"

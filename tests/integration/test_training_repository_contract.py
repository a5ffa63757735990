"""The in-memory training repository of tests/fakes.py behaves as the DynamoDB one on the embedded AWS: the same
checks pass on both, so a unit test of the pipeline over the fake says something about the table's conditions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fakes import InMemoryTrainingRepository

from luxebrain.errors import ConflictError
from luxebrain.storage.training import (
    ABANDONED,
    FAILED,
    RUNNING,
    SUCCEEDED,
    DynamoTrainingRepository,
    LeaseBusyError,
    RetrainRateLimitedError,
    TrainingRepository,
)
from luxebrain.tenancy import new_tenant_id
from luxebrain_dev.local.embedded import LocalResources

NOW = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)
LEASE = 900


@pytest.fixture(params=["in-memory", "dynamodb"])
def training(request: pytest.FixtureRequest, local_aws: LocalResources) -> TrainingRepository:
    return InMemoryTrainingRepository() if request.param == "in-memory" else DynamoTrainingRepository()


@pytest.fixture
def tenant() -> str:
    return new_tenant_id()


def test_the_lease_is_taken_only_when_free_expired_or_already_ours(training: TrainingRepository, tenant: str) -> None:
    assert training.get_training_state(tenant) is None
    assert training.acquire_lease(tenant, "run-a", NOW, LEASE) is None
    state = training.get_training_state(tenant)
    assert state is not None and state.lease_owner == "run-a"
    assert state.lease_expires_at == int(NOW.timestamp()) + LEASE
    with pytest.raises(LeaseBusyError):
        training.acquire_lease(tenant, "run-b", NOW + timedelta(seconds=LEASE - 1), LEASE)
    assert training.acquire_lease(tenant, "run-a", NOW + timedelta(seconds=10), LEASE) is None  # a redelivery
    # once it expired, another run takes it over and learns whose it was
    assert training.acquire_lease(tenant, "run-b", NOW + timedelta(seconds=LEASE + 11), LEASE) == "run-a"


def test_a_release_counts_as_trained_unless_the_run_failed(training: TrainingRepository, tenant: str) -> None:
    training.acquire_lease(tenant, "run-a", NOW, LEASE)
    assert training.release_lease(tenant, "run-b", NOW, status=SUCCEEDED, started_at=NOW) is False  # not its lease
    assert training.release_lease(tenant, "run-a", NOW + timedelta(minutes=5), status=SUCCEEDED, started_at=NOW)
    state = training.get_training_state(tenant)
    assert state is not None and state.lease_owner is None and state.lease_expires_at is None
    assert (state.last_run_id, state.last_run_status, state.last_trained_at) == ("run-a", SUCCEEDED, NOW)
    assert training.release_lease(tenant, "run-a", NOW, status=SUCCEEDED, started_at=NOW) is False  # released

    later = NOW + timedelta(days=1)
    assert training.acquire_lease(tenant, "run-c", later, LEASE) is None  # a released lease names no dead run
    assert training.release_lease(tenant, "run-c", later, status=FAILED, started_at=later)
    state = training.get_training_state(tenant)
    assert state is not None and (state.last_run_id, state.last_run_status, state.last_trained_at) == (
        "run-c",
        FAILED,
        NOW,
    )


def test_a_pointer_switches_only_from_the_version_the_run_read(training: TrainingRepository, tenant: str) -> None:
    assert training.get_pointer(tenant, "forecast") is None

    def switch(expected: str | None, version: str) -> None:
        training.switch_pointer(
            tenant,
            "forecast",
            expected_version=expected,
            version=version,
            artifact_prefix=f"p/{version}/",
            run_id="run-a",
            holdout_metric=0.25,
            now=NOW,
        )

    switch(None, "v1")
    with pytest.raises(ConflictError):  # another run switched it first
        switch(None, "v2")
    with pytest.raises(ConflictError):
        switch("v0", "v2")
    assert training.get_pointer(tenant, "forecast").version == "v1"  # type: ignore[union-attr]
    training.switch_pointer(
        tenant,
        "forecast",
        expected_version="v1",
        version="v2",
        artifact_prefix="p/v2/",
        run_id="run-b",
        holdout_metric=None,
        now=NOW + timedelta(days=1),
    )
    pointer = training.get_pointer(tenant, "forecast")
    assert pointer is not None
    assert (pointer.kind, pointer.version, pointer.artifact_prefix, pointer.run_id) == (
        "forecast",
        "v2",
        "p/v2/",
        "run-b",
    )
    assert pointer.holdout_metric is None and pointer.switched_at == NOW + timedelta(days=1)
    assert training.get_pointer(tenant, "recommend") is None
    assert training.get_pointer(new_tenant_id(), "forecast") is None


def test_one_read_gives_every_kinds_current_pointer_of_a_tenant(training: TrainingRepository, tenant: str) -> None:
    assert training.current_pointers(tenant) == {}
    other = new_tenant_id()
    for owner, kind, version in ((tenant, "forecast", "v1"), (tenant, "recommend", "v7"), (other, "forecast", "v9")):
        training.switch_pointer(
            owner,
            kind,
            expected_version=None,
            version=version,
            artifact_prefix=f"p/{kind}/{version}/",
            run_id="run-a",
            holdout_metric=None,
            now=NOW,
        )
    pointers = training.current_pointers(tenant)
    assert {kind: (p.kind, p.version, p.artifact_prefix) for kind, p in pointers.items()} == {
        "forecast": ("forecast", "v1", "p/forecast/v1/"),
        "recommend": ("recommend", "v7", "p/recommend/v7/"),
    }
    assert pointers["forecast"] == training.get_pointer(tenant, "forecast")
    assert set(training.current_pointers(other)) == {"forecast"}


def test_run_records_finish_once_and_list_newest_first(training: TrainingRepository, tenant: str) -> None:
    first = training.start_run_record(tenant, "forecast", "run-a", "v1", NOW, 120)
    second = training.start_run_record(tenant, "recommend", "run-a", "v1", NOW + timedelta(seconds=30), 120)
    third = training.start_run_record(tenant, "forecast", "run-b", "v2", NOW + timedelta(days=1), 130)
    training.finish_run_record(
        first,
        status=SUCCEEDED,
        finished_at=NOW + timedelta(seconds=12.5),
        metrics={"gate_metric": {"name": "wape", "value": 0.31}},
        reason="better than the current",
        artifact_prefix="p/v1/",
    )
    with pytest.raises(ConflictError):  # finished already
        training.finish_run_record(first, status=FAILED, finished_at=NOW + timedelta(seconds=13))

    records = training.list_run_records(tenant, ["forecast", "recommend"])
    assert [(r.kind, r.run_id, r.status) for r in records] == [
        ("forecast", "run-b", RUNNING),
        ("recommend", "run-a", RUNNING),
        ("forecast", "run-a", SUCCEEDED),
    ]
    done = records[2]
    assert (done.version, done.rows_used, done.duration_seconds) == ("v1", 120, 12.5)
    assert done.metrics == {"gate_metric": {"name": "wape", "value": 0.31}}
    assert (done.reason, done.artifact_prefix, done.finished_at) == (
        "better than the current",
        "p/v1/",
        NOW + timedelta(seconds=12.5),
    )
    assert records[0].finished_at is None and records[0].metrics == {} and records[0].artifact_prefix is None
    assert [r.run_id for r in training.list_run_records(tenant, ["forecast"], limit=1)] == ["run-b"]
    assert [r.kind for r in training.list_run_records(tenant, ["recommend"])] == ["recommend"]
    assert second.kind == "recommend" and third.run_id == "run-b"


def test_a_dead_runs_running_records_are_abandoned(training: TrainingRepository, tenant: str) -> None:
    done = training.start_run_record(tenant, "forecast", "dead", "v1", NOW, 10)
    training.finish_run_record(done, status=SUCCEEDED, finished_at=NOW + timedelta(seconds=1))
    training.start_run_record(tenant, "recommend", "dead", "v1", NOW + timedelta(seconds=2), 10)
    training.start_run_record(tenant, "pricing", "alive", "v2", NOW + timedelta(seconds=3), 10)

    later = NOW + timedelta(hours=1)
    assert training.abandon_runs(tenant, "dead", later, ["forecast", "recommend", "pricing"]) == 1
    by_kind = {r.kind: r for r in training.list_run_records(tenant, ["forecast", "recommend", "pricing"])}
    assert (by_kind["forecast"].status, by_kind["recommend"].status, by_kind["pricing"].status) == (
        SUCCEEDED,
        ABANDONED,
        RUNNING,
    )
    assert by_kind["recommend"].finished_at == later and "before finishing" in (by_kind["recommend"].reason or "")
    assert training.abandon_runs(tenant, "dead", later, ["recommend"]) == 0


def test_a_data_change_is_marked_only_forward(training: TrainingRepository, tenant: str) -> None:
    training.mark_tenant_data_changed(tenant, NOW)
    state = training.get_training_state(tenant)
    assert state is not None and state.data_changed_at == NOW
    training.mark_tenant_data_changed(tenant, NOW - timedelta(minutes=1))  # a late batch: the newer mark stays
    assert training.get_training_state(tenant).data_changed_at == NOW  # type: ignore[union-attr]
    training.mark_tenant_data_changed(tenant, NOW + timedelta(minutes=1))
    assert training.get_training_state(tenant).data_changed_at == NOW + timedelta(minutes=1)  # type: ignore[union-attr]


def test_many_tenants_states_are_read_at_once_unknown_ones_left_out(training: TrainingRepository, tenant: str) -> None:
    other, unknown = new_tenant_id(), new_tenant_id()
    training.mark_tenant_data_changed(tenant, NOW)
    training.acquire_lease(other, "run-a", NOW, LEASE)
    states = training.batch_get_states([tenant, other, unknown])
    assert sorted(states) == sorted([tenant, other])
    assert states[tenant] == training.get_training_state(tenant)
    assert states[other].lease_owner == "run-a"
    assert training.batch_get_states([]) == {}
    assert training.batch_get_states([unknown]) == {}


def test_an_on_demand_retrain_is_claimed_once_per_interval(training: TrainingRepository, tenant: str) -> None:
    training.claim_on_demand_slot(tenant, NOW, 60)
    state = training.get_training_state(tenant)
    assert state is not None and state.last_requested_at == NOW  # the first claim creates the state
    with pytest.raises(RetrainRateLimitedError) as refused:
        training.claim_on_demand_slot(tenant, NOW + timedelta(seconds=10), 60)
    assert refused.value.retry_after == 51
    assert training.get_training_state(tenant).last_requested_at == NOW  # type: ignore[union-attr]
    training.claim_on_demand_slot(tenant, NOW + timedelta(seconds=60), 60)  # the interval has passed
    assert training.get_training_state(tenant).last_requested_at == NOW + timedelta(seconds=60)  # type: ignore[union-attr]
    training.claim_on_demand_slot(new_tenant_id(), NOW + timedelta(seconds=61), 60)  # another tenant's own slot

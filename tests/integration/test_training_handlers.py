"""The training handlers and the API routes, called the way Lambda and API Gateway call them, against moto:
schedule event → dispatcher → TrainQueue → worker → S3 → pointer; failures retried then dead-lettered;
history and on-demand retraining through the API; the API's import hygiene (no pandas / scikit-learn)."""

# The shared fixtures are imported from the pipeline tests; a fixture argument is not a redefinition.
# ruff: noqa: F811

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from api_testkit import api_app_module, new_merchant
from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError
from fastapi.testclient import TestClient
from test_training_pipeline import (  # noqa: F401  (fixtures)
    AS_OF,
    SOURCES,
    TRAINING,
    only_test_kinds,
    sample_store,
    stock_tenant,
    stocked_tenant,
)

from luxebrain.adapters.aws import models_bucket
from luxebrain.runtime import aws_client, configured_settings
from luxebrain.storage.training import (
    acquire_lease,
    get_pointer,
    get_training_state,
    mark_tenant_data_changed,
)
from luxebrain.tenancy import new_tenant_id
from luxebrain_dev.local.embedded import LocalResources
from luxebrain_dev.scheduled_training import (
    drain_train_queue,
    load_handler_module,
    run_scheduled_training,
    sqs_event,
    training_context,
)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
REPO = Path(__file__).resolve().parents[2]


def _fixture(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / name).read_text())


def _queue_url(local_aws: LocalResources, logical_id: str) -> str:
    return local_aws.physical_id(logical_id)


@pytest.fixture
def empty_train_queue(local_aws: LocalResources) -> str:
    """TrainQueue without messages left by other tests (their tenants are not this test's business)."""
    url = _queue_url(local_aws, "TrainQueue")
    _drain_bodies(url)  # PurgeQueue is limited to once a minute
    return url


@pytest.mark.slow(reason="the schedule trains every due tenant in this worker's embedded AWS, earlier tests' too")
def test_schedule_event_trains_a_due_tenant_end_to_end(
    only_test_kinds: None, stocked_tenant: str, empty_train_queue: str
) -> None:
    # Given a tenant with data and no model
    # When the daily schedule fires and the queue is drained into the worker
    result = run_scheduled_training(AS_OF + timedelta(days=1))
    # Then the dispatcher queued it, the worker trained it, and its model is current
    assert result.dispatch["sent"] >= 1
    report = result.report_for(stocked_tenant)
    assert report is not None and report.status == "succeeded", result.summary()
    (kind,) = report.kinds
    assert get_pointer(stocked_tenant, "popularity").version == kind.version
    assert "popularity" in result.summary() and stocked_tenant in result.summary()

    # When the schedule fires again the next day without any data change
    again = run_scheduled_training(AS_OF + timedelta(days=2))
    # Then the tenant is not due (trained less than its plan's interval ago)
    assert again.report_for(stocked_tenant) is None


def test_dispatcher_handler_queues_tenants_whose_data_changed(
    only_test_kinds: None, stocked_tenant: str, empty_train_queue: str
) -> None:
    # Given a tenant trained at AS_OF on a daily plan, whose data changes afterwards
    from luxebrain.storage.items.tenants import TenantItem, key_tenant
    from luxebrain.training import train_tenant

    tenant = TenantItem.get(*key_tenant(stocked_tenant))
    tenant.update(actions=[TenantItem.plan.set("pro")])
    train_tenant(stocked_tenant, now=AS_OF, files=models_bucket(), training=TRAINING, sources=SOURCES)
    mark_tenant_data_changed(stocked_tenant, AS_OF + timedelta(hours=5))
    # When the dispatcher receives the schedule's event a day later
    dispatcher = load_handler_module("train", "dispatcher")
    event = _fixture("train_schedule_event.json")
    response = dispatcher.handler(event, training_context("dispatcher"))
    # Then one message for that tenant is on TrainQueue
    assert response["sent"] >= 1
    bodies = _drain_bodies(empty_train_queue)
    assert [body for body in bodies if body["tenant_id"] == stocked_tenant] == [
        {
            "tenant_id": stocked_tenant,
            "reason": "scheduled",
            "requested_at": "2026-11-02T02:00:00Z",
            "request_id": bodies[[b["tenant_id"] for b in bodies].index(stocked_tenant)]["request_id"],
        }
    ]


def _drain_bodies(queue_url: str) -> list[dict[str, Any]]:
    sqs = aws_client("sqs")
    bodies = []
    while True:
        messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", [])
        if not messages:
            return bodies
        for message in messages:
            bodies.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])


def test_worker_handler_trains_from_an_sqs_event(only_test_kinds: None, stocked_tenant: str) -> None:
    # Given Lambda's SQS event for an on-demand request
    event = _fixture("train_sqs_event.json")
    event["Records"][0]["body"] = event["Records"][0]["body"].replace("TENANT_ID", stocked_tenant)
    # When the worker handles it
    response = load_handler_module("train", "worker").handler(event, training_context("worker"))
    # Then no item failed and the tenant has a current model
    assert response == {"batchItemFailures": []}
    assert get_pointer(stocked_tenant, "popularity") is not None


def test_the_worker_prunes_a_kind_past_its_kept_versions(only_test_kinds: None, stocked_tenant: str) -> None:
    # Given a tenant whose kind already has KEEP_VERSIONS older versions in S3 (written before its first run)
    from luxebrain.serving.loader import ARTIFACT_FILE_NAMES, artifact_prefix
    from luxebrain.training.pipeline import KEEP_VERSIONS

    s3, bucket = aws_client("s3"), configured_settings().models_bucket
    older = [f"2020010{day}T000000Z-seeded{day}" for day in range(1, KEEP_VERSIONS + 1)]
    for version in older:
        for name in ARTIFACT_FILE_NAMES:
            s3.put_object(Bucket=bucket, Key=artifact_prefix(stocked_tenant, "popularity", version) + name, Body=b"-")
    event = _fixture("train_sqs_event.json")
    event["Records"][0]["body"] = event["Records"][0]["body"].replace("TENANT_ID", stocked_tenant)
    # When the worker handles a training request for it (its own role makes the S3 calls)
    response = load_handler_module("train", "worker").handler(event, training_context("worker"))
    # Then the new version serves, and the oldest one is gone with all its files: KEEP_VERSIONS remain
    assert response == {"batchItemFailures": []}
    current = get_pointer(stocked_tenant, "popularity").version
    parent = f"tenants/{stocked_tenant}/models/popularity/"
    # (keys, not CommonPrefixes: moto still lists prefixes whose objects are all delete markers)
    listed = s3.list_objects_v2(Bucket=bucket, Prefix=parent)["Contents"]
    kept = sorted({entry["Key"][len(parent) :].split("/")[0] for entry in listed})
    assert kept == [*older[1:], current]


def test_worker_reports_a_busy_tenant_and_a_malformed_message_as_failures(
    only_test_kinds: None, stocked_tenant: str
) -> None:
    # Given a batch: a trainable tenant, a tenant whose lease another run holds, and a malformed message
    busy_tenant = new_tenant_id()
    acquire_lease(busy_tenant, "someone-else", datetime.now(UTC), 600)
    record = _fixture("train_sqs_event.json")["Records"][0]
    good = dict(record, messageId="good-1", body=record["body"].replace("TENANT_ID", stocked_tenant))
    busy = dict(record, messageId="busy-1", body=record["body"].replace("TENANT_ID", busy_tenant))
    malformed = dict(record, messageId="malformed-1", body='{"tenant_id": "../../etc"}')
    worker = load_handler_module("train", "worker")
    # When the worker handles them
    response = worker.handler({"Records": [good, busy, malformed]}, training_context("worker"))
    # Then only the busy and malformed ones are reported for retry (then the dead-letter queue)
    assert {item["itemIdentifier"] for item in response["batchItemFailures"]} == {"busy-1", "malformed-1"}
    assert get_pointer(stocked_tenant, "popularity") is not None
    assert get_pointer(busy_tenant, "popularity") is None
    # and a batch in which every record fails fails as a whole (Lambda retries it)
    with pytest.raises(BatchProcessingError):
        worker.handler({"Records": [busy]}, training_context("worker"))


def test_a_message_that_keeps_failing_is_dead_lettered(
    only_test_kinds: None, stocked_tenant: str, empty_train_queue: str, local_aws: LocalResources
) -> None:
    # Given a tenant that stays leased by a stuck run, and a training request for it
    acquire_lease(stocked_tenant, "stuck-run", datetime.now(UTC), 3600)
    sqs = aws_client("sqs")
    body = json.dumps({"tenant_id": stocked_tenant, "reason": "on_demand", "requested_at": AS_OF.isoformat()})
    sqs.send_message(QueueUrl=empty_train_queue, MessageBody=body)
    dlq_url = _queue_url(local_aws, "TrainDeadLetterQueue")
    _drain_bodies(dlq_url)
    # When it is delivered more times than the queue's maxReceiveCount (3), each time failing
    for _ in range(3):
        drained = drain_train_queue()
        assert drained.failed == 1
        # (the visibility timeout of 960 s passing, without the wait)
        sqs.change_message_visibility(
            QueueUrl=empty_train_queue, ReceiptHandle=drained.failed_receipts[0], VisibilityTimeout=0
        )
    drain_train_queue()
    # Then it is in the dead-letter queue with its body intact, and the tenant's state is untouched
    dead = sqs.receive_message(QueueUrl=dlq_url, MaxNumberOfMessages=10).get("Messages", [])
    assert [json.loads(message["Body"])["tenant_id"] for message in dead] == [stocked_tenant]
    assert get_training_state(stocked_tenant).lease_owner == "stuck-run"


# ----------------------------------------------------------------------------- the API
@pytest.fixture(scope="module")
def client(local_aws: LocalResources) -> Iterator[TestClient]:
    with TestClient(api_app_module().app) as test_client:
        yield test_client


def test_api_history_models_and_rate_limited_retrain(
    client: TestClient, only_test_kinds: None, sample_store: Any, empty_train_queue: str
) -> None:
    # Given a merchant whose tenant has been trained once
    merchant = new_merchant()
    stock_tenant(merchant.tenant_id, sample_store)
    from luxebrain.training import train_tenant

    trained = train_tenant(
        merchant.tenant_id, now=AS_OF, files=models_bucket(), training=TRAINING, sources=SOURCES
    ).kinds[0]
    # When it reads its run history and serving versions
    runs = client.get("/training/runs", headers=merchant.headers)
    models = client.get("/training/models", headers=merchant.headers)
    # Then it sees its run and which version serves
    assert runs.status_code == 200, runs.text
    assert [(run["kind"], run["status"], run["version"]) for run in runs.json()["runs"]] == [
        ("popularity", "succeeded", trained.version)
    ]
    assert models.status_code == 200 and {m["kind"] for m in models.json()["models"]} >= {"recommend", "customers"}
    # When it asks for a retrain twice in a row
    first = client.post("/training/runs", headers=merchant.headers)
    second = client.post("/training/runs", headers=merchant.headers)
    # Then the first is queued for its own tenant, the second is refused with Retry-After
    assert first.status_code == 202, first.text
    queued = _drain_bodies(empty_train_queue)
    assert [(body["tenant_id"], body["reason"]) for body in queued] == [(merchant.tenant_id, "on_demand")]
    assert second.status_code == 429 and int(second.headers["Retry-After"]) > 0
    # and a bad filter is a clear 4xx, not a 500
    assert client.get("/training/runs?kind=Bad Kind", headers=merchant.headers).status_code == 422
    assert client.get("/training/runs").status_code == 401


def test_api_handler_imports_no_pandas_or_scikit_learn() -> None:
    # Given a fresh interpreter, when the API handler and the serving path are imported
    code = (
        "import sys; sys.path.insert(0, 'functions');"
        "import api.app, api.routers.training, luxebrain.serving.loader, luxebrain.training;"
        "print([m for m in ('pandas', 'sklearn', 'scipy') if m in sys.modules])"
    )
    output = subprocess.run(  # noqa: S603 (our interpreter, a fixed command)
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True, timeout=120
    )
    # Then none of the ML layer's packages was loaded
    assert output.stdout.strip() == "[]", output.stderr


def test_sqs_event_shape_matches_the_fixture() -> None:
    # The local drain builds the same record shape Lambda delivers (the fixture is a real-shaped event).
    built = sqs_event(
        [{"MessageId": "m", "ReceiptHandle": "r", "Body": "{}", "Attributes": {"ApproximateReceiveCount": "2"}}],
        "arn:aws:sqs:us-east-1:123456789012:q",
    )["Records"][0]
    assert set(built) == set(_fixture("train_sqs_event.json")["Records"][0])
    assert built["attributes"]["ApproximateReceiveCount"] == "2"


def test_settings_give_the_worker_what_it_needs(local_aws: LocalResources) -> None:
    settings = configured_settings()
    assert settings.train_queue_url == _queue_url(local_aws, "TrainQueue")
    assert settings.training_lease_seconds < 960  # the queue's visibility timeout: a dead lease expires first

"""The scheduled training path run locally, through the real handlers: schedule event → dispatcher handler →
TrainQueue → worker handler (the queue drained as Lambda's SQS event source would) → S3 → current pointer.

Used by the demo and the integration tests against the embedded AWS. Nothing here is a shortcut: messages are
really sent, received, handed to the worker as an SQS event, and deleted only when the handler did not report
them as failed.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError

from luxebrain.runtime import aws_client, configured_settings
from luxebrain.storage.training import training_repository
from luxebrain.training.pipeline import TrainingReport, report_from_records
from luxebrain_dev.local.functions import LocalLambdaContext as FunctionContext
from luxebrain_dev.local.functions import import_handler

logger = logging.getLogger(__name__)

TRAIN_CODE_URI = "../functions/train/"  # the folder the template builds both training functions from


# The template's functions built from functions/train/ (the worker is the container-image function).
TRAINING_FUNCTIONS = {"dispatcher": "TrainDispatcherFunction", "worker": "TrainWorkerFunction"}


def load_handler_module(area: str, name: str) -> SimpleNamespace:
    """``functions/<area>/<name>.py``'s handler, imported as the local runtime imports every handler and
    run as its template function (its role authorizes its AWS calls)."""
    logical_id = TRAINING_FUNCTIONS[name] if area == "train" else f"{area}-{name}"
    return SimpleNamespace(handler=import_handler(f"../functions/{area}/", f"{name}.handler", logical_id))


def training_context(function_name: str) -> FunctionContext:
    """A Lambda context for the training functions (15-minute timeout, 3 GB as in the template)."""
    return FunctionContext(function_name, 900, 3008)


def schedule_event(now: datetime) -> dict[str, Any]:
    """The Input the template's schedule sends (with <aws.scheduler.scheduled-time> filled in)."""
    return {"source": "luxebrain.schedule", "scheduled_time": now.astimezone(UTC).isoformat()}


def sqs_event(messages: list[dict[str, Any]], queue_arn: str) -> dict[str, Any]:
    """Lambda's SQS event for received messages (the shape BatchProcessor parses)."""
    return {
        "Records": [
            {
                "messageId": message["MessageId"],
                "receiptHandle": message["ReceiptHandle"],
                "body": message["Body"],
                "attributes": {
                    "ApproximateReceiveCount": message.get("Attributes", {}).get("ApproximateReceiveCount", "1"),
                    "SentTimestamp": message.get("Attributes", {}).get("SentTimestamp", "0"),
                    "SenderId": "local",
                    "ApproximateFirstReceiveTimestamp": "0",
                },
                "messageAttributes": {},
                "md5OfBody": message.get("MD5OfBody", ""),
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": "us-east-1",
            }
            for message in messages
        ]
    }


@dataclass
class DrainResult:
    tenant_ids: list[str] = field(default_factory=list)  # of every delivered message, in order
    responses: list[dict[str, Any]] = field(default_factory=list)  # the handler's answer per batch
    failed_receipts: list[str] = field(default_factory=list)  # of messages left for redelivery

    @property
    def failed(self) -> int:
        return len(self.failed_receipts)


def drain_train_queue(*, batch_size: int = 1, max_batches: int = 1000) -> DrainResult:
    """Deliver TrainQueue's messages to the worker handler until none is visible. Messages the handler reports
    as failed stay on the queue (redelivered after the visibility timeout, then dead-lettered)."""
    worker = load_handler_module("train", "worker")
    sqs = aws_client("sqs")
    queue_url = configured_settings().require("train_queue_url")
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    result = DrainResult()
    for _ in range(max_batches):
        received = sqs.receive_message(
            QueueUrl=queue_url, MaxNumberOfMessages=batch_size, AttributeNames=["All"], WaitTimeSeconds=0
        ).get("Messages", [])
        if not received:
            break
        result.tenant_ids.extend(_tenant_of(message["Body"]) for message in received)
        try:
            response = worker.handler(sqs_event(received, queue_arn), training_context("luxebrain-train-worker"))
        except BatchProcessingError:  # every record failed: Lambda fails the invocation, all are retried
            response = {"batchItemFailures": [{"itemIdentifier": message["MessageId"]} for message in received]}
        failed = {item["itemIdentifier"] for item in response.get("batchItemFailures", [])}
        for message in received:
            if message["MessageId"] in failed:
                result.failed_receipts.append(message["ReceiptHandle"])
            else:
                sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
        result.responses.append(response)
    return result


class TrainQueuePoller:
    """The worker's event source mapping (``TrainWorkerQueueMapping``) for a long-running local stack: TrainQueue
    drained in the background, so an on-demand retrain (``POST /training/runs``) is trained as on AWS. The
    container-image worker has no ``Events`` of its own, so the SQS pollers of ``SqsEventSources`` skip it."""

    def __init__(self, poll_seconds: float = 2.0) -> None:
        self.poll_seconds = poll_seconds
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        def run() -> None:
            while not self._stop.wait(self.poll_seconds):
                try:
                    drain_train_queue()
                except Exception:  # a failed round is retried at the next poll, as Lambda's poller would
                    logger.exception("local TrainQueue poll failed")

        self._thread = threading.Thread(target=run, name="train-queue", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)


def _tenant_of(body: str) -> str:
    try:
        return str(json.loads(body).get("tenant_id", ""))
    except (ValueError, AttributeError):
        return ""


@dataclass
class ScheduledTrainingReport:
    """What one scheduled round did: the dispatcher's answer and each trained tenant's report."""

    dispatch: dict[str, Any]
    reports: list[TrainingReport]

    def report_for(self, tenant_id: str) -> TrainingReport | None:
        return next((report for report in self.reports if report.tenant_id == tenant_id), None)

    def summary(self) -> str:
        lines = [
            f"Scheduled training: {self.dispatch.get('considered', 0)} tenant(s) considered, "
            f"{self.dispatch.get('due', 0)} due, {self.dispatch.get('sent', 0)} message(s) sent"
        ]
        lines.extend(report.summary() for report in self.reports)
        return "\n".join(lines)


def run_scheduled_training(
    now: datetime | None = None, *, progress: Callable[[str], None] | None = None
) -> ScheduledTrainingReport:
    """One scheduled round on the configured (embedded) AWS, through the dispatcher and worker handlers."""
    say = progress or (lambda _: None)
    now = (now or datetime.now(UTC)).astimezone(UTC)
    dispatcher = load_handler_module("train", "dispatcher")
    say("Schedule fired: invoking the training dispatcher ...")
    dispatch = dispatcher.handler(schedule_event(now), training_context("luxebrain-train-dispatcher"))
    say(f"  {dispatch['due']} tenant(s) due, {dispatch['sent']} message(s) on TrainQueue")
    say("Draining TrainQueue into the training worker ...")
    delivered = drain_train_queue()
    reports = []
    records = training_repository()
    for tenant_id in dict.fromkeys(tenant for tenant in delivered.tenant_ids if tenant):
        training = records.get_training_state(tenant_id)
        if training is not None and training.last_run_id:
            report = report_from_records(
                tenant_id, training.last_run_id, training=records, started_at=training.last_trained_at
            )
            if report is not None:
                reports.append(report)
    return ScheduledTrainingReport(dispatch=dispatch, reports=reports)

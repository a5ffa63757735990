"""Local SQS event sources: what Lambda's event source mappings do, for the template's SQS events.

For each function with an ``SQS`` event: receive up to BatchSize messages from the queue on the embedded
AWS, invoke the handler with an SQS event, delete the messages it did not report in ``batchItemFailures``
(all of them when it raised, none deleted), and leave the failed ones to come back after the visibility
timeout, so the queue's redrive policy moves poison messages to the dead-letter queue as in AWS.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

from luxebrain.observability import logger
from luxebrain.runtime import aws_client
from luxebrain_dev.infra_template import load_template
from luxebrain_dev.local.embedded import LOCAL_REGION
from luxebrain_dev.local.functions import LocalFunction, load_functions


@dataclass
class SqsMapping:
    function: LocalFunction
    queue_logical_id: str
    queue_url: str
    queue_arn: str
    batch_size: int
    report_batch_item_failures: bool


@dataclass
class DrainStats:
    invocations: int = 0
    received: int = 0
    deleted: int = 0
    failed: int = 0
    handler_errors: int = 0
    per_function: dict[str, int] = field(default_factory=dict)

    def add(self, other: DrainStats) -> None:
        self.invocations += other.invocations
        self.received += other.received
        self.deleted += other.deleted
        self.failed += other.failed
        self.handler_errors += other.handler_errors
        for name, count in other.per_function.items():
            self.per_function[name] = self.per_function.get(name, 0) + count


def _queue_logical_id(queue: Any) -> str | None:
    if isinstance(queue, dict):
        if "Fn::GetAtt" in queue:
            target = queue["Fn::GetAtt"]
            return target[0] if isinstance(target, list) else str(target).split(".")[0]
        if "Ref" in queue:
            return str(queue["Ref"])
    return None


class SqsEventSources:
    """``drain()`` for scripts and tests, ``start()`` / ``stop()`` for a background poller."""

    def __init__(
        self,
        queue_urls: dict[str, str],
        *,
        template: dict[str, Any] | None = None,
        functions: set[str] | None = None,
        retry_after_seconds: int | None = None,
    ) -> None:
        """``queue_urls``: queue logical id → URL (``LocalResources`` has them: see :meth:`from_resources`).
        ``retry_after_seconds``: when set, a failed message becomes visible again after this many seconds
        instead of the queue's visibility timeout (a local speed-up; Lambda leaves the timeout as is)."""
        template = template or load_template()
        self.retry_after_seconds = retry_after_seconds
        self.mappings: list[SqsMapping] = []
        sqs = aws_client("sqs")
        for function in load_functions(template).values():
            if functions is not None and function.logical_id not in functions:
                continue
            for event in function.events.values():
                if event.get("Type") != "SQS":
                    continue
                properties = event.get("Properties") or {}
                if properties.get("Enabled") is False:
                    continue
                logical_id = _queue_logical_id(properties.get("Queue"))
                if logical_id is None or logical_id not in queue_urls:
                    continue
                url = queue_urls[logical_id]
                arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
                self.mappings.append(
                    SqsMapping(
                        function=function,
                        queue_logical_id=logical_id,
                        queue_url=url,
                        queue_arn=arn,
                        batch_size=min(int(properties.get("BatchSize", 10)), 10),
                        report_batch_item_failures="ReportBatchItemFailures"
                        in (properties.get("FunctionResponseTypes") or []),
                    )
                )
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.stats = DrainStats()

    @classmethod
    def from_resources(cls, resources: Any, **kwargs: Any) -> SqsEventSources:
        """From the embedded AWS's ``LocalResources`` (its SQS queues' physical ids are their URLs)."""
        urls = {r.logical_id: r.physical_id for r in resources.created if r.resource_type == "AWS::SQS::Queue"}
        return cls(urls, **kwargs)

    # ------------------------------------------------------------------ polling
    def poll_once(self) -> DrainStats:
        """One receive per mapping, and the invocation of its function with what came back."""
        stats = DrainStats()
        for mapping in self.mappings:
            stats.add(self._poll(mapping))
        self.stats.add(stats)
        return stats

    def drain(self, *, until_empty: bool = True, max_seconds: float = 60.0) -> DrainStats:
        """Poll until every mapped queue is empty (nothing visible, nothing in flight) or time runs out."""
        deadline = time.monotonic() + max_seconds
        total = DrainStats()
        while time.monotonic() < deadline:
            stats = self.poll_once()
            total.add(stats)
            if stats.received == 0:
                if not until_empty or self._all_empty():
                    break
                time.sleep(0.2)  # failed messages are waiting for their visibility timeout
        return total

    def start(self, poll_interval: float = 0.25) -> None:
        if self._thread is not None:
            return
        self._stop.clear()

        def run() -> None:
            while not self._stop.is_set():
                try:
                    received = self.poll_once().received
                except Exception:
                    logger.exception("local event source poll failed")
                    received = 0
                if received == 0:
                    self._stop.wait(poll_interval)

        self._thread = threading.Thread(target=run, name="local-sqs-event-sources", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None

    # ------------------------------------------------------------------ one mapping
    def _all_empty(self) -> bool:
        sqs = aws_client("sqs")
        for mapping in self.mappings:
            attributes = sqs.get_queue_attributes(
                QueueUrl=mapping.queue_url,
                AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
            )["Attributes"]
            if int(attributes["ApproximateNumberOfMessages"]) or int(
                attributes["ApproximateNumberOfMessagesNotVisible"]
            ):
                return False
        return True

    def _poll(self, mapping: SqsMapping) -> DrainStats:
        stats = DrainStats()
        sqs = aws_client("sqs")
        messages = sqs.receive_message(
            QueueUrl=mapping.queue_url,
            MaxNumberOfMessages=mapping.batch_size,
            MessageSystemAttributeNames=["All"],
            MessageAttributeNames=["All"],
            WaitTimeSeconds=0,
        ).get("Messages", [])
        if not messages:
            return stats
        stats.received = len(messages)
        stats.invocations = 1
        stats.per_function[mapping.function.logical_id] = len(messages)
        event = {"Records": [self._record(mapping, message) for message in messages]}
        failed_ids: set[str]
        try:
            result = mapping.function.invoke(event)
            failed_ids = self._failed_ids(mapping, result, messages)
        except Exception:
            logger.exception("local SQS-triggered function failed", extra={"function": mapping.function.logical_id})
            stats.handler_errors = 1
            failed_ids = {message["MessageId"] for message in messages}
        done = [m for m in messages if m["MessageId"] not in failed_ids]
        for start in range(0, len(done), 10):
            chunk = done[start : start + 10]
            sqs.delete_message_batch(
                QueueUrl=mapping.queue_url,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(chunk)],
            )
        stats.deleted = len(done)
        stats.failed = len(failed_ids)
        if failed_ids and self.retry_after_seconds is not None:
            for message in messages:
                if message["MessageId"] in failed_ids:
                    sqs.change_message_visibility(
                        QueueUrl=mapping.queue_url,
                        ReceiptHandle=message["ReceiptHandle"],
                        VisibilityTimeout=self.retry_after_seconds,
                    )
        return stats

    @staticmethod
    def _failed_ids(mapping: SqsMapping, result: Any, messages: list[dict[str, Any]]) -> set[str]:
        if not mapping.report_batch_item_failures or not isinstance(result, dict):
            return set()
        failures = result.get("batchItemFailures") or []
        known = {message["MessageId"] for message in messages}
        failed = {str(f.get("itemIdentifier")) for f in failures if isinstance(f, dict)}
        if failed - known:  # Lambda treats an unknown / empty identifier as the whole batch failing
            return known
        return failed

    @staticmethod
    def _record(mapping: SqsMapping, message: dict[str, Any]) -> dict[str, Any]:
        return {
            "messageId": message["MessageId"],
            "receiptHandle": message["ReceiptHandle"],
            "body": message["Body"],
            "attributes": dict(message.get("Attributes", {})),
            "messageAttributes": {
                name: {
                    "stringValue": value.get("StringValue"),
                    "binaryValue": value.get("BinaryValue"),
                    "stringListValues": [],
                    "binaryListValues": [],
                    "dataType": value.get("DataType"),
                }
                for name, value in message.get("MessageAttributes", {}).items()
            },
            "md5OfBody": message.get("MD5OfBody"),
            "eventSource": "aws:sqs",
            "eventSourceARN": mapping.queue_arn,
            "awsRegion": LOCAL_REGION,
        }

"""Ingest benchmark: processor throughput and DynamoDB writes per event, receiver latency, back-fill speed and
memory, each against a baseline measured in the same run on the same embedded AWS (moto over HTTP).

Run: ``.venv/bin/python -m benchmarks.ingest [--quick]`` (a few minutes on 2 cores; ``--quick``: ~1 minute).

- Processor: the real handler (Powertools batch processing, pydantic validation, mapping, conditional
  writes) fed SQS batches of 10 built from the sample store (products, variations, customers, orders with
  1-3 lines, plus an order with 60 lines), one worker. Baseline: a plain boto3 ``PutItem`` per event
  (the cost floor of one write on this moto). DynamoDB write requests are counted on the wire (botocore
  ``before-call`` events on pynamodb's client), per event and per order by number of lines.
- Receiver: p50 / p99 of ``handler(event, context)`` in process (signature, KMS-decrypted secret from the
  per-container cache, one SQS SendMessage), as a ratio to (a) a handler that only returns 200 and (b) the
  same Powertools decorators around a handler that only returns 200.
- Back-fill: orders / second from the fake WooCommerce REST server, and the peak Python memory of the
  back-fill (tracemalloc) at 1x and 10x the store. The fake store and moto run in a child process, so their
  memory (which grows with the data, as a real database's would) is not counted.
Outputs ``benchmarks/out/ingest.json``.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "benchmarks" / "out"

os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "LuxeBrainBenchmark")
os.environ.setdefault("AWS_ACCESS_KEY_ID", "benchmark")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "benchmark")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


# ----------------------------------------------------------------------------- write counting
class WriteCounter:
    """Counts DynamoDB write requests sent by pynamodb (on the wire, not in our code)."""

    WRITES = ("PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems")

    def __init__(self) -> None:
        self.count = 0
        from luxebrain.storage.items import ENTITY_CLASSES

        clients = {
            id(model._get_connection().connection.client): model._get_connection().connection.client
            for model in ENTITY_CLASSES
        }
        for client in clients.values():  # each pynamodb model has a connection (and botocore client) of its own
            for operation in self.WRITES:
                client.meta.events.register(f"before-call.dynamodb.{operation}", self._count)

    def _count(self, **_: Any) -> None:
        self.count += 1


def sqs_batch(envelopes: list[Any]) -> dict[str, Any]:
    return {
        "Records": [
            {
                "messageId": f"m-{index}-{time.perf_counter_ns()}",
                "receiptHandle": "r",
                "body": envelope.model_dump_json(),
                "attributes": {"ApproximateReceiveCount": "1", "MessageGroupId": f"g{index}", "SentTimestamp": "0"},
                "messageAttributes": {},
                "md5OfBody": "",
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:ingest.fifo",
                "awsRegion": "us-east-1",
            }
            for index, envelope in enumerate(envelopes)
        ]
    }


def bench_processor(store: Any, tenant_id: str) -> dict[str, Any]:
    from luxebrain.ingest.envelope import IngestEnvelope, utc_now_iso
    from luxebrain.runtime import aws_client, configured_settings
    from luxebrain.storage.tenants import create_tenant
    from luxebrain_dev.delivery import wp_json_encode
    from luxebrain_dev.local.functions import LocalLambdaContext, import_handler

    handler = import_handler("../functions/ingest/", "processor.handler", "IngestProcessorFunction")
    settings = configured_settings()

    def envelope(topic: str, payload: dict[str, Any]) -> IngestEnvelope:
        resource, _, event = topic.partition(".")
        return IngestEnvelope(
            tenant_id=tenant_id,
            store_id="s-bench",
            resource=resource,
            event=event,
            topic=topic,
            body=wp_json_encode(payload).decode(),
            received_at=utc_now_iso(),
        )

    events = [envelope("product.updated", p) for p in (*store.products, *store.variations)]
    events += [envelope("customer.updated", c) for c in store.customers if c["id"]]
    orders = [envelope("order.updated", o) for o in store.orders]
    big = dict(store.orders[-1], id=999_999)
    big["line_items"] = [dict(big["line_items"][0], id=i + 1) for i in range(60)]
    events += [*orders, envelope("order.updated", big)]
    counter = WriteCounter()
    # Baseline: one plain PutItem per event, same moto, same connection reuse.
    dynamodb = aws_client("dynamodb")
    baseline_n = min(len(events), 600)
    started = time.perf_counter()
    for index in range(baseline_n):
        dynamodb.put_item(
            TableName=settings.table_name,
            Item={
                "pk": {"S": f"TENANT#{tenant_id}#BASELINE"},
                "sk": {"S": str(index)},
                "body": {"S": events[index].body},
            },
        )
    baseline_rate = baseline_n / (time.perf_counter() - started)
    # The processor, batches of 10 as the event source mapping delivers them.
    writes_by_lines: dict[int, list[int]] = {}
    counter.count = 0
    started = time.perf_counter()
    for start in range(0, len(events), 10):
        batch = events[start : start + 10]
        before = counter.count
        result = handler(sqs_batch(batch), LocalLambdaContext("IngestProcessorFunction", 30, 512))
        assert result == {"batchItemFailures": []}, result
        if len(batch) == 1 or all(e.resource == "order" for e in batch):
            per_event = (counter.count - before) / len(batch)
            for item in batch:
                lines = len(json.loads(item.body)["line_items"])
                writes_by_lines.setdefault(min(lines, 60), []).append(per_event)
    elapsed = time.perf_counter() - started
    total_writes = counter.count
    # Orders one at a time, to attribute writes exactly per order (registered vs guest, by line count).
    exact: dict[str, list[int]] = {}
    second_tenant = create_tenant("Bench exact", tenant_id=tenant_id[:-1] + "z").tenant_id  # metered: must exist
    for item in [*orders[:150], envelope("order.updated", big)]:
        fresh = item.model_copy(update={"tenant_id": second_tenant})  # a second tenant: first writes
        before = counter.count
        handler(sqs_batch([fresh]), LocalLambdaContext("IngestProcessorFunction", 30, 512))
        payload = json.loads(item.body)
        key = f"{'guest' if not payload['customer_id'] else 'registered'}, {len(payload['line_items'])} lines"
        exact.setdefault(key, []).append(counter.count - before)
    # Duplicates: the same events again write nothing new (conditional writes that fail still count as requests).
    counter.count = 0
    replay = orders[:200]
    for start in range(0, len(replay), 10):
        handler(sqs_batch(replay[start : start + 10]), LocalLambdaContext("IngestProcessorFunction", 30, 512))
    return {
        "events": len(events),
        "events_per_second": round(len(events) / elapsed, 1),
        "baseline_plain_putitem_per_second": round(baseline_rate, 1),
        "ratio_to_plain_putitem": round((len(events) / elapsed) / baseline_rate, 2),
        "dynamodb_write_requests_per_event": round(total_writes / len(events), 3),
        "write_requests_per_order_exact": {k: max(v) for k, v in sorted(exact.items())},
        "write_requests_per_duplicate_order": round(counter.count / len(replay), 3),
    }


def bench_receiver(tenant_id: str, requests: int) -> dict[str, Any]:
    from luxebrain.adapters.aws import secrets_vault
    from luxebrain.observability import logger, metrics, tracer
    from luxebrain.storage import tenants as tenant_repo
    from luxebrain.woocommerce.signature import compute_signature
    from luxebrain_dev.delivery import wp_json_encode
    from luxebrain_dev.local.functions import LocalLambdaContext, import_handler
    from luxebrain_dev.sample_store import generate_sample_store

    store, secrets = tenant_repo.create_store(
        tenant_id, url="https://bench.example", consumer_key="ck", consumer_secret="cs", vault=secrets_vault()
    )
    handler = import_handler("../functions/ingest/", "receiver.handler", "IngestReceiverFunction")
    orders = generate_sample_store(products=20, customers=200, years=1, seed=5).orders
    fixture = json.loads((REPO / "tests" / "fixtures" / "woocommerce" / "webhook_event.json").read_text())

    def event(order: dict[str, Any]) -> dict[str, Any]:
        body = wp_json_encode(order)
        copy = json.loads(json.dumps(fixture))
        copy["pathParameters"] = {"tenant_id": tenant_id, "store_id": store.store_id}
        copy["headers"]["x-wc-webhook-signature"] = compute_signature(body, secrets.webhook_secret.get_secret_value())
        copy["body"] = body.decode()
        return copy

    def bare(event: dict[str, Any], context: Any) -> dict[str, Any]:
        return {"statusCode": 200, "body": ""}

    @logger.inject_lambda_context
    @metrics.log_metrics
    @tracer.capture_lambda_handler
    def decorated(event: dict[str, Any], context: Any) -> dict[str, Any]:
        return {"statusCode": 200, "body": ""}

    from luxebrain.runtime import aws_client, configured_settings

    queue_url = configured_settings().require("ingest_queue_url")

    def sqs_send_only(event: dict[str, Any], context: Any) -> dict[str, Any]:
        """The floor of enqueueing on this moto: one SendMessage of the body, nothing else."""
        body = event["body"]
        aws_client("sqs").send_message(
            QueueUrl=queue_url,
            MessageBody=body,
            MessageGroupId="bench",
            MessageDeduplicationId=str(time.perf_counter_ns()),
        )
        return {"statusCode": 200, "body": ""}

    events = [event(orders[i % len(orders)] | {"id": 500_000 + i}) for i in range(requests)]
    timings: dict[str, list[float]] = {"receiver": [], "bare_200": [], "decorated_200": [], "sqs_send_only": []}
    functions = (
        ("bare_200", bare),
        ("decorated_200", decorated),
        ("sqs_send_only", sqs_send_only),
        ("receiver", handler),
    )
    for _, function in functions:
        function(events[0], LocalLambdaContext("warm", 10, 256))  # warm: imports, KMS-decrypted secret cached
    # Interleaved, so the queue's growth (moto's FIFO costs O(queue length) per call) and the machine's load
    # weigh on the receiver and its baselines alike.
    for item in events:
        for name, function in functions:
            context = LocalLambdaContext("IngestReceiverFunction", 10, 256)
            started = time.perf_counter()
            response = function(item, context)
            timings[name].append(time.perf_counter() - started)
            assert response["statusCode"] == 200
    result: dict[str, Any] = {"requests": requests}
    quantiles = {"p50": 0.5, "p99": 0.99}
    for name, values in timings.items():
        for q, level in quantiles.items():
            result[f"{name}_{q}_ms"] = round(percentile(values, level) * 1000, 4)
    for baseline in ("bare_200", "decorated_200", "sqs_send_only"):
        for q, level in quantiles.items():
            ratio = percentile(timings["receiver"], level) / percentile(timings[baseline], level)
            result[f"ratio_{q}_to_{baseline}"] = round(ratio, 1)
    return result


# ----------------------------------------------------------------------------- back-fill (child process serves)
def serve(customers: int) -> None:
    """Child process: embedded AWS + fake WooCommerce with a sample store; prints where, waits for stdin."""
    from luxebrain_dev.local.embedded import EmbeddedAws
    from luxebrain_dev.local.fake_woocommerce import FakeWooCommerce
    from luxebrain_dev.sample_store import generate_sample_store

    aws = EmbeddedAws()
    resources = aws.start()
    store = generate_sample_store(products=max(20, customers // 12), customers=customers, years=2, seed=7)
    fake = FakeWooCommerce(store)
    fake.start()
    print(
        json.dumps(
            {
                "env": {**resources.environment, "AWS_ENDPOINT_URL": resources.endpoint_url},
                "url": fake.url,
                "counts": store.counts(),
            }
        ),
        flush=True,
    )
    sys.stdin.read()
    fake.stop()
    aws.stop()


def bench_backfill(customers: int) -> dict[str, Any]:
    child = subprocess.Popen(
        [sys.executable, "-m", "benchmarks.ingest", "--serve", str(customers)],
        cwd=REPO,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        line = child.stdout.readline() if child.stdout else ""
        info = json.loads(line)
        os.environ.update(info["env"])
        from luxebrain.adapters.aws import models_bucket
        from luxebrain.billing.usage import plan_usage
        from luxebrain.ingest.backfill import backfill_store
        from luxebrain.runtime import reset_runtime
        from luxebrain.storage import tenants as tenant_repo
        from luxebrain.storage.ingest import ingest_repository
        from luxebrain.storage.storefront import storefront_repository
        from luxebrain.storage.training import training_repository
        from luxebrain.woocommerce.client import WooCommerceClient

        reset_runtime()
        tenant_id = tenant_repo.create_tenant("Bench").tenant_id
        factory = lambda t, s: WooCommerceClient(info["url"], "ck_local", "cs_local")  # noqa: E731
        from luxebrain.storage.items import ENTITY_CLASSES

        for (
            model
        ) in ENTITY_CLASSES:  # botocore clients (one per pynamodb model) are a fixed cost: made before measuring
            model._get_connection().connection.client  # noqa: B018
        tracemalloc.start()
        tracemalloc.reset_peak()
        base, _ = tracemalloc.get_traced_memory()
        started = time.perf_counter()
        report = backfill_store(
            tenant_id,
            "s-bench",
            factory,
            files=models_bucket(),
            records=ingest_repository(),
            usage=plan_usage(),
            training=training_repository(),
            storefront=storefront_repository(),
        )
        elapsed = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        assert report.done
        orders = report.per_resource.get("orders", 0)
        return {
            "store": info["counts"],
            "records": report.items,
            "seconds": round(elapsed, 1),
            "records_per_second": round(report.items / elapsed, 1),
            "orders": orders,
            "peak_python_memory_mb": round((peak - base) / 1e6, 2),
            "requests": report.requests,
        }
    finally:
        if child.stdin:
            child.stdin.close()
        child.wait(timeout=60)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve)
        return
    small = 60 if args.quick else 300
    results: dict[str, Any] = {}
    # Back-fill first: it runs against its own child-process AWS, and sets this process's environment.
    results["backfill_1x"] = bench_backfill(small)
    results["backfill_10x"] = bench_backfill(small * 10)
    results["backfill_memory_ratio_10x_to_1x"] = round(
        results["backfill_10x"]["peak_python_memory_mb"] / max(results["backfill_1x"]["peak_python_memory_mb"], 1e-6), 2
    )
    from luxebrain.storage import tenants as tenant_repo
    from luxebrain_dev.local.embedded import EmbeddedAws
    from luxebrain_dev.sample_store import generate_sample_store

    # Powertools prints its metrics (EMF) to stdout every 100 values; that is not what is measured here.
    with EmbeddedAws(), contextlib.redirect_stdout(io.StringIO()):
        tenant_id = tenant_repo.create_tenant("Bench processor").tenant_id
        store = generate_sample_store(products=30, customers=small, years=2, seed=9)
        results["processor"] = bench_processor(store, tenant_id)
        results["receiver"] = bench_receiver(tenant_id, 200 if args.quick else 500)
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "ingest.json").write_text(json.dumps(results, indent=2))
    p, r = results["processor"], results["receiver"]
    print("\nIngest benchmark (moto over HTTP, one worker; baselines measured in the same run)")
    print(
        f"processor   {p['events_per_second']} events/s = {p['ratio_to_plain_putitem']}x a plain PutItem per event"
        f" ({p['baseline_plain_putitem_per_second']}/s)"
    )
    print(f"            {p['dynamodb_write_requests_per_event']} DynamoDB write requests per event")
    print(f"            per order: {p['write_requests_per_order_exact']}")
    print(f"            per duplicate order: {p['write_requests_per_duplicate_order']} (conditional, rejected)")
    print(
        f"receiver    p50 {r['receiver_p50_ms']} ms = {r['ratio_p50_to_bare_200']}x bare 200,"
        f" {r['ratio_p50_to_decorated_200']}x decorated 200"
    )
    print(
        f"            p99 {r['receiver_p99_ms']} ms = {r['ratio_p99_to_bare_200']}x bare 200,"
        f" {r['ratio_p99_to_decorated_200']}x decorated 200"
    )
    print(
        f"            vs one plain SQS SendMessage: p50 {r['ratio_p50_to_sqs_send_only']}x,"
        f" p99 {r['ratio_p99_to_sqs_send_only']}x ({r['sqs_send_only_p50_ms']} / {r['sqs_send_only_p99_ms']} ms)"
    )
    for key in ("backfill_1x", "backfill_10x"):
        b = results[key]
        print(
            f"{key:<12}{b['records_per_second']} records/s ({b['orders']} orders, {b['records']} records,"
            f" {b['seconds']} s); peak Python memory {b['peak_python_memory_mb']} MB"
        )
    print(f"back-fill memory 10x / 1x: {results['backfill_memory_ratio_10x_to_1x']}")


if __name__ == "__main__":
    main()

"""Storefront events benchmark: throughput of ``POST /events`` against the bare ``GET /health`` route, both
through the real Lambda entry point in the same run, on the embedded AWS (moto's DynamoDB over HTTP).

Run: ``.venv/bin/python -m benchmarks.storefront [--requests N] [--events-per-batch K]`` (stdout to a file or
/dev/null: the request log is as deployed). Each events request is one beacon of K new events (impressions and
clicks on two placements). "New visitors": each beacon from a new visitor and address, so every request pays
the full write path: the client's and the visitor's rates, the replay lookup (one BatchGetItem), the key's
rate and the monthly events quota, one conditional put per event, the first-exposure put and one counter
update per placement. "Returning visitors": four beacons per visitor and address (four page views), as a
shop's traffic is. The DynamoDB requests each events run made are counted by operation (per batch).

``--round-trip-ms R`` adds R ms of waiting to every AWS request, as the network round trip to DynamoDB from
Lambda is (a few ms): the embedded AWS answers from this process, so without it a request costs only CPU and
what overlaps round trips cannot show. Outputs ``benchmarks/out/storefront.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from benchmarks.api import Context, v2_event

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "benchmarks" / "out"


def throughput(handler: Any, make_event: Any, requests: int, expected: int) -> dict[str, Any]:
    from api_testkit import counted_aws_requests

    handler(make_event(0), Context())  # warms this route's caches; discarded
    with counted_aws_requests() as counts:
        started = time.perf_counter()
        for number in range(1, requests + 1):
            response = handler(make_event(number), Context())
            if response["statusCode"] != expected:
                raise SystemExit(f"answered {response['statusCode']}: {response['body'][:300]}")
        seconds = time.perf_counter() - started
    return {
        "requests": requests,
        "seconds": seconds,
        "requests_per_second": requests / seconds,
        "aws_requests_per_request": sum(counts.values()) / requests,
        "aws_requests_by_operation": {name: count / requests for name, count in sorted(counts.items())},
    }


@contextmanager
def round_trips(milliseconds: float) -> Iterator[None]:
    """Every AWS request waits ``milliseconds`` first (the network's share of a real call; the thread sleeps,
    as it waits on a socket)."""
    import botocore.client

    original = botocore.client.BaseClient._make_api_call

    def delayed(client: Any, operation: str, params: Any) -> Any:
        time.sleep(milliseconds / 1000)
        return original(client, operation, params)

    if milliseconds > 0:
        botocore.client.BaseClient._make_api_call = delayed
    try:
        yield
    finally:
        botocore.client.BaseClient._make_api_call = original


def run(requests: int, events_per_batch: int, round_trip_ms: float = 0.0) -> dict[str, Any]:
    sys.path.insert(0, str(REPO / "tests" / "integration"))
    from api_testkit import api_app_module, publish_artifact, small_order_lines

    from luxebrain.adapters.aws import secrets_vault
    from luxebrain.auth.storefront import issue_storefront_key
    from luxebrain.ml.recommend.train import train_recommender
    from luxebrain.storage import tenants as tenant_repo
    from luxebrain.storage.items.catalogue import ProductItem, key_product
    from luxebrain.storage.members import member_repository
    from luxebrain_dev.local.embedded import EmbeddedAws

    aws = EmbeddedAws()
    aws.start()
    try:
        tenant_id = tenant_repo.create_tenant("Maison Benchmark", plan="pro").tenant_id
        origin = "https://shop.benchmark.example"
        tenant_repo.create_store(
            tenant_id, url=origin, consumer_key="ck_b", consumer_secret="cs_b", vault=secrets_vault()
        )
        products = [str(100 + i) for i in range(20)]
        for product_id in products:
            pk, sk = key_product(tenant_id, product_id)
            ProductItem(pk, sk, entity="product", tenant_id=tenant_id, product_id=product_id).save()
        publish_artifact(tenant_id, train_recommender(small_order_lines(customers=50, products=20)))
        key = issue_storefront_key(tenant_id, keys=member_repository()).key
        handler = api_app_module().handler
        run_id = secrets.token_urlsafe(8)

        def health(_: int) -> dict[str, Any]:
            return v2_event("GET", "/health")

        def events(number: int, *, page_views_per_visitor: int = 1) -> dict[str, Any]:
            visitor = number // page_views_per_visitor
            batch = {
                "key": key,
                "visitor_id": f"{run_id}-{page_views_per_visitor}-{visitor:010d}",
                "events": [
                    {
                        "id": uuid.uuid4().hex,
                        "type": "impression" if i % 4 else "click",
                        "placement": "related" if i % 2 else "basket",
                        "product_ids": products[i % 16 : i % 16 + 4],
                        "model_version": "bench-v1",
                        "response_id": "r" + secrets.token_hex(6),
                    }
                    for i in range(events_per_batch)
                ],
            }
            event = v2_event("POST", "/events", headers={"origin": origin, "content-type": "text/plain;charset=UTF-8"})
            event["routeKey"] = "POST /events"
            event["requestContext"]["http"]["sourceIp"] = (
                f"10.{page_views_per_visitor}.{visitor // 256 % 256}.{visitor % 256}"
            )
            event["body"] = json.dumps(batch)
            return event

        with round_trips(round_trip_ms):
            return {
                "GET /health (baseline)": throughput(handler, health, requests, 200),
                f"POST /events ({events_per_batch} events, new visitors)": throughput(handler, events, requests, 202),
                f"POST /events ({events_per_batch} events, returning visitors)": throughput(
                    handler, lambda number: events(number, page_views_per_visitor=4), requests, 202
                ),
                "GET /health (baseline, again)": throughput(handler, health, requests, 200),
            }
    finally:
        aws.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--events-per-batch", type=int, default=10)
    parser.add_argument("--round-trip-ms", type=float, default=0.0, help="network wait added to each AWS request")
    args = parser.parse_args()
    os.chdir(REPO)
    results = run(args.requests, args.events_per_batch, args.round_trip_ms)
    baseline = results["GET /health (baseline)"]["requests_per_second"]
    lines = [f"\n{'route':52} {'requests/s':>11} {'events/s':>9} {'ratio to baseline':>18} {'DynamoDB calls':>15}"]
    for name, figures in results.items():
        per_second = figures["requests_per_second"]
        events = per_second * args.events_per_batch if name.startswith("POST") else float("nan")
        calls = figures["aws_requests_per_request"]
        lines.append(f"{name:52} {per_second:11.1f} {events:9.1f} {per_second / baseline:18.3f} {calls:15.2f}")
        if name.startswith("POST"):
            by_operation = ", ".join(f"{op} {n:.2f}" for op, n in figures["aws_requests_by_operation"].items())
            lines.append(f"    per batch: {by_operation}")
    print("\n".join(lines), file=sys.__stderr__)
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "storefront.json").write_text(
        json.dumps(
            {"results": results, "events_per_batch": args.events_per_batch, "round_trip_ms": args.round_trip_ms},
            indent=2,
        )
    )


if __name__ == "__main__":
    main()

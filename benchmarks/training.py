"""Training and serving benchmark: cold imports, warm cache reads, full training time / memory, and the cost of
reading a 1,000,000-line tenant from the table versus the training snapshot.

    .venv/bin/python -m benchmarks.training            # full run (about 10 minutes on 2 cores)
    .venv/bin/python -m benchmarks.training --quick    # smoke run (small data)

Every figure is printed next to a baseline measured in the same run (boto3's import, a direct call without the
cache, the limits of a 15-minute 3 GB Lambda). Results go to benchmarks/out/training.json.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "benchmarks" / "out"
AS_OF = datetime(2026, 11, 1, tzinfo=UTC)
LAMBDA_SECONDS, LAMBDA_MB = 900.0, 3008.0
# AWS list prices, us-east-1 (on-demand DynamoDB after the November 2024 reduction).
PRICE_PER_MILLION_RRU = 0.125
PRICE_PER_THOUSAND_S3_GET = 0.0004
PRICE_PER_THOUSAND_S3_PUT = 0.005


# ----------------------------------------------------------------------------- cold imports
IMPORT_TARGETS = {
    "boto3 (baseline)": "import boto3",
    "api handler (functions/api/app.py)": "import api.app",
    "train dispatcher": "import train.dispatcher",
    "train worker (before any training)": "import train.worker",
    "train worker + ML stack (first training)": (
        "import train.worker, luxebrain.ml.recommend.train, luxebrain.ml.forecast.train, luxebrain.ml.customers.train, "
        "luxebrain.ml.pricing.train"
    ),
    "serving path only (luxebrain.serving.loader)": "import luxebrain.serving.loader",
}


def measure_import(statement: str, repeats: int) -> float:
    """Median seconds of ``statement`` in fresh interpreters (interpreter start-up excluded)."""
    code = (
        "import sys, time; sys.path.insert(0, 'functions'); t = time.perf_counter(); "
        f"{statement}; print(time.perf_counter() - t)"
    )
    env = {**os.environ, "POWERTOOLS_TRACE_DISABLED": "true", "APP_ENV": "local"}
    env.setdefault("LUXEBRAIN_TABLE_NAME", "bench-table")
    env.setdefault("LUXEBRAIN_MODELS_BUCKET", "bench-bucket")
    env.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    samples = []
    for _ in range(repeats):
        result = subprocess.run(
            [sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True, check=False, timeout=300
        )
        if result.returncode != 0:
            return float("nan")
        samples.append(float(result.stdout.strip().splitlines()[-1]))
    return statistics.median(samples)


def bench_imports(repeats: int) -> dict[str, Any]:
    times = {name: measure_import(statement, repeats) for name, statement in IMPORT_TARGETS.items()}
    base = times["boto3 (baseline)"]
    return {
        name: {"seconds": round(value, 4), "ratio_to_boto3": round(value / base, 2)} for name, value in times.items()
    }


# ----------------------------------------------------------------------------- data
def sample_records(
    customers: int, products: int, seed: int
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[Any]]:
    """Order records (the snapshot's unit) and product payloads of a generated store, via ingest's mapping."""
    from luxebrain.ingest.mapping import order_from_payload
    from luxebrain.storage.customers import order_item  # the stored entity: the read-cost figures need its size
    from luxebrain.training.deltas import order_record
    from luxebrain.woocommerce.payloads import OrderPayload
    from luxebrain_dev.sample_store import generate_sample_store

    store = generate_sample_store(customers=customers, products=products, years=2.0, seed=seed, as_of=AS_OF)
    items = [
        order_item(order_from_payload("t-bench", OrderPayload.model_validate(payload))) for payload in store.orders
    ]
    return [order_record(item) for item in items], store.products, items


def tile_records(records: list[dict[str, Any]], target_lines: int) -> list[dict[str, Any]]:
    """Copies of a store with distinct customers and orders until ``target_lines`` paid lines (same catalogue)."""
    per_copy = sum(len(record["lines"]) for record in records if record["purchase"])
    copies = max(1, math.ceil(target_lines / max(per_copy, 1)))
    tiled: list[dict[str, Any]] = []
    lines = 0
    for copy in range(copies):
        for record in records:
            if lines >= target_lines:
                return tiled
            clone = dict(record, order_id=f"{record['order_id']}-{copy}", customer_id=f"{record['customer_id']}#{copy}")
            if clone["purchase"]:
                remaining = target_lines - lines
                clone["lines"] = record["lines"][:remaining]
                lines += len(clone["lines"])
            tiled.append(clone)
    return tiled


# ----------------------------------------------------------------------------- read cost: table vs snapshot
def attribute_size(value: dict[str, Any]) -> int:
    """DynamoDB's size of one attribute value (the documented rules; numbers as significant digits)."""
    ((kind, content),) = value.items()
    if kind == "S":
        return len(content.encode("utf-8"))
    if kind == "N":
        digits = len(content.lstrip("-").replace(".", "").lstrip("0")) or 1
        return math.ceil(digits / 2) + 1
    if kind == "B":
        return len(content)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "L":
        return 3 + sum(attribute_size(element) + 1 for element in content)
    if kind == "M":
        return 3 + sum(len(name.encode()) + attribute_size(element) + 1 for name, element in content.items())
    raise ValueError(kind)


def item_size(item: Any) -> int:
    return sum(len(name.encode()) + attribute_size(value) for name, value in item.serialize().items())


def bench_read_cost(
    base_items: list[Any], base_records: list[dict[str, Any]], tiled: list[dict[str, Any]]
) -> dict[str, Any]:
    from luxebrain.storage.customers import order_summary_from_raw
    from luxebrain.storage.items.customers import OrderItem
    from luxebrain.training.snapshot import OrderSnapshot, record_from_summary

    sizes = np.array([item_size(item) for item in base_items], dtype=np.float64)
    lines_per_order = np.array([len(record["lines"]) for record in base_records], dtype=np.float64)
    bytes_per_line = sizes.sum() / max(lines_per_order.sum(), 1)
    orders = len(tiled)
    total_lines = sum(len(record["lines"]) for record in tiled if record["purchase"])
    table_bytes = float(sizes.mean()) * orders
    rcu_eventual = table_bytes / 4096 / 2
    pages = math.ceil(table_bytes / (1024 * 1024))

    # Client-side cost of a full query: parsing pages and building pynamodb items (network excluded).
    import pandas  # noqa: F401  (imported before timing: the worker has it loaded already)

    sample = base_items[: min(len(base_items), 20_000)]
    page = json.dumps({"Items": [item.serialize() for item in sample]})
    started = time.perf_counter()
    parsed = json.loads(page)["Items"]
    for raw in parsed:
        OrderItem.from_raw_data(raw)
    per_item_pynamodb = (time.perf_counter() - started) / len(sample)
    started = time.perf_counter()
    records = [record_from_summary(order_summary_from_raw(raw)) for raw in json.loads(page)["Items"]]
    OrderSnapshot.from_records(records)
    per_item = (time.perf_counter() - started) / len(sample)  # the worker's own path: raw JSON → records

    started = time.perf_counter()
    snapshot = OrderSnapshot.from_records(tiled, built_at=AS_OF.isoformat())
    build_seconds = time.perf_counter() - started
    started = time.perf_counter()
    content = snapshot.to_bytes()
    encode_seconds = time.perf_counter() - started
    started = time.perf_counter()
    loaded = OrderSnapshot.from_bytes(content)
    frame = loaded.order_lines_frame()
    decode_seconds = time.perf_counter() - started
    return {
        "orders": orders,
        "order_lines": total_lines,
        "table": {
            "mean_item_bytes": round(float(sizes.mean()), 1),
            "bytes_per_line": round(bytes_per_line, 1),
            "bytes": int(table_bytes),
            "read_units_eventually_consistent": round(rcu_eventual),
            "query_pages_1mb": pages,
            "cost_usd_per_read": round(rcu_eventual / 1e6 * PRICE_PER_MILLION_RRU, 5),
            "client_parse_seconds": round(per_item * orders, 2),
            "client_parse_seconds_pynamodb_items": round(per_item_pynamodb * orders, 2),
            "client_parse_seconds_note": "json + the worker's raw parsing into a snapshot (and, for comparison, "
            "pynamodb items) measured on 20k items, scaled",
        },
        "snapshot": {
            "bytes": len(content),
            "s3_gets": 1,
            "cost_usd_per_read": round(PRICE_PER_THOUSAND_S3_GET / 1000, 7),
            "build_seconds": round(build_seconds, 2),
            "encode_seconds": round(encode_seconds, 2),
            "decode_to_frame_seconds": round(decode_seconds, 2),
            "frame_lines": len(frame),
        },
        "ratios": {
            "bytes_table_over_snapshot": round(table_bytes / len(content), 1),
            "cost_table_over_snapshot": round(
                (rcu_eventual / 1e6 * PRICE_PER_MILLION_RRU) / (PRICE_PER_THOUSAND_S3_GET / 1000), 1
            ),
            "client_seconds_table_over_snapshot": round(per_item * orders / max(decode_seconds, 1e-9), 1),
        },
    }


def bench_moto_query(items: list[Any], limit: int) -> dict[str, Any]:
    """An end-to-end full read of ``limit`` orders from moto over HTTP, through the worker's own reader."""
    from luxebrain.storage.customers import customer_repository
    from luxebrain.storage.items.customers import OrderItem
    from luxebrain.storage.tenants import create_tenant
    from luxebrain.tenancy import new_tenant_id
    from luxebrain.training.snapshot import ReadStats, rebuild_from_table

    if True:  # runs inside main's embedded AWS (moto's state is per process: one server per run)
        tenant_id = create_tenant("bench", tenant_id=new_tenant_id()).tenant_id
        from luxebrain.storage.items.customers import key_order

        with OrderItem.batch_write() as batch:
            for item in items[:limit]:
                pk, sk = key_order(tenant_id, item.order_id)
                clone = OrderItem.from_raw_data({**item.serialize(), "pk": {"S": pk}, "sk": {"S": sk}})
                clone.tenant_id = tenant_id
                batch.save(clone)
        stats = ReadStats()
        started = time.perf_counter()
        snapshot = rebuild_from_table(tenant_id, customers=customer_repository(), now=AS_OF, stats=stats)
        seconds = time.perf_counter() - started
    return {"orders": stats.dynamodb_items, "lines": snapshot.line_count, "seconds_in_moto": round(seconds, 2)}


# ----------------------------------------------------------------------------- training time and memory
TRAIN_SCRIPT = r"""
import json, resource, sys, time
t0 = time.perf_counter()
import pandas as pd
from datetime import datetime, UTC
from luxebrain.training.snapshot import OrderSnapshot, product_frame
from luxebrain.training.registry import registered_kinds
from luxebrain.ml.kinds import TrainingInputs
from luxebrain.storage.items.catalogue import ProductItem
import luxebrain.ml.recommend.train, luxebrain.ml.forecast.train
import luxebrain.ml.customers.train, luxebrain.ml.pricing.train
imports = time.perf_counter() - t0
snapshot_path, products_path = sys.argv[1], sys.argv[2]
t0 = time.perf_counter()
snapshot = OrderSnapshot.from_bytes(open(snapshot_path, "rb").read())
products = pd.DataFrame(json.load(open(products_path)))
floats = ["price", "regular_price", "stock_quantity", "cost"]
products = products.astype({column: "float64" for column in floats})
lines = snapshot.order_lines_frame(dict(zip(products["product_id"], products["category"])))
read = time.perf_counter() - t0
def high_water_mb():
    # VmHWM is this process's own peak; ru_maxrss would carry the parent's peak across fork + exec.
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
rss_before = high_water_mb()
kinds = {}
for kind, spec in registered_kinds().items():
    t0 = time.perf_counter()
    try:
        artifact = spec.train(TrainingInputs("t-bench", lines, products, as_of=datetime(2026, 11, 1, tzinfo=UTC)))
        size = sum(len(v) for v in artifact.to_files().values())
        kinds[kind] = {"seconds": round(time.perf_counter() - t0, 2), "artifact_bytes": size,
                       "metric": spec.holdout_metric(artifact.metrics), "status": "ok"}
    except Exception as exc:
        kinds[kind] = {"seconds": round(time.perf_counter() - t0, 2), "status": f"{type(exc).__name__}: {exc}"[:200]}
rss_peak = high_water_mb()
print(json.dumps({"lines": len(lines), "imports_seconds": round(imports, 2), "read_seconds": round(read, 2),
                  "rss_mb_before_training": round(rss_before), "peak_rss_mb": round(rss_peak), "kinds": kinds}))
"""


def bench_training(records: list[dict[str, Any]], products: list[dict[str, Any]], label: str) -> dict[str, Any]:
    from luxebrain.storage.items.catalogue import ProductItem
    from luxebrain.training.snapshot import OrderSnapshot, product_frame

    with tempfile.TemporaryDirectory() as folder:
        snapshot_path, products_path = Path(folder) / "snapshot.npz", Path(folder) / "products.json"
        snapshot_path.write_bytes(OrderSnapshot.from_records(records, built_at=AS_OF.isoformat()).to_bytes())
        items = [
            ProductItem(
                "x",
                str(payload["id"]),
                entity="product",
                tenant_id="t-bench",
                product_id=str(payload["id"]),
                name=payload["name"],
                categories=[category["name"] for category in payload["categories"]],
                price=float(payload["price"]),
                regular_price=float(payload["regular_price"]),
                stock_quantity=payload.get("stock_quantity"),
                stock_status=payload["stock_status"],
            )
            for payload in products
        ]
        frame = product_frame(items)
        products_path.write_text(frame.to_json(orient="records"))
        started = time.perf_counter()
        result = subprocess.run(
            [sys.executable, "-c", TRAIN_SCRIPT, str(snapshot_path), str(products_path)],
            cwd=REPO,
            capture_output=True,
            text=True,
            check=False,
            timeout=3600,
            env={**os.environ, "POWERTOOLS_TRACE_DISABLED": "true"},
        )
        wall = time.perf_counter() - started
    if result.returncode != 0:
        return {"label": label, "error": result.stderr[-2000:]}
    measured = json.loads(result.stdout.strip().splitlines()[-1])
    train_seconds = sum(kind["seconds"] for kind in measured["kinds"].values())
    measured.update(
        label=label,
        wall_seconds=round(wall, 1),
        train_seconds=round(train_seconds, 1),
        fraction_of_lambda_timeout=round((measured["read_seconds"] + train_seconds) / LAMBDA_SECONDS, 3),
        fraction_of_3gb=round(measured["peak_rss_mb"] / LAMBDA_MB, 3),
    )
    return measured


# ----------------------------------------------------------------------------- warm serving reads
def bench_warm_reads(records: list[dict[str, Any]], products: list[dict[str, Any]], reads: int) -> dict[str, Any]:
    """Train the sample store through the real pipeline on the embedded AWS, then time warm API reads."""
    from luxebrain.adapters.aws import models_bucket
    from luxebrain.serving.loader import current_model, current_serving
    from luxebrain.storage.items.catalogue import ProductItem, key_product
    from luxebrain.storage.tenants import create_tenant
    from luxebrain.storage.training import mark_tenant_data_changed, training_repository
    from luxebrain.tenancy import new_tenant_id
    from luxebrain.training import train_tenant
    from luxebrain.training.snapshot import OrderSnapshot, snapshot_key
    from luxebrain.training.sources import table_sources

    if True:  # runs inside main's embedded AWS
        tenant_id = create_tenant("bench", tenant_id=new_tenant_id()).tenant_id
        with ProductItem.batch_write() as batch:
            for payload in products:
                pk, sk = key_product(tenant_id, str(payload["id"]))
                batch.save(
                    ProductItem(
                        pk,
                        sk,
                        entity="product",
                        tenant_id=tenant_id,
                        product_id=str(payload["id"]),
                        name=payload["name"],
                        categories=[category["name"] for category in payload["categories"]],
                        price=float(payload["price"]),
                        regular_price=float(payload["regular_price"]),
                        stock_quantity=payload.get("stock_quantity"),
                        stock_status=payload["stock_status"],
                    )
                )
        snapshot = OrderSnapshot.from_records(records, built_at=datetime.now(UTC).isoformat())
        models_bucket().put(snapshot_key(tenant_id), snapshot.to_bytes())
        mark_tenant_data_changed(tenant_id, AS_OF)
        started = time.perf_counter()
        report = train_tenant(tenant_id, files=models_bucket(), training=training_repository(), sources=table_sources())
        pipeline_seconds = time.perf_counter() - started
        customer = next(record["customer_id"] for record in records if record["purchase"])

        calls = {}
        recommender, _ = current_serving(tenant_id, "recommend")
        calls["recommend for_customer (cache + call)"] = lambda: current_serving(tenant_id, "recommend")[
            0
        ].for_customer(customer, 10)
        calls["recommend for_customer (direct, baseline)"] = lambda: recommender.for_customer(customer, 10)
        if any(k.kind == "customers" and k.status == "succeeded" for k in report.kinds):
            calls["customer scores (cache + call)"] = lambda: current_serving(tenant_id, "customers")[0].customer(
                customer
            )
            calls["customer segments summary (cache + call)"] = lambda: current_serving(tenant_id, "customers")[
                0
            ].segment_summary()
        if any(k.kind == "forecast" and k.status == "succeeded" for k in report.kinds):
            artifact, _ = current_model(tenant_id, "forecast")
            ids = artifact.extra.get("series_ids", [])
            index = {series: row for row, series in enumerate(ids)}
            first = ids[0] if ids else ""
            calls["forecast of one product (cache + lookup)"] = lambda: (
                current_model(tenant_id, "forecast")[0].arrays["weekly_p50"][index[first]].tolist()
            )
        results = {}
        for name, call in calls.items():
            call()
            samples = np.empty(reads)
            for position in range(reads):
                started_ns = time.perf_counter_ns()
                call()
                samples[position] = (time.perf_counter_ns() - started_ns) / 1e6
            results[name] = {
                "p50_ms": round(float(np.percentile(samples, 50)), 4),
                "p99_ms": round(float(np.percentile(samples, 99)), 4),
            }
        return {
            "pipeline_seconds": round(pipeline_seconds, 1),
            "report": report.summary(),
            "reads": results,
        }


# ----------------------------------------------------------------------------- main
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small data, for a smoke run")
    parser.add_argument("--lines", type=int, default=1_000_000, help="order lines of the large tenant")
    parser.add_argument(
        "--sections",
        default="imports,read,warm,train",
        help="comma-separated subset of imports, read, warm, train (results merge into the last JSON)",
    )
    args = parser.parse_args(argv)
    sections = set(args.sections.split(","))
    quick = args.quick
    target_lines = 20_000 if quick else args.lines
    os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
    os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "LuxeBrainBench")
    previous = OUT / "training.json"
    results: dict[str, Any] = (
        json.loads(previous.read_text())
        if previous.exists() and sections != {"imports", "read", "warm", "train"}
        else {}
    )
    results.update(measured_at=datetime.now(UTC).isoformat(), quick=quick)

    if "imports" in sections:
        print("cold imports ...", flush=True)
        results["imports"] = bench_imports(repeats=2 if quick else 5)

    print("sample store ...", flush=True)
    sample_customers = 600 if quick else 6000
    sample, sample_products, _ = sample_records(sample_customers, 60 if quick else 300, seed=7)
    if sections & {"read", "train"}:
        print("large tenant ...", flush=True)
        base_records, big_products, base_items = sample_records(
            3000 if quick else 30_000, 100 if quick else 1000, seed=11
        )
        tiled = tile_records(base_records, target_lines)

    if "read" in sections:
        print("read cost ...", flush=True)
        results["read_cost"] = bench_read_cost(base_items, base_records, tiled)
    if sections & {"read", "warm"}:
        from luxebrain_dev.local.embedded import EmbeddedAws

        with EmbeddedAws():
            if "read" in sections:
                results["read_cost"]["moto_full_query"] = bench_moto_query(base_items, 500 if quick else 5000)
            if "warm" in sections:
                print("warm reads ...", flush=True)
                results["warm_reads"] = bench_warm_reads(sample, sample_products, reads=500 if quick else 5000)

    if "train" in sections:
        print("training: sample store ...", flush=True)
        results["training_sample_store"] = bench_training(sample, sample_products, "sample store")
        print(f"training: {target_lines:,}-line tenant ...", flush=True)
        del base_items  # the parent's memory is not the child's, but the machine's is shared
        results["training_large_tenant"] = bench_training(tiled, big_products, f"{target_lines:,}-line tenant")

    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "training.json").write_text(json.dumps(results, indent=2, default=str))
    print_table(results)
    return 0


def print_table(results: dict[str, Any]) -> None:
    print("\nCold import (median, fresh interpreter), ratio to `import boto3`")
    for name, value in results["imports"].items():
        print(f"  {name:<44} {value['seconds'] * 1000:8.0f} ms  {value['ratio_to_boto3']:6.2f}x")
    print("\nWarm API reads from the cache (in process)")
    for name, value in results["warm_reads"]["reads"].items():
        print(f"  {name:<44} p50 {value['p50_ms']:.3f} ms   p99 {value['p99_ms']:.3f} ms")
    read = results["read_cost"]
    print(f"\nReading a {read['order_lines']:,}-line tenant ({read['orders']:,} orders)")
    table, snapshot = read["table"], read["snapshot"]
    print(
        f"  full table query : {table['bytes'] / 1e6:8.1f} MB, {table['read_units_eventually_consistent']:,} RRU, "
        f"{table['query_pages_1mb']} pages, ${table['cost_usd_per_read']:.4f}/read, "
        f"client parse {table['client_parse_seconds']} s"
    )
    print(
        f"  snapshot (S3 npz): {snapshot['bytes'] / 1e6:8.1f} MB, 1 GET, ${snapshot['cost_usd_per_read']:.7f}/read, "
        f"decode {snapshot['decode_to_frame_seconds']} s"
    )
    print(f"  ratios table / snapshot: {read['ratios']}")
    print(f"  moto full query: {read['moto_full_query']}")
    for key in ("training_sample_store", "training_large_tenant"):
        value = results[key]
        if "error" in value:
            print(f"\nTraining {value['label']}: FAILED\n{value['error']}")
            continue
        print(
            f"\nTraining {value['label']} ({value['lines']:,} lines): read {value['read_seconds']} s, "
            f"train {value['train_seconds']} s ({value['fraction_of_lambda_timeout']:.1%} of 900 s), "
            f"peak {value['peak_rss_mb']} MB ({value['fraction_of_3gb']:.1%} of 3,008 MB)"
        )
        for kind, figures in value["kinds"].items():
            print(f"  {kind:<10} {figures['seconds']:>7} s  {figures['status']}  metric={figures.get('metric')}")


if __name__ == "__main__":
    raise SystemExit(main())

"""API benchmark: latency of the main read routes in process, as a ratio to a bare constant route, and the
handler's cold import.

Run: ``.venv/bin/python -m benchmarks.api [--requests N]`` (about a minute on 2 cores).

Every request goes through the real Lambda entry point (``handler(event, context)``: Powertools decorators,
Mangum, the FastAPI app, token verification against the embedded Cognito's JWKS, membership / plan caches,
the serving cache) with API Gateway HTTP API v2 events. The baseline is ``GET /health``, which returns a
constant through the same path, measured in the same run. Models are trained on a small synthetic store and
the caches are warm (the first request of each route is discarded). Logging is as deployed (the template's
INFO: one JSON line per request, the baseline's too); send stdout to a file or /dev/null when running it.

Cold import: wall time of a fresh interpreter importing ``functions/api/app.py`` (source only, then
precompiled with ``compileall --invalidation-mode unchecked-hash`` as the Lambda bundle should be), as a
ratio to a fresh interpreter importing fastapi + mangum. Outputs ``benchmarks/out/api.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "benchmarks" / "out"

os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "LuxeBrainBenchmark")
os.environ.setdefault("AWS_ACCESS_KEY_ID", "benchmark")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "benchmark")


class Context:
    function_name = "ApiFunction"
    memory_limit_in_mb = 1024
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:ApiFunction"
    aws_request_id = "benchmark"


def v2_event(method: str, path: str, query: str = "", headers: dict[str, str] | None = None) -> dict[str, Any]:
    return {
        "version": "2.0",
        "routeKey": "ANY /{proxy+}",
        "rawPath": path,
        "rawQueryString": query,
        "headers": {"host": "bench.local", "x-forwarded-proto": "https", **(headers or {})},
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "bench",
            "domainName": "bench.local",
            "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1"},
            "requestId": "bench-request-0001",
            "routeKey": "ANY /{proxy+}",
            "stage": "$default",
            "timeEpoch": 0,
        },
        "isBase64Encoded": False,
    }


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def measure(handler: Any, event: dict[str, Any], requests: int) -> dict[str, float]:
    first = handler(event, Context())  # warms the caches of this route; discarded
    if first["statusCode"] != 200:
        raise SystemExit(f"{event['rawPath']} answered {first['statusCode']}: {first['body'][:300]}")
    samples = []
    for _ in range(requests):
        started = time.perf_counter()
        response = handler(event, Context())
        samples.append((time.perf_counter() - started) * 1000)
        if response["statusCode"] != 200:
            raise SystemExit(f"{event['rawPath']} answered {response['statusCode']}")
    return {"p50_ms": statistics.median(samples), "p99_ms": percentile(samples, 0.99), "n": len(samples)}


def route_latencies(requests: int) -> dict[str, Any]:
    sys.path.insert(0, str(REPO / "tests" / "integration"))
    from api_testkit import api_app_module, new_merchant, publish_artifact, small_order_lines

    from luxebrain.ml.customers.train import train_customer_model
    from luxebrain.ml.recommend.train import train_recommender
    from luxebrain_dev.local.embedded import EmbeddedAws

    aws = EmbeddedAws()
    aws.start()
    try:
        merchant = new_merchant("Maison Benchmark")
        lines = small_order_lines(customers=200, products=60)
        publish_artifact(merchant.tenant_id, train_recommender(lines))
        as_of = lines["ordered_at"].max().to_pydatetime() + timedelta(days=1)
        publish_artifact(merchant.tenant_id, train_customer_model(lines, as_of=as_of))
        handler = api_app_module().handler
        auth = {"authorization": f"Bearer {merchant.access_token}"}
        routes = {
            "GET /health (baseline)": v2_event("GET", "/health"),
            "GET /me": v2_event("GET", "/me", headers=auth),
            "GET /recommendations/for-you": v2_event("GET", "/recommendations/for-you", "customer_id=c7&k=10", auth),
            "GET /recommendations/similar": v2_event("GET", "/recommendations/similar", "product_id=105&k=10", auth),
            "GET /recommendations/popular": v2_event("GET", "/recommendations/popular", "k=10", auth),
            "GET /customers/{id}/scores": v2_event("GET", "/customers/c7/scores", headers=auth),
            "GET /segments": v2_event("GET", "/segments", headers=auth),
        }
        results = {name: measure(handler, event, requests) for name, event in routes.items()}
        # The same baseline again at the end: drift of the machine during the run shows here.
        results["GET /health (baseline, again)"] = measure(handler, routes["GET /health (baseline)"], requests)
        return results
    finally:
        aws.stop()


def import_seconds(code: str, env: dict[str, str], repeats: int = 3) -> float:
    timings = []
    for _ in range(repeats):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], env=env, check=True, capture_output=True)
        timings.append(time.perf_counter() - started)
    return min(timings)


def cold_import() -> dict[str, float]:
    env = {"APP_ENV": "prod", "PATH": os.environ.get("PATH", ""), "PYTHONDONTWRITEBYTECODE": "1"}
    load_app = (
        "import importlib.util\n"
        "spec = importlib.util.spec_from_file_location('api_app', 'functions/api/app.py')\n"
        "m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m)\n"
    )
    with tempfile.TemporaryDirectory() as pycache:
        source_env = {**env, "PYTHONPYCACHEPREFIX": pycache}  # an empty cache: nothing precompiled
        baseline_source = import_seconds("import fastapi, mangum", source_env)
        app_source = import_seconds(load_app, source_env)
    with tempfile.TemporaryDirectory() as pycache:
        compiled_env = {**env, "PYTHONPYCACHEPREFIX": pycache}
        compile_env = {**compiled_env}
        compile_env.pop("PYTHONDONTWRITEBYTECODE")
        site = subprocess.run(
            [sys.executable, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            capture_output=True, text=True, check=True,
        ).stdout.strip()  # fmt: skip
        for folder in (site, str(REPO / "shared"), str(REPO / "functions")):
            subprocess.run(
                [sys.executable, "-m", "compileall", "-q", "-j", "2", "--invalidation-mode", "unchecked-hash", folder],
                env=compile_env, check=False, capture_output=True,
            )  # fmt: skip
        baseline_compiled = import_seconds("import fastapi, mangum", compiled_env)
        app_compiled = import_seconds(load_app, compiled_env)
    return {
        "fastapi_mangum_source_s": baseline_source,
        "app_source_s": app_source,
        "fastapi_mangum_compiled_s": baseline_compiled,
        "app_compiled_s": app_compiled,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300, help="timed requests per route")
    parser.add_argument("--skip-import", action="store_true", help="skip the cold-import measurement")
    args = parser.parse_args()
    os.chdir(REPO)
    latencies = route_latencies(args.requests)
    baseline = latencies["GET /health (baseline)"]
    print(f"\nIn-process latency through handler(event, context), {args.requests} requests per route")
    print(f"{'route':34} {'p50 ms':>8} {'p99 ms':>8} {'p50 / baseline':>15} {'p99 / baseline':>15}")
    for name, figures in latencies.items():
        print(
            f"{name:34} {figures['p50_ms']:8.2f} {figures['p99_ms']:8.2f} "
            f"{figures['p50_ms'] / baseline['p50_ms']:15.2f} {figures['p99_ms'] / baseline['p99_ms']:15.2f}"
        )
    result: dict[str, Any] = {"latency": latencies, "requests_per_route": args.requests}
    if not args.skip_import:
        imports = cold_import()
        result["cold_import"] = imports
        print("\nCold import of functions/api/app.py (fresh interpreter, best of 3)")
        print(f"{'':26} {'seconds':>8} {'ratio to fastapi+mangum':>24}")
        for label, app_key, base_key in (
            ("source only", "app_source_s", "fastapi_mangum_source_s"),
            ("precompiled (unchecked)", "app_compiled_s", "fastapi_mangum_compiled_s"),
        ):
            print(f"{label:26} {imports[app_key]:8.3f} {imports[app_key] / imports[base_key]:24.2f}")
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "api.json").write_text(json.dumps(result, indent=2))
    shutil.rmtree(OUT / "__pycache__", ignore_errors=True)


if __name__ == "__main__":
    main()

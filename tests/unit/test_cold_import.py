"""What each function's cold import leaves out (benchmarks/cold_start.py measures what it costs). Checked in a
fresh interpreter, as Lambda imports the handler: boto3 until the first client, the X-Ray SDK until the first
traced invocation, the ML training stack everywhere but the training worker, and in each function the heavy
modules none of its cold paths use (numpy until a model is read, Jinja2 until a message renders, the back-fill's
REST client and processor until a store is called)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
EVERYWHERE = ("boto3", "aws_xray_sdk", "pandas", "sklearn", "scipy")
# handler module (CodeUri folder under functions/) -> what its import must not load
NOT_IMPORTED: dict[tuple[str, str], tuple[str, ...]] = {
    ("", "api.app"): (
        "numpy",  # model routes load it with the model they serve
        "jinja2",  # campaign routes load it when they render or validate a template
        "luxebrain.campaigns.sandbox",
        "luxebrain.ingest.backfill",  # the API queues back-fills and never runs one
        "luxebrain.ingest.processor",
        "luxebrain.training.snapshot",
        "luxebrain.storage.personal_data",  # the privacy worker's whole-table code
        "luxebrain.privacy.erasure",
    ),
    ("train", "dispatcher"): ("numpy", "luxebrain.training.snapshot", "luxebrain.ingest.processor"),
    ("ingest", "connect_callback"): ("numpy", "requests", "luxebrain.ingest.backfill", "luxebrain.ingest.processor"),
    ("ingest", "receiver"): ("numpy", "requests", "jinja2", "luxebrain.ingest.processor"),
    # the processor asks a store only for a new refund's lines: its REST client loads then
    ("ingest", "processor"): ("numpy", "jinja2", "requests", "luxebrain.training.snapshot"),
    ("ingest", "backfill"): ("numpy", "jinja2", "luxebrain.training.snapshot"),  # the connect step loads it
    ("campaigns", "flow_runner"): ("numpy", "jinja2", "requests"),
    ("campaigns", "provider_events"): ("numpy", "jinja2", "requests"),
    ("privacy", "worker"): ("numpy", "jinja2", "requests"),
}


def loaded_by_import(code_folder: str, module: str, candidates: tuple[str, ...]) -> list[str]:
    code = (
        f"import json, sys; import {module}; print(json.dumps([m for m in {list(candidates)!r} if m in sys.modules]))"
    )
    env = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": os.pathsep.join([str(REPO_ROOT / "functions" / code_folder), str(REPO_ROOT / "shared")]),
        "APP_ENV": "prod",
        "AWS_REGION": "us-east-1",
        "POWERTOOLS_TRACE_DISABLED": "true",
    }
    completed = subprocess.run(  # noqa: S603 - this interpreter, our own module
        [sys.executable, "-c", code], env=env, cwd=REPO_ROOT, capture_output=True, text=True, check=True
    )
    return json.loads(completed.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize(("handler", "heavy"), NOT_IMPORTED.items(), ids=[m for _, m in NOT_IMPORTED])
def test_a_handler_imports_none_of_the_modules_its_cold_path_does_not_use(
    handler: tuple[str, str], heavy: tuple[str, ...]
) -> None:
    assert loaded_by_import(*handler, EVERYWHERE + heavy) == []


def test_the_check_sees_what_a_handler_does_import() -> None:
    # Guard against a check that passes because it looks at nothing: the sender renders every message, so it
    # loads Jinja2 at init; the back-fill calls a store in every slice, so it loads the REST client.
    assert loaded_by_import("campaigns", "sender", ("jinja2", "luxebrain.campaigns.sandbox")) == [
        "jinja2",
        "luxebrain.campaigns.sandbox",
    ]
    assert loaded_by_import("ingest", "backfill", ("requests", "luxebrain.woocommerce.client")) == [
        "requests",
        "luxebrain.woocommerce.client",
    ]


def test_the_tracer_is_made_on_the_first_traced_call_and_only_with_tracing_on(monkeypatch: pytest.MonkeyPatch) -> None:
    from luxebrain import observability
    from luxebrain.observability import LazyTracer

    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "true")
    tracer = LazyTracer(service="test")
    bare = tracer.capture_lambda_handler(lambda event, context: event["n"])
    with_arguments = tracer.capture_lambda_handler(capture_response=False)(lambda event, context: event["n"] * 2)
    assert (bare({"n": 2}, None), with_arguments({"n": 2}, None)) == (2, 4)
    assert tracer._tracer is None
    # With tracing on, Powertools' Tracer (a stand-in here: the real one talks to the X-Ray daemon) is made
    # on the first call and wraps the handler with the arguments given.
    made: list[dict[str, object]] = []

    class StandInTracer:
        def __init__(self, service: str) -> None:
            made.append({"service": service})

        def capture_lambda_handler(self, handler: Any, **options: Any) -> Any:
            made.append(options)
            return handler

    monkeypatch.setattr(observability, "Tracer", StandInTracer)
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "false")
    traced = tracer.capture_lambda_handler(capture_response=False)(lambda event, context: event["n"] * 3)
    assert made == []
    assert traced({"n": 2}, None) == 6 and traced({"n": 3}, None) == 9
    assert made == [{"service": "test"}, {"capture_response": False, "capture_error": None}]


def test_a_deferred_body_builds_on_its_first_request_without_a_warning() -> None:
    # FastAPI silences pydantic's "alias has no effect here" warning while it makes a body's adapter; a deferred
    # body builds on its first request, outside that filter, and the warning reached the demo's terminal.
    code = (
        "import json, warnings; import app; from fastapi.testclient import TestClient\n"
        "client = TestClient(app.app)\n"
        "with warnings.catch_warnings(record=True) as caught:\n"
        "    status = client.post('/auth/login', json={}).status_code\n"
        "print(json.dumps([status, [f'{w.category.__name__}: {w.message}' for w in caught]]))"
    )
    env = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": os.pathsep.join(
            [str(REPO_ROOT / "functions" / "api"), str(REPO_ROOT / "functions"), str(REPO_ROOT / "shared")]
        ),
        "APP_ENV": "prod",
        "AWS_REGION": "us-east-1",
        "POWERTOOLS_TRACE_DISABLED": "true",
        # The route's user directory is made from these before the body is validated (nothing is called).
        "LUXEBRAIN_TABLE_NAME": "luxebrain-test",
        "LUXEBRAIN_MODELS_BUCKET": "luxebrain-test-models",
        "LUXEBRAIN_USER_POOL_ID": "us-east-1_test",
    }
    completed = subprocess.run(  # noqa: S603 - this interpreter, our own module
        [sys.executable, "-c", code], env=env, cwd=REPO_ROOT, capture_output=True, text=True, check=True
    )
    status, caught = json.loads(completed.stdout.strip().splitlines()[-1])
    assert status == 422
    assert [w for w in caught if "UnsupportedFieldAttributeWarning" in w] == []

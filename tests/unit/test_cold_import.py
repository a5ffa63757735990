"""What the API's cold import leaves out (benchmarks/cold_start.py measures what it costs): boto3 until the
first client, the X-Ray SDK until the first traced invocation, the privacy worker's whole-table code, and
the ML training stack. Checked in a fresh interpreter, as Lambda imports the handler."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
NOT_IMPORTED = (
    "boto3",
    "aws_xray_sdk",
    "luxebrain.storage.personal_data",
    "luxebrain.privacy.erasure",
    "pandas",
    "sklearn",
    "scipy",
)


def test_the_api_handler_imports_none_of_the_deferred_modules() -> None:
    code = (
        f"import json, sys; import api.app; print(json.dumps([m for m in {list(NOT_IMPORTED)!r} if m in sys.modules]))"
    )
    env = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": os.pathsep.join([str(REPO_ROOT / "functions"), str(REPO_ROOT / "shared")]),
        "APP_ENV": "prod",
        "AWS_REGION": "us-east-1",
        "POWERTOOLS_TRACE_DISABLED": "true",
    }
    completed = subprocess.run(  # noqa: S603 - this interpreter, our own module
        [sys.executable, "-c", code], env=env, cwd=REPO_ROOT, capture_output=True, text=True, check=True
    )
    assert json.loads(completed.stdout.strip().splitlines()[-1]) == []


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

"""Cold start of every zip function as `sam build` packages it: each handler's cold import with python3.12 from
the built bundle (function code + the shared layer, read-only like Lambda's /var/task and /opt), against
``import fastapi, mangum`` alone from the same layer in the same run; and each bundle's unzipped size
against Lambda's 250 MB limit. For the API, also the cold import and the first request together (a fresh
interpreter importing the handler and answering one API Gateway event), for requests that need no AWS call:
what the import leaves to a request's first use (its bodies' validators, numpy, Jinja2) is counted there.

    make sam-build && .venv/bin/python -m benchmarks.cold_start [--repeats 7] [--instructions]

Wall time is the fastest of ``--repeats`` runs; on a busy machine even that is mostly waiting for a core, so
``--instructions`` counts the instructions of one run of each under valgrind (callgrind) instead: the same
figure on a loaded machine as on an idle one (it does not see disk or cache effects; slower, about a minute
per function).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

from luxebrain_dev.infra_template import load_template, resources_of_type

REPO = Path(__file__).resolve().parents[1]
BUILD = REPO / ".aws-sam" / "build"
OUT = REPO / "benchmarks" / "out"
LAMBDA_UNZIPPED_LIMIT_BYTES = 250 * 1024 * 1024
GOAL_RATIO = 1.3
API_FUNCTION = "ApiFunction"
API_EVENT = REPO / "tests" / "fixtures" / "api_gateway_v2_get_me.json"
# label -> (method, path, body, the status the first request must get)
API_FIRST_REQUESTS: dict[str, tuple[str, str, str | None, int]] = {
    "GET /health": ("GET", "/health", None, 200),
    "GET /me without a token": ("GET", "/me", None, 401),
    "POST /auth/login, invalid body": ("POST", "/auth/login", '{"email": "x"}', 422),
}


def python312() -> str:
    configured = os.environ.get("PYTHON312")
    if configured:
        return configured
    root = subprocess.run(["pyenv", "root"], capture_output=True, text=True, check=False).stdout.strip()
    candidates = sorted(Path(root, "versions").glob("3.12*/bin/python3.12")) if root else []
    if not candidates:
        sys.exit("python3.12 (Lambda's runtime) not found: set PYTHON312 or `pyenv install 3.12`")
    return str(candidates[-1])


def folder_bytes(folder: Path) -> int:
    return sum(path.stat().st_size for path in folder.rglob("*") if path.is_file())


def run_cost(python: str, code: str, path: list[Path], cwd: Path, repeats: int, instructions: bool) -> float:
    """Seconds (the fastest of ``repeats`` runs), or instructions (one run under callgrind), of a fresh
    interpreter running ``code`` with the bundle's folders on its path."""
    env = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": os.pathsep.join(str(p) for p in path),
        "PYTHONDONTWRITEBYTECODE": "1",  # /var/task and /opt are read-only in Lambda
        "APP_ENV": "prod",
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "POWERTOOLS_TRACE_DISABLED": "true",
    }
    command = [python, "-s", "-c", code]
    if instructions:
        callgrind = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null"]
        completed = subprocess.run([*callgrind, *command], env=env, cwd=cwd, check=True, capture_output=True, text=True)
        return float(re.search(r"Collected : (\d+)", completed.stderr).group(1))  # type: ignore[union-attr]
    timings = []
    for _ in range(repeats):
        started = time.perf_counter()
        subprocess.run(command, env=env, cwd=cwd, check=True, capture_output=True)
        timings.append(time.perf_counter() - started)
    return min(timings)


def first_request_code(module: str, method: str, path: str, body: str | None, status: int) -> str:
    """A fresh interpreter's import of the handler and its first answer to an API Gateway (HTTP API v2) event."""
    event = json.loads(API_EVENT.read_text())
    event["headers"].pop("authorization", None)
    event["rawPath"] = event["requestContext"]["http"]["path"] = path
    event["requestContext"]["http"]["method"] = method
    if body is not None:
        event["body"] = body
        event["headers"].update({"content-type": "application/json", "content-length": str(len(body))})
    context = {
        "function_name": API_FUNCTION,
        "memory_limit_in_mb": 1024,
        "invoked_function_arn": f"arn:aws:lambda:us-east-1:123456789012:function:{API_FUNCTION}",
        "aws_request_id": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
    }
    return (
        f"import json, types, {module}\n"
        f"response = {module}.handler(json.loads({json.dumps(event)!r}), types.SimpleNamespace(**{context!r}))\n"
        f"assert response['statusCode'] == {status}, response\n"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7, help="runs per import; the fastest counts")
    parser.add_argument("--instructions", action="store_true", help="count instructions (valgrind) instead")
    args = parser.parse_args()
    if args.instructions and shutil.which("valgrind") is None:
        sys.exit("--instructions needs valgrind (apt-get install valgrind)")
    unit = "instructions" if args.instructions else "s"
    if not (BUILD / "template.yaml").exists():
        sys.exit("no .aws-sam/build/template.yaml: run `make sam-build` first")
    python = python312()

    def cost(python: str, code: str, path: list[Path], cwd: Path, repeats: int) -> float:
        return run_cost(python, code, path, cwd, repeats, args.instructions)

    template = load_template(BUILD / "template.yaml")
    layer = BUILD / "SharedLayer" / "python"
    layer_bytes = folder_bytes(BUILD / "SharedLayer")
    baseline = cost(python, "import fastapi, mangum", [layer], BUILD, args.repeats)
    interpreter = cost(python, "pass", [layer], BUILD, args.repeats)
    rows = []
    for logical_id, resource in sorted(resources_of_type(template, "AWS::Serverless::Function").items()):
        properties = resource["Properties"]
        if properties.get("PackageType") == "Image":
            continue
        code = BUILD / logical_id
        module = properties["Handler"].rpartition(".")[0]
        where = ([code, layer], code)
        cold_import = cost(python, f"import {module}", *where, args.repeats)
        bundle = folder_bytes(code) + layer_bytes
        row: dict[str, object] = {
            "function": logical_id,
            "handler": properties["Handler"],
            "cold_import": round(cold_import, 4),
            "ratio_to_fastapi_mangum": round(cold_import / baseline, 2),
            "bundle_unzipped_mb": round(bundle / 2**20, 1),
            "share_of_250_mb": round(bundle / LAMBDA_UNZIPPED_LIMIT_BYTES, 3),
        }
        if logical_id == API_FUNCTION:
            row["import_and_first_request"] = {
                label: round(cost(python, first_request_code(module, *request), [code, layer], code, args.repeats), 4)
                for label, request in API_FIRST_REQUESTS.items()
            }
        rows.append(row)
    result = {
        "python": subprocess.run([python, "--version"], capture_output=True, text=True).stdout.strip(),
        "unit": unit,
        "interpreter_start": round(interpreter, 4),
        "fastapi_mangum": round(baseline, 4),
        "layer_unzipped_mb": round(layer_bytes / 2**20, 1),
        "goal_ratio": GOAL_RATIO,
        "functions": rows,
    }
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "cold_start.json").write_text(json.dumps(result, indent=2))
    shown = (lambda v: f"{v / 1e6:8.0f} M") if args.instructions else (lambda v: f"{v:8.3f} s")
    print(f"{result['python']} ({unit}): interpreter {shown(interpreter)}, import fastapi, mangum {shown(baseline)}")
    print(f"{'function':34} {'cold import':>11} {'x fastapi+mangum':>17} {'unzipped':>9}")
    for row in rows:
        print(
            f"{row['function']:34} {shown(row['cold_import'])} {row['ratio_to_fastapi_mangum']:>16.2f}x"
            f" {row['bundle_unzipped_mb']:>6.1f} MB"
        )
    for row in rows:
        for label, value in dict(row.get("import_and_first_request") or {}).items():
            print(f"{row['function']} import + first request ({label}): {shown(value)}, {value / baseline:.2f}x")


if __name__ == "__main__":
    main()

"""Cold start of every zip function as `sam build` packages it: each handler's cold import with python3.12 from
the built bundle (function code + the shared layer, read-only like Lambda's /var/task and /opt), against
``import fastapi, mangum`` alone from the same layer in the same run; and each bundle's unzipped size
against Lambda's 250 MB limit.

    make sam-build && .venv/bin/python -m benchmarks.cold_start [--repeats 7]
"""

from __future__ import annotations

import argparse
import json
import os
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


def import_seconds(python: str, code: str, path: list[Path], cwd: Path, repeats: int) -> float:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": os.pathsep.join(str(p) for p in path),
        "PYTHONDONTWRITEBYTECODE": "1",  # /var/task and /opt are read-only in Lambda
        "APP_ENV": "prod",
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "POWERTOOLS_TRACE_DISABLED": "true",
    }
    timings = []
    for _ in range(repeats):
        started = time.perf_counter()
        subprocess.run([python, "-s", "-c", code], env=env, cwd=cwd, check=True, capture_output=True)
        timings.append(time.perf_counter() - started)
    return min(timings)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7, help="runs per import; the fastest counts")
    args = parser.parse_args()
    if not (BUILD / "template.yaml").exists():
        sys.exit("no .aws-sam/build/template.yaml: run `make sam-build` first")
    python = python312()
    template = load_template(BUILD / "template.yaml")
    layer = BUILD / "SharedLayer" / "python"
    layer_bytes = folder_bytes(BUILD / "SharedLayer")
    baseline = import_seconds(python, "import fastapi, mangum", [layer], BUILD, args.repeats)
    interpreter = import_seconds(python, "pass", [layer], BUILD, args.repeats)
    rows = []
    for logical_id, resource in sorted(resources_of_type(template, "AWS::Serverless::Function").items()):
        properties = resource["Properties"]
        if properties.get("PackageType") == "Image":
            continue
        code = BUILD / logical_id
        module = properties["Handler"].rpartition(".")[0]
        seconds = import_seconds(python, f"import {module}", [code, layer], code, args.repeats)
        bundle = folder_bytes(code) + layer_bytes
        rows.append(
            {
                "function": logical_id,
                "handler": properties["Handler"],
                "cold_import_s": round(seconds, 4),
                "ratio_to_fastapi_mangum": round(seconds / baseline, 2),
                "bundle_unzipped_mb": round(bundle / 2**20, 1),
                "share_of_250_mb": round(bundle / LAMBDA_UNZIPPED_LIMIT_BYTES, 3),
            }
        )
    result = {
        "python": subprocess.run([python, "--version"], capture_output=True, text=True).stdout.strip(),
        "interpreter_start_s": round(interpreter, 4),
        "fastapi_mangum_s": round(baseline, 4),
        "layer_unzipped_mb": round(layer_bytes / 2**20, 1),
        "goal_ratio": GOAL_RATIO,
        "functions": rows,
    }
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "cold_start.json").write_text(json.dumps(result, indent=2))
    print(f"{result['python']}: interpreter {interpreter:.3f} s, import fastapi, mangum {baseline:.3f} s")
    print(f"{'function':34} {'cold import':>11} {'x fastapi+mangum':>17} {'unzipped':>9}")
    for row in rows:
        print(
            f"{row['function']:34} {row['cold_import_s']:>9.3f} s {row['ratio_to_fastapi_mangum']:>16.2f}x"
            f" {row['bundle_unzipped_mb']:>6.1f} MB"
        )


if __name__ == "__main__":
    main()

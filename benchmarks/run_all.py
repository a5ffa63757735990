"""Run every benchmark in turn with its default arguments (`make bench`). Each prints its own table of
ratios against baselines measured in the same run and writes its results to benchmarks/out/."""

from __future__ import annotations

import subprocess
import sys
import time

BENCHMARKS = [
    "recommend",
    "forecast",
    "customers",
    "pricing",
    "learning_curves",
    "ingest",
    "training",
    "api",
    "campaigns",
]


def main(argv: list[str]) -> int:
    selected = argv or BENCHMARKS
    failures = []
    for name in selected:
        print(f"\n===== benchmarks.{name} =====", flush=True)
        started = time.perf_counter()
        result = subprocess.run([sys.executable, "-m", f"benchmarks.{name}"], check=False)
        print(f"===== {name}: exit {result.returncode} in {time.perf_counter() - started:.0f} s", flush=True)
        if result.returncode != 0:
            failures.append(name)
    if failures:
        print("failed: " + ", ".join(failures), file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

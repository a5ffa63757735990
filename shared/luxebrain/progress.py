"""Progress on the command line: steps with their time, and a bar for long loops (stderr, no extra package)."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO


class Progress:
    def __init__(self, stream: TextIO | None = None, *, quiet: bool = False) -> None:
        self.stream = stream or sys.stderr
        self.quiet = quiet
        self._bar_total = 0
        self._bar_label = ""
        self._bar_started = 0.0
        self._last_draw = 0.0

    def say(self, message: str) -> None:
        if not self.quiet:
            print(message, file=self.stream, flush=True)

    @contextmanager
    def step(self, title: str) -> Iterator[None]:
        self.say(f"▶ {title} ...")
        started = time.perf_counter()
        yield
        self.say(f"  done in {time.perf_counter() - started:.1f} s")

    def start_bar(self, label: str, total: int) -> None:
        self._bar_label, self._bar_total = label, max(total, 1)
        self._bar_started = time.perf_counter()
        self._last_draw = 0.0
        self.update(0)

    def update(self, done: int) -> None:
        now = time.perf_counter()
        if self.quiet or (now - self._last_draw < 0.2 and done < self._bar_total):
            return
        self._last_draw = now
        fraction = min(done / self._bar_total, 1.0)
        filled = int(fraction * 30)
        rate = done / max(now - self._bar_started, 1e-9)
        line = f"\r  {self._bar_label} [{'#' * filled}{'.' * (30 - filled)}] {done}/{self._bar_total} ({rate:,.0f}/s)"
        print(line, end="\n" if done >= self._bar_total else "", file=self.stream, flush=True)

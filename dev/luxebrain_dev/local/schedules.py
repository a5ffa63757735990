"""EventBridge Scheduler for a long-running local stack: a template function invoked with a schedule's Input on
a timer, in the background (the embedded AWS skips ``AWS::Scheduler::Schedule`` resources)."""

from __future__ import annotations

import logging
import threading
from typing import Any

from luxebrain_dev.local.functions import load_functions

logger = logging.getLogger(__name__)


class LocalSchedule:
    """Invoke ``function_logical_id`` with ``event`` every ``every_seconds`` until :meth:`stop`."""

    def __init__(self, function_logical_id: str, event: dict[str, Any], every_seconds: float) -> None:
        self.function = load_functions()[function_logical_id]
        self.event = event
        self.every_seconds = every_seconds
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        def run() -> None:
            while not self._stop.wait(self.every_seconds):
                try:
                    self.function.invoke(dict(self.event))
                except Exception:  # the next tick runs it again, as the schedule's retry policy would
                    logger.exception("local schedule of %s failed", self.function.logical_id)

        self._thread = threading.Thread(target=run, name=f"schedule-{self.function.logical_id}", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=60)

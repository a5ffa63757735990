"""A small per-container cache whose entries expire after a fixed time: for the reads nearly every request
repeats (a user's membership, a tenant's profile, a storefront key, a tenant's storefront origins, its
recommendation rules and catalogue), so one container makes one read per key per window instead of one per
request.

What another container changes takes at most the window to show here; a change made in this container is
applied at once by ``forget``. Every cache is emptied by ``runtime.reset_runtime()`` (tests, the local runtime).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

from luxebrain.runtime import on_reset

_Key = TypeVar("_Key", bound=Hashable)
_Value = TypeVar("_Value")
# Expired entries are swept when the cache has grown to this many since the last sweep (amortised O(1)).
FIRST_SWEEP_AT = 256


class ExpiringCache(Generic[_Key, _Value]):
    """Values by key for ``seconds``, safe across threads. A load runs outside the lock (it is a read of
    DynamoDB): two threads missing the same key at once both read, and the later answer is kept."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._lock = threading.Lock()
        self._entries: dict[_Key, tuple[float, _Value]] = {}
        self._sweep_at = FIRST_SWEEP_AT
        on_reset(self.clear)

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def get(self, key: _Key, load: Callable[[], _Value], *, fresh: bool = False) -> _Value:
        """The cached value while it is fresh, else (or with ``fresh``) ``load()``, kept for the window."""
        now = time.monotonic()
        if not fresh:
            with self._lock:
                entry = self._entries.get(key)
            if entry is not None and entry[0] > now:
                return entry[1]
        value = load()
        self._keep(key, value, now)
        return value

    def put(self, key: _Key, value: _Value) -> None:
        """Hold ``value`` for the window: what this container just wrote, served at once."""
        self._keep(key, value, time.monotonic())

    def _keep(self, key: _Key, value: _Value, now: float) -> None:
        with self._lock:
            self._entries[key] = (now + self.seconds, value)
            if len(self._entries) >= self._sweep_at:
                # A long-lived container sees many users and keys: drop those past their window.
                self._entries = {k: entry for k, entry in self._entries.items() if entry[0] > now}
                self._sweep_at = max(FIRST_SWEEP_AT, 2 * len(self._entries))

    def cached(self, key: _Key) -> _Value | None:
        """The value held for ``key`` if it is still fresh; None without reading anything."""
        with self._lock:
            entry = self._entries.get(key)
        return entry[1] if entry is not None and entry[0] > time.monotonic() else None

    def forget(self, key: _Key) -> None:
        with self._lock:
            self._entries.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

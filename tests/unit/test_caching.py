"""The kernel's expiring cache (memberships, tenant profiles, storefront keys and origins, recommendation rules,
the catalogue serving reads): one load per key per window, a fresh read on demand, ``put`` for what this container
wrote, ``forget`` and ``runtime.reset_runtime()`` dropping what it holds."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from luxebrain import caching
from luxebrain.caching import ExpiringCache
from luxebrain.runtime import reset_runtime


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    clock = Clock()
    monkeypatch.setattr(caching.time, "monotonic", clock)
    return clock


def counting_loader(values: list[str]) -> tuple[list[str], Callable[[], str]]:
    loads: list[str] = []

    def load() -> str:
        loads.append("read")
        return values[len(loads) - 1]

    return loads, load


def test_a_value_is_loaded_once_per_window_then_again(clock: Clock) -> None:
    cache: ExpiringCache[str, str] = ExpiringCache(10.0)
    loads, load = counting_loader(["first", "second"])
    assert cache.get("t1", load) == "first"
    clock.now += 9.9
    assert cache.get("t1", load) == "first"
    assert cache.cached("t1") == "first"
    assert len(loads) == 1
    clock.now += 0.2  # past the window
    assert cache.cached("t1") is None
    assert cache.get("t1", load) == "second"
    assert len(loads) == 2


def test_keys_are_apart_and_none_is_a_cached_answer(clock: Clock) -> None:
    cache: ExpiringCache[str, str | None] = ExpiringCache(10.0)
    reads: list[str] = []
    assert cache.get("nobody", lambda: reads.append("nobody") or None) is None
    assert cache.get("nobody", lambda: reads.append("nobody") or None) is None
    assert cache.get("t2", lambda: reads.append("t2") or "x") == "x"
    assert reads == ["nobody", "t2"]


def test_fresh_reads_again_and_forget_and_reset_drop_the_value(clock: Clock) -> None:
    cache: ExpiringCache[str, str] = ExpiringCache(60.0)
    loads, load = counting_loader(["a", "b", "c", "d"])
    cache.get("t1", load)
    assert cache.get("t1", load, fresh=True) == "b"
    assert cache.get("t1", load) == "b"  # the fresh answer is the one kept
    cache.forget("t1")
    assert cache.cached("t1") is None
    assert cache.get("t1", load) == "c"
    reset_runtime()
    assert cache.cached("t1") is None
    assert cache.get("t1", load) == "d"
    assert len(loads) == 4


def test_expired_entries_are_dropped_as_new_keys_arrive(clock: Clock) -> None:
    # A container lives for hours and sees many users: entries past their window must not pile up.
    cache: ExpiringCache[int, int] = ExpiringCache(seconds=30)
    for user in range(1000):
        cache.get(user, lambda: 0)
    clock.now += 31
    for user in range(1000, 2000):
        cache.get(user, lambda: 0)
    assert len(cache) <= 1000 + 512
    assert cache.cached(1999) == 0 and cache.cached(0) is None


def test_a_put_value_is_served_for_the_window_without_a_load(clock: Clock) -> None:
    cache: ExpiringCache[str, str] = ExpiringCache(10.0)
    loads, load = counting_loader(["read back"])
    cache.put("t1", "just written")
    assert cache.get("t1", load) == "just written"
    clock.now += 10.1
    assert cache.get("t1", load) == "read back"
    assert len(loads) == 1

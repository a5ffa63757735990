"""The unit tier: no network and no embedded AWS.

Every test here runs with internet sockets and name resolution refused (pytest-socket), its module and
session fixtures included; unix sockets stay allowed because asyncio's event loop (FastAPI's TestClient)
wakes itself through a socketpair. A test that needs a server, moto or the fake WooCommerce belongs in
tests/integration."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from luxebrain.runtime import reset_runtime

try:
    from pytest_socket import disable_socket
except ImportError:  # a virtualenv from before requirements-dev.txt named it
    raise pytest.UsageError("the unit tier needs pytest-socket: run `make .venv/.installed`") from None

REFUSED_HERE = {
    "local_aws": "starts the embedded AWS (moto's server)",
    "tenant_id": "creates a tenant in the embedded AWS",
    "socket_enabled": "turns the network back on",
}


@pytest.hookimpl(tryfirst=True)  # before the fixtures are set up, so that they cannot reach the network either
def pytest_runtest_setup(item: pytest.Item) -> None:
    fixtures = set(getattr(item, "fixturenames", ()))
    for name, what in REFUSED_HERE.items():
        if name in fixtures:
            pytest.fail(f"{item.nodeid} uses the fixture {name!r}, which {what}: it belongs in tests/integration")
    if item.get_closest_marker("enable_socket"):
        pytest.fail(f"{item.nodeid} is marked enable_socket: a test that needs the network belongs in integration")
    disable_socket(allow_unix_socket=True)  # pytest-socket lifts it after each test's teardown


# The settings a local stack has; nothing in the unit tier reaches the resources they name.
LOCAL_SETTINGS = {
    "APP_ENV": "local",
    "LUXEBRAIN_TABLE_NAME": "luxebrain-data",
    "LUXEBRAIN_MODELS_BUCKET": "luxebrain-models",
}


@pytest.fixture
def local_settings(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., None]]:
    """Call it with any settings beyond a local stack's: the environment is set and the runtime rebuilt on it,
    and both are restored after the test."""

    def configure(**extra: str) -> None:
        for name, value in {**LOCAL_SETTINGS, **extra}.items():
            monkeypatch.setenv(name, value)
        reset_runtime()

    yield configure
    monkeypatch.undo()
    reset_runtime()

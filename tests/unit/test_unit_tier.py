"""The rules of the unit tier (tests/unit/conftest.py): no network, no moto."""

from __future__ import annotations

import ast
import socket
from pathlib import Path

import pytest
from pytest_socket import SocketBlockedError

UNIT_TIER = Path(__file__).resolve().parent


@pytest.mark.filterwarnings("ignore:A test tried to use socket")  # pytest-socket warns as it refuses
def test_an_internet_socket_is_refused() -> None:
    with pytest.raises(SocketBlockedError):
        socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    with pytest.raises(SocketBlockedError):
        socket.create_connection(("127.0.0.1", 9))
    with pytest.raises(SocketBlockedError):
        socket.getaddrinfo("localhost", 80)


def test_a_unix_socket_pair_still_works() -> None:
    # asyncio's event loop (FastAPI's TestClient) wakes itself through one
    left, right = socket.socketpair()
    with left, right:
        left.sendall(b"x")
        assert right.recv(1) == b"x"


def test_no_unit_test_imports_moto() -> None:
    importers = []
    for path in sorted(UNIT_TIER.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            if any(name == "moto" or name.startswith("moto.") for name in names):
                importers.append(path.name)
    assert importers == []

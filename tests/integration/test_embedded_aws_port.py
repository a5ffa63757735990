"""Starting the embedded AWS on a port that is taken: a clear error, and nothing started."""

from __future__ import annotations

import socket

import pytest

from luxebrain.errors import ConfigurationError
from luxebrain_dev.local.embedded import EmbeddedAws


def test_port_in_use_is_a_clear_error_and_starts_nothing() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        aws = EmbeddedAws(port=port)
        with pytest.raises(ConfigurationError, match=f"port {port} on 127.0.0.1 is in use"):
            aws.start()
        assert aws._server is None

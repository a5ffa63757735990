"""The command line: clear one-line errors and non-zero exits, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from luxebrain import __version__
from luxebrain.errors import ConfigurationError
from luxebrain_dev.cli import main
from luxebrain_dev.local.embedded import EmbeddedAws


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert __version__ in capsys.readouterr().out


def test_help_lists_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    for command in ("demo", "local", "train", "backfill", "evaluate"):
        assert command in out


def test_no_command_prints_help_and_fails(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    assert "usage" in capsys.readouterr().out


def test_malformed_tenant_id_is_one_line_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["train", "--tenant", "NOT VALID"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("luxebrain: error: tenant id 'NOT VALID' is not well formed")
    assert "Traceback" not in err


def test_broken_template_fails_before_starting_a_server(tmp_path: Path) -> None:
    broken = tmp_path / "template.yaml"
    broken.write_text("Resources: [\n")
    aws = EmbeddedAws(template_path=broken)
    with pytest.raises(ConfigurationError, match="not valid YAML"):
        aws.start()
    assert aws._server is None

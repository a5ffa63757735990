"""The dashboard's typed client is generated from web/openapi.json: it must be the app's current document,
so a changed route fails here (and the dashboard's type check) instead of in a merchant's browser."""

from __future__ import annotations

from luxebrain_dev.openapi_export import DOCUMENT, current_document, main


def test_the_committed_document_is_the_apps_current_one() -> None:
    assert DOCUMENT.read_text(encoding="utf-8") == current_document(), (
        "web/openapi.json is out of date: run .venv/bin/python -m luxebrain_dev.openapi_export"
    )


def test_check_mode_fails_on_a_stale_document(tmp_path, monkeypatch) -> None:
    stale = tmp_path / "openapi.json"
    stale.write_text('{"paths": {}}\n', encoding="utf-8")
    monkeypatch.setattr("luxebrain_dev.openapi_export.DOCUMENT", stale)
    assert main(["--check"]) == 1
    stale.write_text(current_document(), encoding="utf-8")
    assert main(["--check"]) == 0

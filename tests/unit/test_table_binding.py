"""The table is bound on first use, from settings, without any caller binding it first; a reset binds again."""

from __future__ import annotations

import pytest

from luxebrain.runtime import reset_runtime
from luxebrain.storage.items.catalogue import ProductItem


def test_first_use_binds_every_entity_to_the_configured_table(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("APP_ENV", "local")
    monkeypatch.setenv("LUXEBRAIN_MODELS_BUCKET", "models-under-test")
    monkeypatch.setenv("LUXEBRAIN_TABLE_NAME", "tenant-data-under-test")
    reset_runtime()
    try:
        assert ProductItem._get_connection().table_name == "tenant-data-under-test"
        monkeypatch.setenv("LUXEBRAIN_TABLE_NAME", "another-table")
        assert ProductItem._get_connection().table_name == "tenant-data-under-test"  # bound once
        reset_runtime()
        assert ProductItem._get_connection().table_name == "another-table"
    finally:
        monkeypatch.undo()
        reset_runtime()

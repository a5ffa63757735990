"""The storefront widget's size goal (at most 15 KB gzipped): it needs only the script itself, so it runs on
every machine, with or without the browser the widget's integration tests drive."""

from __future__ import annotations

import gzip
from pathlib import Path

WIDGET = Path(__file__).resolve().parents[2] / "integrations" / "widget" / "luxebrain-widget.js"
MAX_GZIPPED_BYTES = 15 * 1024


def test_the_widget_is_small() -> None:
    script = WIDGET.read_bytes()
    assert b"data-luxebrain-placement" in script  # the widget itself, not an empty or stray file
    assert len(gzip.compress(script, 9)) <= MAX_GZIPPED_BYTES

"""The attribution meta the WordPress plugin writes into an order's ``meta_data`` at checkout (pure parsing:
ingest's mapping imports it)."""

from __future__ import annotations

import json
import re
from typing import Any

VISITOR_META_KEY = "_luxebrain_visitor"
ATTRIBUTION_META_KEY = "_luxebrain_attribution"
_VISITOR = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
_PLACEMENT = re.compile(r"^[a-z][a-z0-9_-]{0,39}$")
_VERSION = re.compile(r"^[A-Za-z0-9_.:+-]{1,120}$")
_RESPONSE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def attribution_from_meta(meta_data: list[Any]) -> dict[str, str] | None:
    """The visitor id (and the last clicked placement, model version and response id, for reference) from an
    order's meta_data, or None. Malformed values are ignored, never stored."""
    values = {getattr(meta, "key", ""): getattr(meta, "value", None) for meta in meta_data}
    visitor = values.get(VISITOR_META_KEY)
    if not isinstance(visitor, str) or not _VISITOR.fullmatch(visitor):
        return None
    attribution: dict[str, str] = {"visitor_id": visitor}
    clicked = values.get(ATTRIBUTION_META_KEY)
    if isinstance(clicked, str) and len(clicked) <= 1000:  # stored as a JSON string by some plugins
        try:
            clicked = json.loads(clicked)
        except ValueError:
            clicked = None
    if isinstance(clicked, dict):
        placement, version, response = (clicked.get(name) for name in ("placement", "model_version", "response_id"))
        if isinstance(placement, str) and _PLACEMENT.fullmatch(placement):
            attribution["placement"] = placement
        if isinstance(version, str) and _VERSION.fullmatch(version):
            attribution["model_version"] = version
        if isinstance(response, str) and _RESPONSE.fullmatch(response):
            attribution["response_id"] = response
    return attribution

"""Opaque cursors for list routes: DynamoDB's LastEvaluatedKey, base64url-encoded.

A decoded cursor is checked against the partition the route is about to query, so a client cannot
forge one that points into another tenant's partition; anything else is a clear 422, never a 500.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from luxebrain.errors import InvalidInputError

MAX_PAGE_SIZE = 100
DEFAULT_PAGE_SIZE = 25
_INVALID = "the cursor is not valid for this list; start again from the first page"


def encode_cursor(last_evaluated_key: dict[str, Any] | None) -> str | None:
    """An opaque cursor for the next page, or None at the end of the list."""
    if not last_evaluated_key:
        return None
    payload = json.dumps(last_evaluated_key, sort_keys=True, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(payload).decode().rstrip("=")


# The key attributes a LastEvaluatedKey may hold: the table's keys, plus the index's for an index query.
_TABLE_KEYS = {"pk", "sk"}
_INDEX_KEYS = {"gsi1pk": {"pk", "sk", "gsi1pk", "gsi1sk"}}


def decode_cursor(
    cursor: str | None, *, partition: str, partition_attribute: str = "pk", sort_prefix: str | None = None
) -> dict[str, Any] | None:
    """The LastEvaluatedKey in ``cursor``, if it belongs to ``partition`` (the tenant's own), has exactly the
    key attributes of the query (all strings) and, with ``sort_prefix``, a sort key in the queried range:
    otherwise DynamoDB would reject the query (a 500) instead of the caller getting a 422."""
    if not cursor:
        return None
    if len(cursor) > 2048:
        raise InvalidInputError(_INVALID)
    try:
        key = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except ValueError:
        raise InvalidInputError(_INVALID) from None
    if not isinstance(key, dict) or not all(isinstance(value, dict) and len(value) == 1 for value in key.values()):
        raise InvalidInputError(_INVALID)
    if key.get(partition_attribute) != {"S": partition}:
        raise InvalidInputError(_INVALID)
    expected = _INDEX_KEYS.get(partition_attribute, _TABLE_KEYS)
    if set(key) != expected or not all(isinstance(value.get("S"), str) for value in key.values()):
        raise InvalidInputError(_INVALID)
    sort_attribute = "gsi1sk" if partition_attribute == "gsi1pk" else "sk"
    if sort_prefix is not None and not key[sort_attribute]["S"].startswith(sort_prefix):
        raise InvalidInputError(_INVALID)
    return key

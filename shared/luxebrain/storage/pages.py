"""One page of a partition, and the one recipe that reads it: callers see items and an opaque cursor, never
DynamoDB's LastEvaluatedKey."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from pynamodb.expressions.condition import Condition

from luxebrain.webapi.pagination import decode_cursor, encode_cursor

T = TypeVar("T")
ItemT = TypeVar("ItemT")


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None  # None on the last page


def query_page(
    query: Callable[..., Any],
    partition: str,
    mapper: Callable[[ItemT], T],
    *,
    limit: int,
    cursor: str | None,
    sort_condition: Condition | None = None,
    sort_prefix: str | None = None,
    newest_first: bool = False,
    partition_attribute: str = "pk",
    filter_condition: Condition | None = None,
) -> Page[T]:
    """Read one page of ``partition`` with ``query`` (a model's or an index's ``query``), mapped to domain objects.

    The cursor is checked against the partition (and, with ``sort_prefix``, the sort-key range) before DynamoDB
    sees it, so a forged or foreign cursor is a 422, never another tenant's page nor a 500."""
    results = query(
        partition,
        range_key_condition=sort_condition,
        filter_condition=filter_condition,
        limit=limit,
        scan_index_forward=not newest_first,
        last_evaluated_key=decode_cursor(
            cursor, partition=partition, partition_attribute=partition_attribute, sort_prefix=sort_prefix
        ),
    )
    items = [mapper(item) for item in results]
    return Page(items=items, next_cursor=encode_cursor(results.last_evaluated_key))

"""Entities to domain records and back, field by field by name: one recipe instead of a hand-written copy of
every attribute per entity (a field the entity lacks is an error at once, not a silently dropped value)."""

from __future__ import annotations

from dataclasses import fields
from typing import Any, TypeVar

RecordT = TypeVar("RecordT")


def record_from(record_type: type[RecordT], source: object, **converted: Any) -> RecordT:
    """A ``record_type`` (a dataclass) with each field read from ``source``'s attribute of the same name, except
    the fields given in ``converted`` (those that need a conversion, such as a list to a tuple)."""
    values = {f.name: getattr(source, f.name) for f in fields(record_type) if f.name not in converted}  # type: ignore[arg-type]
    return record_type(**values, **converted)


def attributes_of(record: Any, **converted: Any) -> dict[str, Any]:
    """A dataclass record's fields by name, ``converted`` replacing some: the keyword arguments of its entity."""
    return {**{f.name: getattr(record, f.name) for f in fields(record)}, **converted}

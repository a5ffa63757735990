"""The table's shared keys, the base class every entity derives from, and the one registry of entities.

The table is one (see docs/data-model.md). Every partition key starts with the tenant: keys are built only by
the ``key_*`` helpers beside each entity, through :func:`luxebrain.tenancy.tenant_partition`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, ClassVar

from pynamodb.attributes import (
    NumberAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.connection import TableConnection
from pynamodb.exceptions import DeleteError, PutError, PynamoDBException, UpdateError
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action
from pynamodb.models import Model

from luxebrain.runtime import on_reset

DEFAULT_TABLE_NAME = "luxebrain-data"


def utc_now() -> datetime:
    return datetime.now(UTC)


class BaseItem(Model):
    """Keys shared by every entity in the table."""

    class Meta:
        table_name = DEFAULT_TABLE_NAME
        region = "us-east-1"

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    gsi1pk = UnicodeAttribute(null=True)
    gsi1sk = UnicodeAttribute(null=True)
    gsi2pk = UnicodeAttribute(null=True)
    gsi2sk = UnicodeAttribute(null=True)
    entity = UnicodeAttribute()
    tenant_id = UnicodeAttribute()
    updated_at = UTCDateTimeAttribute(default=utc_now)
    expires_at = NumberAttribute(null=True)  # epoch seconds; the table's TTL attribute

    ENTITY: ClassVar[str] = "item"

    def __init_subclass__(cls, **kwargs: Any) -> None:
        # Every entity registers itself once, here, so the table binding and the schema tests cannot miss one.
        super().__init_subclass__(**kwargs)
        ENTITY_CLASSES.append(cls)

    @classmethod
    def _get_connection(cls) -> TableConnection:
        # Every read and write passes here: the table is bound on first use, once per execution environment,
        # so no caller has to remember to bind it first.
        if not _binding["bound"]:
            bind_to_configured_table()
        return super()._get_connection()


# Filled by BaseItem.__init_subclass__; complete once luxebrain.storage.items is imported.
ENTITY_CLASSES: list[type[BaseItem]] = []


def is_condition_failure(exc: Exception) -> bool:
    """True when a pynamodb write failed only because its condition did not hold (the expected outcome of a
    duplicate, a stale version or a lost race), as opposed to an error worth retrying."""
    return getattr(exc, "cause_response_code", None) == "ConditionalCheckFailedException"


def _written(write: Callable[[], object], refusal: type[PynamoDBException]) -> bool:
    try:
        write()
    except refusal as exc:
        if is_condition_failure(exc):
            return False
        raise
    return True


def save_if(item: BaseItem, condition: Condition) -> bool:
    """Save ``item`` when ``condition`` holds: True when written, False when the condition did not hold (any
    other error is raised)."""
    return _written(lambda: item.save(condition=condition), PutError)


def update_if(item: BaseItem, actions: list[Action], condition: Condition) -> bool:
    """Apply ``actions`` when ``condition`` holds (``item`` then holds the stored attributes): True when
    written, False when the condition did not hold."""
    return _written(lambda: item.update(actions=actions, condition=condition), UpdateError)


def delete_if(item: BaseItem, condition: Condition) -> bool:
    """Delete ``item`` when ``condition`` holds: True when deleted, False when the condition did not hold."""
    return _written(lambda: item.delete(condition=condition), DeleteError)


_binding = {"bound": False}


def configure_models(table_name: str, region: str) -> None:
    """Point every model at the configured table; the endpoint comes from AWS_ENDPOINT_URL like boto3."""
    for model in (BaseItem, *ENTITY_CLASSES):
        model.Meta.table_name = table_name
        model.Meta.region = region
        model._connection = None  # pynamodb caches the connection with the old table name
    _binding["bound"] = True


def bind_to_configured_table() -> None:
    from luxebrain.settings import get_settings

    settings = get_settings()
    configure_models(settings.table_name, settings.aws_region)


@on_reset
def unbind() -> None:
    """Bind again on next use (settings or the endpoint changed: tests, the local runtime)."""
    _binding["bound"] = False

"""Tenant identity and the key scheme that keeps every tenant's data in partitions of its own.

Every partition key in the table starts with ``TENANT#<tenant_id>``; the helpers here are the only place
keys are built, so no query can name a partition of another tenant by accident.
"""

from __future__ import annotations

import re
import secrets

from luxebrain.errors import InvalidInputError

TENANT_ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{2,38}[a-z0-9]$")
ENTITY_ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:@-]{0,127}$")


def validate_tenant_id(tenant_id: str) -> str:
    """Return the tenant id if well formed (4-40 chars: lowercase letters, digits, inner hyphens)."""
    if not isinstance(tenant_id, str) or not TENANT_ID_PATTERN.fullmatch(tenant_id):
        raise InvalidInputError(
            f"tenant id {tenant_id!r} is not well formed: use 4-40 lowercase letters, digits or hyphens, "
            "starting and ending with a letter or digit"
        )
    return tenant_id


def validate_entity_id(entity_id: str, what: str = "id") -> str:
    if not isinstance(entity_id, str) or not ENTITY_ID_PATTERN.fullmatch(entity_id):
        raise InvalidInputError(f"{what} {entity_id!r} is not well formed")
    return entity_id


def new_tenant_id() -> str:
    return "t-" + secrets.token_hex(6)


def tenant_partition(tenant_id: str, *parts: str) -> str:
    """``TENANT#<tenant>`` followed by ``#part`` for each part: the prefix of every partition key."""
    validate_tenant_id(tenant_id)
    return "#".join(("TENANT", tenant_id, *parts))

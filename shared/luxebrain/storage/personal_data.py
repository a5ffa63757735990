"""The table read whole, on purpose: a person's items (export, erasure) and a tenant's items (deletion).

This is the one module that scans the table. Every item carries ``tenant_id``, and every item about a customer
either lives in the customer's partitions or names ``customer_id`` (or the customer's e-mail), so a filtered
scan finds them all, including entities added later by other modules; a list of per-entity queries would miss
the next one. Erasure and tenant deletion are rare, so completeness is worth a scan. Everything else queries.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer

from luxebrain.runtime import aws_client, configured_settings
from luxebrain.tenancy import tenant_partition, validate_entity_id, validate_tenant_id

_deserializer = TypeDeserializer()
# Attributes that are never handed out (keys, credentials, internal hashes).
NEVER_EXPORTED = frozenset({"secrets_ciphertext", "content_hash", "gsi1pk", "gsi1sk", "gsi2pk", "gsi2sk", "pk", "sk"})
MEMBERSHIP_PREFIX = "MEMBER#"


@dataclass(frozen=True)
class PersonalRecord:
    """One stored item about a person: its entity and its attributes as plain JSON values (keys, credentials
    and hashes left out)."""

    entity: str
    attributes: dict[str, Any]


@dataclass(frozen=True)
class Erasure:
    deleted: dict[str, int]  # items deleted, per entity
    anonymised: dict[str, int]  # items kept without any link to the person, per entity


@dataclass(frozen=True)
class TenantItemsDeleted:
    items: int
    member_user_ids: list[str]  # the users whose memberships were deleted (their cached sessions must go)


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(bytes(value)).decode()
    if isinstance(value, set | frozenset):
        return sorted(_plain(v) for v in value)
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _scan(filter_expression: str, names: dict[str, str], values: dict[str, Any]) -> Iterator[dict[str, Any]]:
    settings = configured_settings()
    paginator = aws_client("dynamodb").get_paginator("scan")
    for page in paginator.paginate(
        TableName=settings.table_name,
        FilterExpression=filter_expression,
        ExpressionAttributeNames=names,
        ExpressionAttributeValues=values,
        ConsistentRead=True,
    ):
        yield from page.get("Items", [])


def _scan_tenant(tenant_id: str) -> Iterator[dict[str, Any]]:
    validate_tenant_id(tenant_id)
    return _scan("#tenant = :tenant", {"#tenant": "tenant_id"}, {":tenant": {"S": tenant_id}})


def _customer_items(tenant_id: str, customer_id: str) -> list[dict[str, Any]]:
    validate_tenant_id(tenant_id)
    validate_entity_id(customer_id, "customer id")
    customers_partition = tenant_partition(tenant_id, "CUSTOMER")
    values: dict[str, Any] = {
        ":tenant": {"S": tenant_id},
        ":customer": {"S": customer_id},
        ":customers": {"S": customers_partition},
        ":own": {"S": tenant_partition(tenant_id, "CUSTOMER", customer_id)},
    }
    expression = (
        "#tenant = :tenant AND (#customer = :customer OR (#pk = :customers AND #sk = :customer) "
        "OR begins_with(#pk, :own))"
    )
    names = {"#tenant": "tenant_id", "#customer": "customer_id", "#pk": "pk", "#sk": "sk"}
    items = list(_scan(expression, names, values))
    emails = {item["email"]["S"] for item in items if item.get("entity", {}).get("S") == "customer" and "email" in item}
    for email in emails:
        # Items keyed by the address rather than the id (consent, suppression lists, guests).
        by_email = _scan(
            "#tenant = :tenant AND (#email = :email OR #email_hash = :email_hash)",
            {"#tenant": "tenant_id", "#email": "email", "#email_hash": "email_sha256"},
            {
                ":tenant": {"S": tenant_id},
                ":email": {"S": email},
                ":email_hash": {"S": hashlib.sha256(email.strip().lower().encode()).hexdigest()},
            },
        )
        known = {(i["pk"]["S"], i["sk"]["S"]) for i in items}
        items.extend(i for i in by_email if (i["pk"]["S"], i["sk"]["S"]) not in known)
    return items


def _entity(item: dict[str, Any]) -> str:
    return str(item.get("entity", {}).get("S", "unknown"))


def customer_records(tenant_id: str, customer_id: str) -> list[PersonalRecord]:
    """Everything stored about one customer, any entity."""
    records = []
    for raw in _customer_items(tenant_id, customer_id):
        item = {k: _deserializer.deserialize(v) for k, v in raw.items()}
        attributes = {k: _plain(v) for k, v in sorted(item.items()) if k not in NEVER_EXPORTED}
        records.append(PersonalRecord(entity=str(item.get("entity", "unknown")), attributes=attributes))
    return records


def erase_customer_records(
    tenant_id: str, customer_id: str, *, pseudonym: str, anonymised_entities: Collection[str]
) -> Erasure:
    """Delete every item about a customer, except those of ``anonymised_entities`` (business records that
    outlive the person), which keep only ``pseudonym`` in place of the customer and lose the by-customer index,
    the billing country and any contact detail."""
    settings = configured_settings()
    dynamodb = aws_client("dynamodb")
    deleted: dict[str, int] = {}
    anonymised: dict[str, int] = {}
    for item in _customer_items(tenant_id, customer_id):
        entity = _entity(item)
        key = {"pk": item["pk"], "sk": item["sk"]}
        if entity in anonymised_entities:
            dynamodb.update_item(
                TableName=settings.table_name,
                Key=key,
                UpdateExpression="SET customer_id = :pseudonym REMOVE gsi1pk, gsi1sk, billing_country, email, phone",
                ExpressionAttributeValues={":pseudonym": {"S": pseudonym}},
            )
            anonymised[entity] = anonymised.get(entity, 0) + 1
        else:
            dynamodb.delete_item(TableName=settings.table_name, Key=key)
            deleted[entity] = deleted.get(entity, 0) + 1
    return Erasure(deleted=deleted, anonymised=anonymised)


def count_customer_items(tenant_id: str, customer_id: str) -> int:
    return len(_customer_items(tenant_id, customer_id))


def _is_kept(item: dict[str, Any], keep: Collection[tuple[str, str]]) -> bool:
    return (item["pk"]["S"], item["sk"]["S"]) in keep


def count_tenant_items(tenant_id: str, *, keep: Collection[tuple[str, str]] = ()) -> int:
    """Every item of the tenant, any entity, except the ``keep`` keys (pk, sk)."""
    return sum(1 for item in _scan_tenant(tenant_id) if not _is_kept(item, keep))


def delete_tenant_items(tenant_id: str, *, keep: Collection[tuple[str, str]] = ()) -> TenantItemsDeleted:
    """Delete every item of the tenant, any entity, except the ``keep`` keys (pk, sk): BatchWriteItem, 25 a
    request, retried until none is left."""
    settings = configured_settings()
    dynamodb = aws_client("dynamodb")
    keys = [{"pk": item["pk"], "sk": item["sk"]} for item in _scan_tenant(tenant_id) if not _is_kept(item, keep)]
    for start in range(0, len(keys), 25):
        requests: dict[str, Any] = {
            settings.table_name: [{"DeleteRequest": {"Key": key}} for key in keys[start : start + 25]]
        }
        while requests:
            requests = dynamodb.batch_write_item(RequestItems=requests).get("UnprocessedItems") or {}
    members = [
        key["sk"]["S"].removeprefix(MEMBERSHIP_PREFIX) for key in keys if key["sk"]["S"].startswith(MEMBERSHIP_PREFIX)
    ]
    return TenantItemsDeleted(items=len(keys), member_user_ids=members)

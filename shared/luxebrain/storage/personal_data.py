"""The table read whole, on purpose: a person's items (export, erasure) and a tenant's items (deletion).

This is the one module that scans the table. Every item carries ``tenant_id``, and every item about a customer
either lives in the customer's partitions or names ``customer_id`` (or the customer's e-mail), so a filtered
scan finds them all, including entities added later by other modules; a list of per-entity queries would miss
the next one. Erasure and tenant deletion are rare, so completeness is worth a scan. Everything else queries.

The privacy worker is given :class:`PersonalDataRepository` (``DynamoPersonalDataRepository`` from
:func:`personal_data_repository` in the product, an in-memory table in the unit tier).
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from typing import TYPE_CHECKING, Any, Protocol

from luxebrain.runtime import aws_client, configured_settings
from luxebrain.tenancy import tenant_partition, validate_entity_id, validate_tenant_id

if TYPE_CHECKING:
    from boto3.dynamodb.types import TypeDeserializer

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


@cache
def _deserializer() -> TypeDeserializer:
    # Imported on the first record, not with the module: the privacy worker's cold import leaves boto3 out.
    from boto3.dynamodb.types import TypeDeserializer

    return TypeDeserializer()


def personal_record(raw: Mapping[str, Any]) -> PersonalRecord:
    """One stored item (DynamoDB JSON, as a scan returns it) as what an export hands out."""
    item = {k: _deserializer().deserialize(v) for k, v in raw.items()}
    attributes = {k: _plain(v) for k, v in sorted(item.items()) if k not in NEVER_EXPORTED}
    return PersonalRecord(entity=str(item.get("entity", "unknown")), attributes=attributes)


def _scan(
    filter_expression: str, names: dict[str, str], values: dict[str, Any], *, page_size: int | None = None
) -> Iterator[dict[str, Any]]:
    settings = configured_settings()
    paginator = aws_client("dynamodb").get_paginator("scan")
    pages: dict[str, Any] = {"PageSize": page_size} if page_size else {}
    for page in paginator.paginate(
        TableName=settings.table_name,
        FilterExpression=filter_expression,
        ExpressionAttributeNames=names,
        ExpressionAttributeValues=values,
        ConsistentRead=True,
        PaginationConfig=pages,
    ):
        yield from page.get("Items", [])


def _scan_tenant(tenant_id: str, *, page_size: int | None = None) -> Iterator[dict[str, Any]]:
    validate_tenant_id(tenant_id)
    return _scan("#tenant = :tenant", {"#tenant": "tenant_id"}, {":tenant": {"S": tenant_id}}, page_size=page_size)


def _customer_items(tenant_id: str, customer_id: str, *, page_size: int | None = None) -> list[dict[str, Any]]:
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
    items = list(_scan(expression, names, values, page_size=page_size))
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
            page_size=page_size,
        )
        known = {(i["pk"]["S"], i["sk"]["S"]) for i in items}
        items.extend(i for i in by_email if (i["pk"]["S"], i["sk"]["S"]) not in known)
    return items


def _entity(item: dict[str, Any]) -> str:
    return str(item.get("entity", {}).get("S", "unknown"))


def customer_records(tenant_id: str, customer_id: str, *, page_size: int | None = None) -> list[PersonalRecord]:
    """Everything stored about one customer, any entity."""
    return [personal_record(raw) for raw in _customer_items(tenant_id, customer_id, page_size=page_size)]


def erase_customer_records(
    tenant_id: str,
    customer_id: str,
    *,
    pseudonym: str,
    anonymised_entities: Collection[str],
    page_size: int | None = None,
) -> Erasure:
    """Delete every item about a customer, except those of ``anonymised_entities`` (business records that
    outlive the person), which keep only ``pseudonym`` in place of the customer and lose the by-customer index,
    the billing country and any contact detail."""
    settings = configured_settings()
    dynamodb = aws_client("dynamodb")
    deleted: dict[str, int] = {}
    anonymised: dict[str, int] = {}
    for item in _customer_items(tenant_id, customer_id, page_size=page_size):
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


def count_customer_items(tenant_id: str, customer_id: str, *, page_size: int | None = None) -> int:
    return len(_customer_items(tenant_id, customer_id, page_size=page_size))


def _is_kept(item: dict[str, Any], keep: Collection[tuple[str, str]]) -> bool:
    return (item["pk"]["S"], item["sk"]["S"]) in keep


def count_tenant_items(tenant_id: str, *, keep: Collection[tuple[str, str]] = (), page_size: int | None = None) -> int:
    """Every item of the tenant, any entity, except the ``keep`` keys (pk, sk)."""
    return sum(1 for item in _scan_tenant(tenant_id, page_size=page_size) if not _is_kept(item, keep))


def delete_tenant_items(
    tenant_id: str, *, keep: Collection[tuple[str, str]] = (), page_size: int | None = None
) -> TenantItemsDeleted:
    """Delete every item of the tenant, any entity, except the ``keep`` keys (pk, sk): BatchWriteItem, 25 a
    request, retried until none is left."""
    settings = configured_settings()
    dynamodb = aws_client("dynamodb")
    scanned = _scan_tenant(tenant_id, page_size=page_size)
    keys = [{"pk": item["pk"], "sk": item["sk"]} for item in scanned if not _is_kept(item, keep)]
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


# ----------------------------------------------------------------------------- the repository a caller is given
class PersonalDataRepository(Protocol):
    """What the privacy worker reads and deletes of the table whole: everything about one customer (exported,
    erased with the business records anonymised, counted afterwards) and every item of a leaving tenant
    (counted, deleted but the ``keep`` keys)."""

    def customer_records(self, tenant_id: str, customer_id: str) -> list[PersonalRecord]: ...

    def erase_customer_records(
        self, tenant_id: str, customer_id: str, *, pseudonym: str, anonymised_entities: Collection[str]
    ) -> Erasure: ...

    def count_customer_items(self, tenant_id: str, customer_id: str) -> int: ...

    def count_tenant_items(self, tenant_id: str, *, keep: Collection[tuple[str, str]] = ()) -> int: ...

    def delete_tenant_items(self, tenant_id: str, *, keep: Collection[tuple[str, str]] = ()) -> TenantItemsDeleted: ...


class DynamoPersonalDataRepository:
    """The personal data repository on the table: this module's filtered scans, deletes and updates.
    ``page_size`` caps the items a scan request reads (the contract test asks for small pages to see the
    scans follow them); None reads DynamoDB's 1 MB pages, as the product does."""

    def __init__(self, *, page_size: int | None = None) -> None:
        self.page_size = page_size

    def customer_records(self, tenant_id: str, customer_id: str) -> list[PersonalRecord]:
        return customer_records(tenant_id, customer_id, page_size=self.page_size)

    def erase_customer_records(
        self, tenant_id: str, customer_id: str, *, pseudonym: str, anonymised_entities: Collection[str]
    ) -> Erasure:
        return erase_customer_records(
            tenant_id,
            customer_id,
            pseudonym=pseudonym,
            anonymised_entities=anonymised_entities,
            page_size=self.page_size,
        )

    def count_customer_items(self, tenant_id: str, customer_id: str) -> int:
        return count_customer_items(tenant_id, customer_id, page_size=self.page_size)

    def count_tenant_items(self, tenant_id: str, *, keep: Collection[tuple[str, str]] = ()) -> int:
        return count_tenant_items(tenant_id, keep=keep, page_size=self.page_size)

    def delete_tenant_items(self, tenant_id: str, *, keep: Collection[tuple[str, str]] = ()) -> TenantItemsDeleted:
        return delete_tenant_items(tenant_id, keep=keep, page_size=self.page_size)


def personal_data_repository() -> DynamoPersonalDataRepository:
    """The product's personal data repository (stateless: the table is named by the settings, the client made
    once per execution environment by ``runtime.aws_client``)."""
    return _REPOSITORY


_REPOSITORY = DynamoPersonalDataRepository()

"""Personal data: export and erasure of one customer, and deletion of everything a tenant owns.

Every item in the table carries ``tenant_id``, and every item about a customer either lives in the
customer's partitions or names ``customer_id`` (or the customer's e-mail); so a filtered scan finds them all,
including entities added later by other modules. Erasure is rare, so a scan is the right trade for
completeness. Orders are kept for the store's aggregates but lose every link to the person.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer

from luxebrain.errors import NotFoundError
from luxebrain.runtime import aws_client, configured_settings
from luxebrain.tenancy import tenant_partition, validate_entity_id, validate_tenant_id

_deserializer = TypeDeserializer()
# Items of these entities hold business records that outlive the person: anonymised, not deleted.
ANONYMISED_ENTITIES = frozenset({"order"})
# Attributes that are never exported (credentials, internal hashes).
NEVER_EXPORTED = frozenset({"secrets_ciphertext", "content_hash", "gsi1pk", "gsi1sk", "pk", "sk"})


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


def export_customer(tenant_id: str, customer_id: str) -> dict[str, Any]:
    """Everything stored about one customer, grouped by entity (GDPR art. 15 / 20)."""
    items = _customer_items(tenant_id, customer_id)
    if not items:
        raise NotFoundError(f"customer {customer_id} not found")
    grouped: dict[str, list[dict[str, Any]]] = {}
    for raw in items:
        item = {k: _deserializer.deserialize(v) for k, v in raw.items()}
        entity = str(item.get("entity", "unknown"))
        grouped.setdefault(entity, []).append(
            {k: _plain(v) for k, v in sorted(item.items()) if k not in NEVER_EXPORTED}
        )
    return {"tenant_id": tenant_id, "customer_id": customer_id, "records": grouped}


@dataclass
class ErasureReport:
    customer_id: str
    deleted: dict[str, int] = field(default_factory=dict)
    anonymised: dict[str, int] = field(default_factory=dict)
    model_artifacts_naming_customer: list[str] = field(default_factory=list)
    remaining_items: int = 0
    notes: list[str] = field(default_factory=list)


def erase_customer(tenant_id: str, customer_id: str) -> ErasureReport:
    """Delete every item about a customer and anonymise their orders (GDPR art. 17; also WooCommerce's
    ``customer.deleted``). Idempotent: erasing an erased customer reports nothing left."""
    settings = configured_settings()
    dynamodb = aws_client("dynamodb")
    report = ErasureReport(customer_id=customer_id)
    pseudonym = "erased-" + hashlib.sha256(f"{tenant_id}:{customer_id}".encode()).hexdigest()[:16]
    for item in _customer_items(tenant_id, customer_id):
        entity = item.get("entity", {}).get("S", "unknown")
        key = {"pk": item["pk"], "sk": item["sk"]}
        if entity in ANONYMISED_ENTITIES:
            dynamodb.update_item(
                TableName=settings.table_name,
                Key=key,
                UpdateExpression="SET customer_id = :pseudonym REMOVE gsi1pk, gsi1sk, billing_country, email, phone",
                ExpressionAttributeValues={":pseudonym": {"S": pseudonym}},
            )
            report.anonymised[entity] = report.anonymised.get(entity, 0) + 1
        else:
            dynamodb.delete_item(TableName=settings.table_name, Key=key)
            report.deleted[entity] = report.deleted.get(entity, 0) + 1
    report.remaining_items = len(_customer_items(tenant_id, customer_id))
    report.model_artifacts_naming_customer = _artifacts_naming(tenant_id, customer_id)
    if report.model_artifacts_naming_customer:
        report.notes.append(
            "trained models still hold this customer's id and scores until the next training run replaces them"
        )
    report.notes.append("queued webhook deliveries expire from the ingest queues within 14 days")
    return report


def _artifacts_naming(tenant_id: str, customer_id: str) -> list[str]:
    """Model files under the tenant's prefix whose bytes contain the customer id (ids are stored verbatim)."""
    settings = configured_settings()
    s3 = aws_client("s3")
    needle = customer_id.encode()
    found = []
    for page in s3.get_paginator("list_objects_v2").paginate(
        Bucket=settings.models_bucket, Prefix=f"tenants/{tenant_id}/"
    ):
        for obj in page.get("Contents", []):
            if obj["Size"] > 64 * 1024 * 1024:
                continue
            body = s3.get_object(Bucket=settings.models_bucket, Key=obj["Key"])["Body"].read()
            if needle in body:
                found.append(obj["Key"])
    return found


# ----------------------------------------------------------------------------- tenant deletion
@dataclass
class TenantLeftovers:
    dynamodb_items: int
    s3_objects: int
    users: int

    @property
    def empty(self) -> bool:
        return self.dynamodb_items == 0 and self.s3_objects == 0 and self.users == 0


def tenant_leftovers(tenant_id: str) -> TenantLeftovers:
    """What is still stored for a tenant: table items, model files (every version) and user accounts."""
    validate_tenant_id(tenant_id)
    settings = configured_settings()
    items = sum(1 for _ in _scan("#tenant = :tenant", {"#tenant": "tenant_id"}, {":tenant": {"S": tenant_id}}))
    objects = sum(1 for _ in _object_versions(settings.models_bucket, f"tenants/{tenant_id}/"))
    users = _cognito_users_of(tenant_id)
    return TenantLeftovers(dynamodb_items=items, s3_objects=objects, users=len(users))


def _object_versions(bucket: str, prefix: str) -> Iterator[dict[str, str]]:
    s3 = aws_client("s3")
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket, Prefix=prefix):
        for version in [*page.get("Versions", []), *page.get("DeleteMarkers", [])]:
            yield {"Key": version["Key"], "VersionId": version["VersionId"]}


def _cognito_users_of(tenant_id: str) -> list[str]:
    settings = configured_settings()
    if not settings.user_pool_id:
        return []
    cognito = aws_client("cognito-idp")
    usernames = []
    for page in cognito.get_paginator("list_users").paginate(UserPoolId=settings.user_pool_id):
        for user in page.get("Users", []):
            attributes = {a["Name"]: a["Value"] for a in user.get("Attributes", [])}
            if attributes.get("custom:tenant_id") == tenant_id:
                usernames.append(user["Username"])
    return usernames


def delete_tenant(tenant_id: str) -> TenantLeftovers:
    """Delete everything a tenant owns: user accounts, every table item, every model file version.
    Returns what is left afterwards (all zeros when complete)."""
    validate_tenant_id(tenant_id)
    settings = configured_settings()
    dynamodb = aws_client("dynamodb")
    cognito = aws_client("cognito-idp")
    for username in _cognito_users_of(tenant_id):
        cognito.admin_delete_user(UserPoolId=settings.require("user_pool_id"), Username=username)
    keys = [
        {"pk": item["pk"], "sk": item["sk"]}
        for item in _scan("#tenant = :tenant", {"#tenant": "tenant_id"}, {":tenant": {"S": tenant_id}})
    ]
    for start in range(0, len(keys), 25):
        requests: dict[str, Any] = {
            settings.table_name: [{"DeleteRequest": {"Key": key}} for key in keys[start : start + 25]]
        }
        while requests:
            requests = dynamodb.batch_write_item(RequestItems=requests).get("UnprocessedItems") or {}
    s3 = aws_client("s3")
    versions = list(_object_versions(settings.models_bucket, f"tenants/{tenant_id}/"))
    for start in range(0, len(versions), 1000):
        s3.delete_objects(
            Bucket=settings.models_bucket, Delete={"Objects": versions[start : start + 1000], "Quiet": True}
        )
    from luxebrain.auth.members import forget_membership  # cached memberships must not outlive the data
    from luxebrain.billing.plans import forget_tenant

    forget_tenant(tenant_id)
    for key in keys:
        if key["sk"]["S"].startswith("MEMBER#"):
            forget_membership(key["sk"]["S"].removeprefix("MEMBER#"))
    return tenant_leftovers(tenant_id)

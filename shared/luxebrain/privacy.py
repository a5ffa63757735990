"""Personal data: export and erasure of one customer, and deletion of everything a tenant owns.

The items are found by :mod:`luxebrain.storage.personal_data` (the one place that reads the table whole, so
entities added later by other modules are found too). Orders are kept for the store's aggregates but lose every
link to the person.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from luxebrain.errors import NotFoundError
from luxebrain.runtime import aws_client, configured_settings
from luxebrain.storage import personal_data
from luxebrain.tenancy import validate_tenant_id

# Items of these entities hold business records that outlive the person: anonymised, not deleted.
ANONYMISED_ENTITIES = frozenset({"order"})


def export_customer(tenant_id: str, customer_id: str) -> dict[str, Any]:
    """Everything stored about one customer, grouped by entity (GDPR art. 15 / 20)."""
    records = personal_data.customer_records(tenant_id, customer_id)
    if not records:
        raise NotFoundError(f"customer {customer_id} not found")
    grouped: dict[str, list[dict[str, Any]]] = {}
    for record in records:
        grouped.setdefault(record.entity, []).append(record.attributes)
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
    pseudonym = "erased-" + hashlib.sha256(f"{tenant_id}:{customer_id}".encode()).hexdigest()[:16]
    erasure = personal_data.erase_customer_records(
        tenant_id, customer_id, pseudonym=pseudonym, anonymised_entities=ANONYMISED_ENTITIES
    )
    report = ErasureReport(customer_id=customer_id, deleted=erasure.deleted, anonymised=erasure.anonymised)
    report.remaining_items = personal_data.count_customer_items(tenant_id, customer_id)
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
    items = personal_data.count_tenant_items(tenant_id)
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
    cognito = aws_client("cognito-idp")
    for username in _cognito_users_of(tenant_id):
        cognito.admin_delete_user(UserPoolId=settings.require("user_pool_id"), Username=username)
    deleted = personal_data.delete_tenant_items(tenant_id)
    s3 = aws_client("s3")
    versions = list(_object_versions(settings.models_bucket, f"tenants/{tenant_id}/"))
    for start in range(0, len(versions), 1000):
        s3.delete_objects(
            Bucket=settings.models_bucket, Delete={"Objects": versions[start : start + 1000], "Quiet": True}
        )
    from luxebrain.auth.members import forget_membership  # cached memberships must not outlive the data
    from luxebrain.billing.plans import forget_tenant

    forget_tenant(tenant_id)
    for user_id in deleted.member_user_ids:
        forget_membership(user_id)
    return tenant_leftovers(tenant_id)

"""A customer's export (GDPR art. 15 / 20): every stored record about them, written to the models bucket
under ``privacy-exports/<tenant>/`` (expired by the bucket's lifecycle) for the API to hand out."""

from __future__ import annotations

import json
from typing import Any

from luxebrain.adapters import MissingObject, ObjectStore
from luxebrain.errors import NotFoundError
from luxebrain.privacy.files import EXPORTS_PREFIX
from luxebrain.storage.personal_data import PersonalDataRepository
from luxebrain.tenancy import validate_tenant_id

# Days an export file is kept (the bucket's lifecycle rule on EXPORTS_PREFIX says the same).
EXPORT_RETENTION_DAYS = 7


def export_key(tenant_id: str, job_id: str) -> str:
    validate_tenant_id(tenant_id)
    return f"{EXPORTS_PREFIX}/{tenant_id}/{job_id}.json"


def export_customer(tenant_id: str, customer_id: str, *, personal_data: PersonalDataRepository) -> dict[str, Any]:
    """Everything stored about one customer in ``personal_data``, grouped by entity."""
    records = personal_data.customer_records(tenant_id, customer_id)
    if not records:
        raise NotFoundError(f"customer {customer_id} not found")
    grouped: dict[str, list[dict[str, Any]]] = {}
    for record in records:
        grouped.setdefault(record.entity, []).append(record.attributes)
    return {"tenant_id": tenant_id, "customer_id": customer_id, "records": grouped}


def write_export(files: ObjectStore, tenant_id: str, job_id: str, exported: dict[str, Any]) -> str:
    key = export_key(tenant_id, job_id)
    body = json.dumps(exported, ensure_ascii=False, sort_keys=True).encode()
    files.put(key, body, content_type="application/json")
    return key


def read_export(files: ObjectStore, key: str) -> dict[str, Any]:
    try:
        body = files.get(key)
    except MissingObject:
        raise NotFoundError(f"the export has expired (exports are kept {EXPORT_RETENTION_DAYS} days)") from None
    exported: dict[str, Any] = json.loads(body)
    return exported

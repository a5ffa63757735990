"""A customer's erasure (GDPR art. 17): every item about them deleted, their orders kept for the store's
aggregates but without any link to the person, their earlier exports deleted.

The items are found through the ``PersonalDataRepository`` it is given (on the table, the one place that reads
it whole, so entities added later by other modules are found too).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from luxebrain.adapters import ObjectStore
from luxebrain.privacy.files import TENANT_FILES_PREFIX, delete_every_version
from luxebrain.privacy.requests import subject_fingerprint
from luxebrain.storage.personal_data import PersonalDataRepository
from luxebrain.storage.privacy_jobs import PrivacyJobRepository

# Items of these entities hold business records that outlive the person: anonymised, not deleted.
ANONYMISED_ENTITIES = frozenset({"order"})


@dataclass
class ErasureReport:
    deleted: dict[str, int] = field(default_factory=dict)
    anonymised: dict[str, int] = field(default_factory=dict)
    exports_deleted: int = 0
    model_artifacts_naming_customer: list[str] = field(default_factory=list)
    remaining_items: int = 0
    notes: list[str] = field(default_factory=list)


def erase_customer(
    tenant_id: str,
    customer_id: str,
    *,
    files: ObjectStore,
    jobs: PrivacyJobRepository,
    personal_data: PersonalDataRepository,
) -> ErasureReport:
    """Idempotent: erasing an erased customer deletes and anonymises nothing more. The customer's items are
    erased in ``personal_data``; their earlier exports are found through ``jobs`` (their jobs keep the files'
    keys) and deleted from ``files``."""
    pseudonym = "erased-" + hashlib.sha256(f"{tenant_id}:{customer_id}".encode()).hexdigest()[:16]
    erasure = personal_data.erase_customer_records(
        tenant_id, customer_id, pseudonym=pseudonym, anonymised_entities=ANONYMISED_ENTITIES
    )
    report = ErasureReport(deleted=erasure.deleted, anonymised=erasure.anonymised)
    for key in jobs.export_keys_of_subject(tenant_id, subject_fingerprint(tenant_id, customer_id)):
        report.exports_deleted += delete_every_version(files, key)
    report.remaining_items = personal_data.count_customer_items(tenant_id, customer_id)
    report.model_artifacts_naming_customer = artifacts_naming(files, tenant_id, customer_id)
    if report.model_artifacts_naming_customer:
        report.notes.append(
            "trained models still hold this customer's id and scores until the next training run replaces them"
        )
    report.notes.append("queued webhook deliveries and privacy requests expire from their queues within 14 days")
    return report


# Larger files are not read (no model file of ours comes near it; a Lambda's memory would not hold one).
MAX_SCANNED_FILE_BYTES = 64 * 1024 * 1024


def artifacts_naming(files: ObjectStore, tenant_id: str, customer_id: str) -> list[str]:
    """Model files under the tenant's prefix whose bytes contain the customer id (ids are stored verbatim)."""
    needle = customer_id.encode()
    return [
        stored.key
        for stored in files.objects(f"{TENANT_FILES_PREFIX}/{tenant_id}/")
        if stored.size <= MAX_SCANNED_FILE_BYTES and needle in files.get(stored.key)
    ]

"""Helpers of the ingest tests: a store's ingest status read through the table's repositories, as the API's
ingest-status route reads it."""

from __future__ import annotations

from datetime import datetime

from luxebrain.ingest.status import IngestStatus, ingest_status
from luxebrain.storage.catalogue import catalogue_repository
from luxebrain.storage.customers import customer_repository
from luxebrain.storage.ingest import ingest_repository
from luxebrain.storage.tenants import tenant_repository


def store_ingest_status(tenant_id: str, store_id: str, now: datetime | None = None) -> IngestStatus:
    """The store's ingest status, read through the table's repositories."""
    return ingest_status(
        tenant_id,
        store_id,
        now,
        records=ingest_repository(),
        tenants=tenant_repository(),
        catalogue=catalogue_repository(),
        customers=customer_repository(),
    )

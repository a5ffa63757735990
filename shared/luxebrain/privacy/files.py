"""Files of the models bucket by prefix, every version: what tenant deletion and erasure remove."""

from __future__ import annotations

from luxebrain.adapters import ObjectStore

# The bucket's top-level prefixes that hold a tenant's files: ``<prefix>/<tenant_id>/...``.
TENANT_FILES_PREFIX = "tenants"
EXPORTS_PREFIX = "privacy-exports"


def delete_every_version(files: ObjectStore, prefix: str) -> int:
    """Delete every version and delete marker under ``prefix`` (the bucket is versioned: a plain delete keeps
    them); returns how many were deleted."""
    versions = list(files.versions(prefix))
    files.delete_versions(versions)
    return len(versions)

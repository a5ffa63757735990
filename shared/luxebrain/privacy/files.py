"""Files of the models bucket by prefix, every version: what tenant deletion and erasure remove."""

from __future__ import annotations

from collections.abc import Iterator

from luxebrain.runtime import aws_client, configured_settings

# The bucket's top-level prefixes that hold a tenant's files: ``<prefix>/<tenant_id>/...``.
TENANT_FILES_PREFIX = "tenants"
EXPORTS_PREFIX = "privacy-exports"


def object_versions(prefix: str) -> Iterator[dict[str, str]]:
    """Every version and delete marker under ``prefix`` (the bucket is versioned: a plain delete keeps them)."""
    s3 = aws_client("s3")
    bucket = configured_settings().models_bucket
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket, Prefix=prefix):
        for version in [*page.get("Versions", []), *page.get("DeleteMarkers", [])]:
            yield {"Key": version["Key"], "VersionId": version["VersionId"]}


def delete_every_version(prefix: str) -> int:
    """Delete every version under ``prefix``; returns how many were deleted."""
    s3 = aws_client("s3")
    bucket = configured_settings().models_bucket
    versions = list(object_versions(prefix))
    for start in range(0, len(versions), 1000):
        s3.delete_objects(Bucket=bucket, Delete={"Objects": versions[start : start + 1000], "Quiet": True})
    return len(versions)

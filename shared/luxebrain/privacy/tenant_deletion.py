"""A leaving tenant's deletion: user accounts, every table item, every version of every file."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from luxebrain.adapters import ObjectStore, UserDirectory
from luxebrain.privacy.files import EXPORTS_PREFIX, TENANT_FILES_PREFIX, delete_every_version
from luxebrain.runtime import configured_settings
from luxebrain.storage.personal_data import PersonalDataRepository
from luxebrain.tenancy import validate_tenant_id


@dataclass
class TenantLeftovers:
    dynamodb_items: int
    s3_objects: int
    users: int

    @property
    def empty(self) -> bool:
        return self.dynamodb_items == 0 and self.s3_objects == 0 and self.users == 0


def _file_prefixes(tenant_id: str) -> list[str]:
    return [f"{TENANT_FILES_PREFIX}/{tenant_id}/", f"{EXPORTS_PREFIX}/{tenant_id}/"]


def tenant_leftovers(
    tenant_id: str,
    *,
    files: ObjectStore,
    users: UserDirectory,
    personal_data: PersonalDataRepository,
    keep: Collection[tuple[str, str]] = (),
) -> TenantLeftovers:
    """What is still stored for a tenant: table items in ``personal_data`` (but the ``keep`` keys), files
    (every version) and user accounts."""
    validate_tenant_id(tenant_id)
    items = personal_data.count_tenant_items(tenant_id, keep=keep)
    objects = sum(1 for prefix in _file_prefixes(tenant_id) for _ in files.versions(prefix))
    return TenantLeftovers(dynamodb_items=items, s3_objects=objects, users=len(logins_of_tenant(tenant_id, users)))


def logins_of_tenant(tenant_id: str, users: UserDirectory) -> list[str]:
    """The usernames whose ``custom:tenant_id`` is this tenant (none when the environment has no pool)."""
    if not configured_settings().user_pool_id:
        return []
    return [user.username for user in users.users() if user.attributes.get("custom:tenant_id") == tenant_id]


def delete_tenant_users(tenant_id: str, users: UserDirectory) -> int:
    """Delete the tenant's logins; returns how many."""
    doomed = logins_of_tenant(tenant_id, users)
    for username in doomed:
        users.admin_delete_user(username)
    return len(doomed)


def delete_tenant(
    tenant_id: str,
    *,
    files: ObjectStore,
    users: UserDirectory,
    personal_data: PersonalDataRepository,
    keep: Collection[tuple[str, str]] = (),
) -> TenantLeftovers:
    """Delete everything a tenant owns but the ``keep`` keys (the deletion's own job record, its receipt).
    Idempotent; returns what is left afterwards (all zeros when complete)."""
    validate_tenant_id(tenant_id)
    delete_tenant_users(tenant_id, users)
    deleted = personal_data.delete_tenant_items(tenant_id, keep=keep)
    for prefix in _file_prefixes(tenant_id):
        delete_every_version(files, prefix)
    from luxebrain.auth.members import forget_membership  # cached memberships must not outlive the data
    from luxebrain.billing.plans import forget_tenant

    forget_tenant(tenant_id)
    for user_id in deleted.member_user_ids:
        forget_membership(user_id)
    return tenant_leftovers(tenant_id, files=files, users=users, personal_data=personal_data, keep=keep)

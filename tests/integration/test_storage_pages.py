"""The one query-a-page recipe: pages in order, the cursor resumes, and a cursor from another partition is a
clear invalid-input error before DynamoDB sees it."""

from __future__ import annotations

import pytest

from luxebrain.errors import InvalidInputError
from luxebrain.storage.items.tenants import AuditItem, key_audit
from luxebrain.storage.pages import query_page
from luxebrain.storage.tenants import create_tenant
from luxebrain.tenancy import new_tenant_id, tenant_partition


def _audit(tenant_id: str, n: int) -> None:
    from datetime import UTC, datetime, timedelta

    start = datetime(2026, 1, 1, tzinfo=UTC)
    for i in range(n):
        at = start + timedelta(minutes=i)
        pk, sk = key_audit(tenant_id, at, f"a{i}")
        AuditItem(
            pk, sk, entity=AuditItem.ENTITY, tenant_id=tenant_id, action=f"act{i}", actor="t", created_at=at
        ).save()


def test_pages_resume_from_the_cursor_and_refuse_a_foreign_one(local_aws: object) -> None:
    tenant, other = new_tenant_id(), new_tenant_id()
    create_tenant("A", tenant_id=tenant)
    create_tenant("B", tenant_id=other)
    _audit(tenant, 5)
    _audit(other, 2)
    partition = tenant_partition(tenant, "AUDIT")

    first = query_page(AuditItem.query, partition, lambda item: item.action, limit=3, cursor=None, newest_first=True)
    assert first.items == ["act4", "act3", "act2"]
    assert first.next_cursor
    second = query_page(
        AuditItem.query, partition, lambda item: item.action, limit=3, cursor=first.next_cursor, newest_first=True
    )
    assert second.items == ["act1", "act0"]
    assert second.next_cursor is None

    with pytest.raises(InvalidInputError):
        query_page(
            AuditItem.query,
            tenant_partition(other, "AUDIT"),
            lambda item: item.action,
            limit=3,
            cursor=first.next_cursor,
        )

"""What is left of the old repository: the newer-wins write of store records (tenants and stores are in
storage.tenants, the catalogue and customers in storage.catalogue and storage.customers)."""

from __future__ import annotations

from datetime import datetime

from pynamodb.exceptions import PutError

from luxebrain.runtime import configured_settings
from luxebrain.storage.models import (
    BaseItem,
    CustomerItem,
    OrderItem,
    ProductItem,
    is_condition_failure,
    utc_now,
)


# ----------------------------------------------------------------------------- store data
def put_if_newer(item: ProductItem | CustomerItem | OrderItem) -> bool:
    """Write a store record unless the stored one is newer or the same content: the exactly-once rule.

    Returns True when written. An older ``modified_gmt`` never overwrites a newer one; the same version with
    the same content hash is a duplicate and writes nothing.
    """
    configured_settings()
    model = type(item)
    condition = (
        model.pk.does_not_exist()
        | (model.modified_gmt < item.modified_gmt)
        | ((model.modified_gmt == item.modified_gmt) & (model.content_hash != item.content_hash))
    )
    try:
        item.save(condition=condition)
    except PutError as exc:
        if is_condition_failure(exc):
            return False
        raise
    return True


def is_expired(item: BaseItem, now: datetime | None = None) -> bool:
    """DynamoDB's TTL deletes lazily (up to days later), so readers check ``expires_at`` themselves."""
    if item.expires_at is None:
        return False
    return (now or utc_now()).timestamp() >= item.expires_at

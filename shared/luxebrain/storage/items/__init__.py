"""The table's entities (pynamodb), one module per aggregate. Only ``luxebrain.storage`` imports this package.

Importing it imports every aggregate, so ``ENTITY_CLASSES`` is complete and ``configure_models`` binds them all.
"""

from luxebrain.storage.items import (  # noqa: F401  (each import registers its entities)
    campaigns,
    catalogue,
    customers,
    ingest,
    members,
    merchandising,
    pricing,
    privacy,
    storefront,
    tenants,
    training,
)
from luxebrain.storage.items.base import DEFAULT_TABLE_NAME, ENTITY_CLASSES, BaseItem, configure_models

__all__ = ["DEFAULT_TABLE_NAME", "ENTITY_CLASSES", "BaseItem", "configure_models"]

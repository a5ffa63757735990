"""What recommendation serving reads of the catalogue, over the in-memory catalogue repository: the products
that may not be shown and the products the store has, refreshed once a minute per tenant."""

from __future__ import annotations

import pytest
from fakes import InMemoryCatalogueRepository

from luxebrain.runtime import reset_runtime
from luxebrain.serving.recommendations import catalogue_products, unavailable_products
from luxebrain.storage.catalogue import Product
from luxebrain.tenancy import new_tenant_id


@pytest.fixture(autouse=True)
def empty_caches() -> None:
    reset_runtime()  # the per-tenant catalogue views are per container


def test_deleted_and_unpublished_products_are_not_shown_and_deleted_ones_are_not_known() -> None:
    tenant = new_tenant_id()
    catalogue = InMemoryCatalogueRepository(
        [
            Product(tenant, "p1"),
            Product(tenant, "p2", status="draft"),
            Product(tenant, "p3", deleted=True),
            Product(tenant, "p4-1", parent_id="p4", product_type="variation"),
            Product(new_tenant_id(), "p9"),  # another tenant's
        ]
    )
    # A catalogue with nothing out of stock is read without the tenant's settings (none reachable here)
    assert catalogue_products(tenant, catalogue) == {"p1", "p2", "p4-1"}
    assert unavailable_products(tenant, catalogue) == {"p2", "p3"}


def test_the_catalogue_view_is_read_once_a_minute_per_tenant() -> None:
    tenant, other = new_tenant_id(), new_tenant_id()
    catalogue = InMemoryCatalogueRepository([Product(tenant, "p1"), Product(other, "q1", status="private")])
    assert catalogue_products(tenant, catalogue) == {"p1"}
    # When a product arrives within the minute, then the view read at first use still answers
    catalogue.put(Product(tenant, "p2", status="draft"))
    assert catalogue_products(tenant, catalogue) == {"p1"} and unavailable_products(tenant, catalogue) == set()
    # while another tenant's view is its own
    assert unavailable_products(other, catalogue) == {"q1"}
    # and once the cache is emptied (a new minute, a new container) the new product is seen
    reset_runtime()
    assert catalogue_products(tenant, catalogue) == {"p1", "p2"} and unavailable_products(tenant, catalogue) == {"p2"}

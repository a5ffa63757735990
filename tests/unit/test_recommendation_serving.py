"""What recommendation serving reads, over the in-memory repositories (sockets off): the current model from the
serving cache, the products of the catalogue that may not be shown and those the store has (refreshed once a
minute per tenant), and the merchant's rules."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from fakes import (
    InMemoryCatalogueRepository,
    InMemoryMerchandisingRepository,
    InMemoryObjectStore,
    InMemoryTenantRepository,
    InMemoryTrainingRepository,
)
from test_recommend import NO_HOLDOUT, family_store
from test_recommend import catalogue as catalogue_frame

from luxebrain.ml.recommend.rules import NO_RULES
from luxebrain.ml.recommend.train import train_recommender
from luxebrain.runtime import reset_runtime
from luxebrain.serving.loader import ModelCache, artifact_prefix
from luxebrain.serving.recommendations import catalogue_products, recommender_with_rules, unavailable_products
from luxebrain.storage.catalogue import Product
from luxebrain.tenancy import new_tenant_id

NO_TENANTS = InMemoryTenantRepository()  # nothing out of stock: the settings are not read


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
    # A catalogue with nothing out of stock is read without the tenant's settings (an empty repository here)
    assert catalogue_products(tenant, catalogue) == {"p1", "p2", "p4-1"}
    assert unavailable_products(tenant, catalogue, InMemoryTenantRepository()) == {"p2", "p3"}


@pytest.mark.parametrize(("setting", "hidden"), [(None, {"p2", "p3"}), (True, {"p2", "p3"}), (False, {"p3"})])
def test_out_of_stock_products_are_hidden_unless_the_tenants_settings_show_them(
    setting: bool | None, hidden: set[str]
) -> None:
    tenants = InMemoryTenantRepository()
    tenant = tenants.create_tenant("Maison Stock").tenant_id
    if setting is not None:
        tenants.update_tenant_settings(tenant, lambda _: {"recommendations_exclude_out_of_stock": setting})
    catalogue = InMemoryCatalogueRepository(
        [Product(tenant, "p1"), Product(tenant, "p2", stock_status="outofstock"), Product(tenant, "p3", deleted=True)]
    )
    assert unavailable_products(tenant, catalogue, tenants) == hidden
    assert catalogue_products(tenant, catalogue) == {"p1", "p2"}  # known whatever the setting


def test_the_catalogue_view_is_read_once_a_minute_per_tenant() -> None:
    tenant, other = new_tenant_id(), new_tenant_id()
    catalogue = InMemoryCatalogueRepository([Product(tenant, "p1"), Product(other, "q1", status="private")])
    assert catalogue_products(tenant, catalogue) == {"p1"}
    # When a product arrives within the minute, then the view read at first use still answers
    catalogue.put(Product(tenant, "p2", status="draft"))
    assert (
        catalogue_products(tenant, catalogue) == {"p1"} and unavailable_products(tenant, catalogue, NO_TENANTS) == set()
    )
    # while another tenant's view is its own
    assert unavailable_products(other, catalogue, NO_TENANTS) == {"q1"}
    # and once the cache is emptied (a new minute, a new container) the new product is seen
    reset_runtime()
    assert catalogue_products(tenant, catalogue) == {"p1", "p2"} and unavailable_products(
        tenant, catalogue, NO_TENANTS
    ) == {"p2"}


@pytest.fixture(scope="module")
def artifact_files() -> dict[str, bytes]:
    store = family_store()
    return train_recommender(store, catalogue_frame(sorted(store["product_id"].unique())), params=NO_HOLDOUT).to_files()


def serving(tenant: str, files: dict[str, bytes]) -> ModelCache:
    bucket, training = InMemoryObjectStore(), InMemoryTrainingRepository()
    prefix = artifact_prefix(tenant, "recommend", "v3")
    for name, content in files.items():
        bucket.put(prefix + name, content)
    training.switch_pointer(
        tenant,
        "recommend",
        expected_version=None,
        version="v3",
        artifact_prefix=prefix,
        run_id="run-3",
        holdout_metric=None,
        now=datetime(2026, 12, 1, tzinfo=UTC),
    )
    return ModelCache(pointers=training, files=bucket, max_entries=2, max_bytes=10_000_000, check_interval_seconds=60)


def test_the_model_is_served_with_what_may_not_be_shown_and_the_merchants_rules(
    artifact_files: dict[str, bytes],
) -> None:
    tenant = new_tenant_id()
    catalogue = InMemoryCatalogueRepository(
        [Product(tenant, f"{family}{n}") for family in "GK" for n in range(1, 5) if f"{family}{n}" != "K2"]
        + [Product(tenant, "K2", status="draft")]
    )
    merchandising = InMemoryMerchandisingRepository()
    merchandising.save_rules(tenant, pinned=["K1"], boosts={"G4": 0.5}, blocked=["G2"], actor="staff-1")
    recommender, version, rules = recommender_with_rules(
        tenant,
        models=serving(tenant, artifact_files),
        catalogue=catalogue,
        merchandising=merchandising,
        tenants=NO_TENANTS,
    )
    assert version == "v3"
    assert (rules.unavailable, rules.pin, dict(rules.boost), rules.block) == (
        {"K2"},
        ("K1",),
        {"G4": 0.5},
        {"G2"},
    )
    popular = [product.product_id for product in recommender.popular(8, rules).products]
    assert popular[0] == "K1" and "G2" not in popular and "K2" not in popular


def test_nothing_hidden_and_no_merchant_rules_serve_the_model_as_trained(artifact_files: dict[str, bytes]) -> None:
    tenant = new_tenant_id()
    catalogue = InMemoryCatalogueRepository([Product(tenant, f"{family}{n}") for family in "GK" for n in range(1, 5)])
    _, _, rules = recommender_with_rules(
        tenant,
        models=serving(tenant, artifact_files),
        catalogue=catalogue,
        merchandising=InMemoryMerchandisingRepository(),
        tenants=NO_TENANTS,
    )
    assert rules is NO_RULES

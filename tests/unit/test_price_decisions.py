"""Price suggestions and the merchant's decisions on them over the in-memory repositories (sockets off): the
suggestions come from the serving cache's current pricing model, the catalogue and the tenant's guardrails;
an approval writes through the store client and is recorded with the change that undoes it; a rollback, a
rejection and the decision list read back what was recorded."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fakes import (
    InMemoryCatalogueRepository,
    InMemoryKeyVault,
    InMemoryObjectStore,
    InMemoryPriceDecisionRepository,
    InMemoryTenantRepository,
    InMemoryTrainingRepository,
)
from fastapi.testclient import TestClient
from pydantic import SecretStr
from test_pricing import NOW, WEEKS, synthetic_store

from luxebrain.auth.principal import Principal, Role
from luxebrain.errors import ConflictError, NotFoundError
from luxebrain.ml.artifacts import SERVES_BASELINE, ModelArtifact
from luxebrain.ml.pricing import decisions as price_decisions
from luxebrain.ml.pricing.serving import KEEP_PRICE_BASELINE, PriceSuggestion
from luxebrain.ml.pricing.train import PricingParams, train_pricing_model
from luxebrain.serving.loader import ModelCache, artifact_prefix
from luxebrain.storage.catalogue import Product
from luxebrain.storage.tenants import Store, StoreSecrets

FUNCTIONS = str(Path(__file__).resolve().parents[2] / "functions")


@dataclass
class Shop:
    """One tenant's pricing model served from the cache, and the repositories the decisions read and write."""

    tenant_id: str
    models: ModelCache
    catalogue: InMemoryCatalogueRepository
    decisions: InMemoryPriceDecisionRepository
    tenants: InMemoryTenantRepository
    store: dict[str, dict[str, Any]]  # the store's products as its REST API holds them, by endpoint

    @property
    def sources(self) -> dict[str, Any]:
        return {
            "models": self.models,
            "catalogue": self.catalogue,
            "decisions": self.decisions,
            "tenants": self.tenants,
        }

    def client(self, tenant_id: str, product_id: str) -> Any:
        assert tenant_id == self.tenant_id
        return StoreClient(self.store)


class StoreClient:
    """A store's REST API for prices: reads and writes of ``products/<id>`` (prices as strings)."""

    def __init__(self, items: dict[str, dict[str, Any]]) -> None:
        self.items = items

    def get(self, endpoint: str, **_: Any) -> dict[str, Any]:
        return dict(self.items[endpoint])

    def put(self, endpoint: str, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        item = self.items[endpoint]
        item.update(data)
        item["price"] = item["sale_price"] or item["regular_price"]
        return dict(item)


@pytest.fixture(scope="module")
def trained() -> tuple[dict[str, bytes], list[dict[str, Any]]]:
    lines, products, _ = synthetic_store()
    artifact = train_pricing_model(lines, products, params=PricingParams(history_weeks=WEEKS), as_of=NOW.date())
    return artifact.to_files(), products.to_dict("records")


@pytest.fixture
def shop(trained: tuple[dict[str, bytes], list[dict[str, Any]]]) -> Shop:
    return open_shop(*trained)


def open_shop(files: dict[str, bytes], rows: list[dict[str, Any]]) -> Shop:
    """A tenant whose current pricing version "v1" is the artifact of ``files``, its catalogue ``rows``."""
    tenants = InMemoryTenantRepository()
    tenant_id = tenants.create_tenant("Leather goods").tenant_id
    bucket, training = InMemoryObjectStore(), InMemoryTrainingRepository()
    prefix = artifact_prefix(tenant_id, "pricing", "v1")
    for name, content in files.items():
        bucket.put(prefix + name, content)
    training.switch_pointer(
        tenant_id,
        "pricing",
        expected_version=None,
        version="v1",
        artifact_prefix=prefix,
        run_id="run-1",
        holdout_metric=None,
        now=NOW,
    )
    models = ModelCache(
        pointers=training, files=bucket, max_entries=4, max_bytes=100_000_000, check_interval_seconds=60
    )
    catalogue = InMemoryCatalogueRepository(
        Product(
            tenant_id,
            row["product_id"],
            name=row["name"],
            categories=(row["category"],),
            price=row["price"],
            regular_price=row["regular_price"],
            cost=row["cost"],
            stock_quantity=row["stock_quantity"],
        )
        for row in rows
    )
    store = {
        f"products/{row['product_id']}": {
            "id": int(row["product_id"]),
            "price": f"{row['price']:.2f}",
            "regular_price": f"{row['regular_price']:.2f}",
            "sale_price": "",
            "date_on_sale_from_gmt": None,
            "date_on_sale_to_gmt": None,
        }
        for row in rows
    }
    return Shop(tenant_id, models, catalogue, InMemoryPriceDecisionRepository(), tenants, store)


def suggestions_of(shop: Shop) -> list[PriceSuggestion]:
    version, answers, serves = price_decisions.current_suggestions(shop.tenant_id, **shop.sources)
    assert version == "v1" and serves == "model"
    return [answer for answer in answers if isinstance(answer, PriceSuggestion)]


def test_the_catalogue_is_read_as_suggestions_take_it() -> None:
    catalogue = InMemoryCatalogueRepository(
        [
            Product("t-a", "1", product_type="variable", categories=("Bags", "Sale"), tags=("leather",), cost=4),
            Product("t-a", "1-1", parent_id="1", product_type="variation", price=12.5, regular_price=15),
            Product("t-a", "2", status="draft"),
            Product("t-a", "3", deleted=True),
            Product("t-b", "9"),
        ]
    )
    assert price_decisions.product_inputs("t-a", catalogue) == [
        {
            "product_id": "1",
            "type": "variable",
            "category": "Bags",
            "tags": ["leather"],
            "price": None,
            "regular_price": None,
            "cost": 4.0,
            "stock_quantity": None,
            "variations": [
                {"variation_id": "1-1", "price": 12.5, "regular_price": 15.0, "cost": None, "stock_quantity": None}
            ],
        }
    ]


def test_suggestions_follow_the_tenants_guardrails(shop: Shop) -> None:
    assert suggestions_of(shop), "the synthetic store gets suggestions"
    shop.tenants.update_tenant_settings(
        shop.tenant_id, lambda settings: {**settings, "pricing_guardrails": {"default": {"price_ending": ".95"}}}
    )
    endings = {f"{suggestion.suggested_price:.2f}"[-3:] for suggestion in suggestions_of(shop)}
    assert endings == {".95"}


def test_an_approval_is_written_recorded_and_rolled_back_once(shop: Shop) -> None:
    chosen = suggestions_of(shop)[0]
    endpoint = f"products/{chosen.product_id}"
    before = dict(shop.store[endpoint])
    applied = price_decisions.approve(
        shop.tenant_id,
        chosen.product_id,
        chosen.variation_id,
        model_version="v1",
        approver="owner-1",
        clients=shop.client,
        **shop.sources,
    )
    assert (applied.status, applied.decided_by, applied.model_version) == ("applied", "owner-1", "v1")
    assert shop.store[endpoint]["price"] != before["price"]
    assert applied.change_record is not None
    assert applied.change_record["previous"]["regular_price"] == before["regular_price"]  # what a rollback restores
    assert price_decisions.get_decision(shop.tenant_id, applied.decision_id, shop.decisions) == applied

    undone = price_decisions.rollback(
        shop.tenant_id, applied.decision_id, by="owner-1", clients=shop.client, decisions=shop.decisions
    )
    assert undone.status == "rolled_back" and shop.store[endpoint]["price"] == before["price"]
    with pytest.raises(ConflictError, match="only an applied price change"):
        price_decisions.rollback(
            shop.tenant_id, applied.decision_id, by="owner-1", clients=shop.client, decisions=shop.decisions
        )
    with pytest.raises(NotFoundError):
        price_decisions.get_decision(shop.tenant_id, "20261203T000000000000-abcdef", shop.decisions)


def test_a_rejection_is_recorded_against_the_current_version_only(shop: Shop) -> None:
    first, second = suggestions_of(shop)[:2]

    def reject(suggestion: PriceSuggestion, version: str) -> Any:
        return price_decisions.reject(
            shop.tenant_id,
            suggestion.product_id,
            suggestion.variation_id,
            model_version=version,
            by="staff-1",
            reason="not before the sale",
            **shop.sources,
        )

    with pytest.raises(ConflictError, match="now version v1"):
        reject(first, "v0")  # a suggestion of a replaced model
    rejected = [reject(first, "v1"), reject(second, "v1")]
    assert [(d.status, d.reason) for d in rejected] == [("rejected", "not before the sale")] * 2
    assert all(item["price"] == f"{float(item['regular_price']):.2f}" for item in shop.store.values())  # untouched
    page = price_decisions.list_decisions(shop.tenant_id, shop.decisions, limit=1)
    rest = price_decisions.list_decisions(shop.tenant_id, shop.decisions, limit=1, cursor=page.next_cursor)
    assert [d.product_id for d in page.items + rest.items] == [second.product_id, first.product_id]  # newest first


def test_a_version_serving_its_baseline_keeps_every_price_and_the_api_says_so(
    trained: tuple[dict[str, bytes], list[dict[str, Any]]], local_settings: Any
) -> None:
    # Given a current version whose demand model was no better than ignoring price on its hold-out
    files, rows = trained
    artifact = ModelArtifact.from_files(files)
    artifact.extra["serves"] = SERVES_BASELINE
    shop = open_shop(artifact.to_files(), rows)
    # Then every product is told to keep its price, labelled, and nothing can be approved
    version, answers, serves = price_decisions.current_suggestions(shop.tenant_id, **shop.sources)
    assert (version, serves) == ("v1", "baseline")
    assert answers and {getattr(answer, "code", None) for answer in answers} == {KEEP_PRICE_BASELINE}
    with pytest.raises(ConflictError, match="keep the current price"):
        price_decisions.approve(
            shop.tenant_id, answers[0].product_id, None, model_version="v1", approver="owner-1",
            clients=shop.client, **shop.sources,
        )  # fmt: skip
    # And the API's answer says the baseline serves
    local_settings()
    body = suggestions_through_the_api(shop)
    assert body["model_version"] == "v1" and body["serves"] == "baseline" and body["suggestions"] == []
    assert {item["code"] for item in body["no_suggestion"]} == {KEEP_PRICE_BASELINE}


def test_the_api_says_the_model_serves_when_it_beat_its_baseline(shop: Shop, local_settings: Any) -> None:
    local_settings()
    body = suggestions_through_the_api(shop)
    assert body["serves"] == "model" and body["suggestions"]


def suggestions_through_the_api(shop: Shop) -> dict[str, Any]:
    """GET /prices/suggestions as the shop's owner, the API's repositories and model cache the shop's."""
    if FUNCTIONS not in sys.path:
        sys.path.append(FUNCTIONS)
    from api import dependencies
    from api.app import app

    async def owner() -> Principal:
        return Principal(subject="owner-1", role=Role.OWNER, tenant_id=shop.tenant_id)

    overrides = {
        dependencies.current_principal: owner,
        dependencies.tenants_repository: lambda: shop.tenants,
        dependencies.catalogue: lambda: shop.catalogue,
        dependencies.price_decisions_repository: lambda: shop.decisions,
        dependencies.serving_models: lambda: shop.models,
    }
    app.dependency_overrides.update(overrides)
    try:
        response = TestClient(app).get("/prices/suggestions")
    finally:
        app.dependency_overrides.clear()
    assert response.status_code == 200, response.text
    return response.json()


def test_a_product_s_store_and_its_keys_come_from_the_tenants_repository(local_settings: Any) -> None:
    local_settings()
    tenants = InMemoryTenantRepository()
    tenant_id = tenants.create_tenant("Two shops").tenant_id
    catalogue = InMemoryCatalogueRepository(
        [Product(tenant_id, "p1", name="Tote", store_id="s-2"), Product(tenant_id, "p0", name="Old record")]
    )
    clients = price_decisions.store_clients(InMemoryKeyVault(), catalogue, tenants)
    with pytest.raises(ConflictError, match="connect a WooCommerce store first"):
        clients(tenant_id, "p1")
    for store_id, url in (("s-1", "https://one.example"), ("s-2", "https://two.example")):
        keys = StoreSecrets(
            webhook_secret=SecretStr("whs"),
            consumer_key=SecretStr(f"ck-{store_id}"),
            consumer_secret=SecretStr(f"cs-{store_id}"),
        )
        tenants.add_store(Store(tenant_id, store_id, url, "EUR", "UTC", "active", NOW), keys)
    client = clients(tenant_id, "p1")
    assert (client.url, client.consumer_key, client.consumer_secret) == ("https://two.example", "ck-s-2", "cs-s-2")
    with pytest.raises(ConflictError, match="not known yet"):  # no store recorded, and two to choose from
        clients(tenant_id, "p0")

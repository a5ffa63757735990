"""The inventory advice with the merchant's supply terms: a product's own lead time wins over the default, and a
lead time longer than the forecast counts the forecast's horizon only and says so; the catalogue is read through
the repository passed in (an in-memory one here)."""

from __future__ import annotations

import pytest
from fakes import InMemoryCatalogueRepository
from test_forecast_serving import make_artifact  # helper module beside this one

from luxebrain.errors import InvalidInputError, NotFoundError
from luxebrain.ml.artifacts import ModelArtifact
from luxebrain.ml.forecast.serving import Forecasts
from luxebrain.serving.inventory import _advise, product_advice, reorder_list, supply_of
from luxebrain.storage.catalogue import Product, ProductSupply

FORECASTS = Forecasts.from_artifact(ModelArtifact.from_files(make_artifact().to_files()))  # 4 weeks ahead
STEADY = Product(tenant_id="t1", product_id="steady", stock_quantity=10)


def test_the_products_own_lead_time_wins_over_the_default() -> None:
    default = _advise(FORECASTS, STEADY, None, 7, 0.95)
    assert default.lead_time_source == "default" and default.advice.lead_time_days == 7
    own = _advise(FORECASTS, STEADY, ProductSupply("t1", "steady", lead_time_days=21, supplier="Atelier"), 7, 0.95)
    assert own.lead_time_source == "product" and own.advice.lead_time_days == 21 and own.supplier == "Atelier"
    assert own.advice.reorder_quantity > default.advice.reorder_quantity
    assert own.to_dict()["supplier"] == "Atelier" and own.to_dict()["lead_time_counted_days"] == 21


def test_a_supplier_only_keeps_the_default_lead_time() -> None:
    answer = _advise(FORECASTS, STEADY, ProductSupply("t1", "steady", supplier="Atelier"), 7, 0.95)
    assert answer.lead_time_source == "default" and answer.advice.lead_time_days == 7


def test_a_lead_time_beyond_the_forecast_counts_its_horizon_and_says_so() -> None:
    long = _advise(FORECASTS, STEADY, ProductSupply("t1", "steady", lead_time_days=90), 7, 0.95)
    horizon = _advise(FORECASTS, STEADY, ProductSupply("t1", "steady", lead_time_days=28), 7, 0.95)
    assert long.advice.lead_time_days == 90 and long.lead_time_counted_days == 28
    assert long.advice.reorder_quantity == horizon.advice.reorder_quantity
    assert "lower bound" in long.advice.explanation and "lower bound" not in horizon.advice.explanation


def test_the_reorder_list_reads_the_catalogue_and_each_products_own_terms() -> None:
    # Given a catalogue with a product running out, one with weeks of stock, one without managed stock, a
    # tombstone and a product the forecast does not know, and a lead time set on the one running out
    catalogue = InMemoryCatalogueRepository(
        [
            STEADY,
            Product(tenant_id="t1", product_id="slow", stock_quantity=10),
            Product(tenant_id="t1", product_id="dead"),
            Product(tenant_id="t1", product_id="gone", stock_quantity=1, deleted=True),
            Product(tenant_id="t1", product_id="new", stock_quantity=1),
        ]
    )
    catalogue.save_product_supply("t1", "steady", lead_time_days=21, supplier="Atelier", actor="owner")
    # When the reorder list is asked for
    advice, checked = reorder_list("t1", catalogue, FORECASTS, 7, 0.95, limit=10)
    # Then the products checked are those with managed stock that the forecast knows, and only the one running
    # out is listed, with its own lead time
    assert checked == 2
    assert [(item.advice.product_id, item.lead_time_source, item.supplier) for item in advice] == [
        ("steady", "product", "Atelier")
    ]
    # and one product's advice and terms come from the same repository
    assert product_advice("t1", catalogue, FORECASTS, "steady", 7, 0.95).advice == advice[0].advice
    assert supply_of("t1", catalogue, "steady").lead_time_days == 21
    with pytest.raises(InvalidInputError):
        product_advice("t1", catalogue, FORECASTS, "dead", 7, 0.95)  # no managed stock
    with pytest.raises(NotFoundError):
        supply_of("t2", catalogue, "steady")  # another tenant's product

"""Forecasts and inventory advice through the API, from a forecast model trained on a small store."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest
from api_testkit import (
    Merchant,
    add_tenant_user,
    api_app_module,
    new_merchant,
    priced_store,
    publish_artifact,
    save_products,
)
from fastapi.testclient import TestClient

from luxebrain_dev.local.embedded import LocalResources


@pytest.fixture(scope="module")
def client(local_aws: LocalResources) -> Iterator[TestClient]:
    with TestClient(api_app_module().app) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def shop(client: TestClient) -> Merchant:
    from luxebrain.ml.forecast.train import train_forecaster
    from luxebrain.storage.items.catalogue import ProductItem, key_product

    merchant = new_merchant("Maison Prévision")
    lines, catalogue = priced_store()
    save_products(merchant.tenant_id, catalogue)
    # Product 201 runs low, product 202 does not manage stock
    ProductItem.get(*key_product(merchant.tenant_id, "201")).update(actions=[ProductItem.stock_quantity.set(3)])
    ProductItem.get(*key_product(merchant.tenant_id, "202")).update(actions=[ProductItem.stock_quantity.remove()])
    publish_artifact(merchant.tenant_id, train_forecaster(lines, catalogue, as_of=date(2026, 3, 10)))
    return merchant


def test_product_forecast_has_ordered_quantiles(client: TestClient, shop: Merchant) -> None:
    response = client.get("/forecasts/products/200", params={"horizon_weeks": 4}, headers=shop.headers)
    assert response.status_code == 200, response.text
    forecast = response.json()["forecast"]
    assert len(forecast["period_starts"]) == 4
    for low, mid, high in zip(forecast["units_p10"], forecast["units_p50"], forecast["units_p90"], strict=True):
        assert 0 <= low <= mid <= high


def test_store_forecast_and_best_sellers(client: TestClient, shop: Merchant) -> None:
    store = client.get("/forecasts/store", params={"granularity": "day", "horizon_weeks": 1}, headers=shop.headers)
    assert store.status_code == 200 and len(store.json()["forecast"]["period_starts"]) == 7
    best = client.get("/forecasts/best-sellers", params={"n": 3}, headers=shop.headers).json()
    assert len(best["product_ids"]) == 3 and set(best["product_ids"]) <= {str(200 + k) for k in range(6)}


def test_forecasts_bring_the_actual_weekly_sales_before_them(client: TestClient, shop: Merchant) -> None:
    store = client.get("/forecasts/store", params={"history_weeks": 8}, headers=shop.headers).json()
    actual = store["actual"]
    assert actual["measure"] == "revenue" and len(actual["values"]) == len(actual["period_starts"]) == 8
    # The last actual week ends the day before the forecast's first day (the partial training day is left out).
    last_week_end = date.fromisoformat(actual["period_starts"][-1]) + timedelta(days=6)
    assert last_week_end + timedelta(days=1) == date.fromisoformat(store["forecast"]["period_starts"][0])
    assert sum(actual["values"]) > 0
    product = client.get("/forecasts/products/200", params={"history_weeks": 3}, headers=shop.headers).json()
    assert product["actual"]["measure"] == "units" and len(product["actual"]["values"]) == 3
    assert client.get("/forecasts/store", headers=shop.headers).json()["actual"] is None
    too_long = client.get("/forecasts/store", params={"history_weeks": 27}, headers=shop.headers)
    assert too_long.status_code == 422


def test_overview_alerts_name_what_sells_out_soon_and_wait_for_missing_models(
    client: TestClient, shop: Merchant
) -> None:
    response = client.get("/overview/alerts", params={"lead_time_days": 14}, headers=shop.headers)
    assert response.status_code == 200, response.text
    alerts = response.json()
    assert alerts["stockouts"]["reorder_now"] >= 1
    soon = [item["product_id"] for item in alerts["stockouts"]["within_window"]]
    assert "201" in soon  # 3 in stock
    assert alerts["at_risk"] is None and alerts["prices"] is None  # no customer or pricing model trained
    assert client.get("/overview/alerts").status_code == 401


def test_plans_are_public(client: TestClient) -> None:
    response = client.get("/plans")
    assert response.status_code == 200
    plans = response.json()["plans"]
    assert [plan["plan"] for plan in plans] == ["free", "growth", "pro"]
    assert {"limit": "api_calls", "allowed": 20000, "period": "month"} in plans[0]["quotas"]


def test_inventory_advice_uses_the_stock_in_the_store(client: TestClient, shop: Merchant) -> None:
    low = client.get("/inventory/advice/201", params={"lead_time_days": 14}, headers=shop.headers)
    assert low.status_code == 200, low.text
    advice = low.json()["advice"]
    assert advice["stock_quantity"] == 3 and advice["reorder_now"] and advice["reorder_quantity"] > 0
    listed = client.get("/inventory/advice", params={"lead_time_days": 14}, headers=shop.headers).json()
    assert "201" in [item["product_id"] for item in listed["items"]]
    assert listed["products_checked"] == 5  # 202 manages no stock


def test_bad_queries_are_clear_4xx(client: TestClient, shop: Merchant) -> None:
    assert client.get("/inventory/advice/202", headers=shop.headers).status_code == 422  # no managed stock
    assert client.get("/forecasts/products/999", headers=shop.headers).status_code == 404
    too_far = client.get("/forecasts/store", params={"horizon_weeks": 20}, headers=shop.headers)
    assert too_far.status_code == 422 and "horizon_weeks" in too_far.json()["detail"]


def _advice_of(client: TestClient, shop: Merchant, product_id: str) -> dict[str, Any]:
    listed = client.get("/inventory/advice", params={"lead_time_days": 14}, headers=shop.headers)
    assert listed.status_code == 200, listed.text
    return next(item for item in listed.json()["items"] if item["product_id"] == product_id)


def test_a_products_lead_time_and_supplier_are_stored_and_used_by_its_advice(
    client: TestClient, shop: Merchant
) -> None:
    from luxebrain.auth.members import list_audit
    from luxebrain.storage.tenants import tenant_repository

    before = _advice_of(client, shop, "201")
    assert before["lead_time_days"] == 14 and before["lead_time_source"] == "default" and before["supplier"] is None
    assert client.get("/inventory/products/201/supply", headers=shop.headers).json()["lead_time_days"] is None

    staff = add_tenant_user(shop.tenant_id, "staff")
    saved = client.put(
        "/inventory/products/201/supply",
        json={"lead_time_days": 42, "supplier": "  Atelier Lumière "},
        headers=staff.headers,
    )
    assert saved.status_code == 200, saved.text
    assert saved.json()["lead_time_days"] == 42 and saved.json()["supplier"] == "Atelier Lumière"
    after = _advice_of(client, shop, "201")
    assert after["lead_time_days"] == 42 and after["lead_time_source"] == "product"
    assert after["supplier"] == "Atelier Lumière" and after["reorder_quantity"] > before["reorder_quantity"]
    one = client.get("/inventory/advice/201", params={"lead_time_days": 14}, headers=shop.headers).json()["advice"]
    assert one["lead_time_days"] == 42 and one["reorder_quantity"] == after["reorder_quantity"]
    # Other products keep the default
    assert all(
        item["lead_time_days"] == 14
        for item in client.get("/inventory/advice", headers=shop.headers).json()["items"]
        if item["product_id"] != "201"
    )
    audit = [
        record
        for record in list_audit(shop.tenant_id, audit=tenant_repository())
        if record.action == "product_supply.changed"
    ]
    assert audit and audit[0].details["lead_time_days"] == 42

    cleared = client.put("/inventory/products/201/supply", json={}, headers=shop.headers)
    assert cleared.status_code == 200 and cleared.json()["lead_time_days"] is None
    assert _advice_of(client, shop, "201")["reorder_quantity"] == before["reorder_quantity"]


def test_supply_terms_are_validated_role_checked_and_the_tenants_own(client: TestClient, shop: Merchant) -> None:
    url = "/inventory/products/201/supply"
    for body in ({"lead_time_days": 0}, {"lead_time_days": 366}, {"supplier": "x" * 201}, {"cost": 3}):
        assert client.put(url, json=body, headers=shop.headers).status_code == 422, body
    assert client.put("/inventory/products/999/supply", json={}, headers=shop.headers).status_code == 404
    reader = add_tenant_user(shop.tenant_id, "read-only")
    assert client.get(url, headers=reader.headers).status_code == 200
    assert client.put(url, json={"lead_time_days": 30}, headers=reader.headers).status_code == 403
    other = new_merchant("Maison Voisine")
    assert client.get(url, headers=other.headers).status_code == 404  # 201 is not in the other tenant's catalogue
    assert client.put(url, json={"lead_time_days": 30}, headers=other.headers).status_code == 404
    assert client.get(url, headers=shop.headers).json()["lead_time_days"] is None


def test_a_lead_time_beyond_the_forecast_is_advised_over_its_horizon(client: TestClient, shop: Merchant) -> None:
    saved = client.put("/inventory/products/201/supply", json={"lead_time_days": 365}, headers=shop.headers)
    assert saved.status_code == 200, saved.text
    try:
        advice = client.get("/inventory/advice/201", headers=shop.headers).json()["advice"]
        assert advice["lead_time_days"] == 365 and advice["lead_time_counted_days"] < 365
        assert "lower bound" in advice["explanation"]
    finally:
        client.put("/inventory/products/201/supply", json={}, headers=shop.headers)


def test_a_product_forecast_answers_what_if_another_price(client: TestClient, shop: Merchant) -> None:
    # Given a forecast trained on sales whose prices moved (40 weeks of 6 products: the GBM learns little of it)
    url = "/forecasts/products/200"
    planned = client.get(url, params={"horizon_weeks": 4}, headers=shop.headers).json()["forecast"]
    price = planned["drivers"]["price"]
    assert price["lowest"] < price["planned"] <= price["highest"]
    # When asking the lowest price the history holds, and 20 % above the current one
    cheaper = client.get(url, params={"horizon_weeks": 4, "price": price["lowest"]}, headers=shop.headers)
    dearer = client.get(
        url, params={"horizon_weeks": 4, "price": round(1.2 * price["planned"], 2)}, headers=shop.headers
    )
    # Then the cheaper price sells more units and the dearer one no more, each saying by how much and whether
    # the history holds such a price
    assert cheaper.status_code == 200 and dearer.status_code == 200, (cheaper.text, dearer.text)
    lower, higher = cheaper.json()["forecast"], dearer.json()["forecast"]
    assert sum(lower["units_p50"]) > sum(planned["units_p50"]) >= sum(higher["units_p50"])
    assert lower["drivers"]["price"]["demand_multiplier"] > 1.0 >= higher["drivers"]["price"]["demand_multiplier"]
    assert lower["drivers"]["price"]["extrapolated"] is False
    # And a price far off, or no price at all, is a clear 4xx
    far = client.get(url, params={"price": round(5 * price["planned"], 2)}, headers=shop.headers)
    assert far.status_code == 422 and "between" in far.json()["detail"]
    assert client.get(url, params={"price": 0}, headers=shop.headers).status_code == 422

"""Applying an approved suggestion to WooCommerce and rolling it back, against a fake client."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest

from luxebrain.ml.pricing.apply import (
    ApprovalRequiredError,
    PriceApplyError,
    PriceChangeRecord,
    StalePriceError,
    StoreWriteError,
    apply_suggestion,
    product_endpoint,
    rollback_price_change,
)
from luxebrain.ml.pricing.serving import PriceSuggestion

NOW = datetime(2025, 3, 3, 9, 30, tzinfo=UTC)


class FakeResponse:
    def __init__(self, status_code: int, body: Any) -> None:
        self.status_code = status_code
        self._body = body

    def json(self) -> Any:
        return self._body


class FakeWooCommerce:
    """Holds products like the REST API does (prices as strings) and records every PUT."""

    def __init__(self) -> None:
        self.items: dict[str, dict[str, Any]] = {
            "products/42": {
                "id": 42,
                "price": "120.00",
                "regular_price": "120.00",
                "sale_price": "",
                "date_on_sale_from_gmt": None,
                "date_on_sale_to_gmt": None,
            },
            "products/7/variations/9": {
                "id": 9,
                "price": "80.00",
                "regular_price": "90.00",
                "sale_price": "80.00",
                "date_on_sale_from_gmt": "2025-02-01T00:00:00",
                "date_on_sale_to_gmt": "2025-04-01T00:00:00",
            },
        }
        self.puts: list[tuple[str, dict[str, Any]]] = []
        self.fail_next_put = False

    def get(self, endpoint: str, **_: Any) -> FakeResponse:
        if endpoint not in self.items:
            return FakeResponse(404, {"code": "woocommerce_rest_product_invalid_id", "message": "Invalid ID."})
        return FakeResponse(200, dict(self.items[endpoint]))

    def put(self, endpoint: str, data: dict[str, Any], **_: Any) -> FakeResponse:
        if self.fail_next_put:
            return FakeResponse(400, {"message": "Invalid parameter(s): regular_price"})
        self.puts.append((endpoint, data))
        item = self.items[endpoint]
        item.update(data)
        item["price"] = item["sale_price"] or item["regular_price"]
        return FakeResponse(200, dict(item))


def suggestion(**changes: Any) -> PriceSuggestion:
    base = PriceSuggestion(
        product_id="42",
        variation_id=None,
        kind="regular",
        current_price=120.0,
        suggested_price=129.0,
        change=0.075,
        sale_weeks=None,
        expected_units_change=-3.0,
        expected_revenue_change=150.0,
        expected_margin_change=210.0,
        horizon_weeks=13,
        elasticity=-1.8,
        elasticity_interval=(-2.2, -1.4),
        confidence="high",
        reasons=["sells 3.0x faster than its category", "9 days of stock left", "+8%"],
        bound_by=[],
        currency="EUR",
        auto_apply=False,
    )
    return replace(base, **changes)


def test_apply_writes_the_price_and_records_approver_and_previous_price() -> None:
    # Given a product at 120.00 and an approved suggestion of 129.00
    store = FakeWooCommerce()
    # When it is applied
    record = apply_suggestion(store, suggestion(), approved_by="anna@shop.example", now=NOW)
    # Then the store has the new regular price and the record can undo it
    assert store.items["products/42"]["regular_price"] == "129.00"
    assert store.puts == [
        (
            "products/42",
            {"regular_price": "129.00", "sale_price": "", "date_on_sale_from_gmt": "", "date_on_sale_to_gmt": ""},
        )
    ]
    assert record.approved_by == "anna@shop.example"
    assert record.previous["regular_price"] == "120.00"
    assert record.applied_at == "2025-03-03T09:30:00"
    assert PriceChangeRecord.from_dict(record.to_dict()) == record


def test_rollback_restores_the_previous_price() -> None:
    store = FakeWooCommerce()
    record = apply_suggestion(store, suggestion(), approved_by="anna", now=NOW)
    undo = rollback_price_change(store, record, rolled_back_by="ben", now=NOW)
    assert store.items["products/42"]["regular_price"] == "120.00"
    assert store.items["products/42"]["price"] == "120.00"
    assert undo.action == "rollback" and undo.approved_by == "ben"
    assert undo.previous["regular_price"] == "129.00"


def test_sale_on_a_variation_is_dated_and_rolls_back_to_the_old_sale() -> None:
    store = FakeWooCommerce()
    sale = suggestion(
        product_id="7", variation_id="9", kind="sale", current_price=80.0, suggested_price=72.0, sale_weeks=2
    )
    record = apply_suggestion(store, sale, approved_by="anna", now=NOW)
    variation = store.items["products/7/variations/9"]
    assert variation["sale_price"] == "72.00"
    assert variation["date_on_sale_to_gmt"] == "2025-03-17T09:30:00"
    assert variation["regular_price"] == "90.00"  # a sale leaves the regular price alone
    rollback_price_change(store, record, rolled_back_by="anna", now=NOW)
    assert variation["sale_price"] == "80.00"
    assert variation["date_on_sale_to_gmt"] == "2025-04-01T00:00:00"


def test_no_change_without_approval_unless_auto_apply() -> None:
    store = FakeWooCommerce()
    with pytest.raises(ApprovalRequiredError, match="approver"):
        apply_suggestion(store, suggestion(), approved_by=None, now=NOW)
    assert store.puts == []
    record = apply_suggestion(store, suggestion(auto_apply=True), approved_by=None, now=NOW)
    assert record.approved_by == "auto-apply"


def test_stale_suggestion_is_refused() -> None:
    store = FakeWooCommerce()
    store.items["products/42"]["price"] = "110.00"
    with pytest.raises(StalePriceError, match=r"110\.00"):
        apply_suggestion(store, suggestion(), approved_by="anna", now=NOW)
    assert store.puts == []


def test_rollback_refuses_to_undo_someone_elses_later_change() -> None:
    store = FakeWooCommerce()
    record = apply_suggestion(store, suggestion(), approved_by="anna", now=NOW)
    store.items["products/42"]["regular_price"] = "135.00"  # the merchant changed it by hand since
    with pytest.raises(StalePriceError, match="regular_price"):
        rollback_price_change(store, record, rolled_back_by="ben", now=NOW)
    rollback_price_change(store, record, rolled_back_by="ben", now=NOW, force=True)
    assert store.items["products/42"]["regular_price"] == "120.00"


def test_store_errors_and_bad_ids_are_clear() -> None:
    store = FakeWooCommerce()
    store.fail_next_put = True
    with pytest.raises(StoreWriteError, match="status 400"):
        apply_suggestion(store, suggestion(), approved_by="anna", now=NOW)
    with pytest.raises(StoreWriteError, match="404"):
        apply_suggestion(FakeWooCommerce(), suggestion(product_id="5"), approved_by="anna", now=NOW)
    with pytest.raises(PriceApplyError, match="numeric"):
        product_endpoint("../orders")
    with pytest.raises(PriceApplyError, match="missing"):
        PriceChangeRecord.from_dict({"product_id": "42"})

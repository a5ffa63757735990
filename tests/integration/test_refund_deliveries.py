"""Refunds, fractional quantities and guests through the processor handler against moto over HTTP: net figures
stored once whatever the delivery order, refund lines fetched once, contradictions recorded as rejections."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from fakes import StoreRefunds
from test_ingest_webhooks import context, envelope, sqs_event

from luxebrain.billing.usage import plan_usage
from luxebrain.errors import NotFoundError
from luxebrain.runtime import aws_client
from luxebrain.storage.customers import get_order
from luxebrain.storage.ingest import ingest_repository, list_rejected_events
from luxebrain.storage.items.customers import CustomerItem
from luxebrain.storage.storefront import storefront_repository
from luxebrain.storage.tenants import tenant_repository
from luxebrain.storage.training import training_repository
from luxebrain.woocommerce.client import WooCommerceAuthError
from luxebrain_dev.local.embedded import LocalResources
from luxebrain_dev.local.functions import as_function, import_handler_module

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "woocommerce"


def order(**changes: Any) -> dict[str, Any]:
    return json.loads((FIXTURES / "order.json").read_text()) | changes


def refund_of_one_pump(refund_id: int = 501, quantity: int = 1, amount: str = "90.00") -> dict[str, Any]:
    return {
        "id": refund_id,
        "date_created_gmt": "2026-03-28T09:00:00",
        "amount": amount,
        "reason": "",
        "line_items": [
            {
                "id": 950,
                "product_id": 22,
                "variation_id": 23,
                "quantity": -quantity,
                "total": f"-{amount}",
                "meta_data": [{"id": 7, "key": "_refunded_item_id", "value": "316"}],
                "refund_total": float(amount),
            }
        ],
    }


@pytest.fixture
def store_refunds() -> StoreRefunds:
    """The store's ``/orders/{id}/refunds`` as the processor sees it, counting the calls."""
    return StoreRefunds()


@pytest.fixture
def processor_handler(local_aws: LocalResources, store_refunds: StoreRefunds) -> Any:
    """The processor function's batch handler asking ``store_refunds`` for refund lines, under its role."""
    module = import_handler_module("../functions/ingest/", "processor", "IngestProcessorFunction")
    return as_function(
        "IngestProcessorFunction",
        lambda event, context: module.handle_batch(
            event,
            context,
            store_refunds,
            records=ingest_repository(),
            usage=plan_usage(),
            tenants=tenant_repository(),
            training=training_repository(),
            storefront=storefront_repository(),
        ),
    )


def test_a_later_refund_updates_net_once_whatever_the_delivery_order(
    processor_handler: Any, tenant_id: str, store_refunds: StoreRefunds
) -> None:
    # Given a completed order, then an order.updated that carries a refund of one of its two pumps
    original = order(status="completed", date_modified_gmt="2026-03-23T10:00:00")
    refunded = order(
        status="completed",
        date_modified_gmt="2026-03-28T09:00:01",
        refunds=[{"id": 501, "reason": "", "total": "-90.00"}],
    )
    store_refunds.refunds = [refund_of_one_pump()]
    processor_handler(sqs_event(envelope(tenant_id, "order.updated", refunded)), context())
    # When the older version arrives after it, and the refunded version is delivered twice more
    processor_handler(sqs_event(envelope(tenant_id, "order.created", original)), context())
    processor_handler(sqs_event(envelope(tenant_id, "order.updated", refunded)), context())
    processor_handler(sqs_event(envelope(tenant_id, "order.updated", refunded)), context())
    # Then the stored order is net of the refund, exactly once, and the store was asked for its lines once
    stored = get_order(tenant_id, "727")
    pump = stored.line_items[1]
    assert (pump.quantity, pump.net_quantity, pump.net_total) == (2, 1, 90.0)
    assert (stored.total, stored.refunded_total, stored.net_total) == (1340.0, 90.0, 1250.0)
    assert not stored.refunds_estimated
    assert store_refunds.calls == 1
    # and training got the net lines
    bucket = os.environ["LUXEBRAIN_MODELS_BUCKET"]
    s3 = aws_client("s3")
    from luxebrain.training.deltas import delta_prefix

    keys = [item["Key"] for item in s3.list_objects_v2(Bucket=bucket, Prefix=delta_prefix(tenant_id))["Contents"]]
    latest = [json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())["orders"][0] for key in keys]
    newest = max(latest, key=lambda record: record["modified_gmt"])
    assert newest["lines"] == [["93", 1.0, 1150.0, 1150.0], ["22", 1.0, 90.0, 90.0]]


def test_a_refund_larger_than_its_line_is_a_recorded_rejection_and_nothing_is_written(
    processor_handler: Any, tenant_id: str, store_refunds: StoreRefunds
) -> None:
    processor_handler(sqs_event(envelope(tenant_id, "order.created", order())), context())
    store_refunds.refunds = [refund_of_one_pump(quantity=3)]
    bad = order(date_modified_gmt="2026-03-29T00:00:00", refunds=[{"id": 501, "total": "-90.00"}])
    processor_handler(sqs_event(envelope(tenant_id, "order.updated", bad)), context())
    assert get_order(tenant_id, "727").modified_gmt == "2026-03-22T19:30:35"
    rejected = list_rejected_events(tenant_id)
    assert len(rejected) == 1 and "exceed its quantity" in rejected[0].reason


def test_a_store_that_cannot_list_refunds_leaves_them_estimated_not_the_order_lost(
    processor_handler: Any, tenant_id: str, store_refunds: StoreRefunds
) -> None:
    store_refunds.refunds = WooCommerceAuthError("the store refused the REST API key (401)")
    document = order(refunds=[{"id": 502, "total": "-133.00"}])
    processor_handler(sqs_event(envelope(tenant_id, "order.updated", document)), context())
    stored = get_order(tenant_id, "727")
    assert stored.refunds_estimated and stored.net_total == 1207.0


def test_a_fractional_quantity_is_stored(processor_handler: Any, tenant_id: str) -> None:
    document = order()
    document["line_items"][1] |= {"quantity": 1.25, "price": 144, "total": "180.00"}
    processor_handler(sqs_event(envelope(tenant_id, "order.created", document)), context())
    assert get_order(tenant_id, "727").line_items[1].quantity == 1.25


@pytest.mark.parametrize("quantity", [-1, "NaN", float("nan")])
def test_a_negative_or_nan_quantity_is_a_recorded_rejection_and_nothing_is_written(
    processor_handler: Any, tenant_id: str, quantity: Any
) -> None:
    document = order()
    document["line_items"][0]["quantity"] = quantity
    body = json.dumps(document)  # a NaN travels as JSON's non-standard NaN literal
    answer = processor_handler(sqs_event(envelope(tenant_id, "order.created", body)), context())
    assert answer == {"batchItemFailures": []}  # acknowledged: a retry would not help
    rejected = list_rejected_events(tenant_id)
    assert len(rejected) == 1 and "line_items.0.quantity" in rejected[0].reason
    with pytest.raises(NotFoundError):
        get_order(tenant_id, "727")
    assert CustomerItem.count(f"TENANT#{tenant_id}#CUSTOMER") == 0  # nor the guest


def test_a_guest_is_not_written_from_an_order_refused_because_it_was_deleted(
    processor_handler: Any, tenant_id: str
) -> None:
    # Given the order's delete seen first (WooCommerce builds payloads at send time: deliveries cross)
    processor_handler(sqs_event(envelope(tenant_id, "order.deleted", {"id": 727})), context())
    # When the order's create arrives afterwards with the guest's billing details
    processor_handler(sqs_event(envelope(tenant_id, "order.created", order())), context())
    # Then the order stays deleted and no guest record holds their personal data
    assert get_order(tenant_id, "727").deleted
    guests = [c for c in CustomerItem.query(f"TENANT#{tenant_id}#CUSTOMER") if c.customer_id.startswith("guest:")]
    assert guests == []

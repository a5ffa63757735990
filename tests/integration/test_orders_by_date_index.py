"""The orders-by-date index on a tenant's data stored before it existed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from api_testkit import counted_dynamodb_items_read
from campaign_support import add_customer, add_order, aws_sender

from luxebrain.adapters.aws import secrets_vault
from luxebrain.campaigns.consent import record_consent
from luxebrain.campaigns.flows import run_flow
from luxebrain.campaigns.sending import DirectDispatcher
from luxebrain.campaigns.sources import campaign_sources
from luxebrain.runtime import reset_runtime
from luxebrain.storage.campaigns import campaign_repository
from luxebrain.storage.customers import index_stored_orders_by_date
from luxebrain.storage.items.customers import OrderItem
from luxebrain.storage.items.tenants import TenantItem, key_tenant
from luxebrain.storage.tenants import create_store
from luxebrain_dev.local.embedded import LocalResources

NOON = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)  # outside quiet hours in London


def test_orders_stored_before_the_by_date_index_are_added_to_it_once(local_aws: LocalResources, tenant_id: str) -> None:
    # Given a tenant created before the index: its two carts and one purchase stored without the index's keys
    create_store(
        tenant_id,
        url="https://shop.example",
        consumer_key="ck",
        consumer_secret="cs",
        store_id="s1",
        vault=secrets_vault(),
    )
    TenantItem.get(*key_tenant(tenant_id)).update(actions=[TenantItem.orders_indexed_by_date.set(False)])
    for order_id, customer_id, status in (("9001", "c1", "checkout-draft"), ("9002", "c2", "checkout-draft")):
        add_customer(tenant_id, customer_id, email=f"{tenant_id}.{customer_id}@example.com")
        record_consent(
            tenant_id, customer_id, "email", granted=True, source="checkout", campaigns=campaign_repository()
        )
        add_order(tenant_id, order_id, customer_id, NOON - timedelta(hours=2), status=status)
    add_order(tenant_id, "9003", "c2", NOON - timedelta(hours=1), status="completed")
    for item in OrderItem.query(f"TENANT#{tenant_id}#ORDER"):
        item.update(actions=[OrderItem.gsi2pk.remove(), OrderItem.gsi2sk.remove()])
    reset_runtime()
    # When the first flow run reads the orders by date
    result = run_flow(
        tenant_id,
        "abandoned_cart",
        NOON,
        DirectDispatcher(aws_sender(clock=lambda: NOON), base_delay=0.0),
        sources=campaign_sources(),
    )[0]
    # Then the stored orders were added to the index first: c1's cart is found, c2's (bought since) is not
    assert result.candidates == 1
    # And that happens once: the next execution environment reads the tenant's flag, not its orders
    reset_runtime()
    with counted_dynamodb_items_read() as read:
        assert index_stored_orders_by_date(tenant_id) == 0
    assert read["order"] == 0 and read["tenant"] == 1

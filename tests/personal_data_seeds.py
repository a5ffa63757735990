"""The table's entities as the privacy work finds them, for the personal data repository's contract test and
the unit tests of export, erasure and tenant deletion over its in-memory fake: a shop whose customer c1 has
items of every kind that names a customer (a guest checkout by her address, orders and a tombstone, consent, a
suppression, a send record), beside c2, c10 (an id c1 is the start of) and the same c1 in a neighbour tenant."""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from luxebrain.storage.items.campaigns import (
    ConsentItem,
    SendRecordItem,
    SuppressionItem,
    key_consent,
    key_send,
    key_suppression,
)
from luxebrain.storage.items.catalogue import ProductItem, key_product
from luxebrain.storage.items.customers import (
    CustomerItem,
    OrderItem,
    customer_orders_index_keys,
    key_customer,
    key_order,
    orders_by_date_index_keys,
)
from luxebrain.storage.items.members import MembershipItem, key_membership, membership_index_keys
from luxebrain.storage.items.privacy import PrivacyJobItem, key_privacy_job


def customer(tenant: str, customer_id: str, email: str | None, *, deleted: bool = False) -> CustomerItem:
    return CustomerItem(
        *key_customer(tenant, customer_id),
        entity=CustomerItem.ENTITY,
        tenant_id=tenant,
        customer_id=customer_id,
        email=email,
        phone="+33600000000" if email else None,
        first_name="Jeanne" if email else None,
        content_hash="h" * 8,
        deleted=deleted,
    )


def guest(tenant: str, email: str) -> CustomerItem:
    return customer(tenant, "guest:" + hashlib.sha256(email.encode()).hexdigest(), email)


def order(tenant: str, order_id: str, customer_id: str, *, tombstone: bool = False, total: float = 42) -> OrderItem:
    created = "2026-02-01T10:00:00"
    item = OrderItem(
        *key_order(tenant, order_id),
        entity=OrderItem.ENTITY,
        tenant_id=tenant,
        order_id=order_id,
        status="trash" if tombstone else "completed",
        status_class="other" if tombstone else "purchase",
        customer_id=customer_id,
        billing_country="FR",
        total=total,
        created_gmt=created,
        deleted=tombstone,
    )
    if not tombstone:  # a tombstone is in neither index
        item.gsi1pk, item.gsi1sk = customer_orders_index_keys(tenant, customer_id, created)
        item.gsi2pk, item.gsi2sk = orders_by_date_index_keys(tenant, created, order_id)
    return item


def consent(tenant: str, customer_id: str, channel: str = "email") -> ConsentItem:
    return ConsentItem(
        *key_consent(tenant, customer_id, channel),
        entity=ConsentItem.ENTITY,
        tenant_id=tenant,
        customer_id=customer_id,
        channel=channel,
        granted=True,
        source="checkout-checkbox",
    )


def suppression(tenant: str, customer_id: str, address: str) -> SuppressionItem:
    address_hash = hashlib.sha256(address.encode()).hexdigest()
    return SuppressionItem(
        *key_suppression(tenant, "email", address_hash),
        entity=SuppressionItem.ENTITY,
        tenant_id=tenant,
        channel="email",
        reason="unsubscribe",
        source="unsubscribe-link",
        customer_id=customer_id,
    )


def send_record(tenant: str, customer_id: str) -> SendRecordItem:
    return SendRecordItem(
        *key_send(tenant, "winback", customer_id, "2026-02"),
        entity=SendRecordItem.ENTITY,
        tenant_id=tenant,
        flow="winback",
        customer_id=customer_id,
        trigger="2026-02",
        channel="email",
        status="sent",
    )


def product(tenant: str, product_id: str, parent_id: str | None = None) -> ProductItem:
    return ProductItem(
        *key_product(tenant, product_id),
        entity=ProductItem.ENTITY,
        tenant_id=tenant,
        product_id=product_id,
        parent_id=parent_id,
        product_type="variation" if parent_id else "variable",
        price=12.5,
    )


def membership(tenant: str, user_sub: str) -> MembershipItem:
    gsi1pk, gsi1sk = membership_index_keys(tenant, user_sub)
    return MembershipItem(
        *key_membership(tenant, user_sub),
        gsi1pk=gsi1pk,
        gsi1sk=gsi1sk,
        entity=MembershipItem.ENTITY,
        tenant_id=tenant,
        user_sub=user_sub,
        email=f"{user_sub}@team.example",
        role="owner",
    )


def job(tenant: str, job_id: str) -> PrivacyJobItem:
    return PrivacyJobItem(
        *key_privacy_job(tenant, job_id),
        entity=PrivacyJobItem.ENTITY,
        tenant_id=tenant,
        job_id=job_id,
        kind="tenant_deletion",
        requested_by="owner-sub",
    )


JEANNE = "jeanne@customer.example"


def seed_shop(put: Callable[..., None], tenant: str, neighbour: str) -> None:
    """c1 (Jeanne: her customer record, a guest checkout with her address, two orders and a tombstone, consent,
    a suppression, a send record), c2 and c10 (an id c1 is the start of), and the same c1 in another tenant:
    15 items of ``tenant`` (8 of them c1's), 3 of ``neighbour``."""
    put(
        customer(tenant, "c1", JEANNE),
        guest(tenant, JEANNE),
        order(tenant, "o-1", "c1"),
        order(tenant, "o-2", "c1", total=19.9),
        order(tenant, "o-3", "c1", tombstone=True),
        consent(tenant, "c1"),
        suppression(tenant, "c1", JEANNE),
        send_record(tenant, "c1"),
        customer(tenant, "c2", "paul@customer.example"),
        order(tenant, "o-4", "c2"),
        consent(tenant, "c2"),
        customer(tenant, "c10", "dix@customer.example"),
        order(tenant, "o-5", "c10"),
        product(tenant, "p-1"),
        product(tenant, "p-2", parent_id="p-1"),
        customer(neighbour, "c1", JEANNE),
        order(neighbour, "o-1", "c1"),
        consent(neighbour, "c1"),
    )

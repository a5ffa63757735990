"""The foundation against moto's server over HTTP: resources from the template, tenant isolation."""

from __future__ import annotations

import os

import boto3
import pytest

from luxebrain.adapters.aws import secrets_vault
from luxebrain.errors import ConflictError, NotFoundError
from luxebrain.storage import tenants as tenant_repo
from luxebrain.storage.customers import Order, get_order, iter_orders, orders_of_customer
from luxebrain.storage.ingest import put_if_newer
from luxebrain.storage.items.customers import OrderItem, customer_orders_index_keys, key_order
from luxebrain.storage.items.tenants import StoreItem, key_store
from luxebrain_dev.infra_template import load_template, resources_of_type
from luxebrain_dev.local.embedded import LocalResources


def test_every_template_resource_is_created_or_deliberately_skipped(local_aws: LocalResources) -> None:
    template = load_template()
    created = {resource.logical_id for resource in local_aws.created}
    assert created | set(local_aws.skipped) == set(template["Resources"])
    assert local_aws.endpoint_url.startswith("http://127.0.0.1:")
    assert os.environ["AWS_ENDPOINT_URL"] == local_aws.endpoint_url


def test_template_tables_queues_and_bucket_exist_over_http(local_aws: LocalResources) -> None:
    template = load_template()
    dynamodb = boto3.client("dynamodb", endpoint_url=local_aws.endpoint_url)
    tables = dynamodb.list_tables()["TableNames"]
    assert len(tables) == len(resources_of_type(template, "AWS::DynamoDB::Table"))
    sqs = boto3.client("sqs", endpoint_url=local_aws.endpoint_url)
    queue_urls = sqs.list_queues()["QueueUrls"]
    assert len(queue_urls) == len(resources_of_type(template, "AWS::SQS::Queue"))
    ingest = sqs.get_queue_attributes(QueueUrl=os.environ["LUXEBRAIN_INGEST_QUEUE_URL"], AttributeNames=["All"])
    assert ingest["Attributes"]["FifoQueue"] == "true"
    assert "deadLetterTargetArn" in ingest["Attributes"]["RedrivePolicy"]
    s3 = boto3.client("s3", endpoint_url=local_aws.endpoint_url)
    assert os.environ["LUXEBRAIN_MODELS_BUCKET"] in [b["Name"] for b in s3.list_buckets()["Buckets"]]


def test_functions_environment_comes_from_template_globals(local_aws: LocalResources) -> None:
    variables = load_template()["Globals"]["Function"]["Environment"]["Variables"]
    for name in variables:
        assert local_aws.environment[name], name
    assert local_aws.environment["APP_ENV"] == "local"


def test_tenant_cannot_read_another_tenants_order_through_its_keys(tenant_id: str) -> None:
    # Given an order of tenant A
    other = tenant_repo.create_tenant("Other Maison").tenant_id
    pk, sk = key_order(tenant_id, "1001")
    gsi1pk, gsi1sk = customer_orders_index_keys(tenant_id, "42", "2026-01-01T00:00:00")
    OrderItem(
        pk,
        sk,
        gsi1pk=gsi1pk,
        gsi1sk=gsi1sk,
        entity="order",
        tenant_id=tenant_id,
        order_id="1001",
        status="completed",
        status_class="purchase",
        customer_id="42",
        created_gmt="2026-01-01T00:00:00",
    ).save()
    # When tenant B asks for the same order id / customer id through its own keys
    # Then nothing is found
    with pytest.raises(NotFoundError):
        get_order(other, "1001")
    assert list(iter_orders(other)) == []
    assert list(orders_of_customer(other, "42")) == []
    # while tenant A sees it, through both access paths
    assert get_order(tenant_id, "1001").customer_id == "42"
    assert [o.order_id for o in orders_of_customer(tenant_id, "42")] == ["1001"]


def test_store_secrets_are_encrypted_and_bound_to_their_tenant(tenant_id: str) -> None:
    store, secrets = tenant_repo.create_store(
        tenant_id, url="https://shop.example", consumer_key="ck_1", consumer_secret="cs_1", vault=secrets_vault()
    )
    stored = StoreItem.get(*key_store(tenant_id, store.store_id))
    assert b"cs_1" not in stored.secrets_ciphertext
    assert not hasattr(tenant_repo.get_store(tenant_id, store.store_id), "secrets_ciphertext")
    assert "cs_1" not in repr(secrets)  # SecretStr never prints its value
    decrypted = tenant_repo.get_store_secrets(tenant_id, store.store_id, vault=secrets_vault())
    assert decrypted.consumer_secret.get_secret_value() == "cs_1"
    assert decrypted.webhook_secret.get_secret_value() == secrets.webhook_secret.get_secret_value()
    with pytest.raises(NotFoundError):
        tenant_repo.get_store_secrets(
            tenant_repo.create_tenant("Thief").tenant_id, store.store_id, vault=secrets_vault()
        )


def test_creating_a_tenant_twice_is_a_conflict(tenant_id: str) -> None:
    with pytest.raises(ConflictError):
        tenant_repo.create_tenant("Again", tenant_id=tenant_id)
    assert tenant_id in [t.tenant_id for t in tenant_repo.iter_tenants()]


def test_put_if_newer_writes_once_and_never_goes_back_in_time(tenant_id: str) -> None:
    def order(modified: str, content_hash: str) -> Order:
        return Order(
            tenant_id=tenant_id,
            order_id="7",
            status="processing",
            status_class="purchase",
            customer_id="1",
            created_gmt="2026-01-01T00:00:00",
            modified_gmt=modified,
            content_hash=content_hash,
        )

    assert put_if_newer(order("2026-01-02T00:00:00", "a"))
    assert not put_if_newer(order("2026-01-02T00:00:00", "a"))  # duplicate
    assert put_if_newer(order("2026-01-03T00:00:00", "b"))
    assert not put_if_newer(order("2026-01-02T12:00:00", "c"))  # older arrives late
    assert get_order(tenant_id, "7").content_hash == "b"


def test_concurrent_settings_edits_never_erase_each_other(tenant_id: str) -> None:
    calls = {"n": 0}

    def set_timezone(current: dict) -> dict:
        calls["n"] += 1
        if calls["n"] == 1:  # another writer changes another setting between our read and our write
            tenant_repo.update_tenant_settings(tenant_id, lambda other: {**other, "weekly_report": True})
        return {**current, "timezone": "Europe/Paris"}

    # When two edits of different settings interleave
    tenant_repo.update_tenant_settings(tenant_id, set_timezone)
    # Then ours was re-applied on top of theirs, and both are kept
    assert calls["n"] == 2
    assert tenant_repo.get_tenant(tenant_id).settings == {"weekly_report": True, "timezone": "Europe/Paris"}

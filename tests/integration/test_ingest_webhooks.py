"""Webhook receiver and processor handlers against moto over HTTP: every bad-input, duplicate and
out-of-order case of the issue, exactly-once effects, tombstones and partial batch failures."""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import os
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fakes import StoreRefunds, no_refund_lookups
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ingest_support import store_ingest_status

from luxebrain.adapters.aws import secrets_vault
from luxebrain.billing.usage import plan_usage
from luxebrain.errors import NotFoundError
from luxebrain.ingest import processor as ingest_processor
from luxebrain.ingest.envelope import IngestEnvelope, utc_now_iso
from luxebrain.runtime import aws_client
from luxebrain.storage import tenants as tenant_repo
from luxebrain.storage.catalogue import get_product
from luxebrain.storage.customers import get_customer, get_order, orders_of_customer
from luxebrain.storage.ingest import ingest_repository, list_rejected_events
from luxebrain.storage.items.catalogue import ProductItem, key_product
from luxebrain.storage.items.customers import CustomerItem, OrderItem, key_order
from luxebrain.storage.storefront import storefront_repository
from luxebrain.woocommerce.client import WooCommerceError
from luxebrain.woocommerce.signature import compute_signature
from luxebrain_dev.delivery import wp_json_encode
from luxebrain_dev.local.embedded import LocalResources
from luxebrain_dev.local.functions import LocalLambdaContext, import_handler

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "woocommerce"


def fixture(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / name).read_text())


@pytest.fixture(scope="module")
def receiver(local_aws: LocalResources) -> Any:
    return import_handler("../functions/ingest/", "receiver.handler", "IngestReceiverFunction")


@pytest.fixture(scope="module")
def processor_handler(local_aws: LocalResources) -> Any:
    return import_handler("../functions/ingest/", "processor.handler", "IngestProcessorFunction")


@pytest.fixture
def ingest_queue(local_aws: LocalResources) -> str:
    return os.environ["LUXEBRAIN_INGEST_QUEUE_URL"]


@pytest.fixture
def store(tenant_id: str) -> tuple[str, str]:
    created, secrets = tenant_repo.create_store(
        tenant_id,
        url="https://maison.example",
        consumer_key="ck_test",
        consumer_secret="cs_test",
        vault=secrets_vault(),
    )
    return created.store_id, secrets.webhook_secret.get_secret_value()


def context(name: str = "test") -> LocalLambdaContext:
    return LocalLambdaContext(name, 30, 256)


def webhook_event(
    tenant_id: str,
    store_id: str,
    body: bytes,
    *,
    topic: str | None = "order.updated",
    signature: str | None = None,
    base64_body: bool = False,
    extra_headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    event = fixture("webhook_event.json")
    event["pathParameters"] = {"tenant_id": tenant_id, "store_id": store_id}
    event["rawPath"] = event["requestContext"]["http"]["path"] = f"/webhooks/woocommerce/{tenant_id}/{store_id}"
    headers = event["headers"]
    if topic is None:
        for name in [h for h in headers if h.startswith("x-wc-")]:
            del headers[name]
    else:
        headers["x-wc-webhook-topic"] = topic
        headers["x-wc-webhook-resource"], _, headers["x-wc-webhook-event"] = topic.partition(".")
    if signature is not None:
        headers["x-wc-webhook-signature"] = signature
    headers.update(extra_headers or {})
    event["body"] = base64.b64encode(body).decode() if base64_body else body.decode("utf-8", "replace")
    event["isBase64Encoded"] = base64_body
    return event


def signed(
    tenant_id: str, store: tuple[str, str], body: bytes, topic: str = "order.updated", **kwargs: Any
) -> dict[str, Any]:
    return webhook_event(tenant_id, store[0], body, topic=topic, signature=compute_signature(body, store[1]), **kwargs)


def queued(queue_url: str, tenant_id: str) -> list[dict[str, Any]]:
    """This tenant's messages on the queue (taken off it); other tests' messages are left alone."""
    sqs = aws_client("sqs")
    mine: list[dict[str, Any]] = []
    for _ in range(50):
        batch = sqs.receive_message(
            QueueUrl=queue_url, MaxNumberOfMessages=10, MessageSystemAttributeNames=["All"], VisibilityTimeout=30
        ).get("Messages", [])
        if not batch:
            break
        for message in batch:
            if IngestEnvelope.model_validate_json(message["Body"]).tenant_id == tenant_id:
                mine.append(message)
                sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
            else:
                sqs.change_message_visibility(
                    QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
                )
        if all(IngestEnvelope.model_validate_json(m["Body"]).tenant_id != tenant_id for m in batch):
            break
    return mine


# ----------------------------------------------------------------------------- receiver
def test_signed_delivery_is_queued_per_record_with_the_body_hash_as_dedup_id(
    receiver: Any, tenant_id: str, store: tuple[str, str], ingest_queue: str
) -> None:
    # Given a delivery signed with the store's secret, encoded as WooCommerce encodes it
    body = wp_json_encode(fixture("order.json"))
    # When the receiver handles it
    response = receiver(signed(tenant_id, store, body), context())
    # Then it answers 200 and the raw body is on the FIFO queue, grouped per store + record
    assert response["statusCode"] == 200
    (message,) = queued(ingest_queue, tenant_id)
    envelope = IngestEnvelope.model_validate_json(message["Body"])
    assert envelope.body.encode() == body
    assert (envelope.tenant_id, envelope.store_id, envelope.topic) == (tenant_id, store[0], "order.updated")
    assert message["Attributes"]["MessageGroupId"] == f"{tenant_id}:{store[0]}:order:727"
    assert message["Attributes"]["MessageDeduplicationId"] == hashlib.sha256(body).hexdigest()


def test_base64_encoded_body_is_verified_over_its_raw_bytes(
    receiver: Any, tenant_id: str, store: tuple[str, str], ingest_queue: str
) -> None:
    body = wp_json_encode(fixture("product.json"))
    response = receiver(signed(tenant_id, store, body, topic="product.updated", base64_body=True), context())
    assert response["statusCode"] == 200
    assert len(queued(ingest_queue, tenant_id)) == 1


@pytest.mark.parametrize("signature", ["", "wrong", None])
def test_wrong_or_missing_signature_is_401_counted_and_nothing_is_queued(
    receiver: Any,
    tenant_id: str,
    store: tuple[str, str],
    ingest_queue: str,
    signature: str | None,
    capsys: pytest.CaptureFixture[str],
) -> None:
    body = wp_json_encode(fixture("order.json"))
    event = webhook_event(tenant_id, store[0], body, signature=signature)
    response = receiver(event, context())
    assert response["statusCode"] == 401
    assert "signature" in json.loads(response["body"])["message"].lower()
    assert queued(ingest_queue, tenant_id) == []
    assert '"WebhookSignatureInvalid"' in capsys.readouterr().out  # the metric (EMF) of this invocation


def test_signature_of_another_store_does_not_verify(
    receiver: Any, tenant_id: str, store: tuple[str, str], ingest_queue: str
) -> None:
    # Given a second store of the same tenant, and a body signed with the first store's secret
    other, _ = tenant_repo.create_store(
        tenant_id, url="https://other.example", consumer_key="ck", consumer_secret="cs", vault=secrets_vault()
    )
    body = wp_json_encode(fixture("order.json"))
    event = webhook_event(tenant_id, other.store_id, body, signature=compute_signature(body, store[1]))
    # Then the other store's path refuses it: the path is trusted only with that store's own secret
    assert receiver(event, context())["statusCode"] == 401
    assert queued(ingest_queue, tenant_id) == []


def test_unknown_store_and_other_tenants_store_are_404(
    receiver: Any, tenant_id: str, store: tuple[str, str], ingest_queue: str
) -> None:
    body = wp_json_encode(fixture("order.json"))
    other_tenant = tenant_repo.create_tenant("Other").tenant_id
    for path_tenant, path_store in [(tenant_id, "s-unknown"), (other_tenant, store[0]), ("NOT A TENANT", store[0])]:
        event = webhook_event(path_tenant, path_store, body, signature=compute_signature(body, store[1]))
        assert receiver(event, context())["statusCode"] == 404
    assert queued(ingest_queue, tenant_id) == []


def test_oversized_body_is_413(receiver: Any, tenant_id: str, store: tuple[str, str], ingest_queue: str) -> None:
    body = wp_json_encode(fixture("order.json") | {"customer_note": "x" * 300_000})
    response = receiver(signed(tenant_id, store, body), context())
    assert response["statusCode"] == 413
    assert queued(ingest_queue, tenant_id) == []


@pytest.mark.parametrize(
    ("body", "topic", "reason"),
    [
        (b'{"id": 727, "status": ', "order.updated", "not JSON"),
        (b"[1, 2, 3]", "order.updated", "JSON object"),
        (b'{"id": 1}', "action.woocommerce_some_hook", "not supported"),
        (b'{"id": 1}', "subscription.updated", "not supported"),
        (b"\xff\xfe{}", "order.updated", "UTF-8"),
    ],
)
def test_signed_but_unusable_deliveries_get_a_400_with_the_reason(
    receiver: Any, tenant_id: str, store: tuple[str, str], ingest_queue: str, body: bytes, topic: str, reason: str
) -> None:
    response = receiver(signed(tenant_id, store, body, topic=topic, base64_body=True), context())
    assert response["statusCode"] == 400
    assert reason in json.loads(response["body"])["message"]
    assert queued(ingest_queue, tenant_id) == []


def test_creation_ping_gets_exactly_200_without_a_signature(
    receiver: Any, tenant_id: str, store: tuple[str, str], ingest_queue: str
) -> None:
    # Given WooCommerce's ping when a merchant saves the webhook: form-encoded, unsigned, no X-WC headers
    event = webhook_event(tenant_id, store[0], b"webhook_id=12", topic=None)
    event["headers"]["content-type"] = "application/x-www-form-urlencoded"
    response = receiver(event, context())
    assert response["statusCode"] == 200
    assert queued(ingest_queue, tenant_id) == []


# ----------------------------------------------------------------------------- processor
def sqs_event(*envelopes: IngestEnvelope | str, groups: list[str] | None = None) -> dict[str, Any]:
    records = []
    for index, envelope in enumerate(envelopes):
        body = envelope if isinstance(envelope, str) else envelope.model_dump_json()
        records.append(
            {
                "messageId": str(uuid.uuid4()),
                "receiptHandle": "handle",
                "body": body,
                "attributes": {
                    "ApproximateReceiveCount": "1",
                    "SentTimestamp": "1774207836000",
                    "SenderId": "AIDA",
                    "ApproximateFirstReceiveTimestamp": "1774207836000",
                    "MessageGroupId": (groups or [f"g{i}" for i in range(len(envelopes))])[index],
                    "MessageDeduplicationId": hashlib.sha256(body.encode()).hexdigest(),
                    "SequenceNumber": str(index + 1),
                },
                "messageAttributes": {},
                "md5OfBody": hashlib.md5(body.encode()).hexdigest(),  # noqa: S324 - SQS's own checksum
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:luxebrain-local-ingest.fifo",
                "awsRegion": "us-east-1",
            }
        )
    return {"Records": records}


def envelope(tenant_id: str, topic: str, payload: Any, store_id: str = "s-1") -> IngestEnvelope:
    resource, _, event = topic.partition(".")
    body = payload if isinstance(payload, str) else wp_json_encode(payload).decode()
    return IngestEnvelope(
        tenant_id=tenant_id,
        store_id=store_id,
        resource=resource,
        event=event,
        topic=topic,
        body=body,
        received_at=utc_now_iso(),
    )


def test_order_is_stored_with_its_lines_and_its_guest_in_two_writes(processor_handler: Any, tenant_id: str) -> None:
    before = ingest_processor.process_totals()
    result = processor_handler(sqs_event(envelope(tenant_id, "order.created", fixture("order.json"))), context())
    assert result == {"batchItemFailures": []}
    order = get_order(tenant_id, "727")
    assert len(order.line_items) == 2 and order.status_class == "purchase"
    guest = get_customer(tenant_id, order.customer_id)
    assert guest.country == "FR"
    assert ingest_processor.process_totals().writes - before.writes == 2


def test_same_content_twice_stores_once(processor_handler: Any, tenant_id: str) -> None:
    order = fixture("order.json")
    processor_handler(sqs_event(envelope(tenant_id, "order.created", order)), context())
    stored = OrderItem.get(*key_order(tenant_id, "727"))
    before = ingest_processor.process_totals()
    # When the same content arrives again, even under another topic and with other unused fields
    processor_handler(sqs_event(envelope(tenant_id, "order.updated", order | {"customer_note": "hi"})), context())
    after = ingest_processor.process_totals()
    assert after.duplicate - before.duplicate == 1
    assert after.stored == before.stored
    assert OrderItem.get(*key_order(tenant_id, "727")).updated_at == stored.updated_at


def test_an_older_version_never_overwrites_a_newer_one(processor_handler: Any, tenant_id: str) -> None:
    newer = fixture("order.json") | {"status": "completed", "date_modified_gmt": "2026-03-25T10:00:00"}
    older = fixture("order.json") | {"status": "pending", "date_modified_gmt": "2026-03-22T19:28:02"}
    # Given the newer version first, then the older one in the same batch (out of order)
    result = processor_handler(
        sqs_event(
            envelope(tenant_id, "order.updated", newer), envelope(tenant_id, "order.created", older), groups=["o", "o"]
        ),
        context(),
    )
    assert result == {"batchItemFailures": []}
    stored = get_order(tenant_id, "727")
    assert (stored.status, stored.modified_gmt) == ("completed", "2026-03-25T10:00:00")


def test_delete_tombstones_and_restore_lifts_it(processor_handler: Any, tenant_id: str) -> None:
    order = fixture("order.json") | {"customer_id": 25}
    processor_handler(sqs_event(envelope(tenant_id, "order.created", order)), context())
    assert [stored.order_id for stored in orders_of_customer(tenant_id, "25")] == ["727"]
    # When the order is deleted
    processor_handler(sqs_event(envelope(tenant_id, "order.deleted", {"id": 727})), context())
    tombstone = OrderItem.get(*key_order(tenant_id, "727"))
    # Then it is a tombstone, out of the customer's order history, and a late older update cannot revive it
    assert tombstone.deleted and tombstone.gsi1pk is None
    assert list(orders_of_customer(tenant_id, "25")) == []
    processor_handler(sqs_event(envelope(tenant_id, "order.updated", order)), context())
    assert get_order(tenant_id, "727").deleted
    # When it is restored (un-trashed), it is back
    processor_handler(sqs_event(envelope(tenant_id, "order.restored", order | {"status": "on-hold"})), context())
    restored = get_order(tenant_id, "727")
    assert not restored.deleted and restored.status == "on-hold"


def test_deleting_a_never_seen_record_leaves_a_tombstone(processor_handler: Any, tenant_id: str) -> None:
    processor_handler(sqs_event(envelope(tenant_id, "product.deleted", {"id": 999})), context())
    assert get_product(tenant_id, "999").deleted


def test_deleted_customer_loses_personal_data(processor_handler: Any, tenant_id: str) -> None:
    processor_handler(sqs_event(envelope(tenant_id, "customer.created", fixture("customer.json"))), context())
    assert get_customer(tenant_id, "25").email == "hannah.weber@example.com"
    processor_handler(sqs_event(envelope(tenant_id, "customer.deleted", {"id": 25})), context())
    customer = get_customer(tenant_id, "25")
    assert customer.deleted and customer.email is None and customer.phone is None


def test_variations_are_products_and_go_with_their_deleted_parent(processor_handler: Any, tenant_id: str) -> None:
    parent = fixture("product.json") | {"id": 22, "type": "variable", "variations": [23]}
    processor_handler(
        sqs_event(
            envelope(tenant_id, "product.created", parent),
            envelope(tenant_id, "product.created", fixture("product_variation.json")),
        ),
        context(),
    )
    variation = get_product(tenant_id, "23")
    assert (variation.parent_id, variation.product_type) == ("22", "variation")
    processor_handler(sqs_event(envelope(tenant_id, "product.deleted", {"id": 22})), context())
    assert get_product(tenant_id, "22").deleted and get_product(tenant_id, "23").deleted


def test_coupon_is_stored(processor_handler: Any, tenant_id: str) -> None:
    from luxebrain.storage.items.catalogue import CouponItem, key_coupon

    processor_handler(sqs_event(envelope(tenant_id, "coupon.created", fixture("coupon.json"))), context())
    assert CouponItem.get(*key_coupon(tenant_id, "719")).amount == 100


@pytest.mark.parametrize(
    ("topic", "body", "reason"),
    [
        ("order.updated", fixture("product.json"), "not a order payload"),
        ("order.updated", '{"id": 5', "not JSON"),
        ("customer.updated", {"id": "x"}, "not a customer payload"),
        ("order.deleted", {"no_id": 1}, "not a order payload"),
    ],
)
def test_deliveries_that_are_not_the_topics_shape_are_recorded_as_rejected(
    processor_handler: Any, tenant_id: str, topic: str, body: Any, reason: str
) -> None:
    result = processor_handler(sqs_event(envelope(tenant_id, topic, body)), context())
    assert result == {"batchItemFailures": []}  # retrying would not help: acknowledged
    (rejected,) = list_rejected_events(tenant_id)
    assert reason in rejected.reason and rejected.topic == topic
    assert "example.com" not in rejected.reason  # no personal data in reasons
    with pytest.raises(NotFoundError):
        get_order(tenant_id, "727")


def test_a_poison_message_fails_alone_and_the_rest_of_the_batch_lands(processor_handler: Any, tenant_id: str) -> None:
    good = envelope(tenant_id, "order.created", fixture("order.json"))
    other = envelope(tenant_id, "customer.created", fixture("customer.json"))
    later_in_poison_group = envelope(tenant_id, "product.created", fixture("product.json"))
    event = sqs_event(good, "not an envelope", later_in_poison_group, other, groups=["a", "p", "p", "c"])
    result = processor_handler(event, context())
    failed = {failure["itemIdentifier"] for failure in result["batchItemFailures"]}
    # Then the poison message and the one behind it in its group (order is kept per record) are retried
    assert failed == {event["Records"][1]["messageId"], event["Records"][2]["messageId"]}
    assert get_order(tenant_id, "727") and get_customer(tenant_id, "25")


# ----------------------------------------------------------------------------- property-based
order_like = st.fixed_dictionaries(
    {"id": st.integers(min_value=-2, max_value=10**6)},
    optional={
        "status": st.text(max_size=12),
        "date_created_gmt": st.sampled_from(["2026-01-01T00:00:00", "", "bad", None]),
        "date_modified_gmt": st.sampled_from(["2026-01-02T00:00:00", None, 5]),
        "line_items": st.lists(
            st.fixed_dictionaries(
                {"id": st.integers(-1, 100), "quantity": st.integers(-1, 5)},
                optional={"product_id": st.integers(0, 10), "total": st.sampled_from(["1.00", "x", 3])},
            ),
            max_size=3,
        ),
        "total": st.one_of(st.text(max_size=5), st.floats(), st.integers()),
        "billing": st.one_of(
            st.none(), st.fixed_dictionaries({}, optional={"email": st.emails(), "country": st.text(max_size=3)})
        ),
    },
)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
)
@given(
    topic=st.sampled_from(["order.updated", "order.deleted", "product.updated", "customer.created", "coupon.updated"]),
    payload=order_like,
    cut=st.integers(min_value=0, max_value=400),
)
def test_random_and_truncated_payloads_are_stored_or_rejected_never_crash(
    local_aws: LocalResources, topic: str, payload: dict[str, Any], cut: int
) -> None:
    tenant_id = "t-hypothesis"
    try:
        tenant_repo.get_tenant(tenant_id)
    except NotFoundError:  # deliveries are metered against the tenant's plan: it must exist
        tenant_repo.create_tenant("Hypothesis", plan="pro", tenant_id=tenant_id)
    body = wp_json_encode(payload).decode()
    if cut % 3 == 0:
        body = body[: cut % (len(body) + 1)]  # a truncated delivery
    result = ingest_processor.process_envelope(
        envelope(tenant_id, topic, body),
        event_id=str(uuid.uuid4()),
        refunds=StoreRefunds(WooCommerceError("no store behind this test")),
        records=ingest_repository(),
        usage=plan_usage(),
        storefront=storefront_repository(),
    )
    assert result.outcome in ("stored", "duplicate", "rejected", "tombstoned")


def test_replayed_delivery_changes_nothing(processor_handler: Any, tenant_id: str) -> None:
    delivery = envelope(tenant_id, "product.updated", fixture("product.json"))
    processor_handler(sqs_event(delivery), context())
    first = ProductItem.get(*key_product(tenant_id, "93"))
    replay = copy.deepcopy(delivery)
    result = ingest_processor.process_envelope(
        replay,
        event_id="replay",
        refunds=no_refund_lookups,
        records=ingest_repository(),
        usage=plan_usage(),
        storefront=storefront_repository(),
    )
    assert result.outcome == "duplicate"
    assert ProductItem.get(*key_product(tenant_id, "93")).updated_at == first.updated_at
    assert ProductItem.count(first.pk) == 1
    assert CustomerItem.count(f"TENANT#{tenant_id}#CUSTOMER") == 0


# ----------------------------------------------------------------------------- feeding training
def test_stored_orders_reach_the_training_snapshot_as_one_delta_per_batch(
    processor_handler: Any, tenant_id: str
) -> None:
    from luxebrain.storage.training import get_training_state
    from luxebrain.training.deltas import delta_prefix

    # Given two new orders and a duplicate of the first in one batch
    first, second = fixture("order.json"), fixture("order.json") | {"id": 99001}
    batch = [envelope(tenant_id, "order.created", first), envelope(tenant_id, "order.created", second)]
    processor_handler(sqs_event(*batch), context())
    # When the duplicate arrives again
    processor_handler(sqs_event(envelope(tenant_id, "order.created", first)), context())
    # Then exactly one delta holds both stored orders, and the tenant is due for training
    bucket = os.environ["LUXEBRAIN_MODELS_BUCKET"]
    listed = aws_client("s3").list_objects_v2(Bucket=bucket, Prefix=delta_prefix(tenant_id)).get("Contents", [])
    assert len(listed) == 1
    delta = json.loads(aws_client("s3").get_object(Bucket=bucket, Key=listed[0]["Key"])["Body"].read())
    assert sorted(order["order_id"] for order in delta["orders"]) == sorted([str(first["id"]), "99001"])
    state = get_training_state(tenant_id)
    assert state is not None and state.data_changed_at is not None


def test_product_updates_reach_the_training_price_history_as_a_delta(processor_handler: Any, tenant_id: str) -> None:
    from luxebrain.training.deltas import delta_prefix

    # Given a product delivered, then a newer version of it on sale with its stock run out
    product = fixture("product.json")
    newer = product | {
        "date_modified_gmt": "2031-01-01T00:00:00",
        "price": "19.00",
        "sale_price": "19.00",
        "stock_quantity": 0,
        "stock_status": "outofstock",
    }
    processor_handler(sqs_event(envelope(tenant_id, "product.updated", product)), context())
    processor_handler(sqs_event(envelope(tenant_id, "product.updated", newer)), context())
    # Then each stored version is a price and stock record in its batch's delta
    bucket = os.environ["LUXEBRAIN_MODELS_BUCKET"]
    listed = aws_client("s3").list_objects_v2(Bucket=bucket, Prefix=delta_prefix(tenant_id)).get("Contents", [])
    records = [
        record
        for entry in listed
        for record in json.loads(aws_client("s3").get_object(Bucket=bucket, Key=entry["Key"])["Body"].read())[
            "products"
        ]
    ]
    assert len(records) == 2 and {record["product_id"] for record in records} == {str(product["id"])}
    latest = max(records, key=lambda record: record["at"])
    assert (latest["price"], latest["sale_price"], latest["stock_quantity"]) == (19.0, 19.0, 0.0)


def test_ingest_status_shows_the_last_event_and_only_this_stores_recent_rejections(
    processor_handler: Any, tenant_id: str
) -> None:
    # Given two stores of one tenant: the first delivers an order, the second a delivery that is rejected
    first, _ = tenant_repo.create_store(
        tenant_id, url="https://a.example", consumer_key="ck", consumer_secret="cs", vault=secrets_vault()
    )
    second, _ = tenant_repo.create_store(
        tenant_id, url="https://b.example", consumer_key="ck", consumer_secret="cs", vault=secrets_vault()
    )
    stored = envelope(tenant_id, "order.created", fixture("order.json"), store_id=first.store_id)
    processor_handler(sqs_event(stored), context())
    processor_handler(sqs_event(envelope(tenant_id, "order.updated", '{"id": 5', store_id=second.store_id)), context())
    # Then the first store is healthy with its last event stamped, the second is failing
    healthy = store_ingest_status(tenant_id, first.store_id)
    assert healthy.last_event_at == stored.received_at
    assert (healthy.rejected_last_24h, healthy.webhook_health) == (0, "ok")
    failing = store_ingest_status(tenant_id, second.store_id)
    assert (failing.rejected_last_24h, failing.webhook_health) == (1, "failing")
    # and a day later the old rejection no longer makes it fail
    tomorrow = datetime.now(UTC) + timedelta(hours=25)
    assert store_ingest_status(tenant_id, second.store_id, now=tomorrow).webhook_health == "ok"
    # A store with orders in the table (back-filled, or another store's) but no delivery yet is silent, not ok
    third, _ = tenant_repo.create_store(
        tenant_id, url="https://c.example", consumer_key="ck", consumer_secret="cs", vault=secrets_vault()
    )
    assert store_ingest_status(tenant_id, third.store_id).counts["orders"] > 0
    assert store_ingest_status(tenant_id, third.store_id).webhook_health == "silent"
    # An older stamp never replaces a newer one
    older = envelope(
        tenant_id, "order.updated", fixture("order.json") | {"id": 728}, store_id=first.store_id
    ).model_copy(update={"received_at": "2020-01-01T00:00:00"})
    processor_handler(sqs_event(older), context())
    assert store_ingest_status(tenant_id, first.store_id).last_event_at == stored.received_at


def test_ingest_status_shows_the_last_delivery_and_the_rejections_per_topic(
    processor_handler: Any, tenant_id: str
) -> None:
    # Given a store whose order.created, product.updated and (unusable) order.updated deliveries arrive in
    # batches, the product's received after the order's
    store, _ = tenant_repo.create_store(
        tenant_id, url="https://t.example", consumer_key="ck", consumer_secret="cs", vault=secrets_vault()
    )
    order = envelope(tenant_id, "order.created", fixture("order.json"), store_id=store.store_id)
    later = envelope(tenant_id, "product.updated", fixture("product.json"), store_id=store.store_id).model_copy(
        update={"received_at": "2099-01-01T00:00:00"}
    )
    bad = envelope(tenant_id, "order.updated", '{"id": 5', store_id=store.store_id)
    processor_handler(sqs_event(order, later), context())
    processor_handler(sqs_event(bad), context())
    # Then each topic shows its own last delivery (not the store's latest), and only its own rejections
    topics = store_ingest_status(tenant_id, store.store_id).webhooks["topics"]
    assert topics["order.created"]["last_delivery_at"] == order.received_at
    assert topics["product.updated"]["last_delivery_at"] == "2099-01-01T00:00:00"
    assert (topics["order.updated"]["last_delivery_at"], topics["order.updated"]["rejected_last_24h"]) == (
        bad.received_at,
        1,
    )
    assert topics["order.created"]["rejected_last_24h"] == 0
    # and an older delivery of a topic never moves its stamp back
    older = envelope(tenant_id, "order.created", fixture("order.json") | {"id": 729}, store_id=store.store_id)
    processor_handler(sqs_event(older.model_copy(update={"received_at": "2020-01-01T00:00:00"})), context())
    topics = store_ingest_status(tenant_id, store.store_id).webhooks["topics"]
    assert topics["order.created"]["last_delivery_at"] == order.received_at

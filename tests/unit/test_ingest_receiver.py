"""The webhook receiver's domain with the in-memory queue: what goes on the ingest queue for a signed
delivery, and what is refused before anything is queued."""

from __future__ import annotations

import json

import pytest
from fakes import RecordingQueue

from luxebrain.ingest.errors import BadDeliveryError, InvalidSignatureError, PayloadTooLargeError, UnknownStoreError
from luxebrain.ingest.receiver import MAX_BODY_BYTES, Delivery, receive_delivery
from luxebrain.woocommerce.signature import SIGNATURE_HEADER, compute_signature

TENANT, STORE, SECRET = "t-0123456789ab", "s-1", "wc&amp;secret"


def webhook_secret(tenant_id: str, store_id: str) -> str:
    if (tenant_id, store_id) != (TENANT, STORE):
        raise UnknownStoreError(f"no store {store_id} is registered here")
    return SECRET


def delivery(body: bytes, *, topic: str | None = "order.updated", signature: str | None = None) -> Delivery:
    headers = {SIGNATURE_HEADER: signature if signature is not None else compute_signature(body, SECRET)}
    if topic:
        headers["x-wc-webhook-topic"] = topic
        headers["x-wc-webhook-delivery-id"] = "d-7"
    return Delivery(tenant_id=TENANT, store_id=STORE, headers=headers, raw_body=body)


def test_a_signed_delivery_is_queued_raw_in_its_records_group() -> None:
    queue = RecordingQueue()
    body = b'{"id": 42, "status": "processing"}'
    result = receive_delivery(delivery(body), webhook_secret=webhook_secret, ingest_queue=queue)
    assert result.outcome == "queued" and result.topic == "order.updated" and result.message_id == "m-1"
    (message,) = queue.sent
    assert message.group_id == f"{TENANT}:{STORE}:order:42"  # one order's events stay in order
    assert message.deduplication_id  # the same body twice within SQS's window is queued once
    envelope = json.loads(message.body)
    assert envelope["body"] == body.decode() and envelope["delivery_id"] == "d-7"
    assert (envelope["tenant_id"], envelope["store_id"], envelope["resource"]) == (TENANT, STORE, "order")


def test_the_same_body_twice_has_one_deduplication_id_but_a_delete_does_not() -> None:
    queue = RecordingQueue()
    for topic in ("order.updated", "order.updated", "order.deleted"):
        receive_delivery(delivery(b'{"id": 42}', topic=topic), webhook_secret=webhook_secret, ingest_queue=queue)
    first, second, deleted = (message.deduplication_id for message in queue.sent)
    assert first == second != deleted


def test_a_ping_is_answered_without_queueing() -> None:
    queue = RecordingQueue()
    ping = delivery(b"webhook_id=12", topic=None, signature="")
    assert receive_delivery(ping, webhook_secret=webhook_secret, ingest_queue=queue).outcome == "ping"
    assert queue.sent == []


@pytest.mark.parametrize(
    ("request_", "error"),
    [
        (delivery(b'{"id": 1}', signature="forged"), InvalidSignatureError),
        (delivery(b'{"id": 1}', topic="subscription.updated"), BadDeliveryError),
        (delivery(b"[1, 2]"), BadDeliveryError),
        (delivery(b" " * (MAX_BODY_BYTES + 1)), PayloadTooLargeError),
        (Delivery(tenant_id=TENANT, store_id="s-unknown", headers={}, raw_body=b"{}"), UnknownStoreError),
    ],
    ids=["forged signature", "unsupported topic", "not an object", "too large", "unknown store"],
)
def test_a_refused_delivery_queues_nothing(request_: Delivery, error: type[Exception]) -> None:
    queue = RecordingQueue()
    with pytest.raises(error):
        receive_delivery(request_, webhook_secret=webhook_secret, ingest_queue=queue)
    assert queue.sent == []


def test_a_queue_that_cannot_be_reached_fails_the_delivery_instead_of_losing_it() -> None:
    # The error reaches the handler (a 5xx: WooCommerce logs a failed delivery), never a 200 for a lost one
    queue = RecordingQueue(refuse=ConnectionError("SQS unreachable"))
    with pytest.raises(ConnectionError):
        receive_delivery(delivery(b'{"id": 1}'), webhook_secret=webhook_secret, ingest_queue=queue)

"""The webhook receiver's domain: verify a WooCommerce delivery and hand it to the ingest queue.

Fast and nothing lost: WooCommerce never retries a failed delivery and disables a webhook after about seven
failures in a row, so the receiver does the minimum (size check, signature, topic, find the record id) and
enqueues the raw body. Validation against the payload models happens in the processor, which records
deliveries it cannot use as rejected events.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from luxebrain.adapters import KeyVault, MessageQueue
from luxebrain.errors import NotFoundError
from luxebrain.ingest.envelope import (
    SUPPORTED_EVENTS,
    SUPPORTED_RESOURCES,
    IngestEnvelope,
    body_hash,
    message_group_id,
    utc_now_iso,
)
from luxebrain.ingest.errors import BadDeliveryError, InvalidSignatureError, PayloadTooLargeError, UnknownStoreError
from luxebrain.storage.tenants import TenantRepository
from luxebrain.woocommerce.signature import SIGNATURE_HEADER, verify_signature

# SQS takes 256 KiB per message including our envelope; a WooCommerce order with hundreds of lines is
# well under this.
MAX_BODY_BYTES = 200 * 1024
PING_BODY = re.compile(rb"^webhook_id=\d{1,20}$")


@dataclass(frozen=True)
class Delivery:
    tenant_id: str
    store_id: str
    headers: Mapping[str, str]  # lower-cased names
    raw_body: bytes


@dataclass(frozen=True)
class ReceiveResult:
    outcome: Literal["queued", "ping"]
    topic: str | None = None
    message_id: str | None = None


SecretLookup = Callable[[str, str], str]  # (tenant_id, store_id) -> the store's webhook secret


def store_webhook_secret(tenant_id: str, store_id: str, *, vault: KeyVault, tenants: TenantRepository) -> str:
    """The store's webhook secret in ``tenants`` (decrypted by ``vault``, cached per container); bound to both,
    it is the receiver's SecretLookup."""
    try:
        return tenants.get_store_secrets(tenant_id, store_id, vault=vault).webhook_secret.get_secret_value()
    except NotFoundError:
        raise UnknownStoreError(f"no store {store_id} is registered here") from None


def receive_delivery(delivery: Delivery, *, webhook_secret: SecretLookup, ingest_queue: MessageQueue) -> ReceiveResult:
    """Verify and enqueue one delivery; raises an ingest error (with its HTTP status) otherwise. The handler
    passes :func:`store_webhook_secret` bound to the store secrets' vault, and the ingest queue's adapter."""
    if len(delivery.raw_body) > MAX_BODY_BYTES:
        raise PayloadTooLargeError(f"body of {len(delivery.raw_body)} bytes is over the {MAX_BODY_BYTES}-byte limit")
    headers = delivery.headers
    secret = webhook_secret(delivery.tenant_id, delivery.store_id)  # unknown store: 404 before anything else
    if _is_ping(delivery):
        # WooCommerce's ping on saving a webhook: unsigned form body; it must get exactly 200.
        return ReceiveResult(outcome="ping")
    if not verify_signature(delivery.raw_body, secret, headers.get(SIGNATURE_HEADER)):
        raise InvalidSignatureError("missing or invalid X-WC-Webhook-Signature")
    # Only now, with the signature verified, are the headers and the body trusted enough to read.
    resource, event, topic = _topic(headers)
    body_text = _utf8(delivery.raw_body)
    resource_id = _resource_id(body_text)
    received_at = utc_now_iso()
    envelope = IngestEnvelope(
        tenant_id=delivery.tenant_id,
        store_id=delivery.store_id,
        resource=resource,
        event=event,
        topic=topic,
        body=body_text,
        received_at=received_at,
        delivery_id=headers.get("x-wc-webhook-delivery-id"),
        webhook_id=headers.get("x-wc-webhook-id"),
    )
    group = message_group_id(delivery.tenant_id, delivery.store_id, resource, resource_id)
    message_id = ingest_queue.send(
        envelope.model_dump_json(),
        group_id=group,
        deduplication_id=deduplication_id(delivery.raw_body, event, received_at),
    )
    return ReceiveResult(outcome="queued", topic=topic, message_id=message_id)


def deduplication_id(raw_body: bytes, event: str, received_at: str) -> str:
    """The body's hash: the same content twice within SQS's 5-minute window is enqueued once.
    A delete's body is only ``{"id": N}``, the same for every delete of that record, so the receipt second
    is part of its id: delete, restore, delete again within five minutes must not lose the second delete."""
    if event == "deleted":
        return body_hash(raw_body + b"|" + received_at.encode())
    return body_hash(raw_body)


def _is_ping(delivery: Delivery) -> bool:
    return "x-wc-webhook-topic" not in delivery.headers and bool(PING_BODY.match(delivery.raw_body.strip()))


def _topic(headers: Mapping[str, str]) -> tuple[str, str, str]:
    topic = headers.get("x-wc-webhook-topic", "").strip().lower()
    resource, _, event = topic.partition(".")
    if resource not in SUPPORTED_RESOURCES or event not in SUPPORTED_EVENTS:
        raise BadDeliveryError(
            f"topic {topic or '(none)'!r} is not supported; subscribe to "
            + ", ".join(f"{r}.*" for r in SUPPORTED_RESOURCES)
            + " with events "
            + "/".join(SUPPORTED_EVENTS)
        )
    return resource, event, topic


def _utf8(raw_body: bytes) -> str:
    try:
        return raw_body.decode("utf-8")
    except UnicodeDecodeError:
        raise BadDeliveryError("body is not UTF-8 JSON") from None


def _resource_id(body_text: str) -> str:
    try:
        document: Any = json.loads(body_text)
    except ValueError:
        raise BadDeliveryError("body is not JSON") from None
    if not isinstance(document, dict):
        raise BadDeliveryError("body is not a JSON object")
    resource_id = document.get("id")
    # A body without a usable id still goes on: the processor records it as rejected, with the reason.
    return str(resource_id) if isinstance(resource_id, int) and not isinstance(resource_id, bool) else "no-id"

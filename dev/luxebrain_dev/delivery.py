"""Delivering a store's data as WooCommerce does: one signed webhook POST per event, over HTTP.

Used by the demo (the sample store through the local API gateway into the embedded AWS) and by the
end-to-end tests. The sender reproduces WooCommerce's delivery: ``wp_json_encode`` body (compact, ``\\/``
and ``\\uXXXX`` escapes), the X-WC-Webhook-* headers, the creation ping, and the disorder of real shops:
orders announced by ``order.created`` and brought up to date by ``order.updated``, some deliveries
duplicated, some versions arriving after newer ones.
"""

from __future__ import annotations

import copy
import http.client
import itertools
import json
import random
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from luxebrain.ingest.processor import IngestCounters, process_totals
from luxebrain.woocommerce.signature import compute_signature
from luxebrain_dev.sample_store import SampleStore

WOOCOMMERCE_USER_AGENT = "WooCommerce/9.4.2 Hookshot (WordPress/6.7.1)"


def wp_json_encode(payload: Any) -> bytes:
    """PHP's json_encode with WordPress's default flags: ASCII only and escaped slashes."""
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=True).replace("/", "\\/").encode("ascii")


@dataclass(frozen=True)
class Delivery:
    topic: str
    body: bytes

    @property
    def resource(self) -> str:
        return self.topic.split(".", 1)[0]


class WebhookSender:
    """Signs and POSTs deliveries to one store's webhook URL; one keep-alive connection per thread."""

    def __init__(self, webhook_url: str, webhook_secret: str, *, source_url: str = "https://maison.example/") -> None:
        split = urlsplit(webhook_url)
        self.host, self.port = split.hostname or "127.0.0.1", split.port or 80
        self.path = split.path
        self.secret = webhook_secret
        self.source_url = source_url
        self._local = threading.local()
        self._delivery_ids = itertools.count(1)
        self.webhook_ids = {"order": 1, "product": 2, "customer": 3, "coupon": 4}

    def _connection(self) -> http.client.HTTPConnection:
        connection = getattr(self._local, "connection", None)
        if connection is None:
            connection = http.client.HTTPConnection(self.host, self.port, timeout=30)
            self._local.connection = connection
        return connection

    def post(self, body: bytes, headers: dict[str, str]) -> int:
        for attempt in (1, 2):  # a kept-alive connection the server closed: reconnect once
            connection = self._connection()
            try:
                connection.request("POST", self.path, body=body, headers=headers)
                response = connection.getresponse()
                response.read()
                return response.status
            except (ConnectionError, http.client.HTTPException):
                connection.close()
                self._local.connection = None
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def deliver(self, delivery: Delivery) -> int:
        resource, _, event = delivery.topic.partition(".")
        headers = {
            "Content-Type": "application/json",
            "User-Agent": WOOCOMMERCE_USER_AGENT,
            "X-WC-Webhook-Source": self.source_url,
            "X-WC-Webhook-Topic": delivery.topic,
            "X-WC-Webhook-Resource": resource,
            "X-WC-Webhook-Event": event,
            "X-WC-Webhook-Signature": compute_signature(delivery.body, self.secret),
            "X-WC-Webhook-ID": str(self.webhook_ids.get(resource, 0)),
            "X-WC-Webhook-Delivery-ID": str(next(self._delivery_ids)),
        }
        return self.post(delivery.body, headers)

    def ping(self, resource: str) -> int:
        """What WooCommerce sends when a webhook is saved: unsigned, form-encoded, must get exactly 200."""
        body = f"webhook_id={self.webhook_ids[resource]}".encode()
        return self.post(
            body, {"Content-Type": "application/x-www-form-urlencoded", "User-Agent": WOOCOMMERCE_USER_AGENT}
        )


# ----------------------------------------------------------------------------- the sample store's deliveries
def earlier_version(order: dict[str, Any]) -> dict[str, Any] | None:
    """The order as ``order.created`` saw it (unpaid, modified at creation), or None if it never changed."""
    if order.get("date_modified_gmt") == order.get("date_created_gmt"):
        return None
    first = copy.deepcopy(order)
    first["status"] = "pending"
    first["date_modified_gmt"] = order["date_created_gmt"]
    first["date_paid_gmt"] = None
    first["date_completed_gmt"] = None
    return first


def plan_deliveries(
    store: SampleStore, *, duplicate_rate: float = 0.03, out_of_order_rate: float = 0.02, seed: int = 7
) -> list[list[Delivery]]:
    """Chains of deliveries; each chain is one record's deliveries in the order WooCommerce sends them (a
    chain is sent in sequence, chains concurrently, as a shop's action scheduler runs)."""
    rng = random.Random(seed)
    chains: list[list[Delivery]] = []
    for product in (*store.products, *store.variations):
        chains.append([Delivery("product.created", wp_json_encode(product))])
    for customer in store.customers:
        if customer.get("id"):  # guests have no customer record in WooCommerce; they arrive with orders
            chains.append([Delivery("customer.created", wp_json_encode(customer))])
    for order in store.orders:
        final = Delivery("order.updated", wp_json_encode(order))
        first_version = earlier_version(order)
        chain = [final] if first_version is None else [Delivery("order.created", wp_json_encode(first_version)), final]
        if first_version is not None and rng.random() < out_of_order_rate:
            chain.reverse()  # the older version arrives last: it must not overwrite the newer one
        if rng.random() < duplicate_rate:
            chain.append(final)  # WooCommerce fires order.updated several times per edit
        chains.append(chain)
    return chains


@dataclass
class IngestReport:
    deliveries: int = 0
    delivered: int = 0  # answered 2xx
    refused: dict[int, int] = field(default_factory=dict)  # status → count
    pings: int = 0
    processed: int = 0  # deliveries the processor handled (the queue drops exact duplicates within 5 minutes)
    stored: int = 0
    duplicates_ignored: int = 0
    rejected: int = 0
    tombstoned: int = 0
    writes: int = 0
    send_seconds: float = 0.0
    total_seconds: float = 0.0

    @property
    def queue_deduplicated(self) -> int:
        return max(0, self.delivered - self.processed)

    def as_dict(self) -> dict[str, Any]:
        return {
            "deliveries": self.deliveries,
            "delivered_2xx": self.delivered,
            "refused": dict(self.refused),
            "pings": self.pings,
            "deduplicated_by_queue": self.queue_deduplicated,
            "processed": self.processed,
            "stored": self.stored,
            "duplicates_or_stale_ignored": self.duplicates_ignored,
            "rejected": self.rejected,
            "tombstoned": self.tombstoned,
            "dynamodb_writes": self.writes,
            "deliveries_per_second": round(self.deliveries / self.send_seconds, 1) if self.send_seconds else None,
            "total_seconds": round(self.total_seconds, 1),
        }


def deliver_sample_store(
    store: SampleStore,
    tenant_id: str,
    store_id: str,
    webhook_secret: str,
    gateway_url: str,
    *,
    event_sources: Any = None,
    senders: int = 4,
    duplicate_rate: float = 0.03,
    out_of_order_rate: float = 0.02,
    drain_seconds: float = 600.0,
    window: int = 50,
    progress: Callable[[int, int], None] | None = None,
    seed: int = 7,
) -> IngestReport:
    """Send every product, variation, customer and order of ``store`` as signed webhooks to the local API
    gateway, let the processor drain the ingest queue, and count what happened.

    ``event_sources``: a :class:`luxebrain_dev.local.event_sources.SqsEventSources` consuming the IngestQueue;
    by default one is made for the IngestProcessorFunction from LUXEBRAIN_INGEST_QUEUE_URL. The queue is
    drained after every ``window`` records' deliveries.
    """
    from luxebrain.runtime import configured_settings
    from luxebrain_dev.local.event_sources import SqsEventSources

    if event_sources is None:
        event_sources = SqsEventSources(
            {"IngestQueue": configured_settings().require("ingest_queue_url")}, functions={"IngestProcessorFunction"}
        )
    sender = WebhookSender(f"{gateway_url.rstrip('/')}/webhooks/woocommerce/{tenant_id}/{store_id}", webhook_secret)
    chains = plan_deliveries(store, duplicate_rate=duplicate_rate, out_of_order_rate=out_of_order_rate, seed=seed)
    report = IngestReport(deliveries=sum(len(chain) for chain in chains))
    before = process_totals()
    started = time.perf_counter()
    for resource in ("product", "customer", "order", "coupon"):
        report.pings += int(sender.ping(resource) == 200)
    lock = threading.Lock()
    sent = 0

    def send_chain(chain: list[Delivery]) -> None:
        nonlocal sent
        for delivery in chain:
            status = sender.deliver(delivery)
            with lock:
                sent += 1
                if 200 <= status <= 302:  # what WooCommerce counts as delivered
                    report.delivered += 1
                else:
                    report.refused[status] = report.refused.get(status, 0) + 1
                if progress and sent % 500 == 0:
                    progress(sent, report.deliveries)

    # Deliveries go out in windows and the queue is drained after each: moto's FIFO queue costs O(queue
    # length) per call, so a short queue keeps the embedded AWS fast (in AWS the processor keeps up anyway).
    send_seconds = 0.0
    with ThreadPoolExecutor(max_workers=max(1, senders), thread_name_prefix="woocommerce") as pool:
        for start in range(0, len(chains), window):
            window_started = time.perf_counter()
            list(pool.map(send_chain, chains[start : start + window]))
            send_seconds += time.perf_counter() - window_started
            event_sources.drain(until_empty=True, max_seconds=drain_seconds)
    report.send_seconds = send_seconds
    if progress:
        progress(sent, report.deliveries)
    report.total_seconds = time.perf_counter() - started
    after = process_totals()
    _difference(report, before, after)
    return report


def _difference(report: IngestReport, before: IngestCounters, after: IngestCounters) -> None:
    report.stored = after.stored - before.stored
    report.duplicates_ignored = after.duplicate - before.duplicate
    report.rejected = after.rejected - before.rejected
    report.tombstoned = after.tombstoned - before.tombstoned
    report.writes = after.writes - before.writes
    report.processed = report.stored + report.duplicates_ignored + report.rejected + report.tombstoned


def verify_ingested(store: SampleStore, tenant_id: str) -> dict[str, Any]:
    """Compare what is stored with the store itself: each record once, each at its newest version.
    Returns counts expected / stored and the number of mismatches (0 means nothing lost, nothing doubled)."""
    from luxebrain.ingest.mapping import guest_customer_id
    from luxebrain.storage.catalogue import iter_products
    from luxebrain.storage.customers import iter_customers, order_versions

    # Each order's version only (status, modified date): reading back whole orders took longer than the check.
    stored_orders = {order_id: (status, modified) for order_id, status, modified in order_versions(tenant_id)}
    stale_or_missing = sum(
        1
        for order in store.orders
        if stored_orders.get(str(order["id"])) != (order["status"], order["date_modified_gmt"])
    )
    expected_customers = {str(c["id"]) for c in store.customers if c.get("id")} | {
        guest_customer_id(o["billing"].get("email")) for o in store.orders if not o.get("customer_id")
    }
    stored_customers = {customer.customer_id for customer in iter_customers(tenant_id)}
    expected_products = {str(p["id"]) for p in (*store.products, *store.variations)}
    stored_products = {product.product_id for product in iter_products(tenant_id)}
    return {
        "orders": {
            "expected": len(store.orders),
            "stored": len(stored_orders),
            "not_at_newest_version": stale_or_missing,
        },
        "customers": {"expected": len(expected_customers), "stored": len(stored_customers & expected_customers)},
        "products": {"expected": len(expected_products), "stored": len(stored_products & expected_products)},
        "ok": stale_or_missing == 0
        and len(stored_orders) == len(store.orders)
        and expected_customers <= stored_customers
        and expected_products <= stored_products,
    }


# ----------------------------------------------------------------------------- a live day, after the back-fill
UNREACHABLE_URL = "http://127.0.0.1:9/webhooks"  # the discard port: connection refused


@dataclass
class LiveDayReport:
    orders: int = 0
    deliveries: int = 0
    delivered: int = 0
    failed: int = 0
    duplicates_sent: int = 0
    stale_sent: int = 0
    refunds: int = 0
    disabled_after_failures: int = 0
    missed_while_disabled: int = 0
    re_enabled: list[str] = field(default_factory=list)
    missed_found_after_health_run: int = 0

    def summary(self) -> str:
        return (
            f"{self.orders} orders placed, {self.refunds} refunds, {self.deliveries} deliveries "
            f"({self.duplicates_sent} duplicates, {self.stale_sent} stale versions sent after newer ones): "
            f"{self.delivered} delivered, {self.failed} failed. The order.created webhook's endpoint was unreachable "
            f"for a while: WooCommerce disabled it after {self.disabled_after_failures} failures in a row and sent "
            f"nothing more ({self.missed_while_disabled} orders missed); the next health run re-enabled "
            f"{', '.join(self.re_enabled) or 'nothing'} and the incremental back-fill brought "
            f"{self.missed_found_after_health_run} of the missed orders."
        )


def live_day(
    fake: Any,
    orders: list[dict[str, Any]],
    tenant_id: str,
    store_id: str,
    backfill_sources: Any,
    *,
    duplicate_rate: float = 0.05,
    refund_rate: float = 0.08,
    stale_rate: float = 0.05,
    seed: int = 7,
) -> LiveDayReport:
    """A day of the store's life after the back-fill, delivered by the webhooks LuxeBrain registered: each new
    order's order.created (some twice), refunds as order.updated (some followed by the stale pre-refund
    version), and an outage of the order.created endpoint in the middle third of the day long enough for
    WooCommerce to disable the webhook. Then one webhook health run, as the hourly schedule would run it."""
    from luxebrain.adapters.aws import queue
    from luxebrain.ingest.backfill_queue import request_backfill
    from luxebrain.runtime import configured_settings
    from luxebrain_dev.local.event_sources import SqsEventSources

    processor = SqsEventSources(
        {"IngestQueue": configured_settings().require("ingest_queue_url")}, functions={"IngestProcessorFunction"}
    )
    rng = random.Random(seed)
    report = LiveDayReport()
    created_hook = next(hook for hook in fake.webhooks.values() if hook.topic == "order.created")
    ordered = sorted(orders, key=lambda order: order["date_created_gmt"])
    outage_starts = len(ordered) // 3
    missed: list[str] = []

    def send(topic: str, payload: dict[str, Any]) -> bool:
        results = fake.emit(topic, payload)
        report.deliveries += len(results)
        report.delivered += sum(1 for _, status in results if 200 <= status <= 302)
        report.failed += sum(1 for _, status in results if not 200 <= status <= 302)
        return bool(results) and all(200 <= status <= 302 for _, status in results)

    for index, order in enumerate(ordered):
        # The day is replayed now: the order is placed (and dated) as it is sent, as in a live store.
        now = datetime.now(UTC).replace(tzinfo=None).isoformat(timespec="seconds")
        for name in ("date_created", "date_modified", "date_paid", "date_completed"):
            if order.get(f"{name}_gmt"):
                order[f"{name}_gmt"] = order[name] = now
        fake.store.orders.append(order)
        report.orders += 1
        if index == outage_starts:
            delivery_url, created_hook.delivery_url = created_hook.delivery_url, UNREACHABLE_URL  # a bad proxy
        if not send("order.created", order):
            missed.append(str(order["id"]))
        if index >= outage_starts and created_hook.delivery_url == UNREACHABLE_URL:
            report.disabled_after_failures += 1
            if created_hook.status == "disabled":  # the proxy is fixed, but WooCommerce never retries
                created_hook.delivery_url = delivery_url
        if rng.random() < duplicate_rate:
            send("order.created", order)
            report.duplicates_sent += 1
        paid = order["status"] in ("processing", "completed") and order["line_items"]
        if paid and rng.random() < refund_rate:
            before = json.loads(json.dumps(order))
            line = order["line_items"][0]
            fake.refund(order["id"], line["id"], min(1, line["quantity"]), reason="Returned")
            report.refunds += 1
            send("order.updated", order)
            if rng.random() < stale_rate * 4:
                send("order.updated", before)  # built earlier, delivered later
                report.stale_sent += 1
        if index % 50 == 49:
            processor.drain(until_empty=True, max_seconds=600)
    processor.drain(until_empty=True, max_seconds=600)
    report.missed_while_disabled = len(missed)
    # The health run of the store's slot: re-enable, then back-fill the gap.
    request_backfill(queue("backfill_queue_url"), tenant_id, store_id, webhook_health=True)
    backfill_sources.drain(until_empty=True, max_seconds=600)
    report.re_enabled = ["order.created"] if created_hook.status == "active" else []
    report.missed_found_after_health_run = sum(1 for order_id in missed if _stored(tenant_id, order_id))
    return report


def _stored(tenant_id: str, order_id: str) -> bool:
    from luxebrain.errors import NotFoundError
    from luxebrain.storage.customers import get_order

    try:
        return not get_order(tenant_id, order_id).deleted
    except NotFoundError:
        return False

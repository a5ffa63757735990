"""End to end over HTTP: signed webhooks → local API gateway → receiver → SQS FIFO → processor → DynamoDB,
the dead-letter path and its redrive, and the REST back-fill against the fake WooCommerce."""

from __future__ import annotations

import json
import os
from typing import Any

import pytest

from luxebrain.adapters.aws import SqsQueue, models_bucket, secrets_vault
from luxebrain.billing.usage import plan_usage
from luxebrain.ingest import processor as ingest_processor
from luxebrain.ingest.backfill import BackfillReport, backfill_status, backfill_store
from luxebrain.ingest.envelope import IngestEnvelope, utc_now_iso
from luxebrain.runtime import aws_client
from luxebrain.storage import tenants as tenant_repo
from luxebrain.storage.catalogue import iter_products
from luxebrain.storage.customers import get_order, iter_customers, iter_orders
from luxebrain.storage.ingest import ingest_repository, list_rejected_events
from luxebrain.storage.storefront import storefront_repository
from luxebrain.storage.training import training_repository
from luxebrain.woocommerce.client import WooCommerceAuthError, WooCommerceClient, WooCommerceError
from luxebrain_dev.delivery import WebhookSender, deliver_sample_store, verify_ingested, wp_json_encode
from luxebrain_dev.local.embedded import LocalResources
from luxebrain_dev.local.event_sources import SqsEventSources
from luxebrain_dev.local.fake_woocommerce import FakeWooCommerce, Fault
from luxebrain_dev.local.functions import LocalLambdaContext, import_handler
from luxebrain_dev.local.gateway import LocalGateway
from luxebrain_dev.sample_store import SampleStore, generate_sample_store


@pytest.fixture(scope="module")
def sample() -> SampleStore:
    return generate_sample_store(products=10, customers=40, years=0.5, seed=11)


@pytest.fixture(scope="module")
def gateway(local_aws: LocalResources) -> Any:
    local_gateway = LocalGateway(resources=local_aws)
    local_gateway.start()
    try:
        yield local_gateway.url_of("IngestWebhookApi")  # the webhook API's own base URL
    finally:
        local_gateway.stop()


@pytest.fixture
def processor_source(local_aws: LocalResources) -> SqsEventSources:
    return SqsEventSources.from_resources(local_aws, functions={"IngestProcessorFunction"}, retry_after_seconds=0)


def expected_customers(store: SampleStore) -> int:
    guests = {o["billing"]["email"].lower() for o in store.orders if not o["customer_id"]}
    return len([c for c in store.customers if c["id"]]) + len(guests)


@pytest.mark.slow(reason="a whole sample store, duplicates and stale versions too, as signed webhooks over HTTP")
def test_sample_store_arrives_through_signed_webhooks_exactly_once(
    tenant_id: str, gateway: str, sample: SampleStore, processor_source: SqsEventSources
) -> None:
    # Given a registered store and its webhook secret
    store, secrets = tenant_repo.create_store(
        tenant_id, url="https://maison.example", consumer_key="ck", consumer_secret="cs", vault=secrets_vault()
    )
    # When every product, variation, customer and order is delivered as WooCommerce would (with
    # order.created + order.updated, duplicates and out-of-order versions), over HTTP
    report = deliver_sample_store(
        sample,
        tenant_id,
        store.store_id,
        secrets.webhook_secret.get_secret_value(),
        gateway,
        event_sources=processor_source,
        duplicate_rate=0.2,
        out_of_order_rate=0.2,
        senders=3,
    )
    # Then every delivery was accepted, and each record is stored once, at its newest version
    assert report.delivered == report.deliveries and report.refused == {} and report.pings == 4
    assert report.rejected == 0
    assert report.duplicates_ignored > 0  # stale versions arrived after newer ones and were ignored
    assert report.processed + report.queue_deduplicated == report.delivered
    orders = {order.order_id: order for order in iter_orders(tenant_id)}
    assert len(orders) == len(sample.orders)
    for order in sample.orders:
        assert (orders[str(order["id"])].status, orders[str(order["id"])].modified_gmt) == (
            order["status"],
            order["date_modified_gmt"],
        )
    assert len(list(iter_products(tenant_id))) == len(sample.products) + len(sample.variations)
    assert len(list(iter_customers(tenant_id))) == expected_customers(sample)
    assert report.writes <= 2 * report.processed
    assert verify_ingested(sample, tenant_id)["ok"]


def test_gateway_answers_unknown_routes_with_404_and_signed_ping_with_200(tenant_id: str, gateway: str) -> None:
    store, secrets = tenant_repo.create_store(
        tenant_id, url="https://maison.example", consumer_key="ck", consumer_secret="cs", vault=secrets_vault()
    )
    sender = WebhookSender(
        f"{gateway}/webhooks/woocommerce/{tenant_id}/{store.store_id}", secrets.webhook_secret.get_secret_value()
    )
    assert sender.ping("order") == 200
    assert WebhookSender(f"{gateway}/nowhere", "x").ping("order") == 404


def test_poison_message_is_dead_lettered_with_its_reason_and_can_be_redriven(
    tenant_id: str, local_aws: LocalResources, processor_source: SqsEventSources, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a delivery whose processing keeps failing (the table is "unavailable" for this order)
    body = wp_json_encode(
        {
            "id": 4242,
            "status": "completed",
            "currency": "EUR",
            "total": "10.00",
            "line_items": [],
            "date_created_gmt": "2026-01-01T00:00:00",
        }
    ).decode()
    envelope = IngestEnvelope(
        tenant_id=tenant_id,
        store_id="s-1",
        resource="order",
        event="created",
        topic="order.created",
        body=body,
        received_at=utc_now_iso(),
    )
    queue_url = os.environ["LUXEBRAIN_INGEST_QUEUE_URL"]
    dlq_url = local_aws.physical_id("IngestDeadLetterQueue")
    sqs = aws_client("sqs")
    sqs.send_message(
        QueueUrl=queue_url,
        MessageBody=envelope.model_dump_json(),
        MessageGroupId=f"{tenant_id}:poison",
        MessageDeduplicationId=f"{tenant_id}-poison",
    )
    real_apply = ingest_processor._apply

    def failing_apply(item: IngestEnvelope, *rest: Any) -> Any:
        if item.tenant_id == tenant_id:
            raise ConnectionError("DynamoDB unavailable")
        return real_apply(item, *rest)

    monkeypatch.setattr(ingest_processor, "_apply", failing_apply)
    # When the event source keeps retrying it
    stats = processor_source.drain(until_empty=True, max_seconds=60)
    # Then after maxReceiveCount tries it is on the dead-letter queue, and the reason is recorded
    assert stats.failed >= ingest_processor.MAX_RECEIVE_COUNT
    (rejected,) = list_rejected_events(tenant_id)
    assert "failed 5 times: ConnectionError" in rejected.reason
    # When the cause is fixed and the dead letters are re-driven
    monkeypatch.setattr(ingest_processor, "_apply", real_apply)
    assert ingest_processor.redrive_dead_letters(SqsQueue(sqs, dlq_url), SqsQueue(sqs, queue_url)) >= 1
    processor_source.drain(until_empty=True, max_seconds=60)
    # Then the order lands
    assert get_order(tenant_id, "4242").status == "completed"


# ----------------------------------------------------------------------------- back-fill
def client_factory(fake: FakeWooCommerce, **kwargs: Any) -> Any:
    return lambda tenant_id, store_id: WooCommerceClient(
        fake.url, fake.consumer_key, fake.consumer_secret, backoff_seconds=0.01, per_page=20, **kwargs
    )


def run_backfill(tenant_id: str, store_id: str, clients: Any, **options: Any) -> BackfillReport:
    """``backfill_store`` as the back-fill function runs it: the models bucket, the table and the plan's counters."""
    return backfill_store(
        tenant_id,
        store_id,
        clients,
        files=models_bucket(),
        records=ingest_repository(),
        usage=plan_usage(),
        training=training_repository(),
        storefront=storefront_repository(),
        **options,
    )


def test_backfill_stores_the_whole_store_through_a_500_and_a_slow_page(tenant_id: str, sample: SampleStore) -> None:
    faults = [Fault("orders", 2, status=500), Fault("customers", 1, delay_seconds=0.5)]
    with FakeWooCommerce(sample, faults=faults) as fake:
        pages: list[Any] = []
        report = run_backfill(tenant_id, "s-1", client_factory(fake), progress=pages.append)
    assert report.done and report.retries == 1
    assert report.counters.rejected == 0
    assert len(list(iter_orders(tenant_id))) == len(sample.orders)
    assert len(list(iter_products(tenant_id))) == len(sample.products) + len(sample.variations)
    assert len(list(iter_customers(tenant_id))) == expected_customers(sample)
    assert [p.resource for p in pages][-1] == "orders"
    order_requests = [r for r in fake.requests if r.path.endswith("/orders")]
    assert all(r.params["per_page"] == "20" and r.params["orderby"] == "modified" for r in order_requests)


def test_backfill_resumes_after_a_crash_at_the_last_finished_page(tenant_id: str, sample: SampleStore) -> None:
    # Given a store whose orders page 2 keeps failing (longer than the client retries)
    with FakeWooCommerce(sample, faults=[Fault("orders", 2, status=500, times=3)]) as fake:
        with pytest.raises(WooCommerceError):
            run_backfill(tenant_id, "s-1", client_factory(fake, max_attempts=2))
        # Then the checkpoint is at page 2, with page 1 stored
        assert backfill_status(tenant_id, "s-1", records=ingest_repository())["orders"]["next_page"] == 2
        stored_after_crash = len(list(iter_orders(tenant_id)))
        assert stored_after_crash == 20
        fake.requests.clear()
        # When it runs again, it resumes at page 2 (products and customers are not fetched again)
        report = run_backfill(tenant_id, "s-1", client_factory(fake, max_attempts=3))
    assert report.done
    assert {r.path.rsplit("/", 1)[-1] for r in fake.requests} == {"orders"}
    assert min(int(r.params["page"]) for r in fake.requests) == 2
    assert len(list(iter_orders(tenant_id))) == len(sample.orders)


def test_large_store_takes_several_invocations(tenant_id: str, sample: SampleStore) -> None:
    with FakeWooCommerce(sample) as fake:
        invocations = 0
        done = False
        while not done and invocations < 20:
            invocations += 1
            done = run_backfill(tenant_id, "s-1", client_factory(fake), should_stop=lambda: True).done
    assert done and invocations > 3  # one page per invocation here
    assert len(list(iter_orders(tenant_id))) == len(sample.orders)


def test_second_backfill_is_incremental_with_an_overlap(tenant_id: str, sample: SampleStore) -> None:
    with FakeWooCommerce(sample) as fake:
        assert run_backfill(tenant_id, "s-1", client_factory(fake)).done
        watermark = backfill_status(tenant_id, "s-1", records=ingest_repository())["orders"]["watermark_gmt"]
        newest = max(order["date_modified_gmt"] for order in sample.orders)
        assert watermark < newest  # an overlap window before the newest modification seen
        # Given one order changed in the store since
        changed = dict(
            sample.orders[0], status="refunded", date_modified_gmt=sample.as_of.strftime("%Y-%m-%dT%H:%M:%S")
        )
        fake.store.orders[0] = changed
        fake.requests.clear()
        report = run_backfill(tenant_id, "s-1", client_factory(fake))
    order_request = next(r for r in fake.requests if r.path.endswith("/orders"))
    assert order_request.params["modified_after"] == watermark and order_request.params["dates_are_gmt"] == "true"
    assert report.per_resource["orders"] < len(sample.orders)
    assert get_order(tenant_id, str(changed["id"])).status_class == "refund"


def test_a_second_backfill_stores_only_the_customers_changed_since_the_first(
    tenant_id: str, sample: SampleStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    from luxebrain.ingest import backfill
    from luxebrain.storage.customers import get_customer

    ingested: list[tuple[str, Any]] = []
    store_record = backfill._ingest_record

    def spy(tenant: str, store: str, resource: str, record: Any, sizes: Any = None, *, writer: Any) -> Any:
        ingested.append((resource, record.get("id")))
        return store_record(tenant, store, resource, record, sizes, writer=writer)

    monkeypatch.setattr(backfill, "_ingest_record", spy)
    with FakeWooCommerce(sample) as fake:
        run_backfill(tenant_id, "s-1", client_factory(fake))
        watermark = backfill_status(tenant_id, "s-1", records=ingest_repository())["customers"]["watermark_gmt"]
        registered = [customer for customer in fake.store.customers if customer.get("id")]
        assert watermark < max(customer["date_modified_gmt"] for customer in registered)  # an overlap window
        # Given one customer renamed in the store since (the customers endpoint has no modified filter)
        renamed = dict(
            registered[0], first_name="Renamed", date_modified_gmt=sample.as_of.strftime("%Y-%m-%dT%H:%M:%S")
        )
        fake.store.customers[fake.store.customers.index(registered[0])] = renamed
        ingested.clear()
        second = run_backfill(tenant_id, "s-1", client_factory(fake))
    # Then every customer was paged again, and only the renamed one and those within the overlap were stored
    assert second.per_resource["customers"] == len(registered)
    recent = {customer["id"] for customer in registered if customer["date_modified_gmt"] >= watermark}
    assert {record_id for resource, record_id in ingested if resource == "customer"} == recent | {renamed["id"]}
    assert len(recent) < len(registered) - 1
    assert get_customer(tenant_id, str(renamed["id"])).first_name == "Renamed"


def test_backfill_with_rejected_credentials_stores_nothing(tenant_id: str, sample: SampleStore) -> None:
    with FakeWooCommerce(sample) as fake:
        factory = lambda t, s: WooCommerceClient(fake.url, fake.consumer_key, "cs_wrong")  # noqa: E731
        with pytest.raises(WooCommerceAuthError):
            run_backfill(tenant_id, "s-1", factory)
    assert list(iter_products(tenant_id)) == []


def test_backfill_function_runs_a_slice_from_its_queue_with_the_stores_own_credentials(
    tenant_id: str, sample: SampleStore
) -> None:
    handler = import_handler("../functions/ingest/", "backfill.handler", "IngestBackfillFunction")
    with FakeWooCommerce(sample, consumer_key="ck_real", consumer_secret="cs_real") as fake:
        store, _ = tenant_repo.create_store(
            tenant_id, url=fake.url, consumer_key="ck_real", consumer_secret="cs_real", vault=secrets_vault()
        )
        event = {
            "Records": [{"messageId": "1", "body": json.dumps({"tenant_id": tenant_id, "store_id": store.store_id})}]
        }
        summary = handler(event, LocalLambdaContext("IngestBackfillFunction", 900, 512))
    assert summary["done"] is True
    assert summary["per_resource"]["orders"] == len(sample.orders)


@pytest.mark.slow(reason="reconciles every store in this worker's embedded AWS, earlier tests' stores too")
def test_daily_reconciliation_queues_an_incremental_backfill_for_each_store(tenant_id: str) -> None:
    # Given a tenant with a store
    store, _ = tenant_repo.create_store(
        tenant_id, url="https://maison.example", consumer_key="ck", consumer_secret="cs", vault=secrets_vault()
    )
    handler = import_handler("../functions/ingest/", "backfill.handler", "IngestBackfillFunction")
    # When the daily schedule fires
    result = handler({"reconcile": "all_stores"}, LocalLambdaContext("IngestBackfillFunction", 900, 512))
    # Then a back-fill slice of that store is on the back-fill queue
    assert result["queued"] >= 1
    sqs = aws_client("sqs")
    queue_url = os.environ["LUXEBRAIN_BACKFILL_QUEUE_URL"]
    bodies = []
    for _ in range(100):
        messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", [])
        if not messages:
            break
        for message in messages:
            bodies.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
    assert {"tenant_id": tenant_id, "store_id": store.store_id, "continuation": 0} in bodies


def test_backfill_command_pulls_a_registered_store_with_its_own_credentials(
    tenant_id: str, sample: SampleStore, capsys: pytest.CaptureFixture[str]
) -> None:
    from luxebrain_dev.cli import main

    with FakeWooCommerce(sample) as fake:
        store, _ = tenant_repo.create_store(
            tenant_id,
            url=fake.url,
            consumer_key=fake.consumer_key,
            consumer_secret=fake.consumer_secret,
            vault=secrets_vault(),
        )
        assert main(["backfill", "--tenant", tenant_id, "--store", store.store_id]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["done"] is True
    assert summary["per_resource"]["orders"] == len(sample.orders)
    assert get_order(tenant_id, str(sample.orders[0]["id"])).order_id == str(sample.orders[0]["id"])


def test_backfill_command_with_an_unknown_store_is_a_one_line_error(
    tenant_id: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from luxebrain_dev.cli import main

    assert main(["backfill", "--tenant", tenant_id, "--store", "s-nope"]) == 2
    assert capsys.readouterr().err.startswith("luxebrain: error: store s-nope not found")

"""Plans are enforced: every metered action of every plan is decided before it happens and counted
atomically when it does (a failed send is not billed), including concurrent requests racing the last unit;
storefront traffic has its own allowance and never blocks the merchant's own API."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from api_testkit import Merchant, add_tenant_user, api_app_module, new_merchant
from campaign_support import add_customer
from fakes import no_refund_lookups
from fastapi.testclient import TestClient

from luxebrain.adapters.aws import secrets_vault
from luxebrain.billing.plans import PLANS, PlanLimitExceededError, change_plan
from luxebrain.billing.usage import api_call_meter, plan_usage
from luxebrain.campaigns.channels import ProviderError
from luxebrain.campaigns.consent import record_consent
from luxebrain.campaigns.sending import SenderContext, SendRequest, deliver
from luxebrain.campaigns.sources import campaign_sources
from luxebrain.ingest.envelope import IngestEnvelope, utc_now_iso
from luxebrain.ingest.processor import ProcessResult, process_envelope
from luxebrain.storage.campaigns import campaign_repository
from luxebrain.storage.ingest import ingest_repository
from luxebrain.storage.storefront import storefront_repository
from luxebrain.storage.tenants import create_tenant, tenant_repository
from luxebrain.storage.training import training_repository
from luxebrain.tenancy import new_tenant_id
from luxebrain_dev.delivery import wp_json_encode
from luxebrain_dev.local.embedded import LocalResources

NOON = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
WOO_FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "woocommerce"
PLAN_NAMES = sorted(PLANS)


@pytest.fixture(scope="module")
def client(local_aws: LocalResources) -> Iterator[TestClient]:
    with TestClient(api_app_module().app) as test_client:
        yield test_client


def _merchant_on(plan: str) -> Merchant:
    merchant = new_merchant()
    change_plan(merchant.tenant_id, plan, tenants=tenant_repository())
    return merchant


def _tenant_on(plan: str) -> str:
    return create_tenant("Maison", plan=plan, tenant_id=new_tenant_id()).tenant_id


def _fill(tenant_id: str, metric: str, leave: int) -> int:
    """Use the metric up to ``leave`` units short of the plan's allowance; returns the allowance."""
    allowed, period = PLANS[_plan(tenant_id)].allowance(metric)
    already = _used(tenant_id, metric if period == "held" else f"{metric}_per_{period}")
    if allowed - leave - already > 0:
        plan_usage().consume(tenant_id, metric, allowed - leave - already)
    return allowed


def _plan(tenant_id: str) -> str:
    from luxebrain.billing.plans import plan_of

    return plan_of(tenant_id, tenants=tenant_repository()).name


def _used(tenant_id: str, limit: str) -> int:
    return {line.limit: line.used for line in plan_usage().usage_report(tenant_id)}[limit]


# ----------------------------------------------------------------------------- messages by channel
class RecordingChannel:
    def __init__(self, fail: bool = False) -> None:
        self.sent: list[Any] = []
        self.fail = fail

    def send(self, message: Any) -> str:
        if self.fail:
            raise ProviderError("rejected by the provider", retryable=False, code="MessageRejected")
        self.sent.append(message)
        return f"m-{len(self.sent)}"


def _consented_customer(tenant_id: str, channel: str) -> str:
    customer_id = "c" + uuid.uuid4().hex[:8]
    add_customer(tenant_id, customer_id, email=f"{customer_id}@example.com", phone="+447700900123")
    record_consent(tenant_id, customer_id, channel, granted=True, source="checkout", campaigns=campaign_repository())
    return customer_id


def _send(tenant_id: str, channel: str, provider: RecordingChannel) -> Any:
    request = SendRequest(
        tenant_id=tenant_id,
        flow="campaign-metering",
        customer_id=_consented_customer(tenant_id, channel),
        trigger="t1",
        channel=channel,
        assigned_at=NOON,
    )
    return deliver(
        request,
        SenderContext(
            channel_factory=lambda *_: provider,
            keys=secrets_vault(),
            clock=lambda: NOON,
            sources=campaign_sources(),
            usage=plan_usage(),
        ),
    )


@pytest.mark.parametrize("plan", PLAN_NAMES)
@pytest.mark.parametrize("channel", ["email", "sms", "whatsapp"])
def test_messages_are_decided_by_the_plan_per_channel_and_counted_when_sent(
    local_aws: LocalResources, plan: str, channel: str
) -> None:
    tenant_id = _tenant_on(plan)
    provider = RecordingChannel()
    if channel not in PLANS[plan].campaign_channels:
        # A channel the plan lacks sends nothing (before: free tenants' SMS went out through SNS)
        outcome = _send(tenant_id, channel, provider)
        assert outcome.status == "skipped" and "not part of the" in (outcome.reason or "")
        assert provider.sent == []
        return
    allowed = _fill(tenant_id, f"{channel}_messages", leave=1)
    # The last unit sends; the next is refused before the provider is called, with the reason
    assert _send(tenant_id, channel, provider).status == "sent"
    refused = _send(tenant_id, channel, provider)
    assert refused.status == "skipped" and f"{channel}_messages_per_month" in (refused.reason or "").replace(" ", "_")
    assert len(provider.sent) == 1
    assert _used(tenant_id, f"{channel}_messages_per_month") == allowed


def test_a_send_the_provider_refuses_is_not_billed(local_aws: LocalResources) -> None:
    tenant_id = _tenant_on("free")
    outcome = _send(tenant_id, "email", RecordingChannel(fail=True))
    assert outcome.status == "failed"
    assert _used(tenant_id, "email_messages_per_month") == 0
    assert _send(tenant_id, "email", RecordingChannel()).status == "sent"
    assert _used(tenant_id, "email_messages_per_month") == 1


def test_concurrent_sends_racing_the_last_message_send_exactly_one(local_aws: LocalResources) -> None:
    tenant_id = _tenant_on("growth")
    _fill(tenant_id, "sms_messages", leave=1)
    provider = RecordingChannel()
    requests = [
        SendRequest(
            tenant_id=tenant_id,
            flow="campaign-race",
            customer_id=_consented_customer(tenant_id, "sms"),
            trigger="t1",
            channel="sms",
            assigned_at=NOON,
        )
        for _ in range(6)
    ]
    barrier = threading.Barrier(len(requests))
    outcomes: list[str] = []

    def send(request: SendRequest) -> None:
        barrier.wait()
        context = SenderContext(
            channel_factory=lambda *_: provider,
            keys=secrets_vault(),
            clock=lambda: NOON,
            sources=campaign_sources(),
            usage=plan_usage(),
        )
        outcomes.append(deliver(request, context).status)

    threads = [threading.Thread(target=send, args=(request,)) for request in requests]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["sent"] + ["skipped"] * 5
    assert len(provider.sent) == 1


@pytest.mark.parametrize("plan", PLAN_NAMES)
def test_campaigns_on_a_channel_the_plan_lacks_are_refused_when_set_up(
    client: TestClient, local_aws: LocalResources, plan: str
) -> None:
    merchant = _merchant_on(plan)
    for channel in ("email", "sms", "whatsapp"):
        body = {
            "name": "Soldes",
            "segment": "all_customers",
            "channel": channel,
            "scheduled_at": (datetime.now(UTC) + timedelta(days=1)).isoformat(),
        }
        created = client.post("/campaigns", headers=merchant.headers, json=body)
        flows = client.put(
            "/campaigns/settings", headers=merchant.headers, json={"flows": {"abandoned_cart": {"channel": channel}}}
        )
        expected = 201 if channel in PLANS[plan].campaign_channels else 403
        assert created.status_code == expected, (channel, created.text)
        assert flows.status_code == (200 if expected == 201 else 403), (channel, flows.text)


# ----------------------------------------------------------------------------- training runs
@pytest.mark.parametrize("plan", PLAN_NAMES)
def test_on_demand_training_beyond_the_plans_daily_runs_is_402(
    client: TestClient, local_aws: LocalResources, plan: str
) -> None:
    merchant = _merchant_on(plan)
    allowed = _fill(merchant.tenant_id, "training_runs", leave=0)
    refused = client.post("/training/runs", headers=merchant.headers)
    assert refused.status_code == 402, refused.text
    assert refused.json()["limit"] == "training_runs_per_day"
    assert _used(merchant.tenant_id, "training_runs_per_day") == allowed


def test_on_demand_training_counts_the_run(client: TestClient, local_aws: LocalResources) -> None:
    merchant = _merchant_on("free")
    assert client.post("/training/runs", headers=merchant.headers).status_code == 202
    assert _used(merchant.tenant_id, "training_runs_per_day") == 1


def test_scheduled_training_skips_a_tenant_whose_runs_are_used(local_aws: LocalResources) -> None:
    from luxebrain.adapters.aws import queue
    from luxebrain.storage.training import training_repository
    from luxebrain.training.dispatch import dispatch_due_tenants

    spent, fresh = _tenant_on("free"), _tenant_on("free")
    _fill(spent, "training_runs", leave=0)
    result = dispatch_due_tenants(
        queue("train_queue_url"), tenants=tenant_repository(), training=training_repository(), usage=plan_usage()
    )
    assert spent not in result.due and "training runs" in result.skipped[spent]
    assert fresh in result.due
    assert _used(fresh, "training_runs_per_day") == 1


# ----------------------------------------------------------------------------- storefront requests
def _storefront_key(client: TestClient, merchant: Merchant) -> str:
    return client.post("/tenant/storefront-key", headers=merchant.headers).json()["key"]


@pytest.mark.parametrize("plan", PLAN_NAMES)
def test_a_spent_storefront_allowance_degrades_only_the_storefront(
    client: TestClient, local_aws: LocalResources, plan: str
) -> None:
    # Given a tenant whose merchant API quota is nearly used too (before: storefront calls counted there)
    merchant = _merchant_on(plan)
    key = _storefront_key(client, merchant)
    _fill(merchant.tenant_id, "storefront_requests", leave=1)
    # When anonymous shoppers take the last storefront unit and keep calling
    last = client.get("/recommendations/popular", headers={"X-Storefront-Key": key})
    spent = client.get("/recommendations/popular", headers={"X-Storefront-Key": key})
    # Then the storefront is answered 429 with Retry-After, and the merchant's own API is untouched
    assert last.status_code != 429, last.text
    assert spent.status_code == 429 and int(spent.headers["retry-after"]) >= 1
    assert spent.json()["limit"] == "storefront_requests_per_month"
    assert client.get("/me", headers=merchant.headers).status_code == 200
    assert client.get("/recommendations/popular", headers=merchant.headers).status_code != 429


def test_storefront_calls_do_not_count_as_the_merchants_api_calls(
    client: TestClient, local_aws: LocalResources
) -> None:
    merchant = _merchant_on("free")
    key = _storefront_key(client, merchant)
    api_call_meter().flush(merchant.tenant_id)
    before = _used(merchant.tenant_id, "api_calls_per_month")
    for _ in range(5):
        client.get("/recommendations/popular", headers={"X-Storefront-Key": key})
    api_call_meter().flush(merchant.tenant_id)
    assert _used(merchant.tenant_id, "api_calls_per_month") == before
    assert _used(merchant.tenant_id, "storefront_requests_per_month") == 5


def test_concurrent_storefront_requests_racing_the_last_unit_admit_one(
    client: TestClient, local_aws: LocalResources
) -> None:
    merchant = _merchant_on("pro")
    key = _storefront_key(client, merchant)
    _fill(merchant.tenant_id, "storefront_requests", leave=1)
    barrier = threading.Barrier(6)
    statuses: list[int] = []

    def call() -> None:
        barrier.wait()
        statuses.append(client.get("/recommendations/popular", headers={"X-Storefront-Key": key}).status_code)

    threads = [threading.Thread(target=call) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(status == 429 for status in statuses) == [False] + [True] * 5


def test_api_calls_near_the_quota_are_counted_up_to_it_and_no_further(
    local_aws: LocalResources, monkeypatch: pytest.MonkeyPatch
) -> None:
    import time
    from types import SimpleNamespace

    from luxebrain.billing import usage as billing_usage

    # Given a tenant 50 calls short of its monthly quota, in a container whose clock stands still (no flush
    # by age, and a refused tenant stays refused)
    merchant = _merchant_on("free")
    allowed = _fill(merchant.tenant_id, "api_calls", leave=50)
    monkeypatch.setattr(billing_usage, "time", SimpleNamespace(monotonic=lambda: 1000.0, time=time.time))
    # When it makes 300 calls
    passed = 0
    for _ in range(300):
        try:
            api_call_meter().count(merchant.tenant_id)
            passed += 1
        except PlanLimitExceededError:
            pass
    # Then exactly the 50 left pass and the counter stands at the quota (before: 99 passed uncounted, and
    # the counter stayed 50 short, so every minute 99 more went through)
    assert passed == 50
    api_call_meter().flush(merchant.tenant_id)
    assert _used(merchant.tenant_id, "api_calls_per_month") == allowed


# ----------------------------------------------------------------------------- events and catalogue size
def _product_envelope(
    tenant_id: str, product_id: int, topic: str = "product.created", modified: str | None = None
) -> IngestEnvelope:
    import json

    payload = json.loads((WOO_FIXTURES / "product.json").read_text())
    payload["id"] = product_id
    if modified:
        payload["date_modified_gmt"] = modified
    resource, _, event = topic.partition(".")
    return IngestEnvelope(
        tenant_id=tenant_id,
        store_id="s-1",
        resource=resource,
        event=event,
        topic=topic,
        body=wp_json_encode(payload).decode(),
        received_at=utc_now_iso(),
    )


def _deliver(envelope: IngestEnvelope, event_id: str) -> ProcessResult:
    """A webhook delivery through the processor, on the table and the plan's counters as the function runs it."""
    return process_envelope(
        envelope,
        event_id=event_id,
        refunds=no_refund_lookups,
        records=ingest_repository(),
        usage=plan_usage(),
        storefront=storefront_repository(),
    )


@pytest.mark.parametrize("plan", PLAN_NAMES)
def test_webhook_events_beyond_the_plan_are_rejected_with_the_reason(local_aws: LocalResources, plan: str) -> None:
    tenant_id = _tenant_on(plan)
    allowed = _fill(tenant_id, "events", leave=1)
    assert _deliver(_product_envelope(tenant_id, 1), "e1").outcome == "stored"
    refused = _deliver(_product_envelope(tenant_id, 2), "e2")
    assert refused.outcome == "rejected" and "events" in (refused.reason or "")
    assert _used(tenant_id, "events_per_month") == allowed


def test_a_duplicate_delivery_is_not_counted_as_an_event(local_aws: LocalResources) -> None:
    tenant_id = _tenant_on("free")
    envelope = _product_envelope(tenant_id, 1)
    assert _deliver(envelope, "e1").outcome == "stored"
    assert _deliver(envelope, "e1").outcome == "duplicate"
    assert _used(tenant_id, "events_per_month") == 1


@pytest.mark.parametrize("plan", PLAN_NAMES)
def test_the_catalogue_cannot_grow_past_the_plans_products(local_aws: LocalResources, plan: str) -> None:
    tenant_id = _tenant_on(plan)
    assert _deliver(_product_envelope(tenant_id, 1), "e1").outcome == "stored"
    allowed = _fill(tenant_id, "products", leave=0)
    refused = _deliver(_product_envelope(tenant_id, 2), "e2")
    assert refused.outcome == "rejected" and "products" in (refused.reason or "")
    # An update of a product already held is not a new one
    updated = _product_envelope(tenant_id, 1, "product.updated", modified="2030-01-01T00:00:00")
    assert _deliver(updated, "e3").outcome == "stored"
    assert _used(tenant_id, "products") == allowed


def test_a_back_fill_page_counts_what_it_adds_once_and_near_the_limit_record_by_record(
    local_aws: LocalResources,
) -> None:
    import json

    from luxebrain.ingest.backfill import BackfillReport, _ingest_page, _PageWriter

    tenant_id = _tenant_on("free")
    payload = json.loads((WOO_FIXTURES / "product.json").read_text())
    assert _deliver(_product_envelope(tenant_id, 1), "e1").outcome == "stored"
    writer = _PageWriter(
        no_refund_lookups, ingest_repository(), plan_usage(), training_repository(), storefront_repository()
    )
    # A page with a product already held (the same version) and two new ones counts the two new ones
    page = [("product", payload | {"id": product_id}) for product_id in (1, 2, 3)]
    outcomes = [result.outcome for result in _ingest_page(tenant_id, "s-1", page, BackfillReport("r"), writer)]
    assert outcomes == ["duplicate", "stored", "stored"]
    assert _used(tenant_id, "products") == 3
    # A page that would cross the plan's limit is counted record by record: one fits, the next is refused
    allowed = _fill(tenant_id, "products", leave=1)
    page = [("product", payload | {"id": product_id}) for product_id in (4, 5)]
    results = _ingest_page(tenant_id, "s-1", page, BackfillReport("r"), writer)
    assert sorted(result.outcome for result in results) == ["rejected", "stored"]
    assert "products" in next(result.reason or "" for result in results if result.outcome == "rejected")
    assert _used(tenant_id, "products") == allowed


# ----------------------------------------------------------------------------- stores and members
STORE = {
    "url": "https://shop.example",
    "consumer_key": "ck_0123456789abcdef0123456789abcdef01234567",
    "consumer_secret": "cs_0123456789abcdef0123456789abcdef01234567",
}


@pytest.mark.parametrize("plan", PLAN_NAMES)
def test_stores_per_tenant_are_capped_by_the_plan(client: TestClient, local_aws: LocalResources, plan: str) -> None:
    merchant = _merchant_on(plan)
    allowed = _fill(merchant.tenant_id, "stores", leave=1)
    assert client.post("/stores", headers=merchant.headers, json=STORE).status_code == 201
    refused = client.post("/stores", headers=merchant.headers, json=STORE)
    assert refused.status_code == 402, refused.text
    assert refused.json()["limit"] == "stores"
    assert _used(merchant.tenant_id, "stores") == allowed


@pytest.mark.parametrize("plan", PLAN_NAMES)
def test_members_per_tenant_are_capped_by_the_plan(local_aws: LocalResources, plan: str) -> None:
    merchant = _merchant_on(plan)  # the owner is the first member
    assert _used(merchant.tenant_id, "members") == 1
    allowed = _fill(merchant.tenant_id, "members", leave=1)
    add_tenant_user(merchant.tenant_id, "staff")
    with pytest.raises(PlanLimitExceededError) as refused:
        add_tenant_user(merchant.tenant_id, "read-only")
    assert refused.value.limit == "members"
    assert _used(merchant.tenant_id, "members") == allowed


# ----------------------------------------------------------------------------- the plan page
def test_plan_page_shows_every_metered_line_of_the_period(client: TestClient, local_aws: LocalResources) -> None:
    merchant = _merchant_on("growth")
    body = client.get("/tenant/plan", headers=merchant.headers).json()
    limits = {line["limit"]: line for line in body["usage"]}
    assert set(limits) >= {
        "email_messages_per_month",
        "sms_messages_per_month",
        "training_runs_per_day",
        "storefront_requests_per_month",
        "events_per_month",
        "api_calls_per_month",
        "products",
        "orders",
        "stores",
        "members",
    }
    assert "whatsapp_messages_per_month" not in limits  # not part of growth
    assert limits["members"]["used"] == 1 and limits["members"]["allowed"] == PLANS["growth"].max_members
    assert limits["events_per_month"]["period"] == datetime.now(UTC).strftime("%Y-%m")

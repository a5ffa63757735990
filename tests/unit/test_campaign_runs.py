"""Whole campaign runs over the in-memory sources: a flow run from the tenant's carts to the e-mails handed to
the mail service, one-message deliveries with their plan metering, the flows and segments that read the
customer model, and the sender function handling a batch. The models are the in-memory ``ServingModels``: a
recommender that answers with fixed products (within the rules it is given) and customer scores with fixed
at-risk customers and segments."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fakes import (
    InMemoryCampaignRepository,
    InMemoryCatalogueRepository,
    InMemoryCustomerRepository,
    InMemoryKeyVault,
    InMemoryServingModels,
    InMemoryTenantRepository,
    InMemoryUsageCounter,
    RecordingMailService,
    RecordingQueue,
    RecordingSmsService,
    RecordingWhatsApp,
)

from luxebrain.adapters import ProviderError
from luxebrain.billing.plans import get_plan
from luxebrain.campaigns.abtest import HOLDOUT, Arm, assign
from luxebrain.campaigns.config import CampaignSettings, FlowSettings, save_campaign_settings
from luxebrain.campaigns.consent import record_consent
from luxebrain.campaigns.flows import run_flow
from luxebrain.campaigns.oneoff import CampaignSpec, campaign_flow, create_campaign
from luxebrain.campaigns.schedule import run_scheduled_flows
from luxebrain.campaigns.sending import DirectDispatcher, MessageServices, SenderContext, SendRequest, deliver
from luxebrain.campaigns.sources import CampaignSources
from luxebrain.ml.recommend.rules import NO_RULES, RecommendationRules, Recommendations, RecommendedProduct
from luxebrain.storage.catalogue import Product
from luxebrain.storage.customers import Customer, Order, OrderLine

TENANT = "t-unit-campaign-runs"
NOON = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)  # outside quiet hours in London
NAMES = {"P1": "Riviera Tote", "P2": "Silk Scarf", "P3": "Leather Gloves", "P4": "Cashmere Wrap"}


@pytest.fixture(autouse=True)
def settings(local_settings: Callable[..., None]) -> None:
    # The stack's sender address; the runtime reset also empties the catalogue and no-model caches.
    local_settings(LUXEBRAIN_SENDER_EMAIL="shop@luxebrain.example")


class FixedRecommender:
    """A recommendation model that recommends ``product_ids`` in order, as far as the rules allow (in stock,
    not excluded), and remembers what it was asked."""

    def __init__(self, product_ids: list[str]) -> None:
        self.product_ids = product_ids
        self.asked: list[tuple[str, Any]] = []

    def _pick(self, k: int, rules: RecommendationRules) -> Recommendations:
        allowed = [
            pid
            for pid in self.product_ids
            if (rules.in_stock is None or pid in rules.in_stock) and pid not in rules.exclude
        ]
        return Recommendations("item_knn", "fixed", [RecommendedProduct(pid, 1.0) for pid in allowed[:k]])

    def for_customer(self, customer_id: str, k: int = 10, rules: RecommendationRules = NO_RULES) -> Recommendations:
        self.asked.append(("for_customer", customer_id))
        return self._pick(k, rules)

    def similar(self, product_ids: list[str], k: int = 10, rules: RecommendationRules = NO_RULES) -> Recommendations:
        self.asked.append(("similar", tuple(product_ids)))
        return self._pick(k, rules)


class FixedScores:
    """Customer scores with fixed at-risk customers and segment members (pages of two)."""

    def __init__(self, at_risk: list[str], segments: dict[str, list[str]]) -> None:
        self._at_risk = at_risk
        self._segments = segments

    def at_risk(self, limit: int = 20) -> list[dict[str, Any]]:
        return [{"customer_id": customer_id} for customer_id in self._at_risk[:limit]]

    def customers_in_segment(self, segment: str, limit: int = 50, cursor: str | None = None) -> dict[str, Any]:
        members = self._segments.get(segment, [])
        start = int(cursor or 0)
        end = start + min(limit, 2)
        return {
            "customers": [{"customer_id": c} for c in members[start:end]],
            "next_cursor": str(end) if end < len(members) else None,
        }


class Shop:
    """One tenant's in-memory sources and the sender over them."""

    def __init__(self) -> None:
        self.tenants = InMemoryTenantRepository()
        self.tenants.create_tenant("Maison", plan="pro", tenant_id=TENANT)
        self.tenants.create_store(
            TENANT, vault=InMemoryKeyVault(), url="https://shop.example", consumer_key="ck", consumer_secret="cs"
        )
        self.catalogue = InMemoryCatalogueRepository(
            [
                Product(
                    TENANT, pid, name=name, price=100.0 + index, stock_status="outofstock" if pid == "P4" else "instock"
                )
                for index, (pid, name) in enumerate(NAMES.items())
            ]
        )
        self.customers = InMemoryCustomerRepository()
        self.campaigns = InMemoryCampaignRepository()
        self.models = InMemoryServingModels()
        self.recommender = FixedRecommender(["P4", "P1", "P2", "P3"])
        self.models.put(TENANT, "recommend", self.recommender)
        self.sources = CampaignSources(
            campaigns=self.campaigns,
            tenants=self.tenants,
            customers=self.customers,
            catalogue=self.catalogue,
            models=self.models,
        )
        self.mail = RecordingMailService()
        self.usage = InMemoryUsageCounter(plan="pro")
        services = MessageServices(mail=self.mail, sms=RecordingSmsService(), whatsapp=RecordingWhatsApp())
        self.sender = SenderContext(
            channel_factory=services.channel,
            keys=InMemoryKeyVault(),
            sources=self.sources,
            usage=self.usage,
            clock=lambda: NOON,
        )

    def customer(self, customer_id: str, *, consent: bool | None = True) -> str:
        address = f"{customer_id}@example.com"
        self.customers.customers[TENANT, customer_id] = Customer(
            TENANT, customer_id, email=address, first_name="Camille", country="GB", created_gmt="2026-01-01T00:00:00"
        )
        if consent is not None:
            record_consent(TENANT, customer_id, "email", granted=consent, source="checkout", campaigns=self.campaigns)
        return address

    def cart(self, order_id: str, customer_id: str, product_id: str = "P1", *, hours_ago: float = 2) -> None:
        created = (NOON - timedelta(hours=hours_ago)).replace(tzinfo=None).isoformat(timespec="seconds")
        line = OrderLine(f"{order_id}-1", product_id, None, NAMES[product_id], None, 1, 100.0, 100.0, 100.0)
        self.customers.orders[TENANT, order_id] = Order(
            TENANT, order_id, "checkout-draft", "cart", customer_id, created, total=100.0, line_items=(line,)
        )

    def sent_to(self) -> list[str]:
        return [address for mail in self.mail.sent for address in mail.to]

    def used(self, metric: str = "email_messages") -> int:
        return self.usage.used.get((TENANT, metric), 0)


def arm_of(flow: str, customer_id: str, holdout_fraction: float) -> str:
    return assign(TENANT, flow, customer_id, [Arm("default")], holdout_fraction=holdout_fraction)


def customers_by_arm(flow: str, holdout_fraction: float) -> tuple[str, str]:
    """A customer id the flow's test treats and one it holds out (assignment is deterministic)."""
    ids = [f"c{index:02d}" for index in range(40)]
    treated = next(c for c in ids if arm_of(flow, c, holdout_fraction) != HOLDOUT)
    held = next(c for c in ids if arm_of(flow, c, holdout_fraction) == HOLDOUT)
    return treated, held


# ----------------------------------------------------------------------------- a flow run
def test_an_abandoned_cart_run_mails_the_consenting_customer_with_the_recommended_products_and_not_the_others() -> None:
    # Given carts left two hours ago by a treated and a held-out customer who both consented, and by one who
    # never consented; a flow test holding out half; a recommender whose first pick is out of stock
    shop = Shop()
    save_campaign_settings(
        TENANT,
        CampaignSettings(flows={"abandoned_cart": FlowSettings(holdout_fraction=0.5)}),
        tenants=shop.tenants,
    )
    treated, held = customers_by_arm("abandoned_cart", 0.5)
    treated_address = shop.customer(treated)
    held_address = shop.customer(held)
    silent_address = shop.customer("c99", consent=None)
    for order_id, customer_id in (("9001", treated), ("9002", held), ("9003", "c99")):
        shop.cart(order_id, customer_id)

    # When the flow runs and its messages are delivered in this process
    dispatcher = DirectDispatcher(shop.sender, base_delay=0.0)
    [result] = run_flow(TENANT, "abandoned_cart", NOON, dispatcher, sources=shop.sources)

    # Then only the treated customer is mailed, once, and counted against the plan once
    assert (result.candidates, result.dispatched, result.held_out) == (3, 1, 1)
    assert dict(result.not_eligible) == {"no consent": 1}
    assert [outcome.status for outcome in dispatcher.outcomes] == ["sent"]
    assert shop.sent_to() == [treated_address]
    assert held_address not in shop.sent_to() and silent_address not in shop.sent_to()
    assert shop.used() == 1
    # And the hold-out has its record (it counts for the lift) but no message
    assert shop.campaigns.get_send_record(TENANT, "abandoned_cart", held, "order-9002").status == "held_out"
    assert shop.campaigns.get_send_record(TENANT, "abandoned_cart", treated, "order-9001").status == "sent"
    # And the product block is the recommender's, asked for products like the cart's, without the cart's own
    # product or the one out of stock
    assert shop.recommender.asked == [("similar", ("P1",))]
    text = shop.mail.sent[0].text
    assert "Silk Scarf" in text and "Leather Gloves" in text
    assert "Cashmere Wrap" not in text

    # When the flow runs again, every trigger is found recorded and nothing more is sent
    [again] = run_flow(TENANT, "abandoned_cart", NOON, dispatcher, sources=shop.sources)
    assert (again.dispatched, again.held_out, again.already_recorded) == (0, 0, 2)
    assert shop.sent_to() == [treated_address]


def test_win_back_and_a_segment_campaign_read_the_customer_model_passed_in() -> None:
    # Given a customer model naming c01 and c02 at risk and c03-c05 as Champions (two pages), all consented
    shop = Shop()
    save_campaign_settings(
        TENANT,
        CampaignSettings(flows={"win_back": FlowSettings(enabled=True, holdout_fraction=0.0)}),
        tenants=shop.tenants,
    )
    for customer_id in ("c01", "c02", "c03", "c04", "c05"):
        shop.customer(customer_id)
    shop.models.put(TENANT, "customers", FixedScores(["c01", "c02"], {"Champions": ["c03", "c04", "c05"]}))
    create_campaign(
        TENANT,
        CampaignSpec(name="VIP", segment="Champions", scheduled_at=NOON - timedelta(minutes=5), holdout_fraction=0.0),
        campaigns=shop.campaigns,
        tenants=shop.tenants,
        campaign_id="cvip",
    )
    # When the schedule's round runs win-back and the due campaigns, queueing the messages
    queue = RecordingQueue()
    summary = run_scheduled_flows(
        ["win_back", "campaigns"], send_queue=queue, sources=shop.sources, tenant_id=TENANT, now=NOON
    )
    # Then the at-risk customers get the win-back, every page of the segment the campaign
    queued = [SendRequest.model_validate_json(message.body) for message in queue.sent]
    assert summary["failed_tenants"] == [] and summary["dispatched"] == 5
    assert sorted((r.flow, r.customer_id) for r in queued) == [
        (campaign_flow("cvip"), "c03"),
        (campaign_flow("cvip"), "c04"),
        (campaign_flow("cvip"), "c05"),
        ("win_back", "c01"),
        ("win_back", "c02"),
    ]
    assert {r.trigger for r in queued if r.flow == "win_back"} == {"winback-2026-11"}
    assert shop.campaigns.get_campaign(TENANT, "cvip").status == "running"


def test_without_a_customer_model_win_back_says_why_and_a_segment_campaign_keeps_its_schedule() -> None:
    # Given no customer model, win-back enabled and a due campaign to an RFM segment
    shop = Shop()
    save_campaign_settings(
        TENANT, CampaignSettings(flows={"win_back": FlowSettings(enabled=True)}), tenants=shop.tenants
    )
    shop.customer("c01")
    create_campaign(
        TENANT,
        CampaignSpec(name="VIP", segment="Champions", scheduled_at=NOON - timedelta(minutes=5)),
        campaigns=shop.campaigns,
        tenants=shop.tenants,
        campaign_id="cvip",
    )
    # When the round runs
    queue = RecordingQueue()
    summary = run_scheduled_flows(
        ["win_back", "campaigns"], send_queue=queue, sources=shop.sources, tenant_id=TENANT, now=NOON
    )
    # Then nothing is queued, the tenant did not fail, and the campaign waits with the reason
    assert (summary["dispatched"], summary["failed_tenants"], queue.sent) == (0, [], [])
    waiting = shop.campaigns.get_campaign(TENANT, "cvip")
    assert waiting.status == "scheduled" and "needs the customer model" in waiting.stats["last_error"]
    assert (TENANT, "customers") in shop.models.reads


# ----------------------------------------------------------------------------- one delivery
def _request(customer_id: str, *, recommend: str = "for_customer") -> SendRequest:
    return SendRequest(
        tenant_id=TENANT,
        flow="campaign-unit",
        customer_id=customer_id,
        trigger="t1",
        assigned_at=NOON,
        recommend=recommend,
    )


def test_a_delivery_mails_the_consenting_customer_once_with_the_recommender_s_products() -> None:
    # Given a consented customer and a recommender for the tenant
    shop = Shop()
    address = shop.customer("c01")
    # When the same send is delivered twice (a queue redelivery)
    first = deliver(_request("c01"), shop.sender)
    second = deliver(_request("c01"), shop.sender)
    # Then one e-mail goes out, counted once, with the in-stock products the recommender picked for the customer
    assert (first.status, second.status) == ("sent", "duplicate")
    assert shop.sent_to() == [address] and shop.used() == 1
    assert shop.recommender.asked == [("for_customer", "c01")]
    text = shop.mail.sent[0].text
    assert all(NAMES[pid] in text for pid in ("P1", "P2", "P3")) and NAMES["P4"] not in text
    assert shop.mail.sent[0].tags["lb_tenant"] == TENANT
    assert shop.campaigns.get_send_record(TENANT, "campaign-unit", "c01", "t1").status == "sent"


def test_a_delivery_without_consent_or_without_a_model_is_settled_as_the_rules_say() -> None:
    # Given a customer who withdrew consent, one who consented, and no recommendation model for the tenant
    shop = Shop()
    shop.models.models.clear()
    shop.customer("c01", consent=False)
    address = shop.customer("c02")
    # When both are delivered
    refused = deliver(_request("c01"), shop.sender)
    sent = deliver(_request("c02"), shop.sender)
    # Then the first is skipped with the reason, not mailed and not billed; the second goes out without products
    assert refused.status == "skipped" and "consent withdrawn" in (refused.reason or "")
    assert sent.status == "sent" and shop.sent_to() == [address] and shop.used() == 1
    assert not any(name in shop.mail.sent[0].text for name in NAMES.values())
    assert (TENANT, "recommend") in shop.models.reads


def test_a_delivery_is_decided_by_the_usage_counter_and_a_refused_send_is_given_back() -> None:
    # Given a plan whose e-mail allowance has one unit left, and a provider that refuses the first message
    shop = Shop()
    allowed, _period = get_plan("pro").allowance("email_messages")
    shop.usage.used[TENANT, "email_messages"] = allowed - 1
    shop.mail.failures.append(ProviderError("address rejected", retryable=False))
    for customer_id in ("c01", "c02", "c03"):
        shop.customer(customer_id)
    # When three sends are delivered
    outcomes = [deliver(_request(customer_id, recommend="none"), shop.sender) for customer_id in ("c01", "c02", "c03")]
    # Then the refused one is given back, the next takes the last unit, and the third is refused by the plan
    # before the provider is called
    assert [outcome.status for outcome in outcomes] == ["failed", "sent", "skipped"]
    assert "plan:" in (outcomes[2].reason or "")
    assert shop.sent_to() == ["c02@example.com"]
    assert shop.used() == allowed


# ----------------------------------------------------------------------------- the sender function
def _sender_function() -> Any:
    """functions/campaigns/sender.py, loaded by path (functions/ is not a package)."""
    import importlib.util
    import sys
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "functions" / "campaigns" / "sender.py"
    spec = importlib.util.spec_from_file_location("campaigns_sender_unit", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # pydantic resolves the handler's annotations through sys.modules
    spec.loader.exec_module(module)
    return module


class _LambdaContext:
    function_name = "campaign-sender-unit"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:campaign-sender-unit"
    aws_request_id = "req-campaign-sender-unit"


def _sqs_record(message_id: str, request: SendRequest) -> dict[str, Any]:
    return {
        "messageId": message_id,
        "receiptHandle": f"receipt-{message_id}",
        "body": request.model_dump_json(),
        "attributes": {"ApproximateReceiveCount": "1"},
        "messageAttributes": {},
        "md5OfBody": "",
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:campaign-send",
        "awsRegion": "us-east-1",
    }


def test_the_sender_function_reports_a_throttled_send_for_redelivery_and_completes_the_others() -> None:
    # Given a batch of two sends, and a mail service that throttles the first message it is given
    shop = Shop()
    shop.customer("c01")
    address = shop.customer("c02")
    shop.mail.failures.append(ProviderError("throttled", retryable=True, code="TooManyRequestsException"))
    event = {"Records": [_sqs_record("m1", _request("c01")), _sqs_record("m2", _request("c02"))]}
    # When the sender function handles the batch through the in-memory sender context
    response = _sender_function().handle_batch(event, _LambdaContext(), shop.sender)
    # Then the throttled message goes back to the queue (its record waits as retrying, its unit given back)
    # and the other is sent and counted
    assert response == {"batchItemFailures": [{"itemIdentifier": "m1"}]}
    assert shop.campaigns.get_send_record(TENANT, "campaign-unit", "c01", "t1").status == "retrying"
    assert shop.sent_to() == [address] and shop.used() == 1

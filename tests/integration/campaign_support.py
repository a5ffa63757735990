"""Helpers of the campaign tests: write a sample store straight into the table (through the ingest mapping,
without the webhook path, which the ingest tests cover) and read what moto 'sent'."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from luxebrain.adapters.aws import mail_service, secrets_vault, sms_service, whatsapp_service
from luxebrain.billing.usage import plan_usage
from luxebrain.campaigns.sending import MessageServices, SenderContext, utc_now
from luxebrain.campaigns.sources import campaign_sources
from luxebrain.ingest.mapping import (
    customer_from_payload,
    guest_customer_from_order,
    order_from_payload,
    product_from_payload,
)
from luxebrain.runtime import configured_settings
from luxebrain.storage.customers import Customer
from luxebrain.storage.ingest import StoreRecord, put_records
from luxebrain.storage.items.customers import CustomerItem, OrderItem
from luxebrain.woocommerce.payloads import CustomerPayload, OrderPayload, ProductPayload
from luxebrain_dev.sample_store import SampleStore


def aws_sender(clock: Callable[[], datetime] = utc_now) -> SenderContext:
    """What the sender function passes to ``deliver``: the (embedded) AWS message services and key vault, the
    table's repositories with the model cache, and the plan's usage counters."""
    services = MessageServices(mail=mail_service(), sms=sms_service(), whatsapp=whatsapp_service())
    return SenderContext(
        channel_factory=services.channel,
        keys=secrets_vault(),
        sources=campaign_sources(),
        usage=plan_usage(),
        clock=clock,
    )


def load_sample_store(tenant_id: str, store: SampleStore) -> None:
    received = datetime.now(UTC).replace(tzinfo=None).isoformat(timespec="seconds")
    records: list[StoreRecord] = [
        product_from_payload(tenant_id, ProductPayload.model_validate(payload), received) for payload in store.products
    ]
    customers: dict[str, Customer] = {}
    for payload in store.customers:
        if payload["id"]:
            customer = customer_from_payload(tenant_id, CustomerPayload.model_validate(payload), received)
            customers[customer.customer_id] = customer
    orders = []
    for payload in store.orders:
        order = OrderPayload.model_validate(payload)
        orders.append(order_from_payload(tenant_id, order))
        guest = guest_customer_from_order(tenant_id, order)
        if guest is not None:
            customers[guest.customer_id] = guest
    put_records([*records, *customers.values(), *orders])


def lambda_context() -> Any:
    class Context:
        function_name = "campaigns-test"
        memory_limit_in_mb = 512
        invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:campaigns-test"
        aws_request_id = "req-campaigns-test"

    return Context()


# ----------------------------------------------------------------------------- small fixtures of the tests
def add_customer(
    tenant_id: str,
    customer_id: str,
    *,
    email: str | None = None,
    phone: str | None = None,
    country: str = "GB",
    first_name: str = "Camille",
) -> CustomerItem:
    from luxebrain.storage.items.customers import key_customer

    configured_settings()
    pk, sk = key_customer(tenant_id, customer_id)
    item = CustomerItem(
        pk,
        sk,
        entity=CustomerItem.ENTITY,
        tenant_id=tenant_id,
        customer_id=customer_id,
        email=email,
        phone=phone,
        first_name=first_name,
        country=country,
        created_gmt="2026-01-01T00:00:00",
    )
    item.save()
    return item


def add_order(
    tenant_id: str,
    order_id: str,
    customer_id: str,
    created: datetime,
    *,
    status: str = "checkout-draft",
    product_id: str = "100",
    total: float = 1450.0,
) -> OrderItem:
    from luxebrain.ingest.mapping import status_class
    from luxebrain.storage.items.customers import (
        LineItem,
        customer_orders_index_keys,
        key_order,
        orders_by_date_index_keys,
    )

    configured_settings()
    created_gmt = created.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="seconds")
    pk, sk = key_order(tenant_id, order_id)
    gsi1pk, gsi1sk = customer_orders_index_keys(tenant_id, customer_id, created_gmt)
    gsi2pk, gsi2sk = orders_by_date_index_keys(tenant_id, created_gmt, order_id)
    item = OrderItem(
        pk,
        sk,
        gsi1pk=gsi1pk,
        gsi1sk=gsi1sk,
        gsi2pk=gsi2pk,
        gsi2sk=gsi2sk,
        entity=OrderItem.ENTITY,
        tenant_id=tenant_id,
        order_id=order_id,
        status=status,
        status_class=status_class(status),
        customer_id=customer_id,
        total=total,
        created_gmt=created_gmt,
        modified_gmt=created_gmt,
        line_items=[
            LineItem(
                line_id=f"{order_id}-1",
                product_id=product_id,
                name="Riviera Tote",
                quantity=1,
                unit_price=total,
                subtotal=total,
                total=total,
            )
        ],
    )
    item.save()
    return item


def moto_emails_to(addresses: set[str]) -> list[Any]:
    """The e-mails moto's SES recorded for these recipients, parsed."""
    import email

    from luxebrain_dev.campaigns_demo import sent_by_moto

    found = []
    for raw in sent_by_moto()[0]:
        parsed = email.message_from_string(raw["raw_data"])
        if parsed["To"] in addresses:
            found.append(parsed)
    return found


def unique_phone(seed: str, prefix: str = "+447700") -> str:
    """A number of ``prefix`` unique to ``seed`` (a tenant id: moto's SMS log is shared by a worker's tests),
    ending in 0: moto's SNS reports every number ending in 99 as opted out of SMS."""
    return f"{prefix}{int(seed[-6:], 16) % 10**5:05d}0"


def moto_sms_to(numbers: set[str]) -> list[dict[str, Any]]:
    from luxebrain_dev.campaigns_demo import sent_by_moto

    return [entry for entry in sent_by_moto()[1] if entry.get("phone_number") in numbers]


CAMPAIGN_FUNCTIONS = {
    "flow_runner": "CampaignFlowRunnerFunction",
    "sender": "CampaignSenderFunction",
    "provider_events": "CampaignProviderEventsFunction",
}


class CampaignHandler:
    """A handler module of functions/campaigns whose ``handler`` runs as its template function (its role
    authorizes its AWS calls)."""

    def __init__(self, name: str, module: Any) -> None:
        from luxebrain_dev.local.functions import as_function

        self.name = name
        self.module = module
        self.handler = as_function(CAMPAIGN_FUNCTIONS[name], module.handler)

    def __getattr__(self, attribute: str) -> Any:
        return getattr(self.module, attribute)

    def handler_with(self, sender: SenderContext) -> Any:
        """The sender function's handler delivering through ``sender`` instead of the AWS services, still
        under the function's role."""
        from luxebrain_dev.local.functions import as_function

        return as_function(
            CAMPAIGN_FUNCTIONS[self.name], lambda event, context: self.module.handle_batch(event, context, sender)
        )


def load_handler(name: str) -> CampaignHandler:
    """A handler module of functions/campaigns, loaded by path (functions/ is not a package)."""
    import importlib.util
    import sys
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "functions" / "campaigns" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"campaigns_{name}", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # pydantic resolves the handler's annotations through sys.modules
    spec.loader.exec_module(module)
    return CampaignHandler(name, module)


def drain_with_sender_handler(max_rounds: int = 50, through: SenderContext | None = None) -> list[dict[str, Any]]:
    """Receive the send queue's messages and give them to the sender function, as the SQS trigger would
    (delivering ``through`` a given sender context when there is one)."""
    from luxebrain.runtime import aws_client

    function = load_handler("sender")
    handle = function.handler if through is None else function.handler_with(through)
    sqs = aws_client("sqs")
    queue_url = configured_settings().require("campaign_send_queue_url")
    arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    responses = []
    for _ in range(max_rounds):
        messages = sqs.receive_message(
            QueueUrl=queue_url, MaxNumberOfMessages=10, AttributeNames=["All"], WaitTimeSeconds=0
        ).get("Messages", [])
        if not messages:
            break
        event = {"Records": [sqs_record(message, arn) for message in messages]}
        response = handle(event, lambda_context())
        failed = {failure["itemIdentifier"] for failure in response.get("batchItemFailures", [])}
        for message in messages:
            if message["MessageId"] not in failed:
                sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
        responses.append(response)
    return responses


def sqs_record(message: dict[str, Any], arn: str) -> dict[str, Any]:
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": {"ApproximateReceiveCount": message.get("Attributes", {}).get("ApproximateReceiveCount", "1")},
        "messageAttributes": {},
        "md5OfBody": message.get("MD5OfBody", ""),
        "eventSource": "aws:sqs",
        "eventSourceARN": arn,
        "awsRegion": "us-east-1",
    }

"""Campaigns benchmark: render speed, send throughput per worker, and the cost of an abandoned-cart run.

Run: ``.venv/bin/python -m benchmarks.campaigns`` (about 1-2 minutes on 2 cores; ``--quick`` for a smoke run).

1. Render: one personalised e-mail (recommendation product block, branding, sandboxed tenant template, HTML +
   text, signed unsubscribe token, MIME with RFC 8058 headers), against a baseline measured in the same run:
   the same template rendered by a plain (non-sandboxed, cached) Jinja2 environment with no product block.
2. Send throughput per worker (one thread) against the embedded AWS: messages fully checked (consent,
   suppression, frequency cap, exactly-once claim), rendered and handed to SES, per second; baseline: bare
   SES ``send_email`` calls to the same moto server, so the ratio is our overhead over the provider call.
   moto's latency is not AWS's: read the ratio, not the absolute figure.
3. Cost of one abandoned-cart run for a store with 10,000 open carts: the runner's requests are counted on a
   real run against moto (with fewer carts) and scaled linearly (every step is linear in carts), the CPU time
   of the trigger logic is measured on 10,000 carts in memory, and both are priced with AWS's published
   us-east-1 on-demand prices (listed in the output; check them before quoting).
Outputs: ``benchmarks/out/campaigns.json``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

OUT = Path(__file__).resolve().parent / "out"

# AWS us-east-1 on-demand prices (USD), as published in 2025; the benchmark reports its inputs.
PRICES = {
    "dynamodb_read_request_unit": 0.125 / 1e6,
    "dynamodb_write_request_unit": 0.625 / 1e6,
    "sqs_request": 0.40 / 1e6,
    "ses_email": 0.10 / 1000,
    "lambda_gb_second": 0.0000166667,
    "lambda_request": 0.20 / 1e6,
}


def _timeit(function: Any, repeats: int) -> list[float]:
    samples = []
    for _ in range(repeats):
        started = time.perf_counter()
        function()
        samples.append(time.perf_counter() - started)
    return samples


# ----------------------------------------------------------------------------- 1. render
def bench_render(repeats: int) -> dict[str, Any]:
    import jinja2

    from luxebrain.campaigns.channels import EmailChannel, OutboundEmail
    from luxebrain.campaigns.products import Catalog, ProductView
    from luxebrain.campaigns.templates import DEFAULT_TEMPLATES, render_email, template_for
    from luxebrain.ml.recommend.serving import RecommendationRules, Recommender
    from luxebrain.ml.recommend.train import train_recommender
    from luxebrain_dev.sample_store import generate_sample_store

    store = generate_sample_store(products=300, customers=3000, seed=7, as_of=datetime(2026, 11, 26, tzinfo=UTC))
    import pandas as pd

    rows = [
        {
            "order_id": str(o["id"]),
            "customer_id": str(o["customer_id"]),
            "product_id": str(line["product_id"]),
            "ordered_at": pd.Timestamp(o["date_created_gmt"], tz="UTC"),
            "quantity": float(line["quantity"]),
            "unit_price": float(line["price"]),
            "line_total": float(line["total"]),
        }
        for o in store.orders
        if o["status"] in ("processing", "completed") and o["customer_id"]
        for line in o["line_items"]
    ]
    recommender = Recommender(train_recommender(pd.DataFrame(rows)))
    products = {
        str(p["id"]): ProductView(
            str(p["id"]), p["name"], float(p["price"]), float(p["price"]), p["stock_status"] == "instock", True, None
        )
        for p in store.products
    }
    catalog = Catalog(products, "EUR", "https://shop.example")
    in_stock = catalog.available
    customers = recommender.customer_ids[:200] or ["1"]
    template = template_for("abandoned_cart")
    channel = EmailChannel(None, sender="no-reply@luxebrain.example", configuration_set=None)
    import hashlib
    import hmac

    key = b"k" * 32

    def context_for(customer_id: str) -> dict[str, Any]:
        picks = recommender.for_customer(customer_id, k=3, rules=RecommendationRules(in_stock=in_stock)).product_ids
        token_body = hashlib.sha256(customer_id.encode()).hexdigest()
        token = token_body + "." + hmac.new(key, token_body.encode(), hashlib.sha256).hexdigest()
        return {
            "customer": {"first_name": "Camille", "country": "FR"},
            "store": {
                "store_name": "Maison",
                "logo_url": None,
                "primary_color": "#111111",
                "accent_color": "#b8860b",
                "footer_address": "Paris",
                "store_url": "https://shop.example",
            },
            "currency": "EUR",
            "products": [products[p].as_context("https://shop.example") for p in picks if p in products],
            "cart": {
                "lines": [{"name": "Riviera Tote", "quantity": 1, "total": 1450.0}],
                "currency": "EUR",
                "url": "https://shop.example/cart/",
            },
            "unsubscribe_url": f"https://api.example/campaigns/unsubscribe/{token}",
        }

    position = [0]

    def ours() -> None:
        customer_id = customers[position[0] % len(customers)]
        position[0] += 1
        context = context_for(customer_id)
        rendered = render_email(template, context)
        channel.build_mime(
            OutboundEmail(
                to="camille@example.com",
                subject=rendered.subject,
                html=rendered.html,
                text=rendered.text,
                headers={
                    "List-Unsubscribe": f"<{context['unsubscribe_url']}>",
                    "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
                },
            )
        )

    plain = jinja2.Environment(autoescape=True)
    plain.filters["money"] = lambda value, currency="EUR": f"{float(value):,.2f} {currency}"
    plain_template = plain.from_string(DEFAULT_TEMPLATES["abandoned_cart"]["html"])
    static_context = context_for(customers[0])

    def baseline() -> None:
        plain_template.render(static_context)

    unpersonalised_context = {**static_context, "products": []}

    def unpersonalised() -> None:
        # The same sandboxed e-mail (layout, HTML + text) without recommendations, token or MIME: the ratio is
        # what personalisation and packaging add.
        render_email(template, unpersonalised_context)

    for function in (ours, baseline, unpersonalised):
        _timeit(function, 50)  # warm caches (compiled templates) like a warm Lambda
    ours_samples = _timeit(ours, repeats)
    base_samples = _timeit(baseline, repeats)
    unpersonalised_samples = _timeit(unpersonalised, repeats)
    ours_ms = statistics.median(ours_samples) * 1000
    base_ms = statistics.median(base_samples) * 1000
    unpersonalised_ms = statistics.median(unpersonalised_samples) * 1000
    return {
        "personalised_email_median_ms": round(ours_ms, 3),
        "personalised_email_p95_ms": round(sorted(ours_samples)[int(0.95 * len(ours_samples))] * 1000, 3),
        "baseline_plain_jinja_median_ms": round(base_ms, 4),
        "ratio_to_baseline": round(ours_ms / base_ms, 1),
        "baseline_unpersonalised_email_median_ms": round(unpersonalised_ms, 3),
        "ratio_to_unpersonalised": round(ours_ms / unpersonalised_ms, 2),
        "target_ms": 5.0,
        "recommender_products": recommender.n_products,
    }


# ----------------------------------------------------------------------------- 2. throughput (moto)
def _bench_store(tenant_id: str) -> None:
    from luxebrain.adapters.aws import secrets_vault
    from luxebrain.storage.tenants import create_store

    create_store(
        tenant_id,
        url="https://shop.example",
        consumer_key="ck",
        consumer_secret="cs",
        store_id="s1",
        vault=secrets_vault(),
    )


def bench_throughput(messages: int) -> dict[str, Any]:
    from luxebrain.adapters.aws import mail_service, secrets_vault, sms_service, whatsapp_service
    from luxebrain.billing.usage import plan_usage
    from luxebrain.campaigns.consent import record_consent
    from luxebrain.campaigns.sending import MessageServices, SenderContext, SendRequest, deliver
    from luxebrain.campaigns.sources import campaign_sources
    from luxebrain.runtime import aws_client, configured_settings
    from luxebrain.storage.campaigns import ConsentRecord
    from luxebrain.storage.items.customers import CustomerItem, key_customer
    from luxebrain.storage.tenants import create_tenant

    tenant_id = create_tenant("Bench", tenant_id="t-bench-send").tenant_id
    _bench_store(tenant_id)
    with CustomerItem.batch_write() as batch:
        for index in range(messages):
            pk, sk = key_customer(tenant_id, str(index))
            batch.save(
                CustomerItem(
                    pk,
                    sk,
                    entity="customer",
                    tenant_id=tenant_id,
                    customer_id=str(index),
                    email=f"bench{index}@example.com",
                    first_name="Camille",
                    country="FR",
                )
            )
    noon = datetime(2026, 11, 26, 12, tzinfo=UTC)
    sources = campaign_sources()
    campaigns = sources.campaigns
    consents = [ConsentRecord(str(index), "email", True, "bench", noon) for index in range(messages)]
    campaigns.put_consents(tenant_id, consents)
    record_consent(tenant_id, "0", "email", granted=True, source="bench", campaigns=campaigns)
    services = MessageServices(mail=mail_service(), sms=sms_service(), whatsapp=whatsapp_service())
    sender = SenderContext(
        channel_factory=services.channel,
        keys=secrets_vault(),
        sources=sources,
        usage=plan_usage(),
        clock=lambda: noon,
    )
    requests = [
        SendRequest(
            tenant_id=tenant_id,
            flow="bench",
            customer_id=str(i),
            trigger="t",
            assigned_at=noon,
            recommend="for_customer",
        )
        for i in range(messages)
    ]
    deliver(requests[0], sender)  # warm: KMS key, catalogue cache, clients
    started = time.perf_counter()
    outcomes = Counter(deliver(request, sender).status for request in requests[1:])
    ours = (messages - 1) / (time.perf_counter() - started)
    ses = aws_client("sesv2")
    sender_email = configured_settings().require("sender_email")
    started = time.perf_counter()
    for index in range(messages - 1):
        ses.send_email(
            FromEmailAddress=sender_email,
            Destination={"ToAddresses": [f"raw{index}@example.com"]},
            Content={"Simple": {"Subject": {"Data": "Hi"}, "Body": {"Text": {"Data": "Hi"}}}},
        )
    raw = (messages - 1) / (time.perf_counter() - started)
    return {
        "messages": messages - 1,
        "outcomes": dict(outcomes),
        "ours_messages_per_second_per_worker": round(ours, 1),
        "baseline_bare_ses_calls_per_second": round(raw, 1),
        "ratio_to_baseline": round(ours / raw, 3),
        "note": "against moto on this machine; each message makes ~9 DynamoDB/KMS/SES calls",
    }


# ----------------------------------------------------------------------------- 3. abandoned-cart run cost
def bench_cart_run(carts_measured: int, carts_target: int) -> dict[str, Any]:
    import pynamodb.connection.base as pynamodb_base

    from luxebrain.adapters.aws import queue
    from luxebrain.campaigns.config import CampaignSettings, FlowSettings
    from luxebrain.campaigns.flows import Candidate, RunData, abandoned_cart_candidates, dispatch_candidates, run_flow
    from luxebrain.campaigns.products import Catalog
    from luxebrain.campaigns.sending import QueueDispatcher, SendRequest
    from luxebrain.campaigns.sources import campaign_sources
    from luxebrain.runtime import aws_client
    from luxebrain.storage.campaigns import ConsentRecord
    from luxebrain.storage.items.customers import LineItem, OrderItem, key_order, orders_by_date_index_keys
    from luxebrain.storage.tenants import create_tenant

    now = datetime(2026, 11, 26, 12, tzinfo=UTC)
    tenant_id = create_tenant("Bench carts", tenant_id="t-bench-carts").tenant_id
    _bench_store(tenant_id)

    def cart(index: int, tenant: str) -> OrderItem:
        created = (now - timedelta(hours=2, minutes=index % 600)).replace(tzinfo=None).isoformat(timespec="seconds")
        pk, sk = key_order(tenant, str(500000 + index))
        gsi2pk, gsi2sk = orders_by_date_index_keys(tenant, created, str(500000 + index))
        lines = [
            LineItem(
                line_id=f"{index}-{n}",
                product_id=str(100 + (index + n) % 300),
                name="Riviera Tote",
                quantity=1,
                unit_price=450.0,
                subtotal=450.0,
                total=450.0,
            )
            for n in range(2)
        ]
        return OrderItem(
            pk,
            sk,
            gsi2pk=gsi2pk,
            gsi2sk=gsi2sk,
            entity="order",
            tenant_id=tenant,
            order_id=str(500000 + index),
            status="checkout-draft",
            status_class="cart",
            customer_id=f"c{index}",
            total=900.0,
            created_gmt=created,
            modified_gmt=created,
            line_items=lines,
        )

    with OrderItem.batch_write() as batch:
        for index in range(carts_measured):
            batch.save(cart(index, tenant_id))
    sources = campaign_sources()
    campaigns = sources.campaigns
    campaigns.put_consents(
        tenant_id, [ConsentRecord(f"c{index}", "email", True, "bench", now) for index in range(carts_measured)]
    )

    # Count every DynamoDB (pynamodb) and SQS request of one real run, with their sizes.
    calls: Counter[str] = Counter()
    read_units = [0.0]
    original = pynamodb_base.Connection.dispatch

    def counting_dispatch(self: Any, operation_name: str, operation_kwargs: dict[str, Any]) -> Any:
        operation_kwargs = {**operation_kwargs, "ReturnConsumedCapacity": "TOTAL"}
        response = original(self, operation_name, operation_kwargs)
        calls[f"dynamodb.{operation_name}"] += 1
        consumed = response.get("ConsumedCapacity") if isinstance(response, dict) else None
        for entry in consumed if isinstance(consumed, list) else [consumed] if consumed else []:
            read_units[0] += float(entry.get("CapacityUnits", 0) or 0)
        return response

    sqs = aws_client("sqs")

    def count_sqs(**kwargs: Any) -> None:
        calls[f"sqs.{kwargs['event_name'].split('.')[-1]}"] += 1

    sqs.meta.events.register("before-call.sqs", count_sqs)
    pynamodb_base.Connection.dispatch = counting_dispatch  # type: ignore[method-assign]
    try:
        started = time.perf_counter()
        dispatcher = QueueDispatcher(queue("campaign_send_queue_url"))
        result = run_flow(tenant_id, "abandoned_cart", now, dispatcher, sources=sources)[0]
        wall = time.perf_counter() - started
    finally:
        pynamodb_base.Connection.dispatch = original  # type: ignore[method-assign]
        sqs.meta.events.unregister("before-call.sqs", count_sqs)
    # Drain what was queued so later runs on this server start clean (the sender's cost is counted per message).
    from luxebrain_dev.campaigns_demo import drain_send_queue

    queue_url = sqs.get_queue_url(QueueName="luxebrain-local-campaign-send")["QueueUrl"]
    sqs.purge_queue(QueueUrl=queue_url)
    del drain_send_queue

    # Item size of a cart as DynamoDB bills it (attribute names + values), from the serialised item.
    sample = cart(1, tenant_id).serialize()
    cart_bytes = len(json.dumps(sample).encode())

    # CPU of the trigger logic and request building for the target size, in memory.
    orders = [cart(index, "t-bench-memory") for index in range(carts_target)]
    catalog = Catalog({}, "EUR", "https://shop.example")
    started = time.perf_counter()
    candidates = abandoned_cart_candidates(RunData("t-bench-memory", orders), FlowSettings(), now, catalog)
    requests = [
        SendRequest(
            tenant_id="t-bench-memory",
            flow="abandoned_cart",
            customer_id=c.customer_id,
            trigger=c.trigger,
            assigned_at=c.assigned_at,
            context=c.context,
        ).model_dump_json()
        for c in candidates
    ]
    cpu_seconds = time.perf_counter() - started
    del dispatch_candidates, Candidate, CampaignSettings

    scale = carts_target / carts_measured
    # Reading the orders partition: eventually consistent, 4 KB per half unit, billed per 1 MB page.
    scan_rru = carts_target * cart_bytes / 4096 * 0.5
    batch_get_rru = carts_target * 2 * 0.5  # send-record existence + consent: one small item each
    queued = result.dispatched * scale
    run_cost = {
        "dynamodb_reads": (scan_rru + batch_get_rru) * PRICES["dynamodb_read_request_unit"],
        "sqs_batches": (queued / 10) * PRICES["sqs_request"],
        "lambda_runner": (cpu_seconds + 5.0) * 1.0 * PRICES["lambda_gb_second"] + PRICES["lambda_request"],
    }
    # Each queued message, when sent: ~6 reads (customer, send record claim check, consent, suppression,
    # contact log, model pointer) + 3 writes (claim, sent, contact log) + SES + 1/10 of an SQS receive/delete.
    per_message = (
        6 * 0.5 * PRICES["dynamodb_read_request_unit"]
        + 3 * PRICES["dynamodb_write_request_unit"]
        + PRICES["ses_email"]
        + 0.3 * PRICES["sqs_request"]
    )
    send_cost = queued * per_message
    return {
        "carts_measured_against_moto": carts_measured,
        "requests_of_measured_run": dict(calls),
        "measured_consumed_read_units_reported_by_moto": round(read_units[0], 1),
        "measured_run_wall_seconds_on_moto": round(wall, 2),
        "dispatched_in_measured_run": result.dispatched,
        "held_out_in_measured_run": result.held_out,
        "carts_target": carts_target,
        "cart_item_bytes": cart_bytes,
        "trigger_logic_cpu_seconds_for_target": round(cpu_seconds, 3),
        "target_requests_estimate": {name: round(count * scale) for name, count in calls.items()},
        "target_run_cost_usd": {name: round(cost, 6) for name, cost in run_cost.items()},
        "target_run_cost_usd_total": round(sum(run_cost.values()), 5),
        "target_send_cost_usd_total": round(send_cost, 4),
        "send_cost_ses_share": round(queued * PRICES["ses_email"] / send_cost, 3),
        "prices_usd": PRICES,
        "requests_built": len(requests),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    from luxebrain_dev.local.embedded import EmbeddedAws

    results: dict[str, Any] = {"render": bench_render(200 if args.quick else 1000)}
    aws = EmbeddedAws()
    aws.start()
    try:
        results["throughput"] = bench_throughput(20 if args.quick else 150)
        results["abandoned_cart_run"] = bench_cart_run(200 if args.quick else 1000, 10_000)
    finally:
        aws.stop()
    OUT.mkdir(exist_ok=True)
    (OUT / "campaigns.json").write_text(json.dumps(results, indent=2, default=str))
    render, throughput, cart = results["render"], results["throughput"], results["abandoned_cart_run"]
    print(f"{'measure':58s} {'ours':>12s} {'baseline':>12s} {'ratio':>8s}")
    print(
        f"{'personalised e-mail + MIME vs plain Jinja fragment, ms':58s} {render['personalised_email_median_ms']:12.3f} {render['baseline_plain_jinja_median_ms']:12.4f} {render['ratio_to_baseline']:8.1f}"  # noqa: E501
    )
    print(
        f"{'personalised e-mail + MIME vs same e-mail unpersonalised, ms':58s} {render['personalised_email_median_ms']:12.3f} {render['baseline_unpersonalised_email_median_ms']:12.3f} {render['ratio_to_unpersonalised']:8.2f}"  # noqa: E501
    )
    print(
        f"{'messages checked+rendered+sent per s per worker (moto)':58s} {throughput['ours_messages_per_second_per_worker']:12.1f} {throughput['baseline_bare_ses_calls_per_second']:12.1f} {throughput['ratio_to_baseline']:8.3f}"  # noqa: E501
    )
    print(
        f"abandoned-cart run, {cart['carts_target']} open carts: run ${cart['target_run_cost_usd_total']:.5f}, "
        f"sending what it queues ${cart['target_send_cost_usd_total']:.4f} (SES share {cart['send_cost_ses_share']:.0%}); "  # noqa: E501
        f"trigger logic {cart['trigger_logic_cpu_seconds_for_target']:.2f} s CPU"
    )
    print(
        f"requests of the measured run ({cart['carts_measured_against_moto']} carts): {cart['requests_of_measured_run']}"  # noqa: E501
    )


if __name__ == "__main__":
    main()

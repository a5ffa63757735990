"""``luxebrain demo`` and ``luxebrain local``: the whole system on the embedded AWS with a sample store.

Every step goes through the same code path as in AWS: resources from the template, signed webhooks over
HTTP into the ingest function, the schedule event into the training dispatcher, and the API's handlers.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from luxebrain.auth.accounts import create_login_for_tenant
from luxebrain.errors import LuxeBrainError
from luxebrain.observability import logger
from luxebrain.progress import Progress
from luxebrain.storage import repositories
from luxebrain.training.snapshot import seed_training_snapshot
from luxebrain_dev.local.embedded import EmbeddedAws, LocalResources, ensure_port_free
from luxebrain_dev.local.event_sources import SqsEventSources
from luxebrain_dev.local.gateway import LocalGateway
from luxebrain_dev.sample_store import SampleStore, generate_sample_store
from luxebrain_dev.storefront_demo import run_storefront_demo

WEBHOOK_API = "IngestWebhookApi"  # the template's webhook HTTP API: its own base URL, no JWT authorizer

DEMO_TENANT_ID = "maison-demo"
DEMO_STORE_ID = "s-maison-demo"
DEMO_STORE_URL = "https://shop.maison-demo.example"


@dataclass
class DemoTenant:
    tenant_id: str
    store_id: str
    webhook_secret: str


def create_demo_tenant() -> DemoTenant:
    repositories.create_tenant("Maison Démo", plan="pro", tenant_id=DEMO_TENANT_ID)
    _, secrets = repositories.create_store(
        DEMO_TENANT_ID,
        url=DEMO_STORE_URL,
        consumer_key="ck_demo",
        consumer_secret="cs_demo",  # noqa: S106 - the sample store's fake REST credentials
        store_id=DEMO_STORE_ID,
    )
    # An empty training snapshot before any data arrives: ingest's deltas then keep it complete, and no
    # training run has to read the whole order table.
    seed_training_snapshot(DEMO_TENANT_ID)
    return DemoTenant(DEMO_TENANT_ID, DEMO_STORE_ID, secrets.webhook_secret.get_secret_value())


def _print_resources(resources: LocalResources) -> None:
    kinds: dict[str, int] = {}
    for resource in resources.created:
        kinds[resource.resource_type] = kinds.get(resource.resource_type, 0) + 1
    emit(f"Embedded AWS at {resources.endpoint_url}: created " + ", ".join(f"{n} {k}" for k, n in kinds.items()))
    emit(f"  (not created locally, run in process instead: {len(resources.skipped)} resources)")


def _print_store(store: SampleStore) -> None:
    counts = store.counts()
    emit(
        f"Sample store up to {store.as_of.date()}: {counts['products']} products ({counts['variations']} variations), "
        f"{counts['customers']} customers, {counts['orders']} orders with {counts['order_lines']} lines"
    )


def api_call(base_url: str, method: str, path: str, token: str | None = None, body: Any = None) -> Any:
    """One JSON request to the local API (stdlib only: the demo needs no HTTP client package)."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(base_url.rstrip("/") + path, data=data, method=method)  # noqa: S310 - local
    request.add_header("Accept", "application/json")
    if data is not None:
        request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=120) as response:  # noqa: S310 - loopback only
            return json.loads(response.read() or b"null")
    except urllib.error.HTTPError as exc:
        detail = exc.read().decode(errors="replace")[:300]
        raise LuxeBrainError(f"{method} {path} answered {exc.code}: {detail}") from None


def run_demo(
    *,
    as_of: datetime | None = None,
    customers: int = 3000,
    products: int = 300,
    seed: int = 7,
    output_dir: str = "demo-output",
    verbose: bool = False,
    serve: bool = False,
    dashboard_port: int = 8080,
) -> int:
    """The demo; with ``serve`` it then keeps the API and the dashboard up (until Ctrl-C) and ends its output
    with the dashboard's URL and the demo merchant's login."""
    from luxebrain_dev.local.dashboard import DashboardServer

    progress = Progress()
    started = time.perf_counter()
    if serve:
        ensure_port_free(dashboard_port)
    output = Path(output_dir)
    output.mkdir(parents=True, exist_ok=True)
    aws = EmbeddedAws()
    with progress.step("Starting the embedded AWS from infra/template.yaml"):
        resources = aws.start()
    _quiet_functions(verbose)
    gateway = LocalGateway()
    dashboard = None
    try:
        _print_resources(resources)
        api_url = gateway.start()
        emit(f"Local API Gateway (routes of the template) at {api_url}")
        if serve:  # before the slow part: a dashboard that is not built fails at once
            dashboard = DashboardServer(api_url, port=dashboard_port)
            dashboard.start()
        tenant, store = _seed_demo_tenant(
            progress, gateway.url_of(WEBHOOK_API), customers=customers, products=products, seed=seed, as_of=as_of
        )
        login = create_login_for_tenant(tenant.tenant_id)
        _show_results(api_url, login.tokens.access_token, store, output, progress)
        _campaigns(tenant.tenant_id, progress)
        with progress.step("Storefront: widget, a day of visitors with the hold-out, placement results"):
            run_storefront_demo(api_url, tenant.tenant_id, store, emit, store_id=tenant.store_id)
        emit(f"\nDemo finished in {time.perf_counter() - started:.0f} s.")
        if dashboard is not None:
            emit(
                f"\nDashboard: {dashboard.url}   log in as {login.email} / {login.password}\n"
                f"(the API at {api_url} and the dashboard serve until Ctrl-C)"
            )
            threading.Event().wait()
    finally:
        if dashboard is not None:
            dashboard.stop()
        gateway.stop()
        aws.stop()
    return 0


_command_output = sys.stdout


def emit(*parts: object) -> None:
    """The command's own output, on the terminal's stdout even while the functions' stdout is muted."""
    print(*parts, file=_command_output, flush=True)


def _quiet_functions(verbose: bool) -> None:
    """The functions' JSON logs and EMF metrics (both written to stdout, as in Lambda) would drown the
    command's own output, so they go to /dev/null unless --verbose. (POWERTOOLS_METRICS_DISABLED is not
    enough: Powertools still prints a full set of 100 metrics.)"""
    global _command_output
    if not verbose:
        logger.setLevel(logging.WARNING)
        _command_output = sys.stdout
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - for the life of the command


def _seed_demo_tenant(
    progress: Progress, webhook_api_url: str, *, customers: int, products: int, seed: int, as_of: datetime | None
) -> tuple[DemoTenant, SampleStore]:
    """Tenant, store, sample data through signed webhooks, and a scheduled training round."""
    with progress.step("Creating the demo tenant and its WooCommerce store"):
        tenant = create_demo_tenant()
    emit(f"Tenant {tenant.tenant_id}, store {tenant.store_id} ({DEMO_STORE_URL}); webhook secret stored encrypted")
    with progress.step("Generating the sample luxury-fashion store"):
        store = generate_sample_store(
            products=products, customers=customers, seed=seed, as_of=as_of or datetime.now(UTC)
        )
    _print_store(store)
    _ingest(store, tenant, webhook_api_url, progress)
    _train(progress)
    return tenant, store


def _ingest(store: SampleStore, tenant: DemoTenant, webhook_api_url: str, progress: Progress) -> None:
    from luxebrain_dev.delivery import deliver_sample_store, verify_ingested

    emit("\n== Ingest: every record as a signed WooCommerce webhook, over HTTP, through SQS FIFO ==")
    with progress.step("Delivering webhooks (with WooCommerce's duplicates and out-of-order updates)"):
        total = len(store.products) + len(store.variations) + len(store.customers) + len(store.orders)
        progress.start_bar("deliveries", total)
        report = deliver_sample_store(
            store,
            tenant.tenant_id,
            tenant.store_id,
            tenant.webhook_secret,
            webhook_api_url,
            progress=lambda done, all_: (setattr(progress, "_bar_total", max(all_, 1)), progress.update(done)),
        )
    figures = report.as_dict()
    emit(
        f"Deliveries {figures['deliveries']} ({figures['delivered_2xx']} answered 2xx, pings {figures['pings']}), "
        f"processed {figures['processed']}: stored {figures['stored']}, duplicates or stale ignored "
        f"{figures['duplicates_or_stale_ignored']}, rejected {figures['rejected']}; "
        f"{figures['dynamodb_writes']} DynamoDB writes; {figures['deliveries_per_second']} deliveries/s"
    )
    check = verify_ingested(store, tenant.tenant_id)
    emit("Stored vs the store itself: " + ", ".join(f"{key} {value}" for key, value in check.items()))


def _train(progress: Progress) -> None:
    from luxebrain_dev.scheduled_training import run_scheduled_training

    emit("\n== Training: schedule event -> dispatcher -> TrainQueue -> worker -> S3 artifacts ==")
    with progress.step("Scheduled training round"):
        report = run_scheduled_training(progress=progress.say)
    emit(report.summary())


def _show_results(api_url: str, token: str, store: SampleStore, output: Path, progress: Progress) -> None:
    emit("\n== Results, read through the API (local gateway -> API function) with a merchant's Cognito token ==")
    names = {str(p["id"]): p["name"] for p in store.products}
    get = lambda path: api_call(api_url, "GET", path, token)  # noqa: E731 - a local shorthand
    for model in get("/training/models")["models"]:
        emit(f"  serving {model['kind']:<10} version {model['version']}  holdout metric {model['holdout_metric']}")
    customer_id, product_id = _demo_customer_and_product(store)

    def show_products(title: str, answer: dict[str, Any]) -> None:
        emit(f"\n{title}  [strategy {answer['strategy']}]")
        for rank, item in enumerate(answer["items"], 1):
            lift = f", lift {item['lift']:.2f}" if item.get("lift") else ""
            emit(
                f"  {rank}. {names.get(item['product_id'], item['product_id'])} (#{item['product_id']}), "
                f"score {item['score']:.3f}{lift}"
            )

    show_products(f"For you: customer {customer_id}", get(f"/recommendations/for-you?customer_id={customer_id}&k=5"))
    show_products(
        f"Goes with {names[product_id]} (#{product_id})", get(f"/recommendations/similar?product_id={product_id}&k=5")
    )
    show_products("Trending", get("/recommendations/popular?k=5"))

    emit("\nDemand forecast, next 4 weeks (units P10 / P50 / P90), best sellers:")
    forecasts = {}
    for best in get("/forecasts/best-sellers?n=5")["product_ids"]:
        series = get(f"/forecasts/products/{best}?horizon_weeks=4")["forecast"]
        forecasts[best] = series
        weeks = "  ".join(
            f"{lo:.1f}/{mid:.1f}/{hi:.1f}"
            for lo, mid, hi in zip(series["units_p10"], series["units_p50"], series["units_p90"], strict=True)
        )
        emit(f"  {names.get(best, best):<32} {weeks}   [{series['method']}, {series['demand_class']}]")
    emit("\nInventory advice (21-day lead time, 95 % service level), most urgent first:")
    for advice in get("/inventory/advice?lead_time_days=21&service_level=0.95")["items"][:5]:
        emit(f"  {names.get(advice['product_id'], advice['product_id'])}: {advice['explanation']}")
    plot = _plot_forecasts(store, forecasts, names, output)
    if plot:
        emit(f"  forecast plot written to {plot}")

    emit("\nCustomer segments (RFM):")
    for segment in get("/segments")["segments"]:
        emit(
            f"  {segment['segment']:<20} {segment['customers']:>6} customers  "
            f"{segment['revenue_share'] * 100:5.1f} % of revenue"
        )
    emit("\nValuable customers at risk (BG/NBD + Gamma-Gamma):")
    for customer in get("/churn-risk?limit=5")["items"]:
        emit(
            f"  customer {customer['customer_id']:>6}  {customer['segment']:<16} {customer['orders']:>3} orders, "
            f"last {customer['days_since_last_order']} days ago, P(alive) {customer['p_alive']:.2f}, "
            f"revenue at stake {customer['revenue_at_stake']:,.0f}"
        )

    emit("\nPrice suggestions (need the merchant's approval):")
    for suggestion in get("/prices/suggestions?limit=5")["suggestions"]:
        if suggestion.get("type") != "suggestion":
            continue
        emit(
            f"  {names.get(suggestion['product_id'], suggestion['product_id'])}: "
            f"{suggestion['current_price']:,.2f} -> {suggestion['suggested_price']:,.2f} {suggestion['currency']} "
            f"({suggestion['kind']}, confidence {suggestion['confidence']}): " + "; ".join(suggestion["reasons"])
        )


def _plot_forecasts(
    store: SampleStore, forecasts: dict[str, dict[str, Any]], names: dict[str, str], output: Path
) -> Path | None:
    """History and forecast band of the best sellers (matplotlib is a dev dependency: skipped without it)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    # History in the forecast's own weeks (7 days ending the day before its first period), complete weeks
    # only: an ISO-week grouping drew the current, partial week as a collapse of demand.
    first_period = date.fromisoformat(next(iter(forecasts.values()))["period_starts"][0])
    first_order = min(datetime.fromisoformat(o["date_created_gmt"]).date() for o in store.orders)
    weekly: dict[str, dict[date, float]] = {product: {} for product in forecasts}
    for order in store.orders:
        if order["status"] not in ("processing", "completed"):
            continue
        day = datetime.fromisoformat(order["date_created_gmt"]).date()
        if day >= first_period:
            continue
        week_start = first_period - timedelta(days=7 * (((first_period - day).days - 1) // 7 + 1))
        if week_start < first_order:  # the store's first, partial week
            continue
        for line in order["line_items"]:
            product = str(line["product_id"])
            if product in weekly:
                weekly[product][week_start] = weekly[product].get(week_start, 0.0) + line["quantity"]
    history_weeks = [first_period - timedelta(days=7 * k) for k in range(26, 0, -1)]
    history_weeks = [week for week in history_weeks if week >= first_order]
    figure, axes = plt.subplots(len(forecasts), 1, figsize=(10, 2.2 * len(forecasts)), squeeze=False)
    for axis, (product, series) in zip(axes[:, 0], forecasts.items(), strict=True):
        history = [weekly[product].get(week, 0.0) for week in history_weeks]
        axis.plot(history_weeks, history, color="black", label="units sold per week")
        steps = [date.fromisoformat(start) for start in series["period_starts"]]
        axis.plot(steps, series["units_p50"], color="tab:blue", label="P50")
        axis.fill_between(steps, series["units_p10"], series["units_p90"], alpha=0.3, color="tab:blue", label="P10-P90")
        axis.set_title(f"{names.get(product, product)} (#{product}), weeks starting", fontsize=9)
    axes[0, 0].legend(loc="upper left", fontsize=7)
    figure.tight_layout()
    path = output / "forecast_best_sellers.png"
    figure.savefig(path, dpi=90)
    plt.close(figure)
    return path


def _campaigns(tenant_id: str, progress: Progress) -> None:
    from luxebrain_dev.campaigns_demo import run_demo_campaigns

    emit("\n== Campaigns: abandoned cart and an A/B segment campaign, read back from the embedded SES / SNS ==")
    with progress.step("Running the campaign flows"):
        report = run_demo_campaigns(tenant_id, datetime.now(UTC))
    emit(report.summary())


def _demo_customer_and_product(store: SampleStore) -> tuple[str, str]:
    """A registered customer with a rich history and the best-selling product: the interesting examples."""
    orders_per_customer: dict[int, int] = {}
    units_per_product: dict[int, int] = {}
    for order in store.orders:
        if order["status"] in ("processing", "completed") and order["customer_id"]:
            orders_per_customer[order["customer_id"]] = orders_per_customer.get(order["customer_id"], 0) + 1
            for line in order["line_items"]:
                units_per_product[line["product_id"]] = units_per_product.get(line["product_id"], 0) + 1
    customer = max(orders_per_customer, key=lambda key: orders_per_customer[key])
    product = max(units_per_product, key=lambda key: units_per_product[key])
    return str(customer), str(product)


def run_local(
    *,
    aws_port: int,
    api_port: int,
    customers: int,
    verbose: bool = False,
    dashboard_port: int = 8080,
    products: int = 300,
    ready_file: str | None = None,
) -> int:
    """The embedded AWS, the API and the dashboard on fixed localhost ports, seeded with the demo tenant and
    its logins (owner, read-only member, platform admin), until Ctrl-C."""
    from luxebrain.auth.accounts import create_platform_admin, demo_password
    from luxebrain.auth.principal import Role
    from luxebrain_dev.local.dashboard import DashboardServer

    progress = Progress()
    ensure_port_free(api_port)
    ensure_port_free(dashboard_port)
    aws = EmbeddedAws(port=aws_port)
    with progress.step(f"Starting the embedded AWS on port {aws_port}"):
        resources = aws.start()
    _quiet_functions(verbose)
    gateway = LocalGateway(port=api_port)
    event_sources = None
    dashboard = None
    try:
        _print_resources(resources)
        api_url = gateway.start()
        dashboard = DashboardServer(api_url, port=dashboard_port)
        dashboard_url = dashboard.start()  # before the slow seeding: a missing build fails at once
        tenant, _ = _seed_demo_tenant(
            progress, gateway.url_of(WEBHOOK_API), customers=customers, products=products, seed=7, as_of=None
        )
        login = create_login_for_tenant(tenant.tenant_id)
        viewer = create_login_for_tenant(tenant.tenant_id, email="viewer@maison-demo.example", role=Role.READ_ONLY)
        admin_email, admin_password = "admin@luxebrain.example", demo_password()
        create_platform_admin(admin_email, admin_password)
        # From here on queues are consumed in the background, like Lambda's event source mappings.
        event_sources = SqsEventSources.from_resources(resources)
        event_sources.start()
        logins = {
            "dashboard": dashboard_url,
            "api": api_url,
            "owner": {"email": login.email, "password": login.password},
            "read_only": {"email": viewer.email, "password": viewer.password},
            "admin": {"email": admin_email, "password": admin_password},
            "tenant_id": tenant.tenant_id,
        }
        if ready_file:  # for the end-to-end tests: who can log in, written once everything serves
            Path(ready_file).write_text(json.dumps(logins, indent=1), encoding="utf-8")
        emit(
            LOCAL_BANNER.format(
                dashboard=dashboard_url,
                api=api_url,
                webhooks=gateway.url_of(WEBHOOK_API),
                aws=resources.endpoint_url,
                email=login.email,
                password=login.password,
                viewer=viewer.email,
                viewer_password=viewer.password,
                admin=admin_email,
                admin_password=admin_password,
                tenant=tenant.tenant_id,
                store=tenant.store_id,
                secret=tenant.webhook_secret,
            )
        )
        threading.Event().wait()  # until Ctrl-C
    finally:
        if event_sources is not None:
            event_sources.stop()
        if dashboard is not None:
            dashboard.stop()
        gateway.stop()
        aws.stop()
    return 0


LOCAL_BANNER = """
LuxeBrain is running locally. Ctrl-C stops it (everything is in memory).
  Dashboard:    {dashboard}   log in as {email} / {password}
                (read-only member {viewer} / {viewer_password}; platform admin {admin} / {admin_password})
  API:          {api}   (interactive docs: {api}/docs)
  Embedded AWS: {aws}   (AWS_ENDPOINT_URL for the aws CLI or boto3)
  Demo login:   {email} / {password}   (tenant {tenant})
  Webhooks:     POST {webhooks}/webhooks/woocommerce/{tenant}/{store}   secret {secret}

  TOKEN=$(curl -s -X POST {api}/auth/login -H 'content-type: application/json' \\
    -d '{{"email":"{email}","password":"{password}"}}' \\
    | python3 -c 'import json,sys;print(json.load(sys.stdin)["access_token"])')
  curl -s {api}/recommendations/popular?k=5 -H "Authorization: Bearer $TOKEN"
"""

"""``luxebrain demo`` and ``luxebrain local``: the whole system on the embedded AWS with a sample store.

Every step goes through the same code path as in AWS: resources from the template, signed webhooks over
HTTP into the ingest function, the schedule event into the training dispatcher, and the API's handlers.
"""

from __future__ import annotations

import gc
import html
import json
import logging
import os
import sys
import threading
import time
import urllib.error
import urllib.request
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from luxebrain.adapters.aws import user_directory
from luxebrain.auth.accounts import create_login_for_tenant
from luxebrain.billing.usage import plan_usage
from luxebrain.errors import LuxeBrainError
from luxebrain.observability import logger
from luxebrain.progress import Progress
from luxebrain.runtime import configured_settings
from luxebrain.settings import reset_settings
from luxebrain.storage import tenants as tenant_repo
from luxebrain.storage.ingest import ingest_repository
from luxebrain.storage.members import member_repository
from luxebrain.storage.tenants import tenant_repository
from luxebrain_dev.local.embedded import EmbeddedAws, LocalResources, ensure_port_free
from luxebrain_dev.local.event_sources import SqsEventSources
from luxebrain_dev.local.fake_woocommerce import FakeWooCommerce
from luxebrain_dev.local.gateway import LocalGateway
from luxebrain_dev.sample_store import SampleStore, generate_sample_store
from luxebrain_dev.storefront_demo import run_storefront_demo

WEBHOOK_API = "IngestWebhookApi"  # the template's webhook HTTP API: its own base URL, no JWT authorizer

DEMO_TENANT_ID = "maison-demo"


@dataclass
class DemoTenant:
    tenant_id: str
    store_id: str
    webhook_secret: str
    fake_store: FakeWooCommerce | None = None  # the sample store, served like WooCommerce (stopped by the caller)


def create_demo_tenant() -> str:
    tenant_repo.create_tenant("Maison Démo", plan="pro", tenant_id=DEMO_TENANT_ID)
    return DEMO_TENANT_ID


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
    _collect_garbage_less_often()
    _quiet_functions(verbose)
    gateway = LocalGateway()
    dashboard = None
    tenant: DemoTenant | None = None
    try:
        _print_resources(resources)
        api_url = gateway.start()
        emit(f"Local API Gateway (routes of the template) at {api_url}")
        if serve:  # before the slow part: a dashboard that is not built fails at once
            dashboard = DashboardServer(api_url, port=dashboard_port)
            dashboard.start()
        # WooCommerce's approval page returns the merchant to the dashboard's port, the one --dashboard-port gives.
        os.environ["LUXEBRAIN_DASHBOARD_URL"] = f"http://127.0.0.1:{dashboard_port}"
        tenant, store = _seed_demo_tenant(
            progress,
            api_url,
            gateway.url_of(WEBHOOK_API),
            customers=customers,
            products=products,
            seed=seed,
            as_of=as_of,
        )
        login = create_login_for_tenant(
            tenant.tenant_id,
            users=user_directory(),
            members=member_repository(),
            tenants=tenant_repository(),
            usage=plan_usage(),
        )
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
        if tenant is not None and tenant.fake_store is not None:
            tenant.fake_store.stop()
        gateway.stop()
        aws.stop()
    return 0


_command_output = sys.stdout


def _collect_garbage_less_often() -> None:
    """The embedded AWS holds the whole sample store in this process as millions of small objects, and each
    request allocates thousands more: at Python's default thresholds the cycle collector ran every 700
    allocations and took a sixth of a DynamoDB write's time. It still runs, a hundred times less often; what
    exists once the AWS has started (modules, the template, moto's models) is left out of it for good."""
    gc.freeze()
    gc.set_threshold(70_000, 20, 10)


def emit(*parts: object) -> None:
    """The command's own output, on the terminal's stdout even while the functions' stdout is muted."""
    print(*parts, file=_command_output, flush=True)


def _quiet_functions(verbose: bool) -> None:
    """The functions' JSON logs and EMF metrics (both written to stdout, as in Lambda) would drown the
    command's own output, so they go to /dev/null unless --verbose. (POWERTOOLS_METRICS_DISABLED is not
    enough: Powertools still prints a full set of 100 metrics.)"""
    global _command_output
    if not verbose:
        # Powertools warns on every invocation that published no metric (most local invocations): noise here.
        warnings.filterwarnings("ignore", message="No application metrics to publish")
        logger.setLevel(logging.WARNING)
        _command_output = sys.stdout
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - for the life of the command


def _seed_demo_tenant(
    progress: Progress,
    api_url: str,
    webhook_api_url: str,
    *,
    customers: int,
    products: int,
    seed: int,
    as_of: datetime | None,
) -> tuple[DemoTenant, SampleStore]:
    """The tenant, its store connected as a merchant connects one (wc-auth against the sample store served like
    WooCommerce), the history by REST back-fill, a day of live webhooks, and a scheduled training round."""
    with progress.step("Creating the demo tenant and its owner's login"):
        tenant_id = create_demo_tenant()
        login = create_login_for_tenant(
            tenant_id,
            users=user_directory(),
            members=member_repository(),
            tenants=tenant_repository(),
            usage=plan_usage(),
        )
    with progress.step("Generating the sample luxury-fashion store"):
        store = generate_sample_store(
            products=products, customers=customers, seed=seed, as_of=as_of or datetime.now(UTC)
        )
    _print_store(store)
    tenant = _connect_store(store, tenant_id, login.tokens.access_token, api_url, webhook_api_url, progress)
    _train(progress)
    return tenant, store


def _connect_store(
    store: SampleStore, tenant_id: str, token: str, api_url: str, webhook_api_url: str, progress: Progress
) -> DemoTenant:
    """Connect, back-fill, then live: what a real store's first day with LuxeBrain looks like."""
    from luxebrain_dev.delivery import live_day, verify_ingested

    cut = (store.as_of - timedelta(days=1)).astimezone(UTC).replace(tzinfo=None).isoformat(timespec="seconds")
    history = SampleStore(
        as_of=store.as_of,
        products=store.products,
        variations=store.variations,
        customers=store.customers,
        orders=[order for order in store.orders if order["date_created_gmt"] < cut],
    )
    live_orders = [order for order in store.orders if order["date_created_gmt"] >= cut]
    fake = FakeWooCommerce(history)
    fake.start()
    # The callback and the webhooks' delivery URL: the ingest API, here on the local gateway.
    os.environ["LUXEBRAIN_INGEST_API_URL"] = webhook_api_url
    reset_settings()
    configured_settings.cache_clear()
    emit("\n== Connect: one click through WooCommerce's /wc-auth/v1/authorize, webhooks registered by LuxeBrain ==")
    with progress.step("Connecting the store (wc-auth: authorize, approve, keys posted to our callback)"):
        started = api_call(api_url, "POST", "/stores/connect", token, {"url": fake.url})
        location = _approve_in_store(started["authorize_url"])[1]
    store_id = started["store_id"]
    emit(f"Store {store_id} at {fake.url}: the store posted its keys to the callback, merchant sent to {location}")
    backfill = SqsEventSources(
        {"BackfillQueue": configured_settings().require("backfill_queue_url")}, functions={"IngestBackfillFunction"}
    )
    with progress.step("Registering webhooks and back-filling the history through the REST API"):
        backfill.drain(until_empty=True, max_seconds=1800)
    hooks = sorted(fake.webhooks.values(), key=lambda hook: hook.id)
    emit(f"{len(hooks)} webhooks created on the store, one per topic ({', '.join(h.topic for h in hooks[:4])}, ...)")
    emit(f"Back-fill: {_backfill_summary(tenant_id, store_id)}")
    emit("\n== A day of live activity by webhooks (duplicates, out-of-order updates, refunds, a disabled webhook) ==")
    with progress.step("Live webhooks"):
        day = live_day(fake, live_orders, tenant_id, store_id, backfill)
    emit(day.summary())
    check = verify_ingested(store, tenant_id)
    emit("Stored vs the store itself: " + ", ".join(f"{key} {value}" for key, value in check.items()))
    from luxebrain.adapters.aws import secrets_vault

    store_secrets = tenant_repo.get_store_secrets(tenant_id, store_id, vault=secrets_vault())
    secret = store_secrets.webhook_secret.get_secret_value()
    return DemoTenant(tenant_id, store_id, secret, fake)


def _approve_in_store(authorize_url: str) -> tuple[int, str]:
    """The merchant's browser on the store's approval page: open it, click Approve (the store then posts the keys
    to our callback and redirects back); returns the redirect's status and target."""
    import http.client
    import re
    from html import unescape
    from urllib.parse import urlsplit

    split = urlsplit(authorize_url)
    with urllib.request.urlopen(authorize_url, timeout=60) as page:  # noqa: S310 - the local fake store
        href = unescape(re.search(r'href="([^"]+)"', page.read().decode()).group(1))  # type: ignore[union-attr]
    connection = http.client.HTTPConnection(split.hostname or "127.0.0.1", split.port, timeout=120)
    try:
        connection.request("GET", href)
        response = connection.getresponse()
        response.read()
        if response.status != 302:
            raise LuxeBrainError(f"the store did not complete the connection ({response.status})")
        return response.status, response.getheader("Location", "")
    finally:
        connection.close()


def _backfill_summary(tenant_id: str, store_id: str) -> str:
    from luxebrain.ingest.backfill import backfill_status

    status = backfill_status(tenant_id, store_id, records=ingest_repository())
    parts = [
        f"{name} {item['items_done']}/{item['total_items']}"
        for name, item in status.items()
        if name != "_run" and item.get("total_items") is not None
    ]
    return ", ".join(parts) + " records (done / X-WP-Total)"


def _train(progress: Progress) -> None:
    from luxebrain_dev.scheduled_training import run_scheduled_training

    emit("\n== Training: schedule event -> dispatcher -> TrainQueue -> worker -> S3 artifacts ==")
    with progress.step("Scheduled training round"):
        report = run_scheduled_training(progress=progress.say)
    emit(report.summary())


def _show_results(api_url: str, token: str, store: SampleStore, output: Path, progress: Progress) -> None:
    emit("\n== Results, read through the API (local gateway -> API function) with a merchant's Cognito token ==")
    names = {str(p["id"]): html.unescape(p["name"]) for p in store.products}  # WooCommerce sends them escaped
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
    _show_price_what_if(get, forecasts, names)
    emit("\nInventory advice (21-day lead time, 95 % service level), most urgent first:")
    for advice in get("/inventory/advice?lead_time_days=21&service_level=0.95")["items"][:5]:
        emit(f"  {names.get(advice['product_id'], advice['product_id'])}: {advice['explanation']}")
    # The plot shows the whole quarter the forecast covers: over 4 weeks its bands hardly widen.
    quarters = {best: get(f"/forecasts/products/{best}?horizon_weeks=13")["forecast"] for best in forecasts}
    plot = _plot_forecasts(store, quarters, names, output)
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
    prices = get("/prices/suggestions?limit=5")
    if prices.get("serves") == "baseline":
        emit("  none: every price is kept (the model predicted its hold-out no better than ignoring price)")
    for suggestion in prices["suggestions"]:
        if suggestion.get("type") != "suggestion":
            continue
        emit(
            f"  {names.get(suggestion['product_id'], suggestion['product_id'])}: "
            f"{suggestion['current_price']:,.2f} -> {suggestion['suggested_price']:,.2f} {suggestion['currency']} "
            f"({suggestion['kind']}, confidence {suggestion['confidence']}): " + "; ".join(suggestion["reasons"])
        )


def _show_price_what_if(get: Callable[[str], Any], forecasts: dict[str, dict[str, Any]], names: dict[str, str]) -> None:
    """What the forecast says the top best seller would sell over 4 weeks at lower prices, down to the deepest
    markdown the store's history holds (learnt from its summer and winter sales), and 10 % above its price."""
    best, series = next(iter(forecasts.items()), (None, None))
    if best is None or series is None or "price" not in series["drivers"]:
        return
    price = series["drivers"]["price"]
    name = names.get(best, best)
    emit(
        f"\nWhat if this price? {name} over the next 4 weeks at {price['planned']:.2f}: "
        f"{sum(series['units_p50']):.1f} units; the history speaks for {price['lowest']:.2f} - {price['highest']:.2f}"
    )
    if price["lowest"] >= price["highest"]:
        return
    deepest, half = (round(price["planned"] - share * (price["planned"] - price["lowest"]), 2) for share in (1, 0.5))
    for asked in (deepest, half, round(1.1 * price["planned"], 2)):
        answer = get(f"/forecasts/products/{best}?horizon_weeks=4&price={asked}")["forecast"]
        driver = answer["drivers"]["price"]
        emit(
            f"  at {asked:.2f} ({asked / price['planned'] - 1:+.0%}): {sum(answer['units_p50']):.1f} units "
            f"(x{driver['demand_multiplier']:.2f}), revenue {sum(answer['revenue_p50']):.0f}"
            + ("  [beyond its price history: carried on at the elasticity it shows]" if driver["extrapolated"] else "")
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


DUE_CAMPAIGNS_EVERY_SECONDS = 10.0


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
    from luxebrain_dev.campaigns_demo import grant_demo_consent
    from luxebrain_dev.local.dashboard import DashboardServer
    from luxebrain_dev.local.schedules import LocalSchedule
    from luxebrain_dev.scheduled_training import TrainQueuePoller

    progress = Progress()
    ensure_port_free(api_port)
    ensure_port_free(dashboard_port)
    aws = EmbeddedAws(port=aws_port)
    with progress.step(f"Starting the embedded AWS on port {aws_port}"):
        resources = aws.start()
    _collect_garbage_less_often()
    _quiet_functions(verbose)
    gateway = LocalGateway(port=api_port)
    event_sources = None
    train_queue: TrainQueuePoller | None = None
    campaigns: LocalSchedule | None = None
    dashboard = None
    tenant: DemoTenant | None = None
    try:
        _print_resources(resources)
        api_url = gateway.start()
        dashboard = DashboardServer(api_url, port=dashboard_port)
        dashboard_url = dashboard.start()  # before the slow seeding: a missing build fails at once
        # WooCommerce's approval page returns the merchant here (any port, e.g. the end-to-end tests' free one).
        os.environ["LUXEBRAIN_DASHBOARD_URL"] = dashboard_url
        tenant, _ = _seed_demo_tenant(
            progress,
            api_url,
            gateway.url_of(WEBHOOK_API),
            customers=customers,
            products=products,
            seed=7,
            as_of=None,
        )
        grant_demo_consent(tenant.tenant_id)  # the sample store has none: campaigns need some (labelled demo data)
        login = create_login_for_tenant(
            tenant.tenant_id,
            users=user_directory(),
            members=member_repository(),
            tenants=tenant_repository(),
            usage=plan_usage(),
        )
        viewer = create_login_for_tenant(
            tenant.tenant_id,
            email="viewer@maison-demo.example",
            role=Role.READ_ONLY,
            users=user_directory(),
            members=member_repository(),
            tenants=tenant_repository(),
            usage=plan_usage(),
        )
        admin_email, admin_password = "admin@luxebrain.example", demo_password()
        create_platform_admin(admin_email, admin_password, users=user_directory(), members=member_repository())
        # From here on queues are consumed in the background, like Lambda's event source mappings.
        event_sources = SqsEventSources.from_resources(resources)
        event_sources.start()
        train_queue = TrainQueuePoller()
        train_queue.start()
        # The hourly schedule's due one-off campaigns, every few seconds here so that a campaign sent "now" goes
        # out while the merchant watches (the other flows' schedules are not run by the local stack).
        campaigns = LocalSchedule("CampaignFlowRunnerFunction", {"flows": ["campaigns"]}, DUE_CAMPAIGNS_EVERY_SECONDS)
        campaigns.start()
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
        if campaigns is not None:
            campaigns.stop()
        if train_queue is not None:
            train_queue.stop()
        if event_sources is not None:
            event_sources.stop()
        if dashboard is not None:
            dashboard.stop()
        if tenant is not None and tenant.fake_store is not None:
            tenant.fake_store.stop()
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

"""Flows: who should get which message now, and handing those messages to a dispatcher.

Each flow turns the tenant's data into candidates ``(customer, trigger, context)``; the runner assigns each
candidate to an arm (hold-out or a variant, deterministic), writes hold-out records (no message, but they
count for the flow's measured lift), skips triggers that already have a send record, and dispatches the rest.
A trigger names the business event (an order, a product change, a month), so rerunning a flow, or running it
twice at once, finds the same triggers and the send record's conditional write keeps each message single.

Flows: abandoned cart (WooCommerce ``checkout-draft`` / ``pending`` orders not followed by a purchase within a
window), welcome (new registered customer), post-purchase cross-sell, win-back (at-risk customers of the
customer model), back-in-stock and price-drop (products in a customer's recent carts or purchases).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from luxebrain.campaigns.abtest import HOLDOUT, Arm, assign
from luxebrain.campaigns.config import CampaignSettings, FlowSettings, load_campaign_settings
from luxebrain.campaigns.products import Catalog, load_catalog
from luxebrain.campaigns.sending import SendRequest, new_record
from luxebrain.campaigns.sources import CampaignSources, ServingModels
from luxebrain.errors import InvalidInputError
from luxebrain.observability import logger
from luxebrain.storage.campaigns import CampaignRecords, CampaignRepository, Consents, SendRecords
from luxebrain.storage.customers import CustomerRepository, Order

PRODUCT_WATCH_STATE = "product_watch"
PRICE_DROP_MIN_FRACTION = 0.05

# Per-flow defaults; a tenant's settings override them field by field.
FLOW_DEFAULTS: dict[str, dict[str, Any]] = {
    "abandoned_cart": {"delay_minutes": 60, "max_age_hours": 72, "conversion_window_days": 7},
    "welcome": {"delay_minutes": 30, "max_age_hours": 168, "conversion_window_days": 14},
    "post_purchase": {"delay_minutes": 3 * 24 * 60, "max_age_hours": 10 * 24, "conversion_window_days": 14},
    "win_back": {"delay_minutes": 0 + 5, "max_age_hours": 720, "conversion_window_days": 30},
    "back_in_stock": {"delay_minutes": 5, "max_age_hours": 90 * 24, "conversion_window_days": 7},
    "price_drop": {"delay_minutes": 5, "max_age_hours": 90 * 24, "conversion_window_days": 7},
}
RECOMMEND_MODE = {
    "abandoned_cart": "similar_to_context",
    "welcome": "for_customer",
    "post_purchase": "similar_to_context",
    "win_back": "for_customer",
    "campaign": "for_customer",
}


def flow_settings(settings: CampaignSettings, flow: str) -> FlowSettings:
    configured = settings.flows.get(flow)
    defaults = FlowSettings(**FLOW_DEFAULTS.get(flow, {}))
    if configured is None:
        return defaults
    # What the tenant changed from the generic defaults wins; the rest comes from this flow's defaults.
    generic = FlowSettings().model_dump()
    changed = {k: v for k, v in configured.model_dump().items() if v != generic[k]}
    return defaults.model_copy(update=changed)


@dataclass
class Candidate:
    customer_id: str
    trigger: str
    context: dict[str, Any]
    assigned_at: datetime


class Dispatcher(Protocol):
    def dispatch(self, request: SendRequest) -> None: ...
    def flush(self) -> None: ...


@dataclass
class FlowRunResult:
    flow: str
    candidates: int = 0
    dispatched: int = 0
    held_out: int = 0
    already_recorded: int = 0
    not_eligible: Counter[str] = field(default_factory=Counter)
    note: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "flow": self.flow,
            "candidates": self.candidates,
            "dispatched": self.dispatched,
            "held_out": self.held_out,
            "already_recorded": self.already_recorded,
            "not_eligible": dict(self.not_eligible),
            "note": self.note,
        }


# ----------------------------------------------------------------------------- shared data of one run
# The flows that read orders; each reads only those created within its max_age_hours before now.
ORDER_FLOWS = ("abandoned_cart", "post_purchase", "back_in_stock", "price_drop")


def orders_window_start(settings: CampaignSettings, flows: Iterable[str], now: datetime) -> str:
    """The creation date from which ``flows`` need the tenant's orders: the widest of their windows. (An
    abandoned cart is compared with the customer's purchases after it, which are inside its window too.)"""
    widest = max((flow_settings(settings, flow).max_age_hours for flow in flows if flow in ORDER_FLOWS), default=0)
    return _gmt(now - timedelta(hours=widest))


@dataclass
class RunData:
    """What several flows of one run read, loaded once: the tenant's live orders created since the start of
    the run's window (a date-bounded query of the by-date index, not the tenant's whole history)."""

    tenant_id: str
    orders: list[Order]

    @classmethod
    def load(cls, tenant_id: str, since_gmt: str, *, customers: CustomerRepository) -> RunData:
        return cls(tenant_id, list(customers.orders_created_since(tenant_id, since_gmt)))

    def last_purchase(self) -> dict[str, str]:
        latest: dict[str, str] = {}
        for order in self.orders:
            if order.status_class == "purchase" and order.created_gmt > latest.get(order.customer_id, ""):
                latest[order.customer_id] = order.created_gmt
        return latest


def _gmt(moment: datetime) -> str:
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="seconds")


def _parse_gmt(value: str) -> datetime:
    return datetime.fromisoformat(value).replace(tzinfo=UTC)


def _items(order: Order) -> list[dict[str, Any]]:
    """The lines a message shows: what the customer kept (net of refunds; a returned line is not shown),
    quantities as bought (1.5 kg stays 1.5)."""
    return [
        {
            "product_id": line.product_id,
            "name": line.name or f"Product {line.product_id}",
            "quantity": _shown_quantity(line.kept_quantity()),
            "total": line.kept_total(),
        }
        for line in order.line_items
        if line.kept_quantity() > 0
    ]


def _shown_quantity(quantity: float) -> int | float:
    return int(quantity) if float(quantity).is_integer() else round(quantity, 3)


# ----------------------------------------------------------------------------- the flows' triggers
def abandoned_cart_candidates(data: RunData, flow: FlowSettings, now: datetime, catalog: Catalog) -> list[Candidate]:
    newest = _gmt(now - timedelta(minutes=flow.delay_minutes))
    oldest = _gmt(now - timedelta(hours=flow.max_age_hours))
    purchases = data.last_purchase()
    latest_cart: dict[str, Order] = {}
    for order in data.orders:
        if order.status_class != "cart" or not order.line_items or order.customer_id == "guest:anonymous":
            continue
        if not oldest <= order.created_gmt <= newest:
            continue
        if purchases.get(order.customer_id, "") >= order.created_gmt:
            continue  # bought after leaving the cart: not abandoned
        current = latest_cart.get(order.customer_id)
        if current is None or order.created_gmt > current.created_gmt:
            latest_cart[order.customer_id] = order
    store_url = catalog.store_url.rstrip("/")
    return [
        Candidate(
            customer_id,
            f"order-{order.order_id}",
            {
                "order_id": order.order_id,
                "product_ids": [line.product_id for line in order.line_items],
                "cart": {"lines": _items(order), "currency": order.currency, "url": f"{store_url}/cart/"},
            },
            _parse_gmt(order.created_gmt) + timedelta(minutes=flow.delay_minutes),
        )
        for customer_id, order in sorted(latest_cart.items())
    ]


def welcome_candidates(
    tenant_id: str, flow: FlowSettings, now: datetime, *, customers: CustomerRepository
) -> list[Candidate]:
    newest = _gmt(now - timedelta(minutes=flow.delay_minutes))
    oldest = _gmt(now - timedelta(hours=flow.max_age_hours))
    return [
        Candidate(customer.customer_id, "welcome-1", {}, now)
        for customer in customers.iter_customers(tenant_id)
        if not customer.deleted
        and not customer.customer_id.startswith("guest:")
        and oldest <= customer.created_gmt <= newest
    ]


def post_purchase_candidates(data: RunData, flow: FlowSettings, now: datetime) -> list[Candidate]:
    newest = _gmt(now - timedelta(minutes=flow.delay_minutes))
    oldest = _gmt(now - timedelta(hours=flow.max_age_hours))
    latest: dict[str, Order] = {}
    for order in data.orders:
        if order.status_class != "purchase" or not order.line_items or not oldest <= order.created_gmt <= newest:
            continue
        if order.customer_id not in latest or order.created_gmt > latest[order.customer_id].created_gmt:
            latest[order.customer_id] = order
    return [
        Candidate(
            customer_id,
            f"order-{order.order_id}",
            {
                "order_id": order.order_id,
                "product_ids": [line.product_id for line in order.line_items],
                "order": {"first_item": order.line_items[0].name or "order", "lines": _items(order)},
            },
            now,
        )
        for customer_id, order in sorted(latest.items())
        if customer_id != "guest:anonymous"
    ]


def win_back_candidates(
    tenant_id: str, now: datetime, *, models: ServingModels, limit: int = 1000
) -> tuple[list[Candidate], str | None]:
    """The customer model's at-risk customers, one trigger per month; none (and why) without a model."""
    try:
        scores, _ = models.current_serving(tenant_id, "customers")
    except Exception as exc:
        return [], f"no customer model ({type(exc).__name__}: {exc})"
    month = now.strftime("%Y-%m")
    rows = scores.at_risk(limit=limit)
    return [Candidate(row["customer_id"], f"winback-{month}", {}, now) for row in rows], None


def product_change_candidates(
    tenant_id: str,
    data: RunData,
    catalog: Catalog,
    now: datetime,
    max_age_hours: int,
    *,
    campaigns: CampaignRecords,
) -> tuple[list[Candidate], list[Candidate], str | None]:
    """Back-in-stock and price-drop candidates since the last run's snapshot; the snapshot is then updated."""
    state = campaigns.get_campaign_state(tenant_id, PRODUCT_WATCH_STATE)
    previous: dict[str, list[Any]] = dict(state.state.get("products", {})) if state is not None else {}
    current = {pid: [p.in_stock, p.price] for pid, p in catalog.products.items()}
    note = None if state is not None else "first run: product snapshot taken, changes are found from the next run"
    restocked, dropped = set(), {}
    for pid, (in_stock, price) in current.items():
        if pid not in previous:
            continue
        was_in_stock, old_price = previous[pid]
        if in_stock and not was_in_stock:
            restocked.add(pid)
        if in_stock and price and old_price and price <= old_price * (1 - PRICE_DROP_MIN_FRACTION):
            dropped[pid] = old_price
    interested: dict[str, set[str]] = {}
    oldest = _gmt(now - timedelta(hours=max_age_hours))
    for order in data.orders:
        if order.status_class in ("cart", "purchase") and order.created_gmt >= oldest:
            for line in order.line_items:
                interested.setdefault(line.product_id, set()).add(order.customer_id)
    day = now.strftime("%Y%m%d")
    back: list[Candidate] = []
    drop: list[Candidate] = []
    for pid in sorted(restocked):
        context = {"product_id": pid, "product": catalog.products[pid].as_context(catalog.store_url)}
        back += [Candidate(c, f"{pid}-{day}", context, now) for c in sorted(interested.get(pid, ()))]
    for pid, old_price in sorted(dropped.items()):
        product = {**catalog.products[pid].as_context(catalog.store_url), "previous_price": old_price}
        context = {"product_id": pid, "product": product}
        drop += [Candidate(c, f"{pid}-{day}", context, now) for c in sorted(interested.get(pid, ()))]
    campaigns.put_campaign_state(tenant_id, PRODUCT_WATCH_STATE, {"products": current, "at": now.isoformat()})
    return back, drop, note


# ----------------------------------------------------------------------------- the runner
def existing_send_keys(
    tenant_id: str, flow: str, candidates: list[Candidate], *, campaigns: SendRecords
) -> set[tuple[str, str]]:
    """Which candidates (customer id, trigger) already have a send record."""
    return campaigns.recorded_sends(tenant_id, flow, [(c.customer_id, c.trigger) for c in candidates])


def consent_map(tenant_id: str, customer_ids: Iterable[str], channel: str, *, campaigns: Consents) -> dict[str, bool]:
    return campaigns.consent_grants(tenant_id, customer_ids, channel)


def dispatch_candidates(
    tenant_id: str,
    flow: str,
    flow_kind: str,
    candidates: list[Candidate],
    settings: CampaignSettings,
    flow_config: FlowSettings,
    dispatcher: Dispatcher,
    *,
    campaigns: CampaignRepository,
    template: dict[str, str] | None = None,
    result: FlowRunResult | None = None,
) -> FlowRunResult:
    result = result or FlowRunResult(flow)
    result.candidates += len(candidates)
    if not candidates:
        return result
    existing = existing_send_keys(tenant_id, flow, candidates, campaigns=campaigns)
    # Only customers who may be messaged enter the test, so hold-out and treatment are alike (fair lift).
    channel = flow_config.channel
    consents = consent_map(tenant_id, (c.customer_id for c in candidates), channel, campaigns=campaigns)
    soft = channel == "email" and settings.email_consent_rule == "soft_opt_in"
    variants = [Arm(name) for name in sorted(flow_config.variants)] or [Arm("default")]
    for candidate in candidates:
        if (candidate.customer_id, candidate.trigger) in existing:
            result.already_recorded += 1
            continue
        granted = consents.get(candidate.customer_id)
        if granted is False or (granted is None and not soft):
            result.not_eligible["no consent" if granted is None else "consent withdrawn"] += 1
            continue
        arm = assign(tenant_id, flow, candidate.customer_id, variants, holdout_fraction=flow_config.holdout_fraction)
        request = SendRequest(
            tenant_id=tenant_id,
            flow=flow,
            flow_kind=flow_kind,
            customer_id=candidate.customer_id,
            trigger=candidate.trigger,
            channel=channel,
            test_id=flow,
            variant=arm,
            assigned_at=candidate.assigned_at,
            context=candidate.context,
            template={**(template or {}), **flow_config.variants.get(arm, {})},
            recommend=RECOMMEND_MODE.get(flow_kind, "none"),
        )
        if arm == HOLDOUT:
            if campaigns.create_send_record(new_record(request, "held_out", candidate.assigned_at)):
                result.held_out += 1
            else:
                result.already_recorded += 1
            continue
        dispatcher.dispatch(request)
        result.dispatched += 1
    dispatcher.flush()
    return result


def run_flow(
    tenant_id: str,
    flow: str,
    now: datetime,
    dispatcher: Dispatcher,
    *,
    sources: CampaignSources,
    data: RunData | None = None,
    settings: CampaignSettings | None = None,
) -> list[FlowRunResult]:
    """Run one flow for one tenant (back_in_stock and price_drop run together: one snapshot), reading and
    recording through ``sources``."""
    campaigns, customers = sources.campaigns, sources.customers
    settings = settings or load_campaign_settings(tenant_id, tenants=sources.tenants)
    config = flow_settings(settings, flow)
    if not config.enabled:
        return [FlowRunResult(flow, note="disabled")]
    catalog = load_catalog(tenant_id, tenants=sources.tenants, catalogue=sources.catalogue, fresh=True)
    if flow == "abandoned_cart":
        data = data or RunData.load(tenant_id, orders_window_start(settings, [flow], now), customers=customers)
        candidates = abandoned_cart_candidates(data, config, now, catalog)
        return [_run(tenant_id, flow, candidates, settings, config, dispatcher, campaigns=campaigns)]
    if flow == "welcome":
        candidates = welcome_candidates(tenant_id, config, now, customers=customers)
        return [_run(tenant_id, flow, candidates, settings, config, dispatcher, campaigns=campaigns)]
    if flow == "post_purchase":
        data = data or RunData.load(tenant_id, orders_window_start(settings, [flow], now), customers=customers)
        candidates = post_purchase_candidates(data, config, now)
        return [_run(tenant_id, flow, candidates, settings, config, dispatcher, campaigns=campaigns)]
    if flow == "win_back":
        candidates, note = win_back_candidates(tenant_id, now, models=sources.models)
        result = _run(tenant_id, flow, candidates, settings, config, dispatcher, campaigns=campaigns)
        result.note = note
        return [result]
    if flow in ("back_in_stock", "price_drop"):
        data = data or RunData.load(tenant_id, orders_window_start(settings, [flow], now), customers=customers)
        back, drop, note = product_change_candidates(
            tenant_id, data, catalog, now, config.max_age_hours, campaigns=campaigns
        )
        results = []
        for name, candidates in (("back_in_stock", back), ("price_drop", drop)):
            flow_config = flow_settings(settings, name)
            result = (
                _run(tenant_id, name, candidates, settings, flow_config, dispatcher, campaigns=campaigns)
                if flow_config.enabled
                else FlowRunResult(name, note="disabled")
            )
            result.note = result.note or note
            results.append(result)
        return results
    raise InvalidInputError(f"unknown flow {flow!r}")


def _run(
    tenant_id: str,
    flow: str,
    candidates: list[Candidate],
    settings: CampaignSettings,
    config: FlowSettings,
    dispatcher: Dispatcher,
    *,
    campaigns: CampaignRepository,
) -> FlowRunResult:
    result = dispatch_candidates(tenant_id, flow, flow, candidates, settings, config, dispatcher, campaigns=campaigns)
    logger.info("campaign flow run", extra={"tenant_id": tenant_id, **result.as_dict()})
    return result


def run_flows(
    tenant_id: str,
    flows: Iterable[str],
    now: datetime,
    dispatcher: Dispatcher,
    *,
    sources: CampaignSources,
) -> Iterator[FlowRunResult]:
    """Several flows of one tenant, reading the orders of their widest window once."""
    settings = load_campaign_settings(tenant_id, tenants=sources.tenants)
    flows = list(flows)
    data: RunData | None = None
    done: set[str] = set()
    for flow in flows:
        if flow in done:
            continue
        if flow in ORDER_FLOWS and data is None:
            data = RunData.load(tenant_id, orders_window_start(settings, flows, now), customers=sources.customers)
        results = run_flow(tenant_id, flow, now, dispatcher, sources=sources, data=data, settings=settings)
        done.update(r.flow for r in results)
        yield from results

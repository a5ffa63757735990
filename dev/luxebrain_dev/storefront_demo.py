"""The demo's storefront step: recommendations placed on a served mock product page, a day of simulated visitors
with the hold-out, orders attributed through ingest, and the placement results read through the API.

The page is the shop's: a local page server plays the store's domain, the fake WooCommerce answers its Store API,
and the widget (integrations/widget) fills the slot in Debian's headless Chromium when it is installed (else the
step says so and renders the slot the way the widget does, from the same two calls). Visitors' events go through
the same domain code as ``POST /events`` (the day's first batch through the route itself, with the key from the
shop's origin); their orders go through ingest's processor with the attribution meta the WordPress plugin writes
at checkout.
"""

from __future__ import annotations

import base64
import json
import random
import shutil
import subprocess
import threading
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

from luxebrain.auth.storefront import issue_storefront_key
from luxebrain.billing.usage import plan_usage
from luxebrain.campaigns.abtest import HOLDOUT
from luxebrain.ingest import processor
from luxebrain.ingest.envelope import IngestEnvelope, utc_now_iso
from luxebrain.storage import tenants as tenant_repo
from luxebrain.storage.catalogue import catalogue_repository
from luxebrain.storage.ingest import ingest_repository
from luxebrain.storage.members import member_repository
from luxebrain.storage.storefront import storefront_repository
from luxebrain.storefront.events import StorefrontEventBatch, record_events
from luxebrain.storefront.holdout import TREATMENT, holdout_share_of, visitor_arm
from luxebrain.storefront.results import placement_results
from luxebrain_dev.delivery import wp_json_encode
from luxebrain_dev.local.fake_woocommerce import FakeWooCommerce
from luxebrain_dev.local.functions import LoopbackHTTPServer
from luxebrain_dev.sample_store import SampleStore

WIDGET = Path(__file__).resolve().parents[2] / "integrations" / "widget" / "luxebrain-widget.js"
PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{name}</title></head>
<body class="single-product woocommerce"><h1 class="product_title">{name}</h1>
<div data-luxebrain-placement="related" data-product-id="{product_id}" data-k="4"></div>
<script async src="/luxebrain-widget.js" data-api="{api}" data-key="{key}" data-store-api="{store_api}"></script>
</body></html>"""


def _get_json(url: str, headers: dict[str, str]) -> Any:
    request = urllib.request.Request(url, headers=headers)  # noqa: S310 - loopback only
    with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310 - loopback only
        return json.loads(response.read())


def run_storefront_demo(
    api_url: str,
    tenant_id: str,
    store: SampleStore,
    emit: Callable[..., None],
    *,
    store_id: str = "s-maison-demo",
    visitors: int = 500,
    seed: int = 16,
) -> dict[str, Any]:
    emit("\n== Storefront: the widget on a served product page, a day of visitors with a 5 % hold-out ==")
    fake_store = FakeWooCommerce(store)
    store_url = fake_store.start()
    key = issue_storefront_key(tenant_id, keys=member_repository()).key
    best = max(store.products, key=lambda p: len(p.get("categories", [])) + (p["id"] % 7 == 0))
    pages: dict[str, bytes] = {"/luxebrain-widget.js": WIDGET.read_bytes()}

    class PageHandler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            return

        def do_GET(self) -> None:
            body = pages.get(self.path.split("?")[0], b"<!doctype html><title>shop</title>")
            kind = "application/javascript" if self.path.endswith(".js") else "text/html; charset=utf-8"
            self.send_response(200)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    page_server = LoopbackHTTPServer(("127.0.0.1", 0), PageHandler)
    threading.Thread(target=page_server.serve_forever, daemon=True).start()
    page_origin = f"http://127.0.0.1:{page_server.server_address[1]}"
    tenant_repo.update_tenant_settings(tenant_id, lambda current: {**current, "storefront_origins": [page_origin]})
    path = f"/product/{best['slug']}/"
    pages[path] = PAGE.format(
        name=best["name"],
        product_id=best["id"],
        api=api_url,
        key=key,
        store_api=f"{store_url}/wp-json/wc/store/v1",
    ).encode()
    try:
        _show_page(page_origin + path, api_url, key, store_url, best, emit)
        _simulate_day(
            tenant_id,
            store_id,
            store,
            api_url=api_url,
            key=key,
            origin=page_origin,
            visitors=visitors,
            seed=seed,
            emit=emit,
        )
        results = placement_results(
            tenant_id, tenants=tenant_repo.tenant_repository(), storefront=storefront_repository(), days=1
        )
    finally:
        page_server.shutdown()
        page_server.server_close()
        fake_store.stop()
    _print_results(results, emit)
    return results


def _show_page(url: str, api_url: str, key: str, store_url: str, product: dict[str, Any], emit: Callable) -> None:
    chromium = shutil.which("chromium")
    emit(f"Mock product page {url} ({product['name']}), widget slot 'related'")
    if chromium:
        dom = subprocess.run(  # noqa: S603 - the system's chromium on a loopback page
            [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--virtual-time-budget=15000", "--dump-dom", url],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        ).stdout
        names = [part.split("</span>")[0] for part in dom.split('class="luxebrain-product-name">')[1:]]
        prices = [part.split("</span>")[0] for part in dom.split('class="luxebrain-product-price">')[1:]]
        if names:
            emit(f"  headless Chromium: the widget filled the slot with {len(names)} products from the Store API:")
            for name, price in zip(names, prices, strict=False):
                emit(f"    {name}  {price}")
            return
        emit("  headless Chromium did not fill the slot in time; the same two calls, made here:")
    else:
        emit("  (chromium is not installed: `make browser-tools`; the widget's two calls, made here instead)")
    answer = _get_json(
        f"{api_url}/recommendations/similar?product_id={product['id']}&k=4",
        {"X-Storefront-Key": key, "Origin": url.split("/product/")[0]},
    )
    ids = ",".join(item["product_id"] for item in answer["items"])
    for card in _get_json(f"{store_url}/wp-json/wc/store/v1/products?include={ids}&orderby=include", {}):
        price = int(card["prices"]["price"]) / 100
        emit(f"    {card['name']}  {price:,.2f} {card['prices']['currency_code']}")


# A simulated visitor's day, at rates of the order public e-commerce figures give: a recommendation slot is
# clicked on a few percent of the page views that show it, about one visitor in twenty fills a cart with no help,
# seven carts in ten are abandoned, and a quarter of visitors come back the same day for another page view.
# Personal picks (treatment) do a little better than the hold-out's popular products: the effect the placement
# results should recover in time.
@dataclass(frozen=True)
class Behaviour:
    click: float  # a recommended product's link, per page view showing the slot
    card_add_to_cart: float  # the add-to-cart button of a recommended card, per page view with no click
    basket_add_to_cart: float  # a "goes with your basket" card added, per cart page view


BEHAVIOUR = {
    TREATMENT: Behaviour(click=0.07, card_add_to_cart=0.015, basket_add_to_cart=0.05),
    HOLDOUT: Behaviour(click=0.045, card_add_to_cart=0.01, basket_add_to_cart=0.03),
}
CLICKED_PRODUCT_CARTED = 0.3  # added to the cart from the clicked product's own page (not a widget event)
OWN_CART = 0.05  # visitors who put a product of their own choosing in the cart
CHECKOUT = 0.3  # carts that become orders
RETURNING = 0.25  # visitors who come back for a second page view
RELATED_SHOWN, BASKET_SHOWN = 4, 3
BATCHES_OVER_HTTP = 1


@dataclass
class Visitor:
    """One simulated browser: the widget's random visitor id, its arm, and what it did on the shop's pages."""

    visitor_id: str
    arm: str
    source: str
    cart: list[str] = field(default_factory=list)
    last_click: dict[str, str] | None = None  # the plugin's attribution meta: the last clicked placement


@dataclass
class DayTotals:
    visitors: int = 0
    held_out: int = 0
    returning: int = 0
    batches: int = 0
    clicks: int = 0
    add_to_carts: int = 0
    orders: int = 0
    orders_after_a_click: int = 0


class EventSender:
    """Sends a visitor's batch as the widget would: the first one of the day over HTTP (``POST /events`` with
    the storefront key from the shop's origin, the browser's path), the others straight to the same domain code
    (a few hundred requests through the local gateway would only add its time)."""

    def __init__(self, tenant_id: str, api_url: str, key: str, origin: str, totals: DayTotals) -> None:
        self.tenant_id, self.api_url, self.key, self.origin, self.totals = tenant_id, api_url, key, origin, totals
        self.over_http = 0

    def send(self, visitor: Visitor, events: list[dict[str, Any]]) -> None:
        batch = StorefrontEventBatch(visitor_id=visitor.visitor_id, events=events)
        self.totals.batches += 1
        if self.over_http >= BATCHES_OVER_HTTP:
            record_events(
                self.tenant_id,
                batch,
                source=visitor.source,
                catalogue=catalogue_repository(),
                tenants=tenant_repo.tenant_repository(),
                storefront=storefront_repository(),
                usage=plan_usage(),
            )
            return
        request = urllib.request.Request(  # noqa: S310 - loopback only
            f"{self.api_url}/events",
            data=batch.model_dump_json(exclude_none=True).encode(),
            headers={"Content-Type": "application/json", "X-Storefront-Key": self.key, "Origin": self.origin},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310 - loopback only
            answer = json.loads(response.read())
        if answer.get("accepted") != len(events):
            raise RuntimeError(f"POST /events accepted {answer} of {len(events)} events")
        self.over_http += 1


def _simulate_day(
    tenant_id: str,
    store_id: str,
    store: SampleStore,
    *,
    api_url: str,
    key: str,
    origin: str,
    visitors: int,
    seed: int,
    emit: Callable,
) -> DayTotals:
    """Visitors see the placements on product pages; some click, some add to the cart from a card or from the
    clicked product's page, a cart page shows the basket placement, some carts become orders (through ingest,
    with the plugin's attribution meta), and some visitors come back for a second page view. Seeded: the same
    visitors, events and orders every run."""
    rng = random.Random(seed)
    share = holdout_share_of(tenant_repo.get_tenant(tenant_id).settings)
    products = {str(p["id"]): p for p in store.products if p.get("status", "publish") == "publish"}
    product_ids = list(products)
    totals = DayTotals(visitors=visitors)
    sender = EventSender(tenant_id, api_url, key, origin, totals)
    for number in range(visitors):
        visitor_id = base64.urlsafe_b64encode(rng.randbytes(16)).rstrip(b"=").decode()
        visitor = Visitor(
            visitor_id, visitor_arm(tenant_id, visitor_id, share), f"10.16.{number // 256}.{number % 256}"
        )
        totals.held_out += visitor.arm == HOLDOUT
        behaviour = BEHAVIOUR[visitor.arm]
        page_views = 2 if rng.random() < RETURNING else 1
        totals.returning += page_views - 1
        for _ in range(page_views):
            _product_page_view(visitor, behaviour, rng, product_ids, sender)
        if rng.random() < OWN_CART:
            visitor.cart.append(rng.choice(product_ids))
        if not visitor.cart:
            continue
        _cart_page_view(visitor, behaviour, rng, product_ids, sender)
        if rng.random() < CHECKOUT:
            totals.orders += 1
            totals.orders_after_a_click += visitor.last_click is not None
            order_id = 900_000 + number
            _ingest_order(tenant_id, store_id, store.orders[0], order_id, visitor, [products[p] for p in visitor.cart])
    emit(
        f"{visitors} visitors ({totals.held_out} held out, {totals.returning} back for a second page view): "
        f"{totals.batches} event batches ({sender.over_http} over HTTP with the key and the shop's origin), "
        f"{totals.clicks} clicks, {totals.add_to_carts} add-to-carts from a card, {totals.orders} orders "
        f"({totals.orders_after_a_click} after a click or add-to-cart) with the plugin's attribution meta "
        "through ingest"
    )
    return totals


def _product_page_view(
    visitor: Visitor, behaviour: Behaviour, rng: random.Random, product_ids: list[str], sender: EventSender
) -> None:
    """A product page with the related slot: its impression (the widget's first beacon), then at most one of a
    click on a card's link or its add-to-cart button (each beaconed at once, as the widget does)."""
    answer = _answer(rng)
    shown = rng.sample(product_ids, RELATED_SHOWN)
    sender.send(visitor, [_event(rng, "impression", "related", shown, answer)])
    if rng.random() < behaviour.click:
        clicked = rng.choice(shown)
        sender.send(visitor, [_event(rng, "click", "related", [clicked], answer)])
        sender.totals.clicks += 1
        visitor.last_click = {"placement": "related", **answer}
        if rng.random() < CLICKED_PRODUCT_CARTED:
            visitor.cart.append(clicked)
    elif rng.random() < behaviour.card_add_to_cart:
        _add_to_cart_from_card(visitor, rng, "related", shown, answer, sender)


def _cart_page_view(
    visitor: Visitor, behaviour: Behaviour, rng: random.Random, product_ids: list[str], sender: EventSender
) -> None:
    answer = _answer(rng)
    others = [product_id for product_id in product_ids if product_id not in visitor.cart]
    shown = rng.sample(others, BASKET_SHOWN)
    sender.send(visitor, [_event(rng, "impression", "basket", shown, answer)])
    if rng.random() < behaviour.basket_add_to_cart:
        _add_to_cart_from_card(visitor, rng, "basket", shown, answer, sender)


def _add_to_cart_from_card(
    visitor: Visitor,
    rng: random.Random,
    placement: str,
    shown: list[str],
    answer: dict[str, str],
    sender: EventSender,
) -> None:
    product_id = rng.choice(shown)
    sender.send(visitor, [_event(rng, "add_to_cart", placement, [product_id], answer)])
    sender.totals.add_to_carts += 1
    visitor.cart.append(product_id)
    visitor.last_click = {"placement": placement, **answer}  # the widget's click cookie is written on both


def _answer(rng: random.Random) -> dict[str, str]:
    """What a recommendation call returns beside the products: its model version and a response id."""
    return {"model_version": "demo", "response_id": f"{rng.getrandbits(48):012x}"}


def _event(
    rng: random.Random, kind: str, placement: str, product_ids: list[str], answer: dict[str, str]
) -> dict[str, Any]:
    return {
        "id": f"{rng.getrandbits(128):032x}",
        "type": kind,
        "placement": placement,
        "product_ids": product_ids,
        **answer,
    }


def _ingest_order(
    tenant_id: str,
    store_id: str,
    template: dict[str, Any],
    order_id: int,
    visitor: Visitor,
    cart: list[dict[str, Any]],
) -> None:
    """The visitor's cart as a WooCommerce order, with the meta the plugin writes at checkout: the visitor id,
    and the last clicked placement when there was one."""
    order = json.loads(json.dumps(template))
    now = datetime.now(UTC).replace(tzinfo=None).isoformat(timespec="seconds")
    lines = [_order_line(order["line_items"][0], order_id * 10 + n, product) for n, product in enumerate(cart)]
    total = sum(float(line["total"]) for line in lines)
    order.update(id=order_id, status="processing", date_created_gmt=now, date_modified_gmt=now, refunds=[])
    order.update(line_items=lines, total=f"{total:.2f}", coupon_lines=[], shipping_lines=[], fee_lines=[])
    order["meta_data"] = [{"id": 1, "key": "_luxebrain_visitor", "value": visitor.visitor_id}]
    if visitor.last_click:
        order["meta_data"].append({"id": 2, "key": "_luxebrain_attribution", "value": visitor.last_click})
    envelope = IngestEnvelope(
        tenant_id=tenant_id,
        store_id=store_id,
        resource="order",
        event="created",
        topic="order.created",
        body=wp_json_encode(order).decode(),
        received_at=utc_now_iso(),
    )
    processor.process_envelope(
        envelope,
        event_id=uuid.uuid4().hex,
        refunds=_no_refunds,
        records=ingest_repository(),
        usage=plan_usage(),
        storefront=storefront_repository(),
    )


def _no_refunds(tenant_id: str, store_id: str, order_id: int) -> list[dict[str, Any]]:
    """The refunds lookup of the demo's orders, which are placed without refunds: never asked."""
    raise RuntimeError(f"order {order_id}: the demo's orders carry no refunds to look up")


def _order_line(template: dict[str, Any], line_id: int, product: dict[str, Any]) -> dict[str, Any]:
    price = float(product.get("price") or template.get("total") or 100)
    return {
        **template,
        "id": line_id,
        "name": product["name"],
        "product_id": int(product["id"]),
        "variation_id": 0,
        "quantity": 1,
        "subtotal": f"{price:.2f}",
        "total": f"{price:.2f}",
        "price": price,
        "sku": product.get("sku", ""),
        "refunds": [],
    }


def _print_results(results: dict[str, Any], emit: Callable) -> None:
    emit(
        f"Placement results (today; hold-out {results['holdout_share']:.0%}, clicks and card add-to-carts "
        f"attributed within {results['click_window_days']} days, revenue per exposed visitor within "
        f"{results['exposure_window_days']}):"
    )
    for row in results["placements"]:
        low, high = row["caused_revenue_interval"]
        arms = ", ".join(
            f"{arm['arm']} {arm['visitors']} visitors {arm['revenue_per_visitor']:.2f}/visitor" for arm in row["arms"]
        )
        emit(
            f"  {row['placement']:<8} shown {row['shown']}, CTR {row['click_through_rate']:.1%}, "
            f"add-to-cart {row['add_to_cart_rate']:.1%}, attributed revenue {row['attributed_revenue']:,.2f}; {arms}"
        )
        emit(
            f"           caused revenue {row['caused_revenue']:,.2f} (always-valid 95 % interval {low:,.0f} .. "
            f"{high:,.0f}): {row['decision']} - {row['reason']}"
        )

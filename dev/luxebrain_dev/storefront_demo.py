"""The demo's storefront step: recommendations placed on a served mock product page, a day of simulated visitors
with the hold-out, orders attributed through ingest, and the placement results read through the API.

The page is the shop's: a local page server plays the store's domain, the fake WooCommerce answers its Store API,
and the widget (integrations/widget) fills the slot in Debian's headless Chromium when it is installed (else the
step says so and renders the slot the way the widget does, from the same two calls). Visitors' events go through
the same domain code as ``POST /events``; their orders go through ingest's processor with the attribution meta
the WordPress plugin writes at checkout.
"""

from __future__ import annotations

import json
import random
import secrets
import shutil
import subprocess
import threading
import urllib.request
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

from luxebrain.auth.storefront import issue_storefront_key
from luxebrain.campaigns.abtest import HOLDOUT
from luxebrain.ingest import processor
from luxebrain.ingest.envelope import IngestEnvelope, utc_now_iso
from luxebrain.storage import tenants as tenant_repo
from luxebrain.storefront.events import StorefrontEventBatch, record_events
from luxebrain.storefront.holdout import holdout_share_of, visitor_arm
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
    visitors: int = 600,
    seed: int = 16,
) -> dict[str, Any]:
    emit("\n== Storefront: the widget on a served product page, a day of visitors with a 5 % hold-out ==")
    fake_store = FakeWooCommerce(store)
    store_url = fake_store.start()
    key = issue_storefront_key(tenant_id).key
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
        _simulate_day(tenant_id, store_id, store, visitors=visitors, seed=seed, emit=emit)
        results = placement_results(tenant_id, days=1)
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


def _simulate_day(
    tenant_id: str, store_id: str, store: SampleStore, *, visitors: int, seed: int, emit: Callable
) -> None:
    """Visitors see the placements, some click and buy; personal picks convert a little better than the
    hold-out's popular products (the simulation's assumption, which the results should recover in time)."""
    rng = random.Random(seed)
    share = holdout_share_of(tenant_repo.get_tenant(tenant_id).settings)
    product_ids = [str(p["id"]) for p in store.products if p.get("status", "publish") == "publish"]
    template = store.orders[0]
    orders = held = 0
    for number in range(visitors):
        visitor_id = secrets.token_urlsafe(16)
        arm = visitor_arm(tenant_id, visitor_id, share)
        held += arm == HOLDOUT
        shown = rng.sample(product_ids, 4)
        events = [_event("impression", "related", shown)]
        clicked = rng.random() < (0.12 if arm != HOLDOUT else 0.08)
        if clicked:
            events.append(_event("click", "related", shown[:1]))
        if rng.random() < 0.5:
            events.append(_event("impression", "basket", rng.sample(product_ids, 3)))
        batch = StorefrontEventBatch(visitor_id=visitor_id, events=events)
        record_events(tenant_id, batch, source=f"10.16.{number // 256}.{number % 256}")
        if rng.random() < (0.05 if clicked else 0.02):
            orders += 1
            bought = shown[0] if clicked else rng.choice(product_ids)
            _ingest_order(tenant_id, store_id, template, 900_000 + number, visitor_id, bought)
    emit(f"{visitors} visitors ({held} held out), {orders} orders with the plugin's attribution meta through ingest")


def _event(kind: str, placement: str, product_ids: list[str]) -> Any:
    return {
        "id": uuid.uuid4().hex,
        "type": kind,
        "placement": placement,
        "product_ids": product_ids,
        "model_version": "demo",
        "response_id": secrets.token_hex(6),
    }


def _ingest_order(
    tenant_id: str, store_id: str, template: dict[str, Any], order_id: int, visitor_id: str, product_id: str
) -> None:
    order = json.loads(json.dumps(template))
    now = datetime.now(UTC).replace(tzinfo=None).isoformat(timespec="seconds")
    line = {**order["line_items"][0], "product_id": int(product_id), "variation_id": 0, "refunds": []}
    total = float(line.get("total") or 100)
    order.update(id=order_id, status="processing", date_created_gmt=now, date_modified_gmt=now, refunds=[])
    order.update(line_items=[line], total=f"{total:.2f}", coupon_lines=[], shipping_lines=[], fee_lines=[])
    order["meta_data"] = [
        {"id": 1, "key": "_luxebrain_visitor", "value": visitor_id},
        {"id": 2, "key": "_luxebrain_attribution", "value": {"placement": "related", "model_version": "demo"}},
    ]
    envelope = IngestEnvelope(
        tenant_id=tenant_id,
        store_id=store_id,
        resource="order",
        event="created",
        topic="order.created",
        body=wp_json_encode(order).decode(),
        received_at=utc_now_iso(),
    )
    processor.process_envelope(envelope, event_id=uuid.uuid4().hex)


def _print_results(results: dict[str, Any], emit: Callable) -> None:
    emit(
        f"Placement results (today; hold-out {results['holdout_share']:.0%}, clicks attributed within "
        f"{results['click_window_days']} days, revenue per exposed visitor within {results['exposure_window_days']}):"
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

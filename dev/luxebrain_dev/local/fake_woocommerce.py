"""A small local server that answers like WooCommerce's REST API v3, serving a SampleStore.

What it reproduces: ``/wp-json/wc/v3/{products, products/<id>/variations, customers, orders, coupons}``;
``per_page`` (max 100) / ``page`` with ``X-WP-Total`` and ``X-WP-TotalPages``; ``orderby`` / ``order``;
``modified_after`` with ``dates_are_gmt`` for products and orders (customers have no such filter, as in
WooCommerce); authentication by HTTP Basic or OAuth 1.0a query signature (what the ``woocommerce``
package uses over plain http), with WooCommerce's 401 body when it fails. Faults can be injected per
resource and page: an error status a number of times (500, 429 with Retry-After) or a slow answer.

Also what a connected app meets (each as WooCommerce's own code does it):
- ``/wc-auth/v1/authorize`` (validates scope and URLs, the callback over https except on loopback) shows the
  approval page; ``/wc-auth/v1/access_granted`` creates a key with the requested permissions, POSTs
  ``key_id, user_id, consumer_key, consumer_secret, key_permissions`` as JSON to the callback and redirects to
  ``return_url`` with ``success=1&user_id=...`` only when the callback answered 200 (else the key is deleted
  and an error page is shown). Keys with ``read`` permission are refused on writes.
- ``/webhooks`` CRUD (create, list with ``status``, get, update, ``DELETE ?force=true``); :meth:`emit` delivers a
  topic to every active webhook, signed with its secret (2xx-302 is delivered and resets the failure count,
  anything else counts a failure, and a webhook whose count is already above 5 is disabled, as
  ``WC_Webhook::failed_delivery`` does).
- one product's prices: ``GET`` / ``PUT products/<id>`` (and ``products/<id>/variations/<id>``) read and write
  ``regular_price``, ``sale_price`` and the sale's dates, ``price`` and ``on_sale`` derived from them (what an
  approved price change and its rollback write; no webhook is emitted for it here).
- refunds: ``/orders/<id>/refunds`` lists an order's refunds with their lines; :meth:`refund` makes one (the
  order gets ``{id, reason, total}`` in ``refunds`` and a new ``date_modified_gmt``, as WooCommerce does).
"""

from __future__ import annotations

import base64
import html
import http.client
import itertools
import json
import secrets
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from woocommerce.oauth import OAuth

from luxebrain.woocommerce.signature import compute_signature
from luxebrain_dev.local.functions import LoopbackHTTPServer
from luxebrain_dev.sample_store import SampleStore

MAX_PER_PAGE = 100
MAX_WEBHOOK_DELIVERY_FAILURES = 5  # woocommerce_max_webhook_delivery_failures
WEBHOOK_USER_AGENT = "WooCommerce/9.4.2 Hookshot (WordPress/6.7.1)"
AUTH_SCOPES = ("read", "write", "read_write")
WEBHOOK_TOPICS = frozenset(
    f"{resource}.{event}"
    for resource in ("order", "product", "customer", "coupon")
    for event in ("created", "updated", "deleted", "restored")
    if not (resource == "customer" and event == "restored")
)
PRODUCT_PRICE_FIELDS = ("regular_price", "sale_price", "date_on_sale_from_gmt", "date_on_sale_to_gmt")
STORE_API_PRODUCTS = "/wp-json/wc/store/v1/products"  # the public Store API the storefront widget reads


@dataclass
class Fault:
    """Answer ``status`` (or wait ``delay_seconds`` first) for ``resource`` page ``page``, ``times`` times."""

    resource: str  # "orders", "products", "customers", "variations"
    page: int
    status: int | None = None
    delay_seconds: float = 0.0
    times: int = 1
    retry_after: int | None = None


@dataclass
class RequestLog:
    path: str
    params: dict[str, str]
    status: int


@dataclass
class ApiKey:
    key_id: int
    consumer_key: str
    consumer_secret: str
    permissions: str  # read | write | read_write
    description: str = ""


@dataclass
class Webhook:
    id: int
    name: str
    topic: str
    delivery_url: str
    secret: str
    status: str = "active"  # active | paused | disabled
    failure_count: int = 0
    date_created_gmt: str = ""
    date_modified_gmt: str = ""
    deliveries: int = 0

    def as_json(self) -> dict[str, Any]:
        resource, _, event = self.topic.partition(".")
        return {
            "id": self.id,
            "name": self.name,
            "status": self.status,
            "topic": self.topic,
            "resource": resource,
            "event": event,
            "hooks": [f"woocommerce_{event}_{resource}"],
            "delivery_url": self.delivery_url,
            "date_created": self.date_created_gmt,
            "date_created_gmt": self.date_created_gmt,
            "date_modified": self.date_modified_gmt,
            "date_modified_gmt": self.date_modified_gmt,
        }


@dataclass
class FakeWooCommerce:
    store: SampleStore
    consumer_key: str = "ck_local"
    consumer_secret: str = "cs_local"  # noqa: S105 - a local fake store's default key, not a secret
    faults: list[Fault] = field(default_factory=list)
    host: str = "127.0.0.1"
    port: int = 0
    requests: list[RequestLog] = field(default_factory=list)
    key_permissions: str = "read_write"  # of the default key

    def __post_init__(self) -> None:
        self._server: ThreadingHTTPServer | None = None
        self._lock = threading.Lock()
        self._variations_by_parent: dict[int, list[dict[str, Any]]] = {}
        for variation in self.store.variations:
            self._variations_by_parent.setdefault(int(variation["parent_id"]), []).append(variation)
        self._ids = itertools.count(1_000_000)
        self.keys: dict[str, ApiKey] = {
            self.consumer_key: ApiKey(0, self.consumer_key, self.consumer_secret, self.key_permissions)
        }
        self.webhooks: dict[int, Webhook] = {}
        self.refunds: dict[int, list[dict[str, Any]]] = {}
        self.callback_answers: list[int] = []  # status of each wc-auth callback POST
        self.approve_with_scope: str | None = None  # the merchant grants another scope than the one asked
        self.store_down = False  # every REST request answers 503 (a store offline)
        self.html_instead_of_json = False  # every REST request answers a 200 HTML page (a security plugin)
        self.webhooks_route_missing = False  # /webhooks answers 404 rest_no_route (a plugin took the route away)

    def _now(self) -> str:
        return datetime.now(UTC).replace(tzinfo=None).isoformat(timespec="seconds")

    # ------------------------------------------------------------------ lifecycle
    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the fake WooCommerce is not running")
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> str:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body are written separately; without this, Nagle's algorithm and the client's
            # delayed ACK add ~40 ms to every response.
            disable_nagle_algorithm = True

            def log_message(self, format: str, *args: Any) -> None:
                return

            def _serve(self, method: str) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                request_body = self.rfile.read(length) if length else b""
                status, headers, body = fake.answer(method, self.path, dict(self.headers.items()), request_body)
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:
                self._serve("GET")

            def do_POST(self) -> None:
                self._serve("POST")

            def do_PUT(self) -> None:
                self._serve("PUT")

            def do_DELETE(self) -> None:
                self._serve("DELETE")

        self._server = LoopbackHTTPServer((self.host, self.port), Handler)
        threading.Thread(target=self._server.serve_forever, name="fake-woocommerce", daemon=True).start()
        return self.url

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeWooCommerce:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ------------------------------------------------------------------ answering
    def answer(
        self, method: str, raw_path: str, headers: dict[str, str], body: bytes = b""
    ) -> tuple[int, dict[str, str], bytes]:
        split = urlsplit(raw_path)
        pairs = parse_qsl(split.query, keep_blank_values=True)
        params: dict[str, str] = {}
        for key, value in pairs:  # the woocommerce package sends its params twice over http: first wins
            params.setdefault(key, value)
        if split.path.startswith("/wc-auth/v1/"):
            status, extra_headers, page = self._wc_auth(split.path, params)
            self._log(split.path, params, status)
            return status, {"Content-Type": "text/html; charset=UTF-8", **extra_headers}, page.encode("utf-8")
        if self.html_instead_of_json and split.path.startswith("/wp-json/"):
            self._log(split.path, params, 200)
            return 200, {"Content-Type": "text/html; charset=UTF-8"}, _page("Please verify you are human").encode()
        status, extra_headers, payload = self._answer(method, split.path, params, pairs, headers, body)
        self._log(split.path, params, status)
        encoded = json.dumps(payload, separators=(",", ":")).encode("utf-8")
        return status, {"Content-Type": "application/json; charset=UTF-8", **extra_headers}, encoded

    def _log(self, path: str, params: dict[str, str], status: int) -> None:
        with self._lock:
            self.requests.append(
                RequestLog(path, {k: v for k, v in params.items() if not k.startswith("oauth_")}, status)
            )

    def _answer(
        self,
        method: str,
        path: str,
        params: dict[str, str],
        pairs: list[tuple[str, str]],
        headers: dict[str, str],
        body: bytes = b"",
    ) -> tuple[int, dict[str, str], Any]:
        if path.rstrip("/") == STORE_API_PRODUCTS:
            return self._store_api_products(params)
        prefix = "/wp-json/wc/v3/"
        if not path.startswith(prefix):
            return 404, {}, _error("rest_no_route", "No route was found matching the URL and request method.", 404)
        if self.store_down:
            return 503, {}, _error("service_unavailable", "The site is experiencing technical difficulties.", 503)
        key = self._authorised(method, path, pairs, headers)
        if key is None:
            return 401, {}, _error("woocommerce_rest_cannot_view", "Sorry, you cannot list resources.", 401)
        if method != "GET" and key.permissions == "read":
            message = "The API key provided does not have write permissions."
            return 401, {}, _error("woocommerce_rest_authentication_error", message, 401)
        route = path[len(prefix) :].strip("/").split("/")
        if route[0] == "webhooks" and self.webhooks_route_missing:
            return 404, {}, _error("rest_no_route", "No route was found matching the URL and request method.", 404)
        if route[0] == "webhooks":
            return self._webhooks(method, route[1:], params, body)
        if route[0] == "products" and _is_one_product(route):
            return self._product(method, route, body)
        if method != "GET":
            return 404, {}, _error("rest_no_route", "No route was found matching the URL and request method.", 404)
        if len(route) == 3 and route[0] == "orders" and route[2] == "refunds" and route[1].isdigit():
            if not any(order["id"] == int(route[1]) for order in self.store.orders):
                return 404, {}, _error("woocommerce_rest_invalid_order_id", "Invalid order ID.", 404)
            resource, records = "refunds", self.refunds.get(int(route[1]), [])
        elif route == ["products"]:
            resource, records = "products", self.store.products
        elif len(route) == 3 and route[0] == "products" and route[2] == "variations" and route[1].isdigit():
            resource, records = "variations", self._variations_by_parent.get(int(route[1]), [])
        elif route == ["customers"]:
            resource, records = "customers", [c for c in self.store.customers if c.get("id")]
        elif route == ["orders"]:
            resource, records = "orders", self.store.orders
        elif route == ["coupons"]:
            resource, records = "coupons", []
        else:
            return 404, {}, _error("rest_no_route", "No route was found matching the URL and request method.", 404)
        try:
            per_page = int(params.get("per_page", "10"))
            page = int(params.get("page", "1"))
        except ValueError:
            return 400, {}, _error("rest_invalid_param", "Invalid parameter(s): per_page, page", 400)
        if not 1 <= per_page <= MAX_PER_PAGE or page < 1:
            return 400, {}, _error("rest_invalid_param", "Invalid parameter(s): per_page", 400)
        fault = self._take_fault(resource, page)
        if fault is not None:
            if fault.delay_seconds:
                time.sleep(fault.delay_seconds)
            if fault.status:
                extra = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else {}
                return (
                    fault.status,
                    extra,
                    _error("internal_server_error", "There has been a critical error.", fault.status),
                )
        selected = self._filter_and_sort(resource, records, params)
        total = len(selected)
        total_pages = max(1, -(-total // per_page))
        items = selected[(page - 1) * per_page : page * per_page]
        return 200, {"X-WP-Total": str(total), "X-WP-TotalPages": str(total_pages)}, items

    def _filter_and_sort(
        self, resource: str, records: list[dict[str, Any]], params: dict[str, str]
    ) -> list[dict[str, Any]]:
        selected = records
        modified_after = params.get("modified_after")
        if modified_after and resource in ("products", "orders", "variations"):
            # With dates_are_gmt the filter is in GMT, as the sample store's *_gmt dates are.
            threshold = modified_after.replace("Z", "")[:19]
            selected = [r for r in selected if str(r.get("date_modified_gmt") or "") > threshold]
        orderby = params.get("orderby", "date" if resource != "customers" else "name")
        key_name = {"modified": "date_modified_gmt", "date": "date_created_gmt", "id": "id"}.get(orderby, "id")
        descending = params.get("order", "desc" if resource in ("products", "orders") else "asc") == "desc"
        return sorted(
            selected,
            key=lambda r: (str(r.get(key_name) or ""), r.get("id", 0)) if key_name != "id" else r.get("id", 0),
            reverse=descending,
        )

    def _store_api_products(self, params: dict[str, str]) -> tuple[int, dict[str, str], Any]:
        """``GET /wp-json/wc/store/v1/products?include=1,2&orderby=include``: public, no key; the order of
        ``include`` kept with ``orderby=include``. Answered to any origin (the widget's test page is served
        from another port than this fake; a real shop's widget reads its own origin)."""
        cors = {"Access-Control-Allow-Origin": "*"}
        fault = self._take_fault("store_products", 1)
        if fault is not None:
            if fault.delay_seconds:
                time.sleep(fault.delay_seconds)
            if fault.status:
                return fault.status, cors, _error("internal_server_error", "There has been a critical error.", 500)
        published = {p["id"]: p for p in self.store.products if p.get("status", "publish") == "publish"}
        include = [int(i) for i in params.get("include", "").split(",") if i.strip().isdigit()]
        per_page = min(int(params.get("per_page", "10") or 10), MAX_PER_PAGE)
        chosen = [published[i] for i in include if i in published] if include else list(published.values())
        if params.get("orderby") != "include":
            chosen.sort(key=lambda p: str(p.get("date_created_gmt") or ""), reverse=True)
        return 200, cors, [_store_api_product(p, self.url) for p in chosen[:per_page]]

    def _take_fault(self, resource: str, page: int) -> Fault | None:
        with self._lock:
            for fault in self.faults:
                if fault.resource == resource and fault.page == page and fault.times > 0:
                    fault.times -= 1
                    return fault
        return None

    def _authorised(
        self, method: str, path: str, pairs: list[tuple[str, str]], headers: dict[str, str]
    ) -> ApiKey | None:
        authorization = next((v for k, v in headers.items() if k.lower() == "authorization"), "")
        if authorization.startswith("Basic "):
            try:
                user, _, password = base64.b64decode(authorization[6:]).decode().partition(":")
            except ValueError:
                return None
            key = self.keys.get(user)
            return key if key is not None and password == key.consumer_secret else None
        params = OrderedDict()
        for name, value in pairs:
            params.setdefault(name, value)
        key = self.keys.get(str(params.get("oauth_consumer_key", "")))
        if key is None or "oauth_signature" not in params:
            return None
        signature = params.pop("oauth_signature")
        host = next((v for k, v in headers.items() if k.lower() == "host"), f"{self.host}")
        oauth = OAuth(
            url=f"http://{host}{path}",
            consumer_key=key.consumer_key,
            consumer_secret=key.consumer_secret,
            version="wc/v3",
            method=method,
        )
        # Sign only what the client signed: its own query (the package appends the params a second time).
        valid = oauth.generate_oauth_signature(OrderedDict(params), f"http://{host}{path}") == signature
        return key if valid else None

    # ------------------------------------------------------------------ wc-auth
    def _wc_auth(self, path: str, params: dict[str, str]) -> tuple[int, dict[str, str], str]:
        endpoint = path.removeprefix("/wc-auth/v1/").strip("/")
        if endpoint not in ("authorize", "access_granted"):
            return 404, {}, _page("Not found")
        for name in ("app_name", "user_id", "return_url", "callback_url", "scope"):
            if not params.get(name):
                return 400, {}, _page(f"Error: Missing parameter {name}")
        if params["scope"] not in AUTH_SCOPES:
            return 400, {}, _page(f"Error: Invalid scope {params['scope']}")
        callback = urlsplit(params["callback_url"])
        loopback = callback.hostname in ("127.0.0.1", "localhost")
        if callback.scheme != "https" and not (callback.scheme == "http" and loopback):
            return 400, {}, _page("Error: The callback_url needs to be over SSL")
        if endpoint == "authorize":
            approve = html.escape(f"/wc-auth/v1/access_granted?{urlencode(params)}")
            app = html.escape(params["app_name"])
            return 200, {}, _page(f'{app} would like to connect. <a id="approve" href="{approve}">Approve</a>')
        scope = self.approve_with_scope or params["scope"]
        key = ApiKey(
            key_id=next(self._ids),
            consumer_key="ck_" + secrets.token_hex(20),
            consumer_secret="cs_" + secrets.token_hex(20),
            permissions=scope,
            description=f"{params['app_name']} - API ({self._now()})",
        )
        with self._lock:
            self.keys[key.consumer_key] = key
        consumer_data = {
            "key_id": key.key_id,
            "user_id": params["user_id"],
            "consumer_key": key.consumer_key,
            "consumer_secret": key.consumer_secret,
            "key_permissions": key.permissions,
        }
        status = _post(
            params["callback_url"],
            json.dumps(consumer_data).encode(),
            {"Content-Type": "application/json;charset=UTF-8", "User-Agent": WEBHOOK_USER_AGENT},
        )
        self.callback_answers.append(status)
        if status != 200:
            with self._lock:
                self.keys.pop(key.consumer_key, None)  # WC_Auth::maybe_delete_key
            message = "An error occurred in the request and at the time were unable to send the consumer data"
            return 400, {}, _page(f"Error: {message}")
        separator = "&" if "?" in params["return_url"] else "?"
        location = f"{params['return_url']}{separator}{urlencode({'success': 1, 'user_id': params['user_id']})}"
        return 302, {"Location": location}, _page("Redirecting")

    # ------------------------------------------------------------------ one product (prices)
    def _product(self, method: str, route: list[str], body: bytes) -> tuple[int, dict[str, str], Any]:
        """``products/<id>`` and ``products/<id>/variations/<id>``: GET, and PUT of the price fields (what a
        price change writes), with ``price`` and ``on_sale`` derived as WooCommerce derives them."""
        record = self._find_product(route)
        if record is None:
            code = "woocommerce_rest_product_invalid_id" if len(route) == 2 else "woocommerce_rest_invalid_product_id"
            return 404, {}, _error(code, "Invalid ID.", 404)
        if method == "GET":
            return 200, {}, record
        if method not in ("PUT", "POST"):
            return 404, {}, _error("rest_no_route", "No route was found matching the URL and request method.", 404)
        document = _json_object(body)
        if document is None:
            return 400, {}, _error("rest_invalid_json", "Invalid JSON body passed.", 400)
        for name in ("regular_price", "sale_price"):
            value = document.get(name)
            if value is not None and not (isinstance(value, str) and _is_price(value)):
                return 400, {}, _error("rest_invalid_param", f"Invalid parameter(s): {name}", 400)
        with self._lock:
            for name in PRODUCT_PRICE_FIELDS:
                if name in document:
                    record[name] = "" if document[name] is None else str(document[name])
            _derive_active_price(record, self._now())
            record["date_modified_gmt"] = self._now()
            record["date_modified"] = record["date_modified_gmt"]
        return 200, {}, record

    def _find_product(self, route: list[str]) -> dict[str, Any] | None:
        product = next((p for p in self.store.products if p["id"] == int(route[1])), None)
        if product is None or len(route) == 2:
            return product
        return next((v for v in self._variations_by_parent.get(product["id"], []) if v["id"] == int(route[3])), None)

    # ------------------------------------------------------------------ webhooks
    def _webhooks(
        self, method: str, route: list[str], params: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, str], Any]:
        document = _json_object(body)
        if document is None:
            return 400, {}, _error("rest_invalid_json", "Invalid JSON body passed.", 400)
        if not route:
            if method == "GET":
                status_filter = params.get("status", "all")
                hooks = [w.as_json() for w in sorted(self.webhooks.values(), key=lambda w: w.id)]
                hooks = [w for w in hooks if status_filter == "all" or w["status"] == status_filter]
                return 200, {"X-WP-Total": str(len(hooks)), "X-WP-TotalPages": "1"}, hooks
            if method == "POST":
                topic, delivery_url = document.get("topic"), document.get("delivery_url")
                if topic not in WEBHOOK_TOPICS:
                    return 400, {}, _error("rest_invalid_param", "Invalid parameter(s): topic", 400)
                if not isinstance(delivery_url, str) or not delivery_url.startswith(("http://", "https://")):
                    return 400, {}, _error("rest_invalid_param", "Invalid parameter(s): delivery_url", 400)
                now = self._now()
                with self._lock:
                    webhook = Webhook(
                        id=next(self._ids),
                        name=str(document.get("name") or f"Webhook created on {now}"),
                        topic=topic,
                        delivery_url=delivery_url,
                        secret=str(document.get("secret") or secrets.token_urlsafe(24)),
                        status=str(document.get("status") or "active"),
                        date_created_gmt=now,
                        date_modified_gmt=now,
                    )
                    self.webhooks[webhook.id] = webhook
                return 201, {}, webhook.as_json()
            return 404, {}, _error("rest_no_route", "No route was found matching the URL and request method.", 404)
        webhook = self.webhooks.get(int(route[0])) if route[0].isdigit() else None
        if webhook is None:
            return 404, {}, _error("woocommerce_rest_webhook_invalid_id", "Invalid ID.", 404)
        if method == "GET":
            return 200, {}, webhook.as_json()
        if method in ("PUT", "POST"):
            with self._lock:
                for name in ("name", "delivery_url", "secret"):
                    if isinstance(document.get(name), str):
                        setattr(webhook, name, document[name])
                if document.get("topic") in WEBHOOK_TOPICS:
                    webhook.topic = document["topic"]
                if document.get("status") in ("active", "paused", "disabled"):
                    webhook.status = document["status"]
                webhook.date_modified_gmt = self._now()
            return 200, {}, webhook.as_json()
        if method == "DELETE":
            if params.get("force") not in ("true", "1"):
                return 501, {}, _error("woocommerce_rest_trash_not_supported", "Webhooks do not support trashing.", 501)
            with self._lock:
                self.webhooks.pop(webhook.id, None)
            return 200, {}, webhook.as_json()
        return 404, {}, _error("rest_no_route", "No route was found matching the URL and request method.", 404)

    def emit(self, topic: str, payload: Any) -> list[tuple[int, int]]:
        """Deliver ``topic`` to every active webhook of that topic, as WooCommerce does (signed, no retry);
        returns (webhook id, HTTP status or 0 when unreachable) per delivery."""
        resource, _, event = topic.partition(".")
        body = json.dumps(payload, separators=(",", ":"), ensure_ascii=True).replace("/", "\\/").encode("ascii")
        results = []
        for webhook in sorted(self.webhooks.values(), key=lambda w: w.id):
            if webhook.topic != topic or webhook.status != "active":
                continue
            headers = {
                "Content-Type": "application/json",
                "User-Agent": WEBHOOK_USER_AGENT,
                "X-WC-Webhook-Source": f"{self.url}/",
                "X-WC-Webhook-Topic": topic,
                "X-WC-Webhook-Resource": resource,
                "X-WC-Webhook-Event": event,
                "X-WC-Webhook-Signature": compute_signature(body, webhook.secret),
                "X-WC-Webhook-ID": str(webhook.id),
                "X-WC-Webhook-Delivery-ID": str(next(self._ids)),
            }
            status = _post(webhook.delivery_url, body, headers)
            with self._lock:
                webhook.deliveries += 1
                if 200 <= status <= 302:
                    webhook.failure_count = 0
                elif webhook.failure_count > MAX_WEBHOOK_DELIVERY_FAILURES:
                    webhook.status = "disabled"
                else:
                    webhook.failure_count += 1
            results.append((webhook.id, status))
        return results

    # ------------------------------------------------------------------ refunds
    def refund(self, order_id: int, line_id: int, quantity: float, *, reason: str = "") -> dict[str, Any]:
        """Refund ``quantity`` of one line of an order (its line total pro rata), as the admin's refund screen
        does: the refund is listed at /orders/<id>/refunds, the order lists it and is modified now."""
        order = next(order for order in self.store.orders if order["id"] == order_id)
        line = next(line for line in order["line_items"] if line["id"] == line_id)
        amount = round(float(line["total"]) * quantity / float(line["quantity"]), 2)
        refund_id = next(self._ids)
        now = self._now()
        refund = {
            "id": refund_id,
            "date_created": now,
            "date_created_gmt": now,
            "amount": f"{amount:.2f}",
            "reason": reason,
            "refunded_by": 1,
            "refunded_payment": False,
            "meta_data": [],
            "line_items": [
                {
                    "id": next(self._ids),
                    "name": line.get("name"),
                    "product_id": line.get("product_id", 0),
                    "variation_id": line.get("variation_id", 0),
                    "quantity": -quantity,
                    "subtotal": f"{-amount:.2f}",
                    "total": f"{-amount:.2f}",
                    "meta_data": [{"id": next(self._ids), "key": "_refunded_item_id", "value": str(line_id)}],
                    "refund_total": amount,
                }
            ],
            "shipping_lines": [],
            "fee_lines": [],
        }
        with self._lock:
            self.refunds.setdefault(order_id, []).insert(0, refund)  # newest first, as WooCommerce lists them
            order.setdefault("refunds", []).insert(0, {"id": refund_id, "reason": reason, "total": f"{-amount:.2f}"})
            order["date_modified_gmt"] = max(now, str(order.get("date_modified_gmt") or ""))
            order["date_modified"] = order["date_modified_gmt"]
        return refund


def _is_one_product(route: list[str]) -> bool:
    """``products/<id>`` or ``products/<id>/variations/<id>``."""
    if len(route) == 2:
        return route[1].isdigit()
    return len(route) == 4 and route[1].isdigit() and route[2] == "variations" and route[3].isdigit()


def _is_price(value: str) -> bool:
    if value == "":
        return True
    try:
        return float(value) >= 0
    except ValueError:
        return False


def _derive_active_price(record: dict[str, Any], now: str) -> None:
    """``price`` is the sale price while a sale runs (no dates, or now within them), else the regular price."""
    sale, starts, ends = (str(record.get(name) or "") for name in PRODUCT_PRICE_FIELDS[1:])
    on_sale = sale != "" and (not starts or starts[:19] <= now) and (not ends or now < ends[:19])
    record["on_sale"] = on_sale
    record["price"] = sale if on_sale else str(record.get("regular_price") or "")


def _store_api_product(product: dict[str, Any], base_url: str) -> dict[str, Any]:
    """A product as WooCommerce's Store API (wc/store/v1) shows it to anyone: prices in minor units."""
    in_stock = product.get("stock_status", "instock") != "outofstock"
    price, regular = str(product.get("price") or "0"), str(product.get("regular_price") or product.get("price") or "0")
    minor = lambda amount: str(round(float(amount or 0) * 100))  # noqa: E731 - a local shorthand
    permalink = f"{base_url}/product/{product.get('slug', product['id'])}/"
    return {
        "id": product["id"],
        "name": product.get("name", ""),
        "slug": product.get("slug", ""),
        "type": product.get("type", "simple"),
        "permalink": permalink,
        "sku": product.get("sku", ""),
        "on_sale": bool(product.get("on_sale")),
        "prices": {
            "price": minor(price),
            "regular_price": minor(regular),
            "sale_price": minor(product.get("sale_price") or price),
            "currency_code": "EUR",
            "currency_symbol": "€",
            "currency_minor_unit": 2,
            "currency_decimal_separator": ",",
            "currency_thousand_separator": ".",
            "currency_prefix": "",
            "currency_suffix": " €",
        },
        "images": [
            {
                "id": product["id"] * 10,
                "src": f"{base_url}/images/{product['id']}.svg",
                "thumbnail": f"{base_url}/images/{product['id']}.svg",
                "name": product.get("slug", ""),
                "alt": product.get("name", ""),
            }
        ],
        "categories": [
            {"id": c.get("id"), "name": c.get("name"), "slug": c.get("slug")} for c in product.get("categories", [])
        ],
        "is_purchasable": product.get("status", "publish") == "publish",
        "is_in_stock": in_stock,
        "add_to_cart": {
            "text": "Add to cart" if in_stock else "Read more",
            "description": f"Add \u201c{product.get('name', '')}\u201d to your cart",
            "url": f"?add-to-cart={product['id']}" if in_stock else permalink,
            "minimum": 1,
            "maximum": 9999,
            "multiple_of": 1,
        },
    }


def _json_object(body: bytes) -> dict[str, Any] | None:
    """A request body as WordPress reads one: empty is ``{}``; None for anything but a JSON object."""
    try:
        document = json.loads(body) if body else {}
    except ValueError:
        return None
    return document if isinstance(document, dict) else None


def _error(code: str, message: str, status: int) -> dict[str, Any]:
    return {"code": code, "message": message, "data": {"status": status}}


def _page(text: str) -> str:
    return f"<!DOCTYPE html><html><body><p>{text}</p></body></html>"


def _post(url: str, body: bytes, headers: dict[str, str], timeout: float = 30.0) -> int:
    """One POST as WordPress's wp_safe_remote_post makes it; the status, or 0 when the target is unreachable."""
    split = urlsplit(url)
    connection_class = http.client.HTTPSConnection if split.scheme == "https" else http.client.HTTPConnection
    connection = connection_class(split.hostname or "127.0.0.1", split.port, timeout=timeout)
    try:
        path = split.path + (f"?{split.query}" if split.query else "")
        connection.request("POST", path or "/", body=body, headers=headers)
        response = connection.getresponse()
        response.read()
        return response.status
    except OSError:
        return 0
    finally:
        connection.close()

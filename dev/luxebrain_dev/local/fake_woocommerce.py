"""A small local server that answers like WooCommerce's REST API v3, serving a SampleStore.

What it reproduces: ``/wp-json/wc/v3/{products, products/<id>/variations, customers, orders, coupons}``;
``per_page`` (max 100) / ``page`` with ``X-WP-Total`` and ``X-WP-TotalPages``; ``orderby`` / ``order``;
``modified_after`` with ``dates_are_gmt`` for products and orders (customers have no such filter, as in
WooCommerce); authentication by HTTP Basic or OAuth 1.0a query signature (what the ``woocommerce``
package uses over plain http), with WooCommerce's 401 body when it fails. Faults can be injected per
resource and page: an error status a number of times (500, 429 with Retry-After) or a slow answer.
"""

from __future__ import annotations

import base64
import json
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from woocommerce.oauth import OAuth

from luxebrain_dev.local.functions import LoopbackHTTPServer
from luxebrain_dev.sample_store import SampleStore

MAX_PER_PAGE = 100


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
class FakeWooCommerce:
    store: SampleStore
    consumer_key: str = "ck_local"
    consumer_secret: str = "cs_local"  # noqa: S105 - a local fake store's default key, not a secret
    faults: list[Fault] = field(default_factory=list)
    host: str = "127.0.0.1"
    port: int = 0
    requests: list[RequestLog] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._server: ThreadingHTTPServer | None = None
        self._lock = threading.Lock()
        self._variations_by_parent: dict[int, list[dict[str, Any]]] = {}
        for variation in self.store.variations:
            self._variations_by_parent.setdefault(int(variation["parent_id"]), []).append(variation)

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

            def do_GET(self) -> None:
                status, headers, body = fake.answer("GET", self.path, dict(self.headers.items()))
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

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
    def answer(self, method: str, raw_path: str, headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        split = urlsplit(raw_path)
        pairs = parse_qsl(split.query, keep_blank_values=True)
        params: dict[str, str] = {}
        for key, value in pairs:  # the woocommerce package sends its params twice over http: first wins
            params.setdefault(key, value)
        status, extra_headers, payload = self._answer(method, split.path, params, pairs, headers)
        with self._lock:
            self.requests.append(
                RequestLog(split.path, {k: v for k, v in params.items() if not k.startswith("oauth_")}, status)
            )
        body = json.dumps(payload, separators=(",", ":")).encode("utf-8")
        return status, {"Content-Type": "application/json; charset=UTF-8", **extra_headers}, body

    def _answer(
        self, method: str, path: str, params: dict[str, str], pairs: list[tuple[str, str]], headers: dict[str, str]
    ) -> tuple[int, dict[str, str], Any]:
        prefix = "/wp-json/wc/v3/"
        if not path.startswith(prefix):
            return 404, {}, _error("rest_no_route", "No route was found matching the URL and request method.", 404)
        if not self._authorised(method, path, pairs, headers):
            return 401, {}, _error("woocommerce_rest_cannot_view", "Sorry, you cannot list resources.", 401)
        route = path[len(prefix) :].strip("/").split("/")
        if route == ["products"]:
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

    def _take_fault(self, resource: str, page: int) -> Fault | None:
        with self._lock:
            for fault in self.faults:
                if fault.resource == resource and fault.page == page and fault.times > 0:
                    fault.times -= 1
                    return fault
        return None

    def _authorised(self, method: str, path: str, pairs: list[tuple[str, str]], headers: dict[str, str]) -> bool:
        authorization = next((v for k, v in headers.items() if k.lower() == "authorization"), "")
        if authorization.startswith("Basic "):
            try:
                user, _, password = base64.b64decode(authorization[6:]).decode().partition(":")
            except ValueError:
                return False
            return user == self.consumer_key and password == self.consumer_secret
        params = OrderedDict()
        for key, value in pairs:
            params.setdefault(key, value)
        if params.get("oauth_consumer_key") != self.consumer_key or "oauth_signature" not in params:
            return False
        signature = params.pop("oauth_signature")
        host = next((v for k, v in headers.items() if k.lower() == "host"), f"{self.host}")
        oauth = OAuth(
            url=f"http://{host}{path}",
            consumer_key=self.consumer_key,
            consumer_secret=self.consumer_secret,
            version="wc/v3",
            method=method,
        )
        # Sign only what the client signed: its own query (the package appends the params a second time).
        return oauth.generate_oauth_signature(OrderedDict(params), f"http://{host}{path}") == signature


def _error(code: str, message: str, status: int) -> dict[str, Any]:
    return {"code": code, "message": message, "data": {"status": status}}

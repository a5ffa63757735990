"""A local API Gateway: serves the template's HttpApi / Api routes over HTTP on 127.0.0.1 and invokes the
matching function's handler in process with an API Gateway event (HTTP API payload 2.0, REST API 1.0).

Request → route (method + path template from the function's Events) → event → ``handler(event, context)``
→ response (statusCode, headers, cookies, body, isBase64Encoded) back to the client. Nothing here checks
tokens: the functions verify their own callers, as they do behind the real API Gateway.
"""

from __future__ import annotations

import base64
import json
import re
import threading
import time
import uuid
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from luxebrain.observability import logger
from luxebrain_dev.infra_template import load_template
from luxebrain_dev.local.embedded import MOTO_ACCOUNT_ID
from luxebrain_dev.local.functions import LocalFunction, LoopbackHTTPServer, load_functions

TEXT_CONTENT_TYPES = re.compile(r"^(text/|application/(json|xml|javascript|x-www-form-urlencoded)|[^;]*\+json)")
MAX_REQUEST_BYTES = 10 * 1024 * 1024  # API Gateway's payload limit


@dataclass(frozen=True)
class Route:
    method: str  # upper case, or ANY
    path_template: str  # /webhooks/woocommerce/{tenant_id}/{store_id}
    pattern: re.Pattern[str]
    function: LocalFunction
    payload_version: str  # "2.0" for HttpApi, "1.0" for Api

    @property
    def specificity(self) -> tuple[int, int, int]:
        # Literal segments beat parameters, parameters beat greedy {proxy+}; an exact method beats ANY.
        greedy = self.path_template.count("+}")
        params = self.path_template.count("{")
        return (greedy, params - greedy, 1 if self.method == "ANY" else 0)

    def match(self, method: str, path: str) -> dict[str, str] | None:
        if self.method not in ("ANY", method):
            return None
        found = self.pattern.fullmatch(path)
        if found is None:
            return None
        return {name: unquote(value) for name, value in found.groupdict().items()}


def _compile(path_template: str) -> re.Pattern[str]:
    parts = []
    for segment in re.split(r"(\{[^}]+\})", path_template):
        if segment.startswith("{") and segment.endswith("}"):
            name = segment[1:-1]
            if name.endswith("+"):
                parts.append(f"(?P<{name[:-1]}>.+)")
            else:
                parts.append(f"(?P<{name}>[^/]+)")
        else:
            parts.append(re.escape(segment))
    return re.compile("".join(parts))


def load_routes(template: dict[str, Any] | None = None) -> list[Route]:
    template = template or load_template()
    routes = []
    for function in load_functions(template).values():
        for event in function.events.values():
            kind = event.get("Type")
            if kind not in ("HttpApi", "Api"):
                continue
            properties = event.get("Properties") or {}
            path = properties.get("Path", "/{proxy+}" if kind == "HttpApi" else None)
            if not isinstance(path, str):
                continue
            method = str(properties.get("Method", "ANY")).upper()
            if path == "$default":
                path = "/{proxy+}"
            routes.append(
                Route(
                    method="ANY" if method in ("ANY", "X-AMAZON-APIGATEWAY-ANY-METHOD") else method,
                    path_template=path,
                    pattern=_compile(path),
                    function=function,
                    payload_version="2.0" if kind == "HttpApi" else "1.0",
                )
            )
    routes.sort(key=lambda route: route.specificity)
    return routes


# ----------------------------------------------------------------------------- events
def _is_text(content_type: str | None) -> bool:
    return content_type is None or bool(TEXT_CONTENT_TYPES.match(content_type.strip().lower()))


def _body(raw: bytes, content_type: str | None) -> tuple[str | None, bool]:
    if not raw:
        return None, False
    if _is_text(content_type):
        try:
            return raw.decode("utf-8"), False
        except UnicodeDecodeError:
            pass
    return base64.b64encode(raw).decode("ascii"), True


def build_http_api_event(
    route: Route,
    method: str,
    raw_path: str,
    query: str,
    headers: list[tuple[str, str]],
    raw_body: bytes,
    path_parameters: dict[str, str],
    source_ip: str = "127.0.0.1",
) -> dict[str, Any]:
    """API Gateway HTTP API payload format 2.0."""
    merged: dict[str, str] = {}
    cookies: list[str] = []
    for name, value in headers:
        lower = name.lower()
        if lower == "cookie":
            cookies.extend(part.strip() for part in value.split(";") if part.strip())
            continue
        merged[lower] = f"{merged[lower]},{value}" if lower in merged else value
    body, is_base64 = _body(raw_body, merged.get("content-type"))
    now = time.time()
    route_key = f"{route.method if route.method != 'ANY' else 'ANY'} {route.path_template}"
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": raw_path,
        "rawQueryString": query,
        "headers": merged,
        "requestContext": {
            "accountId": MOTO_ACCOUNT_ID,
            "apiId": "local",
            "domainName": merged.get("host", "127.0.0.1"),
            "domainPrefix": merged.get("host", "127.0.0.1").split(".")[0],
            "http": {
                "method": method,
                "path": raw_path,
                "protocol": "HTTP/1.1",
                "sourceIp": source_ip,
                "userAgent": merged.get("user-agent", ""),
            },
            "requestId": str(uuid.uuid4()),
            "routeKey": route_key,
            "stage": "$default",
            "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "timeEpoch": int(now * 1000),
        },
        "isBase64Encoded": is_base64,
    }
    if cookies:
        event["cookies"] = cookies
    if query:
        event["queryStringParameters"] = {
            name: ",".join(values) for name, values in parse_qs(query, keep_blank_values=True).items()
        }
    if path_parameters:
        event["pathParameters"] = path_parameters
    if body is not None:
        event["body"] = body
    return event


def build_rest_api_event(
    route: Route,
    method: str,
    raw_path: str,
    query: str,
    headers: list[tuple[str, str]],
    raw_body: bytes,
    path_parameters: dict[str, str],
    source_ip: str = "127.0.0.1",
) -> dict[str, Any]:
    """API Gateway REST API payload format 1.0."""
    single: dict[str, str] = {}
    multi: dict[str, list[str]] = {}
    for name, value in headers:
        single[name] = value
        multi.setdefault(name, []).append(value)
    content_type = next((v for k, v in single.items() if k.lower() == "content-type"), None)
    body, is_base64 = _body(raw_body, content_type)
    parsed = parse_qs(query, keep_blank_values=True) if query else {}
    return {
        "resource": route.path_template,
        "path": raw_path,
        "httpMethod": method,
        "headers": single,
        "multiValueHeaders": multi,
        "queryStringParameters": {k: v[-1] for k, v in parsed.items()} or None,
        "multiValueQueryStringParameters": parsed or None,
        "pathParameters": path_parameters or None,
        "stageVariables": None,
        "requestContext": {
            "accountId": MOTO_ACCOUNT_ID,
            "apiId": "local",
            "httpMethod": method,
            "path": raw_path,
            "resourcePath": route.path_template,
            "requestId": str(uuid.uuid4()),
            "stage": "local",
            "identity": {"sourceIp": source_ip},
            "requestTimeEpoch": int(time.time() * 1000),
        },
        "body": body,
        "isBase64Encoded": is_base64,
    }


def shape_response(result: Any, payload_version: str) -> tuple[int, list[tuple[str, str]], bytes]:
    """API Gateway's reading of a handler's return value (including HTTP API's shortcut for non-dicts)."""
    if payload_version == "2.0" and (not isinstance(result, dict) or "statusCode" not in result):
        return 200, [("content-type", "application/json")], json.dumps(result).encode()
    if not isinstance(result, dict):
        return 502, [("content-type", "application/json")], b'{"message":"Internal Server Error"}'
    status = int(result.get("statusCode", 200))
    headers = [(str(k), str(v)) for k, v in (result.get("headers") or {}).items()]
    for name, values in (result.get("multiValueHeaders") or {}).items():
        headers.extend((str(name), str(value)) for value in values)
    headers.extend(("set-cookie", str(cookie)) for cookie in result.get("cookies") or [])
    body = result.get("body") or ""
    raw = base64.b64decode(body) if result.get("isBase64Encoded") else str(body).encode("utf-8")
    return status, headers, raw


# ----------------------------------------------------------------------------- server
class LocalGateway:
    """The local HTTP API. ``with LocalGateway() as url:`` or ``start()`` / ``stop()``."""

    def __init__(self, *, host: str = "127.0.0.1", port: int = 0, template: dict[str, Any] | None = None) -> None:
        self.host = host
        self.port = port
        self.routes = load_routes(template)
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the local gateway is not running")
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def route_for(self, method: str, path: str) -> tuple[Route, dict[str, str]] | None:
        for route in self.routes:
            parameters = route.match(method, path)
            if parameters is not None:
                return route, parameters
        return None

    def start(self) -> str:
        gateway = self

        class RequestHandler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body are written separately; without this, Nagle's algorithm and the client's
            # delayed ACK add ~40 ms to every response.
            disable_nagle_algorithm = True

            def log_message(self, format: str, *args: Any) -> None:
                return  # the functions log; per-request access lines would drown them

            def _handle(self) -> None:
                gateway._serve(self)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_HEAD = _handle

        self._server = LoopbackHTTPServer((self.host, self.port), RequestHandler)
        self._thread = threading.Thread(target=self._server.serve_forever, name="local-gateway", daemon=True)
        self._thread.start()
        return self.url

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> str:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _serve(self, request: BaseHTTPRequestHandler) -> None:
        split = urlsplit(request.path)
        method = request.command.upper()
        length = int(request.headers.get("content-length") or 0)
        if length > MAX_REQUEST_BYTES:
            self._write(request, 413, [("content-type", "application/json")], b'{"message":"Request too large"}')
            return
        raw_body = request.rfile.read(length) if length else b""
        found = self.route_for(method, split.path)
        if found is None:
            self._write(request, 404, [("content-type", "application/json")], b'{"message":"Not Found"}')
            return
        route, parameters = found
        builder = build_http_api_event if route.payload_version == "2.0" else build_rest_api_event
        event = builder(
            route,
            method,
            split.path,
            split.query,
            list(request.headers.items()),
            raw_body,
            parameters,
            source_ip=request.client_address[0],
        )
        try:
            result = route.function.invoke(event)
            status, headers, body = shape_response(result, route.payload_version)
        except Exception:
            # What API Gateway answers when the function fails; the traceback goes to the log.
            logger.exception("local function failed", extra={"function": route.function.logical_id})
            status, headers, body = 500, [("content-type", "application/json")], b'{"message":"Internal Server Error"}'
        self._write(request, status, headers, b"" if method == "HEAD" else body)

    @staticmethod
    def _write(request: BaseHTTPRequestHandler, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
        request.send_response(status)
        for name, value in headers:
            if name.lower() not in ("content-length", "connection", "transfer-encoding"):
                request.send_header(name, value)
        request.send_header("content-length", str(len(body)))
        request.end_headers()
        request.wfile.write(body)

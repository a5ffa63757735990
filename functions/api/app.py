"""The LuxeBrain API: FastAPI behind API Gateway (HTTP API, payload v2) through Mangum.

Every response carries ``X-Request-ID``; every error is RFC 9457 problem+json built in one place
(luxebrain.webapi.problems); every request is logged once as a structured line without personal data
(the route template, never the raw path). The handler imports no pandas or scikit-learn.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import sys
import threading
import time
import uuid
from functools import lru_cache
from pathlib import Path
from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from mangum import Mangum
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from luxebrain.errors import LuxeBrainError
from luxebrain.observability import logger, metrics, tracer
from luxebrain.webapi.problems import (
    PROBLEM_CONTENT_TYPE,
    PROBLEM_RESPONSES,
    Problem,
    ProblemDetails,
    internal_problem,
    problem_for_error,
    problem_for_status,
    validation_problem,
)

# ``api`` is a top-level package in Lambda (CodeUri functions/); make it one however this file is loaded
# (the local gateway loads it by file path, tests may import it from the repo root).
_FUNCTIONS_DIR = str(Path(__file__).resolve().parents[1])
if _FUNCTIONS_DIR not in sys.path:
    sys.path.append(_FUNCTIONS_DIR)

from api.routers import (  # noqa: E402
    account,
    admin,
    auth,
    customers,
    forecasts,
    merchandising,
    overview,
    prices,
    privacy,
    recommendations,
    store_health,
    storefront,
    stores,
    team,
)

MAX_BODY_BYTES = 256 * 1024  # no route needs more; API Gateway would accept 10 MB
REQUEST_ID_PATTERN = re.compile(r"^[A-Za-z0-9._=+/-]{8,128}$")
LOCAL_ORIGIN_PATTERN = re.compile(r"^http://(localhost|127\.0\.0\.1)(:\d{1,5})?$")
API_VERSION = "1.0.0"


def problem_response(problem: Problem, request_id: str, instance: str) -> JSONResponse:
    return JSONResponse(
        problem.body(instance=instance, request_id=request_id),
        status_code=problem.status,
        media_type=PROBLEM_CONTENT_TYPE,
        headers=problem.headers,
    )


def _request_id_of(scope: Scope) -> str:
    for name, value in scope.get("headers", []):
        if name == b"x-request-id":
            candidate = value.decode("latin-1")
            if REQUEST_ID_PATTERN.fullmatch(candidate):
                return candidate
    event = scope.get("aws.event") or {}
    gateway_id = (event.get("requestContext") or {}).get("requestId")
    if isinstance(gateway_id, str) and REQUEST_ID_PATTERN.fullmatch(gateway_id):
        return gateway_id
    return str(uuid.uuid4())


class RequestContextMiddleware:
    """Request id, body size limit, one structured log line per request, and the last-resort 500."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _request_id_of(scope)
        scope.setdefault("state", {})["request_id"] = request_id
        logger.remove_keys(["tenant_id"])  # the tenant (bound once verified) labels only its own request
        started = time.perf_counter()
        status_holder = {"status": 500, "started": False}
        header = (b"x-request-id", request_id.encode())

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                status_holder["status"] = message["status"]
                status_holder["started"] = True
                message["headers"] = [*message.get("headers", []), header]
            await send(message)

        try:
            refusal, receive = await _bounded_body(scope, receive)
            if refusal is not None:
                await problem_response(refusal, request_id, scope.get("path", ""))(scope, receive, send_with_id)
            else:
                await self.app(scope, receive, send_with_id)
        except Exception:
            logger.exception("unhandled error", extra={"request_id": request_id, "route": _route_of(scope)})
            metrics.add_metric(name="UnhandledErrors", unit=MetricUnit.Count, value=1)
            if not status_holder["started"]:
                await problem_response(internal_problem(), request_id, scope.get("path", ""))(
                    scope, receive, send_with_id
                )
        finally:
            principal = scope.get("state", {}).get("principal")
            logger.info(
                "request",
                extra={
                    "request_id": request_id,
                    "method": scope.get("method"),
                    "route": _route_of(scope),
                    "status": status_holder["status"],
                    "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                    "auth": str(getattr(principal, "kind", "none")),
                },
            )


_BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


async def _bounded_body(scope: Scope, receive: Receive) -> tuple[Problem | None, Receive]:
    """Read the request body (at most MAX_BODY_BYTES + 1) before the app sees it, and refuse what could
    smuggle past the size limit: several or non-numeric Content-Length headers, a length that disagrees
    with the body, or a body without a length. The app then reads the buffered body."""
    lengths = [value for name, value in scope.get("headers", []) if name == b"content-length"]
    if len(lengths) > 1:
        return problem_for_status(400, "send exactly one Content-Length header"), receive
    declared: int | None = None
    if lengths:
        if not lengths[0].isdigit() or len(lengths[0]) > 12:
            return problem_for_status(400, "Content-Length must be a number of bytes"), receive
        declared = int(lengths[0])
        if declared > MAX_BODY_BYTES:
            return problem_for_status(413, f"request bodies are limited to {MAX_BODY_BYTES} bytes"), receive
    if scope.get("method") not in _BODY_METHODS and not declared:
        return None, receive
    chunks: list[bytes] = []
    size = 0
    more = True
    while more:
        message = await receive()
        if message["type"] != "http.request":
            return None, receive  # the client went away; the app sees the disconnect
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            return problem_for_status(413, f"request bodies are limited to {MAX_BODY_BYTES} bytes"), receive
        chunks.append(chunk)
        more = bool(message.get("more_body"))
    # Behind API Gateway the body arrives whole in the event (Mangum adds no header; its size is counted
    # above); a client talking HTTP to us directly must say how long its body is.
    if size and declared is None and "aws.event" not in scope:
        return problem_for_status(400, "a request body needs a Content-Length header"), receive
    if declared is not None and declared != size:
        return problem_for_status(400, "Content-Length does not match the body"), receive
    body = b"".join(chunks)
    delivered = False

    async def replay() -> Message:
        nonlocal delivered
        if not delivered:
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return None, replay


def _route_of(scope: Scope) -> str:
    route = scope.get("route")
    return getattr(route, "path", None) or "unmatched"


@lru_cache(maxsize=1)
def allowed_origins() -> tuple[frozenset[str], bool]:
    """The dashboard origins CORS allows (never a wildcard), and whether localhost is allowed (local env)."""
    origins = frozenset(
        origin.strip().rstrip("/")
        for origin in os.environ.get("LUXEBRAIN_DASHBOARD_ORIGINS", "").split(",")
        if origin.strip() and origin.strip() != "*"
    )
    return origins, os.environ.get("APP_ENV", "prod") == "local"


class DashboardCors(CORSMiddleware):
    """CORS with an explicit allow-list read from the environment on first use (credentials allowed, so a
    wildcard is never accepted)."""

    def is_allowed_origin(self, origin: str) -> bool:
        origins, allow_localhost = allowed_origins()
        return origin in origins or (allow_localhost and bool(LOCAL_ORIGIN_PATTERN.fullmatch(origin)))


STOREFRONT_PATH_PREFIX = "/recommendations/"
STOREFRONT_EVENTS_PATH = "/events"


class SplitCors:
    """Two CORS policies. Dashboard routes: the explicit allow-list, with credentials. Storefront routes
    (recommendations and events, with a publishable key from the shop's own site, whatever its domain): any
    origin at the CORS level, never credentials, only the headers a widget sends; the routes themselves then
    refuse origins that are not one of the key's stores (luxebrain.storefront.origins). The dashboard's own
    origins keep the dashboard policy there too (its recommendation preview sends the bearer token)."""

    def __init__(self, app: ASGIApp) -> None:
        self.dashboard = DashboardCors(
            app,
            allow_origins=[],
            allow_credentials=True,
            allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "X-Request-ID", "X-Impersonation", "X-Storefront-Key"],
            expose_headers=["X-Request-ID", "Retry-After"],
            max_age=600,
        )
        self.storefront = CORSMiddleware(
            app,
            allow_origins=["*"],
            allow_credentials=False,
            allow_methods=["GET", "POST"],
            allow_headers=["Content-Type", "X-Storefront-Key", "X-Request-ID"],
            expose_headers=["X-Request-ID", "Retry-After"],
            max_age=3600,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        storefront = path.startswith(STOREFRONT_PATH_PREFIX) or path == STOREFRONT_EVENTS_PATH
        if storefront and self.dashboard.is_allowed_origin(_origin_of(scope)):
            storefront = False  # the dashboard's own preview of recommendations, with its bearer token
        await (self.storefront if storefront else self.dashboard)(scope, receive, send)


def _origin_of(scope: Scope) -> str:
    return next((value.decode("latin-1") for name, value in scope.get("headers", []) if name == b"origin"), "")


@lru_cache(maxsize=1)
def _path_methods(app: FastAPI) -> tuple[tuple[re.Pattern[str], frozenset[str]], ...]:
    patterns = []
    for template, operations in app.openapi()["paths"].items():
        regex = "^" + re.sub(r"\\{[^}]+\\}", "[^/]+", re.escape(template)) + "$"
        patterns.append((re.compile(regex), frozenset(method.upper() for method in operations)))
    return tuple(patterns)


def allowed_methods(app: FastAPI, path: str) -> list[str]:
    methods: set[str] = set()
    for pattern, operations in _path_methods(app):
        if pattern.match(path):
            methods |= operations
    return sorted(methods)


def create_app() -> FastAPI:
    app_env = os.environ.get("APP_ENV", "prod")  # unknown means prod: no interactive docs
    show_docs = app_env != "prod"
    app = FastAPI(
        title="LuxeBrain API",
        version=API_VERSION,
        description=(
            "Decisions for WooCommerce stores: recommendations, forecasts, customer scores, prices.\n\n"
            "Authenticate with `Authorization: Bearer <access token>` from `POST /auth/login`; storefront "
            "widgets use `X-Storefront-Key` on the recommendation routes. Errors are RFC 9457 problem+json."
        ),
        docs_url="/docs" if show_docs else None,
        redoc_url=None,
        openapi_url="/openapi.json" if show_docs else None,
    )

    @app.exception_handler(LuxeBrainError)
    async def domain_error(request: Request, exc: LuxeBrainError) -> JSONResponse:
        problem = problem_for_error(exc)
        if problem.status >= 500:
            logger.exception("internal error", extra={"request_id": request.state.request_id})
            metrics.add_metric(name="UnhandledErrors", unit=MetricUnit.Count, value=1)
        return problem_response(problem, request.state.request_id, request.url.path)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        return problem_response(validation_problem(list(exc.errors())), request.state.request_id, request.url.path)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        detail = exc.detail if isinstance(exc.detail, str) else None
        problem = problem_for_status(exc.status_code, detail)
        headers = {**problem.headers, **(exc.headers or {})}
        if exc.status_code == 405:
            # The router names only the first route whose path matched; RFC 9110 wants every method.
            headers["Allow"] = ", ".join(allowed_methods(app, request.url.path)) or headers.get("allow", "")
        return problem_response(
            Problem(problem.status, problem.title, problem.detail, problem.type, problem.extensions, headers),
            request.state.request_id,
            request.url.path,
        )

    @app.get("/health", tags=["meta"], summary="Liveness: answers without touching any dependency")
    async def health() -> dict[str, str]:
        return {"status": "ok", "version": API_VERSION}

    for router_module in (
        auth,
        account,
        stores,
        admin,
        privacy,
        recommendations,
        forecasts,
        customers,
        prices,
        overview,
        merchandising,
        storefront,
        store_health,
        team,
    ):
        app.include_router(router_module.router, responses=PROBLEM_RESPONSES)
    _include_optional_routers(app)
    _document_problems(app)

    app.add_middleware(SplitCors)
    app.add_middleware(RequestContextMiddleware)
    return app


def _include_optional_routers(app: FastAPI) -> None:
    """Training and campaign routes live with their own engineers' code; included when present."""
    import importlib

    for name in ("training", "campaigns"):
        try:
            module = importlib.import_module(f"api.routers.{name}")
        except ModuleNotFoundError as exc:
            if exc.name and exc.name.endswith(f"routers.{name}"):
                continue
            raise
        app.include_router(module.router, responses=PROBLEM_RESPONSES)


def _document_problems(app: FastAPI) -> None:
    """Every error is problem+json: the OpenAPI document says so (and names the shape once)."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = generate()
            schema.setdefault("components", {}).setdefault("schemas", {})["ProblemDetails"] = (
                ProblemDetails.model_json_schema(ref_template="#/components/schemas/{model}")
            )
            definitions = schema["components"]["schemas"]["ProblemDetails"].pop("$defs", {})
            schema["components"]["schemas"].update(definitions)
            schema["components"]["schemas"].update(storefront.batch_schemas())
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


app = create_app()
# problem+json is text: without it Mangum would base64-encode every error body.
TEXT_MIME_TYPES = ["text/", "application/json", "application/problem+json", "application/javascript"]
_mangum = Mangum(app, lifespan="off", text_mime_types=TEXT_MIME_TYPES)


_thread_state = threading.local()


def _ensure_event_loop() -> None:
    """Mangum runs the app on ``asyncio.get_event_loop()``, which exists only in the main thread; the local
    gateway invokes handlers from request threads. One loop per thread, kept, so its thread pool is reused."""
    if getattr(_thread_state, "loop", None) is None:
        _thread_state.loop = asyncio.new_event_loop()
        asyncio.set_event_loop(_thread_state.loop)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP, log_event=False, clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics(capture_cold_start_metric=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """API Gateway HTTP API (v2) event in, proxy response out."""
    _ensure_event_loop()
    return _mangum(event, context)


def openapi_document() -> str:
    """The OpenAPI document as JSON (also generated when /openapi.json is not served, e.g. in prod)."""
    return json.dumps(app.openapi(), indent=2, sort_keys=True)

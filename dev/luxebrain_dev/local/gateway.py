"""A local API Gateway: each HTTP API of the SAM-translated template on its own base URL on 127.0.0.1, with
its routes and JWT authorizers as API Gateway reads them from the OpenAPI body SAM generates.

Request → the API's route (method + path of ``x-amazon-apigateway-integration``, API Gateway's precedence)
→ its authorizer (401 without calling the function, as API Gateway answers) → event (HTTP API payload 2.0)
→ ``handler(event, context)`` of the integration's function → response (statusCode, headers, cookies, body,
isBase64Encoded) back to the client. A path no route of that API matches is a 404, even when another API
has it: merchants' webhooks reach the receiver only at the ingest API's own URL.
"""

from __future__ import annotations

import base64
import json
import os
import re
import threading
import time
import uuid
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from luxebrain.errors import ConfigurationError
from luxebrain.observability import logger
from luxebrain_dev.infra_template import IntrinsicResolver, load_template, references, resources_of_type
from luxebrain_dev.local.authorizers import AuthorizerRefusal, JwtAuthorizer
from luxebrain_dev.local.embedded import MOTO_ACCOUNT_ID, LocalResources, running_resources
from luxebrain_dev.local.functions import LocalFunction, LoopbackHTTPServer, load_functions
from luxebrain_dev.sam_transform import translated_template

TEXT_CONTENT_TYPES = re.compile(r"^(text/|application/(json|xml|javascript|x-www-form-urlencoded)|[^;]*\+json)")
MAX_REQUEST_BYTES = 10 * 1024 * 1024  # API Gateway's payload limit
MAIN_API = "ApiHttpApi"  # the dashboard / storefront / admin API; ``start()`` returns its URL
HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch"}
ANY_METHOD = "x-amazon-apigateway-any-method"
INTEGRATION_FUNCTION = re.compile(r"\$\{(\w+)\.Arn\}")


@dataclass(frozen=True)
class Route:
    method: str  # upper case, or ANY
    path_template: str  # /webhooks/woocommerce/{tenant_id}/{store_id}
    pattern: re.Pattern[str]
    function: LocalFunction
    payload_version: str  # "2.0" for HttpApi, "1.0" for Api
    api_id: str = MAIN_API  # logical id of the API the route belongs to
    authorizer: str | None = None  # name of the API's security scheme; None: open (``Authorizer: NONE``)
    scopes: tuple[str, ...] = ()

    @property
    def route_key(self) -> str:
        return f"{self.method} {self.path_template}"

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


def _integration_function(api_id: str, route_key: str, integration: dict[str, Any]) -> str:
    uri = integration.get("uri")
    text = uri.get("Fn::Sub") if isinstance(uri, dict) else uri
    found = INTEGRATION_FUNCTION.search(text) if isinstance(text, str) else None
    if integration.get("type") != "aws_proxy" or found is None:
        raise ConfigurationError(f"{api_id}: route {route_key} does not integrate a Lambda function (aws_proxy)")
    return found.group(1)


def load_routes(translated: dict[str, Any] | None = None, template: dict[str, Any] | None = None) -> list[Route]:
    """Every route of every HTTP API in the translated template, most specific first."""
    translated = translated or translated_template()
    functions = load_functions(template or load_template())
    routes = []
    for api_id, resource in resources_of_type(translated, "AWS::ApiGatewayV2::Api").items():
        body = (resource.get("Properties") or {}).get("Body")
        if not isinstance(body, dict):
            raise ConfigurationError(f"{api_id}: the local gateway needs the API's OpenAPI body (no Body)")
        default_security = body.get("security") or []
        for path, operations in (body.get("paths") or {}).items():
            for key, operation in operations.items():
                if key != ANY_METHOD and key not in HTTP_METHODS:
                    continue
                method = "ANY" if key == ANY_METHOD else key.upper()
                path_template = "/{proxy+}" if path == "$default" else path
                route_key = f"{method} {path_template}"
                integration = operation.get("x-amazon-apigateway-integration") or {}
                function_id = _integration_function(api_id, route_key, integration)
                if function_id not in functions:
                    raise ConfigurationError(f"{api_id}: route {route_key} targets {function_id}, not a zip function")
                security = operation.get("security", default_security) or []
                requirement = security[0] if security else {}
                authorizer, scopes = next(iter(requirement.items()), (None, []))
                routes.append(
                    Route(
                        method=method,
                        path_template=path_template,
                        pattern=_compile(path_template),
                        function=functions[function_id],
                        payload_version=str(integration.get("payloadFormatVersion", "2.0")),
                        api_id=api_id,
                        authorizer=None if authorizer in (None, "NONE") else authorizer,
                        scopes=tuple(scopes or ()),
                    )
                )
    routes.sort(key=lambda route: route.specificity)
    return routes


def load_authorizers(
    translated: dict[str, Any], resolver: IntrinsicResolver, jwks_url_for: Any
) -> dict[tuple[str, str], JwtAuthorizer]:
    """(API logical id, scheme name) → its JWT authorizer, issuer and audiences resolved."""
    authorizers = {}
    for api_id, resource in resources_of_type(translated, "AWS::ApiGatewayV2::Api").items():
        body = (resource.get("Properties") or {}).get("Body") or {}
        schemes = (body.get("components") or {}).get("securitySchemes") or {}
        for name, scheme in schemes.items():
            spec = scheme.get("x-amazon-apigateway-authorizer") or {}
            if spec.get("type") != "jwt":
                raise ConfigurationError(f"{api_id}: authorizer {name} is not a JWT authorizer; not served locally")
            configuration = resolver.resolve(spec.get("jwtConfiguration") or {})
            source = str(spec.get("identitySource", "$request.header.Authorization"))
            if not source.startswith("$request.header."):
                raise ConfigurationError(f"{api_id}: authorizer {name} reads {source}; only headers are served")
            authorizers[(api_id, name)] = JwtAuthorizer(
                name=name,
                issuer=str(configuration["issuer"]),
                audiences=tuple(str(item) for item in configuration.get("audience") or ()),
                identity_header=source.removeprefix("$request.header.").lower(),
                jwks_url_for=jwks_url_for,
            )
    return authorizers


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
    authorizer: dict[str, Any] | None = None,
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
    route_key = route.route_key
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
    if authorizer is not None:
        event["requestContext"]["authorizer"] = authorizer
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
    """The template's HTTP APIs, each on its own port. ``with LocalGateway() as url:`` (the main API's URL) or
    ``start()`` / ``stop()``; ``url_of(api_id)`` for the others."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        resources: LocalResources | None = None,
        translated: dict[str, Any] | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self._resources = resources
        self.translated = translated or translated_template()
        self.routes = load_routes(self.translated)
        self.api_ids = sorted({route.api_id for route in self.routes})
        self.authorizers: dict[tuple[str, str], JwtAuthorizer] = {}
        self._servers: dict[str, ThreadingHTTPServer] = {}
        self._saved_environ: dict[str, str | None] = {}

    @property
    def url(self) -> str:
        return self.url_of(MAIN_API if MAIN_API in self.api_ids else self.api_ids[0])

    @property
    def urls(self) -> dict[str, str]:
        return {api_id: self.url_of(api_id) for api_id in self._servers}

    def url_of(self, api_id: str) -> str:
        server = self._servers.get(api_id)
        if server is None:
            raise RuntimeError(f"the local gateway is not serving {api_id}")
        host, port = server.server_address[:2]
        return f"http://{host}:{port}"

    def route_for(self, method: str, path: str, api_id: str = MAIN_API) -> tuple[Route, dict[str, str]] | None:
        for route in self.routes:
            if route.api_id != api_id:
                continue
            parameters = route.match(method, path)
            if parameters is not None:
                return route, parameters
        return None

    def start(self) -> str:
        resources = self._resources or running_resources()
        resolver = resources.resolver
        self.authorizers = load_authorizers(self.translated, resolver, _jwks_locator(resources))
        for api_id in self.api_ids:
            port = self.port if api_id == MAIN_API else 0
            server = LoopbackHTTPServer((self.host, port), self._request_handler(api_id))
            threading.Thread(target=server.serve_forever, name=f"local-gateway-{api_id}", daemon=True).start()
            self._servers[api_id] = server
            host, bound = server.server_address[:2]
            # What the stack would know once the API exists: its Ref and its endpoint.
            resolver.refs[api_id] = api_id.lower()
            resolver.attributes[(api_id, "ApiEndpoint")] = f"http://{host}:{bound}"
        self._set_api_environment(resolver)
        return self.url

    def _set_api_environment(self, resolver: IntrinsicResolver) -> None:
        """Functions' variables that name an API (e.g. the ingest API's URL for the webhook URL merchants are
        given): resolvable only now, set for the process (the functions share it); a clash is an error."""
        wanted: dict[str, str] = {}
        for logical_id, function in resources_of_type(self.translated, "AWS::Lambda::Function").items():
            variables = ((function.get("Properties") or {}).get("Environment") or {}).get("Variables") or {}
            for name, value in variables.items():
                if not references(value, set(self.api_ids)):
                    continue
                resolved = str(resolver.resolve(value))
                if wanted.setdefault(name, resolved) != resolved:
                    raise ConfigurationError(f"{logical_id}: {name} differs between functions (one process here)")
        for name, value in wanted.items():
            self._saved_environ.setdefault(name, os.environ.get(name))
            os.environ[name] = value
        from luxebrain.runtime import reset_runtime  # settings are read once per process

        reset_runtime()

    def _request_handler(self, api_id: str) -> type[BaseHTTPRequestHandler]:
        gateway = self

        class RequestHandler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body are written separately; without this, Nagle's algorithm and the client's
            # delayed ACK add ~40 ms to every response.
            disable_nagle_algorithm = True

            def log_message(self, format: str, *args: Any) -> None:
                return  # the functions log; per-request access lines would drown them

            def _handle(self) -> None:
                gateway._serve(self, api_id)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_HEAD = _handle

        return RequestHandler

    def stop(self) -> None:
        for server in self._servers.values():
            server.shutdown()
            server.server_close()
        self._servers.clear()
        for name, value in self._saved_environ.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        if self._saved_environ:
            from luxebrain.runtime import reset_runtime

            reset_runtime()
        self._saved_environ.clear()

    def __enter__(self) -> str:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _serve(self, request: BaseHTTPRequestHandler, api_id: str) -> None:
        split = urlsplit(request.path)
        method = request.command.upper()
        length = int(request.headers.get("content-length") or 0)
        if length > MAX_REQUEST_BYTES:
            self._write(request, 413, [("content-type", "application/json")], b'{"message":"Request too large"}')
            return
        raw_body = request.rfile.read(length) if length else b""
        found = self.route_for(method, split.path, api_id)
        if found is None:
            self._write(request, 404, [("content-type", "application/json")], b'{"message":"Not Found"}')
            return
        route, parameters = found
        authorizer_context = None
        if route.authorizer is not None:
            authorizer = self.authorizers[(route.api_id, route.authorizer)]
            headers = {name.lower(): value for name, value in request.headers.items()}
            try:
                authorizer_context = authorizer.authorize(headers, route.scopes)
            except AuthorizerRefusal as refusal:
                self._write(
                    request,
                    401,
                    [("content-type", "application/json"), ("www-authenticate", refusal.www_authenticate)],
                    b'{"message":"Unauthorized"}',
                )
                return
        common = (route, method, split.path, split.query, list(request.headers.items()), raw_body, parameters)
        if route.payload_version == "2.0":
            event = build_http_api_event(*common, source_ip=request.client_address[0], authorizer=authorizer_context)
        else:
            event = build_rest_api_event(*common, source_ip=request.client_address[0])
        try:
            result = route.function.invoke(event)
            status, headers_out, body = shape_response(result, route.payload_version)
        except Exception:
            # What API Gateway answers when the function fails; the traceback goes to the log.
            logger.exception("local function failed", extra={"function": route.function.logical_id})
            status = 500
            headers_out = [("content-type", "application/json")]
            body = b'{"message":"Internal Server Error"}'
        self._write(request, status, headers_out, b"" if method == "HEAD" else body)

    @staticmethod
    def _write(request: BaseHTTPRequestHandler, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
        request.send_response(status)
        for name, value in headers:
            if name.lower() not in ("content-length", "connection", "transfer-encoding"):
                request.send_header(name, value)
        request.send_header("content-length", str(len(body)))
        request.end_headers()
        request.wfile.write(body)


COGNITO_ISSUER = re.compile(r"^https://cognito-idp\.[a-z0-9-]+\.amazonaws\.com/(?P<pool>[\w-]+)$")


def _jwks_locator(resources: LocalResources) -> Any:
    """Cognito's issuer names AWS; the embedded Cognito (moto) serves the pool's keys at its own address."""

    def locate(issuer: str) -> str:
        found = COGNITO_ISSUER.match(issuer)
        if found is None:
            return issuer.rstrip("/") + "/.well-known/jwks.json"
        return f"{resources.endpoint_url}/{found.group('pool')}/.well-known/jwks.json"

    return locate

"""Shortcuts that make the embedded AWS answer sooner without answering differently.

- **In-process transport.** moto's server (werkzeug's development server) closes the connection after every
  response, so each AWS call of this process paid a TCP connect, a new server thread and a wait for the socket
  to drain. A call from this process to the embedded endpoint is handed to the same WSGI application directly,
  with the environ the server would have built from the same request; the server keeps listening for other
  processes (the aws CLI, a second shell) as before.
- **DynamoDB attribute values.** moto parses every request and serialises every response through the service
  model, so each attribute value of each item walks all ten members of ``AttributeValue`` (most of the time of
  a large query). An attribute value that is plain JSON already (strings, numbers, booleans, lists and maps of
  them) is copied as is: the same result, which the generic walk still gives anything else (binary values).
- **DynamoDB items.** moto checks the 400 KB item limit on each attribute it adds to a new item by re-measuring
  every attribute already there (quadratic in the attributes: an order item took milliseconds to build). A new
  item is measured once, against the same limit, with the same error beyond it; and a value is measured without
  copying each nested value first (a query measures every item it returns, twice).
- **DynamoDB queries.** moto answers every query by sorting every item of the table and then picking the
  partition's (a 20-item partition of a 4,300-item table: 177 ms, 22 ms without the sort; the demo's table holds
  ten times more). A query of the table reads its
  partition only, and a query of an index skips the table-wide sort (the index's own sort orders by the index's
  keys and then the table's, which are unique, so the first sort decided nothing). The answer is the same.
- **Per-request bookkeeping.** moto lists a response class's methods with ``inspect.getmembers`` on every
  request, and tokenises every condition expression again (a conditional write's expression is the same text
  each time, its values differ): the methods are listed once per class, and the tokens of a text are kept (each
  parse gets its own copy, so nothing later in the parse is shared).
- **DynamoDB past Flask.** moto's server hands each request to a Flask application per service (URL routing,
  a request context, CORS and error handlers: a twentieth of a write's time), whose one DynamoDB view calls
  moto's handler with the request and wraps its answer in a Flask response. An in-process DynamoDB request is
  handed to that handler directly, as the view does, and answered with the same response.
- **Condition expressions.** moto parses a write's condition expression twice per request (once to validate the
  request, once to decide the write), each time through seven passes over its tokens; the back-fill's newer-wins
  writes send the same text thousands of times with other values. The syntax tree of a text (given the same
  attribute names and the same value placeholders) is kept, and each parse puts that request's values into a copy
  of it before moto builds its condition from it: the condition decides by the request's own values.
"""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from io import BytesIO
from typing import Any
from urllib.parse import unquote, urlsplit

_routes: dict[str, Any] = {}  # "host:port" of an embedded endpoint -> moto's WSGI application
_routes_lock = threading.Lock()
# DynamoDB applies each request atomically (a conditional write's check and its write are one step); moto's
# backends take no lock, so two threads' requests could interleave between the check and the write and both
# succeed. One in-process request at a time keeps AWS's atomicity (re-entrant for a request that calls moto again).
_request_lock = threading.RLock()
_over_http = threading.local()  # set in a thread that must reach moto's server over HTTP (the tests' reference)
_transport_installed = False
# (class, method name) -> (moto's own method, its stand-in here)
_replaced: dict[tuple[Any, str], tuple[Any, Any]] = {}
MAX_REMEMBERED_EXPRESSIONS = 10_000


def _replace(owner: Any, name: str, stand_in: Any) -> Any:
    """Put ``stand_in`` in place of ``owner.name`` (once) and return moto's own method."""
    if (owner, name) not in _replaced:
        _replaced[(owner, name)] = (getattr(owner, name), stand_in)
        setattr(owner, name, stand_in)
    return _replaced[(owner, name)][0]


@contextmanager
def moto_as_shipped() -> Iterator[None]:
    """moto's own methods back for the block (to compare what the stand-ins answer with what moto does)."""
    for (owner, name), (shipped, _) in _replaced.items():
        setattr(owner, name, shipped)
    try:
        yield
    finally:
        for (owner, name), (_, stand_in) in _replaced.items():
            setattr(owner, name, stand_in)


ITEM_SIZE_LIMIT = 405_000  # moto's LimitedSizeDict: between DynamoDB's 409 and 410 KB, as measured by moto


# ----------------------------------------------------------------------------- in-process transport
def serve_in_process(endpoint_url: str, application: Any) -> None:
    """From now on botocore's requests to ``endpoint_url`` are answered by ``application`` in this process."""
    _install_transport()
    with _routes_lock:
        _routes[urlsplit(endpoint_url).netloc] = application


def stop_serving_in_process(endpoint_url: str) -> None:
    with _routes_lock:
        _routes.pop(urlsplit(endpoint_url).netloc, None)


@contextmanager
def over_http() -> Iterator[None]:
    """This thread's calls go to moto's server over HTTP, as before the shortcut (to compare the two)."""
    _over_http.active = True
    try:
        yield
    finally:
        _over_http.active = False


def _install_transport() -> None:
    global _transport_installed
    if _transport_installed:
        return
    import botocore.endpoint

    original_send = botocore.endpoint.Endpoint._send

    def send(endpoint: Any, request: Any) -> Any:
        application = _routes.get(urlsplit(request.url).netloc)
        if application is None or getattr(_over_http, "active", False):
            return original_send(endpoint, request)
        return answer_in_process(application, request)

    botocore.endpoint.Endpoint._send = send  # type: ignore[method-assign]
    _transport_installed = True


def answer_in_process(application: Any, request: Any) -> Any:
    """``request`` (botocore's prepared request) through the WSGI ``application``, as botocore's response."""
    from botocore.awsrequest import AWSResponse
    from moto.core.botocore_stubber import MockRawResponse

    status_line = ""
    response_headers: list[tuple[str, str]] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        nonlocal status_line, response_headers
        status_line, response_headers = status, headers
        return lambda data: chunks.append(data)

    chunks: list[bytes] = []
    environ = wsgi_environ(request)
    try:
        with _request_lock:
            _through_application(application, environ, start_response, chunks)
    except Exception:
        # What werkzeug's server does with an exception from the application: log it and answer 500.
        logging.getLogger("werkzeug").exception("Error on request %s %s", request.method, request.url)
        from werkzeug.exceptions import InternalServerError

        chunks.clear()
        _run(InternalServerError(), environ, start_response, chunks)
    headers: dict[str, str] = {}
    for name, value in response_headers:  # repeated headers joined, as urllib3 reads them
        headers[name] = f"{headers[name]}, {value}" if name in headers else value
    status = int(status_line.split(None, 1)[0])
    return AWSResponse(request.url, status, headers, MockRawResponse(b"".join(chunks)))


def _through_application(application: Any, environ: dict[str, Any], start_response: Any, chunks: list[bytes]) -> None:
    _run(application, environ, start_response, chunks)


def dynamodb_past_flask() -> None:
    """A DynamoDB request goes to moto's handler as moto's Flask view hands it over (see the module doc)."""
    this_module = sys.modules[__name__]
    if (this_module, "_through_application") in _replaced:
        return
    from botocore.exceptions import ClientError
    from flask import Response
    from moto.dynamodb.responses import DynamoHandler
    from moto.moto_api import recorder
    from moto.moto_server.werkzeug_app import BackendRequest
    from moto.settings import DISABLE_GLOBAL_CORS
    from werkzeug.exceptions import HTTPException

    through_application = _through_application

    def answer(application: Any, environ: dict[str, Any], start_response: Any, chunks: list[bytes]) -> None:
        if (
            not str(environ.get("HTTP_X_AMZ_TARGET", "")).startswith(DYNAMODB_TARGET_PREFIX)
            or environ["REQUEST_METHOD"] == "OPTIONS"
            or "HTTP_ORIGIN" in environ  # a browser's request: Flask's CORS answers it
        ):
            return through_application(application, environ, start_response, chunks)
        # What moto's view (convert_to_flask_response) does with the request Flask made from this environ.
        request = BackendRequest(environ)
        try:
            recorder._record_request(request)
            try:
                result = DynamoHandler.dispatch(request, request.raw_url, dict(request.headers))
            except ClientError as exc:
                result = 400, {}, exc.response["Error"]["Message"]
        except HTTPException as exc:  # Flask answers these with the exception's own response
            return _run(exc, environ, start_response, chunks)
        status, headers, content = result if len(result) == 3 else (200, {}, result)
        response = Response(response=content, status=status, headers=headers)
        if request.method == "HEAD" and "content-length" in headers:
            response.headers["Content-Length"] = headers["content-length"]
        if not DISABLE_GLOBAL_CORS:  # what moto's CORS adds to a request without an Origin
            response.headers["Access-Control-Allow-Origin"] = "*"
        _run(response, environ, start_response, chunks)

    _replace(this_module, "_through_application", answer)


DYNAMODB_TARGET_PREFIX = "DynamoDB_20120810."


def _run(application: Any, environ: dict[str, Any], start_response: Any, chunks: list[bytes]) -> None:
    result = application(environ, start_response)
    try:
        chunks.extend(result)
    finally:
        close = getattr(result, "close", None)
        if close is not None:
            close()


def wsgi_environ(request: Any) -> dict[str, Any]:
    """The environ werkzeug's server (with moto's request handler) builds for this request."""
    from moto.core.request import (
        PRESERVED_HEADER_NAMES_ENVIRON_KEY,
        environ_key_for_header,
        should_preserve_original_header_name,
    )
    from werkzeug._internal import _wsgi_encoding_dance

    split = urlsplit(request.url)
    body = request.body
    if body is None:
        data = b""
    elif isinstance(body, bytes | bytearray):
        data = bytes(body)
    elif isinstance(body, str):
        data = body.encode("utf-8")
    else:  # a file-like body (an upload): read it, and rewind it for a retry
        position = body.tell() if hasattr(body, "tell") else None
        data = body.read()
        data = data.encode("utf-8") if isinstance(data, str) else data
        if position is not None and hasattr(body, "seek"):
            body.seek(position)
    target = split.path + (f"?{split.query}" if split.query else "")
    environ: dict[str, Any] = {
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": split.scheme or "http",
        "wsgi.input": BytesIO(data),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
        "SERVER_SOFTWARE": "embedded-aws",
        "REQUEST_METHOD": request.method,
        "SCRIPT_NAME": "",
        "PATH_INFO": _wsgi_encoding_dance(unquote(split.path)),
        "QUERY_STRING": _wsgi_encoding_dance(split.query),
        "REQUEST_URI": _wsgi_encoding_dance(target),
        "RAW_URI": _wsgi_encoding_dance(target),
        "REMOTE_ADDR": "127.0.0.1",
        "REMOTE_PORT": 0,
        "SERVER_NAME": split.hostname or "127.0.0.1",
        "SERVER_PORT": str(split.port or 80),
        "SERVER_PROTOCOL": "HTTP/1.1",
    }
    preserved: dict[str, str] = {}
    for name, raw_value in request.headers.items():
        value = (raw_value.decode("latin-1") if isinstance(raw_value, bytes) else str(raw_value)).replace("\r\n", "")
        if name.lower() == "transfer-encoding":
            continue  # the body above is already whole
        if "_" in name:
            if not should_preserve_original_header_name(name):
                continue  # the server drops these
            preserved.setdefault(environ_key_for_header(name), name)
        key = environ_key_for_header(name)
        environ[key] = f"{environ[key]},{value}" if key in environ and key.startswith("HTTP_") else value
    environ["CONTENT_LENGTH"] = str(len(data))
    if "HTTP_HOST" not in environ:
        environ["HTTP_HOST"] = split.netloc
    environ[PRESERVED_HEADER_NAMES_ENVIRON_KEY] = preserved
    return environ


# ----------------------------------------------------------------------------- DynamoDB attribute values
_PLAIN_STRING_MEMBERS = frozenset({"S", "N"})
_PLAIN_STRING_SET_MEMBERS = frozenset({"SS", "NS"})
_PLAIN_BOOLEAN_MEMBERS = frozenset({"BOOL", "NULL"})
_FAST_SERVICES = frozenset({"dynamodb", "dynamodbstreams"})


def plain_attribute_value(value: Any) -> dict[str, Any] | None:
    """A copy of a DynamoDB attribute value holding no binary data, or None (then the generic walk runs)."""
    if not isinstance(value, dict) or len(value) != 1:
        return None
    ((member, inner),) = value.items()
    if member in _PLAIN_STRING_MEMBERS:
        return {member: inner} if isinstance(inner, str) else None
    if member in _PLAIN_BOOLEAN_MEMBERS:
        return {member: inner} if isinstance(inner, bool) else None
    if member in _PLAIN_STRING_SET_MEMBERS:
        if isinstance(inner, list) and all(isinstance(item, str) for item in inner):
            return {member: list(inner)}
        return None
    if member == "M" and isinstance(inner, dict):
        mapped = {}
        for name, item in inner.items():
            copied = plain_attribute_value(item)
            if copied is None or not isinstance(name, str):
                return None
            mapped[name] = copied
        return {"M": mapped}
    if member == "L" and isinstance(inner, list):
        listed = []
        for item in inner:
            copied = plain_attribute_value(item)
            if copied is None:
                return None
            listed.append(copied)
        return {"L": listed}
    return None


def fast_attribute_values() -> None:
    """Serialise DynamoDB's plain attribute values by copying them (see the module doc)."""
    from moto.core.serialize import BaseJSONSerializer

    generic = BaseJSONSerializer._serialize_type_structure
    if (BaseJSONSerializer, "_serialize_type_structure") in _replaced:
        return

    def serialize_structure(serializer: Any, serialized: Any, value: Any, shape: Any, key: str) -> None:
        if (
            key
            and shape.name == "AttributeValue"
            and serializer.service_model.service_name in _FAST_SERVICES
            and (copied := plain_attribute_value(value)) is not None
        ):
            serialized[serializer.get_serialized_name(shape, key)] = copied
            return
        generic(serializer, serialized, value, shape, key)

    _replace(BaseJSONSerializer, "_serialize_type_structure", serialize_structure)

    from moto.core.parse import BaseJSONParser

    parse_generic = BaseJSONParser._parse_structure

    def parse_structure(parser: Any, shape: Any, value: Any) -> Any:
        if (
            shape.name == "AttributeValue"
            and parser.MAP_TYPE is dict
            and parser.operation_model.service_model.service_name in _FAST_SERVICES
            and (copied := plain_attribute_value(value)) is not None
        ):
            return copied
        return parse_generic(parser, shape, value)

    _replace(BaseJSONParser, "_parse_structure", parse_structure)


def measure_new_items_once() -> None:
    """Build a moto item measuring its size once (see the module doc); later updates are checked by moto."""
    from moto.dynamodb.exceptions import ItemSizeTooLarge
    from moto.dynamodb.models.dynamo_type import DynamoType, Item, LimitedSizeDict
    from moto.dynamodb.models.utilities import bytesize

    def build_item(item: Any, hash_key: Any, range_key: Any, attrs: dict[str, Any]) -> None:
        item.hash_key = hash_key
        item.range_key = range_key
        values = {key: DynamoType(value) for key, value in attrs.items()}
        if sum(bytesize(key) + value.size() for key, value in values.items()) > ITEM_SIZE_LIMIT:
            raise ItemSizeTooLarge
        item.attrs = LimitedSizeDict.__new__(LimitedSizeDict)
        dict.update(item.attrs, values)  # past the per-insert check: the whole was measured above

    _replace(Item, "__init__", build_item)

    def size(value: Any) -> int:  # DynamoType.size without wrapping every nested value again to measure it
        kind = value.type
        if kind == "N":
            return len(str(value.value))
        if kind in ("SS", "NS", "BS"):
            return sum(len(str(member)) if kind == "NS" else bytesize(member) for member in value.value)
        if kind == "L":
            return sum(member.size() for member in value.value)
        if kind == "M":
            return sum(
                bytesize(key) + (member.size() if type(member) is DynamoType else DynamoType(member).size())
                for key, member in value.value.items()
            )
        if isinstance(value.value, bool):
            return 1
        return bytesize(value.value)

    _replace(DynamoType, "size", size)


_query_scope = threading.local()  # the table being queried in this thread, and the partition of a table query


def partition_queries() -> None:
    """Answer DynamoDB queries from the partition, or unsorted for an index (see the module doc)."""
    from moto.dynamodb.models.table import Table

    if (Table, "query") in _replaced:
        return
    generic_query, generic_all_items = Table.query, Table.all_items

    def query(table: Any, hash_key: Any, *args: Any, **kwargs: Any) -> Any:
        index_name = kwargs["index_name"] if "index_name" in kwargs else (args[6] if len(args) > 6 else None)
        _query_scope.table, _query_scope.partition = table, None if index_name else hash_key
        try:
            return generic_query(table, hash_key, *args, **kwargs)
        finally:
            _query_scope.table = _query_scope.partition = None

    def all_items(table: Any) -> list[Any]:
        if getattr(_query_scope, "table", None) is not table:
            return generic_all_items(table)  # a scan, an export: in the table's order
        partition = _query_scope.partition
        if partition is None:  # an index query: sorted by the index's keys, then the table's
            return [item for hash_set in table.items.values() for item in _items_of(table, hash_set)]
        # A table query sorts its partition by range key; given them sorted by the values its comparisons
        # compare (DynamoType's < is cast_value's <), that sort checks the order once instead of sorting again
        # with two property reads per comparison (a paged read of 12,000 orders sorted them at every page).
        items = _items_of(table, table.items.get(partition))
        if table.range_key_attr:
            items.sort(key=lambda item: item.range_key.cast_value)
        return items

    _replace(Table, "query", query)
    _replace(Table, "all_items", all_items)


def _items_of(table: Any, hash_set: Any) -> list[Any]:
    if hash_set is None:
        return []
    return list(hash_set.values()) if table.range_key_attr else [hash_set]


def remember_per_request_bookkeeping() -> None:
    """List a response class's methods once, and tokenise a condition expression once (see the module doc)."""
    import moto.core.responses
    from moto.dynamodb.comparisons import ConditionExpressionParser

    if (moto.core.responses, "method_names_from_class") in _replaced:
        return
    list_methods = moto.core.responses.method_names_from_class
    methods_of: dict[type, list[str]] = {}

    def method_names_from_class(cls: type) -> list[str]:
        if cls not in methods_of:
            methods_of[cls] = list_methods(cls)
        return list(methods_of[cls])

    _replace(moto.core.responses, "method_names_from_class", method_names_from_class)

    tokenise = ConditionExpressionParser._lex_condition_expression
    tokens_of: dict[str, list[tuple[Any, Any, Any, Any]]] = {}

    def lex_condition_expression(parser: Any) -> Any:
        from collections import deque

        text = parser.condition_expression
        tokens = tokens_of.get(text)
        if tokens is None:
            nodes = tokenise(parser)  # raises on a malformed expression, which is never remembered
            if len(tokens_of) >= MAX_REMEMBERED_EXPRESSIONS:
                tokens_of.clear()
            if all(not node.children for node in nodes):
                tokens_of[text] = [(node.nonterminal, node.kind, node.text, node.value) for node in nodes]
            return nodes
        return deque(
            parser.Node(nonterminal=nonterminal, kind=kind, text=text_, value=value, children=[])
            for nonterminal, kind, text_, value in tokens
        )

    _replace(ConditionExpressionParser, "_lex_condition_expression", lex_condition_expression)


_Node = Any  # moto's ConditionExpressionParser.Node (a named tuple)


def remember_parsed_conditions() -> None:
    """Keep the syntax tree of each condition expression parsed (see the module doc)."""
    from moto.dynamodb.comparisons import ConditionExpressionParser

    if (ConditionExpressionParser, "parse") in _replaced:
        return
    shipped_parse = ConditionExpressionParser.parse
    build_condition = ConditionExpressionParser._make_op_condition
    value_kind = ConditionExpressionParser.Kind.EXPRESSION_ATTRIBUTE_VALUE
    # (text, attribute names, value placeholders) -> (tree, names found, value placeholders found)
    trees: dict[tuple[str, tuple[tuple[str, str], ...], tuple[str, ...]], tuple[_Node, list[str], list[str]]] = {}

    def parse(parser: Any) -> Any:
        text = parser.condition_expression
        names = parser.expression_attribute_names or {}
        values = parser.expression_attribute_values or {}
        if not text or not isinstance(names, dict) or not isinstance(values, dict):
            return shipped_parse(parser)
        key = (text, tuple(sorted(names.items())), tuple(sorted(values)))
        remembered = trees.get(key)
        if remembered is None:
            roots: list[_Node] = []

            def record_root(node: _Node) -> Any:  # the first node moto builds a condition from is the root
                if not roots:
                    roots.append(node)
                return build_condition(parser, node)

            parser._make_op_condition = record_root
            try:
                condition = shipped_parse(parser)  # raises on a malformed expression, which is never remembered
            finally:
                del parser._make_op_condition
            if roots:
                if len(trees) >= MAX_REMEMBERED_EXPRESSIONS:
                    trees.clear()
                trees[key] = (roots[0], list(parser.expr_attr_names_found), list(parser.expr_attr_values_found))
            return condition
        tree, names_found, values_found = remembered
        parser.expr_attr_names_found.extend(names_found)
        parser.expr_attr_values_found.extend(values_found)
        return build_condition(parser, _with_values(tree, values, value_kind))

    _replace(ConditionExpressionParser, "parse", parse)


def _with_values(node: _Node, values: dict[str, Any], value_kind: str) -> _Node:
    """A copy of a condition's syntax tree holding ``values`` at its value placeholders (the rest is shared)."""
    if node.kind == value_kind:
        return node._replace(value=values[node.text])
    if not node.children:
        return node
    return node._replace(children=[_with_values(child, values, value_kind) for child in node.children])

"""The template's Lambda functions, loaded in this process: handler import by file path and a fake context.

Shared by the local API gateway and the local SQS event sources, so both run exactly the code and the
handler named in infra/template.yaml.
"""

from __future__ import annotations

import functools
import importlib.util
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import ThreadingHTTPServer
from pathlib import Path
from types import ModuleType
from typing import Any

from luxebrain.errors import ConfigurationError
from luxebrain_dev.infra_template import TEMPLATE_DIR, load_template, resources_of_type
from luxebrain_dev.local.embedded import LOCAL_REGION, MOTO_ACCOUNT_ID
from luxebrain_dev.local.iam import acting_as

Handler = Callable[[dict[str, Any], Any], Any]


class LoopbackHTTPServer(ThreadingHTTPServer):
    """The local servers' HTTP server: daemon threads, and a client that hung up (a timed-out test client,
    Ctrl-C on curl) is not an error worth a traceback."""

    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


class LocalLambdaContext:
    """The attributes and method of Lambda's context object that handlers and Powertools use."""

    def __init__(self, function_name: str, timeout_seconds: float, memory_mb: int) -> None:
        self.function_name = function_name
        self.function_version = "$LATEST"
        self.invoked_function_arn = f"arn:aws:lambda:{LOCAL_REGION}:{MOTO_ACCOUNT_ID}:function:{function_name}"
        self.memory_limit_in_mb = memory_mb
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{function_name}"
        self.log_stream_name = time.strftime("%Y/%m/%d/[$LATEST]") + uuid.uuid4().hex
        self._deadline = time.monotonic() + timeout_seconds

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


@dataclass
class LocalFunction:
    logical_id: str
    code_uri: str
    handler_spec: str  # "module.function" as in the template
    timeout_seconds: float
    memory_mb: int
    events: dict[str, dict[str, Any]]
    # One Lambda execution environment runs one invocation at a time; the lock gives the same guarantee
    # to handlers' module-level state (Powertools' logger keys and metrics buffer).
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _handler: Handler | None = field(default=None, repr=False)

    @property
    def handler(self) -> Handler:
        if self._handler is None:
            self._handler = import_handler(self.code_uri, self.handler_spec, self.logical_id)
        return self._handler

    def invoke(self, event: dict[str, Any]) -> Any:
        handler = self.handler
        with self.lock:
            context = LocalLambdaContext(self.logical_id, self.timeout_seconds, self.memory_mb)
            return handler(event, context)


def import_handler_module(
    code_uri: str, module_path: str, logical_id: str, template_dir: Path = TEMPLATE_DIR
) -> ModuleType:
    """The handler's module from the function's CodeUri folder, imported by file path once, under a module name
    of its own (two areas may both have a ``handler.py``); tests reach its handler factory through it."""
    folder = (template_dir / code_uri).resolve()
    source = folder / (module_path.replace(".", "/") + ".py")
    if not source.exists():
        raise ConfigurationError(f"{logical_id}: handler source {source} does not exist")
    if str(folder) not in sys.path:
        sys.path.append(str(folder))  # sibling modules of the handler import as they do in Lambda
    module_name = f"luxebrain_local_{folder.name}_{module_path.replace('.', '_')}"
    module = sys.modules.get(module_name)
    if module is None:
        spec = importlib.util.spec_from_file_location(module_name, source)
        if spec is None or spec.loader is None:
            raise ConfigurationError(f"{logical_id}: cannot import {source}")
        module = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = module
        spec.loader.exec_module(module)
    return module


def import_handler(code_uri: str, handler_spec: str, logical_id: str, template_dir: Path = TEMPLATE_DIR) -> Handler:
    """Import ``module.function`` from the function's CodeUri folder by file path, under a module name of
    its own (two areas may both have a ``handler.py``)."""
    module_path, _, function_name = handler_spec.rpartition(".")
    module = import_handler_module(code_uri, module_path, logical_id, template_dir)
    handler = getattr(module, function_name, None)
    if not callable(handler):
        raise ConfigurationError(f"{logical_id}: {module.__file__} has no callable {function_name}")
    return as_function(logical_id, handler)


def as_function(logical_id: str, handler: Handler) -> Handler:
    """The handler, its AWS calls made as ``logical_id`` (authorized against that function's role)."""

    @functools.wraps(handler)
    def invoke_as_function(event: dict[str, Any], context: Any) -> Any:
        with acting_as(logical_id):
            return handler(event, context)

    return invoke_as_function


class FunctionApp:
    """An ASGI app whose AWS calls are made as the template function that serves it (the API's tests drive
    the FastAPI app directly; in Lambda, Mangum's handler is that function)."""

    def __init__(self, logical_id: str, app: Any) -> None:
        self.logical_id = logical_id
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        with acting_as(self.logical_id):
            await self.app(scope, receive, send)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.app, name)


def load_functions(template: dict[str, Any] | None = None) -> dict[str, LocalFunction]:
    template = template or load_template()
    globals_ = template.get("Globals", {}).get("Function", {})
    functions = {}
    for logical_id, resource in resources_of_type(template, "AWS::Serverless::Function").items():
        properties = resource.get("Properties", {})
        code_uri = properties.get("CodeUri", globals_.get("CodeUri"))
        handler_spec = properties.get("Handler", globals_.get("Handler"))
        if not isinstance(code_uri, str) or not isinstance(handler_spec, str):
            continue  # container-image functions or intrinsic CodeUris are not run locally
        functions[logical_id] = LocalFunction(
            logical_id=logical_id,
            code_uri=code_uri,
            handler_spec=handler_spec,
            timeout_seconds=float(properties.get("Timeout", globals_.get("Timeout", 3))),
            memory_mb=int(properties.get("MemorySize", globals_.get("MemorySize", 128))),
            events=properties.get("Events", {}) or {},
        )
    return functions

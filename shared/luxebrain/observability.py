"""One Logger, Tracer and Metrics for every function, configured by POWERTOOLS_* variables (template
Globals). Log records are scrubbed of secrets and personal data before they are written."""

from __future__ import annotations

import functools
import logging
import os
import re
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer

SENSITIVE_KEY = re.compile(
    r"(secret|password|token|authorization|api[_-]?key|consumer[_-]?key|signature|e-?mail|phone|cookie)",
    re.IGNORECASE,
)
EMAIL_IN_TEXT = re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+")
PHONE_IN_TEXT = re.compile(r"\+\d[\d ().-]{6,18}\d")  # E.164-like numbers, as providers echo them in errors
REDACTED = "[redacted]"


def redact(value: Any, key: str = "") -> Any:
    """A copy of ``value`` with sensitive keys' values and e-mail addresses in text replaced."""
    if key and SENSITIVE_KEY.search(key):
        return REDACTED
    if isinstance(value, dict):
        return {k: redact(v, str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact(item) for item in value]
    if isinstance(value, str):
        return scrub_text(value)
    return value


def scrub_text(text: str) -> str:
    """Free text with e-mail addresses and phone numbers replaced (provider errors quote recipients)."""
    return PHONE_IN_TEXT.sub(REDACTED, EMAIL_IN_TEXT.sub(REDACTED, text))


class RedactingFilter(logging.Filter):
    """Scrubs the message and every extra key of a record (Powertools puts extras on the record)."""

    _STANDARD = set(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {"message", "asctime"}

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = scrub_text(record.msg)
        elif isinstance(record.msg, dict):
            record.msg = redact(record.msg)
        for key in list(record.__dict__):
            if key not in self._STANDARD:
                record.__dict__[key] = redact(record.__dict__[key], key)
        return True


# Defaults equal the template's Globals, so a process that imports this module before its environment is
# set (the local CLI starts the embedded AWS after importing) still names its service and namespace.
SERVICE_NAME = os.getenv("POWERTOOLS_SERVICE_NAME", "luxebrain")
METRICS_NAMESPACE = os.getenv("POWERTOOLS_METRICS_NAMESPACE", "LuxeBrain")

logger = Logger(service=SERVICE_NAME, log_uncaught_exceptions=True)
logger.addFilter(RedactingFilter())


def tracing_disabled() -> bool:
    """POWERTOOLS_TRACE_DISABLED, as Powertools reads it (local runs and tests set it)."""
    return os.getenv("POWERTOOLS_TRACE_DISABLED", "false").strip().lower() in {"1", "true", "yes", "on", "y"}


class LazyTracer:
    """Powertools' Tracer, made on the first traced invocation instead of at import: making it imports the
    X-Ray SDK and the botocore session of its sampler (a third of a second of a cold import), which a run
    with tracing off never needs. With Tracing: Active, Lambda's first invocation pays it instead."""

    def __init__(self, service: str) -> None:
        self._service = service
        self._tracer: Tracer | None = None

    @property
    def tracer(self) -> Tracer:
        if self._tracer is None:
            self._tracer = Tracer(service=self._service)
        return self._tracer

    def capture_lambda_handler(
        self,
        lambda_handler: Callable[..., Any] | None = None,
        *,
        capture_response: bool | None = None,
        capture_error: bool | None = None,
    ) -> Any:
        """``Tracer.capture_lambda_handler``, with or without arguments, the tracer made on the first call."""
        if lambda_handler is None:
            return functools.partial(
                self.capture_lambda_handler, capture_response=capture_response, capture_error=capture_error
            )
        handler = lambda_handler
        traced: list[Callable[..., Any]] = []

        @functools.wraps(handler)
        def invoke(event: Any, context: Any, **kwargs: Any) -> Any:
            if not traced:
                traced.append(
                    handler
                    if tracing_disabled()
                    else self.tracer.capture_lambda_handler(
                        handler, capture_response=capture_response, capture_error=capture_error
                    )
                )
            return traced[0](event, context, **kwargs)

        return invoke


tracer = LazyTracer(service=SERVICE_NAME)
metrics = Metrics(namespace=METRICS_NAMESPACE, service=SERVICE_NAME)


def bind_tenant(tenant_id: str | None) -> None:
    """Every following log line of this invocation carries the tenant id."""
    if tenant_id:
        logger.append_keys(tenant_id=tenant_id)

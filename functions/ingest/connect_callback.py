"""wc-auth callback: POST /woocommerce/connect/callback (public, on the ingest API) → store connected → 200.

WooCommerce POSTs the new REST keys here (JSON; form-encoded accepted too) once the merchant approves, and
shows the merchant an error unless it gets a 200. The tenant is trusted only once the one-time state in
``user_id`` is verified (luxebrain.woocommerce.connection). A connected store gets its webhooks registered and
its history back-filled through the back-fill queue.
"""

from __future__ import annotations

import base64
import json
from typing import Any
from urllib.parse import parse_qsl

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from luxebrain.adapters.aws import queue, secrets_vault
from luxebrain.billing.usage import plan_usage
from luxebrain.errors import LuxeBrainError
from luxebrain.ingest.backfill_queue import request_backfill
from luxebrain.observability import bind_tenant, logger, metrics, tracer
from luxebrain.storage.tenants import tenant_repository
from luxebrain.webapi.problems import Problem, problem_for_error, problem_for_status
from luxebrain.woocommerce.connection import CALLBACK_PATH, ConnectionCallback, complete_connection

MAX_BODY_BYTES = 16_384


class CallbackRequest(BaseModel):
    """The parts of an API Gateway HTTP API (payload v2.0) event the callback reads."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    headers: dict[str, str] = Field(default_factory=dict)
    body: str = ""
    is_base64_encoded: bool = Field(default=False, alias="isBase64Encoded")

    def fields(self) -> Any:
        raw = base64.b64decode(self.body) if self.is_base64_encoded else self.body.encode("utf-8")
        if len(raw) > MAX_BODY_BYTES:
            raise ValueError("body too large")
        content_type = {k.lower(): v for k, v in self.headers.items()}.get("content-type", "")
        if content_type.startswith("application/x-www-form-urlencoded"):
            return dict(parse_qsl(raw.decode("utf-8"), keep_blank_values=True))
        return json.loads(raw)


def _problem(problem: Problem, event: dict[str, Any]) -> dict[str, Any]:
    context = event.get("requestContext") or {}
    body = problem.body(
        instance=str(event.get("rawPath") or CALLBACK_PATH), request_id=str(context.get("requestId", ""))
    )
    return {
        "statusCode": problem.status,
        "headers": {"content-type": "application/problem+json", **problem.headers},
        "body": json.dumps(body),
        "isBase64Encoded": False,
    }


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@metrics.log_metrics
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    try:
        callback = ConnectionCallback.model_validate(CallbackRequest.model_validate(event).fields())
    except (ValidationError, ValueError):
        metrics.add_metric(name="StoreConnectRefused", unit=MetricUnit.Count, value=1)
        detail = "expected key_id, user_id, consumer_key, consumer_secret and key_permissions"
        return _problem(problem_for_status(400, detail), event)
    try:
        result = complete_connection(callback, vault=secrets_vault(), tenants=tenant_repository(), usage=plan_usage())
    except LuxeBrainError as exc:
        metrics.add_metric(name="StoreConnectRefused", unit=MetricUnit.Count, value=1)
        logger.warning("store connection refused", extra={"status": exc.status_code, "reason": str(exc)})
        return _problem(problem_for_error(exc), event)
    bind_tenant(result.tenant_id)
    # Queued on every successful callback, a repeated one included: if queueing failed after the store was
    # stored, WooCommerce's retry still gets the webhooks registered (both steps are idempotent).
    request_backfill(queue("backfill_queue_url"), result.tenant_id, result.store_id, connect=True)
    metrics.add_metric(name="StoreConnected" if result.created else "StoreReconnected", unit=MetricUnit.Count, value=1)
    return {
        "statusCode": 200,
        "headers": {"content-type": "application/json"},
        "body": json.dumps({"status": "connected", "store_id": result.store_id}),
        "isBase64Encoded": False,
    }

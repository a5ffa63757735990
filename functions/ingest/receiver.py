"""Webhook receiver: POST /webhooks/woocommerce/{tenant_id}/{store_id} → verify → ingest queue → 200.

The tenant and store in the path are only trusted once the signature verifies with that store's secret.
"""

from __future__ import annotations

import base64
import json
from functools import partial
from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from luxebrain.adapters.aws import queue, secrets_vault
from luxebrain.errors import InvalidInputError, LuxeBrainError
from luxebrain.ingest.errors import BadDeliveryError, InvalidSignatureError, PayloadTooLargeError, UnknownStoreError
from luxebrain.ingest.receiver import Delivery, receive_delivery, store_webhook_secret
from luxebrain.observability import logger, metrics, tracer
from luxebrain.storage.tenants import tenant_repository
from luxebrain.tenancy import validate_entity_id, validate_tenant_id


class WebhookRequest(BaseModel):
    """The parts of an API Gateway HTTP API (payload v2.0) event the receiver reads."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    path_parameters: dict[str, str] = Field(alias="pathParameters")
    headers: dict[str, str] = Field(default_factory=dict)
    body: str = ""
    is_base64_encoded: bool = Field(default=False, alias="isBase64Encoded")

    def raw_body(self) -> bytes:
        # The signature covers the bytes WooCommerce sent; API Gateway base64-encodes non-text bodies.
        return base64.b64decode(self.body) if self.is_base64_encoded else self.body.encode("utf-8")


def _response(status_code: int, payload: dict[str, Any]) -> dict[str, Any]:
    return {
        "statusCode": status_code,
        "headers": {"content-type": "application/json"},
        "body": json.dumps(payload),
        "isBase64Encoded": False,
    }


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@metrics.log_metrics
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    try:
        request = WebhookRequest.model_validate(event)
        raw_body = request.raw_body()
    except (ValidationError, ValueError):
        return _refused(BadDeliveryError("malformed request"))
    try:
        tenant_id = validate_tenant_id(request.path_parameters.get("tenant_id", ""))
        store_id = validate_entity_id(request.path_parameters.get("store_id", ""), "store id")
    except InvalidInputError:
        return _refused(UnknownStoreError("no such store"))  # a malformed id names no store
    delivery = Delivery(
        tenant_id=tenant_id,
        store_id=store_id,
        headers={name.lower(): value for name, value in request.headers.items()},
        raw_body=raw_body,
    )
    try:
        result = receive_delivery(
            delivery,
            webhook_secret=partial(store_webhook_secret, vault=secrets_vault(), tenants=tenant_repository()),
            ingest_queue=queue("ingest_queue_url"),
        )
    except (InvalidSignatureError, UnknownStoreError, PayloadTooLargeError, BadDeliveryError) as exc:
        return _refused(exc)
    metrics.add_metric(
        name="WebhookPing" if result.outcome == "ping" else "WebhookQueued", unit=MetricUnit.Count, value=1
    )
    return _response(200, {"status": result.outcome, "topic": result.topic})


def _refused(exc: LuxeBrainError) -> dict[str, Any]:
    name = "WebhookSignatureInvalid" if isinstance(exc, InvalidSignatureError) else "WebhookRefused"
    metrics.add_metric(name=name, unit=MetricUnit.Count, value=1)
    logger.warning("webhook refused", extra={"status": exc.status_code, "reason": str(exc)})
    return _response(exc.status_code, {"message": str(exc)})

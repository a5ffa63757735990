"""The local runtime pieces ingest depends on: the gateway's routing, API Gateway events and response
shaping, and that the template wires the ingest functions the way the code expects."""

from __future__ import annotations

import base64
import json

from luxebrain.ingest.processor import MAX_RECEIVE_COUNT
from luxebrain_dev.infra_template import load_template, resources_of_type
from luxebrain_dev.local.gateway import build_http_api_event, load_routes, shape_response


def test_webhook_route_is_found_with_its_path_parameters() -> None:
    routes = load_routes()
    matches = [(r, r.match("POST", "/webhooks/woocommerce/t-abc123/s-42")) for r in routes]
    route, parameters = next((r, p) for r, p in matches if p is not None)
    assert route.function.logical_id == "IngestReceiverFunction"
    assert parameters == {"tenant_id": "t-abc123", "store_id": "s-42"}
    assert route.match("GET", "/webhooks/woocommerce/t-abc123/s-42") is None
    assert route.match("POST", "/webhooks/woocommerce/t-abc123/s-42/extra") is None


def test_http_api_event_has_lower_cased_headers_and_base64_for_binary_bodies() -> None:
    route = next(r for r in load_routes() if r.function.logical_id == "IngestReceiverFunction")
    headers = [
        ("Content-Type", "application/octet-stream"),
        ("X-WC-Webhook-Topic", "order.updated"),
        ("Cookie", "a=1; b=2"),
    ]
    event = build_http_api_event(
        route, "POST", "/webhooks/woocommerce/t/s", "x=1&x=2", headers, b"\xff\x00", {"tenant_id": "t"}
    )
    assert event["version"] == "2.0"
    assert event["headers"]["x-wc-webhook-topic"] == "order.updated"
    assert event["isBase64Encoded"] and base64.b64decode(event["body"]) == b"\xff\x00"
    assert event["cookies"] == ["a=1", "b=2"]
    assert event["queryStringParameters"] == {"x": "1,2"}
    assert event["requestContext"]["http"]["method"] == "POST" and event["requestContext"]["requestId"]
    text = build_http_api_event(route, "POST", "/p", "", [("content-type", "application/json")], b'{"a":1}', {})
    assert text["body"] == '{"a":1}' and not text["isBase64Encoded"]


def test_responses_are_shaped_like_api_gateway() -> None:
    assert shape_response({"statusCode": 401, "headers": {"a": "b"}, "body": "no"}, "2.0") == (401, [("a", "b")], b"no")
    status, _, body = shape_response({"ok": True}, "2.0")  # HTTP API's shortcut for a bare dict
    assert status == 200 and json.loads(body) == {"ok": True}
    raw = base64.b64encode(b"\x89PNG").decode()
    assert shape_response({"statusCode": 200, "body": raw, "isBase64Encoded": True}, "2.0")[2] == b"\x89PNG"


def test_template_wires_the_ingest_functions_as_the_code_expects() -> None:
    template = load_template()
    queues = resources_of_type(template, "AWS::SQS::Queue")
    assert queues["IngestQueue"]["Properties"]["RedrivePolicy"]["maxReceiveCount"] == MAX_RECEIVE_COUNT
    functions = resources_of_type(template, "AWS::Serverless::Function")
    processor_event = functions["IngestProcessorFunction"]["Properties"]["Events"]["IngestQueueEvents"]["Properties"]
    assert processor_event["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    backfill = functions["IngestBackfillFunction"]["Properties"]
    # The back-fill queue must not hand a slice to a second worker while the first is still running.
    assert int(queues["BackfillQueue"]["Properties"]["VisibilityTimeout"]) >= 6 * backfill["Timeout"]
    receiver_policies = json.dumps(functions["IngestReceiverFunction"]["Properties"]["Policies"])
    assert "DynamoDBCrudPolicy" not in receiver_policies  # least privilege: the receiver only reads

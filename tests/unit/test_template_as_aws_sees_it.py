"""infra/template.yaml after the real SAM transform, checked for what AWS enforces and cfn-lint does not: each
function's runtime, memory and timeout within Lambda's limits, API functions within API Gateway's 30 s,
SQS visibility at least the consumer's timeout (six times, AWS's guidance for SQS event sources), and a
template the transform refuses failing with a message that names the resource."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from luxebrain.errors import ConfigurationError
from luxebrain_dev.infra_template import DEFAULT_TEMPLATE_PATH, IntrinsicResolver, resources_of_type
from luxebrain_dev.sam_transform import translated_template

LAMBDA_MAX_TIMEOUT = 900
HTTP_API_MAX_INTEGRATION_SECONDS = 30
SQS_MAX_VISIBILITY = 43200
VISIBILITY_TIMES_TIMEOUT = 6
# Queues kept below six times their consumer's timeout, with the reason.
VISIBILITY_EXCEPTIONS = {
    # A crashed training run (900 s timeout, 930 s lease) is retried after 16 minutes instead of 90; the
    # worker's MaximumConcurrency caps invocations, so a throttled message is not received and dropped.
    "TrainQueue": "retry a crashed training run within the night's window",
}


@pytest.fixture(scope="module")
def translated() -> dict[str, Any]:
    return translated_template(parameters={"AppEnv": "prod"})


def _functions(translated: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        logical_id: resource["Properties"]
        for logical_id, resource in resources_of_type(translated, "AWS::Lambda::Function").items()
    }


def test_every_function_runs_python312_within_lambda_limits(translated: dict[str, Any]) -> None:
    for logical_id, function in _functions(translated).items():
        if function.get("PackageType") != "Image":
            assert function["Runtime"] == "python3.12", logical_id
            assert function["Architectures"] == ["x86_64"], logical_id
        assert 1 <= function.get("Timeout", 3) <= LAMBDA_MAX_TIMEOUT, logical_id
        assert 128 <= function.get("MemorySize", 128) <= 10240, logical_id


def test_functions_behind_an_http_api_answer_within_its_integration_timeout(translated: dict[str, Any]) -> None:
    functions = _functions(translated)
    integrated = set()
    for resource in resources_of_type(translated, "AWS::ApiGatewayV2::Api").values():
        for operations in resource["Properties"]["Body"]["paths"].values():
            for operation in operations.values():
                uri = str(operation.get("x-amazon-apigateway-integration", {}).get("uri"))
                integrated |= {logical_id for logical_id in functions if f"${{{logical_id}.Arn}}" in uri}
    assert {"ApiFunction", "IngestReceiverFunction"} <= integrated
    for logical_id in integrated:
        assert functions[logical_id].get("Timeout", 3) < HTTP_API_MAX_INTEGRATION_SECONDS, logical_id


def test_sqs_visibility_covers_each_consumer(translated: dict[str, Any]) -> None:
    functions = _functions(translated)
    queues = resources_of_type(translated, "AWS::SQS::Queue")
    mappings = resources_of_type(translated, "AWS::Lambda::EventSourceMapping")
    assert mappings, "no SQS event sources found"
    for mapping_id, mapping in mappings.items():
        properties = mapping["Properties"]
        source = properties["EventSourceArn"]
        if "Fn::GetAtt" not in source:
            continue
        queue_id = source["Fn::GetAtt"][0]
        function_ref = properties["FunctionName"]
        function_id = function_ref.get("Ref") if isinstance(function_ref, dict) else function_ref
        timeout = functions[function_id].get("Timeout", 3)
        visibility = queues[queue_id]["Properties"].get("VisibilityTimeout", 30)
        window = properties.get("MaximumBatchingWindowInSeconds", 0)
        assert visibility <= SQS_MAX_VISIBILITY, queue_id
        # CloudFormation refuses a mapping whose queue's visibility is below the function's timeout.
        assert visibility >= timeout, f"{mapping_id}: {queue_id} visibility {visibility} s < {function_id} {timeout} s"
        if queue_id not in VISIBILITY_EXCEPTIONS:
            assert visibility >= VISIBILITY_TIMES_TIMEOUT * timeout + window, (
                f"{queue_id}: visibility {visibility} s, AWS's guidance for {function_id} is "
                f"{VISIBILITY_TIMES_TIMEOUT * timeout + window} s"
            )


def test_a_template_the_transform_refuses_names_the_resource(tmp_path: Path) -> None:
    text = DEFAULT_TEMPLATE_PATH.read_text()
    # The mistake that reached main once: Authorizer NONE on an API without a default authorizer.
    broken = text.replace("        DefaultAuthorizer: CognitoJwt\n", "")
    assert broken != text
    path = tmp_path / "template.yaml"
    path.write_text(broken)
    with pytest.raises(ConfigurationError) as refused:
        translated_template(path)
    message = str(refused.value)
    assert "ApiFunction" in message and "DefaultAuthorizer" in message
    assert "Traceback" not in message


def _queue_id(value: Any) -> str | None:
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        return value["Fn::GetAtt"][0]
    return None


def test_every_failure_queue_has_a_depth_alarm_to_the_alarm_topic(translated: dict[str, Any]) -> None:
    resources = translated["Resources"]
    failure_queues: dict[str, str] = {}  # queue → what sends its failures there
    for logical_id, queue in resources_of_type(translated, "AWS::SQS::Queue").items():
        target = _queue_id((queue["Properties"].get("RedrivePolicy") or {}).get("deadLetterTargetArn"))
        if target:
            failure_queues[target] = f"redrive of {logical_id}"
    for logical_id, config in resources_of_type(translated, "AWS::Lambda::EventInvokeConfig").items():
        destination = config["Properties"]["DestinationConfig"]["OnFailure"]["Destination"]
        failure_queues[_queue_id(destination) or "?"] = f"on-failure of {logical_id}"
    for logical_id, schedule in resources_of_type(translated, "AWS::Scheduler::Schedule").items():
        target = _queue_id((schedule["Properties"]["Target"].get("DeadLetterConfig") or {}).get("Arn"))
        assert target, f"{logical_id}: a schedule without a dead-letter queue"
        failure_queues[target] = f"schedule {logical_id}"
    for logical_id, rule in resources_of_type(translated, "AWS::Events::Rule").items():
        for target in rule["Properties"]["Targets"]:
            queue = _queue_id((target.get("DeadLetterConfig") or {}).get("Arn"))
            assert queue, f"{logical_id}: an EventBridge target without a dead-letter queue"
            failure_queues[queue] = f"rule {logical_id}"
    alarmed = {}
    for logical_id, alarm in resources_of_type(translated, "AWS::CloudWatch::Alarm").items():
        properties = alarm["Properties"]
        if properties.get("MetricName") != "ApproximateNumberOfMessagesVisible":
            continue
        assert properties["AlarmActions"] == [{"Ref": "AlarmTopic"}], logical_id
        for dimension in properties["Dimensions"]:
            alarmed[_queue_id(dimension["Value"])] = logical_id
    for queue, source in failure_queues.items():
        assert queue in resources, f"{source}: {queue} is not a resource of the stack"
        assert queue in alarmed, f"{queue} ({source}) has no depth alarm"
    assert set(failure_queues) >= {"IngestDeadLetterQueue", "AsyncFailureQueue"}


def test_asynchronously_invoked_functions_keep_their_failures(translated: dict[str, Any]) -> None:
    """Schedules, EventBridge rules and SNS invoke Lambda asynchronously: what fails after Lambda's own retries
    is lost unless the function has an on-failure destination."""
    invoked = set()
    for schedule in resources_of_type(translated, "AWS::Scheduler::Schedule").values():
        invoked.add(_queue_id(schedule["Properties"]["Target"]["Arn"]))
    for rule in resources_of_type(translated, "AWS::Events::Rule").values():
        invoked |= {_queue_id(target["Arn"]) for target in rule["Properties"]["Targets"]}
    for subscription in resources_of_type(translated, "AWS::SNS::Subscription").values():
        if subscription["Properties"]["Protocol"] == "lambda":
            invoked.add(_queue_id(subscription["Properties"]["Endpoint"]))
    configured = {
        config["Properties"]["FunctionName"]["Ref"]
        for config in resources_of_type(translated, "AWS::Lambda::EventInvokeConfig").values()
        if config["Properties"].get("DestinationConfig", {}).get("OnFailure")
    }
    assert invoked, "no asynchronous invocations found"
    assert invoked <= configured, f"without an on-failure destination: {sorted(invoked - configured)}"


# Handlers that decrypt a store's keys (``storage.tenants.get_store_secrets``), and the path that reaches it.
STORE_SECRET_READERS = {
    "receiver.handler": "verifies each webhook's signature with the store's secret",
    "processor.handler": "fetches an order's refund lines from the store with its REST keys",
    "backfill.handler": "calls the store's REST API with its keys",
    # A reconnect (or a retried callback) replaces the keys and keeps the webhook secret it decrypts.
    "connect_callback.handler": "replace_store_keys keeps the current webhook secret",
    "api.app.handler": "writes approved prices back to the store (ml.pricing.decisions)",
}


def _decrypts_the_secrets_key(role: dict[str, Any]) -> bool:
    for policy in role["Properties"].get("Policies", []):
        for statement in policy["PolicyDocument"]["Statement"]:
            actions = statement.get("Action", [])
            actions = [actions] if isinstance(actions, str) else actions
            if statement.get("Effect") == "Allow" and "kms:Decrypt" in actions and "SecretsKey" in str(statement):
                return True
    return False


def test_every_function_reading_store_secrets_may_decrypt_them(translated: dict[str, Any]) -> None:
    # moto does not enforce IAM: without this the callback's reconnect worked locally and was AccessDenied in AWS.
    roles = resources_of_type(translated, "AWS::IAM::Role")
    by_handler = {
        function.get("Handler"): (logical_id, function) for logical_id, function in _functions(translated).items()
    }
    assert set(STORE_SECRET_READERS) <= set(by_handler), set(STORE_SECRET_READERS) - set(by_handler)
    for handler, reason in STORE_SECRET_READERS.items():
        logical_id, function = by_handler[handler]
        role_id = function["Role"]["Fn::GetAtt"][0]
        assert _decrypts_the_secrets_key(roles[role_id]), f"{logical_id} needs kms:Decrypt on SecretsKey: {reason}"


# ----------------------------------------------------------------------------- operable on day one
STATEFUL = ("DataTable", "ModelsBucket", "SecretsKey", "UserPool")


def _stage(translated: dict[str, Any], app_env: str) -> IntrinsicResolver:
    return IntrinsicResolver(
        translated, stack_name="s", region="eu-west-1", account_id="1", parameters={"AppEnv": app_env}
    )


@pytest.mark.parametrize(("app_env", "policy"), [("prod", "Retain"), ("dev", "Delete")])
def test_tenant_data_outlives_a_prod_stack_and_is_protected_there(
    translated: dict[str, Any], app_env: str, policy: str
) -> None:
    stage = _stage(translated, app_env)
    resources = translated["Resources"]
    for logical_id in STATEFUL:
        assert stage.resolve(resources[logical_id]["DeletionPolicy"]) == policy, logical_id
        assert stage.resolve(resources[logical_id]["UpdateReplacePolicy"]) == policy, logical_id
    assert stage.resolve(resources["DataTable"]["Properties"]["DeletionProtectionEnabled"]) is (app_env == "prod")
    assert stage.resolve(resources["UserPool"]["Properties"]["DeletionProtection"]) == (
        "ACTIVE" if app_env == "prod" else "INACTIVE"
    )
    assert stage.resolve(resources["SecretsKey"]["Properties"]["PendingWindowInDays"]) == (
        30 if app_env == "prod" else 7
    )


def test_every_function_logs_to_its_own_group_kept_for_the_retention(translated: dict[str, Any]) -> None:
    resources = translated["Resources"]
    for logical_id, function in _functions(translated).items():
        group = function["LoggingConfig"]["LogGroup"]
        assert function["LoggingConfig"]["LogFormat"] == "JSON", logical_id
        group_id = group["Ref"]
        assert resources[group_id]["Type"] == "AWS::Logs::LogGroup", logical_id
        assert resources[group_id]["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}, logical_id


def test_both_http_apis_write_access_logs_to_a_kept_group(translated: dict[str, Any]) -> None:
    resources = translated["Resources"]
    stages = resources_of_type(translated, "AWS::ApiGatewayV2::Stage")
    apis = {stage["Properties"]["ApiId"]["Ref"]: stage["Properties"] for stage in stages.values()}
    assert set(apis) == {"ApiHttpApi", "IngestWebhookApi"}
    for api, stage in apis.items():
        settings = stage["AccessLogSettings"]
        group_id = settings["DestinationArn"]["Fn::GetAtt"][0]
        assert resources[group_id]["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}, api
        assert "$context.requestId" in settings["Format"] and "$context.status" in settings["Format"], api


def test_the_models_bucket_refuses_anything_but_tls(translated: dict[str, Any]) -> None:
    (policy,) = [
        p["Properties"]
        for p in resources_of_type(translated, "AWS::S3::BucketPolicy").values()
        if p["Properties"]["Bucket"] == {"Ref": "ModelsBucket"}
    ]
    (statement,) = policy["PolicyDocument"]["Statement"]
    assert statement["Effect"] == "Deny" and statement["Principal"] == "*" and statement["Action"] == "s3:*"
    assert statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert {"Fn::GetAtt": ["ModelsBucket", "Arn"]} in statement["Resource"]
    assert {"Fn::Sub": "${ModelsBucket.Arn}/*"} in statement["Resource"]


def test_mail_goes_out_from_a_dkim_signed_domain_identity_cognito_included(translated: dict[str, Any]) -> None:
    resources = translated["Resources"]
    identity = resources["CampaignSenderIdentity"]["Properties"]
    assert identity["EmailIdentity"] == {"Ref": "SenderDomain"}
    assert identity["DkimSigningAttributes"] == {"NextSigningKeyLength": "RSA_2048_BIT"}
    records = str(translated["Outputs"]["SesDkimRecords"]["Value"])
    for n in (1, 2, 3):
        assert f"DkimDNSTokenName{n}" in records and f"DkimDNSTokenValue{n}" in records
    deployed = _stage(translated, "prod").resolve(resources["UserPool"]["Properties"]["EmailConfiguration"])
    assert deployed["EmailSendingAccount"] == "DEVELOPER"
    assert deployed["SourceArn"] == "arn:aws:ses:eu-west-1:1:identity/luxebrain.example"
    senders = [
        statement
        for policy in resources["CampaignSenderFunctionRole"]["Properties"]["Policies"]
        for statement in policy["PolicyDocument"]["Statement"]
        if "ses:SendEmail" in statement["Action"]
    ]
    assert {"Fn::Sub": "arn:${AWS::Partition}:ses:${AWS::Region}:${AWS::AccountId}:identity/${SenderDomain}"} in (
        senders[0]["Resource"]
    )


def test_two_way_sms_reaches_the_inbound_topic_and_failures_are_kept(translated: dict[str, Any]) -> None:
    resources = translated["Resources"]
    (topic_policy,) = resources_of_type(translated, "AWS::SNS::TopicPolicy").values()
    assert topic_policy["Properties"]["Topics"] == [{"Ref": "SmsInboundTopic"}]
    (statement,) = topic_policy["Properties"]["PolicyDocument"]["Statement"]
    assert statement["Principal"] == {"Service": "sms-voice.amazonaws.com"} and statement["Action"] == "sns:Publish"
    role = resources["SmsTwoWayRole"]["Properties"]
    assert role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {"Service": "sms-voice.amazonaws.com"}
    assert role["Policies"][0]["PolicyDocument"]["Statement"][0]["Resource"] == {"Ref": "SmsInboundTopic"}
    subscriptions = [
        s["Properties"]
        for s in resources_of_type(translated, "AWS::SNS::Subscription").values()
        if s["Properties"]["Protocol"] == "lambda"
    ]
    assert subscriptions, "the provider-events function subscribes to the inbound topic"
    for subscription in subscriptions:
        queue = subscription["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"][0]
        policies = [
            p["Properties"]
            for p in resources_of_type(translated, "AWS::SQS::QueuePolicy").values()
            if {"Ref": queue} in p["Properties"]["Queues"]
        ]
        assert policies and policies[0]["PolicyDocument"]["Statement"][0]["Principal"] == {
            "Service": "sns.amazonaws.com"
        }

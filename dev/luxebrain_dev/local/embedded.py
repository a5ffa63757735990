"""The embedded AWS: moto's server in this process, on a loopback port, with every resource of
infra/template.yaml created by reading the template.

Only endpoint configuration differs from real AWS: ``AWS_ENDPOINT_URL`` points boto3 and pynamodb at the
local server, and the functions' environment variables are the template's Globals, resolved against the
resources created here. No other code path knows it runs locally.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3

from luxebrain.errors import ConfigurationError
from luxebrain_dev.infra_template import (
    IntrinsicResolver,
    UnresolvedReferenceError,
    load_template,
    references,
    resources_of_type,
)
from luxebrain_dev.local import moto_fast_paths

LOCAL_STACK_NAME = "luxebrain-local"
LOCAL_REGION = "us-east-1"
MOTO_ACCOUNT_ID = "123456789012"
LOCAL_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local"}

# Resource types that have no meaning inside one local process: functions run in process, schedules are
# fired by the CLI, IAM is checked in process (local/iam.py), and the API is served by the local ASGI server.
NOT_CREATED_LOCALLY = {
    "AWS::Serverless::Function",
    "AWS::Serverless::LayerVersion",
    "AWS::Serverless::Api",
    "AWS::Serverless::HttpApi",
    "AWS::Scheduler::Schedule",
    "AWS::Scheduler::ScheduleGroup",
    "AWS::Lambda::Permission",
    "AWS::Lambda::EventSourceMapping",
    "AWS::Lambda::Function",  # plain Lambda resources (the training worker's container image) run in process too
    "AWS::IAM::Role",
    "AWS::IAM::Policy",
    "AWS::CloudWatch::Alarm",
    # Functions log to stdout locally; resource policies name AWS service principals (SNS, End User
    # Messaging SMS) that do not exist here; the TLS-only bucket rule is the template test's to prove.
    "AWS::Logs::LogGroup",
    "AWS::S3::BucketPolicy",
    "AWS::SNS::TopicPolicy",
    "AWS::SQS::QueuePolicy",
    "AWS::ApiGateway::UsagePlan",
    "AWS::ApiGateway::ApiKey",
    "AWS::ApiGateway::UsagePlanKey",
}


@dataclass
class CreatedResource:
    logical_id: str
    resource_type: str
    physical_id: str


@dataclass
class LocalResources:
    """What the embedded AWS created, and the environment every function sees."""

    endpoint_url: str
    created: list[CreatedResource] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    environment: dict[str, str] = field(default_factory=dict)
    # Resolves the template's intrinsics against what was created (the local gateway adds its APIs).
    resolver: IntrinsicResolver | None = None

    def physical_id(self, logical_id: str) -> str:
        for resource in self.created:
            if resource.logical_id == logical_id:
                return resource.physical_id
        raise KeyError(logical_id)


def ensure_port_free(port: int, host: str = "127.0.0.1") -> None:
    if port == 0:
        return
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((host, port))
        except OSError:
            raise ConfigurationError(f"port {port} on {host} is in use; pick another with --port") from None


_running: LocalResources | None = None


def running_resources() -> LocalResources:
    """The resources of the embedded AWS this process started (the local gateway resolves against them)."""
    if _running is None:
        raise ConfigurationError("the embedded AWS is not running: start EmbeddedAws before the local gateway")
    return _running


class EmbeddedAws:
    """moto's ThreadedMotoServer plus the template's resources. Use as a context manager."""

    def __init__(self, *, port: int = 0, template_path: Path | None = None) -> None:
        self.port = port
        self.template_path = template_path
        self._server: Any = None
        self.endpoint_url: str | None = None
        self._saved_environ: dict[str, str | None] = {}
        self.resources: LocalResources | None = None

    def start(self, progress: Callable[[str], None] | None = None) -> LocalResources:
        template = load_template(self.template_path)  # fail on a bad template before starting anything
        ensure_port_free(self.port)
        from moto.server import ThreadedMotoServer  # moto is a dev / local dependency only

        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=self.port, verbose=False)
        self._server.start()
        _memoize_backend_lookup(self._server)
        host, port = self._server.get_host_and_port()
        endpoint_url = f"http://{host}:{port}"
        _wait_until_listening(host, port)
        self.endpoint_url = endpoint_url
        moto_fast_paths.fast_attribute_values()
        moto_fast_paths.measure_new_items_once()
        moto_fast_paths.partition_queries()
        moto_fast_paths.remember_per_request_bookkeeping()
        moto_fast_paths.remember_parsed_conditions()
        moto_fast_paths.dynamodb_past_flask()
        moto_fast_paths.serve_in_process(endpoint_url, self._server._server.app)
        self._set_environ(
            {
                "AWS_ENDPOINT_URL": endpoint_url,
                "AWS_REGION": LOCAL_REGION,
                "AWS_DEFAULT_REGION": LOCAL_REGION,
                **LOCAL_CREDENTIALS,
            }
        )
        try:
            self.resources = create_resources(template, endpoint_url, progress=progress)
        except Exception:
            self.stop()
            raise
        self._set_environ(self.resources.environment)
        self._start_iam_check(template)
        global _running
        _running = self.resources
        return self.resources

    def _start_iam_check(self, template: dict[str, Any]) -> None:
        """From here on, each function's AWS calls are authorized against its own role (local/iam.py)."""
        from luxebrain_dev.local import iam
        from luxebrain_dev.sam_transform import translated_template

        assert self.resources is not None and self.resources.resolver is not None
        translated = translated_template(self.template_path) if self.template_path else translated_template()
        resolver = IntrinsicResolver(
            translated,
            stack_name=LOCAL_STACK_NAME,
            region=LOCAL_REGION,
            account_id=MOTO_ACCOUNT_ID,
            parameters=self.resources.resolver.parameters,
        )
        resolver.refs.update(self.resources.resolver.refs)
        resolver.attributes.update(self.resources.resolver.attributes)
        try:
            book = iam.role_book(translated, resolver.resolve)
        except UnresolvedReferenceError as missing:
            raise ConfigurationError(
                f"a function's role names {missing}, which the embedded AWS did not create"
            ) from None
        identities = frozenset(
            created.physical_id
            for created in self.resources.created
            if created.resource_type == "AWS::SES::EmailIdentity"
        )
        names = {created.physical_id: created.logical_id for created in self.resources.created}
        names.update(
            {
                value: logical_id
                for (logical_id, attribute), value in resolver.attributes.items()
                if attribute == "QueueName"
            }
        )
        where = iam.Where(region=LOCAL_REGION, account=MOTO_ACCOUNT_ID, ses_identities=identities)
        iam.start_checking(book, where, names)

    def stop(self) -> None:
        global _running
        from luxebrain_dev.local import iam

        iam.stop_checking(trace_dir=os.environ.get(iam.TRACE_DIR_VARIABLE))
        if _running is self.resources:
            _running = None
        if self.endpoint_url is not None:
            moto_fast_paths.stop_serving_in_process(self.endpoint_url)
            self.endpoint_url = None
        if self._server is not None:
            self._server.stop()
            self._server = None
        for name, value in self._saved_environ.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        self._saved_environ.clear()
        from luxebrain.runtime import reset_runtime  # cached clients point at the stopped server

        reset_runtime()

    def _set_environ(self, values: dict[str, str]) -> None:
        for name, value in values.items():
            self._saved_environ.setdefault(name, os.environ.get(name))
            os.environ[name] = value
        from luxebrain.runtime import reset_runtime

        reset_runtime()

    def __enter__(self) -> LocalResources:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


@contextmanager
def embedded_aws(port: int = 0, template_path: Path | None = None) -> Iterator[LocalResources]:
    aws = EmbeddedAws(port=port, template_path=template_path)
    resources = aws.start()
    try:
        yield resources
    finally:
        aws.stop()


def _memoize_backend_lookup(server: Any) -> None:
    """moto's server finds the service of every request by listing its own package directory and matching ~200
    URL patterns, under one lock for all requests (a tenth of the back-fill's profile). The answer depends on
    the host name alone, so it is remembered per host (the same backend is answered, only sooner)."""
    dispatcher = getattr(getattr(server, "_server", None), "app", None)
    lookup = getattr(dispatcher, "get_backend_for_host", None)
    if lookup is None:
        return
    backends: dict[str | None, Any] = {}

    def get_backend_for_host(host: str | None) -> Any:
        if host not in backends:
            backends[host] = lookup(host)
        return backends[host]

    dispatcher.get_backend_for_host = get_backend_for_host


def _wait_until_listening(host: str, port: int, timeout_seconds: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_seconds
    while time.monotonic() < deadline:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            if probe.connect_ex((host, port)) == 0:
                return
        time.sleep(0.05)
    raise ConfigurationError(f"the embedded AWS did not start listening on {host}:{port}")


# ----------------------------------------------------------------------------- resource creation
def create_resources(
    template: dict[str, Any],
    endpoint_url: str,
    *,
    stack_name: str = LOCAL_STACK_NAME,
    progress: Callable[[str], None] | None = None,
) -> LocalResources:
    """Create every resource the template declares, in dependency order, and resolve the Globals env."""
    resolver = IntrinsicResolver(
        template,
        stack_name=stack_name,
        region=LOCAL_REGION,
        account_id=MOTO_ACCOUNT_ID,
        parameters={"AppEnv": "local"},
    )
    session = boto3.session.Session(region_name=LOCAL_REGION)
    result = LocalResources(endpoint_url=endpoint_url, resolver=resolver)
    pending = dict(template["Resources"])
    while pending:
        progressed = False
        for logical_id, resource in list(pending.items()):
            resource_type = resource.get("Type", "")
            condition = resource.get("Condition")
            if resource_type in NOT_CREATED_LOCALLY or (condition and not resolver.condition(condition)):
                result.skipped.append(logical_id)
                del pending[logical_id]
                progressed = True
                continue
            creator = RESOURCE_CREATORS.get(resource_type)
            if creator is None:
                raise ConfigurationError(
                    f"resource {logical_id} has type {resource_type}, which the embedded AWS cannot create; "
                    "add a creator in luxebrain/local/embedded.py or list it in NOT_CREATED_LOCALLY"
                )
            try:
                properties = resolver.resolve(resource.get("Properties", {}))
            except UnresolvedReferenceError:
                continue  # depends on a resource not created yet
            physical_id, attributes = creator(session, logical_id, properties, stack_name)
            resolver.refs[logical_id] = physical_id
            for attribute, value in attributes.items():
                resolver.attributes[(logical_id, attribute)] = value
            result.created.append(CreatedResource(logical_id, resource_type, physical_id))
            if progress:
                progress(f"created {resource_type} {logical_id}")
            del pending[logical_id]
            progressed = True
        if not progressed:
            raise ConfigurationError(
                "template resources reference each other in a cycle or reference unknown resources: "
                + ", ".join(sorted(pending))
            )
    variables = template.get("Globals", {}).get("Function", {}).get("Environment", {}).get("Variables", {})
    result.environment = {name: str(resolver.resolve(value)) for name, value in variables.items()}
    result.environment.update(_api_environment(template, resolver))
    pool_id = result.environment.get("LUXEBRAIN_USER_POOL_ID")
    if pool_id:
        # moto serves the pool's keys at its own address while the tokens name AWS's issuer.
        result.environment["LUXEBRAIN_JWKS_URL"] = f"{endpoint_url}/{pool_id}/.well-known/jwks.json"
    result.environment["POWERTOOLS_TRACE_DISABLED"] = "true"  # no X-Ray daemon on a laptop
    if result.environment.get("APP_ENV") == "local":
        # The demo's and tests' fake WooCommerce listens on 127.0.0.1 over http.
        result.environment["LUXEBRAIN_ALLOW_LOCAL_STORES"] = "true"
    return result


def _api_environment(template: dict[str, Any], resolver: IntrinsicResolver) -> dict[str, str]:
    """Functions' variables naming an HTTP API (the ingest API's URL): what the stack would give, an
    execute-api URL, until the local gateway serves the APIs and sets its own URLs instead."""
    apis = set(resources_of_type(template, "AWS::Serverless::HttpApi"))
    for api_id in apis:
        resolver.refs[api_id] = api_id.lower()
        resolver.attributes[(api_id, "ApiEndpoint")] = (
            f"https://{api_id.lower()}.execute-api.{LOCAL_REGION}.amazonaws.com"
        )
    environment: dict[str, str] = {}
    for function in resources_of_type(template, "AWS::Serverless::Function").values():
        variables = ((function.get("Properties") or {}).get("Environment") or {}).get("Variables") or {}
        for name, value in variables.items():
            if references(value, apis):
                environment[name] = str(resolver.resolve(value))
    return environment


Creator = Callable[[Any, str, dict[str, Any], str], tuple[str, dict[str, str]]]


def _pick(properties: dict[str, Any], *names: str) -> dict[str, Any]:
    return {name: properties[name] for name in names if name in properties}


def _default_name(stack_name: str, logical_id: str) -> str:
    return f"{stack_name}-{logical_id}".lower()


def _create_table(session: Any, logical_id: str, props: dict[str, Any], stack: str) -> tuple[str, dict[str, str]]:
    client = session.client("dynamodb")
    name = props.get("TableName") or _default_name(stack, logical_id)
    kwargs = _pick(
        props,
        "AttributeDefinitions",
        "KeySchema",
        "GlobalSecondaryIndexes",
        "LocalSecondaryIndexes",
        "BillingMode",
        "ProvisionedThroughput",
        "StreamSpecification",
    )
    description = client.create_table(TableName=name, **kwargs)["TableDescription"]
    ttl = props.get("TimeToLiveSpecification")
    if ttl and ttl.get("Enabled"):
        client.update_time_to_live(
            TableName=name, TimeToLiveSpecification={"AttributeName": ttl["AttributeName"], "Enabled": True}
        )
    attributes = {"Arn": description["TableArn"]}
    if "LatestStreamArn" in description:
        attributes["StreamArn"] = description["LatestStreamArn"]
    return name, attributes


def _create_bucket(session: Any, logical_id: str, props: dict[str, Any], stack: str) -> tuple[str, dict[str, str]]:
    client = session.client("s3")
    name = props.get("BucketName") or _default_name(stack, logical_id)
    client.create_bucket(Bucket=name)
    if props.get("VersioningConfiguration", {}).get("Status") == "Enabled":
        client.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    return name, {"Arn": f"arn:aws:s3:::{name}", "DomainName": f"{name}.s3.amazonaws.com"}


_QUEUE_ATTRIBUTES = (
    "FifoQueue",
    "ContentBasedDeduplication",
    "DeduplicationScope",
    "FifoThroughputLimit",
    "VisibilityTimeout",
    "MessageRetentionPeriod",
    "DelaySeconds",
    "ReceiveMessageWaitTimeSeconds",
    "MaximumMessageSize",
)


def _create_queue(session: Any, logical_id: str, props: dict[str, Any], stack: str) -> tuple[str, dict[str, str]]:
    client = session.client("sqs")
    name = props.get("QueueName") or _default_name(stack, logical_id) + (".fifo" if props.get("FifoQueue") else "")
    attributes = {
        key: str(value).lower() if isinstance(value, bool) else str(value)
        for key, value in _pick(props, *_QUEUE_ATTRIBUTES).items()
    }
    if "RedrivePolicy" in props:
        attributes["RedrivePolicy"] = json.dumps(props["RedrivePolicy"])
    url = client.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
    arn = client.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return url, {"Arn": arn, "QueueName": name, "QueueUrl": url}


def _create_key(session: Any, logical_id: str, props: dict[str, Any], stack: str) -> tuple[str, dict[str, str]]:
    metadata = session.client("kms").create_key(Description=props.get("Description", logical_id))["KeyMetadata"]
    return metadata["KeyId"], {"Arn": metadata["Arn"], "KeyId": metadata["KeyId"]}


def _create_user_pool(session: Any, logical_id: str, props: dict[str, Any], stack: str) -> tuple[str, dict[str, str]]:
    kwargs = _pick(
        props,
        "Policies",
        "AutoVerifiedAttributes",
        "UsernameAttributes",
        "Schema",
        "MfaConfiguration",
        "AccountRecoverySetting",
    )
    pool = session.client("cognito-idp").create_user_pool(
        PoolName=props.get("UserPoolName") or _default_name(stack, logical_id), **kwargs
    )["UserPool"]
    return pool["Id"], {
        "Arn": pool["Arn"],
        "ProviderName": f"cognito-idp.{LOCAL_REGION}.amazonaws.com/{pool['Id']}",
    }


def _create_user_pool_client(
    session: Any, logical_id: str, props: dict[str, Any], stack: str
) -> tuple[str, dict[str, str]]:
    kwargs = _pick(
        props,
        "GenerateSecret",
        "ExplicitAuthFlows",
        "RefreshTokenValidity",
        "AccessTokenValidity",
        "IdTokenValidity",
        "TokenValidityUnits",
        "ReadAttributes",
        "WriteAttributes",
        "PreventUserExistenceErrors",
        "EnableTokenRevocation",
    )
    client = session.client("cognito-idp").create_user_pool_client(
        UserPoolId=props["UserPoolId"], ClientName=props.get("ClientName") or logical_id, **kwargs
    )["UserPoolClient"]
    return client["ClientId"], {}


def _create_topic(session: Any, logical_id: str, props: dict[str, Any], stack: str) -> tuple[str, dict[str, str]]:
    name = props.get("TopicName") or _default_name(stack, logical_id)
    arn = session.client("sns").create_topic(Name=name)["TopicArn"]
    return arn, {"TopicName": name, "TopicArn": arn}


def _create_subscription(
    session: Any, logical_id: str, props: dict[str, Any], stack: str
) -> tuple[str, dict[str, str]]:
    arn = session.client("sns").subscribe(
        TopicArn=props["TopicArn"], Protocol=props["Protocol"], Endpoint=props["Endpoint"]
    )["SubscriptionArn"]
    return arn, {}


def _create_email_identity(
    session: Any, logical_id: str, props: dict[str, Any], stack: str
) -> tuple[str, dict[str, str]]:
    identity = props["EmailIdentity"]
    session.client("sesv2").create_email_identity(EmailIdentity=identity)
    return identity, {}


def _create_configuration_set(
    session: Any, logical_id: str, props: dict[str, Any], stack: str
) -> tuple[str, dict[str, str]]:
    name = props.get("Name") or _default_name(stack, logical_id)
    session.client("sesv2").create_configuration_set(ConfigurationSetName=name)
    return name, {}


RESOURCE_CREATORS: dict[str, Creator] = {
    "AWS::DynamoDB::Table": _create_table,
    "AWS::S3::Bucket": _create_bucket,
    "AWS::SQS::Queue": _create_queue,
    "AWS::KMS::Key": _create_key,
    "AWS::Cognito::UserPool": _create_user_pool,
    "AWS::Cognito::UserPoolClient": _create_user_pool_client,
    "AWS::SNS::Topic": _create_topic,
    "AWS::SNS::Subscription": _create_subscription,
    "AWS::SES::EmailIdentity": _create_email_identity,
    "AWS::SES::ConfigurationSet": _create_configuration_set,
}

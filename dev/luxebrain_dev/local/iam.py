"""Least privilege, checked locally: every AWS call a function makes is authorized against its own role.

The roles come from the SAM-*translated* template (the ``AWS::IAM::Role`` resources CloudFormation receives,
SAM's policy templates expanded), their ``${AWS::...}`` / ``!Ref`` / ``!GetAtt`` values resolved the way the
embedded stack resolved them. moto's own IAM enforcement is not used: moto 5 authorizes S3 by bucket/key and
SQS by queue but every other service (DynamoDB, KMS, SNS, SES, Cognito) against the resource ``*``, and it
evaluates no condition keys, so a table- or key-scoped grant could not be told from an over-grant there.

How a call becomes a request to authorize follows the Service Authorization Reference: the IAM action a
call needs (``HeadObject`` needs ``s3:GetObject``, ``ListObjectsV2`` needs ``s3:ListBucket`` with
``s3:prefix``, a ``TransactWriteItems`` needs each item's own action), the resource ARN it names (a query on
an index is authorized on ``table/T/index/I``), and the request's condition keys. Evaluation is IAM's for
identity policies in one account: an explicit Deny wins, else an Allow whose Action / NotAction, Resource /
NotResource and Condition all match, else the implicit deny. A call that maps to nothing here is refused
with a message saying so, never waved through.

Calls are attributed to a function by a context variable set around each handler invocation
(``acting_as``); threads a handler starts inherit it (``ThreadPoolExecutor`` is taught to copy it).
"""

from __future__ import annotations

import base64
import concurrent.futures
import contextvars
import functools
import json
import os
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from luxebrain.errors import ConfigurationError

# AWS managed policies the template attaches, as AWS publishes them (the parts a Lambda role uses).
MANAGED_POLICIES: dict[str, list[dict[str, Any]]] = {
    "AWSLambdaBasicExecutionRole": [
        {
            "Effect": "Allow",
            "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": "*",
        }
    ],
    "AWSXrayWriteOnlyAccess": [
        {
            "Effect": "Allow",
            "Action": [
                "xray:PutTraceSegments",
                "xray:PutTelemetryRecords",
                "xray:GetSamplingRules",
                "xray:GetSamplingTargets",
                "xray:GetSamplingStatisticSummaries",
            ],
            "Resource": "*",
        }
    ],
    "AWSXRayDaemonWriteAccess": [
        {
            "Effect": "Allow",
            "Action": [
                "xray:PutTraceSegments",
                "xray:PutTelemetryRecords",
                "xray:GetSamplingRules",
                "xray:GetSamplingTargets",
                "xray:GetSamplingStatisticSummaries",
            ],
            "Resource": "*",
        }
    ],
    "AWSLambdaSQSQueueExecutionRole": [
        {
            "Effect": "Allow",
            "Action": ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"],
            "Resource": "*",
        },
        {
            "Effect": "Allow",
            "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": "*",
        },
    ],
}

_CONDITION_OPERATORS = {
    "StringEquals",
    "StringLike",
    "StringNotEquals",
    "StringNotLike",
    "ArnEquals",
    "ArnLike",
    "Bool",
}


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


@functools.lru_cache(maxsize=4096)
def _pattern(pattern: str, case_sensitive: bool) -> re.Pattern[str]:
    regex = "".join(".*" if ch == "*" else "." if ch == "?" else re.escape(ch) for ch in pattern)
    return re.compile(regex, 0 if case_sensitive else re.IGNORECASE)


def _glob(pattern: str, value: str, *, case_sensitive: bool) -> bool:
    """IAM's wildcards: ``*`` any run of characters (``/`` and ``:`` included), ``?`` one character."""
    return _pattern(pattern, case_sensitive).fullmatch(value) is not None


@dataclass(frozen=True)
class Grant:
    """One statement of a role's policy, resolved."""

    function: str
    policy: str  # the role's policy name (SAM names them <Function>RolePolicy<n>) or the managed policy's
    index: int
    effect: str
    actions: tuple[str, ...]
    not_actions: tuple[str, ...]
    resources: tuple[str, ...]
    not_resources: tuple[str, ...]
    condition: tuple[tuple[str, str, tuple[str, ...]], ...]  # (operator, key, values)

    @property
    def statement_id(self) -> str:
        return f"{self.policy}#{self.index}"

    def action_pattern(self, action: str) -> str | None:
        """The Action entry that covers ``action`` (None when the statement does not apply to it)."""
        if self.not_actions:
            if any(_glob(p, action, case_sensitive=False) for p in self.not_actions):
                return None
            return "NotAction"
        return next((p for p in self.actions if _glob(p, action, case_sensitive=False)), None)

    def covers_resource(self, resource: str) -> bool:
        if self.not_resources:
            return not any(_glob(p, resource, case_sensitive=True) for p in self.not_resources)
        return any(_glob(p, resource, case_sensitive=True) for p in self.resources)

    def condition_holds(self, context: dict[str, str]) -> bool:
        for operator, key, values in self.condition:
            actual = context.get(key)
            negated = operator.startswith("StringNot")
            if actual is None:  # an absent key fails a condition and satisfies its negation
                if negated:
                    continue
                return False
            if operator in ("StringEquals", "StringNotEquals", "ArnEquals"):
                matched = actual in values
            elif operator == "Bool":
                matched = actual.lower() in {value.lower() for value in values}
            else:  # StringLike, StringNotLike, ArnLike
                matched = any(_glob(value, actual, case_sensitive=True) for value in values)
            if matched == negated:
                return False
        return True


@dataclass(frozen=True)
class Request:
    """One authorization a call needs: an IAM action on a resource, with the request's condition keys."""

    action: str
    resource: str
    context: tuple[tuple[str, str], ...] = ()

    def __str__(self) -> str:
        extra = "".join(f" [{k}={v}]" for k, v in self.context)
        return f"{self.action} on {self.resource}{extra}"


@dataclass(frozen=True)
class Use:
    """A granted statement a call relied on, through one of its Action entries."""

    function: str
    statement_id: str
    action_pattern: str
    action: str
    resource: str


class Unmapped(Exception):
    """A call this evaluator does not know how to authorize (refused, not waved through)."""


@dataclass
class RoleBook:
    """Every function's grants, and the evaluation."""

    grants: dict[str, list[Grant]]

    def authorize(self, function: str, request: Request) -> Use | None:
        statements = self.grants.get(function)
        if statements is None:
            raise ConfigurationError(f"{function} has no role in the translated template")
        context = dict(request.context)
        allowed: Use | None = None
        for grant in statements:
            pattern = grant.action_pattern(request.action)
            if pattern is None or not grant.covers_resource(request.resource):
                continue
            if not grant.condition_holds(context):
                continue
            if grant.effect == "Deny":
                return None
            if allowed is None:
                allowed = Use(function, grant.statement_id, pattern, request.action, request.resource)
        return allowed


# ----------------------------------------------------------------------------- the roles, from the template
def _managed_name(arn: str) -> str:
    return arn.rsplit("/", 1)[-1]


def role_book(translated: dict[str, Any], resolve: Callable[[Any], Any]) -> RoleBook:
    """Each Lambda function's statements: its role's inline policies, its managed policies, and any
    AWS::IAM::Policy attached to the role, resolved with ``resolve`` (the embedded stack's resolver)."""
    resources = translated["Resources"]
    role_of: dict[str, str] = {}
    for logical_id, resource in resources.items():
        if resource.get("Type") != "AWS::Lambda::Function":
            continue
        role = (resource.get("Properties") or {}).get("Role")
        if isinstance(role, dict) and "Fn::GetAtt" in role:
            role_of[logical_id] = role["Fn::GetAtt"][0]
        else:
            raise ConfigurationError(f"{logical_id}: its Role is not a role of this template ({role!r})")
    attached: dict[str, list[tuple[str, list[dict[str, Any]]]]] = {}
    for logical_id, resource in resources.items():
        if resource.get("Type") == "AWS::IAM::Policy":
            properties = resource.get("Properties") or {}
            for role in _as_list(properties.get("Roles")):
                if isinstance(role, dict) and "Ref" in role:
                    statements = _as_list((properties.get("PolicyDocument") or {}).get("Statement"))
                    attached.setdefault(role["Ref"], []).append((logical_id, statements))
    grants: dict[str, list[Grant]] = {}
    for function, role_id in role_of.items():
        role = resources.get(role_id) or {}
        properties = role.get("Properties") or {}
        documents: list[tuple[str, list[dict[str, Any]]]] = []
        for arn in _as_list(properties.get("ManagedPolicyArns")):
            name = _managed_name(str(resolve(arn)))
            if name not in MANAGED_POLICIES:
                raise ConfigurationError(f"{function}: managed policy {name} is not known to the local IAM check")
            documents.append((name, MANAGED_POLICIES[name]))
        for policy in _as_list(properties.get("Policies")):
            documents.append((policy["PolicyName"], _as_list(policy["PolicyDocument"].get("Statement"))))
        documents.extend(attached.get(role_id, []))
        grants[function] = [
            _grant(function, name, index, resolve(statement))
            for name, statements in documents
            for index, statement in enumerate(statements)
        ]
    return RoleBook(grants)


def _grant(function: str, policy: str, index: int, statement: dict[str, Any]) -> Grant:
    condition: list[tuple[str, str, tuple[str, ...]]] = []
    for operator, entries in (statement.get("Condition") or {}).items():
        if operator not in _CONDITION_OPERATORS:
            raise ConfigurationError(
                f"{function} {policy}#{index}: condition operator {operator} is not evaluated by the local IAM check"
            )
        for key, values in entries.items():
            condition.append((operator, key, tuple(str(v) for v in _as_list(values))))
    return Grant(
        function=function,
        policy=policy,
        index=index,
        effect=statement.get("Effect", "Allow"),
        actions=tuple(str(a) for a in _as_list(statement.get("Action"))),
        not_actions=tuple(str(a) for a in _as_list(statement.get("NotAction"))),
        resources=tuple(str(r) for r in _as_list(statement.get("Resource"))),
        not_resources=tuple(str(r) for r in _as_list(statement.get("NotResource"))),
        condition=tuple(condition),
    )


# ----------------------------------------------------------------------------- calls -> requests
@dataclass(frozen=True)
class Where:
    region: str
    account: str
    # The stack's SES identities: a send is authorized on the address's identity if it is one, else on its
    # domain's (the identity SES sends it with).
    ses_identities: frozenset[str] = frozenset()

    def arn(self, service: str, resource: str, *, regional: bool = True) -> str:
        return f"arn:aws:{service}:{self.region if regional else ''}:{self.account if regional else ''}:{resource}"


# Operations that need no IAM permission of the caller.
_NO_PERMISSION = {("sts", "GetCallerIdentity")}


def requests_for(service: str, operation: str, params: dict[str, Any], where: Where) -> list[Request]:
    """The authorizations one call needs. ``service`` is botocore's service name (``sesv2``, ``s3``...)."""
    if (service, operation) in _NO_PERMISSION:
        return []
    mapper = _MAPPERS.get(service)
    if mapper is None:
        raise Unmapped(f"{service}:{operation}")
    return mapper(operation, params, where)


def _dynamodb(operation: str, params: dict[str, Any], where: Where) -> list[Request]:
    def table(name: str, index: str | None = None) -> str:
        return where.arn("dynamodb", f"table/{name}" + (f"/index/{index}" if index else ""))

    if operation in ("BatchGetItem", "BatchWriteItem"):
        return [Request(f"dynamodb:{operation}", table(name)) for name in params.get("RequestItems", {})]
    if operation in ("TransactWriteItems", "TransactGetItems"):
        actions = {
            "Put": "PutItem",
            "Update": "UpdateItem",
            "Delete": "DeleteItem",
            "ConditionCheck": "ConditionCheckItem",
        }
        requests = []
        for item in params.get("TransactItems", []):
            for kind, body in item.items():
                action = "GetItem" if kind == "Get" else actions[kind]
                requests.append(Request(f"dynamodb:{action}", table(body["TableName"])))
        return requests
    if "TableName" not in params:
        raise Unmapped(f"dynamodb:{operation}")
    return [Request(f"dynamodb:{operation}", table(params["TableName"], params.get("IndexName")))]


def _s3(operation: str, params: dict[str, Any], where: Where) -> list[Request]:
    bucket = params.get("Bucket")
    if not bucket:
        raise Unmapped(f"s3:{operation}")
    bucket_arn = f"arn:aws:s3:::{bucket}"

    def obj(key: str) -> str:
        return f"{bucket_arn}/{key}"

    versioned = "VersionId" in params
    prefix = (("s3:prefix", str(params.get("Prefix", ""))),)
    simple = {
        "GetObject": "s3:GetObjectVersion" if versioned else "s3:GetObject",
        "HeadObject": "s3:GetObjectVersion" if versioned else "s3:GetObject",
        "PutObject": "s3:PutObject",
        "CreateMultipartUpload": "s3:PutObject",
        "UploadPart": "s3:PutObject",
        "CompleteMultipartUpload": "s3:PutObject",
        "AbortMultipartUpload": "s3:AbortMultipartUpload",
        "DeleteObject": "s3:DeleteObjectVersion" if versioned else "s3:DeleteObject",
    }
    if operation in simple:
        return [Request(simple[operation], obj(params["Key"]))]
    if operation in ("ListObjectsV2", "ListObjects"):
        return [Request("s3:ListBucket", bucket_arn, prefix)]
    if operation == "ListObjectVersions":
        return [Request("s3:ListBucketVersions", bucket_arn, prefix)]
    if operation == "HeadBucket":
        return [Request("s3:ListBucket", bucket_arn)]
    if operation == "DeleteObjects":
        return [
            Request("s3:DeleteObjectVersion" if "VersionId" in entry else "s3:DeleteObject", obj(entry["Key"]))
            for entry in params.get("Delete", {}).get("Objects", [])
        ]
    if operation == "CopyObject":
        source = params["CopySource"]
        if isinstance(source, dict):
            source_arn = f"arn:aws:s3:::{source['Bucket']}/{source['Key']}"
        else:
            source_arn = "arn:aws:s3:::" + str(source).lstrip("/").split("?", 1)[0]
        return [Request("s3:GetObject", source_arn), Request("s3:PutObject", obj(params["Key"]))]
    if operation == "GetBucketLocation":
        return [Request("s3:GetBucketLocation", bucket_arn)]
    raise Unmapped(f"s3:{operation}")


def _queue_arn(params: dict[str, Any], where: Where) -> str:
    if "QueueUrl" in params:
        account, name = urlsplit(params["QueueUrl"]).path.strip("/").split("/")[-2:]
        return f"arn:aws:sqs:{where.region}:{account}:{name}"
    return where.arn("sqs", params["QueueName"])


def _sqs(operation: str, params: dict[str, Any], where: Where) -> list[Request]:
    action = operation.removesuffix("Batch")
    return [Request(f"sqs:{action}", _queue_arn(params, where))]


def _sns(operation: str, params: dict[str, Any], where: Where) -> list[Request]:
    if operation in ("Publish", "PublishBatch"):
        # A phone number has no ARN: IAM authorizes an SMS publish on the resource "*".
        return [Request("sns:Publish", params.get("TopicArn") or params.get("TargetArn") or "*")]
    if operation in ("CheckIfPhoneNumberIsOptedOut", "ListPhoneNumbersOptedOut", "OptInPhoneNumber"):
        return [Request(f"sns:{operation}", "*")]
    if "TopicArn" in params:
        return [Request(f"sns:{operation}", params["TopicArn"])]
    raise Unmapped(f"sns:{operation}")


def _ses(operation: str, params: dict[str, Any], where: Where) -> list[Request]:
    if operation not in ("SendEmail", "SendBulkEmail"):
        raise Unmapped(f"ses:{operation}")
    sender = params.get("FromEmailAddress") or params.get("Source") or ""
    address = sender.rsplit("<", 1)[-1].rstrip(">").strip()
    domain = address.rpartition("@")[2]
    name = domain if address not in where.ses_identities and domain in where.ses_identities else address
    identity = params.get("FromEmailAddressIdentityArn") or where.arn("ses", f"identity/{name}")
    requests = [Request("ses:SendEmail", identity)]
    if params.get("ConfigurationSetName"):
        requests.append(
            Request("ses:SendEmail", where.arn("ses", f"configuration-set/{params['ConfigurationSetName']}"))
        )
    return requests


def _kms(operation: str, params: dict[str, Any], where: Where) -> list[Request]:
    key = params.get("KeyId")
    if key is None and operation == "Decrypt":
        key = _key_of_ciphertext(params.get("CiphertextBlob"))
    if key is None:
        raise Unmapped(f"kms:{operation} (no key id)")
    if not str(key).startswith("arn:"):
        key = where.arn("kms", key if str(key).startswith("alias/") else f"key/{key}")
    return [Request(f"kms:{operation}", str(key))]


def _key_of_ciphertext(blob: Any) -> str | None:
    """moto's ciphertext blob starts with the key id (36 characters), as AWS's embeds the key it names."""
    if isinstance(blob, str):
        blob = base64.b64decode(blob)
    if isinstance(blob, bytes | bytearray) and len(blob) >= 36:
        head = bytes(blob[:36]).decode("ascii", errors="replace")
        if re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", head):
            return head
    return None


def _cognito(operation: str, params: dict[str, Any], where: Where) -> list[Request]:
    if "UserPoolId" not in params:
        raise Unmapped(f"cognito-idp:{operation}")
    return [Request(f"cognito-idp:{operation}", where.arn("cognito-idp", f"userpool/{params['UserPoolId']}"))]


def _social_messaging(operation: str, params: dict[str, Any], where: Where) -> list[Request]:
    phone = str(params.get("originationPhoneNumberId", ""))
    if not phone.startswith("arn:"):
        phone = where.arn("social-messaging", f"phone-number-id/{phone.removeprefix('phone-number-id-')}")
    return [Request(f"social-messaging:{operation}", phone)]


def _events(operation: str, params: dict[str, Any], where: Where) -> list[Request]:
    if operation != "PutEvents":
        raise Unmapped(f"events:{operation}")
    buses = {entry.get("EventBusName") or "default" for entry in params.get("Entries", [])}
    return [
        Request("events:PutEvents", bus if bus.startswith("arn:") else where.arn("events", f"event-bus/{bus}"))
        for bus in sorted(buses)
    ]


def _cloudwatch(operation: str, params: dict[str, Any], where: Where) -> list[Request]:
    return [Request(f"cloudwatch:{operation}", "*")]


_MAPPERS: dict[str, Callable[[str, dict[str, Any], Where], list[Request]]] = {
    "dynamodb": _dynamodb,
    "s3": _s3,
    "sqs": _sqs,
    "sns": _sns,
    "sesv2": _ses,
    "ses": _ses,
    "kms": _kms,
    "cognito-idp": _cognito,
    "socialmessaging": _social_messaging,
    "events": _events,
    "cloudwatch": _cloudwatch,
}


# ----------------------------------------------------------------------------- enforcement and the trace
@dataclass(frozen=True)
class Denial:
    function: str
    request: str
    reason: str

    def __str__(self) -> str:
        return f"{self.function} called {self.request}: {self.reason}"


MAX_REMEMBERED_SHAPES = 10_000


@dataclass
class Checker:
    """The live check: the role book, where the stack lives, what was used and what was refused."""

    book: RoleBook
    where: Where
    uses: set[tuple[str, str, str, str, str]] = field(default_factory=set)  # + the resource's shape
    names: dict[str, str] = field(default_factory=dict)  # physical name -> logical id, for the shapes
    calls: dict[str, set[str]] = field(default_factory=dict)  # function -> "service:Operation"
    lock: threading.Lock = field(default_factory=threading.Lock)
    # resource -> its shape: one regular expression per physical name each call was a twentieth of a call's time
    _shapes: dict[str, str] = field(default_factory=dict)

    def check(self, function: str, service: str, operation: str, params: dict[str, Any]) -> Denial | None:
        try:
            requests = requests_for(service, operation, params, self.where)
        except Unmapped as unmapped:
            return self._deny(function, str(unmapped), "the local IAM check has no mapping for this call")
        with self.lock:
            self.calls.setdefault(function, set()).add(f"{service}:{operation}")
        for request in requests:
            use = self.book.authorize(function, request)
            if use is None:
                return self._deny(function, str(request), "not allowed by the function's role")
            with self.lock:
                self.uses.add(
                    (use.function, use.statement_id, use.action_pattern, use.action, self.shape(use.resource))
                )
        return None

    def record(self, use: Use) -> None:
        with self.lock:
            self.uses.add((use.function, use.statement_id, use.action_pattern, use.action, self.shape(use.resource)))

    def shape(self, resource: str) -> str:
        """The resource as the template names it (``table/<DataTable>``), per-call parts folded."""
        shape = self._shapes.get(resource)
        if shape is None:
            if len(self._shapes) >= MAX_REMEMBERED_SHAPES:  # S3 keys are per call: the memory stays bounded
                self._shapes.clear()
            shape = self._shapes[resource] = self._fold(resource)
        return shape

    def _fold(self, resource: str) -> str:
        resource = resource_shape(resource).replace(f":{self.where.region}:", ":<region>:")
        resource = resource.replace(f":{self.where.account}:", ":<account>:")
        for physical in sorted(self.names, key=len, reverse=True):
            resource = re.sub(rf"(?<=[/:]){re.escape(physical)}(?=$|/)", f"<{self.names[physical]}>", resource)
        return resource

    def _deny(self, function: str, request: str, reason: str) -> Denial:
        denial = Denial(function, request, reason)
        with _denials_lock:
            _denials.append(denial)
        return denial

    def write_trace(self, directory: Path, name: str) -> Path:
        directory.mkdir(parents=True, exist_ok=True)
        target = directory / name
        with self.lock:
            document = {
                "uses": sorted(list(use) for use in self.uses),
                "calls": {name: sorted(calls) for name, calls in sorted(self.calls.items())},
            }
        target.write_text(json.dumps(document, indent=1))
        return target


# `make test` sets this: each embedded stack writes its trace there when it stops (tools: luxebrain_dev.iam_report).
TRACE_DIR_VARIABLE = "LUXEBRAIN_IAM_TRACE_DIR"
_stacks = 0
_denials: list[Denial] = []
_denials_lock = threading.Lock()
# Per-call ids in S3 keys: tenants and personal-data jobs.
_PER_CALL_ID = re.compile(r"t-[0-9a-f]{12}|pj-[0-9a-f]{24}")


def resource_shape(resource: str) -> str:
    """A resource with its per-call parts folded: an S3 object as ``bucket/tenants/*/<area>/*``."""
    if resource.startswith("arn:aws:s3:::") and "/" in resource:
        bucket, _, key = resource.partition("/")
        parts = _PER_CALL_ID.sub("*", key).split("/")
        return f"{bucket}/" + "/".join(parts[:3]) + ("/*" if len(parts) > 3 else "")
    return resource


_acting: contextvars.ContextVar[str | None] = contextvars.ContextVar("luxebrain_local_function", default=None)
_checker: Checker | None = None


@contextmanager
def acting_as(function: str) -> Iterator[None]:
    """AWS calls made inside this block are made by ``function`` (its role authorizes them)."""
    token = _acting.set(function)
    try:
        yield
    finally:
        _acting.reset(token)


def current_checker() -> Checker | None:
    return _checker


def take_denials() -> list[Denial]:
    """The calls refused since the last time (the tests fail on any; a product's except-clause cannot hide one)."""
    global _denials
    with _denials_lock:
        taken, _denials = _denials, []
    return taken


def start_checking(book: RoleBook, where: Where, names: dict[str, str] | None = None) -> Checker:
    global _checker
    _install_hooks()
    _checker = Checker(book, where, names=dict(names or {}))
    return _checker


def stop_checking(trace_dir: str | None = None) -> None:
    """End the check; with ``trace_dir``, first write what each function used there (one file per stack)."""
    global _checker, _stacks
    if _checker is not None and trace_dir:
        _stacks += 1
        _checker.write_trace(Path(trace_dir), f"trace-{os.getpid()}-{_stacks}.json")
    _checker = None


_installed = False


def _install_hooks() -> None:
    """Wrap botocore's one call path (boto3 clients and pynamodb both go through ``_make_api_call``) and
    make thread pools run their work in the submitter's context."""
    global _installed
    if _installed:
        return
    import botocore.client
    from botocore.exceptions import ClientError

    original_call = botocore.client.BaseClient._make_api_call

    def checked_call(client: Any, operation_name: str, api_params: dict[str, Any]) -> Any:
        function = _acting.get()
        checker = _checker
        if function is not None and checker is not None:
            model = client.meta.service_model
            operation = model.operation_model(operation_name)
            if operation.auth_type != "none":  # Cognito's sign-in family: no IAM caller at all
                denial = checker.check(function, model.service_name, operation_name, api_params)
                if denial is not None:
                    raise ClientError(
                        {"Error": {"Code": "AccessDeniedException", "Message": str(denial)}}, operation_name
                    )
        try:
            return original_call(client, operation_name, api_params)
        except ClientError as error:
            if function is None or checker is None or not _missing_object(client, operation_name, error):
                raise
            # S3 answers 404 for a missing key only to a caller who may list the bucket; others get 403.
            bucket_arn = f"arn:aws:s3:::{api_params.get('Bucket')}"
            listing = checker.book.authorize(function, Request("s3:ListBucket", bucket_arn))
            if listing is not None:
                checker.record(listing)  # the grant is used: it is what turns the 403 into a 404
                raise
            raise ClientError(
                {
                    "Error": {
                        "Code": "AccessDenied",
                        "Message": f"{function} may not list {bucket_arn}: 403 for a missing key",
                    }
                },
                operation_name,
            ) from None

    botocore.client.BaseClient._make_api_call = checked_call  # type: ignore[method-assign]

    original_submit = concurrent.futures.ThreadPoolExecutor.submit

    def submit_in_context(executor: Any, fn: Any, /, *args: Any, **kwargs: Any) -> Any:
        if _acting.get() is None:
            return original_submit(executor, fn, *args, **kwargs)
        return original_submit(executor, contextvars.copy_context().run, fn, *args, **kwargs)

    concurrent.futures.ThreadPoolExecutor.submit = submit_in_context  # type: ignore[method-assign]
    _installed = True


def _missing_object(client: Any, operation_name: str, error: Exception) -> bool:
    code = getattr(error, "response", {}).get("Error", {}).get("Code")
    return (
        client.meta.service_model.service_name == "s3"
        and operation_name in ("GetObject", "HeadObject")
        and code in ("NoSuchKey", "404", "NotFound")
    )

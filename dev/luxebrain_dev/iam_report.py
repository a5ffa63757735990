"""What each function's role grants against what its code used, from the traces the test suite wrote.

`make test` runs the suite with ``LUXEBRAIN_IAM_TRACE_DIR`` set: every embedded stack writes, when it stops,
which statement of which function's role authorized which action (local/iam.py refuses any call outside the
role while the tests run). This report then fails on:

- a grant no traced call used, unless it is listed in ``KEPT`` with its one-line reason;
- a grant listed in ``REMOVED`` that is back in the template;
- a function with no traced call at all (nothing proves its role);
- ``docs/iam.md`` missing an action a function used, or listing one its role no longer grants (``--write``
  regenerates it from the traces; the resources in it are examples and are not compared).

    python -m luxebrain_dev.iam_report TRACE_DIR --check docs/iam.md
    python -m luxebrain_dev.iam_report TRACE_DIR --write docs/iam.md
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from luxebrain_dev.infra_template import IntrinsicResolver, UnresolvedReferenceError
from luxebrain_dev.local.iam import Grant, Request, RoleBook, _glob, role_book
from luxebrain_dev.sam_transform import translated_template

# Whole policies that Lambda itself uses with the function's role, not the function's code. Keyed by the
# managed policy's name or the end of SAM's generated policy name.
KEPT_POLICIES: dict[str, str] = {
    "AWSLambdaBasicExecutionRole": "Lambda's runtime writes the function's logs with its role",
    "AWSXrayWriteOnlyAccess": "Tracing: Active - Lambda sends the function's trace segments with its role",
    "AWSXRayDaemonWriteAccess": "Tracing: Active - Lambda sends the function's trace segments with its role",
    "AWSLambdaSQSQueueExecutionRole": "the SQS event source mapping receives and deletes with the function's role",
    "EventInvokeConfigOnFailureSQSPolicy": "the on-failure destination sends failed events with the function's role",
}

# Grants of code paths no test drives through the function's handler, each with the path that needs it:
# (function, Action entry) -> reason. A run that does use one prints a note (the entry can go).
KEPT: dict[tuple[str, str], str] = {
    # The worker is an image function fed by TrainQueue: its own statement instead of the managed SQS policy.
    ("TrainWorkerFunction", "sqs:ReceiveMessage"): "the TrainQueue event source mapping polls with the worker's role",
    ("TrainWorkerFunction", "sqs:DeleteMessage"): "the TrainQueue event source mapping deletes with the worker's role",
    ("TrainWorkerFunction", "sqs:GetQueueAttributes"): "the TrainQueue event source mapping reads the queue with it",
    ("TrainWorkerFunction", "sqs:ChangeMessageVisibility"): "the event source mapping returns a failed batch item",
    ("CampaignSenderFunction", "social-messaging:SendWhatsAppMessage"): (
        "WhatsApp sends: moto has no End User Messaging Social, so this call cannot run locally"
    ),
    ("CampaignFlowRunnerFunction", "dynamodb:PutItem"): (
        "campaigns/flows.py records hold-out assignments: no test runs a hold-out through the handler"
    ),
    ("IngestProcessorFunction", "kms:Decrypt"): "the store's REST keys, to fetch a new refund's lines from the store",
    ("IngestProcessorFunction", "s3:DeleteObject"): "drops a training snapshot a delta missed (a rare race)",
    ("IngestBackfillFunction", "s3:DeleteObject"): "drops a training snapshot a delta missed (a rare race)",
    ("IngestBackfillFunction", "ses:SendEmail"): "mails the owners when a store's webhooks cannot be re-enabled",
    ("StoreConnectCallbackFunction", "kms:Decrypt"): "a reconnect keeps the webhook secret it decrypts",
}

# Over-grants taken out of the template: (action, a resource it must not reach, what was removed). The check
# authorizes each against the function's role and fails if it is allowed again. Resources are written as the
# report resolves the template: <Logical> for a resource's name, <region> / <account> for the pseudo parameters.
TABLE = "arn:aws:dynamodb:<region>:<account>:table/<DataTable>"
MODEL_FILE = "arn:aws:s3:::<ModelsBucket>/tenants/t-0/models/recommend/v1/manifest.json"
BUCKET = "arn:aws:s3:::<ModelsBucket>"
POOL = "arn:aws:cognito-idp:<region>:<account>:userpool/<UserPool>"
ANY_TOPIC = "arn:aws:sns:<region>:<account>:any-topic"
SENDER = "arn:aws:ses:<region>:<account>:identity/no-reply@luxebrain.example"
_CRUD = "DynamoDBCrudPolicy's Scan, DeleteItem, BatchWriteItem, DescribeTable, ConditionCheckItem"
_S3_READ = "S3ReadPolicy on the models bucket (no campaign code reads it)"
_PRIVACY = (
    "the personal-data jobs' Scan, BatchWriteItem, ListBucketVersions, DeleteObjectVersion and ListUsers (they "
    "run in PrivacyWorkerFunction)"
)
REMOVED: dict[str, list[tuple[str, str, str]]] = {
    "ApiFunction": [
        ("dynamodb:DescribeTable", TABLE, "DynamoDBCrudPolicy's DescribeTable, ConditionCheckItem and every index"),
        (
            "dynamodb:ConditionCheckItem",
            TABLE,
            "DynamoDBCrudPolicy's DescribeTable, ConditionCheckItem and every index",
        ),
        (
            "dynamodb:Query",
            TABLE + "/index/any",
            "DynamoDBCrudPolicy's DescribeTable, ConditionCheckItem and every index",
        ),
        ("s3:PutObject", MODEL_FILE, "S3CrudPolicy (PutObject, PutObjectAcl, DeleteObject, lifecycle configuration)"),
        (
            "s3:PutObjectAcl",
            MODEL_FILE,
            "S3CrudPolicy (PutObject, PutObjectAcl, DeleteObject, lifecycle configuration)",
        ),
        (
            "s3:DeleteObject",
            MODEL_FILE,
            "S3CrudPolicy (PutObject, PutObjectAcl, DeleteObject, lifecycle configuration)",
        ),
        (
            "s3:PutLifecycleConfiguration",
            BUCKET,
            "S3CrudPolicy (PutObject, PutObjectAcl, DeleteObject, lifecycle configuration)",
        ),
        (
            "cognito-idp:AdminConfirmSignUp",
            POOL,
            "the demo's Cognito admin actions (AdminConfirmSignUp, AdminAddUserToGroup, CreateGroup)",
        ),
        (
            "cognito-idp:AdminAddUserToGroup",
            POOL,
            "the demo's Cognito admin actions (AdminConfirmSignUp, AdminAddUserToGroup, CreateGroup)",
        ),
        (
            "cognito-idp:CreateGroup",
            POOL,
            "the demo's Cognito admin actions (AdminConfirmSignUp, AdminAddUserToGroup, CreateGroup)",
        ),
        ("dynamodb:Scan", TABLE, _PRIVACY),
        ("dynamodb:BatchWriteItem", TABLE, _PRIVACY),
        ("s3:ListBucketVersions", BUCKET, _PRIVACY),
        ("s3:DeleteObjectVersion", MODEL_FILE, _PRIVACY),
        ("cognito-idp:ListUsers", POOL, _PRIVACY),
    ],
    "IngestBackfillFunction": [
        (
            "ses:SendEmail",
            "arn:aws:ses:<region>:<account>:identity/another.example",
            "ses:SendEmail on every identity (now the stack's domain identity and configuration set)",
        ),
    ],
    "IngestReceiverFunction": [
        ("dynamodb:Scan", TABLE, "DynamoDBReadPolicy (Scan, Query, BatchGetItem, DescribeTable, every index)"),
        ("dynamodb:Query", TABLE, "DynamoDBReadPolicy (Scan, Query, BatchGetItem, DescribeTable, every index)"),
        ("dynamodb:BatchGetItem", TABLE, "DynamoDBReadPolicy (Scan, Query, BatchGetItem, DescribeTable, every index)"),
    ],
    "CampaignSenderFunction": [
        ("sns:Publish", ANY_TOPIC, "sns:Publish on every topic (phone numbers only now)"),
        ("ses:SendRawEmail", SENDER, "ses:SendRawEmail (SES v2 authorizes raw MIME as ses:SendEmail)"),
        ("s3:GetObject", MODEL_FILE, _S3_READ),
        ("dynamodb:Scan", TABLE, _CRUD),
        ("dynamodb:DeleteItem", TABLE, _CRUD),
        ("dynamodb:BatchWriteItem", TABLE, _CRUD),
    ],
    "CampaignFlowRunnerFunction": [
        ("s3:GetObject", MODEL_FILE, _S3_READ),
        ("dynamodb:Scan", TABLE, _CRUD),
        ("dynamodb:DeleteItem", TABLE, _CRUD),
        ("dynamodb:BatchWriteItem", TABLE, _CRUD),
    ],
    "CampaignProviderEventsFunction": [
        ("dynamodb:Scan", TABLE, _CRUD),
        ("dynamodb:DeleteItem", TABLE, _CRUD),
        ("dynamodb:BatchWriteItem", TABLE, _CRUD),
    ],
}


@dataclass(frozen=True)
class GrantEntry:
    function: str
    statement_id: str
    action_pattern: str


R, A = "<region>", "<account>"
# The ARN each resource type's Arn attribute has, and what its Ref gives, by logical id.
_ARNS = {
    "AWS::DynamoDB::Table": lambda name: f"arn:aws:dynamodb:{R}:{A}:table/<{name}>",
    "AWS::S3::Bucket": lambda name: f"arn:aws:s3:::<{name}>",
    "AWS::SQS::Queue": lambda name: f"arn:aws:sqs:{R}:{A}:<{name}>",
    "AWS::KMS::Key": lambda name: f"arn:aws:kms:{R}:{A}:key/<{name}>",
    "AWS::Cognito::UserPool": lambda name: f"arn:aws:cognito-idp:{R}:{A}:userpool/<{name}>",
    "AWS::SNS::Topic": lambda name: f"arn:aws:sns:{R}:{A}:<{name}>",
    "AWS::Lambda::Function": lambda name: f"arn:aws:lambda:{R}:{A}:function:<{name}>",
}


class _SymbolicResolver(IntrinsicResolver):
    """The template resolved with names instead of physical ids (``table/<DataTable>``): the report reads
    statements, not one stack's ARNs, and the same resource reads the same however the template names it."""

    def __init__(self, translated: dict[str, Any]) -> None:
        super().__init__(translated, stack_name="<stack>", region=R, account_id=A)
        for logical_id, resource in translated["Resources"].items():
            arn = _ARNS.get(resource.get("Type", ""))
            if arn is None:
                continue
            self.attributes[(logical_id, "Arn")] = arn(logical_id)
            self.attributes[(logical_id, "QueueName")] = f"<{logical_id}>"
            self.refs[logical_id] = arn(logical_id) if resource["Type"] == "AWS::SNS::Topic" else f"<{logical_id}>"

    def _ref(self, name: str) -> Any:
        try:
            return super()._ref(name)
        except UnresolvedReferenceError:
            return f"<{name}>"

    def _get_att(self, argument: list[str]) -> str:
        try:
            return super()._get_att(argument)
        except UnresolvedReferenceError:
            return f"<{argument[0]}.{argument[1]}>"


def template_roles(translated: dict[str, Any] | None = None) -> RoleBook:
    translated = translated or translated_template()
    return role_book(translated, _SymbolicResolver(translated).resolve)


@dataclass
class Trace:
    uses: dict[GrantEntry, dict[str, set[str]]]  # -> each action used through that entry -> its resources
    calls: dict[str, set[str]]  # function -> "service:Operation"

    @classmethod
    def read(cls, directory: Path) -> Trace:
        uses: dict[GrantEntry, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
        calls: dict[str, set[str]] = defaultdict(set)
        for path in sorted(directory.glob("trace-*.json")):
            document = json.loads(path.read_text())
            for function, statement_id, pattern, action, resource in document["uses"]:
                uses[GrantEntry(function, statement_id, pattern)][action].add(resource)
            for function, names in document["calls"].items():
                calls[function].update(names)
        return cls(dict(uses), dict(calls))


def _entries(grant: Grant) -> list[str]:
    return ["NotAction"] if grant.not_actions else list(grant.actions)


def kept_reason(function: str, grant: Grant, pattern: str) -> str | None:
    for suffix, reason in KEPT_POLICIES.items():
        if grant.policy.endswith(suffix):
            return reason
    return KEPT.get((function, pattern))


@dataclass
class Finding:
    problems: list[str]
    document: str
    notes: list[str] = field(default_factory=list)  # printed, not failing: a kept grant a run did use


def analyse(book: RoleBook, trace: Trace) -> Finding:
    problems: list[str] = []
    notes: list[str] = []
    lines = [
        "# IAM: what each function uses",
        "",
        "Generated by `python -m luxebrain_dev.iam_report` from the traces of `make test` (do not edit by hand;",
        "`make iam-report` rewrites it). While the tests run, every AWS call a function makes is authorized against",
        "that function's role in the SAM-translated template (dev/luxebrain_dev/local/iam.py) and refused otherwise;",
        "`make test` then fails on any grant no call used that is not kept below with its reason.",
        "",
    ]
    for function in sorted(book.grants):
        grants = book.grants[function]
        used_actions: dict[str, set[str]] = defaultdict(set)
        kept: list[tuple[str, str, str]] = []
        if not trace.calls.get(function):
            problems.append(f"{function}: no traced AWS call at all (no test runs it): its role is not proven")
        for grant in grants:
            if grant.effect != "Allow":
                continue
            for pattern in _entries(grant):
                entry = GrantEntry(function, grant.statement_id, pattern)
                actions = trace.uses.get(entry, {})
                reason = kept_reason(function, grant, pattern)
                for action, resources in actions.items():
                    used_actions[action] |= resources
                if actions and (function, pattern) in KEPT:
                    notes.append(f"{function}: {pattern} is used now; its KEPT entry can go")
                if not actions:
                    if reason is None:
                        problems.append(
                            f"{function}: {pattern} ({grant.statement_id}) is granted but no traced call uses it: "
                            "remove it, or keep it in luxebrain_dev.iam_report.KEPT with its reason"
                        )
                    else:
                        kept.append((pattern, grant.policy, reason))
        for action, resource, what in REMOVED.get(function, []):
            use = book.authorize(function, Request(action, resource))
            if use is not None:
                problems.append(
                    f"{function}: removed grant {what} is back ({use.statement_id} allows {action} on {resource})"
                )
        lines += [f"## {function}", "", "| Action used | On |", "|---|---|"]
        lines += [
            f"| `{action}` | " + "<br>".join(f"`{resource}`" for resource in sorted(resources)) + " |"
            for action, resources in sorted(used_actions.items())
        ]
        if kept:
            lines += ["", "| Granted, no call of ours | Policy | Why it stays |", "|---|---|---|"]
            lines += [f"| `{p}` | {policy} | {reason} |" for p, policy, reason in sorted(set(kept))]
        if REMOVED.get(function):
            lines += ["", "Removed: " + "; ".join(sorted({what for _, _, what in REMOVED[function]})) + "."]
        lines.append("")
    return Finding(problems, "\n".join(lines), notes)


def used_actions_of(document: str, *, tables: tuple[str, ...] = ("| Action used",)) -> dict[str, set[str]]:
    """Each function's rows of the named tables of a generated document (first column, in backticks)."""
    used: dict[str, set[str]] = {}
    function, in_table = None, False
    for line in document.splitlines():
        if line.startswith("## "):
            function, in_table = line[3:].strip(), False
            used[function] = set()
        elif line.startswith(tables):
            in_table = True
        elif not line.startswith("|"):
            in_table = False
        elif in_table and function and line.startswith("| `"):
            used[function].add(line.split("`")[1])
    return used


def check_document(path: Path, document: str, generated: str, book: RoleBook) -> list[str]:
    """Every action a function used is in the document, and every action the document lists is still granted
    to that function (a partial test run may use fewer: the document may list more than one run traced)."""
    problems = []
    documented, traced = used_actions_of(document), used_actions_of(generated)
    kept = used_actions_of(document, tables=("| Granted, no call of ours",))
    for function in sorted(set(documented) | set(traced)):
        listed = documented.get(function, set()) | kept.get(function, set())
        missing = sorted(
            action
            for action in traced.get(function, set())
            if not any(_glob(pattern, action, case_sensitive=False) for pattern in listed)
        )
        if missing:
            problems.append(f"{path}: {function} uses {missing}, not listed: run `make iam-report`")
        grants = book.grants.get(function, [])
        for action in sorted(documented.get(function, set())):
            if not any(g.effect == "Allow" and g.action_pattern(action) for g in grants):
                problems.append(f"{path}: {function} lists {action}, which its role no longer grants")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("trace_dir", type=Path)
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--check", type=Path, metavar="DOC")
    mode.add_argument("--write", type=Path, metavar="DOC")
    args = parser.parse_args(argv)
    if not any(args.trace_dir.glob("trace-*.json")):
        print(
            f"no IAM traces in {args.trace_dir}: run the test suite with LUXEBRAIN_IAM_TRACE_DIR set", file=sys.stderr
        )
        return 1
    book = template_roles()
    finding = analyse(book, Trace.read(args.trace_dir))
    if args.write:
        args.write.write_text(finding.document)
    else:
        finding.problems += check_document(args.check, args.check.read_text(), finding.document, book)
    for note in finding.notes:
        print(f"IAM note: {note}", file=sys.stderr)
    for problem in finding.problems:
        print(f"IAM: {problem}", file=sys.stderr)
    return 1 if finding.problems else 0


if __name__ == "__main__":
    sys.exit(main())

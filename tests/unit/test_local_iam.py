"""The local IAM check's evaluation and its mapping of calls to the authorizations AWS requires."""

from __future__ import annotations

import pytest

from luxebrain_dev.local.iam import Request, RoleBook, Unmapped, Where, _grant, requests_for

WHERE = Where(region="eu-west-1", account="111122223333")
TABLE = "arn:aws:dynamodb:eu-west-1:111122223333:table/data"


def book(*statements: dict) -> RoleBook:
    return RoleBook({"Fn": [_grant("Fn", "p", index, statement) for index, statement in enumerate(statements)]})


def allowed(role: RoleBook, action: str, resource: str, **context: str) -> bool:
    return role.authorize("Fn", Request(action, resource, tuple(context.items()))) is not None


def test_action_wildcards_are_case_insensitive_and_resources_match_with_wildcards() -> None:
    role = book({"Effect": "Allow", "Action": "sqs:SendMessage*", "Resource": "arn:aws:sqs:*:111122223333:ingest-?"})
    assert allowed(role, "sqs:sendmessage", "arn:aws:sqs:eu-west-1:111122223333:ingest-1")
    assert not allowed(role, "sqs:SendMessage", "arn:aws:sqs:eu-west-1:111122223333:ingest-12")
    assert not allowed(role, "sqs:ReceiveMessage", "arn:aws:sqs:eu-west-1:111122223333:ingest-1")


def test_the_index_of_a_table_is_a_resource_of_its_own() -> None:
    role = book({"Effect": "Allow", "Action": ["dynamodb:Query"], "Resource": TABLE})
    (on_index,) = requests_for("dynamodb", "Query", {"TableName": "data", "IndexName": "gsi1"}, WHERE)
    assert on_index.resource == TABLE + "/index/gsi1"
    assert not allowed(role, on_index.action, on_index.resource)
    assert allowed(role, "dynamodb:Query", TABLE)


def test_an_explicit_deny_wins_and_not_resource_excludes() -> None:
    role = book(
        {"Effect": "Allow", "Action": "sns:Publish", "NotResource": "arn:aws:sns:*:*:*"},
        {"Effect": "Allow", "Action": "s3:*", "Resource": "*"},
        {"Effect": "Deny", "Action": "s3:DeleteObject", "Resource": "arn:aws:s3:::b/keep/*"},
    )
    assert allowed(role, "sns:Publish", "*")  # an SMS to a phone number
    assert not allowed(role, "sns:Publish", "arn:aws:sns:eu-west-1:111122223333:alarms")
    assert allowed(role, "s3:DeleteObject", "arn:aws:s3:::b/other")
    assert not allowed(role, "s3:DeleteObject", "arn:aws:s3:::b/keep/x")


def test_conditions_on_the_request_keys() -> None:
    role = book(
        {
            "Effect": "Allow",
            "Action": "s3:ListBucket",
            "Resource": "arn:aws:s3:::b",
            "Condition": {"StringLike": {"s3:prefix": "tenants/*"}},
        }
    )
    (listing,) = requests_for("s3", "ListObjectsV2", {"Bucket": "b", "Prefix": "tenants/t-1/"}, WHERE)
    assert allowed(role, listing.action, listing.resource, **dict(listing.context))
    assert not allowed(role, "s3:ListBucket", "arn:aws:s3:::b", **{"s3:prefix": "other/"})
    assert not allowed(role, "s3:ListBucket", "arn:aws:s3:::b")  # no prefix: the condition fails


def test_an_unknown_condition_operator_is_refused_not_ignored() -> None:
    with pytest.raises(Exception, match="NumericLessThan"):
        book({"Effect": "Allow", "Action": "s3:*", "Resource": "*", "Condition": {"NumericLessThan": {"k": "1"}}})


@pytest.mark.parametrize(
    ("service", "operation", "params", "expected"),
    [
        ("s3", "HeadObject", {"Bucket": "b", "Key": "k"}, [("s3:GetObject", "arn:aws:s3:::b/k")]),
        (
            "s3",
            "DeleteObjects",
            {"Bucket": "b", "Delete": {"Objects": [{"Key": "a", "VersionId": "1"}, {"Key": "c"}]}},
            [("s3:DeleteObjectVersion", "arn:aws:s3:::b/a"), ("s3:DeleteObject", "arn:aws:s3:::b/c")],
        ),
        ("s3", "ListObjectVersions", {"Bucket": "b"}, [("s3:ListBucketVersions", "arn:aws:s3:::b")]),
        (
            "dynamodb",
            "TransactWriteItems",
            {"TransactItems": [{"Put": {"TableName": "data"}}, {"ConditionCheck": {"TableName": "data"}}]},
            [("dynamodb:PutItem", TABLE), ("dynamodb:ConditionCheckItem", TABLE)],
        ),
        (
            "sqs",
            "SendMessageBatch",
            {"QueueUrl": "http://127.0.0.1:5000/111122223333/send.fifo"},
            [("sqs:SendMessage", "arn:aws:sqs:eu-west-1:111122223333:send.fifo")],
        ),
        ("sns", "Publish", {"PhoneNumber": "+33600000000"}, [("sns:Publish", "*")]),
        (
            "sesv2",
            "SendEmail",
            {"FromEmailAddress": "Shop <news@shop.example>", "ConfigurationSetName": "cs"},
            [
                ("ses:SendEmail", "arn:aws:ses:eu-west-1:111122223333:identity/news@shop.example"),
                ("ses:SendEmail", "arn:aws:ses:eu-west-1:111122223333:configuration-set/cs"),
            ],
        ),
        (
            "cognito-idp",
            "AdminDeleteUser",
            {"UserPoolId": "eu-west-1_abc"},
            [("cognito-idp:AdminDeleteUser", "arn:aws:cognito-idp:eu-west-1:111122223333:userpool/eu-west-1_abc")],
        ),
    ],
)
def test_calls_map_to_the_authorizations_aws_requires(
    service: str, operation: str, params: dict, expected: list[tuple[str, str]]
) -> None:
    assert [(r.action, r.resource) for r in requests_for(service, operation, params, WHERE)] == expected


def test_a_call_without_a_mapping_is_reported_not_allowed() -> None:
    with pytest.raises(Unmapped, match="lambda:Invoke"):
        requests_for("lambda", "Invoke", {"FunctionName": "f"}, WHERE)

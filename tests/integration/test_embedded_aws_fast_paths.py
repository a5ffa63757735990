"""The embedded AWS's shortcuts answer exactly as moto's server does: the in-process transport against the
same request over HTTP, and moto's own methods against their stand-ins (attribute values, items, queries)."""

from __future__ import annotations

import base64
import contextlib
import json
from decimal import Decimal
from typing import Any

import boto3
import pytest
from botocore.config import Config

from luxebrain_dev.local import moto_fast_paths
from luxebrain_dev.local.embedded import LocalResources

EVERY_KIND = {
    "pk": {"S": "FASTPATH#1"},
    "sk": {"S": "ITEM#é/ü & <x>"},
    "text": {"S": ""},
    "number": {"N": "-12.500"},
    "flag": {"BOOL": False},
    "nothing": {"NULL": True},
    "names": {"SS": ["b", "a"]},
    "numbers": {"NS": ["1", "2.5"]},
    "blob": {"B": b"\x00\xffbinary"},
    "blobs": {"BS": [b"one", b"two"]},
    "nested": {
        "M": {
            "list": {"L": [{"N": "1"}, {"S": "two"}, {"M": {}}, {"L": []}, {"BOOL": True}]},
            "inner_blob": {"M": {"b": {"B": b"deep"}}},
            "empty": {"M": {}},
        }
    },
}


def test_an_item_of_every_kind_reads_back_the_same_in_process_and_over_http(local_aws: LocalResources) -> None:
    table = local_aws.environment["LUXEBRAIN_TABLE_NAME"]
    in_process = boto3.session.Session().client("dynamodb")
    in_process.put_item(TableName=table, Item=EVERY_KIND)
    key = {"pk": EVERY_KIND["pk"], "sk": EVERY_KIND["sk"]}

    read_in_process = in_process.get_item(TableName=table, Key=key, ConsistentRead=True)
    with moto_fast_paths.over_http():
        over_http = boto3.session.Session().client("dynamodb")
        read_over_http = over_http.get_item(TableName=table, Key=key, ConsistentRead=True)
        queried_over_http = over_http.query(
            TableName=table, KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": EVERY_KIND["pk"]}
        )
    queried_in_process = in_process.query(
        TableName=table, KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": EVERY_KIND["pk"]}
    )
    assert read_in_process["Item"] == read_over_http["Item"] == EVERY_KIND
    assert queried_in_process["Items"] == queried_over_http["Items"] == [EVERY_KIND]


def test_errors_and_s3_bodies_come_back_as_over_http(local_aws: LocalResources) -> None:
    in_process = boto3.session.Session().client("dynamodb")
    with pytest.raises(in_process.exceptions.ResourceNotFoundException) as in_process_error:
        in_process.get_item(TableName="no-such-table", Key={"pk": {"S": "x"}})
    with moto_fast_paths.over_http():
        over_http = boto3.session.Session().client("dynamodb")
        with pytest.raises(over_http.exceptions.ResourceNotFoundException) as http_error:
            over_http.get_item(TableName="no-such-table", Key={"pk": {"S": "x"}})
    assert in_process_error.value.response["Error"] == http_error.value.response["Error"]

    bucket = local_aws.environment["LUXEBRAIN_MODELS_BUCKET"]
    s3 = boto3.session.Session().client("s3")
    body = bytes(range(256)) * 4000  # past botocore's one-shot read
    s3.put_object(Bucket=bucket, Key="fast-path/ü key+1.bin", Body=body, Metadata={"kind_of": "test"})
    answer = s3.get_object(Bucket=bucket, Key="fast-path/ü key+1.bin")
    assert answer["Body"].read() == body
    assert answer["Metadata"] == {"kind_of": "test"}
    with moto_fast_paths.over_http():
        again = boto3.session.Session().client("s3").get_object(Bucket=bucket, Key="fast-path/ü key+1.bin")
        assert again["Body"].read() == body


def test_dynamodb_past_flask_answers_as_moto_s_flask_view(local_aws: LocalResources) -> None:
    table = local_aws.environment["LUXEBRAIN_TABLE_NAME"]
    client = boto3.session.Session().client("dynamodb", config=Config(retries={"total_max_attempts": 1}))
    answers: list[tuple[int, dict[str, str], Any]] = []

    def keep(http_response: Any, **_: Any) -> None:
        headers = {name.lower(): value for name, value in http_response.headers.items()}
        headers.pop("x-amzn-requestid", None)  # new for every request
        headers.pop("date", None)
        answers.append((http_response.status_code, headers, json.loads(http_response.content or b"null")))

    client.meta.events.register("after-call.dynamodb", keep)
    key = {"pk": {"S": "FASTF#1"}, "sk": {"S": "R"}}
    newer = "attribute_not_exists(pk) OR #m < :m"

    def calls() -> list[tuple[int, dict[str, str], Any]]:
        answers.clear()
        client.put_item(TableName=table, Item={**key, "m": {"S": "2"}, "n": {"N": "1"}})
        with contextlib.suppress(client.exceptions.ConditionalCheckFailedException):
            client.put_item(
                TableName=table,
                Item={**key, "m": {"S": "1"}},
                ConditionExpression=newer,
                ExpressionAttributeNames={"#m": "m"},
                ExpressionAttributeValues={":m": {"S": "1"}},
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        client.update_item(
            TableName=table,
            Key=key,
            UpdateExpression="ADD n :one",
            ExpressionAttributeValues={":one": {"N": "1"}},
            ReturnValues="ALL_NEW",
        )
        client.get_item(TableName=table, Key=key, ConsistentRead=True)
        client.query(TableName=table, KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": key["pk"]})
        with contextlib.suppress(client.exceptions.ResourceNotFoundException):
            client.get_item(TableName="no-such-table", Key=key)
        with contextlib.suppress(client.exceptions.ClientError):
            client.update_item(TableName=table, Key=key, UpdateExpression="SET = nothing")
        client.delete_item(TableName=table, Key=key, ReturnValues="ALL_OLD")
        return list(answers)

    past_flask = calls()
    with moto_fast_paths.moto_as_shipped():
        through_flask = calls()
    assert past_flask == through_flask
    assert [status for status, _, _ in past_flask] == [200, 400, 200, 200, 200, 400, 400, 200]


def test_plain_attribute_values_serialise_as_moto_s_generic_walk(local_aws: LocalResources) -> None:
    from moto.core.responses import XFormedAttributePicker
    from moto.core.serialize import get_serializer_class
    from moto.core.utils import get_service_model

    model = get_service_model("dynamodb").operation_model("Query")
    serializer_class = get_serializer_class("dynamodb", "json")
    wire = json.loads(json.dumps(EVERY_KIND, default=lambda blob: blob.decode("latin-1")))
    result = {"Items": [wire, {"pk": {"S": "p"}, "n": {"N": str(Decimal("3.10"))}}], "Count": 2, "ScannedCount": 2}

    def serialise() -> str:
        serializer = serializer_class(operation_model=model, value_picker=XFormedAttributePicker())
        return serializer.serialize(result)["body"]

    fast = serialise()
    with moto_fast_paths.moto_as_shipped():
        shipped = serialise()
    assert json.loads(fast) == json.loads(shipped)
    assert moto_fast_paths.plain_attribute_value(wire["blob"]) is None  # binary: the generic walk's own

    from moto.core.parse import JSONParser

    sent = json.loads(json.dumps(EVERY_KIND, default=lambda blob: base64.b64encode(blob).decode()))  # as botocore
    request = {"TableName": "t", "Item": sent, "ExpressionAttributeValues": {":v": sent["nested"]}}
    body = json.dumps(request).encode()

    def parse() -> Any:
        put = get_service_model("dynamodb").operation_model("PutItem")
        return JSONParser(put).parse({"body": body, "headers": {}, "method": "POST", "url_path": "/", "values": {}})

    fast_parse = parse()
    with moto_fast_paths.moto_as_shipped():
        assert parse() == fast_parse
    assert moto_fast_paths.plain_attribute_value(wire["names"]) == {"SS": ["b", "a"]}


def test_queries_answer_as_moto_s_own_table_wide_sort(local_aws: LocalResources) -> None:
    table = local_aws.environment["LUXEBRAIN_TABLE_NAME"]
    client = boto3.session.Session().client("dynamodb")
    for partition in ("FASTQ#b", "FASTQ#a", "FASTQ#c"):
        for number in (5, 1, 3, 2, 4):
            client.put_item(
                TableName=table,
                Item={
                    "pk": {"S": partition},
                    "sk": {"S": f"ROW#{number}"},
                    "gsi1pk": {"S": "FASTQ-INDEX#1"},
                    "gsi1sk": {"S": f"{number % 2}"},  # ties within the index: the table's keys decide
                    "size": {"S": "x" * number},
                },
            )

    def answers() -> list[Any]:
        results = []
        for forward in (True, False):
            for query in (
                {"KeyConditionExpression": "pk = :p", "ExpressionAttributeValues": {":p": {"S": "FASTQ#a"}}},
                {
                    "KeyConditionExpression": "pk = :p AND begins_with(sk, :s)",
                    "ExpressionAttributeValues": {":p": {"S": "FASTQ#c"}, ":s": {"S": "ROW#"}, ":two": {"N": "2"}},
                    "FilterExpression": "size(#size) > :two",
                    "ExpressionAttributeNames": {"#size": "size"},
                },
                {
                    "IndexName": "gsi1",
                    "KeyConditionExpression": "gsi1pk = :p",
                    "ExpressionAttributeValues": {":p": {"S": "FASTQ-INDEX#1"}},
                },
                {"KeyConditionExpression": "pk = :p", "ExpressionAttributeValues": {":p": {"S": "FASTQ#none"}}},
            ):
                pages, start = [], None
                while True:  # two items a page: every page boundary and its LastEvaluatedKey compared
                    extra = {"ExclusiveStartKey": start} if start else {}
                    page = client.query(TableName=table, Limit=2, ScanIndexForward=forward, **query, **extra)
                    pages.append((page["Items"], page.get("LastEvaluatedKey"), page["Count"], page["ScannedCount"]))
                    start = page.get("LastEvaluatedKey")
                    if not start:
                        break
                results.append(pages)
        return results

    fast = answers()
    with moto_fast_paths.moto_as_shipped():
        shipped = answers()
    assert fast == shipped
    assert [item["sk"]["S"] for pages in fast[:1] for items, *_ in pages for item in items] == [
        f"ROW#{n}" for n in (1, 2, 3, 4, 5)
    ]


def test_a_remembered_condition_expression_decides_each_write_by_its_own_values(local_aws: LocalResources) -> None:
    from moto.dynamodb.comparisons import ConditionExpressionParser

    table = local_aws.environment["LUXEBRAIN_TABLE_NAME"]
    client = boto3.session.Session().client("dynamodb")
    condition = "attribute_not_exists(pk) OR (#m < :m AND NOT (#h IN (:h, :x)))"
    names = {"#m": "modified", "#h": "hash"}

    def put(partition: str, modified: str, content: str) -> bool:
        try:
            client.put_item(
                TableName=table,
                Item={"pk": {"S": partition}, "sk": {"S": "R"}, "modified": {"S": modified}, "hash": {"S": content}},
                ConditionExpression=condition,
                ExpressionAttributeNames=names,
                ExpressionAttributeValues={":m": {"S": modified}, ":h": {"S": content}, ":x": {"S": "never"}},
            )
        except client.exceptions.ConditionalCheckFailedException:
            return False
        return True

    writes = [("2024-01-02", "a"), ("2024-01-01", "b"), ("2024-01-03", "a"), ("2024-01-03", "c")]
    # The same text four times over: each time decided by that write's values, as moto decides them.
    decided = [put("FASTC#1", *write) for write in writes]
    with moto_fast_paths.moto_as_shipped():
        assert [put("FASTC#3", *write) for write in writes] == decided == [True, False, False, True]
    no_retries = boto3.session.Session().client("dynamodb", config=Config(retries={"total_max_attempts": 1}))
    refusals = []
    for shipped in (False, False, True):  # a malformed expression is refused each time (moto answers 500)
        with (
            moto_fast_paths.moto_as_shipped() if shipped else contextlib.nullcontext(),
            pytest.raises(client.exceptions.ClientError) as refused,
        ):
            no_retries.put_item(
                TableName=table, Item={"pk": {"S": "FASTC#2"}, "sk": {"S": "R"}}, ConditionExpression="pk = = pk"
            )
        refusals.append(refused.value.response["ResponseMetadata"]["HTTPStatusCode"])
    with moto_fast_paths.over_http(), pytest.raises(client.exceptions.ClientError) as over_http:
        no_retries.put_item(
            TableName=table, Item={"pk": {"S": "FASTC#2"}, "sk": {"S": "R"}}, ConditionExpression="pk = = pk"
        )
    assert refusals == [over_http.value.response["ResponseMetadata"]["HTTPStatusCode"]] * 3
    parser = ConditionExpressionParser(condition, names, {":m": {"S": "1"}, ":h": {"S": "2"}, ":x": {"S": "3"}})
    remembered = parser._lex_condition_expression()
    with moto_fast_paths.moto_as_shipped():
        assert list(parser._lex_condition_expression()) == list(remembered)


CONDITIONS = [
    # pynamodb's newer-wins condition, as put_if_newer sends it
    "((attribute_not_exists (#0) OR #1 < :0) OR (#1 = :0 AND #2 <> :1))",
    "#1 BETWEEN :0 AND :1 AND NOT contains(#2, :0)",
    "size(#2) > :s OR #1 IN (:0, :1) OR begins_with(#m.#n, :1)",
    "attribute_type(#1, :t) AND (#1 >= :0)",
]
CONDITION_NAMES = {"#0": "pk", "#1": "modified", "#2": "hash", "#m": "meta", "#n": "name"}


def test_a_remembered_condition_tree_decides_as_moto_s_own_parse(local_aws: LocalResources) -> None:
    from moto.dynamodb.comparisons import ConditionExpressionParser
    from moto.dynamodb.models.dynamo_type import DynamoType, Item

    stored = Item(
        DynamoType({"S": "P"}),
        DynamoType({"S": "R"}),
        {
            "pk": {"S": "P"},
            "modified": {"S": "2024-01-02"},
            "hash": {"S": "abc"},
            "meta": {"M": {"name": {"S": "x-1"}}},
        },
    )
    value_sets = [
        {":0": {"S": "2024-01-03"}, ":1": {"S": "abd"}, ":t": {"S": "S"}, ":s": {"N": "3"}},
        {":0": {"S": "2024-01-02"}, ":1": {"S": "abc"}, ":t": {"S": "N"}, ":s": {"N": "2"}},
        {":0": {"S": "2024-01-02"}, ":1": {"S": "x"}, ":t": {"S": "S"}, ":s": {"N": "5"}},
        {":0": {"S": "2023-12-31"}, ":1": {"S": "2024-02-01"}, ":t": {"S": "S"}, ":s": {"N": "1"}},
    ]

    def decisions() -> list[tuple[bool | str, bool | str, list[str], list[str]]]:
        answers = []
        for text in CONDITIONS:
            names = {name: value for name, value in CONDITION_NAMES.items() if name in text}
            for values in value_sets:  # the same text again and again, with other values each time
                used = {name: value for name, value in values.items() if name in text}
                parser = ConditionExpressionParser(text, names, used)
                condition = parser.parse()
                found = (parser.expr_attr_names_found, parser.expr_attr_values_found)
                answers.append((decide(condition, stored), decide(condition, None), *found))
        return answers

    def decide(condition: Any, item: Item | None) -> bool | str:
        try:
            return condition.expr(item)
        except ValueError as refused:  # moto's answer for some conditions on a missing item
            return str(refused)

    remembered = decisions()
    with moto_fast_paths.moto_as_shipped():
        assert decisions() == remembered
    # newer, the same version again (a duplicate), the same version with other content, older: by their own values
    assert [answer[0] for answer in remembered[:4]] == [True, False, True, False]
    for text, names, values in (
        ("#1 < :0", {"#1": "modified"}, {}),  # a placeholder with no value
        ("#1 < :0", {}, {":0": {"S": "1"}}),  # a name with no value
        ("((#1 < :0))", {"#1": "modified"}, {":0": {"S": "1"}}),  # redundant parentheses
    ):
        refusals = []
        for shipped in (False, False, True):  # refused each time, as moto refuses it
            with (
                moto_fast_paths.moto_as_shipped() if shipped else contextlib.nullcontext(),
                pytest.raises(Exception) as refused,
            ):
                ConditionExpressionParser(text, names, values).parse()
            refusals.append((type(refused.value), str(refused.value)))
        assert refusals[0] == refusals[1] == refusals[2]


def test_items_are_measured_and_refused_as_moto_measures_them(local_aws: LocalResources) -> None:
    from moto.dynamodb.models.dynamo_type import DynamoType, Item

    stored = json.loads(json.dumps(EVERY_KIND, default=lambda blob: base64.b64encode(blob).decode()))
    values = [*stored.values(), {"N": "-0.5e10"}, {"S": "é" * 7}, {"L": []}, {"M": {}}]
    fast = [DynamoType(value).size() for value in values] + [Item(None, None, stored).size()]
    with moto_fast_paths.moto_as_shipped():
        assert [DynamoType(value).size() for value in values] + [Item(None, None, stored).size()] == fast

    table = local_aws.environment["LUXEBRAIN_TABLE_NAME"]
    client = boto3.session.Session().client("dynamodb")
    too_large = {"pk": {"S": "FASTI#1"}, "sk": {"S": "R"}, **{f"a{n}": {"S": "x" * 50_000} for n in range(9)}}
    refusals = []
    for shipped in (False, True):  # past 400 KB: refused in the same words
        with (
            moto_fast_paths.moto_as_shipped() if shipped else contextlib.nullcontext(),
            pytest.raises(client.exceptions.ClientError) as refused,
        ):
            client.put_item(TableName=table, Item=too_large)
        refusals.append(refused.value.response["Error"])
    assert refusals[0] == refusals[1] and "size" in refusals[0]["Message"].lower()

"""Each function's AWS calls are authorized against its own role from the translated template, locally."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from luxebrain_dev.infra_template import resources_of_type
from luxebrain_dev.local import iam
from luxebrain_dev.local.embedded import LocalResources
from luxebrain_dev.local.functions import as_function
from luxebrain_dev.sam_transform import translated_template


def _put_model_file(event: dict[str, Any], context: Any) -> None:
    from luxebrain.runtime import aws_client, configured_settings

    aws_client("s3").put_object(Bucket=configured_settings().models_bucket, Key=event["key"], Body=b"{}")


def test_a_call_outside_the_functions_role_is_refused_naming_function_action_and_resource(
    local_aws: LocalResources,
) -> None:
    bucket = local_aws.physical_id("ModelsBucket")
    key = "tenants/t-someone/models/recommend/v1/manifest.json"
    receiver = as_function("IngestReceiverFunction", _put_model_file)
    with pytest.raises(ClientError) as refused:
        receiver({"key": key}, None)
    assert refused.value.response["Error"]["Code"] == "AccessDeniedException"
    denials = [str(denial) for denial in iam.take_denials()]  # taken: this test provoked it on purpose
    assert denials == [
        f"IngestReceiverFunction called s3:PutObject on arn:aws:s3:::{bucket}/{key}: not allowed by the function's role"
    ]


def test_the_same_call_goes_through_for_the_function_whose_role_grants_it(local_aws: LocalResources) -> None:
    as_function("TrainWorkerFunction", _put_model_file)({"key": "tenants/t-someone/models/recommend/v1/x"}, None)
    assert iam.take_denials() == []


def test_every_function_of_the_translated_template_is_checked_against_its_own_role(
    local_aws: LocalResources,
) -> None:
    checker = iam.current_checker()
    assert checker is not None
    functions = set(resources_of_type(translated_template(), "AWS::Lambda::Function"))
    assert set(checker.book.grants) == functions
    assert all(checker.book.grants[name] for name in functions)

"""The training resources of infra/template.yaml: things cfn-lint cannot know (handler files, timeouts that must
nest, the worker's environment mirroring Globals, retry and dead-letter settings)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from luxebrain.settings import Settings
from luxebrain_dev.infra_template import load_template

REPO = Path(__file__).resolve().parents[2]


def resources() -> dict[str, Any]:
    return load_template()["Resources"]


def test_worker_image_runs_the_worker_handler() -> None:
    worker = resources()["TrainWorkerFunction"]
    assert worker["Properties"]["PackageType"] == "Image"
    (command,) = worker["Properties"]["ImageConfig"]["Command"]
    module, _, function = command.partition(".")
    assert f"def {function}" in (REPO / "functions" / "train" / f"{module}.py").read_text()
    dockerfile = (REPO / worker["Metadata"]["Dockerfile"]).read_text()
    assert "FROM public.ecr.aws/lambda/python:3.12" in dockerfile
    assert "functions/train/worker.py" in dockerfile and "layers/ml/requirements.txt" in dockerfile


def test_lease_and_timeouts_nest() -> None:
    # worker timeout < lease < queue visibility: a dead run's lease has expired when its message comes back
    worker_timeout = resources()["TrainWorkerFunction"]["Properties"]["Timeout"]
    visibility = resources()["TrainQueue"]["Properties"]["VisibilityTimeout"]
    lease = Settings.model_fields["training_lease_seconds"].default
    assert worker_timeout <= 900
    assert worker_timeout < lease < visibility


def test_worker_environment_has_what_its_settings_require() -> None:
    variables = resources()["TrainWorkerFunction"]["Properties"]["Environment"]["Variables"]
    globals_variables = load_template()["Globals"]["Function"]["Environment"]["Variables"]
    for name in ("APP_ENV", "LUXEBRAIN_TABLE_NAME", "LUXEBRAIN_MODELS_BUCKET", "LUXEBRAIN_TRAIN_QUEUE_URL"):
        assert variables[name] == globals_variables[name], name


def test_worker_reads_the_train_queue_with_partial_batch_failures() -> None:
    mapping = resources()["TrainWorkerQueueMapping"]["Properties"]
    assert mapping["EventSourceArn"] == {"Fn::GetAtt": ["TrainQueue", "Arn"]}
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping["BatchSize"] == 1
    assert resources()["TrainQueue"]["Properties"]["RedrivePolicy"]["maxReceiveCount"] >= 2


def test_schedule_targets_the_dispatcher_with_retries_and_a_dead_letter_queue() -> None:
    target = resources()["TrainSchedule"]["Properties"]["Target"]
    assert target["Arn"] == {"Fn::GetAtt": ["TrainDispatcherFunction", "Arn"]}
    assert target["RetryPolicy"]["MaximumRetryAttempts"] >= 1
    assert target["DeadLetterConfig"]["Arn"] == {"Fn::GetAtt": ["TrainScheduleDeadLetterQueue", "Arn"]}
    assert "scheduled_time" in target["Input"]


def test_worker_policy_is_scoped_to_tenant_prefixes_and_its_queue() -> None:
    statements = resources()["TrainWorkerRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
    for statement in statements:
        assert statement["Resource"] != "*"
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        assert not any(action.endswith(":*") for action in actions)

"""The IAM report fails on grants no traced call used and on a removed grant coming back; notes kept ones used."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from luxebrain_dev import iam_report
from luxebrain_dev.iam_report import GrantEntry, Trace, analyse
from luxebrain_dev.local.iam import RoleBook, _grant

TABLE = "arn:aws:dynamodb:<region>:<account>:table/<DataTable>"


def _book() -> RoleBook:
    statement = {"Effect": "Allow", "Action": ["dynamodb:GetItem", "dynamodb:Scan"], "Resource": TABLE}
    logs = {"Effect": "Allow", "Action": "logs:PutLogEvents", "Resource": "*"}
    return RoleBook(
        {
            "Fn": [
                _grant("Fn", "FnRolePolicy0", 0, statement),
                _grant("Fn", "AWSLambdaBasicExecutionRole", 0, logs),
            ]
        }
    )


def _trace(*actions: str) -> Trace:
    uses = {GrantEntry("Fn", "FnRolePolicy0#0", action): {action: {TABLE}} for action in actions}
    return Trace(uses=uses, calls={"Fn": {f"dynamodb:{a.split(':')[1]}" for a in actions}})


def test_a_grant_no_call_used_is_reported_with_function_and_action() -> None:
    finding = analyse(_book(), _trace("dynamodb:GetItem"))
    assert finding.problems == [
        "Fn: dynamodb:Scan (FnRolePolicy0#0) is granted but no traced call uses it: "
        "remove it, or keep it in luxebrain_dev.iam_report.KEPT with its reason"
    ]
    assert "| `dynamodb:GetItem` | `" + TABLE + "` |" in finding.document
    assert "Lambda's runtime writes the function's logs" in finding.document  # the managed policy, kept


def test_a_kept_grant_a_run_uses_is_noted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(iam_report, "KEPT", {("Fn", "dynamodb:Scan"): "a reason"})
    assert analyse(_book(), _trace("dynamodb:GetItem")).problems == []
    finding = analyse(_book(), _trace("dynamodb:GetItem", "dynamodb:Scan"))
    assert finding.problems == [] and finding.notes == ["Fn: dynamodb:Scan is used now; its KEPT entry can go"]


def test_a_removed_grant_that_comes_back_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(iam_report, "REMOVED", {"Fn": [("dynamodb:Scan", TABLE, "the Scan")]})
    problems = analyse(_book(), _trace("dynamodb:GetItem", "dynamodb:Scan")).problems
    assert problems == ["Fn: removed grant the Scan is back (FnRolePolicy0#0 allows dynamodb:Scan on " + TABLE + ")"]


def test_a_function_no_test_ran_is_reported() -> None:
    problems = analyse(_book(), Trace(uses={}, calls={})).problems
    assert problems[0] == "Fn: no traced AWS call at all (no test runs it): its role is not proven"


def test_the_template_roles_name_resources_by_logical_id() -> None:
    book = iam_report.template_roles()
    receiver = book.grants["IngestReceiverFunction"]
    assert any(TABLE in grant.resources and "dynamodb:GetItem" in grant.actions for grant in receiver)


def test_the_document_must_list_every_used_action_and_only_granted_ones() -> None:
    generated = analyse(_book(), _trace("dynamodb:GetItem")).document
    assert iam_report.check_document(Path("iam.md"), generated, generated, _book()) == []
    stale = generated.replace("dynamodb:GetItem", "dynamodb:DeleteItem")
    assert iam_report.check_document(Path("iam.md"), stale, generated, _book()) == [
        "iam.md: Fn uses ['dynamodb:GetItem'], not listed: run `make iam-report`",
        "iam.md: Fn lists dynamodb:DeleteItem, which its role no longer grants",
    ]


def test_the_traces_of_every_test_process_are_read_together(tmp_path: Path) -> None:
    # Given two pytest-xdist workers' traces (each process names its own file), one grant used in each
    for pid, action in ((101, "dynamodb:GetItem"), (202, "dynamodb:Scan")):
        document = {"uses": [["Fn", "FnRolePolicy0#0", action, action, TABLE]], "calls": {"Fn": [action]}}
        (tmp_path / f"trace-{pid}-1.json").write_text(json.dumps(document))
    # When the report reads the folder
    trace = Trace.read(tmp_path)
    # Then both uses count: no grant is unused
    assert analyse(_book(), trace).problems == []
    assert trace.calls == {"Fn": {"dynamodb:GetItem", "dynamodb:Scan"}}

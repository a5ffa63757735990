"""Shared fixtures. Integration tests run against moto's server (this process's own AWS calls are handed to
it in process: local/moto_fast_paths.py), started once per session (once
per pytest-xdist worker: each worker is its own process, with its own server on a port the OS picks and its
own environment), with every resource created from infra/template.yaml; each test uses its own tenant, so
tests don't need a fresh AWS."""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterator

import pytest

# No real AWS from tests, ever: blank credentials and no profile before anything imports boto3.
os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
os.environ.pop("AWS_PROFILE", None)
os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "LuxeBrainTests")
os.environ.setdefault("POWERTOOLS_SERVICE_NAME", "luxebrain")

from luxebrain.tenancy import new_tenant_id
from luxebrain_dev.local.embedded import EmbeddedAws, LocalResources


@pytest.fixture(scope="session")
def local_aws() -> Iterator[LocalResources]:
    aws = EmbeddedAws()
    resources = aws.start()
    try:
        yield resources
    finally:
        aws.stop()


@pytest.fixture
def tenant_id(local_aws: LocalResources) -> str:
    from luxebrain.storage.tenants import create_tenant

    return create_tenant("Test Maison", tenant_id=new_tenant_id()).tenant_id


@pytest.fixture(autouse=True)
def aws_calls_within_each_functions_role() -> Iterator[None]:
    """A call a function's role does not allow fails the test that made it, naming function, action and
    resource (the product may catch the AccessDenied; the check still saw it)."""
    from luxebrain_dev.local import iam

    iam.take_denials()
    yield
    denials = sorted({str(denial) for denial in iam.take_denials()})
    if denials:
        pytest.fail("AWS calls outside the function's role:\n  " + "\n  ".join(denials), pytrace=False)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """A test marked slow says why it cannot be faster: ``@pytest.mark.slow(reason="...")``."""
    unexplained = [item.nodeid for item in items if any(not m.kwargs.get("reason") for m in item.iter_markers("slow"))]
    if unexplained:
        raise pytest.UsageError("marked slow without reason=...: " + ", ".join(unexplained))


def pytest_xdist_node_collection_finished(node: object, ids: list[str]) -> None:
    """pytest-xdist schedules by node id: of several tests sharing one it runs one and reports no loss
    (schemathesis gives every operation's test the function's node id). Such files run in a process of their
    own (the Makefile's SERIAL_TESTS)."""
    shared = sorted(nodeid for nodeid, count in Counter(ids).items() if count > 1)
    if shared:
        raise pytest.UsageError("tests sharing a node id cannot run under xdist: " + ", ".join(shared))

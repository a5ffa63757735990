"""schemathesis against the app's own OpenAPI document: generated requests (a few per operation, signed in
as a tenant owner) never get a 5xx, and every response conforms to the documented status, media type and
schema; then a bounded stateful run follows the links schemathesis infers between operations (a created
resource's id fed to the routes that read, change or delete it). Kept small (well under a minute): a smoke
test of the contract, not a fuzzing campaign. The stateful run prints its figures (cases, operations, 5xx)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, ClassVar

import pytest
import schemathesis
from api_testkit import Merchant, api_app_module, new_merchant
from hypothesis import HealthCheck, Phase, settings
from schemathesis.specs.openapi.checks import negative_data_rejection, positive_data_acceptance

from luxebrain.adapters.aws import secrets_vault
from luxebrain_dev.local.embedded import LocalResources

app = api_app_module().app
schema = schemathesis.openapi.from_dict(app.openapi())
schema.app = app
# Examples and a few generated cases per operation; the exhaustive coverage phase (hundreds of boundary cases
# for a body like tenant settings) is a job for a nightly run, not for every test run.
schema.config.phases.update(phases=["examples", "fuzzing"])

# Operations that would end the caller's own session or account mid-run (each has its own test), and the
# campaigns' public unsubscribe page, which answers in HTML by design (a person clicks it in an e-mail).
EXCLUDED = {
    ("POST", "/auth/logout"),
    ("POST", "/auth/change-password"),
    ("POST", "/tenant/delete"),
    ("GET", "/campaigns/unsubscribe/{token}"),
    ("POST", "/campaigns/unsubscribe/{token}"),
}


@pytest.fixture(scope="module")
def owner(local_aws: LocalResources) -> Iterator[Merchant]:
    from luxebrain.billing.plans import change_plan
    from luxebrain.storage.tenants import tenant_repository

    merchant = new_merchant("Maison Schéma")
    # Higher rate limits: 429s would hide the routes' own answers
    change_plan(merchant.tenant_id, "pro", tenants=tenant_repository())
    yield merchant


@schema.parametrize()
@settings(max_examples=4, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_api_conforms_to_its_schema(case: schemathesis.Case, owner: Merchant) -> None:
    if (case.method.upper(), case.path) in EXCLUDED:
        pytest.skip("ends the session or the tenant under test")
    # Not checked: "schema-valid data is accepted" (a valid request may still break a business rule: an
    # unknown store, a product without managed stock, an address Cognito refuses; a clear 422 is right) and
    # "schema-violating data is rejected" (pydantic's lax mode accepts 0 for false and "5" for 5, on purpose).
    # Checked: no 5xx, and every response's status, media type, headers and body match the document.
    case.call_and_validate(
        headers={"Authorization": f"Bearer {owner.access_token}"},
        excluded_checks=[positive_data_acceptance, negative_data_rejection],
    )


# ----------------------------------------------------------------------------- stateful
STATEFUL_STEPS = 60
# OpenAPI links: which response feeds which operation's parameter (FastAPI writes none, and schemathesis
# infers none from this document). (source operation, status) -> [(target operation, parameter, expression)]
LINKS: dict[tuple[str, str, str], list[tuple[str, str, str, str]]] = {
    ("get", "/stores", "200"): [
        ("get", "/stores/{store_id}", "store_id", "$response.body#/items/0/store_id"),
        ("get", "/stores/{store_id}/ingest-status", "store_id", "$response.body#/items/0/store_id"),
    ],
    ("post", "/stores", "201"): [
        ("get", "/stores/{store_id}", "store_id", "$response.body#/store_id"),
        ("get", "/stores/{store_id}/ingest-status", "store_id", "$response.body#/store_id"),
    ],
    ("get", "/campaigns", "200"): [
        ("get", "/campaigns/{campaign_id}/results", "campaign_id", "$response.body#/items/0/campaign_id")
    ],
    ("post", "/campaigns", "201"): [
        ("get", "/campaigns/{campaign_id}/results", "campaign_id", "$response.body#/campaign_id")
    ],
    ("get", "/tenant/members", "200"): [
        ("delete", "/tenant/members/{user_id}", "user_id", "$response.body#/0/user_id")
    ],
    ("get", "/me", "200"): [("delete", "/tenant/members/{user_id}", "user_id", "$response.body#/user_id")],
    ("get", "/prices/decisions", "200"): [
        ("get", "/prices/decisions/{decision_id}", "decision_id", "$response.body#/items/0/decision_id"),
        ("post", "/prices/decisions/{decision_id}/rollback", "decision_id", "$response.body#/items/0/decision_id"),
    ],
    ("get", "/prices/suggestions", "200"): [
        ("post", "/prices/suggestions/{product_id}/approve", "product_id", "$response.body#/suggestions/0/product_id"),
        ("post", "/prices/suggestions/{product_id}/reject", "product_id", "$response.body#/suggestions/0/product_id"),
    ],
}


def _linked_document() -> dict[str, Any]:
    import copy

    document = copy.deepcopy(app.openapi())
    for (method, path, status), targets in LINKS.items():
        response = document["paths"][path][method]["responses"][status]
        for target_method, target_path, parameter, expression in targets:
            operation_id = document["paths"][target_path][target_method]["operationId"]
            response.setdefault("links", {})[f"{target_method}_{operation_id}"] = {
                "operationId": operation_id,
                "parameters": {parameter: expression},
            }
    return document


stateful_schema = schemathesis.openapi.from_dict(_linked_document()).exclude(
    name=[f"{method} {path}" for method, path in sorted(EXCLUDED)]
)
stateful_schema.app = app


class OwnerWorkflows(stateful_schema.as_state_machine()):  # type: ignore[misc]
    """Sequences of calls chained by the inferred links, as the owner; counts what it saw."""

    headers: ClassVar[dict[str, str]] = {}
    seen: ClassVar[dict[str, Any]] = {"cases": 0, "operations": set(), "server_errors": []}

    def get_call_kwargs(self, case: schemathesis.Case) -> dict[str, Any]:
        return {"headers": dict(self.headers)}

    def after_call(self, response: Any, case: schemathesis.Case) -> None:
        super().after_call(response, case)
        self.seen["cases"] += 1
        self.seen["operations"].add(f"{case.method.upper()} {case.path}")
        if response.status_code >= 500:
            self.seen["server_errors"].append((case.method.upper(), case.path, response.status_code))

    def validate_response(self, response: Any, case: schemathesis.Case, **kwargs: Any) -> None:
        # The same checks as the stateless run (see there why the two data-acceptance checks are off).
        case.validate_response(
            response,
            excluded_checks=[positive_data_acceptance, negative_data_rejection],
            headers=self.get_call_kwargs(case)["headers"],
        )


def test_stateful_sequences_find_no_5xx_and_no_schema_violation(owner: Merchant) -> None:
    from datetime import UTC, datetime, timedelta

    from luxebrain.campaigns.oneoff import CampaignSpec, create_campaign
    from luxebrain.storage.campaigns import campaign_repository
    from luxebrain.storage.tenants import create_store, tenant_repository

    # Something for the links to start from: a store and a campaign of the owner's tenant
    create_store(
        owner.tenant_id,
        url="https://schema.example.com",
        consumer_key="ck",
        consumer_secret="cs",
        vault=secrets_vault(),
    )
    create_campaign(
        owner.tenant_id,
        CampaignSpec(name="Soldes", segment="all_customers", scheduled_at=datetime.now(UTC) + timedelta(days=2)),
        campaigns=campaign_repository(),
        tenants=tenant_repository(),
    )
    OwnerWorkflows.headers = {"Authorization": f"Bearer {owner.access_token}"}
    OwnerWorkflows.run(
        settings=settings(
            max_examples=STATEFUL_STEPS // 6,
            stateful_step_count=6,
            deadline=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
            phases=[Phase.generate],
        )
    )
    seen = OwnerWorkflows.seen
    print(
        f"stateful schemathesis: {seen['cases']} cases over {len(seen['operations'])} operations, "
        f"{len(seen['server_errors'])} 5xx"
    )
    assert seen["server_errors"] == []
    assert seen["cases"] >= STATEFUL_STEPS // 2 and len(seen["operations"]) >= 5

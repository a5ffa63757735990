"""Pure parts of the API: problem details, cursors, the role ladder, plan periods and limits, key formats."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime

import pytest
from fakes import InMemoryMemberRepository

from luxebrain.auth.principal import AuthKind, Principal, Role
from luxebrain.billing.plans import PLANS, PlanFeatureError, PlanLimitExceededError, RateLimitedError, get_plan
from luxebrain.billing.usage import period_label
from luxebrain.errors import ConfigurationError, ForbiddenError, InvalidInputError, NotFoundError, UnauthorizedError
from luxebrain.webapi.pagination import decode_cursor, encode_cursor
from luxebrain.webapi.problems import problem_for_error, problem_for_status, validation_problem


# ----------------------------------------------------------------------------- problem details
def test_domain_error_maps_to_its_status_and_safe_message() -> None:
    problem = problem_for_error(NotFoundError("store s-1 not found"))
    body = problem.body(instance="/stores/s-1", request_id="req-12345678")
    assert body == {
        "type": "https://docs.luxebrain.example/problems/not-found",
        "title": "Not Found",
        "status": 404,
        "detail": "store s-1 not found",
        "instance": "/stores/s-1",
        "request_id": "req-12345678",
    }


def test_unauthorized_carries_www_authenticate() -> None:
    assert problem_for_error(UnauthorizedError("sign in")).headers["WWW-Authenticate"].startswith("Bearer")


def test_internal_and_configuration_errors_never_leak_their_message() -> None:
    for error in (ConfigurationError("LUXEBRAIN_TABLE_NAME is not set"), RuntimeError("boom")):
        problem = problem_for_error(error)  # type: ignore[arg-type]
        assert problem.status == 500
        assert "LUXEBRAIN" not in problem.detail and "boom" not in problem.detail


def test_limits_are_named_in_the_problem() -> None:
    quota = problem_for_error(PlanLimitExceededError("messages_per_month", 1000, "free"))
    assert quota.status == 402 and quota.extensions == {"limit": "messages_per_month", "allowed": 1000, "plan": "free"}
    feature = problem_for_error(PlanFeatureError("sms_campaigns", "free"))
    assert feature.status == 403 and feature.extensions["limit"] == "sms_campaigns"
    rate = problem_for_error(RateLimitedError("retrain_per_minute", 2, 17))
    assert rate.status == 429 and rate.headers["Retry-After"] == "17" and rate.extensions["retry_after"] == 17


def test_validation_problem_names_fields_without_echoing_input() -> None:
    errors = [{"loc": ("body", "email"), "msg": "String should match pattern", "type": "string_pattern_mismatch",
               "input": "<script>alert(1)</script>"}]  # fmt: skip
    problem = validation_problem(errors)
    assert problem.status == 422 and "body.email" in problem.detail
    assert "<script>" not in json.dumps(problem.body(instance="/", request_id="r" * 8))


def test_framework_statuses_have_stable_types() -> None:
    assert problem_for_status(413).type.endswith("/payload-too-large")
    assert problem_for_status(405).title == "Method Not Allowed"


# ----------------------------------------------------------------------------- cursors
def test_cursor_round_trips_within_its_partition() -> None:
    key = {"pk": {"S": "TENANT#t-abc1"}, "sk": {"S": "STORE#s-1"}}
    cursor = encode_cursor(key)
    assert cursor is not None and decode_cursor(cursor, partition="TENANT#t-abc1") == key
    assert encode_cursor(None) is None and decode_cursor(None, partition="x") is None


@pytest.mark.parametrize(
    "cursor",
    [
        encode_cursor({"pk": {"S": "TENANT#t-other"}, "sk": {"S": "STORE#s-1"}}),  # another tenant's partition
        "not base64 !!",
        base64.urlsafe_b64encode(b"[1, 2]").decode(),
        base64.urlsafe_b64encode(json.dumps({"pk": "TENANT#t-abc1"}).encode()).decode(),
        "A" * 3000,
    ],
)
def test_foreign_or_malformed_cursors_are_422(cursor: str) -> None:
    with pytest.raises(InvalidInputError, match="cursor"):
        decode_cursor(cursor, partition="TENANT#t-abc1")


# ----------------------------------------------------------------------------- roles
def _user(role: Role, tenant: str | None = "t-abc1", kind: AuthKind = AuthKind.USER) -> Principal:
    return Principal(subject="u", role=role, kind=kind, tenant_id=tenant)


def test_role_ladder() -> None:
    assert _user(Role.OWNER).has_at_least(Role.STAFF)
    assert _user(Role.STAFF).has_at_least(Role.READ_ONLY)
    assert not _user(Role.READ_ONLY).has_at_least(Role.STAFF)
    assert not _user(Role.OWNER).has_at_least(Role.ADMIN)
    admin = _user(Role.ADMIN, tenant=None)
    assert admin.has_at_least(Role.ADMIN) and not admin.has_at_least(Role.READ_ONLY)
    storefront = _user(Role.READ_ONLY, kind=AuthKind.STOREFRONT)
    assert not storefront.has_at_least(Role.READ_ONLY)  # storefront keys pass only the recommendation routes


def test_admins_need_a_tenant_to_act_in_one() -> None:
    with pytest.raises(ForbiddenError, match="impersonate"):
        _user(Role.ADMIN, tenant=None).require_tenant()
    assert _user(Role.STAFF).require_tenant() == "t-abc1"


# ----------------------------------------------------------------------------- plans
def test_period_labels() -> None:
    moment = datetime(2026, 2, 28, 23, 59, 30, tzinfo=UTC)
    assert period_label("month", moment) == "2026-02"
    assert period_label("day", moment) == "2026-02-28"
    assert period_label("minute", moment) == "2026-02-28T23:59"


def test_plans_grow_monotonically() -> None:
    free, growth, pro = (PLANS[name] for name in ("free", "growth", "pro"))
    for metric in free.quotas:
        assert free.quotas[metric][0] < growth.quotas[metric][0] < pro.quotas[metric][0], metric
    assert free.campaign_channels < growth.campaign_channels < pro.campaign_channels
    assert "sms" not in free.campaign_channels and "whatsapp" in pro.campaign_channels


def test_unknown_plan_is_a_clear_error() -> None:
    with pytest.raises(InvalidInputError, match="free, growth, pro"):
        get_plan("platinum")


# ----------------------------------------------------------------------------- storefront keys
@pytest.mark.parametrize(
    "key",
    [
        "",
        "lbpk_",
        "lbpk_T-UPPER_" + "a" * 40,
        "lbpk_t-abc1_short",
        "pk_t-abc1_" + "a" * 40,
        "lbpk_t-abc1_" + "a" * 40 + "!",
    ],
)
def test_malformed_storefront_keys_are_refused_before_any_lookup(key: str) -> None:
    from luxebrain.auth.storefront import principal_for_storefront_key

    keys = InMemoryMemberRepository()
    with pytest.raises(UnauthorizedError):
        principal_for_storefront_key(key, keys=keys)
    assert keys.reads == 0


@pytest.mark.parametrize(
    "forged",
    [
        {"pk": {"S": "TENANT#t-aaaa"}},  # no sort key
        {"pk": {"S": "TENANT#t-aaaa"}, "sk": {"N": "1"}},  # wrong type
        {"pk": {"S": "TENANT#t-aaaa"}, "sk": {"S": "STORE#1"}, "extra": {"S": "x"}},  # not a key attribute
        {"pk": {"S": "TENANT#t-aaaa"}, "sk": {"S": "PROFILE"}},  # outside the queried range
    ],
)
def test_forged_cursors_of_the_right_partition_are_still_a_422(forged: dict) -> None:
    from luxebrain.errors import InvalidInputError

    with pytest.raises(InvalidInputError):
        decode_cursor(encode_cursor(forged), partition="TENANT#t-aaaa", sort_prefix="STORE#")


def test_a_genuine_cursor_round_trips() -> None:
    key = {"pk": {"S": "TENANT#t-aaaa"}, "sk": {"S": "STORE#s-1"}}
    assert decode_cursor(encode_cursor(key), partition="TENANT#t-aaaa", sort_prefix="STORE#") == key

"""The in-memory user directory of tests/fakes.py behaves as the Cognito adapter on the embedded AWS's user
pool (users sign in with their e-mail): the same checks pass on both, so a unit test that passes on the fake
says something about Cognito."""

from __future__ import annotations

import secrets

import pytest
from fakes import InMemoryUserDirectory

from luxebrain.adapters import DirectoryError, UserDirectory
from luxebrain.adapters.aws import user_directory
from luxebrain.runtime import configured_settings
from luxebrain_dev.local.embedded import LocalResources

PASSWORD = "Contract-pass-1"


@pytest.fixture(params=["in-memory", "cognito"])
def users(request: pytest.FixtureRequest, local_aws: LocalResources) -> UserDirectory:
    return InMemoryUserDirectory() if request.param == "in-memory" else user_directory()


@pytest.fixture
def email() -> str:
    return f"contract-{secrets.token_hex(5)}@shop.example"


def _client() -> str:
    return configured_settings().require("user_pool_client_id")


def _code(exc: pytest.ExceptionInfo[DirectoryError]) -> str:
    return exc.value.code


def test_a_sign_up_is_found_by_its_e_mail_and_refused_twice(users: UserDirectory, email: str) -> None:
    sub, confirmed = users.sign_up(_client(), email, PASSWORD, attributes={"email": email})
    assert confirmed is False
    found = users.admin_get_user(email)
    assert found.sub == sub and found.attributes["email"] == email
    with pytest.raises(DirectoryError) as again:
        users.sign_up(_client(), email, PASSWORD, attributes={"email": email})
    with pytest.raises(DirectoryError) as unknown:
        users.admin_get_user(f"nobody-{email}")
    assert (_code(again), _code(unknown)) == ("UsernameExistsException", "UserNotFoundException")


def test_a_confirmed_user_logs_in_with_the_right_password_only(users: UserDirectory, email: str) -> None:
    users.sign_up(_client(), email, PASSWORD, attributes={"email": email})
    users.admin_confirm_sign_up(email)
    answer = users.initiate_auth(_client(), "USER_PASSWORD_AUTH", {"USERNAME": email, "PASSWORD": PASSWORD})
    assert answer["AuthenticationResult"]["AccessToken"]
    with pytest.raises(DirectoryError) as wrong:
        users.initiate_auth(_client(), "USER_PASSWORD_AUTH", {"USERNAME": email, "PASSWORD": "Not-it-1234"})
    assert _code(wrong) == "NotAuthorizedException"


def test_an_invited_user_sets_a_password_through_the_challenge(users: UserDirectory, email: str) -> None:
    created = users.admin_create_user(email, "Tmp-contract-1", attributes={"email": email})
    assert created.sub == users.admin_get_user(email).sub
    started = users.initiate_auth(_client(), "USER_PASSWORD_AUTH", {"USERNAME": email, "PASSWORD": "Tmp-contract-1"})
    assert started["ChallengeName"] == "NEW_PASSWORD_REQUIRED"
    answered = users.respond_to_auth_challenge(
        _client(), "NEW_PASSWORD_REQUIRED", started["Session"], {"USERNAME": email, "NEW_PASSWORD": PASSWORD}
    )
    assert answered["AuthenticationResult"]["AccessToken"]


def test_attributes_are_listed_and_a_deleted_user_is_gone(users: UserDirectory, email: str) -> None:
    tenant = f"t-{secrets.token_hex(6)}"
    users.sign_up(_client(), email, PASSWORD, attributes={"email": email})
    users.admin_update_user_attributes(email, {"custom:tenant_id": tenant})
    [listed] = [user for user in users.users() if user.attributes.get("custom:tenant_id") == tenant]
    assert listed.attributes["email"] == email
    users.admin_delete_user(listed.username)
    with pytest.raises(DirectoryError) as gone:
        users.admin_get_user(email)
    assert _code(gone) == "UserNotFoundException"
    assert not [user for user in users.users() if user.attributes.get("custom:tenant_id") == tenant]

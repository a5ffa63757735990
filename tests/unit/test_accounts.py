"""Accounts, team and tenant deletion against the in-memory user directory: how each refusal of the
directory reaches the user, without Cognito (the embedded one is exercised by tests/integration/test_api_auth.py
and friends)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fakes import InMemoryMemberRepository, InMemoryUserDirectory

from luxebrain.adapters import DirectoryError
from luxebrain.auth import accounts, team
from luxebrain.errors import ConflictError, ForbiddenError, InvalidInputError, UnauthorizedError
from luxebrain.privacy.tenant_deletion import delete_tenant_users, logins_of_tenant
from luxebrain.runtime import reset_runtime

CLIENT = "app-client"


@pytest.fixture(autouse=True)
def settings(local_settings: Callable[..., None]) -> None:
    local_settings(LUXEBRAIN_USER_POOL_ID="us-east-1_pool", LUXEBRAIN_USER_POOL_CLIENT_ID=CLIENT)


@pytest.fixture
def users() -> InMemoryUserDirectory:
    return InMemoryUserDirectory()


@pytest.fixture
def members() -> InMemoryMemberRepository:
    return InMemoryMemberRepository()


def test_a_reset_code_is_requested_silently_for_an_unknown_address(users: InMemoryUserDirectory) -> None:
    users.sign_up(CLIENT, "lea@shop.example", "Pass-word-1", attributes={"email": "lea@shop.example"})
    # Unknown and known addresses answer alike (no account enumeration); only the known one gets a code
    accounts.forgot_password("nobody@shop.example", users=users)
    accounts.forgot_password(" LEA@shop.example ", users=users)
    assert users.reset_codes == {users.login_of("lea@shop.example").username: users.CONFIRMATION_CODE}


def test_confirmation_codes_and_resets_with_a_wrong_code_or_address_are_a_clear_400(
    users: InMemoryUserDirectory, members: InMemoryMemberRepository
) -> None:
    users.sign_up(CLIENT, "lea@shop.example", "Pass-word-1", attributes={"email": "lea@shop.example"})
    with pytest.raises(InvalidInputError, match="the confirmation code is wrong"):
        accounts.confirm_sign_up("lea@shop.example", "000000", users=users)
    accounts.confirm_sign_up("Lea@Shop.example", users.CONFIRMATION_CODE, users=users)
    assert users.login_of("lea@shop.example").confirmed
    # An unknown address on the reset form reads as a wrong code, not "no such user"
    with pytest.raises(InvalidInputError, match="the confirmation code is wrong"):
        accounts.confirm_forgot_password(
            "nobody@shop.example", "123456", "New-pass-word-2", users=users, members=members
        )


def test_login_refusals_name_what_to_do(users: InMemoryUserDirectory, members: InMemoryMemberRepository) -> None:
    users.sign_up(CLIENT, "lea@shop.example", "Pass-word-1", attributes={"email": "lea@shop.example"})
    with pytest.raises(UnauthorizedError, match="e-mail or password is wrong"):
        accounts.login("lea@shop.example", "wrong", users=users, members=members)
    with pytest.raises(ForbiddenError, match="confirm your e-mail address first"):
        accounts.login("lea@shop.example", "Pass-word-1", users=users, members=members)
    # An invited user's temporary password opens a challenge the dashboard's log-in cannot answer
    users.admin_create_user("sam@shop.example", "Tmp-pass-word-1", attributes={"email": "sam@shop.example"})
    with pytest.raises(ForbiddenError, match=r"a further step first \(NEW_PASSWORD_REQUIRED\)"):
        accounts.login("sam@shop.example", "Tmp-pass-word-1", users=users, members=members)


def test_the_first_password_form_refuses_an_account_with_its_own_password(
    users: InMemoryUserDirectory, members: InMemoryMemberRepository
) -> None:
    users.sign_up(CLIENT, "lea@shop.example", "Pass-word-1", attributes={"email": "lea@shop.example"})
    users.admin_confirm_sign_up("lea@shop.example")
    with pytest.raises(ConflictError, match="already has its own password"):
        team.set_first_password("lea@shop.example", "Pass-word-1", "Another-pass-2", users=users, members=members)
    with pytest.raises(UnauthorizedError):
        team.set_first_password("lea@shop.example", "not-it", "Another-pass-2", users=users, members=members)
    assert users.login_of("lea@shop.example").password == "Pass-word-1"


def test_deleting_a_login_that_is_already_gone_is_not_an_error(users: InMemoryUserDirectory) -> None:
    accounts.delete_user("gone@shop.example", users=users)
    with pytest.raises(UnauthorizedError):  # confirming an unknown user reads like a wrong password
        accounts.admin_confirm("gone@shop.example", users=users)


def test_throttling_of_the_directory_is_a_429(users: InMemoryUserDirectory) -> None:
    error = accounts._translate(DirectoryError("TooManyRequestsException", "Rate exceeded"))
    assert isinstance(error, accounts.TooManyAttemptsError) and error.status_code == 429
    assert str(accounts._translate(DirectoryError("InvalidPasswordException", "Password too short"))) == (
        "Password too short"  # the directory's own words for its password policy
    )
    assert str(accounts._translate(DirectoryError("SomethingNew"))) == "the identity service failed; try again"


def test_a_tenant_deletion_removes_that_tenant_s_logins_only(users: InMemoryUserDirectory) -> None:
    for email, tenant in (("a@one.example", "t-one"), ("b@one.example", "t-one"), ("c@two.example", "t-two")):
        users.sign_up(CLIENT, email, "Pass-word-1", attributes={"email": email, "custom:tenant_id": tenant})
    one = [users.login_of(email).username for email in ("a@one.example", "b@one.example")]
    assert sorted(logins_of_tenant("t-one", users)) == sorted(one)
    assert delete_tenant_users("t-one", users) == 2
    assert [login.attributes["email"] for login in users.logins.values()] == ["c@two.example"]
    assert logins_of_tenant("t-one", users) == []


def test_an_environment_without_a_user_pool_has_no_logins_to_delete(
    users: InMemoryUserDirectory, monkeypatch: pytest.MonkeyPatch
) -> None:
    users.sign_up(CLIENT, "a@one.example", "Pass-word-1", attributes={"custom:tenant_id": "t-one"})
    monkeypatch.delenv("LUXEBRAIN_USER_POOL_ID")
    reset_runtime()
    assert delete_tenant_users("t-one", users) == 0 and len(users.logins) == 1

"""Accounts and sessions: sign-up (creates the tenant), confirmation, login, refresh, logout, passwords."""

from __future__ import annotations

import contextlib
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from fastapi.security import HTTPAuthorizationCredentials
from pydantic import ConfigDict, Field

from api.dependencies import CurrentPrincipal, Members, Tenants, Usage, Users, bearer_scheme
from luxebrain.auth import accounts
from luxebrain.errors import ConflictError, UnauthorizedError
from luxebrain.text import PlainLine
from luxebrain.webapi.models import ApiModel

router = APIRouter(prefix="/auth", tags=["auth"])

Password = Annotated[str, Field(min_length=10, max_length=256, description="10+ characters: upper, lower, digit")]
# A plain pattern instead of pydantic's EmailStr: Cognito validates the address again, and the API bundle
# stays free of the email-validator package.
Email = Annotated[
    str,
    Field(
        max_length=254,
        pattern=r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,24}$",
        examples=["owner@shop.example"],
    ),
]
Code = Annotated[str, Field(min_length=1, max_length=16, pattern=r"^[A-Za-z0-9:_-]+$")]


class Strict(ApiModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class SignUpRequest(Strict):
    email: Email
    password: Password
    company_name: PlainLine = Field(min_length=2, max_length=120, examples=["Maison Lumière"])

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"email": "owner@shop.example", "password": "Correct-Horse-7", "company_name": "Maison"}]
        },
    )


class SignUpResponse(ApiModel):
    """The same answer whether or not the e-mail already has an account (no account enumeration)."""

    status: str = "accepted"
    confirmed: bool = Field(default=False, description="always false: confirm with the code sent by e-mail")
    next_step: str = "enter the code sent by e-mail at POST /auth/confirm, then log in"


class ConfirmRequest(Strict):
    email: Email
    code: Code


class LoginRequest(Strict):
    email: Email
    password: str = Field(min_length=1, max_length=256)
    remember_me: bool = Field(default=False, description="30-day refresh token instead of a 12-hour one")


class RefreshRequest(Strict):
    refresh_token: str = Field(min_length=10, max_length=4096)
    remember_me: bool = Field(default=False, description="the same value as at login")


class TokenResponse(ApiModel):
    access_token: str
    id_token: str
    refresh_token: str | None = None
    expires_in: int
    token_type: str = "Bearer"  # noqa: S105 - the OAuth token type, not a secret


class ForgotRequest(Strict):
    email: Email


class ResetRequest(Strict):
    email: Email
    code: Code
    new_password: Password


class ChangePasswordRequest(Strict):
    old_password: str = Field(min_length=1, max_length=256)
    new_password: Password


class Accepted(ApiModel):
    status: str = "accepted"
    detail: str


def _token_response(tokens: accounts.Tokens) -> TokenResponse:
    return TokenResponse(
        access_token=tokens.access_token,
        id_token=tokens.id_token,
        refresh_token=tokens.refresh_token,
        expires_in=tokens.expires_in,
    )


def _raw_access_token(credentials: HTTPAuthorizationCredentials | None) -> str:
    if credentials is None:
        raise UnauthorizedError("sign in: send 'Authorization: Bearer <access token>'")
    return credentials.credentials


@router.post(
    "/signup",
    status_code=202,
    response_model=SignUpResponse,
    summary="Sign up a merchant and its tenant (rate-limited per client address)",
)
def sign_up(
    body: SignUpRequest, request: Request, users: Users, members: Members, tenants: Tenants, usage: Usage
) -> SignUpResponse:
    accounts.limit_sign_ups(request.client.host if request.client else "unknown", tenants=tenants)
    # A known e-mail answers exactly like a new one; the tenant id is read from /me after login.
    with contextlib.suppress(ConflictError):
        accounts.sign_up(
            body.email, body.password, body.company_name, users=users, members=members, tenants=tenants, usage=usage
        )
    return SignUpResponse()


@router.post("/confirm", response_model=Accepted, summary="Confirm the e-mail address with the code sent")
def confirm(body: ConfirmRequest, users: Users) -> Accepted:
    accounts.confirm_sign_up(body.email, body.code, users=users)
    return Accepted(status="confirmed", detail="the account is confirmed; log in")


@router.post("/login", response_model=TokenResponse, summary="Log in with e-mail and password")
def login(body: LoginRequest, response: Response, users: Users, members: Members) -> TokenResponse:
    response.headers["Cache-Control"] = "no-store"
    return _token_response(
        accounts.login(body.email, body.password, users=users, members=members, remember_me=body.remember_me)
    )


@router.post("/refresh", response_model=TokenResponse, summary="New access and ID tokens from a refresh token")
def refresh(body: RefreshRequest, response: Response, users: Users, members: Members) -> TokenResponse:
    response.headers["Cache-Control"] = "no-store"
    return _token_response(
        accounts.refresh(body.refresh_token, users=users, members=members, remember_me=body.remember_me)
    )


@router.post("/logout", status_code=204, summary="Sign out everywhere: refresh tokens are revoked")
def logout(
    principal: CurrentPrincipal,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
    users: Users,
    members: Members,
) -> Response:
    accounts.logout(_raw_access_token(credentials), users=users, members=members)
    return Response(status_code=204)


@router.post("/forgot-password", status_code=202, response_model=Accepted, summary="E-mail a password reset code")
def forgot_password(body: ForgotRequest, users: Users) -> Accepted:
    accounts.forgot_password(body.email, users=users)
    return Accepted(detail="if an account exists for this e-mail, a reset code is on its way")


@router.post("/reset-password", response_model=Accepted, summary="Set a new password with the e-mailed code")
def reset_password(body: ResetRequest, users: Users, members: Members) -> Accepted:
    accounts.confirm_forgot_password(body.email, body.code, body.new_password, users=users, members=members)
    return Accepted(status="reset", detail="the password is changed; log in with the new one")


@router.post("/change-password", response_model=Accepted, summary="Change the password of the signed-in user")
def change_password(
    body: ChangePasswordRequest,
    principal: CurrentPrincipal,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
    users: Users,
    members: Members,
) -> Accepted:
    accounts.change_password(
        _raw_access_token(credentials), body.old_password, body.new_password, users=users, members=members
    )
    return Accepted(status="changed", detail="the password is changed")

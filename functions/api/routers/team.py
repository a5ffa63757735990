"""The tenant's team: invite a colleague with a role, change a member's role, and the invited colleague's
first log-in with their own password. Listing and removal are in the account router."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Response
from fastapi import Path as PathParam
from pydantic import Field

from api.dependencies import Members, OwnerOnly, Tenants, Usage, Users
from api.routers.auth import Email, Password, Strict, TokenResponse, _token_response
from luxebrain.auth import team
from luxebrain.auth.principal import Role
from luxebrain.webapi.models import ApiModel

router = APIRouter(tags=["account"])

TenantRole = Annotated[Role, Field(description="owner, staff or read-only")]


class InviteRequest(Strict):
    email: Email
    role: TenantRole


class RoleChange(Strict):
    role: TenantRole


class TeamMemberResponse(ApiModel):
    user_id: str
    email: str | None
    role: str
    created_at: datetime


class FirstPasswordRequest(Strict):
    email: Email
    temporary_password: str = Field(min_length=1, max_length=256, description="the one in the invitation e-mail")
    new_password: Password
    remember_me: bool = False


def _member(member: team.Member) -> TeamMemberResponse:
    return TeamMemberResponse(
        user_id=member.user_id, email=member.email, role=member.role, created_at=member.created_at
    )


async def temporary_passwords() -> Callable[[], str]:
    """What makes an invited colleague's temporary password (it only travels in Cognito's e-mail)."""
    return team.new_temporary_password


TemporaryPasswords = Annotated[Callable[[], str], Depends(temporary_passwords)]


@router.post(
    "/tenant/invitations",
    status_code=201,
    response_model=TeamMemberResponse,
    summary="Invite a colleague with a role (owner): Cognito e-mails them a temporary password",
    responses={
        402: {"description": "the plan's member seats are used up"},
        409: {"description": "the e-mail already has a LuxeBrain account"},
    },
)
def invite(
    body: InviteRequest,
    principal: OwnerOnly,
    users: Users,
    members: Members,
    temporary_passwords: TemporaryPasswords,
    tenants: Tenants,
    usage: Usage,
) -> TeamMemberResponse:
    tenant_id = principal.require_tenant()
    member = team.invite_member(
        tenant_id,
        body.email,
        body.role,
        actor=principal.subject,
        users=users,
        members=members,
        temporary_passwords=temporary_passwords,
        audit=tenants,
        usage=usage,
    )
    return _member(member)


MemberId = Annotated[str, PathParam(pattern=r"^[A-Za-z0-9-]{1,128}$", description="the member's user_id")]


@router.patch(
    "/tenant/members/{user_id}",
    response_model=TeamMemberResponse,
    summary="Change a member's role (owner); applies to their open sessions within seconds, audited",
    responses={
        404: {"description": "no such member in this tenant"},
        409: {"description": "your own role, or the tenant's last owner"},
    },
)
def change_role(
    user_id: MemberId,
    body: RoleChange,
    principal: OwnerOnly,
    users: Users,
    members: Members,
    tenants: Tenants,
    usage: Usage,
) -> TeamMemberResponse:
    tenant_id = principal.require_tenant()
    return _member(
        team.change_role(
            tenant_id,
            user_id,
            body.role,
            actor=principal.subject,
            users=users,
            members=members,
            audit=tenants,
            usage=usage,
        )
    )


@router.post(
    "/auth/first-password",
    response_model=TokenResponse,
    tags=["auth"],
    summary="An invited colleague's first log-in: the e-mailed temporary password, then their own",
    responses={409: {"description": "the account already has its own password"}},
)
def first_password(body: FirstPasswordRequest, response: Response, users: Users, members: Members) -> TokenResponse:
    response.headers["Cache-Control"] = "no-store"
    tokens = team.set_first_password(
        body.email,
        body.temporary_password,
        body.new_password,
        users=users,
        members=members,
        remember_me=body.remember_me,
    )
    return _token_response(tokens)

"""FastAPI dependencies: who is calling (verified here, never trusted from the request) and what they may do.

Routers import these as ``api.dependencies``: the API's Lambda code is the ``functions/`` folder with the
handler ``api.app.handler``, so ``api`` is a top-level package there, in the local gateway (which puts the
CodeUri folder on sys.path) and in tests (tests/conftest or the test adds ``functions/`` to sys.path)::

    from api.dependencies import StaffOrOwner, TenantMember   # or current_principal / require_role(Role.X)

    @router.post("/training/runs", status_code=202)
    def start_run(principal: StaffOrOwner) -> ...:
        tenant_id = principal.require_tenant()   # the only source of a tenant id

    @router.get("/training/runs")
    def list_runs(principal: TenantMember) -> ...:   # any member: read-only, staff, owner

``require_role(Role.STAFF)`` admits staff and owners (roles are a ladder read-only < staff < owner);
``require_role(Role.ADMIN)`` admits platform admins only. A platform admin acts inside a tenant only
through an audited impersonation session (header ``X-Impersonation``), with that session's role.

The dependencies are ``async``: their work is in-memory on the warm path (token check, cached membership and
plan), and a Lambda container serves one request at a time, so a rare blocking cache refill costs nothing
while a thread-pool hop per dependency would cost more than the work (benchmarks/api.py).
"""

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from luxebrain.adapters import KeyVault, MessageQueue, ObjectStore, UserDirectory
from luxebrain.adapters import aws as aws_adapters
from luxebrain.auth.members import principal_for_impersonation, principal_for_user
from luxebrain.auth.principal import AuthKind, Principal, Role
from luxebrain.auth.sessions import require_live_session
from luxebrain.auth.storefront import principal_for_storefront_key
from luxebrain.auth.tokens import verify_access_token
from luxebrain.billing.plans import ensure_tenant_active
from luxebrain.billing.usage import ApiCallMeter, PlanUsage, api_call_meter, plan_usage
from luxebrain.errors import ForbiddenError, UnauthorizedError
from luxebrain.observability import bind_tenant
from luxebrain.serving.loader import ModelCache, model_cache
from luxebrain.storage.campaigns import CampaignRepository, campaign_repository
from luxebrain.storage.catalogue import CatalogueRepository, catalogue_repository
from luxebrain.storage.customers import CustomerRepository, customer_repository
from luxebrain.storage.ingest import IngestRepository, ingest_repository
from luxebrain.storage.members import MemberRepository, member_repository
from luxebrain.storage.merchandising import MerchandisingRepository, merchandising_repository
from luxebrain.storage.pricing import PriceDecisionRepository, price_decision_repository
from luxebrain.storage.privacy_jobs import PrivacyJobRepository, privacy_job_repository
from luxebrain.storage.storefront import StorefrontRepository, storefront_repository
from luxebrain.storage.tenants import TenantRepository, tenant_repository
from luxebrain.storage.training import TrainingRepository, training_repository
from luxebrain.storefront.limits import (
    REQUESTS_PER_CLIENT_PER_MINUTE,
    ClientLimit,
    charge_clients,
    charge_key,
    client_digest,
)
from luxebrain.storefront.origins import check_storefront_origin

bearer_scheme = HTTPBearer(auto_error=False, description="A Cognito access token from POST /auth/login")
impersonation_header = APIKeyHeader(
    name="X-Impersonation",
    auto_error=False,
    description="Platform admins: the session from POST /admin/tenants/{tenant_id}/impersonate",
)
storefront_key_header = APIKeyHeader(
    name="X-Storefront-Key", auto_error=False, description="A tenant's publishable storefront key (lbpk_...)"
)


def remember_principal(request: Request, principal: Principal) -> Principal:
    request.state.principal = principal  # the request log and the error handler read it
    bind_tenant(principal.tenant_id)
    return principal


_remember = remember_principal


def source_address(request: Request) -> str:
    """The caller's address: API Gateway's ``sourceIp`` behind the Lambda adapter, the socket's peer otherwise."""
    event = request.scope.get("aws.event") or {}
    source = ((event.get("requestContext") or {}).get("http") or {}).get("sourceIp")
    if isinstance(source, str) and source:
        return source
    return request.client.host if request.client else "unknown"


async def members_repository() -> MemberRepository:
    """Memberships, the record of user sessions and storefront keys (the table's, created once)."""
    return member_repository()


async def tenants_repository() -> TenantRepository:
    return tenant_repository()


async def usage_counters() -> PlanUsage:
    """The plan's usage counters and rates (over the tenants repository, created once)."""
    return plan_usage()


async def api_calls() -> ApiCallMeter:
    """This execution environment's batches of the merchant's API calls."""
    return api_call_meter()


def _user_principal(
    credentials: HTTPAuthorizationCredentials | None,
    impersonation: str | None,
    members: MemberRepository,
    tenants: TenantRepository,
    calls: ApiCallMeter,
) -> Principal:
    if credentials is None or credentials.scheme.lower() != "bearer" or not credentials.credentials:
        raise UnauthorizedError("sign in: send 'Authorization: Bearer <access token>'")
    claims = verify_access_token(credentials.credentials)
    require_live_session(claims, sessions=members)  # logout, password changes and removal end sessions at once
    principal = principal_for_user(claims.subject, groups=claims.groups, issued_at=claims.issued_at, members=members)
    if impersonation:
        principal = principal_for_impersonation(principal, impersonation, members=members)
    if principal.tenant_id and principal.kind is not AuthKind.IMPERSONATION:
        ensure_tenant_active(principal.tenant_id, tenants=tenants)
        calls.count(principal.tenant_id)
    return principal


async def current_principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
    impersonation: Annotated[str | None, Depends(impersonation_header)],
    members: Annotated[MemberRepository, Depends(members_repository)],
    tenants: Annotated[TenantRepository, Depends(tenants_repository)],
    calls: Annotated[ApiCallMeter, Depends(api_calls)],
) -> Principal:
    """The verified user (Cognito access token), or a platform admin's audited impersonation."""
    return _remember(request, _user_principal(credentials, impersonation, members, tenants, calls))


def require_role(minimum: Role) -> Callable[..., Principal]:
    """A dependency admitting callers whose role is at least ``minimum`` (403 otherwise)."""

    async def dependency(principal: Annotated[Principal, Depends(current_principal)]) -> Principal:
        if not principal.has_at_least(minimum):
            raise ForbiddenError(f"this action needs the {minimum} role")
        return principal

    dependency.__name__ = f"require_{str(minimum).replace('-', '_')}"
    return dependency


async def tenant_member(principal: Annotated[Principal, Depends(current_principal)]) -> Principal:
    """Any member of a tenant (read-only and up), including an impersonating admin."""
    principal.require_tenant()
    return principal


async def recommendations_reader(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
    impersonation: Annotated[str | None, Depends(impersonation_header)],
    storefront_key: Annotated[str | None, Depends(storefront_key_header)],
    members: Annotated[MemberRepository, Depends(members_repository)],
    tenants: Annotated[TenantRepository, Depends(tenants_repository)],
    usage: Annotated[PlanUsage, Depends(usage_counters)],
    calls: Annotated[ApiCallMeter, Depends(api_calls)],
) -> Principal:
    """Recommendation routes accept a dashboard user or a storefront key. Storefront traffic (anonymous
    shoppers) has a per-address rate, then the key's own rate and monthly allowance; it never counts against the
    merchant's API calls, so a spent storefront allowance refuses only storefront answers (429)."""
    if storefront_key and credentials is None:
        principal = principal_for_storefront_key(storefront_key, keys=members)
        tenant_id = principal.require_tenant()
        # A browser on another site carrying a leaked key is refused; server-side callers send no Origin.
        check_storefront_origin(tenant_id, request.headers.get("origin"), required=False, tenants=tenants)
        ensure_tenant_active(tenant_id, tenants=tenants)
        address = ClientLimit(
            "storefront_requests", client_digest(tenant_id, source_address(request)), REQUESTS_PER_CLIENT_PER_MINUTE
        )
        refund_clients = charge_clients(tenant_id, [address], 1, usage=usage)
        charge_key(tenant_id, "storefront_requests", 1, refund_clients=refund_clients, usage=usage)
        return _remember(request, principal)
    principal = _user_principal(credentials, impersonation, members, tenants, calls)
    principal.require_tenant()
    return _remember(request, principal)


def expensive_action(name: str, minimum: Role = Role.STAFF) -> Callable[..., Principal]:
    """Routes that cost real work (retrain, apply prices, exports): the role check, then a per-tenant
    per-minute limit from the plan (``name`` is a key of ``Plan.rate_limits``), answered with 429."""
    role_check = require_role(minimum)

    async def dependency(
        principal: Annotated[Principal, Depends(role_check)], usage: Annotated[PlanUsage, Depends(usage_counters)]
    ) -> Principal:
        usage.limit_rate(principal.require_tenant(), name)
        return principal

    dependency.__name__ = f"expensive_{name}"
    return dependency


# Shorthands for route signatures: ``def route(principal: TenantMember) -> ...``.
CurrentPrincipal = Annotated[Principal, Depends(current_principal)]
TenantMember = Annotated[Principal, Depends(tenant_member)]
ReadOnlyOrAbove = TenantMember
StaffOrOwner = Annotated[Principal, Depends(require_role(Role.STAFF))]
OwnerOnly = Annotated[Principal, Depends(require_role(Role.OWNER))]
PlatformAdmin = Annotated[Principal, Depends(require_role(Role.ADMIN))]
RecommendationsReader = Annotated[Principal, Depends(recommendations_reader)]

__all__ = [
    "CurrentPrincipal",
    "Members",
    "OwnerOnly",
    "PlatformAdmin",
    "Principal",
    "ReadOnlyOrAbove",
    "RecommendationsReader",
    "Role",
    "StaffOrOwner",
    "TenantMember",
    "current_principal",
    "expensive_action",
    "members_repository",
    "recommendations_reader",
    "remember_principal",
    "require_role",
    "tenant_member",
]


# The AWS adapters a route hands to the domain, each created once per execution environment.
async def models_bucket() -> ObjectStore:
    return aws_adapters.models_bucket()


async def privacy_queue() -> MessageQueue:
    return aws_adapters.queue("privacy_queue_url")


async def train_queue() -> MessageQueue:
    return aws_adapters.queue("train_queue_url")


async def backfill_queue() -> MessageQueue:
    return aws_adapters.queue("backfill_queue_url")


async def secrets_vault() -> KeyVault:
    return aws_adapters.secrets_vault()


async def user_directory() -> UserDirectory:
    return aws_adapters.user_directory()


# The repositories a route hands to the domain (stateless: the table is bound once per execution environment).
async def catalogue() -> CatalogueRepository:
    return catalogue_repository()


async def customers_repository() -> CustomerRepository:
    return customer_repository()


async def ingest_records() -> IngestRepository:
    return ingest_repository()


async def campaigns_repository() -> CampaignRepository:
    return campaign_repository()


async def price_decisions_repository() -> PriceDecisionRepository:
    return price_decision_repository()


async def merchandising_rules() -> MerchandisingRepository:
    return merchandising_repository()


async def storefront_records() -> StorefrontRepository:
    return storefront_repository()


async def training_records() -> TrainingRepository:
    return training_repository()


async def privacy_job_records() -> PrivacyJobRepository:
    return privacy_job_repository()


# The trained models a route serves from: the execution environment's cache, built on first use over the
# training repository's pointers and the models bucket.
async def serving_models() -> ModelCache:
    return model_cache()


ModelsBucket = Annotated[ObjectStore, Depends(models_bucket)]
PrivacyQueue = Annotated[MessageQueue, Depends(privacy_queue)]
TrainQueue = Annotated[MessageQueue, Depends(train_queue)]
BackfillQueue = Annotated[MessageQueue, Depends(backfill_queue)]
SecretsVault = Annotated[KeyVault, Depends(secrets_vault)]
Users = Annotated[UserDirectory, Depends(user_directory)]
Catalogue = Annotated[CatalogueRepository, Depends(catalogue)]
Customers = Annotated[CustomerRepository, Depends(customers_repository)]
Members = Annotated[MemberRepository, Depends(members_repository)]
Tenants = Annotated[TenantRepository, Depends(tenants_repository)]
Models = Annotated[ModelCache, Depends(serving_models)]
Campaigns = Annotated[CampaignRepository, Depends(campaigns_repository)]
PriceDecisions = Annotated[PriceDecisionRepository, Depends(price_decisions_repository)]
Merchandising = Annotated[MerchandisingRepository, Depends(merchandising_rules)]
Storefront = Annotated[StorefrontRepository, Depends(storefront_records)]
Ingest = Annotated[IngestRepository, Depends(ingest_records)]
Usage = Annotated[PlanUsage, Depends(usage_counters)]
Training = Annotated[TrainingRepository, Depends(training_records)]
PrivacyJobs = Annotated[PrivacyJobRepository, Depends(privacy_job_records)]

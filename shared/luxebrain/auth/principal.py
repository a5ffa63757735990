"""Who is calling: the verified identity every API route receives, and the role ladder."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from luxebrain.errors import ForbiddenError


class Role(StrEnum):
    """Tenant roles, lowest first; ``admin`` is the platform operator (no tenant of its own)."""

    READ_ONLY = "read-only"
    STAFF = "staff"
    OWNER = "owner"
    ADMIN = "admin"


TENANT_ROLE_RANK = {Role.READ_ONLY: 0, Role.STAFF: 1, Role.OWNER: 2}
PLATFORM_ADMIN_GROUP = "platform-admins"


class AuthKind(StrEnum):
    USER = "user"  # a Cognito access token
    STOREFRONT = "storefront"  # a publishable storefront key: recommendations only
    IMPERSONATION = "impersonation"  # a platform admin acting inside one tenant, audited


@dataclass(frozen=True)
class Principal:
    """A verified caller. ``tenant_id`` comes only from verified identity, never from a request body."""

    subject: str  # Cognito sub, or the storefront key id
    role: Role
    kind: AuthKind = AuthKind.USER
    tenant_id: str | None = None
    email: str | None = None
    impersonated_by: str | None = None  # the admin's sub when kind is IMPERSONATION
    token_issued_at: int = 0

    @property
    def is_platform_admin(self) -> bool:
        return self.role is Role.ADMIN and self.kind is AuthKind.USER

    def require_tenant(self) -> str:
        """The tenant this caller acts in; platform admins must impersonate to act in one."""
        if not self.tenant_id:
            raise ForbiddenError("this route acts inside a tenant; platform admins must impersonate one first")
        return self.tenant_id

    def has_at_least(self, minimum: Role) -> bool:
        """True when this caller's role satisfies ``minimum`` (admin only satisfies admin)."""
        if minimum is Role.ADMIN:
            return self.is_platform_admin
        if self.kind is AuthKind.STOREFRONT or self.role is Role.ADMIN:
            return False
        return TENANT_ROLE_RANK[self.role] >= TENANT_ROLE_RANK[minimum]

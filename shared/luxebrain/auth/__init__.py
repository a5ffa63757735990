"""Authentication and authorisation: Cognito accounts, token verification, roles, tenants,
storefront keys and audited impersonation. No FastAPI or Lambda event knowledge here."""

from luxebrain.auth.principal import AuthKind, Principal, Role

__all__ = ["AuthKind", "Principal", "Role"]

"""Publishable storefront keys: what a shop's own site sends to read recommendations, nothing else.

Format ``lbpk_<tenant_id>_<secret>``: the tenant comes first, so verifying a key is one read of that
tenant's key item (no scan, no cross-tenant index). Only a SHA-256 of the secret is stored; rotation
keeps the previous secret valid for a short grace period so cached widgets do not break at once.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
from dataclasses import dataclass

from luxebrain.auth.principal import AuthKind, Principal, Role
from luxebrain.errors import UnauthorizedError
from luxebrain.storage import members as member_repo
from luxebrain.storage.members import StorefrontKey
from luxebrain.tenancy import validate_tenant_id

KEY_PREFIX = "lbpk_"
ROTATION_GRACE_SECONDS = 15 * 60
_KEY_PATTERN = re.compile(r"^lbpk_(?P<tenant>[a-z0-9][a-z0-9-]{2,38}[a-z0-9])_(?P<secret>[A-Za-z0-9_-]{32,64})$")


@dataclass(frozen=True)
class IssuedStorefrontKey:
    key: str  # shown once; only its hash is stored
    key_id: str
    grace_until: int | None  # when the previous key (if any) stops working


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def issue_storefront_key(tenant_id: str) -> IssuedStorefrontKey:
    """Create the tenant's key, or rotate it (the previous one keeps working for a grace period)."""
    validate_tenant_id(tenant_id)
    secret = secrets.token_urlsafe(32)
    key_id = "sk-" + secrets.token_hex(4)
    current = member_repo.get_storefront_key(tenant_id)
    grace_until = None if current is None else int(time.time()) + ROTATION_GRACE_SECONDS
    member_repo.save_storefront_key(
        tenant_id, key_id=key_id, secret_hash=_hash(secret), replacing=current, grace_until=grace_until
    )
    return IssuedStorefrontKey(key=f"{KEY_PREFIX}{tenant_id}_{secret}", key_id=key_id, grace_until=grace_until)


def describe_storefront_key(tenant_id: str) -> StorefrontKey | None:
    return member_repo.get_storefront_key(tenant_id)


def principal_for_storefront_key(key: str) -> Principal:
    """Verify a publishable key (constant-time hash comparison) and return its storefront principal."""
    match = _KEY_PATTERN.fullmatch(key or "")
    if not match:
        raise UnauthorizedError("the storefront key is not valid")
    tenant_id, secret = match["tenant"], match["secret"]
    stored = describe_storefront_key(tenant_id)
    if stored is None:
        raise UnauthorizedError("the storefront key is not valid")
    presented = _hash(secret)
    valid = hmac.compare_digest(presented, stored.secret_hash)
    if not valid and stored.previous_secret_hash and (stored.previous_valid_until or 0) > time.time():
        valid = hmac.compare_digest(presented, stored.previous_secret_hash)
    if not valid:
        raise UnauthorizedError("the storefront key is not valid")
    return Principal(subject=stored.key_id, role=Role.READ_ONLY, kind=AuthKind.STOREFRONT, tenant_id=tenant_id)

"""Publishable storefront keys: what a shop's own site sends to read recommendations, nothing else.

Format ``lbpk_<tenant_id>_<secret>``: the tenant comes first, so verifying a key is one read of that
tenant's key item (no scan, no cross-tenant index). Only a SHA-256 of the secret is stored; rotation
keeps the previous secret valid for a short grace period so cached widgets do not break at once.

Every widget call carries the key, so the key item is cached per container for ``KEY_CACHE_SECONDS``: a
key matching the cached current hash is valid without a read (after a rotation elsewhere it stays valid for
the grace period anyway); any other key is checked against a fresh read, so a key issued a moment ago works
at once and a forged one costs what it did before.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
from dataclasses import dataclass

from luxebrain.auth.principal import AuthKind, Principal, Role
from luxebrain.caching import ExpiringCache
from luxebrain.errors import UnauthorizedError
from luxebrain.storage.members import StorefrontKey, StorefrontKeys
from luxebrain.tenancy import validate_tenant_id

KEY_PREFIX = "lbpk_"
ROTATION_GRACE_SECONDS = 15 * 60
# Far below the grace period: a key rotated twice in a row stops working here within this time.
KEY_CACHE_SECONDS = 30.0
_KEY_PATTERN = re.compile(r"^lbpk_(?P<tenant>[a-z0-9][a-z0-9-]{2,38}[a-z0-9])_(?P<secret>[A-Za-z0-9_-]{32,64})$")


@dataclass(frozen=True)
class IssuedStorefrontKey:
    key: str  # shown once; only its hash is stored
    key_id: str
    grace_until: int | None  # when the previous key (if any) stops working


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def issue_storefront_key(tenant_id: str, *, keys: StorefrontKeys) -> IssuedStorefrontKey:
    """Create the tenant's key, or rotate it (the previous one keeps working for a grace period)."""
    validate_tenant_id(tenant_id)
    secret = secrets.token_urlsafe(32)
    key_id = "sk-" + secrets.token_hex(4)
    current = keys.get_storefront_key(tenant_id)
    grace_until = None if current is None else int(time.time()) + ROTATION_GRACE_SECONDS
    keys.save_storefront_key(
        tenant_id, key_id=key_id, secret_hash=_hash(secret), replacing=current, grace_until=grace_until
    )
    _forget_key(tenant_id)
    return IssuedStorefrontKey(key=f"{KEY_PREFIX}{tenant_id}_{secret}", key_id=key_id, grace_until=grace_until)


def describe_storefront_key(tenant_id: str, *, keys: StorefrontKeys) -> StorefrontKey | None:
    return keys.get_storefront_key(tenant_id)


_key_cache: ExpiringCache[str, StorefrontKey | None] = ExpiringCache(KEY_CACHE_SECONDS)


def _forget_key(tenant_id: str) -> None:
    _key_cache.forget(tenant_id)


def _fresh_key(tenant_id: str, keys: StorefrontKeys) -> StorefrontKey | None:
    return _key_cache.get(tenant_id, lambda: keys.get_storefront_key(tenant_id), fresh=True)


def principal_for_storefront_key(key: str, *, keys: StorefrontKeys) -> Principal:
    """Verify a publishable key (constant-time hash comparison) and return its storefront principal."""
    match = _KEY_PATTERN.fullmatch(key or "")
    if not match:
        raise UnauthorizedError("the storefront key is not valid")
    tenant_id, secret = match["tenant"], match["secret"]
    presented = _hash(secret)
    stored = _key_cache.cached(tenant_id)
    if stored is None or not hmac.compare_digest(presented, stored.secret_hash):
        stored = _fresh_key(tenant_id, keys)
    if stored is None:
        raise UnauthorizedError("the storefront key is not valid")
    valid = hmac.compare_digest(presented, stored.secret_hash)
    if not valid and stored.previous_secret_hash and (stored.previous_valid_until or 0) > time.time():
        valid = hmac.compare_digest(presented, stored.previous_secret_hash)
    if not valid:
        raise UnauthorizedError("the storefront key is not valid")
    return Principal(subject=stored.key_id, role=Role.READ_ONLY, kind=AuthKind.STOREFRONT, tenant_id=tenant_id)

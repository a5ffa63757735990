"""Signed unsubscribe links and the RFC 8058 one-click headers.

A token names the tenant, customer and channel and carries an HMAC-SHA256 signature made with that tenant's
own key: a token of one tenant never verifies for another, and nobody can forge one for a customer. The key
is 32 random bytes per tenant, stored encrypted by the caller's key vault (KMS in AWS; encryption context:
tenant and purpose) and cached per container. Tokens do not expire: an unsubscribe link in a two-year-old
e-mail must still work.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import threading
import time
from typing import TYPE_CHECKING

from luxebrain.adapters import KeyVault
from luxebrain.errors import InvalidInputError, NotFoundError
from luxebrain.runtime import configured_settings, on_reset
from luxebrain.storage.campaigns import CampaignRecords
from luxebrain.tenancy import TENANT_ID_PATTERN

if TYPE_CHECKING:
    from luxebrain.storage.tenants import TenantRepository

TOKEN_VERSION = "u1"  # noqa: S105 - a format tag, not a secret
SIGNING_KEY_STATE = "unsubscribe_key"

_keys: dict[str, bytes] = {}
_lock = threading.Lock()
on_reset(_keys.clear)


class InvalidTokenError(InvalidInputError):
    """The unsubscribe link is malformed or its signature does not verify."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _context(tenant_id: str) -> dict[str, str]:
    return {"tenant_id": tenant_id, "purpose": "campaign-unsubscribe"}


def signing_key(tenant_id: str, keys: KeyVault, *, campaigns: CampaignRecords) -> bytes:
    """The tenant's signing key, created on first use (a conditional write settles concurrent creators)."""
    key = _signing_key(tenant_id, keys, campaigns, create=True)
    if key is None:  # pragma: no cover - create=True always yields a key
        raise RuntimeError("signing key was not created")
    return key


def existing_signing_key(tenant_id: str, keys: KeyVault, *, campaigns: CampaignRecords) -> bytes | None:
    """The tenant's signing key if it has one: verifying a link anyone can send must never create one."""
    return _signing_key(tenant_id, keys, campaigns, create=False)


def _signing_key(tenant_id: str, keys: KeyVault, campaigns: CampaignRecords, *, create: bool) -> bytes | None:
    cached = _keys.get(tenant_id)
    if cached is not None:
        return cached
    configured_settings()
    with _lock:
        state = campaigns.get_campaign_state(tenant_id, SIGNING_KEY_STATE)
        if state is not None:
            ciphertext = state.secret_ciphertext
        elif not create:
            return None
        else:
            key = secrets.token_bytes(32)
            ciphertext = keys.encrypt(key, context=_context(tenant_id))
            if not campaigns.create_campaign_secret(tenant_id, SIGNING_KEY_STATE, ciphertext):
                winner = campaigns.get_campaign_state(tenant_id, SIGNING_KEY_STATE)  # another process was first
                ciphertext = winner.secret_ciphertext if winner is not None else None
        key = keys.decrypt(ciphertext, context=_context(tenant_id))
        _keys[tenant_id] = key
        return key


def make_unsubscribe_token(
    tenant_id: str, customer_id: str, channel: str = "email", *, keys: KeyVault, campaigns: CampaignRecords
) -> str:
    payload = json.dumps(
        {"t": tenant_id, "c": customer_id, "ch": channel, "iat": int(time.time())}, separators=(",", ":")
    ).encode()
    body = _b64(payload)
    signature = hmac.new(
        signing_key(tenant_id, keys, campaigns=campaigns), f"{TOKEN_VERSION}.{body}".encode(), hashlib.sha256
    ).digest()
    return f"{TOKEN_VERSION}.{body}.{_b64(signature)}"


def verify_unsubscribe_token(
    token: str, *, keys: KeyVault, campaigns: CampaignRecords, tenants: TenantRepository
) -> tuple[str, str, str]:
    """(tenant_id, customer_id, channel) of a token whose signature verifies with its tenant's key."""
    parts = (token or "").split(".")
    if len(parts) != 3 or parts[0] != TOKEN_VERSION or len(token) > 1000:
        raise InvalidTokenError("this unsubscribe link is not valid")
    try:
        payload = json.loads(_unb64(parts[1]))
        tenant_id, customer_id, channel = str(payload["t"]), str(payload["c"]), str(payload["ch"])
        signature = _unb64(parts[2])
    except (ValueError, KeyError, TypeError):
        raise InvalidTokenError("this unsubscribe link is not valid") from None
    if not TENANT_ID_PATTERN.fullmatch(tenant_id):
        raise InvalidTokenError("this unsubscribe link is not valid")
    try:
        tenants.get_tenant(tenant_id)  # a deleted tenant's links verify against nothing
    except NotFoundError:
        # Only an unknown tenant: a table that does not answer is an error to retry, never "not valid".
        raise InvalidTokenError("this unsubscribe link is not valid") from None
    key = existing_signing_key(tenant_id, keys, campaigns=campaigns)
    if key is None:
        raise InvalidTokenError("this unsubscribe link is not valid")
    expected = hmac.new(key, f"{TOKEN_VERSION}.{parts[1]}".encode(), hashlib.sha256).digest()
    if not hmac.compare_digest(expected, signature):
        raise InvalidTokenError("this unsubscribe link is not valid")
    return tenant_id, customer_id, channel


def unsubscribe_url(token: str) -> str:
    base = configured_settings().public_api_url.rstrip("/")
    return f"{base}/campaigns/unsubscribe/{token}"


def list_unsubscribe_headers(token: str) -> dict[str, str]:
    """RFC 8058 one-click: an HTTPS URI the mail client POSTs ``List-Unsubscribe=One-Click`` to."""
    return {
        "List-Unsubscribe": f"<{unsubscribe_url(token)}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }

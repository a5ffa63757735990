"""API Gateway's HTTP API JWT authorizer, locally: what the deployed API checks before a function runs.

The rules follow API Gateway's documented validation: the identity source must be present (a ``Bearer``
prefix is optional), the token's ``kid`` must be a key of the issuer's JWKS, the algorithm RS256, the
signature valid, ``iss`` equal to the configured issuer, ``aud`` (or ``client_id`` when there is no ``aud``)
one of the configured audiences, ``exp`` in the future, ``nbf`` / ``iat`` not in the future, and the route's
scopes (if any) among the token's ``scope`` / ``scp``. A refusal is 401 ``{"message":"Unauthorized"}`` with a
``www-authenticate`` header, as API Gateway answers; the claims of an accepted token go to the function in
``requestContext.authorizer.jwt``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import jwt

ALGORITHMS = ["RS256"]


class AuthorizerRefusal(Exception):
    """The request does not pass the route's authorizer (API Gateway answers 401 without calling the function)."""

    def __init__(self, description: str) -> None:
        super().__init__(description)
        self.description = description

    @property
    def www_authenticate(self) -> str:
        return f'Bearer scope="" error="invalid_token" error_description="{self.description}"'


@dataclass
class JwtAuthorizer:
    name: str
    issuer: str
    audiences: tuple[str, ...]
    identity_header: str  # lower-case header name of $request.header.<name>
    # Where this process fetches the issuer's keys (locally, the embedded Cognito serves them elsewhere).
    jwks_url_for: Callable[[str], str] = field(default=lambda issuer: issuer.rstrip("/") + "/.well-known/jwks.json")
    _clients: dict[str, jwt.PyJWKClient] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def authorize(self, headers: dict[str, str], scopes: tuple[str, ...] = ()) -> dict[str, Any]:
        """The ``requestContext.authorizer`` value for an accepted request; AuthorizerRefusal otherwise."""
        raw = headers.get(self.identity_header)
        if not raw:
            raise AuthorizerRefusal("no token in the identity source")
        token = raw[7:].strip() if raw[:7].lower() == "bearer " else raw.strip()
        try:
            signing_key = self._jwks_client().get_signing_key_from_jwt(token)
        except (jwt.PyJWKClientError, jwt.DecodeError, jwt.InvalidTokenError):
            raise AuthorizerRefusal("the token's key is not a key of the issuer") from None
        try:
            claims = jwt.decode(
                token,
                signing_key.key,
                algorithms=ALGORITHMS,
                issuer=self.issuer,
                options={"require": ["exp", "iss"], "verify_aud": False, "verify_iat": True, "verify_nbf": True},
            )
        except jwt.ExpiredSignatureError:
            raise AuthorizerRefusal("the token has expired") from None
        except jwt.InvalidIssuerError:
            raise AuthorizerRefusal("the token does not have a valid issuer") from None
        except jwt.InvalidTokenError as exc:
            raise AuthorizerRefusal(f"the token is not valid ({type(exc).__name__})") from None
        audience = claims.get("aud", claims.get("client_id"))
        presented = set(audience) if isinstance(audience, list) else {audience}
        if not presented & set(self.audiences):
            raise AuthorizerRefusal("the token does not have a valid audience")
        token_scopes = set(str(claims.get("scope") or claims.get("scp") or "").split())
        if scopes and not token_scopes & set(scopes):
            raise AuthorizerRefusal("the token does not have the route's scope")
        # API Gateway hands claims to the function as strings (lists as "[a b]").
        as_text = {name: _claim_text(value) for name, value in claims.items()}
        return {"jwt": {"claims": as_text, "scopes": sorted(token_scopes) or None}}

    def _jwks_client(self) -> jwt.PyJWKClient:
        url = self.jwks_url_for(self.issuer)
        with self._lock:
            client = self._clients.get(url)
            if client is None:
                client = jwt.PyJWKClient(url, cache_keys=True, lifespan=3600, timeout=10)
                self._clients[url] = client
            return client


def _claim_text(value: Any) -> str:
    if isinstance(value, list):
        return "[" + " ".join(str(item) for item in value) + "]"
    return str(value)

"""Verifying Cognito JWTs ourselves (signature against the pool's JWKS, issuer, client, expiry, token use),
so the local path and the deployed path (where API Gateway's JWT authorizer checks too) behave the same."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import jwt

from luxebrain.errors import UnauthorizedError
from luxebrain.runtime import configured_settings, on_reset
from luxebrain.settings import Settings

ACCEPTED_ALGORITHMS = ["RS256"]
CLOCK_SKEW_SECONDS = 30


@dataclass(frozen=True)
class AccessClaims:
    """The claims of a verified access token that the API uses."""

    subject: str
    client_id: str
    groups: tuple[str, ...]
    issued_at: int
    expires_at: int
    jti: str | None
    origin_jti: str | None


def expected_issuer(settings: Settings) -> str:
    # Cognito (and moto) name the real AWS issuer even when the keys are served elsewhere.
    return f"https://cognito-idp.{settings.aws_region}.amazonaws.com/{settings.require('user_pool_id')}"


def jwks_url(settings: Settings) -> str:
    return settings.jwks_url or expected_issuer(settings) + "/.well-known/jwks.json"


_jwks_lock = threading.Lock()
_jwks_clients: dict[str, jwt.PyJWKClient] = {}


def _jwks_client(url: str) -> jwt.PyJWKClient:
    with _jwks_lock:
        client = _jwks_clients.get(url)
        if client is None:
            # Keys are cached for an hour; an unknown kid triggers one refetch (key rotation).
            client = jwt.PyJWKClient(url, cache_keys=True, lifespan=3600, timeout=10)
            _jwks_clients[url] = client
        return client


on_reset(_jwks_clients.clear)


def _decode(token: str, settings: Settings, audience: str | None) -> dict[str, Any]:
    try:
        signing_key = _jwks_client(jwks_url(settings)).get_signing_key_from_jwt(token)
    except jwt.PyJWKClientConnectionError:
        raise UnauthorizedError("the identity provider's keys could not be fetched; try again") from None
    except (jwt.PyJWKClientError, jwt.DecodeError, jwt.InvalidTokenError):
        raise UnauthorizedError("the bearer token is not a valid token of this service") from None
    try:
        return jwt.decode(
            token,
            signing_key.key,
            algorithms=ACCEPTED_ALGORITHMS,
            issuer=expected_issuer(settings),
            audience=audience,
            leeway=CLOCK_SKEW_SECONDS,
            options={"require": ["exp", "iat", "iss", "sub", "token_use"], "verify_aud": audience is not None},
        )
    except jwt.ExpiredSignatureError:
        raise UnauthorizedError("the bearer token has expired; refresh it") from None
    except jwt.InvalidIssuerError:
        raise UnauthorizedError("the bearer token was issued by another identity provider") from None
    except jwt.InvalidAudienceError:
        raise UnauthorizedError("the bearer token was issued to another application") from None
    except jwt.InvalidTokenError:
        raise UnauthorizedError("the bearer token is not a valid token of this service") from None


def app_client_ids(settings: Settings) -> frozenset[str]:
    """This app's Cognito clients: the "remember me" client and the short-session client."""
    return frozenset(
        client for client in (settings.require("user_pool_client_id"), settings.user_pool_session_client_id) if client
    )


# A dashboard sends the same access token with every request for up to an hour. Its signature, issuer and
# client are checked once per container; later requests with the identical token string only re-check the
# expiry (a changed byte is another key, so it is verified afresh). Revocation (sign-out) is checked per
# request by the membership, not here. Bounded: least recently used tokens are forgotten first.
VERIFIED_CACHE_SIZE = 2048
_verified_lock = threading.Lock()
_verified: OrderedDict[str, AccessClaims] = OrderedDict()
on_reset(_verified.clear)


def verify_access_token(token: str, settings: Settings | None = None) -> AccessClaims:
    """Verify a Cognito access token issued to this app's client; raise UnauthorizedError otherwise.

    Access tokens carry ``client_id`` (not ``aud``); an ID token presented here is refused by its
    ``token_use``, so one cannot stand in for the other.
    """
    with _verified_lock:
        known = _verified.get(token)
        if known is not None:
            _verified.move_to_end(token)
    if known is not None:
        if known.expires_at + CLOCK_SKEW_SECONDS > time.time():
            return known
        with _verified_lock:
            _verified.pop(token, None)
        raise UnauthorizedError("the bearer token has expired; refresh it")
    claims_ = _verify_access_token(token, settings or configured_settings())
    with _verified_lock:
        _verified[token] = claims_
        while len(_verified) > VERIFIED_CACHE_SIZE:
            _verified.popitem(last=False)
    return claims_


def _verify_access_token(token: str, settings: Settings) -> AccessClaims:
    claims = _decode(token, settings, audience=None)
    if claims.get("token_use") != "access":
        raise UnauthorizedError("an access token is required here (got an ID token or another kind)")
    if claims.get("client_id") not in app_client_ids(settings):
        raise UnauthorizedError("the bearer token was issued to another application")
    groups = claims.get("cognito:groups") or []
    return AccessClaims(
        subject=str(claims["sub"]),
        client_id=str(claims["client_id"]),
        groups=tuple(str(group) for group in groups),
        issued_at=int(claims["iat"]),
        expires_at=int(claims["exp"]),
        jti=claims.get("jti"),
        origin_jti=claims.get("origin_jti"),
    )


def verify_id_token(token: str, settings: Settings | None = None) -> dict[str, Any]:
    """Verify a Cognito ID token of this app (``aud`` = client id); returns its claims."""
    settings = settings or configured_settings()
    claims = _decode(token, settings, audience=settings.require("user_pool_client_id"))
    if claims.get("token_use") != "id":
        raise UnauthorizedError("an ID token is required here")
    return claims

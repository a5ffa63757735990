"""Outbound requests to merchants' stores, only where they belong.

A store URL is a place the platform will connect to on a tenant's word, so it is checked twice:

- at registration (:func:`check_store_url`): ``https`` only, a host name (no IP literal, in any of the forms
  ``inet_aton`` accepts: ``2130706433``, ``0x7f.1``, ``0177.0.0.1``), a standard port unless a platform
  admin allowed another for the tenant, no credentials, query or fragment, and every address the name
  resolves to public;
- at every connection (:class:`StoreSession`): the name is resolved again and the connection is made to one
  of the vetted addresses, so a name that resolved to a public address at registration and to 169.254.169.254
  now (DNS rebinding) is refused. Redirects are never followed, proxies from the environment are ignored,
  and timeouts are bounded.

The local demo and tests talk to a fake WooCommerce on 127.0.0.1 over http: that needs the explicit
``LUXEBRAIN_ALLOW_LOCAL_STORES`` setting, which only ``APP_ENV=local`` accepts (settings refuse it elsewhere)
and no request can change.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import NewConnectionError
from urllib3.util import connection as urllib3_connection

from luxebrain.errors import InvalidInputError

CONNECT_TIMEOUT_SECONDS = 5.0
READ_TIMEOUT_SECONDS = 30.0
STANDARD_PORTS = {"https": 443, "http": 80}
LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
# A name made only of digits, hex and dots is an IP address in one of the forms inet_aton accepts.
_NUMERIC_HOST = re.compile(r"^(0x[0-9a-f]*|[0-9]+)(\.(0x[0-9a-f]*|[0-9]+))*\.?$", re.IGNORECASE)
_HOST_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$", re.IGNORECASE)


class StoreAddressRefused(InvalidInputError):
    """The store URL points somewhere the platform does not connect to."""


@dataclass(frozen=True)
class OutboundPolicy:
    """Where store connections may go. ``allow_local`` (the local demo's fake store) comes from settings."""

    allow_local: bool = False
    allowed_ports: frozenset[int] = frozenset()

    @classmethod
    def configured(cls, allowed_ports: Iterable[int] = ()) -> OutboundPolicy:
        from luxebrain.runtime import configured_settings

        return cls(allow_local=configured_settings().allow_local_stores, allowed_ports=frozenset(allowed_ports))


def is_public_address(address: str) -> bool:
    """True for a globally routable unicast address (not loopback, private, link-local, metadata, CGNAT,
    multicast, reserved, unspecified, documentation, or an IPv4-mapped / 6to4 form of one)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = ip.ipv4_mapped or ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if embedded is not None:
            return is_public_address(str(embedded))
    return bool(ip.is_global) and not (ip.is_multicast or ip.is_reserved or ip.is_unspecified or ip.is_loopback)


def _is_local(host: str) -> bool:
    return host.lower().rstrip(".") in LOCAL_HOSTS


def _resolve(host: str, port: int) -> list[str]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise StoreAddressRefused("the store's host name does not resolve") from None
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def vetted_addresses(host: str, port: int, policy: OutboundPolicy) -> list[str]:
    """The addresses of ``host`` the platform may connect to: all of them public, or a local name when the
    local-stores setting allows it. Refuses (StoreAddressRefused) otherwise."""
    addresses = _resolve(host, port)
    if not addresses:
        raise StoreAddressRefused("the store's host name does not resolve")
    if policy.allow_local and _is_local(host):
        return addresses
    if not all(is_public_address(address) for address in addresses):
        raise StoreAddressRefused("the store's host name resolves to an address that is not public")
    return addresses


def check_host_name(host: str, policy: OutboundPolicy) -> None:
    if policy.allow_local and _is_local(host):
        return
    try:
        ipaddress.ip_address(host.strip("[]"))
        is_literal = True
    except ValueError:
        is_literal = False
    if is_literal or _NUMERIC_HOST.fullmatch(host):
        raise StoreAddressRefused("use the shop's host name, not an IP address")
    labels = host.rstrip(".").split(".")
    if len(labels) < 2 or not all(_HOST_LABEL.fullmatch(label) for label in labels) or labels[-1].isdigit():
        raise StoreAddressRefused("the store URL needs a public host name such as shop.example.com")


def check_store_url(url: str, policy: OutboundPolicy, *, check_port: bool = True, resolve: bool = True) -> str:
    """The normalised base URL of a store, or StoreAddressRefused saying why not. ``resolve`` also checks every
    address the name resolves to now (a name that does not resolve yet passes: every connection re-checks)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise StoreAddressRefused("the store URL is not a valid URL") from None
    host = (parts.hostname or "").lower()
    local = policy.allow_local and _is_local(host)
    if parts.scheme not in ("https", "http") or (parts.scheme == "http" and not local):
        raise StoreAddressRefused("the store URL must be https://")
    if not host:
        raise StoreAddressRefused("the store URL needs a host name")
    if parts.query or parts.fragment or parts.username or parts.password:
        raise StoreAddressRefused("use the shop's base URL, without query, fragment or credentials")
    check_host_name(host, policy)
    effective_port = port or STANDARD_PORTS[parts.scheme]
    standard = effective_port == STANDARD_PORTS[parts.scheme]
    if check_port and not local and not standard and effective_port not in policy.allowed_ports:
        raise StoreAddressRefused(f"port {effective_port} is not a standard port; ask support to allow it")
    if resolve:
        try:
            vetted_addresses(host, effective_port, policy)
        except StoreAddressRefused as exc:
            if "does not resolve" not in str(exc):
                raise
    return url.rstrip("/")


# ----------------------------------------------------------------------------- connection-time checks
class _VettedConnectionMixin:
    """Resolve, vet, and connect to a vetted address (TLS still verifies the host name)."""

    policy: OutboundPolicy = OutboundPolicy()
    _dns_host: str
    host: str
    port: int
    timeout: Any
    source_address: Any
    socket_options: Any

    def _new_conn(self) -> socket.socket:
        try:
            addresses = vetted_addresses(self._dns_host, self.port, self.policy)
        except StoreAddressRefused as exc:
            raise NewConnectionError(self, f"refused: {exc}") from None  # type: ignore[arg-type]
        timeout = self.timeout if isinstance(self.timeout, (int, float)) else CONNECT_TIMEOUT_SECONDS
        last_error: OSError | None = None
        for address in addresses:
            try:
                return urllib3_connection.create_connection(
                    (address, self.port),
                    timeout,
                    source_address=self.source_address,
                    socket_options=self.socket_options,
                )
            except OSError as exc:
                last_error = exc
        raise NewConnectionError(self, f"Failed to establish a new connection: {last_error}")  # type: ignore[arg-type]


def _pools(policy: OutboundPolicy) -> dict[str, type]:
    http_connection = type("VettedHTTPConnection", (_VettedConnectionMixin, HTTPConnection), {"policy": policy})
    https_connection = type("VettedHTTPSConnection", (_VettedConnectionMixin, HTTPSConnection), {"policy": policy})
    return {
        "http": type("VettedHTTPPool", (HTTPConnectionPool,), {"ConnectionCls": http_connection}),
        "https": type("VettedHTTPSPool", (HTTPSConnectionPool,), {"ConnectionCls": https_connection}),
    }


class _VettedAdapter(HTTPAdapter):
    def __init__(self, policy: OutboundPolicy) -> None:
        self._policy = policy
        super().__init__(max_retries=0)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = _pools(self._policy)


class StoreSession(requests.Session):
    """A requests session for store calls: vetted addresses at connect time, no redirects, no environment
    proxies, bounded timeouts."""

    def __init__(self, policy: OutboundPolicy) -> None:
        super().__init__()
        self.trust_env = False  # no proxies from the environment
        adapter = _VettedAdapter(policy)
        self.mount("https://", adapter)
        self.mount("http://", adapter)

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        kwargs["allow_redirects"] = False
        timeout = kwargs.get("timeout")
        read = min(float(timeout), READ_TIMEOUT_SECONDS) if isinstance(timeout, (int, float)) else READ_TIMEOUT_SECONDS
        kwargs["timeout"] = (CONNECT_TIMEOUT_SECONDS, read)
        return super().request(method, url, *args, **kwargs)


class StoreApi:
    """The WooCommerce REST API (``wc/v3``) of one store, through a :class:`StoreSession`: HTTP Basic over
    https; OAuth 1.0a signing over http (local fake store only), as the ``woocommerce`` package does."""

    def __init__(
        self,
        url: str,
        consumer_key: str,
        consumer_secret: str,
        *,
        timeout: float = READ_TIMEOUT_SECONDS,
        policy: OutboundPolicy | None = None,
        user_agent: str = "LuxeBrain/1.0 (+https://luxebrain.example)",
    ) -> None:
        self.policy = policy or OutboundPolicy.configured()
        # The port was checked (against the tenant's allowance) at registration; every connection re-vets.
        self.url = check_store_url(url, self.policy, check_port=False, resolve=False)
        self.consumer_key = consumer_key
        self.consumer_secret = consumer_secret
        self.timeout = timeout
        self.user_agent = user_agent
        self.session = StoreSession(self.policy)

    def _request(
        self, method: str, endpoint: str, data: Any = None, params: dict[str, Any] | None = None
    ) -> requests.Response:
        import json
        from urllib.parse import urlencode

        url = f"{self.url}/wp-json/wc/v3/{endpoint.lstrip('/')}"
        params = dict(params or {})
        headers = {"user-agent": self.user_agent, "accept": "application/json"}
        auth: Any = None
        if url.startswith("https://"):
            auth = (self.consumer_key, self.consumer_secret)
        else:
            from woocommerce.oauth import OAuth

            if params:
                url = f"{url}?{urlencode(params)}"
            url = OAuth(
                url=url,
                consumer_key=self.consumer_key,
                consumer_secret=self.consumer_secret,
                version="wc/v3",
                method=method,
            ).get_oauth_url()
            params = {}
        body = None
        if data is not None:
            body = json.dumps(data, ensure_ascii=False).encode()
            headers["content-type"] = "application/json;charset=utf-8"
        return self.session.request(
            method, url, params=params, data=body, headers=headers, auth=auth, timeout=self.timeout
        )

    def get(self, endpoint: str, params: dict[str, Any] | None = None, **_: Any) -> requests.Response:
        return self._request("GET", endpoint, params=params)

    def put(self, endpoint: str, data: Any, params: dict[str, Any] | None = None, **_: Any) -> requests.Response:
        return self._request("PUT", endpoint, data=data, params=params)

    def post(self, endpoint: str, data: Any, params: dict[str, Any] | None = None, **_: Any) -> requests.Response:
        return self._request("POST", endpoint, data=data, params=params)

    def delete(self, endpoint: str, params: dict[str, Any] | None = None, **_: Any) -> requests.Response:
        return self._request("DELETE", endpoint, params=params)

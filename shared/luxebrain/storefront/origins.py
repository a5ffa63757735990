"""Which web origins may use a tenant's storefront key: its stores' own sites (and any extra origin the
merchant lists), so a key copied onto another domain is refused by the browsers that carry it there."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from luxebrain.caching import ExpiringCache
from luxebrain.errors import ForbiddenError
from luxebrain.runtime import configured_settings
from luxebrain.storage.tenants import TenantRepository

ORIGINS_CACHE_SECONDS = 60.0
_LOCAL_ORIGIN = re.compile(r"^http://(localhost|127\.0\.0\.1)(:\d{1,5})?$")
_origins_cache: ExpiringCache[str, frozenset[str]] = ExpiringCache(ORIGINS_CACHE_SECONDS)


def origin_of(url: str) -> str | None:
    """``scheme://host[:port]`` of a URL, lower-cased, default ports dropped; None if it is not http(s)."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    default = {"http": 80, "https": 443}[parts.scheme]
    suffix = f":{port}" if port and port != default else ""
    return f"{parts.scheme}://{parts.hostname.lower()}{suffix}"


def storefront_origins(tenant_id: str, *, tenants: TenantRepository) -> frozenset[str]:
    """The tenant's store origins plus ``storefront_origins`` from its settings (both read from ``tenants``),
    cached for a minute."""
    return _origins_cache.get(tenant_id, lambda: _read_origins(tenant_id, tenants))


def _read_origins(tenant_id: str, tenants: TenantRepository) -> frozenset[str]:
    urls = [store.url for store in tenants.list_stores(tenant_id)]
    extra = (tenants.get_tenant(tenant_id).settings or {}).get("storefront_origins") or []
    urls += [url for url in extra if isinstance(url, str)]
    return frozenset(origin for origin in map(origin_of, urls) if origin)


def check_storefront_origin(tenant_id: str, origin: str | None, *, required: bool, tenants: TenantRepository) -> None:
    """403 unless ``origin`` is one of the tenant's storefront origins (or, in the local environment, a
    localhost page). Browsers always send Origin with a cross-site POST; ``required`` refuses its absence."""
    if not origin:
        if required:
            raise ForbiddenError("storefront events must come from the shop's own pages (no Origin header)")
        return
    normalised = origin_of(origin)
    if normalised and normalised in storefront_origins(tenant_id, tenants=tenants):
        return
    if configured_settings().app_env == "local" and _LOCAL_ORIGIN.fullmatch(origin):
        return
    raise ForbiddenError("this storefront key belongs to another site: the page's origin is not one of its stores")

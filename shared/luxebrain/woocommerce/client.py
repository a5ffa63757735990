"""The WooCommerce REST API v3 client: requests through the vetted outbound session
(luxebrain.woocommerce.outbound: public addresses only, checked at connect time, no redirects), a realistic
timeout, polite retries and pagination by ``X-WP-TotalPages``.

HTTP failures become domain errors with a stable reason; the store's own body or error text is never
passed on (it could be anything the URL's owner chose to answer).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import requests

from luxebrain.errors import LuxeBrainError, UnauthorizedError
from luxebrain.woocommerce.outbound import OutboundPolicy, StoreApi

DEFAULT_TIMEOUT_SECONDS = 30.0
PER_PAGE = 100  # WooCommerce's maximum
RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})


class WooCommerceError(LuxeBrainError):
    """The store answered with an error that retrying will not fix (or retries ran out)."""

    status_code = 502


class WooCommerceAuthError(UnauthorizedError):
    """The store rejected the consumer key / secret (401 / 403)."""


@dataclass(frozen=True)
class Page:
    items: list[dict[str, Any]]
    page: int
    total_pages: int
    total: int | None

    @property
    def is_last(self) -> bool:
        return self.page >= self.total_pages


class WooCommerceClient:
    def __init__(
        self,
        url: str,
        consumer_key: str,
        consumer_secret: str,
        *,
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
        max_attempts: int = 5,
        backoff_seconds: float = 1.0,
        max_backoff_seconds: float = 30.0,
        sleep: Callable[[float], None] = time.sleep,
        per_page: int = PER_PAGE,
        policy: OutboundPolicy | None = None,
    ) -> None:
        self._api = StoreApi(url, consumer_key, consumer_secret, timeout=timeout, policy=policy)
        self.timeout = timeout
        self.max_attempts = max_attempts
        self.backoff_seconds = backoff_seconds
        self.max_backoff_seconds = max_backoff_seconds
        self._sleep = sleep
        self.per_page = min(max(1, per_page), PER_PAGE)
        self.requests_made = 0
        self.retries = 0

    def get_page(self, endpoint: str, params: dict[str, Any] | None = None, page: int = 1) -> Page:
        """One page of a collection, retrying 429 / 5xx / network errors with exponential backoff."""
        query = {"per_page": self.per_page, **(params or {}), "page": page}
        response = self._get_with_retries(endpoint, query)
        try:
            items = response.json()
        except ValueError:
            raise WooCommerceError(f"{endpoint} page {page}: the store did not answer with JSON") from None
        if not isinstance(items, list):
            raise WooCommerceError(f"{endpoint} page {page}: expected a list, got {type(items).__name__}")
        total_pages = _int_header(response, "X-WP-TotalPages")
        total = _int_header(response, "X-WP-Total")
        if total_pages is None:  # some proxies strip the headers: a short page is the last one
            total_pages = page if len(items) < query["per_page"] else page + 1
        return Page(items=items, page=page, total_pages=max(total_pages, 1), total=total)

    def iter_pages(self, endpoint: str, params: dict[str, Any] | None = None, start_page: int = 1) -> Iterator[Page]:
        page_number = start_page
        while True:
            page = self.get_page(endpoint, params, page_number)
            yield page
            if page.is_last or not page.items:
                return
            page_number += 1

    def send(
        self, method: str, endpoint: str, data: dict[str, Any] | None = None, params: dict[str, Any] | None = None
    ) -> Any:
        """A write (POST / PUT / DELETE) or single read, retried like reads; the JSON answer. A store that answers
        HTML (a login page, a maintenance page, a security plugin) is an error with that reason."""
        response = self._get_with_retries(endpoint, params or {}, method=method, data=data)
        try:
            return response.json()
        except ValueError:
            raise WooCommerceError(f"{endpoint}: the store did not answer with JSON") from None

    def _get_with_retries(
        self, endpoint: str, query: dict[str, Any], *, method: str = "GET", data: dict[str, Any] | None = None
    ) -> requests.Response:
        last_problem = ""
        for attempt in range(1, self.max_attempts + 1):
            self.requests_made += 1
            try:
                if method == "GET":
                    response = self._api.get(endpoint, params=dict(query))
                elif method == "DELETE":
                    response = self._api.delete(endpoint, params=dict(query))
                elif method == "PUT":
                    response = self._api.put(endpoint, data or {}, params=dict(query))
                else:
                    response = self._api.post(endpoint, data or {}, params=dict(query))
            except (requests.ConnectionError, requests.Timeout) as exc:
                if "refused: " in str(exc):
                    raise WooCommerceError(
                        f"{endpoint}: the store's address is not one the platform connects to (store_address_refused)"
                    ) from None
                last_problem = f"{type(exc).__name__}"
                response = None
            if response is not None:
                if response.status_code in (401, 403):
                    raise WooCommerceAuthError(
                        f"the store refused the REST API key ({response.status_code}): check the consumer key "
                        f"and secret and that the key has {'read' if method == 'GET' else 'read/write'} access"
                    )
                if 300 <= response.status_code < 400:
                    raise WooCommerceError(
                        f"{endpoint}: the store redirected (HTTP {response.status_code}); register its final "
                        "https address (store_redirected)"
                    )
                if response.status_code < 300:
                    return response
                if response.status_code not in RETRYABLE_STATUSES:
                    raise WooCommerceError(f"{endpoint} answered HTTP {response.status_code} (store_http_error)")
                last_problem = f"HTTP {response.status_code}"
            if attempt == self.max_attempts:
                break
            self.retries += 1
            self._sleep(self._delay(attempt, response))
        raise WooCommerceError(f"{endpoint} failed after {self.max_attempts} attempts ({last_problem})")

    def _delay(self, attempt: int, response: requests.Response | None) -> float:
        retry_after = response.headers.get("Retry-After") if response is not None else None
        if retry_after and retry_after.isdigit():
            return min(float(retry_after), self.max_backoff_seconds)
        backoff = min(self.backoff_seconds * 2 ** (attempt - 1), self.max_backoff_seconds)
        return backoff * (0.5 + random.random() / 2)  # jitter: many stores' retries do not align


def _int_header(response: requests.Response, name: str) -> int | None:
    value = response.headers.get(name)
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None

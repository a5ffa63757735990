"""The WooCommerce REST client against the fake store over loopback HTTP: paging, retries with backoff,
bounded attempts, rejected credentials, timeouts."""

from __future__ import annotations

import pytest

from luxebrain.woocommerce.client import WooCommerceAuthError, WooCommerceClient, WooCommerceError
from luxebrain.woocommerce.outbound import OutboundPolicy
from luxebrain_dev.local.fake_woocommerce import FakeWooCommerce, Fault
from luxebrain_dev.sample_store import generate_sample_store

LOCAL = OutboundPolicy(allow_local=True)  # the fake store listens on 127.0.0.1 over http


@pytest.fixture(scope="module")
def small_store():
    return generate_sample_store(products=12, customers=60, years=0.5, seed=3)


def test_client_pages_through_a_collection_by_total_pages(small_store) -> None:
    with FakeWooCommerce(small_store) as fake:
        client = WooCommerceClient(fake.url, fake.consumer_key, fake.consumer_secret, policy=LOCAL)
        pages = list(client.iter_pages("orders", {"orderby": "id", "order": "asc"}))
    assert len(pages) == pages[0].total_pages == -(-len(small_store.orders) // 100)
    ids = [order["id"] for page in pages for order in page.items]
    assert ids == sorted(order["id"] for order in small_store.orders)
    assert client.timeout > 5  # the package's 5 s default is too short for 100-item pages


def test_client_retries_429_and_500_with_backoff_then_succeeds(small_store) -> None:
    slept: list[float] = []
    faults = [Fault("orders", 1, status=429, retry_after=2), Fault("orders", 1, status=500)]
    with FakeWooCommerce(small_store, faults=faults) as fake:
        client = WooCommerceClient(fake.url, fake.consumer_key, fake.consumer_secret, sleep=slept.append, policy=LOCAL)
        page = client.get_page("orders", page=1)
    assert len(page.items) == min(100, len(small_store.orders))
    assert client.retries == 2
    assert slept[0] == 2  # Retry-After honoured
    assert 0 < slept[1] <= 2  # exponential backoff with jitter


def test_client_gives_up_after_bounded_attempts(small_store) -> None:
    with FakeWooCommerce(small_store, faults=[Fault("orders", 1, status=503, times=10)]) as fake:
        client = WooCommerceClient(
            fake.url, fake.consumer_key, fake.consumer_secret, max_attempts=3, sleep=lambda _: None, policy=LOCAL
        )
        with pytest.raises(WooCommerceError, match="after 3 attempts"):
            client.get_page("orders")


def test_client_reports_rejected_credentials_without_retrying(small_store) -> None:
    with FakeWooCommerce(small_store) as fake:
        client = WooCommerceClient(fake.url, fake.consumer_key, "cs_wrong", sleep=lambda _: None, policy=LOCAL)
        with pytest.raises(WooCommerceAuthError, match="consumer key"):
            client.get_page("orders")
        assert client.requests_made == 1
        assert fake.requests[-1].status == 401


def test_client_times_out_on_a_slow_page_and_retries(small_store) -> None:
    # The retry has the whole second to answer: 0.2 s was missed under a load average of ~25 (two timeouts).
    with FakeWooCommerce(small_store, faults=[Fault("orders", 1, delay_seconds=3.0)]) as fake:
        client = WooCommerceClient(
            fake.url, fake.consumer_key, fake.consumer_secret, timeout=1.0, sleep=lambda _: None, policy=LOCAL
        )
        page = client.get_page("orders")
    assert page.items
    assert client.retries == 1

"""The API cannot be turned on internal hosts: store URLs are https to public host names on standard ports
(checked at registration and again at every connection, so DNS rebinding does not help), redirects are not
followed, the upstream's body and error text never reach the caller, and price writes go to the store the
product belongs to. The local fake store on 127.0.0.1 needs an explicit setting only APP_ENV=local accepts."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from typing import Any, ClassVar

import pytest
from api_testkit import Merchant, api_app_module, new_merchant
from fakes import no_refund_lookups
from fastapi.testclient import TestClient

from luxebrain.adapters.aws import secrets_vault
from luxebrain.woocommerce import outbound
from luxebrain.woocommerce.client import WooCommerceClient, WooCommerceError
from luxebrain.woocommerce.outbound import OutboundPolicy, StoreApi
from luxebrain_dev.local.embedded import LocalResources

KEYS = {
    "consumer_key": "ck_0123456789abcdef0123456789abcdef01234567",
    "consumer_secret": "cs_0123456789abcdef0123456789abcdef01234567",
}
STRICT = OutboundPolicy()
LOCAL = OutboundPolicy(allow_local=True)
PUBLIC_ADDRESS = "93.184.215.14"


@pytest.fixture(scope="module")
def client(local_aws: LocalResources) -> Iterator[TestClient]:
    with TestClient(api_app_module().app) as test_client:
        yield test_client


@pytest.fixture
def owner(local_aws: LocalResources) -> Merchant:
    return new_merchant()


@pytest.fixture
def production_policy(monkeypatch: pytest.MonkeyPatch) -> None:
    """What a deployed API uses: no local-stores allowance."""
    monkeypatch.setattr(
        OutboundPolicy, "configured", classmethod(lambda cls, ports=(): OutboundPolicy(allowed_ports=frozenset(ports)))
    )


def _resolving(monkeypatch: pytest.MonkeyPatch, *answers: list[str]) -> list[str]:
    """Make host names resolve to ``answers`` in turn (the last one repeats); returns the names asked."""
    asked: list[str] = []
    queue = list(answers)

    def resolve(host: str, port: int) -> list[str]:
        asked.append(host)
        return queue.pop(0) if len(queue) > 1 else queue[0]

    monkeypatch.setattr(outbound, "_resolve", resolve)
    return asked


@pytest.mark.parametrize(
    "url",
    [
        "https://169.254.169.254/latest/meta-data",
        "https://10.0.0.1:8443",
        "http://127.0.0.1:9001",
        "https://2130706433",
        "https://0x7f000001",
        "https://0177.0.0.1",
        "https://127.1",
        "https://[::1]",
        "https://[::ffff:169.254.169.254]",
        "https://[fd00::1]",
        "http://shop.example",
        "javascript:alert(1)",
        "ftp://shop.example",
        "https://shop.example:8443",
        "https://user:pass@shop.example",
        "https://localhost",
    ],
)
def test_store_urls_pointing_inside_are_refused_at_registration(
    client: TestClient, owner: Merchant, production_policy: None, url: str
) -> None:
    # Before: 201 for the metadata address, a private host, loopback over http and the decimal IP
    response = client.post("/stores", headers=owner.headers, json={"url": url, **KEYS})
    assert response.status_code == 422, response.text


@pytest.mark.parametrize("address", ["10.1.2.3", "169.254.169.254", "127.0.0.1", "224.0.0.1", "100.64.0.1", "::1"])
def test_a_host_name_resolving_inside_is_refused_at_registration(
    client: TestClient, owner: Merchant, production_policy: None, monkeypatch: pytest.MonkeyPatch, address: str
) -> None:
    _resolving(monkeypatch, [address])
    response = client.post("/stores", headers=owner.headers, json={"url": "https://inside.example.com", **KEYS})
    assert response.status_code == 422 and "not public" in response.json()["detail"]


def test_a_public_host_name_registers_and_a_platform_admin_may_allow_a_port(
    client: TestClient, owner: Merchant, production_policy: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    import uuid

    from luxebrain.adapters.aws import user_directory
    from luxebrain.auth.accounts import create_platform_admin
    from luxebrain.storage.members import member_repository

    _resolving(monkeypatch, [PUBLIC_ADDRESS])
    assert (
        client.post("/stores", headers=owner.headers, json={"url": "https://shop.example.com", **KEYS}).status_code
        == 201
    )
    on_port = {"url": "https://shop.example.com:8443", **KEYS}
    assert client.post("/stores", headers=owner.headers, json=on_port).status_code == 422
    admin = create_platform_admin(
        f"ops-{uuid.uuid4().hex[:8]}@luxebrain.example",
        "Operator-Pass-42",
        users=user_directory(),
        members=member_repository(),
    )
    allowed = client.put(
        f"/admin/tenants/{owner.tenant_id}/store-ports",
        headers={"Authorization": f"Bearer {admin.access_token}"},
        json={"ports": [8443], "reason": "shop behind a custom port"},
    )
    assert allowed.status_code == 200, allowed.text
    assert client.post("/stores", headers=owner.headers, json=on_port).status_code == 201
    # A merchant cannot grant it to themself
    assert (
        client.patch("/tenant/settings", headers=owner.headers, json={"allowed_store_ports": [22]}).status_code == 422
    )


def test_the_local_stores_setting_is_refused_outside_app_env_local() -> None:
    from luxebrain.errors import ConfigurationError
    from luxebrain.settings import Settings

    base = {"LUXEBRAIN_TABLE_NAME": "luxebrain-data", "LUXEBRAIN_MODELS_BUCKET": "models"}
    assert Settings.from_environ({**base, "APP_ENV": "local", "LUXEBRAIN_ALLOW_LOCAL_STORES": "true"})
    with pytest.raises(ConfigurationError, match="LUXEBRAIN_ALLOW_LOCAL_STORES"):
        Settings.from_environ({**base, "APP_ENV": "prod", "LUXEBRAIN_ALLOW_LOCAL_STORES": "true"})


# ----------------------------------------------------------------------------- at connection time
class _Upstream(http.server.BaseHTTPRequestHandler):
    """A store that answers whatever the test sets: a redirect elsewhere, or an error with a telling body."""

    status = 200
    headers_out: ClassVar[dict[str, str]] = {}
    body = b"[]"
    hits: ClassVar[list[str]] = []

    def _answer(self) -> None:
        type(self).hits.append(self.path)
        self.send_response(self.status)
        for name, value in self.headers_out.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    do_GET = do_PUT = _answer

    def log_message(self, *_: Any) -> None:
        pass


@pytest.fixture
def upstream() -> Iterator[tuple[type[_Upstream], int]]:
    handler = type("Upstream", (_Upstream,), {"hits": [], "headers_out": {}})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield handler, server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


def test_dns_rebinding_to_an_internal_address_is_refused_at_connection_time(
    upstream: tuple[type[_Upstream], int], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a store name that was public at registration and now resolves to loopback, where a service listens
    handler, port = upstream
    asked = _resolving(monkeypatch, ["127.0.0.1"])
    woo = WooCommerceClient(
        f"https://rebind.example.com:{port}",
        "ck",
        "cs",
        policy=OutboundPolicy(allowed_ports=frozenset({port})),
        sleep=lambda _: None,
    )
    # When the platform connects, then it refuses before any byte reaches the internal service
    with pytest.raises(WooCommerceError, match="store_address_refused"):
        woo.get_page("orders")
    assert asked == ["rebind.example.com"] and handler.hits == []


def test_a_redirect_to_another_host_is_not_followed(upstream: tuple[type[_Upstream], int]) -> None:
    handler, port = upstream
    handler.status = 302
    handler.headers_out = {"Location": "http://169.254.169.254/latest/meta-data/iam/"}
    woo = WooCommerceClient(f"http://127.0.0.1:{port}", "ck", "cs", policy=LOCAL, sleep=lambda _: None)
    with pytest.raises(WooCommerceError, match="store_redirected"):
        woo.get_page("orders")
    assert len(handler.hits) == 1
    response = StoreApi(f"http://127.0.0.1:{port}", "ck", "cs", policy=LOCAL).get("products/1")
    assert response.status_code == 302  # the price path sees the redirect itself, never its target


def test_the_upstreams_body_is_never_echoed(upstream: tuple[type[_Upstream], int]) -> None:
    handler, port = upstream
    handler.status = 404
    handler.body = b'{"message": "internal-service-banner v1.2 secret-token-abc"}'
    woo = WooCommerceClient(f"http://127.0.0.1:{port}", "ck", "cs", policy=LOCAL, sleep=lambda _: None)
    with pytest.raises(WooCommerceError) as raised:
        woo.get_page("orders")
    assert "secret-token" not in str(raised.value) and "store_http_error" in str(raised.value)


# ----------------------------------------------------------------------------- price writes
@pytest.fixture
def priced(client: TestClient, owner: Merchant) -> tuple[str, str]:
    from datetime import date

    from api_testkit import priced_store, publish_artifact, save_products

    from luxebrain.ml.pricing.train import train_pricing_model

    lines, catalogue = priced_store()
    save_products(owner.tenant_id, catalogue)
    version = publish_artifact(owner.tenant_id, train_pricing_model(lines, catalogue, as_of=date(2026, 3, 10)))
    suggestion = client.get("/prices/suggestions", headers=owner.headers).json()["suggestions"][0]
    return suggestion["product_id"], version


def _approve(client: TestClient, owner: Merchant, product_id: str, version: str) -> Any:
    return client.post(
        f"/prices/suggestions/{product_id}/approve", headers=owner.headers, json={"model_version": version}
    )


def test_approving_a_price_answers_a_stable_code_not_the_stores_text(
    client: TestClient, owner: Merchant, priced: tuple[str, str], upstream: tuple[type[_Upstream], int]
) -> None:
    from luxebrain.storage.tenants import create_store

    handler, port = upstream
    handler.status = 500
    handler.body = b'{"message": "Traceback: db password hunter2 at 10.0.3.7"}'
    create_store(
        owner.tenant_id,
        url=f"http://127.0.0.1:{port}",
        consumer_key="ck",
        consumer_secret="cs",
        vault=secrets_vault(),
    )
    product_id, version = priced
    response = _approve(client, owner, product_id, version)
    # Before: 502 with the store's message in the detail
    assert response.status_code == 502, response.text
    assert "hunter2" not in response.text and response.json()["code"] == "store_write_failed"


def test_a_closed_port_is_a_stable_502_not_a_500(client: TestClient, owner: Merchant, priced: tuple[str, str]) -> None:
    import socket

    from luxebrain.storage.tenants import create_store

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    create_store(
        owner.tenant_id,
        url=f"http://127.0.0.1:{closed_port}",
        consumer_key="ck",
        consumer_secret="cs",
        vault=secrets_vault(),
    )
    product_id, version = priced
    response = _approve(client, owner, product_id, version)
    # Before: 500 (a port scanner: open and closed ports answered differently)
    assert response.status_code == 502, response.text
    assert response.json()["code"] == "store_unreachable"


def test_price_writes_go_to_the_store_the_product_belongs_to(local_aws: LocalResources, tenant_id: str) -> None:
    import json
    from pathlib import Path

    from luxebrain.billing.usage import plan_usage
    from luxebrain.ingest.envelope import IngestEnvelope, utc_now_iso
    from luxebrain.ingest.processor import process_envelope
    from luxebrain.ml.pricing import decisions as price_decisions
    from luxebrain.storage.catalogue import catalogue_repository
    from luxebrain.storage.ingest import ingest_repository
    from luxebrain.storage.storefront import storefront_repository
    from luxebrain.storage.tenants import create_store, tenant_repository
    from luxebrain_dev.delivery import wp_json_encode

    # Given a tenant's first store, and a second store (registered later) whose product is then synced
    first, _ = create_store(
        tenant_id, url="https://first.example.com", consumer_key="ck", consumer_secret="cs", vault=secrets_vault()
    )
    second, _ = create_store(
        tenant_id,
        url="https://second.example.com",
        consumer_key="ck",
        consumer_secret="cs",
        vault=secrets_vault(),
    )
    payload = json.loads((Path(__file__).resolve().parents[1] / "fixtures/woocommerce/product.json").read_text())
    envelope = IngestEnvelope(
        tenant_id=tenant_id,
        store_id=second.store_id,
        resource="product",
        event="created",
        topic="product.created",
        body=wp_json_encode(payload).decode(),
        received_at=utc_now_iso(),
    )
    assert (
        process_envelope(
            envelope,
            event_id="p1",
            refunds=no_refund_lookups,
            records=ingest_repository(),
            usage=plan_usage(),
            storefront=storefront_repository(),
        ).outcome
        == "stored"
    )
    # Then its price is written to the second store, whichever store is "first" (before: always the first)
    clients = price_decisions.store_clients(secrets_vault(), catalogue_repository(), tenant_repository())
    store_client = clients(tenant_id, str(payload["id"]))
    assert store_client.url == second.url != first.url

"""``luxebrain demo`` and ``luxebrain local``: the whole system on the embedded AWS with a sample store.

Every step goes through the same code path as in AWS: resources from the template, signed webhooks over
HTTP into the ingest function, the schedule event into the training dispatcher, and the API's handlers.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from luxebrain.local.embedded import EmbeddedAws, LocalResources
from luxebrain.progress import Progress
from luxebrain.sample_store import SampleStore, generate_sample_store
from luxebrain.storage import repositories

DEMO_TENANT_ID = "maison-demo"
DEMO_STORE_ID = "s-maison-demo"
DEMO_STORE_URL = "https://shop.maison-demo.example"


@dataclass
class DemoTenant:
    tenant_id: str
    store_id: str
    webhook_secret: str


def create_demo_tenant() -> DemoTenant:
    repositories.create_tenant("Maison Démo", plan="pro", tenant_id=DEMO_TENANT_ID)
    _, secrets = repositories.create_store(
        DEMO_TENANT_ID,
        url=DEMO_STORE_URL,
        consumer_key="ck_demo",
        consumer_secret="cs_demo",  # noqa: S106 - the sample store's fake REST credentials
        store_id=DEMO_STORE_ID,
    )
    return DemoTenant(DEMO_TENANT_ID, DEMO_STORE_ID, secrets.webhook_secret.get_secret_value())


def _print_resources(resources: LocalResources) -> None:
    kinds: dict[str, int] = {}
    for resource in resources.created:
        kinds[resource.resource_type] = kinds.get(resource.resource_type, 0) + 1
    print(f"Embedded AWS at {resources.endpoint_url}: created " + ", ".join(f"{n} {k}" for k, n in kinds.items()))
    print(f"  (not created locally, run in process instead: {len(resources.skipped)} resources)")


def _print_store(store: SampleStore) -> None:
    counts = store.counts()
    print(
        f"Sample store up to {store.as_of.date()}: {counts['products']} products ({counts['variations']} variations), "
        f"{counts['customers']} customers, {counts['orders']} orders with {counts['order_lines']} lines"
    )


def run_demo(
    *,
    as_of: datetime | None = None,
    customers: int = 6000,
    products: int = 300,
    seed: int = 7,
    output_dir: str = "demo-output",
) -> int:
    progress = Progress()
    started = time.perf_counter()
    Path(output_dir).mkdir(parents=True, exist_ok=True)
    aws = EmbeddedAws()
    with progress.step("Starting the embedded AWS from infra/template.yaml"):
        resources = aws.start()
    try:
        _print_resources(resources)
        with progress.step("Creating the demo tenant and its WooCommerce store"):
            tenant = create_demo_tenant()
        print(f"Tenant {tenant.tenant_id}, store {tenant.store_id} ({DEMO_STORE_URL}); webhook secret stored encrypted")
        with progress.step("Generating the sample luxury-fashion store"):
            store = generate_sample_store(
                products=products, customers=customers, seed=seed, as_of=as_of or datetime.now(UTC)
            )
        _print_store(store)
    finally:
        aws.stop()
    print(f"Demo finished in {time.perf_counter() - started:.0f} s.")
    return 0


def run_local(*, aws_port: int, api_port: int, customers: int) -> int:
    raise NotImplementedError

"""The demo's storefront step end to end on a small store: the widget fills the served product page, a
simulated day of visitors is recorded with the hold-out, orders come through ingest, results are printed."""

from __future__ import annotations

import pytest
from api_testkit import publish_artifact, small_order_lines

from luxebrain.adapters.aws import secrets_vault
from luxebrain_dev.local.embedded import LocalResources


@pytest.mark.slow(reason="the whole storefront demo: a sample store, a trained recommender, the gateway")
def test_the_storefront_demo_places_recommendations_and_prints_the_placement_results(
    local_aws: LocalResources,
) -> None:
    from luxebrain.ml.recommend.train import train_recommender
    from luxebrain.storage import tenants as tenant_repo
    from luxebrain.storage.items.catalogue import ProductItem, key_product
    from luxebrain_dev.local.gateway import LocalGateway
    from luxebrain_dev.sample_store import generate_sample_store
    from luxebrain_dev.storefront_demo import run_storefront_demo

    store = generate_sample_store(products=12, customers=30, seed=5)
    # A fixed tenant with the demo's seeded visitors: the same hold-out assignment every run (2 of 60 held out)
    tenant_id = tenant_repo.create_tenant("Maison Demo Vitrine", plan="pro", tenant_id="t-vitrine-demo").tenant_id
    store_item, _ = tenant_repo.create_store(
        tenant_id,
        url="https://shop.vitrine.example",
        consumer_key="ck",
        consumer_secret="cs",
        vault=secrets_vault(),
    )
    for product in store.products:
        pk, sk = key_product(tenant_id, str(product["id"]))
        ProductItem(pk, sk, entity="product", tenant_id=tenant_id, product_id=str(product["id"])).save()
    publish_artifact(tenant_id, train_recommender(small_order_lines(customers=20, products=8)))
    lines: list[str] = []
    with LocalGateway() as api_url:
        results = run_storefront_demo(
            api_url, tenant_id, store, lambda *parts: lines.append(" ".join(map(str, parts))),
            store_id=store_item.store_id, visitors=60,
        )  # fmt: skip
    output = "\n".join(lines)
    assert "Placement results" in output and "caused revenue" in output
    assert "(1 over HTTP with the key and the shop's origin)" in output
    related = next(row for row in results["placements"] if row["placement"] == "related")
    assert related["shown"] > 60  # returning visitors' second page views show the slot again
    # The simulated visitors, plus the headless browser's own page view when chromium is there.
    assert 60 <= sum(arm["visitors"] for arm in related["arms"]) <= 61
    print(output)
    assert related["decision"] in {"insufficient_sample", "no_difference_yet", "winner", "holdout_wins"}

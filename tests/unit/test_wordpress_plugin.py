"""The WordPress plugin: every PHP file passes ``php -l``, and its placements' markup, script enqueue and
checkout attribution meta, rendered by the PHP CLI with small WordPress function stubs
(tests/fixtures/wordpress/harness.php; not a WordPress install)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
PLUGIN = REPO / "integrations" / "wordpress" / "luxebrain"
HARNESS = REPO / "tests" / "fixtures" / "wordpress" / "harness.php"
PHP = shutil.which("php")

# CI installs the PHP CLI (the Makefile's php-cli target); a machine without it skips, CI never does.
pytestmark = pytest.mark.skipif(PHP is None and not os.environ.get("CI"), reason="needs the PHP CLI")

KEY = "lbpk_maison-demo_" + "A" * 43
OPTIONS = {"luxebrain_api_url": "https://api.luxebrain.example", "luxebrain_storefront_key": KEY}


def run_plugin(scenario: dict[str, Any]) -> dict[str, Any]:
    answer = subprocess.run(  # noqa: S603 - our own harness
        [PHP or "php", str(HARNESS), json.dumps({"options": OPTIONS, **scenario})],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    return json.loads(answer.stdout)


@pytest.mark.parametrize("path", sorted(PLUGIN.rglob("*.php")), ids=lambda p: str(p.relative_to(PLUGIN)))
def test_every_php_file_passes_php_lint(path: Path) -> None:
    answer = subprocess.run([PHP or "php", "-l", str(path)], capture_output=True, text=True, check=False)  # noqa: S603
    assert answer.returncode == 0, answer.stdout + answer.stderr


def test_the_product_page_and_cart_placements_render_slots_on_woocommerces_hooks() -> None:
    result = run_plugin({"product_page": True, "cart_page": True})
    assert result["product_page"] == (
        '<div class="luxebrain-slot" data-luxebrain-placement="related" data-product-id="93"></div>'
    )
    assert result["cart_page"] == (
        '<div class="luxebrain-slot" data-luxebrain-placement="basket" data-product-ids="93,22"></div>'
    )
    hooks = {(hook, callback) for hook, callback, _ in result["log"]["actions"]}
    assert ("woocommerce_after_single_product_summary", "luxebrain_product_placement") in hooks
    assert ("woocommerce_after_cart_table", "luxebrain_cart_placement") in hooks
    assert ("woocommerce_checkout_create_order", "luxebrain_write_attribution") in hooks


def test_the_shortcode_and_the_block_escape_what_they_are_given() -> None:
    result = run_plugin(
        {
            "shortcode": {"placement": "trending", "category": 'Shoes"><script>', "k": "99", "title": "<b>Hot</b>"},
            "block": {"placement": "trending", "k": 3},
        }
    )
    assert result["shortcode"] == (
        '<div class="luxebrain-slot" data-luxebrain-placement="trending" data-category="shoes-script" '
        'data-k="12" data-title="Hot"></div>'
    )
    assert "<script" not in result["shortcode"]
    assert result["block"] == '<div class="luxebrain-slot" data-luxebrain-placement="trending" data-k="3"></div>'
    assert result["log"]["blocks"] == {"luxebrain/placement": ["placement", "category", "k", "title"]}


def test_the_widget_is_enqueued_once_async_with_its_configuration_only_where_a_slot_is() -> None:
    none = run_plugin({})
    assert none["log"]["scripts"] == []  # no slot rendered: no script
    both = run_plugin({"product_page": True, "cart_page": True})
    ((handle, _, args),) = both["log"]["scripts"]
    assert handle == "luxebrain-widget" and args == {"strategy": "async", "in_footer": True}
    ((_, code, position),) = both["log"]["inline"]
    assert position == "before"
    config = json.loads(code.removeprefix("window.LuxeBrainConfig = ").removesuffix(";"))
    assert config == {
        "api": "https://api.luxebrain.example",
        "key": KEY,
        "storeApi": "https://shop.example/wp-json/wc/store/v1",
    }


@pytest.mark.parametrize(
    ("cookies", "meta"),
    [
        ({}, {}),
        ({"luxebrain_visitor": "not a visitor"}, {}),
        (
            {
                "luxebrain_visitor": "AbCdEfGhIjKlMnOp1234",
                "luxebrain_attribution": '{"placement":"related","model_version":"20261201-abc"}',
            },
            {
                "_luxebrain_visitor": "AbCdEfGhIjKlMnOp1234",
                "_luxebrain_attribution": {"placement": "related", "model_version": "20261201-abc"},
            },
        ),
        (
            {"luxebrain_visitor": "AbCdEfGhIjKlMnOp1234", "luxebrain_attribution": '{"placement":"<x>"}'},
            {"_luxebrain_visitor": "AbCdEfGhIjKlMnOp1234"},
        ),
    ],
)
def test_checkout_writes_the_attribution_meta_ingest_reads(cookies: dict[str, str], meta: dict[str, Any]) -> None:
    from luxebrain.storefront.meta import attribution_from_meta
    from luxebrain.woocommerce.payloads import MetaData

    written = run_plugin({"cookies": cookies})["order_meta"]
    assert (written or {}) == meta
    # What ingest reads back from the order's meta_data (as the REST API returns it).
    parsed = attribution_from_meta([MetaData(key=k, value=v) for k, v in (written or {}).items()])
    if meta:
        assert parsed is not None and parsed["visitor_id"] == meta["_luxebrain_visitor"]
    else:
        assert parsed is None

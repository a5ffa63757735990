"""The WordPress plugin: every PHP file passes ``php -l``, and its placements' markup, script enqueue and
checkout attribution meta, rendered by the PHP CLI with small WordPress function stubs
(tests/fixtures/wordpress/harness.php; not a WordPress install); the dynamic block is registered from its
block.json, and its editor script, run in Node with the editor's globals stubbed
(tests/fixtures/wordpress/block_editor_harness.js), registers the block with the placement selectable."""

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
EDITOR_HARNESS = REPO / "tests" / "fixtures" / "wordpress" / "block_editor_harness.js"
BLOCK = PLUGIN / "blocks" / "placement"
PHP = shutil.which("php")
NODE = shutil.which("node")

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
                "luxebrain_attribution": '{"placement":"related","model_version":"20261201-abc","response_id":"r1aB"}',
            },
            {
                "_luxebrain_visitor": "AbCdEfGhIjKlMnOp1234",
                "_luxebrain_attribution": {
                    "placement": "related",
                    "model_version": "20261201-abc",
                    "response_id": "r1aB",
                },
            },
        ),
        (
            {
                "luxebrain_visitor": "AbCdEfGhIjKlMnOp1234",
                "luxebrain_attribution": '{"placement":"related","model_version":"v 1","response_id":"<x>"}',
            },
            {
                "_luxebrain_visitor": "AbCdEfGhIjKlMnOp1234",
                "_luxebrain_attribution": {"placement": "related", "model_version": "", "response_id": ""},
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
        clicked = {name: value for name, value in meta.get("_luxebrain_attribution", {}).items() if value}
        assert parsed == {"visitor_id": meta["_luxebrain_visitor"], **clicked}
    else:
        assert parsed is None


def test_the_block_is_registered_from_its_block_json_with_the_server_render() -> None:
    metadata = json.loads((BLOCK / "block.json").read_text())
    assert metadata["name"] == "luxebrain/placement" and metadata["apiVersion"] == 3
    assert metadata["editorScript"] == "file:./index.js" and (BLOCK / "index.js").is_file()
    result = run_plugin({"block": {"placement": "related", "k": 2}})
    assert result["log"]["block_json"] == {"luxebrain/placement": {"folder": "placement", "args": ["render_callback"]}}
    assert result["log"]["blocks"] == {"luxebrain/placement": list(metadata["attributes"])}
    assert result["block"] == '<div class="luxebrain-slot" data-luxebrain-placement="related" data-k="2"></div>'
    # The editor script's dependencies, read by WordPress beside it (no build step), are the globals it uses.
    asset = subprocess.run(  # noqa: S603 - our own file
        [PHP or "php", "-r", f"define('ABSPATH', '/'); echo json_encode(include '{BLOCK / 'index.asset.php'}');"],
        capture_output=True,
        text=True,
        check=True,
    )
    script = (BLOCK / "index.js").read_text()
    dependencies = json.loads(asset.stdout)["dependencies"]
    used = {"wp-" + name.replace("blockEditor", "block-editor") for name in _globals_used(script)}
    assert set(dependencies) == used


def _globals_used(script: str) -> list[str]:
    tail = script[script.rindex("}(") :]
    return [part.strip().removeprefix("window.wp.") for part in tail[2 : tail.index(")")].split(",")]


@pytest.mark.skipif(NODE is None and not os.environ.get("CI"), reason="needs Node")
def test_the_blocks_editor_script_registers_it_with_the_placement_selectable_and_saves_nothing() -> None:
    metadata = json.loads((BLOCK / "block.json").read_text())
    defaults = {name: spec["default"] for name, spec in metadata["attributes"].items()}
    answer = subprocess.run(  # noqa: S603 - our own harness
        [
            NODE or "node",
            str(EDITOR_HARNESS),
            str(BLOCK / "index.js"),
            json.dumps({**defaults, "placement": "related"}),
        ],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    editor = json.loads(answer.stdout)
    assert editor["registered"] == ["luxebrain/placement"]
    assert editor["saved"] is None  # a dynamic block: the server renders it
    assert editor["placement_options"] == metadata["attributes"]["placement"]["enum"]
    assert editor["placement_selects"] == 2  # in the placeholder and in the sidebar
    assert {"Placeholder", "InspectorControls", "RangeControl", "TextControl"} <= set(editor["types"])
    assert editor["instructions"].startswith("Related to the product shown")
    assert editor["changes"] == [{"placement": "basket"}]

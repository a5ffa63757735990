"""Templates cannot stall the shared sender: rendering has a budget in time, output and loop iterations
wherever a template renders (preview, save, sender); string-growing filters, methods and formatting are
bounded like ``*`` and ``**``; saving dry-runs the template and refuses it with the reason."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from api_testkit import Merchant, api_app_module, new_merchant
from fastapi.testclient import TestClient

from luxebrain.campaigns.sandbox import MAX_OUTPUT_CHARS
from luxebrain.campaigns.templates import (
    SAMPLE_CONTEXT,
    TemplateRenderError,
    render_part,
    validate_template,
)
from luxebrain_dev.local.embedded import LocalResources

ATTACKS = {
    "nested powers": "{{ ((((9 ** 64) ** 64) ** 64) ** 64).bit_length() }}",
    "center": "{{ 'x'|center(10**7) }}",
    "replace filter": "{{ ('x' * 10000)|replace('x', 'x' * 10000) }}",
    "replace method": "{{ ('x' * 10000).replace('x', 'y' * 10000) }}",
    "percent width": "{{ '%10000000d' % 1 }}",
    "percent star": "{{ '%*d' % (10000000, 1) }}",
    "format filter": "{{ '%10000000s'|format('x') }}",
    "str.format width": "{{ '{:>10000000}'.format('x') }}",
    "ljust": "{{ 'x'.ljust(10**7) }}",
    "zfill": "{{ '1'.zfill(10**7) }}",
    "join": "{{ ('x' * 10000)|join('y' * 10000) }}",
    "str join": "{{ ('y' * 10000).join('x' * 10000) }}",
    "wordwrap": "{{ ('x ' * 5000)|wordwrap(1, wrapstring='y' * 10000) }}",
    "indent": "{{ ('x\n' * 5000)|indent(10**6) }}",
    "nested loops": "{% for a in range(100000) %}{% for b in range(100000) %}{% endfor %}{% endfor %}",
    "silent loop": "{% for a in range(100000) %}{% set x = a %}{% endfor %}"
    "{% for a in range(100000) %}{% set x = a %}{% endfor %}",
    "output": "{% for a in range(5000) %}{{ 'x' * 9000 }}{% endfor %}",
    # Filters and globals run in library code, out of the per-line budget: each is bounded by size and clock
    "lipsum": "{{ lipsum(n=5000) }}",
    "string chain": "{{ (((range(100000)|list|string)|list|string)|list|string)|length }}",
    "pprint": "{{ (range(100000)|list|pprint)|length }}",
    "tojson chain": "{{ ((range(100000)|list|tojson)|list|tojson)|length }}",
}


@pytest.mark.parametrize("name", sorted(ATTACKS))
def test_each_attack_is_refused_quickly_with_a_reason(name: str) -> None:
    started = time.monotonic()
    with pytest.raises(TemplateRenderError) as refused:
        render_part(ATTACKS[name], SAMPLE_CONTEXT, html=False, part="text")
    # Before: 30 s for the powers, 10 MB bodies for center / replace / %, loops saved and left to the sender
    assert time.monotonic() - started < 2.0
    assert "failed to render" in str(refused.value)


@pytest.mark.parametrize("name", sorted(ATTACKS))
def test_saving_dry_runs_the_template_and_refuses_it(name: str) -> None:
    started = time.monotonic()
    with pytest.raises(TemplateRenderError):
        validate_template({"text": ATTACKS[name]})
    assert time.monotonic() - started < 2.0


def test_ordinary_templates_still_render() -> None:
    validate_template(
        {
            "subject": "{{ customer.first_name }}, {{ '%.2f'|format(product.price) }}",
            "text": "{% for line in cart.lines %}{{ line.name|center(30) }}{% endfor %}"
            "{{ '{:>10}'.format(store.store_name) }} {{ store.store_name|replace('a', 'A') }}",
            "html": "{% for i in range(20) %}<p>{{ i }}</p>{% endfor %}",
        }
    )
    assert len(render_part("{{ 'x' * 9000 }}", SAMPLE_CONTEXT, html=False)) < MAX_OUTPUT_CHARS


# ----------------------------------------------------------------------------- through the API
@pytest.fixture(scope="module")
def client(local_aws: LocalResources) -> Iterator[TestClient]:
    with TestClient(api_app_module().app) as test_client:
        yield test_client


@pytest.fixture
def owner(local_aws: LocalResources) -> Merchant:
    return new_merchant()


def test_preview_of_the_exponent_attack_is_a_fast_422(client: TestClient, owner: Merchant) -> None:
    started = time.monotonic()
    response = client.post(
        "/campaigns/preview", headers=owner.headers, json={"template": {"text": ATTACKS["nested powers"]}}
    )
    assert response.status_code == 422, response.text
    assert time.monotonic() - started < 5.0


def test_a_template_with_nested_loops_is_not_saved(client: TestClient, owner: Merchant) -> None:
    response = client.put(
        "/campaigns/settings",
        headers=owner.headers,
        json={"templates": {"campaign": {"text": ATTACKS["nested loops"]}}},
    )
    # Before: 200 (only compiled), left for the sender every tenant shares to render
    assert response.status_code == 422, response.text
    assert "steps" in response.text or "longer" in response.text


def test_logo_and_store_urls_must_be_web_urls(client: TestClient, owner: Merchant) -> None:
    for field in ("logo_url", "store_url"):
        response = client.put(
            "/campaigns/settings", headers=owner.headers, json={"branding": {field: "javascript:alert(1)"}}
        )
        assert response.status_code == 422, (field, response.text)

"""Message templates: Jinja2 with autoescaping for HTML, a sandbox for everything a tenant can edit, and
strict undefined variables so a typo fails the render (recorded as the reason) instead of sending "Hello ,".

A message is a subject, an HTML part and a plain-text part (e-mail) or one text (SMS / WhatsApp). The tenant
edits the content; the layout around it (branding, product block, unsubscribe footer) is ours, so no tenant
template can drop the unsubscribe link.

Rendering is luxebrain.campaigns.sandbox (Jinja2), imported on the first render or validation.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import ModuleType
from typing import Any

from luxebrain.errors import InvalidInputError
from luxebrain.text import header_safe

TEMPLATE_PARTS = ("subject", "html", "text", "sms")
MAX_TEMPLATE_CHARS = 50_000


class TemplateRenderError(InvalidInputError):
    """A template failed to compile or render; the message says where."""


def _sandbox() -> ModuleType:
    """The Jinja2 side, imported on first use: the API and the flow functions import this module for the
    built-in templates and load Jinja2 only when they render or validate one."""
    from luxebrain.campaigns import sandbox

    return sandbox


def render_part(source: str, context: dict[str, Any], *, html: bool, part: str = "template") -> str:
    from jinja2 import TemplateError

    sandbox = _sandbox()
    try:
        return sandbox.render_bounded(sandbox.compile_source(source, html), context)
    except TemplateError as exc:
        line = f" (line {exc.lineno})" if getattr(exc, "lineno", None) else ""
        raise TemplateRenderError(f"{part} failed to render{line}: {exc.message or exc}") from None
    except Exception as exc:  # sandbox SecurityError, a filter given a bad value
        raise TemplateRenderError(f"{part} failed to render: {exc}") from None


def validate_template(parts: dict[str, str]) -> None:
    """Compile each part and dry-run it with sample data under the render budget (for the API: a tenant's
    edit is rejected, with the reason, before it is saved, so the sender never meets it first)."""
    unknown = set(parts) - set(TEMPLATE_PARTS)
    if unknown:
        raise TemplateRenderError(f"unknown template part(s): {', '.join(sorted(unknown))}")
    from jinja2 import TemplateError

    sandbox = _sandbox()
    for part, source in parts.items():
        try:
            sandbox.compile_source(source, part == "html")
        except TemplateError as exc:
            raise TemplateRenderError(f"{part} does not compile: {exc}") from None
        render_part(source, SAMPLE_CONTEXT, html=part == "html", part=part)


# What a dry run renders with: every variable the sender provides, with plausible values.
_SAMPLE_PRODUCT = {"product_id": "1", "name": "Sample product", "price": 100.0, "url": "https://shop.example/p/1"}
SAMPLE_CONTEXT: dict[str, Any] = {
    "customer": {"first_name": "Camille", "country": "FR"},
    "store": {
        "store_name": "Maison",
        "store_url": "https://shop.example",
        "logo_url": None,
        "primary_color": "#111111",
        "accent_color": "#b08d57",
        "footer_address": "1 rue de la Paix, Paris",
    },
    "currency": "EUR",
    "products": [_SAMPLE_PRODUCT],
    "cart": {
        "lines": [{"name": "Sample product", "quantity": 1, "total": 100.0}],
        "currency": "EUR",
        "url": "https://shop.example/cart/",
    },
    "order": {"first_item": "Sample product", "lines": []},
    "product": {**_SAMPLE_PRODUCT, "previous_price": 120.0},
    "unsubscribe_url": "https://example.invalid/unsubscribe-preview",
    "unsubscribe_token": "preview",
}


# ----------------------------------------------------------------------------- built-in content per flow
DEFAULT_TEMPLATES: dict[str, dict[str, str]] = {
    "abandoned_cart": {
        "subject": "{{ customer.first_name or 'Hello' }}, your selection is waiting",
        "html": "<p>{{ customer.first_name or 'Hello' }}, you left something beautiful behind.</p>"
        "{% for item in cart.lines %}<p><strong>{{ item.name }}</strong> &times; {{ item.quantity }}"
        " &mdash; {{ item.total | money(cart.currency) }}</p>{% endfor %}"
        '<p><a href="{{ cart.url }}">Return to your bag</a></p>',
        "text": "{{ customer.first_name or 'Hello' }}, you left something behind:\n"
        "{% for item in cart.lines %}- {{ item.name }} x {{ item.quantity }}: {{ item.total | money(cart.currency) }}\n"
        "{% endfor %}Return to your bag: {{ cart.url }}",
        "sms": "{{ store.store_name }}: your bag is waiting {{ cart.url }}",
    },
    "welcome": {
        "subject": "Welcome to {{ store.store_name }}",
        "html": "<p>Welcome, {{ customer.first_name or 'and thank you' }}.</p>"
        "<p>Discover the house and its collections.</p>",
        "text": "Welcome, {{ customer.first_name or 'and thank you' }}. Discover the house: {{ store.store_url }}",
        "sms": "Welcome to {{ store.store_name }}. {{ store.store_url }}",
    },
    "post_purchase": {
        "subject": "Chosen to complete your {{ order.first_item }}",
        "html": "<p>Thank you for your order, {{ customer.first_name or 'dear client' }}.</p>"
        "<p>Pieces our clients pair with it:</p>",
        "text": "Thank you for your order. Pieces our clients pair with it:",
        "sms": "{{ store.store_name }}: chosen for you {{ store.store_url }}",
    },
    "win_back": {
        "subject": "{{ customer.first_name or 'Hello' }}, we have missed you",
        "html": "<p>It has been a while, {{ customer.first_name or 'dear client' }}. The new season is here.</p>",
        "text": "It has been a while. The new season is here: {{ store.store_url }}",
        "sms": "{{ store.store_name }}: the new season is here {{ store.store_url }}",
    },
    "back_in_stock": {
        "subject": "{{ product.name }} is back",
        "html": '<p>Good news: <a href="{{ product.url }}">{{ product.name }}</a> is back in stock.</p>',
        "text": "Good news: {{ product.name }} is back in stock: {{ product.url }}",
        "sms": "{{ store.store_name }}: {{ product.name }} is back {{ product.url }}",
    },
    "price_drop": {
        "subject": "{{ product.name }} is now {{ product.price | money(currency) }}",
        "html": '<p><a href="{{ product.url }}">{{ product.name }}</a> is now'
        " {{ product.price | money(currency) }} (was {{ product.previous_price | money(currency) }}).</p>",
        "text": "{{ product.name }} is now {{ product.price | money(currency) }}"
        " (was {{ product.previous_price | money(currency) }}): {{ product.url }}",
        "sms": "{{ store.store_name }}: {{ product.name }} now {{ product.price | money(currency) }} {{ product.url }}",
    },
    "campaign": {
        "subject": "News from {{ store.store_name }}",
        "html": "<p>{{ customer.first_name or 'Dear client' }}, a selection for you.</p>",
        "text": "{{ customer.first_name or 'Dear client' }}, a selection for you: {{ store.store_url }}",
        "sms": "{{ store.store_name }}: a selection for you {{ store.store_url }}",
    },
}


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    html: str
    text: str


def template_for(flow_kind: str, overrides: dict[str, str] | None = None) -> dict[str, str]:
    base = dict(DEFAULT_TEMPLATES.get(flow_kind, DEFAULT_TEMPLATES["campaign"]))
    base.update({part: source for part, source in (overrides or {}).items() if part in TEMPLATE_PARTS})
    return base


def render_email(template: dict[str, str], context: dict[str, Any]) -> RenderedEmail:
    # The subject is a header: customer data in it (a CR in a first name) must not break the message.
    subject = header_safe(render_part(template["subject"], context, html=False, part="subject"))
    if not subject or "\n" in subject or len(subject) > 200:
        raise TemplateRenderError("subject must be one line of 1-200 characters after rendering")
    content_html = render_part(template["html"], context, html=True, part="html")
    content_text = render_part(template["text"], context, html=False, part="text")
    layout = {**context, "subject": subject}
    from jinja2 import TemplateError
    from markupsafe import Markup

    sandbox = _sandbox()
    try:
        html = sandbox.render_bounded(sandbox.LAYOUT_HTML, {**layout, "content": Markup(content_html)})  # noqa: S704 - sandboxed, autoescaped
        text = sandbox.render_bounded(sandbox.LAYOUT_TEXT, {**layout, "content": content_text})
    except (TemplateError, sandbox.RenderBudgetExceeded) as exc:
        raise TemplateRenderError(f"layout failed to render: {exc}") from None
    return RenderedEmail(subject=subject, html=html, text=text)


def render_short_message(template: dict[str, str], context: dict[str, Any], *, limit: int = 640) -> str:
    """SMS / WhatsApp text; STOP instructions are appended by the channel, not left to the template."""
    text = render_part(template["sms"], context, html=False, part="sms").strip()
    if not text:
        raise TemplateRenderError("sms text is empty after rendering")
    if len(text) > limit:
        raise TemplateRenderError(f"sms text is {len(text)} characters; the limit is {limit}")
    return text

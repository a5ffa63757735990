"""Message templates: Jinja2 with autoescaping for HTML, a sandbox for everything a tenant can edit, and
strict undefined variables so a typo fails the render (recorded as the reason) instead of sending "Hello ,".

A message is a subject, an HTML part and a plain-text part (e-mail) or one text (SMS / WhatsApp). The tenant
edits the content; the layout around it (branding, product block, unsubscribe footer) is ours, so no tenant
template can drop the unsubscribe link.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from jinja2 import StrictUndefined, TemplateError
from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError
from markupsafe import Markup

from luxebrain.errors import InvalidInputError

TEMPLATE_PARTS = ("subject", "html", "text", "sms")
MAX_TEMPLATE_CHARS = 50_000


class TemplateRenderError(InvalidInputError):
    """A template failed to compile or render; the message says where."""


MAX_EXPONENT = 64
MAX_REPEATED_LENGTH = 10_000


class BoundedSandbox(ImmutableSandboxedEnvironment):
    """The sandbox, with ``**`` and ``*`` bounded: ``{{ 2 ** 10**8 }}`` or ``{{ 'x' * 10**9 }}`` in a tenant's
    template would otherwise run until the shared sender times out, for every message and preview.
    Intercepting them also stops Jinja folding such constants at compile time."""

    intercepted_binops = frozenset(["**", "*"])

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "**":
            if isinstance(right, int | float) and abs(right) > MAX_EXPONENT:
                raise SecurityError(f"exponent {right} is larger than {MAX_EXPONENT}")
            return left**right
        if isinstance(left, str | list | tuple) or isinstance(right, str | list | tuple):
            count = right if isinstance(left, str | list | tuple) else left
            sequence = left if isinstance(left, str | list | tuple) else right
            if isinstance(count, int) and len(sequence) * count > MAX_REPEATED_LENGTH:
                raise SecurityError(f"repetition longer than {MAX_REPEATED_LENGTH}")
        return left * right


# Autoescaped HTML and plain text are two environments: escaping a text part would show "&amp;" to readers.
_html_env = BoundedSandbox(autoescape=True, undefined=StrictUndefined, trim_blocks=True)
_text_env = BoundedSandbox(autoescape=False, undefined=StrictUndefined, trim_blocks=True)
for _env in (_html_env, _text_env):
    _env.filters["money"] = lambda value, currency="EUR": f"{float(value):,.2f} {currency}"


@lru_cache(maxsize=512)
def _compile(source: str, html: bool) -> Any:
    if len(source) > MAX_TEMPLATE_CHARS:
        raise TemplateRenderError(f"template is longer than {MAX_TEMPLATE_CHARS} characters")
    return (_html_env if html else _text_env).from_string(source)


def render_part(source: str, context: dict[str, Any], *, html: bool, part: str = "template") -> str:
    try:
        return _compile(source, html).render(context)
    except TemplateError as exc:
        line = f" (line {exc.lineno})" if getattr(exc, "lineno", None) else ""
        raise TemplateRenderError(f"{part} failed to render{line}: {exc.message or exc}") from None
    except Exception as exc:  # sandbox SecurityError, a filter given a bad value
        raise TemplateRenderError(f"{part} failed to render: {exc}") from None


def validate_template(parts: dict[str, str]) -> None:
    """Compile each part (for the API: a tenant's edit is rejected before it is saved)."""
    unknown = set(parts) - set(TEMPLATE_PARTS)
    if unknown:
        raise TemplateRenderError(f"unknown template part(s): {', '.join(sorted(unknown))}")
    for part, source in parts.items():
        try:
            _compile(source, part == "html")
        except TemplateError as exc:
            raise TemplateRenderError(f"{part} does not compile: {exc}") from None


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

# Our layout (trusted, not tenant-editable): branding, the tenant's content, products, the footer.
_LAYOUT_HTML = _html_env.from_string(
    """<!doctype html><html><head><meta charset="utf-8"><title>{{ subject }}</title></head>
<body style="margin:0;background:#f7f5f2;font-family:Georgia,serif;color:{{ store.primary_color }}">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0"><tr><td align="center">
<table role="presentation" width="600" cellpadding="24" cellspacing="0" style="background:#ffffff">
<tr><td align="center" style="border-bottom:2px solid {{ store.accent_color }}">
{% if store.logo_url %}<img src="{{ store.logo_url }}" alt="{{ store.store_name }}" height="40">
{% else %}<span style="font-size:22px;letter-spacing:4px">{{ store.store_name | upper }}</span>{% endif %}
</td></tr>
<tr><td>{{ content }}</td></tr>
{% if products %}<tr><td><table role="presentation" width="100%"><tr>
{% for product in products %}<td align="center" valign="top" width="{{ (100 / products | length) | int }}%">
<a href="{{ product.url }}" style="color:{{ store.primary_color }}">{{ product.name }}</a><br>
<span style="color:{{ store.accent_color }}">{{ product.price | money(currency) }}</span></td>{% endfor %}
</tr></table></td></tr>{% endif %}
<tr><td style="font-size:11px;color:#777">{{ store.store_name }}
{%- if store.footer_address %}, {{ store.footer_address }}{% endif %}<br>
<a href="{{ unsubscribe_url }}" style="color:#777">Unsubscribe</a> from these e-mails.</td></tr>
</table></td></tr></table></body></html>"""
)
_LAYOUT_TEXT = _text_env.from_string(
    """{{ content }}
{% if products %}
{% for product in products %}- {{ product.name }} ({{ product.price | money(currency) }}): {{ product.url }}
{% endfor %}{% endif %}
--
{{ store.store_name }}{% if store.footer_address %}, {{ store.footer_address }}{% endif +%}
Unsubscribe: {{ unsubscribe_url }}
"""
)


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
    subject = render_part(template["subject"], context, html=False, part="subject").strip()
    if not subject or "\n" in subject or len(subject) > 200:
        raise TemplateRenderError("subject must be one line of 1-200 characters after rendering")
    content_html = render_part(template["html"], context, html=True, part="html")
    content_text = render_part(template["text"], context, html=False, part="text")
    layout = {**context, "subject": subject}
    try:
        html = _LAYOUT_HTML.render({**layout, "content": Markup(content_html)})  # noqa: S704 - sandboxed, autoescaped
        text = _LAYOUT_TEXT.render({**layout, "content": content_text})
    except TemplateError as exc:
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

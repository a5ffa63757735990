"""The Jinja2 sandbox that renders message templates (luxebrain.campaigns.templates): autoescaped HTML and plain
text environments, every filter, global and string method held to a size budget, each render to a budget of
time, output and executed template lines, and our layout around the tenant's content.

Imported on the first render or validation, not with the templates: the API and the flow functions name the
default templates at import and load Jinja2 only when a request renders one.
"""

from __future__ import annotations

import re
import string
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

from jinja2 import StrictUndefined
from jinja2 import filters as jinja_filters
from jinja2.sandbox import MAX_RANGE, ImmutableSandboxedEnvironment, SecurityError

from luxebrain.campaigns.templates import MAX_TEMPLATE_CHARS, TemplateRenderError

MAX_EXPONENT = 64
MAX_POWER_BITS = 4096  # the largest integer a ** may produce
MAX_REPEATED_LENGTH = 10_000
MAX_STRING_LENGTH = 100_000  # any one string a template builds
MAX_WIDTH = 1_000  # a padding / format width
# The render budget, per part, wherever a template renders (preview, save, sender): time, output, and
# executed template lines (each loop iteration is at least one).
MAX_RENDER_SECONDS = 0.5
MAX_RENDER_STEPS = 100_000
MAX_OUTPUT_CHARS = 200_000
_TEMPLATE_FILENAME = "<template>"
_PERCENT_SPEC = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(\*|\d+)?(?:\.(\*|\d+))?[a-zA-Z%]")
_SPEC_NUMBER = re.compile(r"\d+")


class RenderBudgetExceeded(SecurityError):
    """The template needs more time, output or loop iterations than a message may take."""


@contextmanager
def render_budget() -> Iterator[None]:
    """Count the template lines executed in this thread and check the clock at each; raise beyond the budget.

    The trace function is installed only for template code (Jinja compiles templates to Python code named
    ``<template>``), so our own code and libraries run untraced."""
    deadline = time.monotonic() + MAX_RENDER_SECONDS
    steps = 0

    def in_template(frame: Any, event: str, arg: Any) -> Any:
        nonlocal steps
        if event == "line":
            steps += 1
            if steps > MAX_RENDER_STEPS:
                raise RenderBudgetExceeded(f"the template runs more than {MAX_RENDER_STEPS} steps (loops too long)")
            if time.monotonic() > deadline:
                raise RenderBudgetExceeded(f"the template takes longer than {MAX_RENDER_SECONDS} s to render")
        return in_template

    def on_call(frame: Any, event: str, arg: Any) -> Any:
        # Every Python call while rendering comes here, so a filter or global running long in library code
        # (no template line between) meets the clock at its next call.
        if time.monotonic() > deadline:
            raise RenderBudgetExceeded(f"the template takes longer than {MAX_RENDER_SECONDS} s to render")
        return in_template if frame.f_code.co_filename == _TEMPLATE_FILENAME else None

    previous = sys.gettrace()
    sys.settrace(on_call)
    try:
        yield
    finally:
        sys.settrace(previous)


def _check_length(value: Any, what: str) -> Any:
    if isinstance(value, str) and len(value) > MAX_STRING_LENGTH:
        raise RenderBudgetExceeded(f"{what} builds a string longer than {MAX_STRING_LENGTH} characters")
    return value


def _check_size(value: Any, what: str) -> Any:
    """A string within MAX_STRING_LENGTH, a list / tuple / dict / set within MAX_RANGE items."""
    _check_length(value, what)
    if isinstance(value, list | tuple | dict | set | frozenset) and len(value) > MAX_RANGE:
        raise RenderBudgetExceeded(f"{what} builds a collection of more than {MAX_RANGE} items")
    return value


def _guarded(function: Any, name: str) -> Any:
    """``function`` (a filter or a global) refusing an argument or a result beyond the size bounds: it runs
    in library code, where no template line counts it, and ``|length`` after it would hide its size from the
    output cap (``range(10**5)|list|string`` is 588 000 characters, and each further ``|list|string`` five
    times more)."""

    def guarded(*args: Any, **kwargs: Any) -> Any:
        for value in (*args, *kwargs.values()):
            _check_size(value, name)
        return _check_size(function(*args, **kwargs), name)

    # Jinja reads which context a filter wants (environment, eval context) from this attribute.
    pass_arg = getattr(function, "jinja_pass_arg", None)
    if pass_arg is not None:
        guarded.jinja_pass_arg = pass_arg  # type: ignore[attr-defined]
    guarded.__name__ = getattr(function, "__name__", name)
    return guarded


def _check_width(width: Any, what: str) -> None:
    if isinstance(width, int) and width > MAX_WIDTH:
        raise RenderBudgetExceeded(f"{what} width {width} is larger than {MAX_WIDTH}")


def _check_percent_format(pattern: str) -> None:
    for width, precision in _PERCENT_SPEC.findall(pattern):
        for number in (width, precision):
            if number == "*" or (number and int(number) > MAX_WIDTH):
                raise RenderBudgetExceeded(f"a % format width or precision over {MAX_WIDTH} (or *) is not allowed")


def _check_brace_format(pattern: str) -> None:
    try:
        fields = list(string.Formatter().parse(pattern))
    except ValueError as exc:
        raise RenderBudgetExceeded(f"format string: {exc}") from None
    for _, _, spec, _ in fields:
        if spec and ("{" in spec or any(int(n) > MAX_WIDTH for n in _SPEC_NUMBER.findall(spec))):
            raise RenderBudgetExceeded(f"a format width over {MAX_WIDTH} (or a nested one) is not allowed")


def _replaced_length(text: str, old: str, new: str, count: int = -1) -> int:
    occurrences = text.count(old) if old else len(text) + 1
    if count is not None and count >= 0:
        occurrences = min(occurrences, count)
    return len(text) + occurrences * (len(new) - len(old))


def _check_str_method(method: str, text: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    if method in ("center", "ljust", "rjust", "zfill") and args:
        _check_width(args[0], method)
    elif method == "expandtabs":
        _check_width((args[0] if args else kwargs.get("tabsize", 8)) * text.count("\t"), method)
    elif method == "replace" and len(args) >= 2:
        if _replaced_length(text, str(args[0]), str(args[1]), *(args[2:3] or [-1])) > MAX_STRING_LENGTH:
            raise RenderBudgetExceeded(f"replace builds a string longer than {MAX_STRING_LENGTH} characters")
    elif method == "join" and args:
        items = list(args[0])
        if sum(len(str(item)) for item in items) + len(text) * max(len(items) - 1, 0) > MAX_STRING_LENGTH:
            raise RenderBudgetExceeded(f"join builds a string longer than {MAX_STRING_LENGTH} characters")
    elif method in ("format", "format_map"):
        _check_brace_format(text)


class BoundedSandbox(ImmutableSandboxedEnvironment):
    """The sandbox, with everything that grows a string or a number bounded: ``**`` (by exponent and by the
    size of the result), ``*`` and ``%`` on strings, the padding / replacing / joining / formatting string
    methods and filters. ``{{ 2 ** 10**8 }}``, ``{{ 'x'|center(10**7) }}`` or nested loops in a tenant's
    template would otherwise stall the shared sender, for every message and preview. Intercepting the
    operators also stops Jinja folding such constants at compile time."""

    intercepted_binops = frozenset(["**", "*", "%"])

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "**":
            if isinstance(right, int | float) and abs(right) > MAX_EXPONENT:
                raise SecurityError(f"exponent {right} is larger than {MAX_EXPONENT}")
            if isinstance(left, int) and isinstance(right, int) and abs(left).bit_length() * right > MAX_POWER_BITS:
                raise SecurityError(f"the power would be larger than {MAX_POWER_BITS} bits")
            return left**right
        if operator == "%":
            if isinstance(left, str):
                _check_percent_format(left)
                return _check_length(left % right, "% formatting")
            return left % right
        if isinstance(left, str | list | tuple) or isinstance(right, str | list | tuple):
            count = right if isinstance(left, str | list | tuple) else left
            sequence = left if isinstance(left, str | list | tuple) else right
            if isinstance(count, int) and len(sequence) * count > MAX_REPEATED_LENGTH:
                raise SecurityError(f"repetition longer than {MAX_REPEATED_LENGTH}")
        return left * right

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        # The sandbox hands out str.format wrapped (its own safe formatter); the string is the wrapped one's.
        owner = getattr(getattr(__obj, "__wrapped__", __obj), "__self__", None)
        if isinstance(owner, str):
            _check_str_method(getattr(__obj, "__name__", ""), owner, args, kwargs)
        result = super().call(__context, __obj, *args, **kwargs)
        return _check_length(result, "a method call")


def _bounded_filters() -> dict[str, Any]:
    def center(value: Any, width: int = 80) -> str:
        _check_width(width, "center")
        return jinja_filters.do_center(value, width)

    def replace(eval_ctx: Any, value: str, old: str, new: str, count: int | None = None) -> str:
        if _replaced_length(str(value), str(old), str(new), -1 if count is None else count) > MAX_STRING_LENGTH:
            raise RenderBudgetExceeded(f"replace builds a string longer than {MAX_STRING_LENGTH} characters")
        return jinja_filters.do_replace(eval_ctx, value, old, new, count)

    def format_(value: str, *args: Any, **kwargs: Any) -> str:
        _check_percent_format(str(value))
        return _check_length(jinja_filters.do_format(value, *args, **kwargs), "format")

    def join(eval_ctx: Any, value: Any, d: str = "", attribute: Any = None) -> str:
        return _check_length(jinja_filters.sync_do_join(eval_ctx, value, d, attribute), "join")

    def wordwrap(environment: Any, s: str, width: int = 79, *args: Any, **kwargs: Any) -> str:
        if width < 1:
            raise RenderBudgetExceeded("wordwrap width must be at least 1")
        return _check_length(jinja_filters.do_wordwrap(environment, s, width, *args, **kwargs), "wordwrap")

    def indent(s: str, width: int | str = 4, *args: Any, **kwargs: Any) -> str:
        _check_width(width if isinstance(width, int) else len(width), "indent")
        return _check_length(jinja_filters.do_indent(s, width, *args, **kwargs), "indent")

    replace.jinja_pass_arg = jinja_filters.do_replace.jinja_pass_arg  # type: ignore[attr-defined]
    join.jinja_pass_arg = jinja_filters.sync_do_join.jinja_pass_arg  # type: ignore[attr-defined]
    wordwrap.jinja_pass_arg = jinja_filters.do_wordwrap.jinja_pass_arg  # type: ignore[attr-defined]
    return {
        "center": center,
        "replace": replace,
        "format": format_,
        "join": join,
        "wordwrap": wordwrap,
        "indent": indent,
    }


# Autoescaped HTML and plain text are two environments: escaping a text part would show "&amp;" to readers.
_html_env = BoundedSandbox(autoescape=True, undefined=StrictUndefined, trim_blocks=True)
_text_env = BoundedSandbox(autoescape=False, undefined=StrictUndefined, trim_blocks=True)
# Globals a template does not need: lipsum(n=10**5) alone takes minutes.
_UNUSED_GLOBALS = ("lipsum", "cycler", "joiner")
for _env in (_html_env, _text_env):
    _env.filters["money"] = lambda value, currency="EUR": f"{float(value):,.2f} {currency}"
    _env.filters.update(_bounded_filters())
    for _name in _UNUSED_GLOBALS:
        _env.globals.pop(_name, None)
    # Wrapped last, so every filter and global, ours and Jinja's, goes through the same size guard.
    _env.filters = {name: _guarded(function, f"the {name} filter") for name, function in _env.filters.items()}
    _env.globals.update({name: _guarded(value, name) for name, value in _env.globals.items() if callable(value)})


@lru_cache(maxsize=512)
def compile_source(source: str, html: bool) -> Any:
    if len(source) > MAX_TEMPLATE_CHARS:
        raise TemplateRenderError(f"template is longer than {MAX_TEMPLATE_CHARS} characters")
    return (_html_env if html else _text_env).from_string(source)


def render_bounded(template: Any, context: dict[str, Any]) -> str:
    """Render within the budget: output streamed and capped, template lines counted, the clock checked."""
    chunks: list[str] = []
    size = 0
    with render_budget():
        for chunk in template.generate(context):
            size += len(chunk)
            if size > MAX_OUTPUT_CHARS:
                raise RenderBudgetExceeded(f"the rendered text is longer than {MAX_OUTPUT_CHARS} characters")
            chunks.append(chunk)
    return "".join(chunks)


# Our layout (trusted, not tenant-editable): branding, the tenant's content, products, the footer.
LAYOUT_HTML = _html_env.from_string(
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
LAYOUT_TEXT = _text_env.from_string(
    """{{ content }}
{% if products %}
{% for product in products %}- {{ product.name }} ({{ product.price | money(currency) }}): {{ product.url }}
{% endfor %}{% endif %}
--
{{ store.store_name }}{% if store.footer_address %}, {{ store.footer_address }}{% endif +%}
Unsubscribe: {{ unsubscribe_url }}
"""
)

"""Text that reaches names, headers and logs: control characters (CR, LF, NUL and the rest of C0 / C1) and
Unicode direction overrides (which make a name read differently from what it is) are refused in names and
stripped from anything that ends up in a header."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Annotated

from pydantic import AfterValidator

_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]")


def refuse_control_characters(value: str) -> str:
    """A one-line name: refused (ValueError, a 422 at the edge) if it holds control or bidi characters."""
    if _UNSAFE.search(value):
        raise ValueError("must not contain control characters (CR, LF, NUL...) or text-direction overrides")
    return value


def header_safe(value: str) -> str:
    """The value with every control or bidi character replaced by a space (for headers such as a subject)."""
    return " ".join(_UNSAFE.sub(" ", value).split())


PlainLine = Annotated[str, AfterValidator(refuse_control_characters)]


# ----------------------------------------------------------------------------- dates
EARLIEST_PLAUSIBLE = datetime(2000, 1, 1, tzinfo=UTC)


def plausible_moment(value: datetime, *, future_days: int = 1) -> datetime:
    """A moment between 2000 and ``future_days`` from now, with a time zone (year 1 or 9999 is a typo or a
    probe, and would sort before or after everything real)."""
    if value.tzinfo is None:
        raise ValueError("needs a time zone (e.g. 2026-05-01T09:00:00Z)")
    if not EARLIEST_PLAUSIBLE <= value <= datetime.now(UTC) + timedelta(days=future_days):
        raise ValueError(f"must be between 2000-01-01 and {future_days} day(s) from now")
    return value

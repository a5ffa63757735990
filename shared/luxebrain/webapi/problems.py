"""RFC 9457 problem details: every error the API returns, mapped from luxebrain.errors in one place."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

from pydantic import BaseModel, ConfigDict

from luxebrain.errors import ConfigurationError, LuxeBrainError

PROBLEM_CONTENT_TYPE = "application/problem+json"
PROBLEM_TYPE_BASE = "https://docs.luxebrain.example/problems/"


@dataclass(frozen=True)
class Problem:
    status: int
    title: str
    detail: str
    type: str
    extensions: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)

    def body(self, *, instance: str, request_id: str) -> dict[str, Any]:
        return {
            "type": self.type,
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
            "instance": instance,
            "request_id": request_id,
            **self.extensions,
        }


def _slug(name: str) -> str:
    name = name.removesuffix("Error")
    return re.sub(r"(?<!^)(?=[A-Z])", "-", name).lower() or "error"


def _title(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def problem_for_error(exc: LuxeBrainError) -> Problem:
    """The problem of a domain error: its status, its (user-safe) message, and the limit it names if any."""
    status = int(getattr(exc, "status_code", 500))
    if isinstance(exc, ConfigurationError) or status == 500:
        # Configuration and internal failures are the operator's concern, not the caller's; an upstream
        # failure (502: the shop's WooCommerce refused a write) is the merchant's to know and fix.
        return internal_problem()
    extensions: dict[str, Any] = {}
    headers: dict[str, str] = {}
    for attribute in ("limit", "allowed", "plan", "code"):
        value = getattr(exc, attribute, None)
        if value is not None:
            extensions[attribute] = value
    retry_after = getattr(exc, "retry_after", None)
    if retry_after is not None:
        extensions["retry_after"] = int(retry_after)
        headers["Retry-After"] = str(int(retry_after))
    if status == 401:
        headers["WWW-Authenticate"] = 'Bearer realm="luxebrain"'
    return Problem(
        status=status,
        title=_title(status),
        detail=str(exc) or _title(status),
        type=PROBLEM_TYPE_BASE + _slug(type(exc).__name__),
        extensions=extensions,
        headers=headers,
    )


def problem_for_status(status: int, detail: str | None = None) -> Problem:
    """A problem for a framework-level status (unknown route, wrong method, body too large)."""
    slugs = {404: "not-found", 405: "method-not-allowed", 413: "payload-too-large", 415: "unsupported-media-type"}
    return Problem(
        status=status,
        title=_title(status),
        detail=detail or _title(status),
        type=PROBLEM_TYPE_BASE + slugs.get(status, f"http-{status}"),
    )


def validation_problem(errors: list[dict[str, Any]]) -> Problem:
    """422 with each invalid field named; the rejected input is never echoed back (it may be hostile)."""
    fields = [
        {
            "location": ".".join(str(part) for part in error.get("loc", ())),
            "message": str(error.get("msg", "invalid")),
            "type": str(error.get("type", "invalid")),
        }
        for error in errors[:50]
    ]
    names = ", ".join(field["location"] for field in fields[:5])
    return Problem(
        status=422,
        title="Unprocessable Content",
        detail=f"the request is not valid: {names}" if names else "the request is not valid",
        type=PROBLEM_TYPE_BASE + "validation",
        extensions={"errors": fields},
    )


def internal_problem() -> Problem:
    return Problem(
        status=500,
        title="Internal Server Error",
        detail="something went wrong on our side; quote the request id if you contact support",
        type=PROBLEM_TYPE_BASE + "internal",
    )


# ----------------------------------------------------------------------------- the documented shape


class FieldProblem(BaseModel):
    location: str
    message: str
    type: str


class ProblemDetails(BaseModel):
    """RFC 9457 problem details, as every error of the API is answered (``application/problem+json``)."""

    model_config = ConfigDict(extra="allow")

    type: str
    title: str
    status: int
    detail: str
    instance: str
    request_id: str
    errors: list[FieldProblem] | None = None
    limit: str | None = None
    allowed: int | None = None
    plan: str | None = None
    retry_after: int | None = None
    code: str | None = None  # a stable reason (e.g. store_unreachable), never the upstream's own text


_DESCRIPTIONS = {
    400: "Bad request (CORS preflight refused, malformed request)",
    401: "Not signed in, or the token is expired, revoked or not one of this service",
    402: "A quota of the plan is used up (``limit`` names it)",
    403: "Signed in, but the role, the plan or the tenant's status does not allow it",
    404: "Not found (also for another tenant's ids)",
    409: "Conflict with the current state (replaced model, moved price, already done)",
    413: "Request body too large",
    422: "Invalid input (``errors`` names each field)",
    429: "Rate limited (``Retry-After`` says when to retry)",
    500: "Internal error (quote ``request_id``)",
    502: "The shop's WooCommerce refused or failed",
}
PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {
        "description": description,
        "content": {PROBLEM_CONTENT_TYPE: {"schema": {"$ref": "#/components/schemas/ProblemDetails"}}},
    }
    for status, description in _DESCRIPTIONS.items()
}

"""Write an approved price suggestion to WooCommerce, and roll it back.

The client is anything with the ``woocommerce.API`` methods ``get(endpoint)`` and ``put(endpoint, data)``
(returning a ``requests.Response``-like object with ``status_code`` and ``json()``, or a plain dict), so
tests pass a fake. Nothing is stored here: :func:`apply_suggestion` returns a :class:`PriceChangeRecord`
with who approved the change and every price field it overwrote, and the caller stores it;
:func:`rollback_price_change` takes that record and puts the previous prices back.

Safety: a change is refused when nobody approved it (unless its category has auto-apply on), when the store's
price moved since the suggestion was made, and a rollback is refused when someone changed the price after us.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from luxebrain.ml.pricing.rules import currency_minor_units
from luxebrain.ml.pricing.suggestions import PriceSuggestion

PRICE_FIELDS = ("regular_price", "sale_price", "date_on_sale_from_gmt", "date_on_sale_to_gmt")


class WooCommerceClient(Protocol):
    def get(self, endpoint: str, **kwargs: Any) -> Any: ...

    def put(self, endpoint: str, data: Any, **kwargs: Any) -> Any: ...


class PriceApplyError(ValueError):
    """A price change cannot be applied or rolled back (the message says why and what to do)."""


class ApprovalRequiredError(PriceApplyError):
    """Nobody approved the change and its category does not allow auto-apply."""


class StalePriceError(PriceApplyError):
    """The store's price is no longer the one the suggestion (or the change being rolled back) started from."""


class StoreWriteError(PriceApplyError):
    """WooCommerce refused the request (status code and body in the message)."""


@dataclass(frozen=True)
class PriceChangeRecord:
    """What was changed, by whose approval, and what it replaced (enough to roll it back)."""

    product_id: str
    variation_id: str | None
    endpoint: str
    action: str  # "apply" or "rollback"
    kind: str  # "regular" or "sale" (for a rollback: the kind of change undone)
    approved_by: str
    applied_at: str  # ISO 8601, UTC
    previous: dict[str, str]  # the price fields before the change, as WooCommerce returned them
    written: dict[str, str]  # the price fields sent
    suggested_price: float
    currency: str
    reasons: list[str]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> PriceChangeRecord:
        try:
            return cls(**{name: values[name] for name in cls.__dataclass_fields__})
        except KeyError as exc:
            raise PriceApplyError(f"price change record is missing {exc.args[0]!r}") from exc


def product_endpoint(product_id: str, variation_id: str | None = None) -> str:
    """``products/{id}`` or ``products/{id}/variations/{variation id}``."""
    if not str(product_id).isdigit() or (variation_id is not None and not str(variation_id).isdigit()):
        raise PriceApplyError(f"WooCommerce ids are numeric; got product {product_id!r}, variation {variation_id!r}")
    base = f"products/{product_id}"
    return base if variation_id is None else f"{base}/variations/{variation_id}"


def apply_suggestion(
    client: WooCommerceClient,
    suggestion: PriceSuggestion,
    *,
    approved_by: str | None,
    now: datetime,
) -> PriceChangeRecord:
    """PUT the suggested price (regular, or a dated sale) after checking approval and the current price.

    ``approved_by`` is the approving user (None only when the suggestion's category has auto-apply on; the
    record then says "auto-apply"). Raises :class:`StalePriceError` when the store's active price is no
    longer ``suggestion.current_price``.
    """
    if not approved_by:
        if not suggestion.auto_apply:
            raise ApprovalRequiredError(
                f"product {suggestion.product_id}: price changes need an approver (auto-apply is off)"
            )
        approved_by = "auto-apply"
    if not (math.isfinite(suggestion.suggested_price) and suggestion.suggested_price > 0):
        raise PriceApplyError(f"product {suggestion.product_id}: suggested price {suggestion.suggested_price!r}")
    endpoint = product_endpoint(suggestion.product_id, suggestion.variation_id)
    current = _read(client, endpoint)
    decimals = currency_minor_units(suggestion.currency)
    active = _price(current.get("price"))
    if active is None or abs(active - suggestion.current_price) > 0.5 * 10**-decimals:
        raise StalePriceError(
            f"{endpoint}: the store's price is now {current.get('price')!r}, the suggestion was made at "
            f"{suggestion.current_price:.{decimals}f}; ask for a new suggestion"
        )
    new_price = f"{suggestion.suggested_price:.{decimals}f}"
    if suggestion.kind == "sale":
        weeks = suggestion.sale_weeks or 1
        written = {
            "sale_price": new_price,
            "date_on_sale_from_gmt": _iso(now),
            "date_on_sale_to_gmt": _iso(now + timedelta(weeks=weeks)),
        }
    else:
        written = {"regular_price": new_price, "sale_price": "", "date_on_sale_from_gmt": "", "date_on_sale_to_gmt": ""}
    _write(client, endpoint, written)
    return PriceChangeRecord(
        product_id=suggestion.product_id,
        variation_id=suggestion.variation_id,
        endpoint=endpoint,
        action="apply",
        kind=suggestion.kind,
        approved_by=approved_by,
        applied_at=_iso(now),
        previous={name: _text(current.get(name)) for name in PRICE_FIELDS},
        written=written,
        suggested_price=suggestion.suggested_price,
        currency=suggestion.currency,
        reasons=list(suggestion.reasons),
    )


def rollback_price_change(
    client: WooCommerceClient,
    record: PriceChangeRecord,
    *,
    rolled_back_by: str,
    now: datetime,
    force: bool = False,
) -> PriceChangeRecord:
    """Restore the price fields ``record`` overwrote. Refused (unless ``force``) when they changed since."""
    if record.action != "apply":
        raise PriceApplyError(f"{record.endpoint}: only an applied change can be rolled back (got {record.action!r})")
    if not rolled_back_by:
        raise ApprovalRequiredError(f"{record.endpoint}: a rollback needs the name of who asked for it")
    current = _read(client, record.endpoint)
    if not force:
        moved = [
            name for name, value in record.written.items() if not _same_field(name, _text(current.get(name)), value)
        ]
        if moved:
            raise StalePriceError(
                f"{record.endpoint}: {', '.join(moved)} changed after our update; rolling back would undo "
                "someone else's change (pass force=True to do it anyway)"
            )
    _write(client, record.endpoint, dict(record.previous))
    return PriceChangeRecord(
        product_id=record.product_id,
        variation_id=record.variation_id,
        endpoint=record.endpoint,
        action="rollback",
        kind=record.kind,
        approved_by=rolled_back_by,
        applied_at=_iso(now),
        previous={name: _text(current.get(name)) for name in PRICE_FIELDS},
        written=dict(record.previous),
        suggested_price=record.suggested_price,
        currency=record.currency,
        reasons=[f"rollback of the change applied at {record.applied_at} (approved by {record.approved_by})"],
    )


def _read(client: WooCommerceClient, endpoint: str) -> dict[str, Any]:
    body = _body(client.get(endpoint), endpoint, "GET")
    if not isinstance(body, dict):
        raise StoreWriteError(f"GET {endpoint}: expected a JSON object, got {type(body).__name__}")
    return body


def _write(client: WooCommerceClient, endpoint: str, data: dict[str, str]) -> dict[str, Any]:
    body = _body(client.put(endpoint, data), endpoint, "PUT")
    return body if isinstance(body, dict) else {}


def _body(response: Any, endpoint: str, method: str) -> Any:
    if isinstance(response, dict):
        return response
    status = getattr(response, "status_code", 200)
    try:
        body = response.json()
    except ValueError as exc:  # requests raises a ValueError subclass on a non-JSON body
        raise StoreWriteError(f"{method} {endpoint}: status {status}, body is not JSON") from exc
    if not 200 <= int(status) < 300:
        message = body.get("message") if isinstance(body, dict) else body
        raise StoreWriteError(f"{method} {endpoint}: status {status}: {message}")
    return body


def _same_field(name: str, store_value: str, written_value: str) -> bool:
    if name in ("regular_price", "sale_price"):
        a, b = _price(store_value), _price(written_value)
        return (a is None and b is None) or (a is not None and b is not None and abs(a - b) < 1e-9)
    return store_value.rstrip("Z")[:19] == written_value.rstrip("Z")[:19]  # WooCommerce drops the zone


def _price(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _iso(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise PriceApplyError("timestamps must be timezone-aware (UTC)")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")  # the *_gmt fields take no zone suffix

"""Price suggestions and the merchant's decisions on them: approve (apply to WooCommerce), reject, roll back.

Suggestions are computed on request from the tenant's current pricing model, its catalogue in DynamoDB and
its guardrails (tenant settings ``pricing_guardrails``); a suggestion is named by product (and variation)
and the model version it came from, so approving a suggestion that a newer model has replaced is a 409
rather than a surprise. Every decision is stored with the change record that can undo it. A switchback test is
recorded the same way: each of its legs is a decision on a suggestion of kind "test" carrying the test, which
starts when its first leg is applied and stops for good when a leg is rejected or rolled back.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, NamedTuple

import requests

from luxebrain.adapters import KeyVault
from luxebrain.errors import ConflictError, ForbiddenError, InvalidInputError, LuxeBrainError, NotFoundError
from luxebrain.ml.kinds import BASELINE, MODEL
from luxebrain.ml.pricing.apply import (
    ApprovalRequiredError,
    PriceApplyError,
    PriceChangeRecord,
    StalePriceError,
    apply_suggestion,
    rollback_price_change,
)
from luxebrain.ml.pricing.rules import GuardrailConfig
from luxebrain.ml.pricing.suggestions import NoSuggestion, PriceSuggestion, SwitchbackTest
from luxebrain.observability import logger
from luxebrain.storage.catalogue import CatalogueRepository
from luxebrain.storage.pages import Page
from luxebrain.storage.pricing import PriceDecision, PriceDecisionRepository
from luxebrain.storage.tenants import Store, TenantRepository
from luxebrain.woocommerce.outbound import StoreApi

if TYPE_CHECKING:
    from luxebrain.ml.pricing.serving import PricingModel
    from luxebrain.serving.loader import ModelCache


class StoreWriteFailedError(LuxeBrainError):
    """The store did not take the price (or could not be reached). The caller gets a stable code, never the
    upstream's body or error text (the log has the detail)."""

    status_code = 502

    def __init__(self, code: str) -> None:
        self.code = code
        messages = {
            "store_write_failed": "the store refused the price change; check the product in WooCommerce",
            "store_unreachable": "the store could not be reached; try again later",
            "store_address_refused": "the store's address is not one the platform connects to",
        }
        super().__init__(messages.get(code, "the store request failed"))


def _number(value: Any) -> float | None:
    return None if value is None else float(value)


def product_inputs(tenant_id: str, catalogue: CatalogueRepository) -> list[dict[str, Any]]:
    """The catalogue in the shape ``suggest_prices`` reads (variations grouped under their product)."""
    products: dict[str, dict[str, Any]] = {}
    variations: dict[str, list[dict[str, Any]]] = {}
    for item in catalogue.iter_products(tenant_id):
        if item.deleted or item.status != "publish":
            continue
        row = {
            "price": _number(item.price),
            "regular_price": _number(item.regular_price),
            "cost": _number(item.cost),
            "stock_quantity": _number(item.stock_quantity),
        }
        if item.product_type == "variation" and item.parent_id:
            variations.setdefault(item.parent_id, []).append({"variation_id": item.product_id, **row})
            continue
        products[item.product_id] = {
            "product_id": item.product_id,
            "type": item.product_type,
            "category": item.categories[0] if item.categories else None,
            "tags": list(item.tags or []),
            **row,
        }
    for parent_id, rows in variations.items():
        if parent_id in products:
            products[parent_id]["variations"] = rows
    return list(products.values())


def _key(decision: PriceDecision) -> str:
    return decision.product_id if not decision.variation_id else f"{decision.product_id}:{decision.variation_id}"


def last_changes(decisions: Iterable[PriceDecision]) -> dict[str, datetime]:
    """When each product's price was last changed by an approved suggestion or a rollback."""
    changes: dict[str, datetime] = {}
    for decision in decisions:
        if decision.status in ("applied", "rolled_back"):
            key = _key(decision)
            changes[key] = max(changes.get(key, decision.decided_at), decision.decided_at)
    return changes


def switchback_tests(decisions: Iterable[PriceDecision]) -> dict[str, SwitchbackTest]:
    """Each product's switchback test, from its decisions on test legs (oldest first): it starts when its first
    leg is applied, and is declined (never proposed again, its remaining legs not suggested) when a leg is
    rejected or rolled back."""
    tests: dict[str, SwitchbackTest] = {}
    for decision in decisions:
        proposed = decision.suggestion.get("test")
        if decision.suggestion.get("kind") != "test" or not isinstance(proposed, dict):
            continue
        key = _key(decision)
        test = tests.get(key)
        if test is None:
            test = SwitchbackTest.from_dict(proposed)
            if decision.status == "applied":
                test = replace(test, started_at=decision.decided_at)
        if decision.status in ("rejected", "rolled_back"):
            test = replace(test, declined=True)
        tests[key] = test
    return tests


def guardrails_of(tenant_id: str, tenants: TenantRepository) -> GuardrailConfig:
    settings = tenants.get_tenant(tenant_id).settings or {}
    return GuardrailConfig.model_validate(settings.get("pricing_guardrails") or {})


class CurrentSuggestions(NamedTuple):
    version: str
    answers: list[PriceSuggestion | NoSuggestion]
    # "model", or "baseline": the version's demand model was no better than ignoring price on its hold-out,
    # so every price is kept (each answer's code ``keep_price_baseline``)
    serves: str


def current_suggestions(
    tenant_id: str,
    now: datetime | None = None,
    *,
    models: ModelCache,
    catalogue: CatalogueRepository,
    decisions: PriceDecisionRepository,
    tenants: TenantRepository,
) -> CurrentSuggestions:
    """The current pricing model's version (from ``models``), one answer per product of ``catalogue``
    (suggestion or reason for none), within the tenant's guardrails and after its past ``decisions``, and
    what the version serves."""
    from luxebrain.ml.pricing.serving import suggest_prices  # numpy: loaded with the model it serves

    model: PricingModel
    model, version = models.current_serving(tenant_id, "pricing")
    past = list(decisions.iter_decisions(tenant_id))
    answers = suggest_prices(
        model,
        guardrails_of(tenant_id, tenants),
        products=product_inputs(tenant_id, catalogue),
        last_changes=last_changes(past),
        tests=switchback_tests(past),
        now=now or datetime.now(UTC),
    )
    return CurrentSuggestions(version, answers, BASELINE if model.serves_baseline else MODEL)


def find_suggestion(
    tenant_id: str,
    product_id: str,
    variation_id: str | None,
    model_version: str,
    now: datetime | None = None,
    *,
    models: ModelCache,
    catalogue: CatalogueRepository,
    decisions: PriceDecisionRepository,
    tenants: TenantRepository,
) -> PriceSuggestion:
    version, answers, _ = current_suggestions(
        tenant_id, now, models=models, catalogue=catalogue, decisions=decisions, tenants=tenants
    )
    if version != model_version:
        raise ConflictError(f"the pricing model is now version {version}; reload the suggestions and decide again")
    for answer in answers:
        if answer.product_id == product_id and answer.variation_id == variation_id:
            if isinstance(answer, NoSuggestion):
                raise ConflictError(f"product {product_id} has no price suggestion now: {answer.reason}")
            return answer
    raise NotFoundError(f"product {product_id} has no price suggestion")


# (tenant_id, product_id) -> the WooCommerce client of the store the product belongs to.
StoreClientFactory = Callable[[str, str], Any]


def store_of_product(
    tenant_id: str, product_id: str, catalogue: CatalogueRepository, tenants: TenantRepository
) -> Store:
    """The store of ``tenants`` a product belongs to (recorded by ingest in ``catalogue``). A product recorded
    before stores were tracked per product belongs to the tenant's only store; with several stores that is
    ambiguous, and refused."""
    stores = {store.store_id: store for store in tenants.list_stores(tenant_id) if store.status == "active"}
    if not stores:
        raise ConflictError("connect a WooCommerce store first (POST /stores)")
    try:
        product = catalogue.get_product(tenant_id, product_id)
        store_id = product.store_id
    except NotFoundError:
        store_id = None
    if store_id is not None:
        if store_id not in stores:
            raise ConflictError("the product's store is not connected (any more)")
        return stores[store_id]
    if len(stores) > 1:
        raise ConflictError("the product's store is not known yet; wait for the next sync of its store")
    return next(iter(stores.values()))


def store_clients(vault: KeyVault, catalogue: CatalogueRepository, tenants: TenantRepository) -> StoreClientFactory:
    """The REST client of the store a product belongs to (as ``catalogue`` records it, the store as ``tenants``
    does), its keys decrypted by ``vault``, through the vetted outbound session."""

    def client_of_product(tenant_id: str, product_id: str) -> Any:
        store = store_of_product(tenant_id, product_id, catalogue, tenants)
        secrets_ = tenants.get_store_secrets(tenant_id, store.store_id, vault=vault)
        return StoreApi(
            store.url,
            secrets_.consumer_key.get_secret_value(),
            secrets_.consumer_secret.get_secret_value(),
            timeout=30,
        )

    return client_of_product


def _translate(exc: PriceApplyError) -> LuxeBrainError:
    if isinstance(exc, StalePriceError):
        return ConflictError(str(exc))
    if isinstance(exc, ApprovalRequiredError):
        return ForbiddenError(str(exc))
    if type(exc).__name__ == "StoreWriteError":
        logger.warning("store write failed", extra={"detail": str(exc)[:300]})
        return StoreWriteFailedError("store_write_failed")
    return InvalidInputError(str(exc))


def _unreachable(exc: requests.RequestException) -> StoreWriteFailedError:
    refused = "refused: " in str(exc)
    logger.warning("store request failed", extra={"error": type(exc).__name__, "refused": refused})
    return StoreWriteFailedError("store_address_refused" if refused else "store_unreachable")


def _new_decision_id(now: datetime) -> str:
    return now.strftime("%Y%m%dT%H%M%S%f") + "-" + secrets.token_hex(3)


def _save(
    tenant_id: str,
    decisions: PriceDecisionRepository,
    *,
    now: datetime,
    suggestion: PriceSuggestion,
    status: str,
    model_version: str,
    decided_by: str,
    reason: str | None = None,
    change_record: PriceChangeRecord | None = None,
) -> PriceDecision:
    return decisions.record_decision(
        tenant_id,
        _new_decision_id(now),
        product_id=suggestion.product_id,
        variation_id=suggestion.variation_id,
        status=status,
        model_version=model_version,
        decided_by=decided_by,
        decided_at=now,
        reason=reason,
        suggestion=suggestion.to_dict(),
        change_record=change_record.to_dict() if change_record else None,
    )


def approve(
    tenant_id: str,
    product_id: str,
    variation_id: str | None,
    *,
    model_version: str,
    approver: str,
    clients: StoreClientFactory,
    models: ModelCache,
    catalogue: CatalogueRepository,
    decisions: PriceDecisionRepository,
    tenants: TenantRepository,
) -> PriceDecision:
    """Apply the suggestion to the store through ``clients`` (refused if the store's price moved since) and
    record it."""
    now = datetime.now(UTC)
    suggestion = find_suggestion(
        tenant_id,
        product_id,
        variation_id,
        model_version,
        now,
        models=models,
        catalogue=catalogue,
        decisions=decisions,
        tenants=tenants,
    )
    try:
        client = clients(tenant_id, product_id)
        record = apply_suggestion(client, suggestion, approved_by=approver, now=now)
    except PriceApplyError as exc:
        raise _translate(exc) from None
    except requests.RequestException as exc:
        raise _unreachable(exc) from None
    return _save(
        tenant_id,
        decisions,
        now=now,
        suggestion=suggestion,
        status="applied",
        model_version=model_version,
        decided_by=approver,
        change_record=record,
    )


def reject(
    tenant_id: str,
    product_id: str,
    variation_id: str | None,
    *,
    model_version: str,
    by: str,
    reason: str | None,
    models: ModelCache,
    catalogue: CatalogueRepository,
    decisions: PriceDecisionRepository,
    tenants: TenantRepository,
) -> PriceDecision:
    now = datetime.now(UTC)
    suggestion = find_suggestion(
        tenant_id,
        product_id,
        variation_id,
        model_version,
        now,
        models=models,
        catalogue=catalogue,
        decisions=decisions,
        tenants=tenants,
    )
    return _save(
        tenant_id,
        decisions,
        now=now,
        suggestion=suggestion,
        status="rejected",
        model_version=model_version,
        decided_by=by,
        reason=reason,
    )


def get_decision(tenant_id: str, decision_id: str, decisions: PriceDecisionRepository) -> PriceDecision:
    return decisions.get_decision(tenant_id, decision_id)


def rollback(
    tenant_id: str,
    decision_id: str,
    *,
    by: str,
    clients: StoreClientFactory,
    decisions: PriceDecisionRepository,
    force: bool = False,
) -> PriceDecision:
    """Put back, through ``clients``, the prices an applied decision overwrote (refused if someone changed them
    since)."""
    decision = decisions.get_decision(tenant_id, decision_id)
    if decision.status != "applied" or not decision.change_record:
        raise ConflictError(f"only an applied price change can be rolled back (this one is {decision.status})")
    record = PriceChangeRecord.from_dict(decision.change_record)
    now = datetime.now(UTC)
    try:
        client = clients(tenant_id, str(decision.product_id))
        undone = rollback_price_change(client, record, rolled_back_by=by, now=now, force=force)
    except PriceApplyError as exc:
        raise _translate(exc) from None
    except requests.RequestException as exc:
        raise _unreachable(exc) from None
    return decisions.mark_rolled_back(tenant_id, decision_id, undone.to_dict())


def list_decisions(
    tenant_id: str, decisions: PriceDecisionRepository, *, limit: int, cursor: str | None = None
) -> Page[PriceDecision]:
    """One page of the tenant's decisions, newest first."""
    return decisions.decision_page(tenant_id, limit=limit, cursor=cursor)

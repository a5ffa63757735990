"""The pricing repository: the merchant's decisions on price suggestions (approved and applied, rejected, rolled
back), each with the change record that can undo it. Keys come from ``luxebrain.storage.items.pricing``."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from pynamodb.exceptions import DoesNotExist

from luxebrain.errors import ConflictError, NotFoundError
from luxebrain.storage.items.base import save_if, update_if
from luxebrain.storage.items.pricing import PriceDecisionItem, key_price_decision
from luxebrain.storage.pages import Page, query_page
from luxebrain.tenancy import tenant_partition


@dataclass(frozen=True)
class PriceDecision:
    tenant_id: str
    decision_id: str  # starts with the decision time, so the partition lists decisions in time order
    product_id: str
    variation_id: str | None
    status: str  # applied | rejected | rolled_back
    model_version: str
    decided_by: str
    decided_at: datetime
    reason: str | None
    suggestion: dict[str, Any] = field(default_factory=dict)
    change_record: dict[str, Any] | None = None
    rollback_record: dict[str, Any] | None = None


def _decision(item: PriceDecisionItem) -> PriceDecision:
    return PriceDecision(
        tenant_id=item.tenant_id,
        decision_id=item.decision_id,
        product_id=item.product_id,
        variation_id=item.variation_id,
        status=item.status,
        model_version=item.model_version,
        decided_by=item.decided_by,
        decided_at=item.decided_at,
        reason=item.reason,
        suggestion=dict(item.suggestion or {}),
        change_record=item.change_record,
        rollback_record=item.rollback_record,
    )


def _partition(tenant_id: str) -> str:
    return tenant_partition(tenant_id, "PRICE_DECISION")


def record_decision(
    tenant_id: str,
    decision_id: str,
    *,
    product_id: str,
    variation_id: str | None,
    status: str,
    model_version: str,
    decided_by: str,
    decided_at: datetime,
    reason: str | None,
    suggestion: dict[str, Any],
    change_record: dict[str, Any] | None,
) -> PriceDecision:
    """Record a decision under a new id; ConflictError if the tenant has one of that id already."""
    item = PriceDecisionItem(
        *key_price_decision(tenant_id, decision_id),
        entity=PriceDecisionItem.ENTITY,
        tenant_id=tenant_id,
        decision_id=decision_id,
        product_id=product_id,
        variation_id=variation_id,
        status=status,
        model_version=model_version,
        decided_by=decided_by,
        decided_at=decided_at,
        reason=reason,
        suggestion=suggestion,
        change_record=change_record,
    )
    if not save_if(item, PriceDecisionItem.pk.does_not_exist()):
        raise ConflictError(f"price decision {decision_id} exists")
    return _decision(item)


def get_decision(tenant_id: str, decision_id: str) -> PriceDecision:
    try:
        return _decision(PriceDecisionItem.get(*key_price_decision(tenant_id, decision_id)))
    except DoesNotExist:
        raise NotFoundError(f"price decision {decision_id} not found") from None


def mark_rolled_back(tenant_id: str, decision_id: str, rollback_record: dict[str, Any]) -> PriceDecision:
    """Record the rollback of an applied decision; a decision no longer applied (rolled back meanwhile) is a
    ConflictError."""
    item = PriceDecisionItem(*key_price_decision(tenant_id, decision_id))
    actions = [PriceDecisionItem.status.set("rolled_back"), PriceDecisionItem.rollback_record.set(rollback_record)]
    if not update_if(item, actions, PriceDecisionItem.status == "applied"):
        raise ConflictError("this price change is no longer applied (rolled back meanwhile)")
    return _decision(item)


def iter_decisions(tenant_id: str) -> Iterator[PriceDecision]:
    """Every decision of the tenant, oldest first."""
    return (_decision(item) for item in PriceDecisionItem.query(_partition(tenant_id)))


def decision_page(tenant_id: str, *, limit: int, cursor: str | None = None) -> Page[PriceDecision]:
    """One page of the tenant's decisions, newest first."""
    return query_page(
        PriceDecisionItem.query, _partition(tenant_id), _decision, limit=limit, cursor=cursor, newest_first=True
    )


# ----------------------------------------------------------------------------- the repository a caller is given
class PriceDecisionRepository(Protocol):
    """The merchant's price decisions: what a training run reads (its price history counts the applied ones) and
    what the decisions on suggestions record, read back and roll back (``DynamoPriceDecisionRepository`` in the
    product, an in-memory one in the unit tier)."""

    def iter_decisions(self, tenant_id: str) -> Iterator[PriceDecision]: ...

    def record_decision(
        self,
        tenant_id: str,
        decision_id: str,
        *,
        product_id: str,
        variation_id: str | None,
        status: str,
        model_version: str,
        decided_by: str,
        decided_at: datetime,
        reason: str | None,
        suggestion: dict[str, Any],
        change_record: dict[str, Any] | None,
    ) -> PriceDecision: ...

    def get_decision(self, tenant_id: str, decision_id: str) -> PriceDecision: ...

    def mark_rolled_back(self, tenant_id: str, decision_id: str, rollback_record: dict[str, Any]) -> PriceDecision: ...

    def decision_page(self, tenant_id: str, *, limit: int, cursor: str | None = None) -> Page[PriceDecision]: ...


class DynamoPriceDecisionRepository:
    """The pricing repository on the table: this module's reads and writes."""

    iter_decisions = staticmethod(iter_decisions)
    record_decision = staticmethod(record_decision)
    get_decision = staticmethod(get_decision)
    mark_rolled_back = staticmethod(mark_rolled_back)
    decision_page = staticmethod(decision_page)


def price_decision_repository() -> DynamoPriceDecisionRepository:
    """The product's price decision repository (stateless: the table is bound once per execution environment)."""
    return _REPOSITORY


_REPOSITORY = DynamoPriceDecisionRepository()

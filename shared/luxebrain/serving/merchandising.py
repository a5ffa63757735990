"""The merchant's recommendation rules as serving applies them: checked against the catalogue when saved,
cached per tenant for a minute when served (the container that saved them serves them at once)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from luxebrain.auth.members import record_audit
from luxebrain.caching import ExpiringCache
from luxebrain.errors import InvalidInputError
from luxebrain.storage.catalogue import CatalogueRepository
from luxebrain.storage.merchandising import MerchandisingRepository, MerchandisingRules
from luxebrain.storage.tenants import AuditTrail

__all__ = ["MAX_BLOCKED", "MAX_BOOSTED", "MAX_PINNED", "MerchandisingRules", "replace_rules", "rules_of"]

MAX_PINNED = 20
MAX_BOOSTED = 200
MAX_BLOCKED = 500
RULES_SECONDS = 60.0

_rules: ExpiringCache[str, MerchandisingRules] = ExpiringCache(RULES_SECONDS)


def rules_of(tenant_id: str, merchandising: MerchandisingRepository) -> MerchandisingRules:
    return _rules.get(tenant_id, lambda: merchandising.get_rules(tenant_id))


def _duplicates(ids: Sequence[str]) -> list[str]:
    return sorted({product for product in ids if ids.count(product) > 1})


def replace_rules(
    tenant_id: str,
    *,
    pinned: Sequence[str],
    boosts: Mapping[str, float],
    blocked: Sequence[str],
    actor: str,
    catalogue: CatalogueRepository,
    merchandising: MerchandisingRepository,
    audit: AuditTrail,
) -> MerchandisingRules:
    """Check and save the whole rule set in ``merchandising``: products of the tenant's ``catalogue`` only, no
    duplicate, none both pinned and blocked (422 naming them); the change is audited in ``audit``."""
    problems = []
    if duplicates := _duplicates(pinned) + _duplicates(blocked):
        problems.append(f"listed twice: {', '.join(duplicates)}")
    if both := sorted(set(pinned) & set(blocked)):
        problems.append(f"both pinned and blocked: {', '.join(both)}")
    from luxebrain.serving.recommendations import catalogue_products  # it applies these rules: imports this

    known = catalogue_products(tenant_id, catalogue)
    if unknown := sorted({*pinned, *boosts, *blocked} - known):
        problems.append(f"not in the store's catalogue: {', '.join(unknown[:10])}")
    if problems:
        raise InvalidInputError("; ".join(problems))
    saved = merchandising.save_rules(tenant_id, pinned=pinned, boosts=boosts, blocked=blocked, actor=actor)
    _rules.put(tenant_id, saved)
    record_audit(
        tenant_id,
        action="recommendation_rules.changed",
        actor=actor,
        audit=audit,
        details={"pinned": len(saved.pinned), "boosted": len(saved.boosts), "blocked": len(saved.blocked)},
    )
    return saved

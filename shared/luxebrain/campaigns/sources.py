"""What a campaign run and a send read their tenant's data from: the campaign records, the tenant's settings, the
customers and their orders, the catalogue, and the trained models (the recommendation model for a message's
product block, the customer model for win-back and RFM segments).

The flow runner and the sender functions build the product's bundle once per execution environment
(:func:`campaign_sources`); the demo and the benchmark take the same one; the unit tier passes in-memory ones.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any, Protocol

from luxebrain.runtime import on_reset
from luxebrain.storage.campaigns import CampaignRepository, campaign_repository
from luxebrain.storage.catalogue import CatalogueRepository, catalogue_repository
from luxebrain.storage.customers import CustomerRepository, customer_repository
from luxebrain.storage.tenants import TenantRepository, tenant_repository


class ServingModels(Protocol):
    """A tenant's current trained model of a kind, ready to serve (``serving.loader.ModelCache`` in the product,
    the API's ``Models``): the serving object and its version; raises when none is trained or it does not load."""

    def current_serving(self, tenant_id: str, kind: str) -> tuple[Any, str]: ...


@dataclass(frozen=True)
class CampaignSources:
    """The repositories and models campaigns read and write: ``campaigns`` (send records, consent,
    suppressions, contact logs, campaigns, signing keys), ``tenants`` (campaign settings, stores),
    ``customers`` (recipients and orders), ``catalogue`` (the products of a message) and ``models``."""

    campaigns: CampaignRepository
    tenants: TenantRepository
    customers: CustomerRepository
    catalogue: CatalogueRepository
    models: ServingModels


@cache
def campaign_sources() -> CampaignSources:
    """The product's sources: the table's repositories and the execution environment's model cache (built on
    the first call, again after a runtime reset; numpy loads with the first model read, not here)."""
    from luxebrain.serving.loader import model_cache

    return CampaignSources(
        campaigns=campaign_repository(),
        tenants=tenant_repository(),
        customers=customer_repository(),
        catalogue=catalogue_repository(),
        models=model_cache(),
    )


on_reset(campaign_sources.cache_clear)

"""What a training run reads its tenant's data from: the catalogue, the orders and the merchant's price decisions.

The run is given these repositories (the table's in the product, built once by the training worker function, the
CLI and the benchmark; in-memory ones in the unit tier), as it is given its bucket and training repository."""

from __future__ import annotations

from dataclasses import dataclass

from luxebrain.storage.catalogue import CatalogueRepository, catalogue_repository
from luxebrain.storage.customers import CustomerRepository, customer_repository
from luxebrain.storage.pricing import PriceDecisionRepository, price_decision_repository


@dataclass(frozen=True)
class TrainingSources:
    """The repositories a training run reads its tenant's data from."""

    catalogue: CatalogueRepository
    customers: CustomerRepository
    decisions: PriceDecisionRepository


def table_sources() -> TrainingSources:
    """The product's sources: the table's repositories."""
    return TrainingSources(catalogue_repository(), customer_repository(), price_decision_repository())

"""What a recommendation request and its answer are made of, without numpy: the business rules applied at serving
time, the answer and its products, and the error for a request that cannot be answered as asked.

The API's routes build rules and read answers with these; the numpy recommender
(luxebrain.ml.recommend.serving) is loaded when a request first reads a tenant's model.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field


class RecommendationInputError(ValueError):
    """A request the recommender cannot answer as asked: k out of range, an id of the wrong type."""


@dataclass(frozen=True)
class RecommendationRules:
    """Serving-time business rules. Every product set holds product ids as strings.

    ``in_stock`` / ``published``: when given, only these products may be shown. ``unavailable``: products
    that may not be shown (an alternative to the allow-lists). ``exclude``: e.g. the basket.
    ``exclude_purchased``: leave out what the customer already bought. ``pin``: shown first, in this order,
    when allowed. ``boost``: product -> amount added to its score (scores are scaled so the best candidate is
    about 1). ``block``: never shown. ``category``: only products of this category.
    """

    in_stock: Collection[str] | None = None
    published: Collection[str] | None = None
    unavailable: Collection[str] = frozenset()
    exclude: Collection[str] = frozenset()
    exclude_purchased: bool = False
    pin: tuple[str, ...] = ()
    boost: Mapping[str, float] = field(default_factory=dict)
    block: Collection[str] = frozenset()
    category: str | None = None


NO_RULES = RecommendationRules()


@dataclass(frozen=True)
class RecommendedProduct:
    product_id: str
    score: float
    lift: float | None = None  # bought-together lift with the request's products, when known
    pinned: bool = False


@dataclass(frozen=True)
class Recommendations:
    """``strategy``: "ease", "item_knn", "blend" (popularity mixed in or filling), "popular_fallback" (nothing
    personal to go on) or "popular_baseline" (the model did not beat popularity on its hold-out)."""

    strategy: str
    mode: str  # "for_customer", "similar", "bought_together" or "popular"
    products: list[RecommendedProduct]

    @property
    def product_ids(self) -> list[str]:
        return [p.product_id for p in self.products]

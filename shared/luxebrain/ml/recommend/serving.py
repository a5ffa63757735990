"""Serving recommendations from a trained ``recommend`` artifact. numpy only: the API imports this module.

Three questions, each answered with the strategy that produced the answer and a score per product:
- ``for_customer``: personal ranking = item-to-item score of the customer's history (EASE or item-kNN,
  scaled so the best candidate is 1) + repeat weight x the customer's own recency-weighted re-purchase score
  + a popularity share (larger for small stores, so a shop's first orders already give sensible results)
  + a rising-popularity term (products whose recent share of orders exceeds their long-run share). When the
  customer's own purchases are excluded, the item-to-item score is scaled over the other products only, so
  the past purchases neither take the slots nor shrink the scale of what can be shown;
- ``similar``: one product -> its strongest item-to-item neighbours; several (a basket) -> what goes with
  all of them, each result carrying the lift of its strongest bought-together pair;
- ``popular``: trending (recency-weighted) popularity, optionally within one category.
A version whose personal ranking was no better than all-time popularity on its training hold-out (the kind's
baseline, ``luxebrain.ml.kinds``) answers ``for_customer`` with that popularity, labelled "popular_baseline".
Business rules (stock, publication, basket, already bought, pin / boost / block, category) are applied
here at request time, so a product that just went out of stock disappears without retraining.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from luxebrain.ml.artifacts import ArtifactError, ModelArtifact
from luxebrain.ml.recommend.rules import (
    NO_RULES,
    RecommendationInputError,
    RecommendationRules,
    Recommendations,
    RecommendedProduct,
)

KIND = "recommend"
MAX_K = 100
BLEND_THRESHOLD = 0.25  # popularity share above which a personal answer is labelled "blend"
INDEX_CACHE_SIZE = 16  # product-id sets (stock, blocks) whose positions are remembered
TRENDING_TIE_BREAK = 1e-3  # all-time popularity breaks ties between equally trending products

REQUIRED_ARRAYS = (
    "similarity_indptr",
    "similarity_indices",
    "similarity_values",
    "history_indptr",
    "history_items",
    "history_repeat",
    "history_weight",
    "together_indptr",
    "together_indices",
    "together_lift",
    "together_support",
    "popularity",
    "trending",
    "item_category",
)
OPTIONAL_ARRAYS = ("rising",)  # absent from artifacts trained before the term existed: zeros


class Recommender:
    """A loaded ``recommend`` artifact. Build it once per process; calls are read-only and thread-safe."""

    def __init__(self, artifact: ModelArtifact) -> None:
        if artifact.kind != KIND:
            raise ArtifactError(f"expected a {KIND!r} artifact, got {artifact.kind!r}")
        missing = [name for name in REQUIRED_ARRAYS if name not in artifact.arrays]
        if missing:
            raise ArtifactError(f"recommend artifact lacks array(s): {', '.join(missing)}")
        a = artifact.arrays
        self.product_ids: list[str] = [str(p) for p in artifact.extra.get("product_ids", [])]
        self.customer_ids: list[str] = [str(c) for c in artifact.extra.get("customer_ids", [])]
        self.categories: list[str] = list(artifact.extra.get("categories", []))
        self.algorithm: str = str(artifact.extra.get("algorithm", "popular"))
        self.repeat_weight = float(artifact.extra.get("repeat_weight", 0.0))
        self.popularity_weight = float(artifact.extra.get("popularity_weight", 0.0))
        self.rising_weight = float(artifact.extra.get("rising_weight", 0.0))
        self._product_index = {p: j for j, p in enumerate(self.product_ids)}
        self._customer_index = {c: j for j, c in enumerate(self.customer_ids)}
        self._category_index = {c: j for j, c in enumerate(self.categories)}
        self._indices_cache: dict[int, tuple[frozenset, np.ndarray]] = {}
        n = len(self.product_ids)
        if a["popularity"].shape != (n,) or a["similarity_indptr"].shape != (n + 1,):
            raise ArtifactError("recommend artifact arrays do not match its product list")
        if a["history_indptr"].shape != (len(self.customer_ids) + 1,):
            raise ArtifactError("recommend artifact history does not match its customer list")
        self._sim = (a["similarity_indptr"], a["similarity_indices"], a["similarity_values"])
        self._history = (a["history_indptr"], a["history_items"], a["history_repeat"])
        self._history_weight = a["history_weight"]
        if self._history_weight.shape != a["history_repeat"].shape:
            raise ArtifactError("recommend artifact history weights do not match its history")
        self._together = (a["together_indptr"], a["together_indices"], a["together_lift"])
        self._item_category = a["item_category"]
        popularity = a["popularity"].astype(np.float64)
        trending = a["trending"].astype(np.float64)
        # Scaled to [0, 1]: trending first, all-time popularity breaks ties (and carries old stores).
        self._popular_score = _scale(trending) + TRENDING_TIE_BREAK * _scale(popularity)
        self._popular_order = np.argsort(-self._popular_score, kind="stable")
        rising = a.get("rising")
        if rising is not None and rising.shape != (n,):
            raise ArtifactError("recommend artifact rising popularity does not match its product list")
        self._rising = rising.astype(np.float64) if rising is not None else np.zeros(n)
        # The baseline as the hold-out scored it: all-time popularity (distinct customers), trending breaks ties.
        self._baseline_score = _scale(popularity) + TRENDING_TIE_BREAK * _scale(trending)
        self.serves_baseline = artifact.serves_baseline

    @classmethod
    def from_artifact(cls, artifact: ModelArtifact) -> Recommender:
        return cls(artifact)

    @property
    def n_products(self) -> int:
        return len(self.product_ids)

    # ------------------------------------------------------------------------------------ public calls

    def for_customer(self, customer_id: str, k: int = 10, rules: RecommendationRules = NO_RULES) -> Recommendations:
        """Personal ranking for a known customer; popularity fallback for one the model has not seen."""
        _check_k(k)
        customer = self._customer_index.get(_as_id(customer_id, "customer_id"))
        if customer is None:
            return self._ranked(self._popular_score, k, rules, "popular_fallback", "for_customer", history=None)
        if self.serves_baseline:
            history = self._history_of(customer)
            return self._ranked(self._baseline_score, k, rules, "popular_baseline", "for_customer", history=history)
        scores, personal, history = self._customer_scores(customer, exclude_purchased=rules.exclude_purchased)
        popular_share = self.popularity_weight
        chosen = self._ranked(scores, k, rules, "", "for_customer", history=history)
        from_popularity = any(not personal[self._product_index[p.product_id]] for p in chosen.products if not p.pinned)
        if self.algorithm == "popular":
            strategy = "popular_fallback"
        elif popular_share >= BLEND_THRESHOLD or from_popularity:
            strategy = "blend"
        else:
            strategy = self.algorithm
        return Recommendations(strategy, chosen.mode, chosen.products)

    def similar(
        self, product_ids: list[str] | tuple[str, ...], k: int = 10, rules: RecommendationRules = NO_RULES
    ) -> Recommendations:
        """One product: its nearest neighbours. Several (a basket): what goes with all of them, with lift."""
        _check_k(k)
        if isinstance(product_ids, str | bytes) or not isinstance(product_ids, list | tuple):
            raise RecommendationInputError("product_ids must be a list of product id strings")
        if not product_ids:
            raise RecommendationInputError("product_ids must name at least one product")
        asked = [_as_id(p, f"product_ids[{position}]") for position, p in enumerate(product_ids)]
        mode = "similar" if len(set(asked)) == 1 else "bought_together"
        known = np.array(sorted({self._product_index[p] for p in asked if p in self._product_index}), np.int64)
        # The request's own products are never recommended back.
        rules_without_input = _with_excluded(rules, asked)
        if known.size == 0:
            return self._ranked(self._popular_score, k, rules_without_input, "popular_fallback", mode, None)
        cf = self._gather(self._sim, known, np.ones(known.size))
        personal = cf > 0
        scores = _scale_by_max(cf) + self.popularity_weight * self._popular_score
        chosen = self._ranked(scores, k, rules_without_input, "", mode, history=None)
        lifts = self._max_lift(known)
        products = [
            RecommendedProduct(
                p.product_id,
                p.score,
                lift=_finite_or_none(lifts.get(self._product_index.get(p.product_id, -1))),
                pinned=p.pinned,
            )
            for p in chosen.products
        ]
        from_popularity = any(not personal[self._product_index[p.product_id]] for p in chosen.products if not p.pinned)
        if not personal.any() or self.algorithm == "popular":
            strategy = "popular_fallback"  # e.g. a catalogue product nobody has bought yet
        else:
            strategy = "blend" if from_popularity else self.algorithm
        return Recommendations(strategy, mode, products)

    def popular(
        self, k: int = 10, rules: RecommendationRules = NO_RULES, category: str | None = None
    ) -> Recommendations:
        """Trending products (recency-weighted purchases), optionally within one category."""
        _check_k(k)
        if category is not None:
            rules = _with_category(rules, _as_id(category, "category"))
        return self._ranked(self._popular_score, k, rules, "popular_fallback", "popular", history=None)

    def rank_ids(self, customer_id: str, k: int, *, exclude_purchased: bool = False) -> list[str]:
        """Bare top-k ids with no business rules (evaluation: same scores as ``for_customer``)."""
        customer = self._customer_index.get(str(customer_id))
        if customer is None:
            scores, history = self._popular_score.copy(), np.zeros(0, np.int64)
        elif self.serves_baseline:
            scores, history = self._baseline_score.copy(), self._history_of(customer)
        else:
            scores, _, history = self._customer_scores(customer, exclude_purchased=exclude_purchased)
        if exclude_purchased and history.size:
            scores[history] = -np.inf
        return [self.product_ids[j] for j in _top_k(scores, k) if np.isfinite(scores[j])]

    # ------------------------------------------------------------------------------------------ scoring

    def _history_of(self, customer: int) -> np.ndarray:
        indptr, items, _ = self._history
        return items[indptr[customer] : indptr[customer + 1]].astype(np.int64)

    def _customer_scores(
        self, customer: int, *, exclude_purchased: bool = False
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Personal scores (a fresh array), which products they come from the customer's data, the history."""
        indptr, _, repeat = self._history
        history = self._history_of(customer)
        repeat_scores = repeat[indptr[customer] : indptr[customer + 1]].astype(np.float64)
        weights = self._history_weight[indptr[customer] : indptr[customer + 1]].astype(np.float64)
        cf = self._gather(self._sim, history, weights)
        if exclude_purchased:
            cf[history] = 0.0
        scores = _scale_by_max(cf)
        if not exclude_purchased:
            scores[history] += self.repeat_weight * repeat_scores
        personal = cf > 0
        personal[history] = True
        scores += self.popularity_weight * self._popular_score + self.rising_weight * self._rising
        return scores, personal, history

    def _gather(
        self, matrix: tuple[np.ndarray, np.ndarray, np.ndarray], rows: np.ndarray, weights: np.ndarray
    ) -> np.ndarray:
        """Sum of the given CSR rows (each times its weight) as a dense vector over products."""
        indptr, indices, values = matrix
        starts, ends = indptr[rows], indptr[rows + 1]
        lengths = ends - starts
        total = int(lengths.sum())
        if total == 0:
            return np.zeros(self.n_products)
        offsets = np.repeat(starts - np.concatenate(([0], np.cumsum(lengths)[:-1])), lengths)
        positions = offsets + np.arange(total)
        row_weights = np.repeat(weights, lengths)
        return np.bincount(indices[positions], weights=values[positions] * row_weights, minlength=self.n_products)

    def _max_lift(self, rows: np.ndarray) -> dict[int, float]:
        indptr, indices, lifts = self._together
        best: dict[int, float] = {}
        for row in rows:
            for column, lift in zip(
                indices[indptr[row] : indptr[row + 1]].tolist(),
                lifts[indptr[row] : indptr[row + 1]].tolist(),
                strict=True,
            ):
                if lift > best.get(column, 0.0):
                    best[column] = lift
        return best

    # ------------------------------------------------------------------------------------ rules, top-k

    def _allowed(self, rules: RecommendationRules, history: np.ndarray | None) -> np.ndarray:
        allowed = np.ones(self.n_products, dtype=bool)
        for allow_list in (rules.in_stock, rules.published):
            if allow_list is not None:
                mask = np.zeros(self.n_products, dtype=bool)
                mask[self._indices(allow_list)] = True
                allowed &= mask
        for deny_list in (rules.unavailable, rules.exclude, rules.block):
            if deny_list:
                allowed[self._indices(deny_list)] = False
        if rules.exclude_purchased and history is not None and history.size:
            allowed[history] = False
        if rules.category is not None:
            category = self._category_index.get(rules.category, -2)
            allowed &= self._item_category == category
        return allowed

    def _indices(self, ids: Iterable[str]) -> np.ndarray:
        # A frozenset cannot change, so its positions are cached (the API reuses one per tenant for a
        # minute); the cache keeps the set itself so its id cannot be reused by another object.
        if isinstance(ids, frozenset):
            cached = self._indices_cache.get(id(ids))
            if cached is not None and cached[0] is ids:
                return cached[1]
        lookup = self._product_index
        found = np.asarray([lookup[p] for p in (str(i) for i in ids) if p in lookup], dtype=np.int64)
        if isinstance(ids, frozenset):
            if len(self._indices_cache) >= INDEX_CACHE_SIZE:
                self._indices_cache.clear()
            self._indices_cache[id(ids)] = (ids, found)
        return found

    def _ranked(
        self,
        scores: np.ndarray,
        k: int,
        rules: RecommendationRules,
        strategy: str,
        mode: str,
        history: np.ndarray | None,
    ) -> Recommendations:
        allowed = self._allowed(rules, history)
        pinned = self._allowed_pins(rules, allowed)
        if rules.boost:
            scores = scores.copy()
            for product, amount in rules.boost.items():
                j = self._product_index.get(str(product))
                if j is not None and np.isfinite(amount):
                    scores[j] += float(amount)
        masked = np.where(allowed, scores, -np.inf)
        for product in pinned:
            j = self._product_index.get(product)
            if j is not None:
                masked[j] = -np.inf  # shown once, in its pinned place
        products = [
            RecommendedProduct(
                p, _finite(scores[self._product_index[p]]) if p in self._product_index else 0.0, pinned=True
            )
            for p in pinned[:k]
        ]
        for j in _top_k(masked, k - len(products)):
            if not np.isfinite(masked[j]):
                break
            products.append(RecommendedProduct(self.product_ids[j], _finite(scores[j])))
        return Recommendations(strategy, mode, products)

    def _allowed_pins(self, rules: RecommendationRules, allowed: np.ndarray) -> list[str]:
        """Pinned products that the other rules allow; pins the model never saw are kept (merchant intent)."""
        pins: list[str] = []
        blocked = {str(p) for p in rules.block} | {str(p) for p in rules.unavailable} | {str(p) for p in rules.exclude}
        for product in dict.fromkeys(str(p) for p in rules.pin):
            j = self._product_index.get(product)
            if j is not None:
                if allowed[j]:
                    pins.append(product)
            elif (
                product not in blocked
                and all(allow_list is None or product in allow_list for allow_list in (rules.in_stock, rules.published))
                and rules.category is None
            ):
                pins.append(product)
        return pins


# -------------------------------------------------------------------------------------------- helpers


def _check_k(k: object) -> None:
    if isinstance(k, bool) or not isinstance(k, int | np.integer):
        raise RecommendationInputError(f"k must be an integer between 1 and {MAX_K}, got {k!r}")
    if not 1 <= int(k) <= MAX_K:
        raise RecommendationInputError(f"k must be between 1 and {MAX_K}, got {k}")


def _as_id(value: object, name: str) -> str:
    """Ids are strings; integers (WooCommerce ids) become their decimal text; anything else is refused."""
    if isinstance(value, str):
        if not value.strip():
            raise RecommendationInputError(f"{name} must not be empty")
        return value
    if isinstance(value, int | np.integer) and not isinstance(value, bool):
        return str(int(value))
    raise RecommendationInputError(f"{name} must be a string id, got {type(value).__name__} {value!r}")


def _scale(values: np.ndarray) -> np.ndarray:
    top = float(values.max()) if values.size else 0.0
    return values / top if top > 0 else np.zeros_like(values)


def _scale_by_max(values: np.ndarray) -> np.ndarray:
    top = float(values.max()) if values.size else 0.0
    return values / top if top > 0 else values.astype(np.float64, copy=True)


def _top_k(scores: np.ndarray, k: int) -> np.ndarray:
    if k <= 0 or scores.size == 0:
        return np.zeros(0, dtype=np.int64)
    k = min(k, scores.size)
    candidates = np.argpartition(-scores, k - 1)[:k]
    # Stable order: higher score first, then lower product index (deterministic answers).
    return candidates[np.lexsort((candidates, -scores[candidates]))]


def _finite(value: float) -> float:
    value = float(value)
    return value if np.isfinite(value) else 0.0


def _finite_or_none(value: float | None) -> float | None:
    return None if value is None or not np.isfinite(value) else float(value)


def _with_excluded(rules: RecommendationRules, products: list[str]) -> RecommendationRules:
    from dataclasses import replace

    return replace(rules, exclude=frozenset(rules.exclude) | frozenset(products))


def _with_category(rules: RecommendationRules, category: str) -> RecommendationRules:
    from dataclasses import replace

    return replace(rules, category=category)

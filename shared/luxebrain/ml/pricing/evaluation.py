"""Dynamic pricing, hold-out: does the demand model predict each product's last weeks better than ignoring price?

The last ``holdout_weeks`` weeks of the product x week panel are held out; the fit passed in (training's, this
module never imports ``train``) sees only the weeks before. Both predictions start from a product's recent
demand over the same window before the cut; on each held-out week in which the product could sell

- the model moves its price-adjusted recent demand along its demand curve to that week's price, with the
  elasticity the decisions use (clipped into the params' decision range, as served);
- the baseline, each product's own recent mean demand ignoring price, predicts that mean every week.

The baseline is the simplest honest one: it is the demand a merchant who keeps today's price expects, the
forecast behind "keep the current price", which is what serves in its place. A per-product log-log OLS would be
a second price model, not the answer without one. Score: RMSE of log(1 + weekly units) over the held-out
product-weeks (the + 1 keeps weeks without a sale, which a slow mover mostly has).

A hold-out is scored only when its weeks could tell the two predictions apart: their separation, the square root
of the sum over held-out product-weeks of the expected units times the squared log ratio of the two predictions
(Poisson: how many sampling standard deviations apart the two predictions' log-likelihoods are expected to be,
whichever is right), must reach ``min_separation``. Where prices barely moved in or before the hold-out, or moved
only on products that sell a unit a month, the two differ less than the counts' own noise and the comparison
would be a coin toss; it is not scored, and the model serves as without a hold-out. The separation depends on
the prices and the predictions, never on the held-out units, so it cannot favour either side.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class HoldoutFit:
    """What the fit of the weeks before the cut predicts from, per product."""

    velocity: np.ndarray  # recent weekly units moved along the demand curve to ``last_price``
    recent_mean: np.ndarray  # the same weeks' units, price ignored (the baseline)
    elasticity: np.ndarray  # as decisions use it
    last_price: np.ndarray


# (units, weekly price, active) of the weeks before the cut -> the fit's predictions' inputs
HoldoutFitter = Callable[[np.ndarray, np.ndarray, np.ndarray], HoldoutFit]


def holdout_metrics(
    units: np.ndarray,
    weekly_price: np.ndarray,
    active: np.ndarray,
    fit: HoldoutFitter,
    *,
    holdout_weeks: int,
    min_training_weeks: int,
    min_product_weeks: int,
    min_separation: float,
) -> dict[str, Any]:
    """The hold-out's figures (``scored`` False with a ``reason`` when there is too little to judge by).

    A product is scored on its held-out weeks when it was on sale at least ``min_training_weeks`` weeks before
    the cut; the hold-out needs ``min_product_weeks`` such product-weeks and a separation of the two
    predictions of at least ``min_separation`` (see the module's docstring).
    """
    n_weeks = units.shape[1]
    cut = n_weeks - holdout_weeks
    result: dict[str, Any] = {"scored": False, "weeks": holdout_weeks}
    trained_weeks = active[:, :cut].sum(axis=1) if cut > 0 else np.zeros(len(units))
    products = (trained_weeks >= min_training_weeks) & active[:, max(cut, 0) :].any(axis=1)
    scored = active[:, max(cut, 0) :] & products[:, None]
    if cut <= 0 or int(scored.sum()) < min_product_weeks:
        result["reason"] = (
            f"too little history for a hold-out: {int(scored.sum())} product-weeks in the last {holdout_weeks} "
            f"weeks of products on sale {min_training_weeks}+ weeks before them ({min_product_weeks} needed)"
        )
        return result
    fitted = fit(units[:, :cut], weekly_price[:, :cut], active[:, :cut])
    price = weekly_price[:, cut:]
    ratio = np.divide(price, fitted.last_price[:, None], out=np.ones_like(price), where=scored & (price > 0))
    ratio = np.where(fitted.last_price[:, None] > 0, ratio, 1.0)
    model = fitted.velocity[:, None] * np.power(ratio, fitted.elasticity[:, None])
    baseline = np.broadcast_to(fitted.recent_mean[:, None], model.shape)
    actual = np.log1p(units[:, cut:][scored])
    predicted_model, predicted_baseline = np.log1p(model[scored]), np.log1p(baseline[scored])
    log_ratio = np.log((model[scored] + 1e-9) / (baseline[scored] + 1e-9))
    expected = (model[scored] + baseline[scored]) / 2
    separation = float(np.sqrt(np.sum(expected * log_ratio**2)))
    result.update(
        products=int(products.sum()),
        product_weeks=int(scored.sum()),
        price_informed_weeks=int((np.abs(log_ratio) >= 0.01).sum()),  # where the two differ by 1 % or more
        separation=round(separation, 3),
    )
    if separation < min_separation:
        result["reason"] = (
            f"prices did not move enough in or before the hold-out for its sales to tell the model from keeping "
            f"them: the two predictions are {separation:.2f} sampling deviations apart ({min_separation:g} needed)"
        )
        return result
    result.update(
        scored=True,
        model={"log_rmse_units": _rmse(actual, predicted_model)},
        no_price_effect={"log_rmse_units": _rmse(actual, predicted_baseline)},
    )
    return result


def _rmse(actual: np.ndarray, predicted: np.ndarray) -> float:
    return float(np.sqrt(np.mean((actual - predicted) ** 2)))

"""Pricing benchmark: a demand simulator with known elasticities, and elasticity recovery on scanner data.

Run: ``.venv/bin/python -m benchmarks.pricing [--seeds 20] [--products 120] [--skip-simulator]``

1. Simulator. Every product has a true constant elasticity (drawn around its category's), a base weekly
   demand, a cost, a category seasonality and stock (restocked on a cycle or not at all). A year of history
   with occasional promotions and price changes comes first; then each policy sets prices week by week for
   the evaluation horizon and Poisson demand (capped by stock) is drawn with the same random numbers for
   every policy. Profit = (price - cost) x units - holding cost of stock. Policies:
   - static: the reference price throughout;
   - heuristic: the seed's rule (price +10 % when velocity is above the category's and stock cover is
     short, -10 % when velocity is below and cover long);
   - oracle: knows the true elasticities, base demand, seasonality and restocks; each week it picks the
     profit-maximising price for the coming weeks (same profit model as ours, true parameters, no step
     limit, no price endings);
   - ours: retrains ``train_pricing_model`` every 4 weeks on the simulated order lines and applies every
     ``suggest_prices`` suggestion under guardrails (max step 15 %, .00 endings, 7 days between changes),
     switchback test legs among them; a test it starts is recorded as the API records a test decision. Each
     version serves what its hold-out says, as the worker records it: a model no better than ignoring price
     on its last 8 weeks keeps every price.
   Scenarios: fast movers, slow movers, seasonal, low stock. Reported: uplift over static as a share of
   the oracle's, and profit / revenue relative to the oracle; per scenario, over retrains, how often the
   hold-out was scored, its log-RMSE ratio model / no price effect and how often the baseline served.
2. Elasticity recovery on bayesm cheese (88 retailer-markets) and tuna (7 brands): our shrunk estimates
   against a per-series log-log OLS fitted here (with the display / sale covariate), with a hold-out check:
   the error of predicting the last 25 % of weeks' log volume from their log price with each elasticity;
   and training's own hold-out ratio (its last 8 weeks before the cut) on the same fit.
3. Speed: ``suggest_prices`` for 10,000 products.
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from luxebrain.ml.kinds import BaselineVerdict, kind_verdict
from luxebrain.ml.pricing.rules import GuardrailConfig, GuardrailRule
from luxebrain.ml.pricing.serving import DemandBatch, PriceSuggestion, PricingModel, PricingParams, suggest_prices
from luxebrain.ml.pricing.suggestions import SwitchbackTest
from luxebrain.ml.pricing.train import train_pricing_model

OUT = Path(__file__).resolve().parent / "out"
DATA = Path("/work/shared/data/bayesm-cheese-tuna")
EPOCH = datetime(2024, 1, 1, tzinfo=UTC)  # a Monday; week w starts at EPOCH + w weeks
RETRAIN_EVERY_WEEKS = 4  # ours retrains on the latest sales every 4 weeks (prices are set weekly)


@dataclass(frozen=True)
class Scenario:
    name: str
    demand_range: tuple[float, float]  # base weekly units at the reference price (log-uniform)
    seasonal_amplitude: float
    initial_cover_weeks: float  # stock at the start of the horizon, in weeks of reference demand
    restock_every: int | None  # weeks between restocks (order up to the initial cover); None = never
    history_weeks: int = 52
    horizon_weeks: int = 26
    holding: float = 0.005  # per unit-week, fraction of cost


SCENARIOS = [
    Scenario("fast movers", (15.0, 80.0), 0.1, 8.0, 4),
    Scenario("slow movers", (0.3, 3.0), 0.1, 45.0, None),
    Scenario("seasonal", (5.0, 40.0), 0.6, 8.0, 4),
    Scenario("low stock", (5.0, 40.0), 0.1, 9.0, None),
]
GUARDRAILS = GuardrailConfig(
    default=GuardrailRule(min_margin=0.1, max_step=0.15, min_days_between_changes=7, price_ending=".00")
)


@dataclass
class World:
    """The true state of one simulated store (known to the oracle only)."""

    scenario: Scenario
    category: np.ndarray  # (N,) int
    elasticity: np.ndarray
    base: np.ndarray  # weekly units at the reference price, before seasonality
    cost: np.ndarray
    reference_price: np.ndarray
    floor: np.ndarray
    ceiling: np.ndarray
    season: np.ndarray  # (C, history + horizon) multiplier
    history_price: np.ndarray  # (N, history)
    history_units: np.ndarray  # (N, history)
    up_to: np.ndarray  # order-up-to stock level
    noise_seed: int

    def expected(self, week: int, price: np.ndarray) -> np.ndarray:
        ratio = price / self.reference_price
        return self.base * self.season[self.category, week] * ratio**self.elasticity


def make_world(scenario: Scenario, n_products: int, seed: int, n_categories: int = 6) -> World:
    rng = np.random.default_rng(seed)
    total_weeks = scenario.history_weeks + scenario.horizon_weeks
    category = rng.integers(0, n_categories, n_products)
    category_elasticity = rng.uniform(-3.2, -1.4, n_categories)
    elasticity = np.clip(category_elasticity[category] + rng.normal(0, 0.3, n_products), -4.5, -1.15)
    low, high = np.log(scenario.demand_range)
    base = np.exp(rng.uniform(low, high, n_products))
    cost = np.round(np.exp(rng.uniform(np.log(20), np.log(400), n_products)), 2)
    reference_price = np.round(cost * rng.uniform(1.5, 3.2, n_products))
    phase = rng.uniform(0, 2 * np.pi, n_categories)
    weeks = np.arange(total_weeks)
    season = 1 + scenario.seasonal_amplitude * np.sin(2 * np.pi * weeks[None, :] / 52 + phase[:, None])
    # History: 60 % of products had promotions, 30 % a regular price change, the rest never moved.
    history_price = np.tile(reference_price[:, None], (1, scenario.history_weeks)).astype(float)
    promoted = rng.random(n_products) < 0.6
    for i in np.flatnonzero(promoted):
        promo_weeks = rng.random(scenario.history_weeks) < 0.1
        history_price[i, promo_weeks] *= 1 - rng.uniform(0.1, 0.3, promo_weeks.sum())
    for i in np.flatnonzero(rng.random(n_products) < 0.3):
        change_week = rng.integers(4, scenario.history_weeks - 4)
        history_price[i, :change_week] *= 1 + rng.choice([-1, 1]) * rng.uniform(0.05, 0.15)
    history_price = np.round(history_price, 2)
    expected = base[:, None] * season[category, : scenario.history_weeks]
    expected = expected * (history_price / reference_price[:, None]) ** elasticity[:, None]
    history_units = rng.poisson(expected).astype(float)
    up_to = np.ceil(base * scenario.initial_cover_weeks)
    return World(
        scenario=scenario,
        category=category,
        elasticity=elasticity,
        base=base,
        cost=cost,
        reference_price=reference_price,
        floor=np.maximum(cost / 0.9, 0.6 * reference_price),
        ceiling=1.8 * reference_price,
        season=season,
        history_price=history_price,
        history_units=history_units,
        up_to=up_to,
        noise_seed=seed + 10_000,
    )


@dataclass
class State:
    week: int  # index into the season (history_weeks = first horizon week)
    stock: np.ndarray
    price: np.ndarray
    prices: list[np.ndarray]
    units: list[np.ndarray]
    last_change: np.ndarray  # week of the last change, -inf if never
    stock_log: list[np.ndarray] = field(default_factory=list)  # end-of-week stock, one entry per week


def restock_in(world: World, week: int) -> float:
    """Weeks from the start of ``week`` until the next restock (inf when none is planned)."""
    every = world.scenario.restock_every
    if every is None:
        return float("inf")
    offset = week - world.scenario.history_weeks
    return float(every - offset % every)


class StaticPolicy:
    name = "static"

    def prices(self, world: World, state: State) -> np.ndarray:
        return world.reference_price


class HeuristicPolicy:
    """The seed's rule: up 10 % when velocity is high and stock low, down 10 % when the reverse."""

    name = "heuristic"

    def prices(self, world: World, state: State) -> np.ndarray:
        recent = np.concatenate([world.history_units, *(u[:, None] for u in state.units)], axis=1)[:, -4:]
        recent = recent.mean(axis=1)
        category_median = np.array([np.median(recent[world.category == c]) for c in world.category])
        cover = np.divide(state.stock, recent, out=np.full(len(recent), np.inf), where=recent > 0)
        up = (recent > category_median) & (cover < 6)
        down = (recent < category_median) & (cover > 20)
        price = state.price * np.where(up, 1.1, np.where(down, 0.9, 1.0))
        return np.round(np.clip(price, world.floor, world.ceiling), 2)


class OraclePolicy:
    """Knows the truth; maximises the same horizon profit as ours, re-planned every week."""

    name = "oracle"

    def __init__(self, params: PricingParams) -> None:
        self.params = params

    def prices(self, world: World, state: State) -> np.ndarray:
        horizon = self.params.horizon_weeks
        weeks = np.minimum(state.week + np.arange(horizon), world.season.shape[1] - 1)
        weekly = np.stack([world.expected(int(w), state.price) for w in weeks], axis=1)
        batch = DemandBatch(
            price=state.price,
            cost=world.cost,
            elasticity=world.elasticity,
            weekly=weekly,
            stock=state.stock.astype(float),
            restock_weeks=np.full(len(state.price), restock_in(world, state.week)),
            holding=world.scenario.holding,
            restock_every=np.full(len(state.price), float(world.scenario.restock_every or np.inf)),
            restock_level=world.up_to.astype(float),
        )
        return batch.best_price(world.floor, world.ceiling, 97)


class OursPolicy:
    """Retrains on the simulated order lines every 4 weeks and applies every suggestion."""

    name = "ours"

    def __init__(self, params: PricingParams, guardrails: GuardrailConfig) -> None:
        self.params = params
        self.guardrails = guardrails
        self.model: PricingModel | None = None
        self.tests: dict[str, SwitchbackTest] = {}  # product -> its switchback test (the API's test decisions)
        self.verdicts: list[BaselineVerdict] = []  # each retrain's hold-out verdict, as training records it

    def prices(self, world: World, state: State) -> np.ndarray:
        offset = state.week - world.scenario.history_weeks
        if self.model is None or offset % RETRAIN_EVERY_WEEKS == 0:
            lines, products, history = store_frames(world, state)
            as_of = (EPOCH + timedelta(weeks=state.week) - timedelta(days=1)).date()
            artifact = train_pricing_model(
                lines,
                products,
                params=self.params,
                as_of=as_of,
                price_history=history,
                stock_history=stock_records(world, state),
            )
            # Served as the worker serves it: a model no better than ignoring price on its hold-out keeps prices.
            verdict = kind_verdict("pricing", artifact.metrics)
            artifact.extra["serves"] = verdict.serves
            self.verdicts.append(verdict)
            self.model = PricingModel.from_artifact(artifact)
        now = EPOCH + timedelta(weeks=state.week)
        last_changes = {
            str(i): EPOCH + timedelta(weeks=float(w)) for i, w in enumerate(state.last_change) if np.isfinite(w)
        }
        answers = suggest_prices(
            self.model,
            self.guardrails,
            products=catalogue(world, state),
            forecast=self.seasonal_forecast(world, state),
            last_changes=last_changes,
            tests=self.tests,
            now=now,
        )
        price = state.price.copy()
        for answer in answers:
            if isinstance(answer, PriceSuggestion):
                price[int(answer.product_id)] = answer.suggested_price
                if answer.test is not None:
                    self.tests.setdefault(answer.product_id, answer.test)
        return price

    def seasonal_forecast(self, world: World, state: State) -> dict[str, list[float]]:
        """Level x seasonal profile, standing in for the forecasting module, from store data only.

        The seasonal profile is the category's share of sales by week of the year before the horizon; the
        level is each product's units that year, moved to today's price with the estimated elasticity and
        divided by the profile. (That year's sales never hit zero stock, so the level is not censored.)
        """
        assert self.model is not None
        units, prices = world.history_units, world.history_price
        n_categories = int(world.category.max()) + 1
        by_category = np.zeros((n_categories, units.shape[1]))
        np.add.at(by_category, world.category, units)
        padded = np.pad(by_category, ((0, 0), (1, 1)), mode="wrap")
        smooth = (padded[:, :-2] + padded[:, 1:-1] + padded[:, 2:]) / 3.0
        season = smooth / np.maximum(smooth.mean(axis=1, keepdims=True), 1e-9)
        ids = np.array([int(pid) for pid in self.model.product_ids])
        elasticity = np.clip(self.model.elasticity, self.params.decision_elasticity_min, -0.3)
        at_today = units[ids] * (state.price[ids, None] / prices[ids]) ** elasticity[:, None]
        level = (at_today / season[world.category[ids]]).mean(axis=1)
        ahead = (state.week + np.arange(self.params.horizon_weeks)) % units.shape[1]
        forecast = level[:, None] * season[world.category[ids]][:, ahead]
        return {str(pid): forecast[k].tolist() for k, pid in enumerate(ids)}


def catalogue(world: World, state: State) -> list[dict[str, object]]:
    restock = restock_in(world, state.week)
    return [
        {
            "product_id": str(i),
            "category": f"c{world.category[i]}",
            "price": float(state.price[i]),
            "regular_price": float(state.price[i]),
            "cost": float(world.cost[i]),
            "stock_quantity": float(state.stock[i]),
            "restock_in_weeks": restock,
            "restock_every_weeks": float(world.scenario.restock_every or np.inf),
            "restock_level": float(world.up_to[i]),
            "floor_price": float(world.floor[i]),
            "ceiling_price": float(world.ceiling[i]),
            "tags": [],
        }
        for i in range(len(world.cost))
    ]


def stock_records(world: World, state: State) -> pd.DataFrame:
    """The store's end-of-week stock levels during the horizon (what its inventory log would show)."""
    if not state.stock_log:
        return pd.DataFrame({"product_id": [], "recorded_at": [], "stock_quantity": []})
    levels = np.stack(state.stock_log, axis=1)  # (N, weeks so far)
    product, week = np.nonzero(levels <= 0)  # only the empty weeks matter to training
    first = world.scenario.history_weeks
    return pd.DataFrame(
        {
            "product_id": product.astype(str),
            "recorded_at": pd.Timestamp(EPOCH) + pd.to_timedelta((first + week) * 7 + 6.9, unit="D"),
            "stock_quantity": levels[product, week],
        }
    )


def store_frames(world: World, state: State) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """What the store's database holds: one order line per product-week with sales, and price changes."""
    prices = np.concatenate([world.history_price, *(p[:, None] for p in state.prices)], axis=1)
    units = np.concatenate([world.history_units, *(u[:, None] for u in state.units)], axis=1)
    product, week = np.nonzero(units > 0)
    lines = pd.DataFrame(
        {
            "order_id": [f"o{p}-{w}" for p, w in zip(product, week, strict=True)],
            "customer_id": "sim",
            "product_id": product.astype(str),
            "ordered_at": pd.Timestamp(EPOCH) + pd.to_timedelta(week * 7 + 3, unit="D"),
            "quantity": units[product, week],
            "unit_price": prices[product, week],
        }
    )
    lines["line_total"] = lines["quantity"] * lines["unit_price"]
    products = pd.DataFrame(
        {
            "product_id": np.arange(len(world.cost)).astype(str),
            "name": "p",
            "category": [f"c{c}" for c in world.category],
            "price": state.price,
            "regular_price": state.price,
            "stock_quantity": state.stock.astype(float),
            "in_stock": state.stock > 0,
            "published": True,
            "cost": world.cost,
        }
    )
    changed = np.ones_like(prices, dtype=bool)
    changed[:, 1:] = prices[:, 1:] != prices[:, :-1]
    product, week = np.nonzero(changed)
    history = pd.DataFrame(
        {
            "product_id": product.astype(str),
            "changed_at": pd.Timestamp(EPOCH) + pd.to_timedelta(week * 7, unit="D"),
            "price": prices[product, week],
        }
    )
    return lines, products, history


def simulate(world: World, policy: StaticPolicy | HeuristicPolicy | OraclePolicy | OursPolicy) -> dict[str, float]:
    scenario = world.scenario
    noise = np.random.default_rng(world.noise_seed)
    uniforms = noise.random((scenario.horizon_weeks, len(world.cost)))  # common random numbers
    state = State(
        week=scenario.history_weeks,
        stock=world.up_to.copy(),
        price=world.reference_price.astype(float).copy(),
        prices=[],
        units=[],
        last_change=np.full(len(world.cost), -np.inf),
    )
    profit = revenue = 0.0
    for t in range(scenario.horizon_weeks):
        if scenario.restock_every and t > 0 and t % scenario.restock_every == 0:
            state.stock = np.maximum(state.stock, world.up_to)
        new_price = policy.prices(world, state)
        changed = np.abs(new_price - state.price) > 1e-9
        state.last_change = np.where(changed, state.week, state.last_change)
        state.price = np.asarray(new_price, dtype=float)
        demand = poisson_from_uniform(world.expected(state.week, state.price), uniforms[t])
        sold = np.minimum(demand, state.stock)
        state.stock = state.stock - sold
        state.stock_log.append(state.stock.copy())
        profit += float(((state.price - world.cost) * sold).sum() - scenario.holding * (world.cost * state.stock).sum())
        revenue += float((state.price * sold).sum())
        state.prices.append(state.price.copy())
        state.units.append(sold)
        state.week += 1
    return {"profit": profit, "revenue": revenue}


def holdout_summary(verdicts: list[BaselineVerdict]) -> dict[str, float]:
    """Over retrains: the share whose hold-out was scored, of those the share serving the baseline (keep the
    price), and the mean hold-out log-RMSE ratio model / no price effect (below 1: the model predicts better)."""
    scored = [v for v in verdicts if v.model_metric is not None and v.baseline_metric]
    ratios = [v.model_metric / v.baseline_metric for v in scored]  # type: ignore[operator]
    return {
        "retrains": float(len(verdicts)),
        "holdout_scored_share": len(scored) / len(verdicts) if verdicts else float("nan"),
        "serves_baseline_share": float(np.mean([v.serves_baseline for v in scored])) if scored else float("nan"),
        "holdout_ratio_model_vs_no_price_effect": float(np.mean(ratios)) if ratios else float("nan"),
    }


def poisson_from_uniform(mean: np.ndarray, uniform: np.ndarray) -> np.ndarray:
    """Poisson draws by inverting the CDF with given uniforms (the same luck for every policy)."""
    from scipy.stats import poisson

    return poisson.ppf(uniform, np.maximum(mean, 1e-12))


def run_simulator(n_seeds: int, n_products: int, params: PricingParams) -> dict[str, dict[str, float]]:
    results: dict[str, dict[str, float]] = {}
    for scenario_number, scenario in enumerate(SCENARIOS):
        params_here = replace(params, holding_cost_per_week=scenario.holding)
        runs = []
        verdicts: list[BaselineVerdict] = []
        for seed in range(n_seeds):
            world = make_world(scenario, n_products, seed=1000 * seed + scenario_number)
            policies = [
                StaticPolicy(),
                HeuristicPolicy(),
                OraclePolicy(params_here),
                OursPolicy(params_here, GUARDRAILS),
            ]
            runs.append({p.name: simulate(world, p) for p in policies})
            verdicts.extend(policies[-1].verdicts)  # type: ignore[union-attr]
        uplift = {name: np.array([r[name]["profit"] - r["static"]["profit"] for r in runs]) for name in runs[0]}
        oracle_profit = np.array([r["oracle"]["profit"] for r in runs])
        oracle_revenue = np.array([r["oracle"]["revenue"] for r in runs])
        row = {
            "seeds": n_seeds,
            "ours_share_of_oracle_uplift": float(uplift["ours"].mean() / uplift["oracle"].mean()),
            "heuristic_share_of_oracle_uplift": float(uplift["heuristic"].mean() / uplift["oracle"].mean()),
            "ours_share_min_seed": float(np.min(uplift["ours"] / uplift["oracle"])),
            "ours_beats_heuristic_seeds": float(np.mean(uplift["ours"] > uplift["heuristic"])),
            **holdout_summary(verdicts),
        }
        for name in ("static", "heuristic", "ours"):
            row[f"{name}_profit_vs_oracle"] = float(np.mean([r[name]["profit"] for r in runs]) / oracle_profit.mean())
            row[f"{name}_revenue_vs_oracle"] = float(
                np.mean([r[name]["revenue"] for r in runs]) / oracle_revenue.mean()
            )
        results[scenario.name] = row
        print(f"  {scenario.name}: done", flush=True)
    return results


def scanner_panels() -> dict[str, pd.DataFrame]:
    """cheese and tuna as long frames: series, week, volume, price, promo covariate."""
    cheese = pd.read_csv(DATA / "cheese.csv.gz")
    cheese["week"] = cheese.groupby("RETAILER").cumcount()
    cheese_long = pd.DataFrame(
        {
            "series": cheese["RETAILER"],
            "week": cheese["week"],
            "volume": cheese["VOLUME"].astype(float),
            "price": cheese["PRICE"],
            "promo": cheese["DISP"],
        }
    )
    tuna = pd.read_csv(DATA / "tuna.csv.gz")
    tuna_long = pd.concat(
        [
            pd.DataFrame(
                {
                    "series": f"brand {b}",
                    "week": tuna["WEEK"] - 1,
                    "volume": tuna[f"MOVE{b}"].astype(float),
                    "price": np.exp(tuna[f"LPRICE{b}"]),
                    "promo": tuna[f"NSALE{b}"],
                }
            )
            for b in range(1, 8)
        ]
    )
    return {"cheese": cheese_long, "tuna": tuna_long}


def ols_elasticity(frame: pd.DataFrame) -> tuple[float, float]:
    """log volume ~ 1 + log price + promo: the slope on log price and its standard error."""
    y = np.log(frame["volume"].to_numpy())
    x = np.column_stack([np.ones(len(frame)), np.log(frame["price"].to_numpy()), frame["promo"].to_numpy()])
    if np.ptp(x[:, 2]) == 0:
        x = x[:, :2]
    beta, *_ = np.linalg.lstsq(x, y, rcond=None)
    residual = y - x @ beta
    sigma2 = residual @ residual / max(len(y) - x.shape[1], 1)
    covariance = sigma2 * np.linalg.pinv(x.T @ x)
    return float(beta[1]), float(np.sqrt(covariance[1, 1]))


def holdout_error(train: pd.DataFrame, test: pd.DataFrame, elasticity: float) -> float:
    """RMSE of test log volume predicted from the training mean and the price's deviation from it."""
    log_q, log_p = np.log(train["volume"]), np.log(train["price"])
    prediction = log_q.mean() + elasticity * (np.log(test["price"]) - log_p.mean())
    return float(np.sqrt(np.mean((np.log(test["volume"]) - prediction) ** 2)))


def holdout_absolute_error(train: pd.DataFrame, test: pd.DataFrame, elasticity: float) -> tuple[float, float]:
    """(sum of absolute errors, sum of volume) on the test weeks, predicting volume in units (for WAPE)."""
    log_p = np.log(train["price"])
    level = train["volume"].mean() / np.mean(np.exp(elasticity * (log_p - log_p.mean())))
    prediction = level * np.exp(elasticity * (np.log(test["price"]) - log_p.mean()))
    return float(np.abs(test["volume"] - prediction).sum()), float(test["volume"].sum())


def elasticity_recovery(params: PricingParams) -> dict[str, dict[str, float]]:
    results: dict[str, dict[str, float]] = {}
    for name, panel in scanner_panels().items():
        # One calendar cut for every series: a series' weeks after the cut must not look like zero sales.
        cut = int(panel["week"].quantile(0.75))
        train, test = panel[panel["week"] <= cut], panel[panel["week"] > cut]
        series = sorted(panel["series"].unique())
        lines = pd.DataFrame(
            {
                "order_id": [f"o{i}" for i in range(len(train))],
                "customer_id": "scanner",
                "product_id": train["series"].to_numpy(),
                "ordered_at": pd.Timestamp(EPOCH) + pd.to_timedelta(train["week"].to_numpy() * 7 + 3, unit="D"),
                "quantity": train["volume"].to_numpy(),
                "unit_price": train["price"].to_numpy(),
            }
        )
        lines["line_total"] = lines["quantity"] * lines["unit_price"]
        products = pd.DataFrame(
            {"product_id": series, "category": name, "price": 1.0, "stock_quantity": np.nan, "cost": np.nan}
        )
        # cheese rows are not aligned in calendar time across retailers, so no shared weekly index there.
        here = replace(params, history_weeks=int(panel["week"].max()) + 2, use_category_index=name == "tuna")
        as_of = (EPOCH + timedelta(weeks=cut + 1) - timedelta(days=1)).date()
        artifact = train_pricing_model(lines, products, params=here, as_of=as_of)
        verdict = kind_verdict("pricing", artifact.metrics)  # training's own hold-out: its last 8 weeks
        ours = dict(zip(artifact.arrays["product_ids"].tolist(), artifact.arrays["elasticity"], strict=True))
        ours_sd = dict(zip(artifact.arrays["product_ids"].tolist(), artifact.arrays["elasticity_sd"], strict=True))
        rows = []
        for s in series:
            fit_ols, se_ols = ols_elasticity(train[train["series"] == s])
            full_ols, _ = ols_elasticity(panel[panel["series"] == s])
            train_s, test_s = train[train["series"] == s], test[test["series"] == s]
            rows.append(
                {
                    "series": s,
                    "ours": float(ours[s]),
                    "ours_sd": float(ours_sd[s]),
                    "ols": fit_ols,
                    "ols_se": se_ols,
                    "ols_full": full_ols,
                    "error_ours": holdout_error(train_s, test_s, float(ours[s])),
                    "error_ols": holdout_error(train_s, test_s, fit_ols),
                    "error_zero": holdout_error(train_s, test_s, 0.0),
                }
            )
            for key, value in (("ours", float(ours[s])), ("ols", fit_ols)):
                rows[-1][f"abs_error_{key}"], rows[-1]["volume"] = holdout_absolute_error(train_s, test_s, value)
        frame = pd.DataFrame(rows)
        inside = (frame["ols_full"] >= frame["ours"] - 1.645 * frame["ours_sd"]) & (
            frame["ols_full"] <= frame["ours"] + 1.645 * frame["ours_sd"]
        )
        results[name] = {
            "series": len(frame),
            "median_ours": float(frame["ours"].median()),
            "median_ols": float(frame["ols"].median()),
            "correlation_ours_ols": float(np.corrcoef(frame["ours"], frame["ols"])[0, 1]),
            "holdout_rmse_ours_vs_ols": float(frame["error_ours"].mean() / frame["error_ols"].mean()),
            "holdout_rmse_ours_vs_no_price_effect": float(frame["error_ours"].mean() / frame["error_zero"].mean()),
            "holdout_wape_ours": float(frame["abs_error_ours"].sum() / frame["volume"].sum()),
            "holdout_wape_ours_vs_ols": float(frame["abs_error_ours"].sum() / frame["abs_error_ols"].sum()),
            "full_sample_ols_inside_ours_90pct": float(inside.mean()),
            **{f"training_{key}": value for key, value in holdout_summary([verdict]).items() if key != "retrains"},
        }
        frame.to_csv(OUT / f"pricing_elasticities_{name}.csv", index=False)
    return results


def speed(n_products: int = 10_000) -> dict[str, float]:
    rng = np.random.default_rng(7)
    weeks = 52
    product = np.repeat(np.arange(n_products), weeks)
    week = np.tile(np.arange(weeks), n_products)
    base_price = rng.uniform(20, 400, n_products)
    price = base_price[product] * np.where(rng.random(len(product)) < 0.1, 0.8, 1.0)
    units = rng.poisson(3.0 * (price / base_price[product]) ** -2.0)
    keep = units > 0
    lines = pd.DataFrame(
        {
            "order_id": "o",
            "customer_id": "c",
            "product_id": product[keep].astype(str),
            "ordered_at": pd.Timestamp(EPOCH) + pd.to_timedelta(week[keep] * 7 + 3, unit="D"),
            "quantity": units[keep].astype(float),
            "unit_price": price[keep],
        }
    )
    lines["line_total"] = lines["quantity"] * lines["unit_price"]
    products = pd.DataFrame(
        {
            "product_id": np.arange(n_products).astype(str),
            "category": [f"c{i % 40}" for i in range(n_products)],
            "price": base_price,
            "stock_quantity": rng.integers(0, 200, n_products).astype(float),
            "cost": base_price * 0.45,
        }
    )
    started = time.perf_counter()
    model = PricingModel.from_artifact(train_pricing_model(lines, products))
    train_seconds = time.perf_counter() - started
    catalogue_rows = [
        {
            "product_id": str(i),
            "category": f"c{i % 40}",
            "price": float(round(base_price[i], 2)),
            "regular_price": float(round(base_price[i], 2)),
            "cost": float(base_price[i] * 0.45),
            "stock_quantity": float(products["stock_quantity"].iloc[i]),
            "tags": ["icon"] if i % 50 == 0 else [],
        }
        for i in range(n_products)
    ]
    guardrails = GuardrailConfig(
        default=GuardrailRule(min_margin=0.3, price_ending=".95", never_discount_tags=frozenset({"icon"}))
    )
    started = time.perf_counter()
    answers = suggest_prices(model, guardrails, products=catalogue_rows, now=datetime.now(UTC))
    suggest_seconds = time.perf_counter() - started
    return {
        "products": n_products,
        "train_seconds": train_seconds,
        "suggest_seconds": suggest_seconds,
        "suggestions": sum(isinstance(a, PriceSuggestion) for a in answers),
    }


def plot_simulator(simulator: dict[str, dict[str, float]]) -> None:
    """Bar chart of each policy's share of the oracle's uplift, per scenario (benchmarks/out/pricing.png)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(simulator)
    x = np.arange(len(names))
    fig, ax = plt.subplots(figsize=(8, 4))
    for offset, (key, label) in zip(
        (-0.2, 0.2),
        (("ours_share_of_oracle_uplift", "ours"), ("heuristic_share_of_oracle_uplift", "seed heuristic")),
        strict=True,
    ):
        ax.bar(x + offset, [simulator[name][key] for name in names], width=0.4, label=label)
    ax.axhline(0.9, color="black", linestyle="--", linewidth=1, label="goal 0.9")
    ax.axhline(0.0, color="grey", linewidth=0.5)
    ax.set_xticks(x, names)
    ax.set_ylabel("share of the oracle's profit uplift over static")
    ax.legend()
    fig.tight_layout()
    fig.savefig(OUT / "pricing.png", dpi=120)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--products", type=int, default=120)
    parser.add_argument("--skip-simulator", action="store_true")
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    params = PricingParams(history_weeks=104)
    report: dict[str, object] = {}
    if not args.skip_simulator:
        print(f"simulator: {len(SCENARIOS)} scenarios x {args.seeds} seeds x {args.products} products")
        simulator = run_simulator(args.seeds, args.products, params)
        report["simulator"] = simulator
        print()
        print(
            "| scenario | ours: share of oracle uplift | heuristic: share | ours worst seed | ours > heuristic "
            "(seeds) | profit vs oracle: static / heuristic / ours | revenue vs oracle: static / heur. / ours |"
        )
        print("|---|---|---|---|---|---|---|")
        for name, row in simulator.items():
            print(
                f"| {name} | {row['ours_share_of_oracle_uplift']:.3f} | {row['heuristic_share_of_oracle_uplift']:.3f}"
                f" | {row['ours_share_min_seed']:.3f} | {row['ours_beats_heuristic_seeds']:.0%}"
                f" | {row['static_profit_vs_oracle']:.3f} / {row['heuristic_profit_vs_oracle']:.3f} /"
                f" {row['ours_profit_vs_oracle']:.3f}"
                f" | {row['static_revenue_vs_oracle']:.3f} / {row['heuristic_revenue_vs_oracle']:.3f} /"
                f" {row['ours_revenue_vs_oracle']:.3f} |"
            )
        print(
            "\n| scenario | retrains | hold-out scored | log-RMSE model / no price effect (mean) "
            "| serves its baseline (keeps prices) |"
        )
        print("|---|---|---|---|---|")
        for name, row in simulator.items():
            print(
                f"| {name} | {row['retrains']:.0f} | {row['holdout_scored_share']:.0%}"
                f" | {row['holdout_ratio_model_vs_no_price_effect']:.3f} | {row['serves_baseline_share']:.0%} |"
            )
        plot_simulator(simulator)
        mean_share = float(np.mean([row["ours_share_of_oracle_uplift"] for row in simulator.values()]))
        print(f"\nmean over scenarios: ours {mean_share:.3f} of the oracle's uplift (goal >= 0.90)")
    recovery = elasticity_recovery(params)
    report["elasticity_recovery"] = recovery
    print(
        "\n| data | series | median elasticity ours / OLS | corr(ours, OLS) | hold-out log-RMSE ours / OLS "
        "| ours / no price effect | hold-out WAPE ours (ratio to OLS) | full-sample OLS inside our 90 % interval |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for name, row in recovery.items():
        print(
            f"| {name} | {row['series']} | {row['median_ours']:.2f} / {row['median_ols']:.2f}"
            f" | {row['correlation_ours_ols']:.2f} | {row['holdout_rmse_ours_vs_ols']:.3f}"
            f" | {row['holdout_rmse_ours_vs_no_price_effect']:.3f}"
            f" | {row['holdout_wape_ours']:.3f} ({row['holdout_wape_ours_vs_ols']:.3f})"
            f" | {row['full_sample_ols_inside_ours_90pct']:.0%} |"
        )
    for name, row in recovery.items():
        print(
            f"{name}: training's own hold-out (last 8 weeks before the cut) log-RMSE model / no price effect "
            f"{row['training_holdout_ratio_model_vs_no_price_effect']:.3f}"
            f" (scored {row['training_holdout_scored_share']:.0%}, serves its baseline"
            f" {row['training_serves_baseline_share']:.0%})"
        )
    timing = speed()
    report["speed"] = timing
    print(
        f"\nspeed: train {timing['train_seconds']:.2f} s, suggest {timing['suggest_seconds']:.2f} s for "
        f"{timing['products']:,} products ({timing['suggestions']:,} suggestions; goal < 5 s)"
    )
    (OUT / "pricing.json").write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()

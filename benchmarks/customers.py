"""Customer-model benchmark: BG/NBD + Gamma-Gamma against lifetimes and simple heuristics, same split.

Run: ``.venv/bin/python -m benchmarks.customers [--datasets cdnow-sample cdnow-master online-retail]
[--score-customers 1000000] [--fit-repeats 5] [--pymc-marketing]``

For every data set the transactions are split by date into a calibration and a hold-out period, the model is
fitted on the calibration period, and the expected number of purchase days in the hold-out is compared with
the actual one for each calibration customer:
- CDNOW 1/10 sample (2,357 customers) and the full CDNOW cohort (23,570): the paper's split, 39 weeks
  (1997-01-01 .. 1997-09-30) then 39 weeks to 1998-06-30.
- UCI Online Retail customers (rows with a CustomerID; cancellations and non-positive lines left out,
  lines summed per invoice): calibration to 2011-09-09, hold-out the last 13 weeks to 2011-12-09.
Per data set, all on the same per-customer (x, t_x, T) summary (in days):
- ours: ``luxebrain.ml.customers.train`` (``evaluate_holdout``);
- lifetimes 0.11.3 ``BetaGeoFitter`` / ``GammaGammaFitter`` (the same model, so a difference means a bug);
- with ``--pymc-marketing``: PyMC-Marketing's ``BetaGeoModel`` (default priors, MAP), when it is importable;
- own-rate heuristic: hold-out purchases = the customer's calibration repeat rate x / T x hold-out length;
- RFM-score heuristic (R + F + M quintile scores) for "who buys again" (top-decile lift only: it is a rank);
- the hybrid ranker (``luxebrain.ml.customers.ranker``, fitted on the calibration period only), and what
  training would serve: the ranker chosen on the backtest one hold-out earlier, or the RFM sum where that
  ranker was no better than it there.
Reported: MAE and correlation of per-customer predictions, total predicted / actual, top-decile lift, fit
time ratio (lifetimes / ours, median of ``--fit-repeats``), and a weekly cumulative tracking chart per data
set (benchmarks/out/customers_tracking_<data>.png). Then scoring speed: ``score_customers`` (every field of
the artifact, including the drawn CLV interval) for ``--score-customers`` customers resampled from CDNOW, each
repeat buyer's spend moved by up to 10 % so that customers are as distinct as a real store's (exact copies would
share their draws and hide the cost of a store of distinct customers); wall and CPU seconds.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from luxebrain.ml.customers.evaluation import (
    HoldoutEvaluation,
    HoldoutSkipped,
    evaluate_holdout,
    load_transactions_csv,
    top_decile_lift,
)
from luxebrain.ml.customers.model import (
    DAY_NS,
    CustomerParams,
    CustomerSummary,
    PurchaseModel,
    SpendModel,
    score_customers,
)
from luxebrain.ml.customers.serving import rfm_segments
from luxebrain.ml.customers.train import fit_bgnbd, fit_gamma_gamma, fit_models
from luxebrain.ml.kinds import BASELINE, kind_verdict

OUT = Path(__file__).resolve().parent / "out"
DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
if not DATA.is_dir():  # a worktree one level further down; else the handbook's own place (as benchmarks/forecast.py)
    DATA = next(
        (p for p in (Path(__file__).resolve().parents[3] / "shared" / "data", Path("/work/shared/data")) if p.is_dir()),
        DATA,
    )


def day(text: str) -> int:
    return int(pd.Timestamp(text, tz="UTC").value // DAY_NS)


def load_dataset(name: str) -> tuple[pd.DataFrame, int, int]:
    """Transactions (customer_id, ordered_at, amount) and the calibration / hold-out end days."""
    if name == "cdnow-sample":
        frame = load_transactions_csv(
            DATA / "cdnow" / "cdnow_sample.csv.gz",
            customer_col="customer_id",
            time_col="date",
            amount_col="dollar_value",
        )
        return frame, day("1997-09-30"), day("1998-06-30")
    if name == "cdnow-master":
        frame = load_transactions_csv(
            DATA / "cdnow" / "cdnow_master.csv.gz",
            customer_col="customer_id",
            time_col="date",
            amount_col="dollar_value",
        )
        return frame, day("1997-09-30"), day("1998-06-30")
    if name == "online-retail":
        raw = pd.read_csv(DATA / "uci-online-retail" / "online_retail.csv.gz", dtype={"InvoiceNo": str})
        raw = raw[raw["CustomerID"].notna() & ~raw["InvoiceNo"].str.startswith("C")]
        raw = raw[(raw["Quantity"] > 0) & (raw["UnitPrice"] > 0)]
        raw = raw.assign(
            amount=raw["Quantity"] * raw["UnitPrice"], customer_id=raw["CustomerID"].astype("int64").astype(str)
        )
        per_invoice = raw.groupby("InvoiceNo").agg(
            customer_id=("customer_id", "first"), ordered_at=("InvoiceDate", "min"), amount=("amount", "sum")
        )
        per_invoice["ordered_at"] = pd.to_datetime(per_invoice["ordered_at"], utc=True)
        return per_invoice.reset_index(drop=True), day("2011-09-09"), day("2011-12-09")
    raise SystemExit(f"unknown data set {name!r}")


@contextlib.contextmanager
def quiet() -> Iterator[None]:
    """lifetimes prints scipy's result and autograd warns on every failed fit: keep the table readable."""
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        yield


def median_seconds(action: Any, repeats: int) -> float:
    timings = []
    for _ in range(repeats):
        started = time.perf_counter()
        action()
        timings.append(time.perf_counter() - started)
    return float(np.median(timings))


def run_lifetimes(summary: CustomerSummary, holdout_days: float) -> dict[str, Any]:
    from lifetimes import BetaGeoFitter, GammaGammaFitter  # benchmark-only dependency
    from lifetimes.utils import ConvergenceError

    frequency = pd.Series(summary.frequency)
    recency = pd.Series(summary.recency)
    big_t = pd.Series(summary.T)
    spenders = (summary.spend_frequency > 0) & (summary.monetary > 0)

    penalizer = {"value": 0.0}
    notes: list[str] = []

    def fit_both() -> tuple[Any, Any]:
        bgf = BetaGeoFitter(penalizer_coef=penalizer["value"]).fit(frequency, recency, big_t)
        ggf = GammaGammaFitter(penalizer_coef=0.0).fit(
            pd.Series(summary.spend_frequency[spenders]), pd.Series(summary.monetary[spenders])
        )
        return bgf, ggf

    bgf = ggf = None
    for value in (0.0, 0.001, 0.01, 0.1):  # lifetimes' own advice on non-convergence: add a penalizer
        penalizer["value"] = value
        try:
            bgf, ggf = fit_both()
            break
        except ConvergenceError:
            notes.append(f"BetaGeoFitter(penalizer_coef={value}) did not converge")
    if bgf is None:
        raise SystemExit("lifetimes did not converge even with penalizer_coef=0.1")
    if penalizer["value"] > 0:
        notes.append(f"lifetimes figures are for penalizer_coef={penalizer['value']}: a different (penalised) model")
    predicted = np.asarray(
        bgf.conditional_expected_number_of_purchases_up_to_time(holdout_days, frequency, recency, big_t), dtype=float
    )
    return {"bgf": bgf, "ggf": ggf, "predicted": predicted, "fit_both": fit_both, "notes": notes}


def per_customer_metrics(predicted: np.ndarray, actual: np.ndarray) -> dict[str, float | None]:
    finite = np.isfinite(predicted)
    corr = float(np.corrcoef(predicted[finite], actual[finite])[0, 1]) if finite.sum() > 2 else None
    return {
        "mae": float(np.abs(predicted[finite] - actual[finite]).mean()),
        "correlation": corr,
        "predicted_total": float(predicted[finite].sum()),
        "non_finite_predictions": int((~finite).sum()),
        "top_decile_lift": top_decile_lift(np.where(finite, predicted, -np.inf), actual > 0),
    }


def tracking_plot(name: str, evaluation: HoldoutEvaluation, lifetimes_cumulative: np.ndarray) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    weeks = np.arange(1, evaluation.tracking_week_end_days.size + 1)
    calibration_weeks = int((evaluation.tracking_week_end_days <= evaluation.calibration_end_day).sum())
    figure, axis = plt.subplots(figsize=(8, 4.5))
    axis.plot(weeks, evaluation.tracking_actual_cumulative, color="black", label="actual")
    axis.plot(
        weeks,
        evaluation.tracking_predicted_cumulative,
        color="tab:blue",
        linestyle="--",
        label=f"{evaluation.purchase.name} (ours)",
    )
    axis.plot(weeks, lifetimes_cumulative, color="tab:orange", linestyle=":", label="BetaGeoFitter (lifetimes)")
    axis.axvline(calibration_weeks + 0.5, color="grey", linewidth=0.8)
    axis.set_xlabel("week")
    axis.set_ylabel("cumulative repeat purchase days")
    axis.set_title(f"{name}: cumulative repeat purchases, calibration | hold-out")
    axis.legend()
    figure.tight_layout()
    path = OUT / f"customers_tracking_{name}.png"
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path


def lifetimes_tracking(bgf: Any, evaluation: HoldoutEvaluation) -> np.ndarray:
    first_days, cohort_sizes = np.unique(evaluation.summary.first_day, return_counts=True)
    elapsed = np.clip(evaluation.tracking_week_end_days[:, None] - first_days[None, :], 0, None).astype(float)
    expected = np.asarray(bgf.expected_number_of_purchases_up_to_time(pd.Series(elapsed.ravel())), dtype=float)
    expected = np.where(elapsed.ravel() > 0, expected, 0.0).reshape(elapsed.shape)
    return expected @ cohort_sizes.astype(float)


def benchmark_dataset(name: str, fit_repeats: int, *, pymc_marketing: bool = False) -> dict[str, Any]:
    transactions, calibration_end, holdout_end = load_dataset(name)
    transactions = transactions[
        np.floor_divide(transactions["ordered_at"].astype("int64").to_numpy(), DAY_NS) <= holdout_end
    ]
    evaluation = evaluate_holdout(
        transactions,
        calibration_end_day=calibration_end,
        holdout_end_day=holdout_end,
        params=CustomerParams(),
        fit=fit_models,
    )
    summary = evaluation.summary
    holdout_days = float(holdout_end - calibration_end)
    actual = evaluation.actual

    def fit_ours() -> None:  # what training runs: BG/NBD (or its NBD limit) and Gamma-Gamma
        fit_models(summary, CustomerParams())

    ours_seconds = median_seconds(fit_ours, fit_repeats)
    # The same check one hold-out length earlier, inside the calibration period only (where it still holds
    # enough repeat customers): how the value interval covers out of the test period's season.
    day_of = np.floor_divide(transactions["ordered_at"].astype("int64").to_numpy(), DAY_NS)
    try:
        backtest = evaluate_holdout(
            transactions[day_of <= calibration_end],
            calibration_end_day=calibration_end - int(holdout_days),
            holdout_end_day=calibration_end,
            params=CustomerParams(),
            fit=fit_models,
        ).metrics
    except HoldoutSkipped as exc:
        backtest = {"skipped": str(exc)}
    with quiet():
        lifetimes = run_lifetimes(summary, holdout_days)
        lifetimes_seconds = median_seconds(lifetimes["fit_both"], fit_repeats)
    own_rate = np.divide(summary.frequency, summary.T, out=np.zeros(len(summary)), where=summary.T > 0) * holdout_days
    rfm = rfm_segments(summary.recency_days, summary.orders, summary.revenue)
    rfm_score = rfm["r_score"].astype(float) + rfm["f_score"] + rfm["m_score"]

    ours = per_customer_metrics(evaluation.predicted, actual)
    theirs = per_customer_metrics(lifetimes["predicted"], actual)
    naive = per_customer_metrics(own_rate, actual)
    lifetimes_curve = lifetimes_tracking(lifetimes["bgf"], evaluation)
    plot = tracking_plot(name, evaluation, lifetimes_curve)
    bgf_params = {k: float(v) for k, v in lifetimes["bgf"].params_.items()}
    ggf_params = {k: float(v) for k, v in lifetimes["ggf"].params_.items()}
    return {
        "data": name,
        "customers": len(summary),
        "repeat_customers": int((summary.frequency > 0).sum()),
        "holdout_days": int(holdout_days),
        "actual_total": float(actual.sum()),
        "buyers_in_holdout": int((actual > 0).sum()),
        "model": evaluation.metrics["model"],
        "model_notes": {k: v for k, v in evaluation.metrics.items() if k.endswith("fallback_reason")},
        "lifetimes_notes": lifetimes["notes"],
        "ours": ours,
        "lifetimes": theirs,
        "own_rate_heuristic": naive,
        "rfm_heuristic_top_decile_lift": top_decile_lift(rfm_score, actual > 0),
        "hybrid_top_decile_lift": evaluation.metrics["top_decile_lift_hybrid"],
        "hybrid_notes": evaluation.metrics.get("hybrid_skipped"),
        "served_ranker": served_ranker(backtest),
        "value": {k: v for k, v in evaluation.metrics.items() if k.startswith("value_")},
        "value_predicted_over_actual": evaluation.metrics["predicted_holdout_value"]
        / max(evaluation.metrics["actual_holdout_value"], 1e-9),
        "backtest_value_interval_coverage": backtest.get("value_interval_coverage"),
        "backtest_period": (
            f"{backtest['calibration_end']} .. {backtest['holdout_end']}" if "holdout_end" in backtest else None
        ),
        "params_ours": {
            "bgnbd": evaluation.purchase.params.as_dict(),
            "gamma_gamma": evaluation.spend.params.as_dict() if evaluation.spend.params else None,
        },
        "params_lifetimes": {"bgnbd": bgf_params, "gamma_gamma": ggf_params},
        "fit_seconds_ours": ours_seconds,
        "fit_seconds_lifetimes": lifetimes_seconds,
        "fit_speed_ratio": lifetimes_seconds / ours_seconds,
        "tracking_final_actual": float(evaluation.tracking_actual_cumulative[-1]),
        "tracking_final_ours": float(evaluation.tracking_predicted_cumulative[-1]),
        "tracking_final_lifetimes": float(lifetimes_curve[-1]),
        "plot": str(plot),
        "pymc_marketing": run_pymc_marketing(evaluation, holdout_days) if pymc_marketing else None,
    }


def run_pymc_marketing(evaluation: HoldoutEvaluation, holdout_days: float) -> dict[str, Any]:
    """PyMC-Marketing's BetaGeoModel (its default priors, fitted by MAP) on the same summary, when it installs:
    it pulls pymc, pytensor and numba (about 770 MB), so it is not in requirements-dev."""
    try:
        from pymc_marketing.clv import BetaGeoModel  # optional benchmark-only dependency
    except ImportError as exc:
        return {"skipped": f"pymc-marketing is not importable: {exc}"}
    summary = evaluation.summary
    data = pd.DataFrame(
        {"customer_id": np.arange(len(summary)), "frequency": summary.frequency, "recency": summary.recency,
         "T": summary.T}
    )  # fmt: skip
    started = time.perf_counter()
    with quiet():
        model = BetaGeoModel(data=data)
        model.fit(method="map", progressbar=False)
        seconds = time.perf_counter() - started
        expected = model.expected_purchases(data=data, future_t=holdout_days).mean(("chain", "draw"))
    predicted = np.asarray(expected.values, dtype=np.float64)
    posterior = model.idata.posterior
    return per_customer_metrics(predicted, evaluation.actual) | {
        "fit_seconds": seconds,
        "params": {name: float(np.asarray(posterior[name]).mean()) for name in ("r", "alpha", "a", "b")},
    }


def served_ranker(backtest: dict[str, Any]) -> str:
    """What training would serve, chosen on the backtest one hold-out earlier (never on the test period): the
    ranker that backtest chose, or the RFM sum when that ranker was no better than it there."""
    if "ranker" not in backtest:
        return "purchase_model (no backtest)"
    serves_baseline = kind_verdict("customers", {"holdout": backtest}).serves == BASELINE
    return "rfm_heuristic" if serves_baseline else str(backtest["ranker"])


def scoring_speed(n_customers: int) -> dict[str, Any]:
    """Score n customers resampled from the CDNOW cohort's calibration summary with CDNOW-fitted models."""
    transactions, calibration_end, _ = load_dataset("cdnow-sample")
    calibration = transactions[
        np.floor_divide(transactions["ordered_at"].astype("int64").to_numpy(), DAY_NS) <= calibration_end
    ]
    from luxebrain.ml.customers.model import summarize_transactions

    base = summarize_transactions(calibration, as_of_day=calibration_end)
    purchase = PurchaseModel(fit_bgnbd(base.frequency, base.recency, base.T), dropout=True, name="bgnbd")
    spend = SpendModel(fit_gamma_gamma(base.spend_frequency, base.monetary), 35.0, name="gamma_gamma")
    rng = np.random.default_rng(0)
    pick = rng.integers(0, len(base), n_customers)
    spend_jitter = np.where(base.spend_frequency[pick] > 0, rng.uniform(0.9, 1.1, n_customers), 1.0)
    big = CustomerSummary(
        customer_ids=np.arange(n_customers).astype(str).astype(object),
        frequency=base.frequency[pick],
        recency=base.recency[pick],
        T=base.T[pick],
        monetary=base.monetary[pick] * spend_jitter,
        spend_frequency=base.spend_frequency[pick],
        orders=base.orders[pick],
        revenue=base.revenue[pick] * spend_jitter,
        first_day=base.first_day[pick],
        last_day=base.last_day[pick],
        as_of_day=base.as_of_day,
    )
    started, started_cpu = time.perf_counter(), time.process_time()
    scores = score_customers(big, purchase, spend, CustomerParams())
    rfm_segments(big.recency_days, big.orders, big.revenue)
    seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - started_cpu

    from lifetimes import BetaGeoFitter

    bgf = BetaGeoFitter()
    bgf.params_ = pd.Series(purchase.params.as_dict())
    started = time.perf_counter()
    for horizon in (30.0, 90.0, 365.0):
        bgf.conditional_expected_number_of_purchases_up_to_time(horizon, big.frequency, big.recency, big.T)
    bgf.conditional_probability_alive(big.frequency, big.recency, big.T)
    lifetimes_seconds = time.perf_counter() - started
    return {
        "customers": n_customers,
        "seconds_ours_all_fields": seconds,
        "cpu_seconds_ours_all_fields": cpu_seconds,
        "seconds_lifetimes_p_alive_and_3_horizons": lifetimes_seconds,
        "all_finite": bool(all(np.isfinite(v).all() for v in scores.values())),
    }


def fmt_share(value: float | None) -> str:
    return "–" if value is None else f"{value:.1%}"


def fmt(value: float | None, digits: int = 3) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--datasets", nargs="+", default=["cdnow-sample", "cdnow-master", "online-retail"])
    parser.add_argument("--score-customers", type=int, default=1_000_000)
    parser.add_argument("--fit-repeats", type=int, default=5)
    parser.add_argument(
        "--pymc-marketing", action="store_true", help="also fit PyMC-Marketing's BetaGeoModel (when it is importable)"
    )
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)

    results = [benchmark_dataset(name, args.fit_repeats, pymc_marketing=args.pymc_marketing) for name in args.datasets]
    speed = scoring_speed(args.score_customers) if args.score_customers > 0 else None

    print("\nFitted parameters (BG/NBD alpha in days; CDNOW published, in weeks: r 0.243, alpha 4.414 = 30.90 days,")
    print("a 0.793, b 2.426; Gamma-Gamma p 6.25, q 3.74, gamma 15.44)")
    for row in results:
        o, t = row["params_ours"], row["params_lifetimes"]
        print(f"  {row['data']:<14} ours      {json.dumps({k: round(v, 4) for k, v in o['bgnbd'].items()})}"
              f"  {json.dumps({k: round(v, 4) for k, v in (o['gamma_gamma'] or {}).items()})}")  # fmt: skip
        print(f"  {'':<14} lifetimes {json.dumps({k: round(v, 4) for k, v in t['bgnbd'].items()})}"
              f"  {json.dumps({k: round(v, 4) for k, v in t['gamma_gamma'].items()})}")  # fmt: skip

    for row in results:
        print(
            f"  {row['data']}: our model {row['model']} {row['model_notes'] or ''} {'; '.join(row['lifetimes_notes'])}"
            + (f"; hybrid skipped: {row['hybrid_notes']}" if row["hybrid_notes"] else "")
        )
    header = (
        "| data | customers | hold-out days | MAE ours / lifetimes | MAE ours / own-rate | corr ours "
        "| corr lifetimes | predicted / actual ours | lifetimes | lift ours | lift lifetimes | lift RFM "
        "| lift ours / RFM | lift hybrid | hybrid / RFM | serves (chosen on the backtest) | served / RFM "
        "| fit ratio lifetimes / ours |"
    )
    print("\n" + header)
    print("|---" * header.count(" | ") + "|---|")
    for row in results:
        o, t, n = row["ours"], row["lifetimes"], row["own_rate_heuristic"]
        actual = row["actual_total"]
        rfm_lift = row["rfm_heuristic_top_decile_lift"]
        hybrid = row["hybrid_top_decile_lift"]
        served = {"rfm_heuristic": rfm_lift, "hybrid": hybrid}.get(row["served_ranker"]) or o["top_decile_lift"]
        print(
            f"| {row['data']} | {row['customers']} | {row['holdout_days']} | {o['mae'] / t['mae']:.4f} "
            f"| {o['mae'] / n['mae']:.3f} | {fmt(o['correlation'])} | {fmt(t['correlation'])} "
            f"| {o['predicted_total'] / actual:.3f} | {t['predicted_total'] / actual:.3f} "
            f"| {o['top_decile_lift']:.3f} | {t['top_decile_lift']:.3f} | {rfm_lift:.3f} "
            f"| {o['top_decile_lift'] / rfm_lift:.3f} | {fmt(hybrid)} | {fmt(hybrid and hybrid / rfm_lift)} "
            f"| {row['served_ranker']} | {served / rfm_lift:.3f} | {row['fit_speed_ratio']:.1f}x |"
        )
    print(
        "\n| data | MAE ours | MAE lifetimes | MAE own-rate | fit s ours | fit s lifetimes "
        "| tracking end actual / ours / lifetimes |"
    )
    print("|---|---|---|---|---|---|---|")
    for row in results:
        maes = " | ".join(f"{row[key]['mae']:.4f}" for key in ("ours", "lifetimes", "own_rate_heuristic"))
        ends = " / ".join(f"{row['tracking_final_' + key]:.0f}" for key in ("actual", "ours", "lifetimes"))
        print(
            f"| {row['data']} | {maes} | {row['fit_seconds_ours']:.4f} | {row['fit_seconds_lifetimes']:.4f} | {ends} |"
        )
    print(
        "\n| data | value lift ours | value lift RFM | ours / RFM | Spearman ours | Spearman RFM "
        "| P10-P90 coverage of hold-out value (goal 75-85 %) | among buyers | [0, 0] share "
        "| value predicted / actual | coverage one hold-out earlier |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for row in results:
        v = row["value"]
        print(
            f"| {row['data']} | {v['value_top_decile_lift']:.3f} | {v['value_top_decile_lift_rfm_heuristic']:.3f} "
            f"| {v['value_top_decile_lift'] / v['value_top_decile_lift_rfm_heuristic']:.3f} "
            f"| {fmt(v['value_spearman'])} | {fmt(v['value_spearman_rfm_heuristic'])} "
            f"| {v['value_interval_coverage']:.1%} | {fmt(v['value_interval_coverage_buyers'])} "
            f"| {v['value_interval_zero_width_share']:.1%} | {row['value_predicted_over_actual']:.3f} "
            f"| {fmt_share(row['backtest_value_interval_coverage'])} {row['backtest_period'] or ''} |"
        )
    if args.pymc_marketing:
        print("\n| data | MAE PyMC-Marketing / ours | predicted / actual | lift PyMC-Marketing / ours | MAP fit s |")
        print("|---|---|---|---|---|")
        for row in results:
            pm = row["pymc_marketing"]
            if "skipped" in pm:
                print(f"| {row['data']} | {pm['skipped']} | | | |")
                continue
            o = row["ours"]
            print(
                f"| {row['data']} | {pm['mae'] / o['mae']:.4f} | {pm['predicted_total'] / row['actual_total']:.3f} "
                f"| {pm['top_decile_lift'] / o['top_decile_lift']:.3f} | {pm['fit_seconds']:.1f} |"
            )
    if speed:
        print(
            f"\nScoring {speed['customers']:,} customers (P(alive), 3 horizons, next-order date, churn band, "
            f"CLV + drawn 80 % interval, RFM): {speed['seconds_ours_all_fields']:.2f} s wall, "
            f"{speed['cpu_seconds_ours_all_fields']:.2f} s CPU (goal < 10 s); "
            f"lifetimes P(alive) + 3 horizons only: {speed['seconds_lifetimes_p_alive_and_3_horizons']:.2f} s; "
            f"all finite: {speed['all_finite']}"
        )
    (OUT / "customers.json").write_text(json.dumps({"datasets": results, "scoring": speed}, indent=2, default=str))
    print(f"\nwrote {OUT / 'customers.json'} and the tracking plots")


if __name__ == "__main__":
    main()

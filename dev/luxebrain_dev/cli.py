"""The ``luxebrain`` command. Errors a user can act on are one line on stderr and a non-zero exit."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from luxebrain import __version__
from luxebrain.errors import LuxeBrainError


def _as_of(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an ISO date such as 2026-11-26") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"port {port} is out of range 0-65535")
    return port


def build_parser(argv: Sequence[str]) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="luxebrain",
        description="LuxeBrain: AI back end for WooCommerce stores (ingest, models, API, campaigns).",
    )
    parser.add_argument("--version", action="version", version=f"luxebrain {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    demo = commands.add_parser(
        "demo",
        help="run the whole system on an embedded AWS with a sample store and print real results",
        description="Starts moto's server in this process, creates every resource of infra/template.yaml, "
        "creates a demo tenant and a sample luxury-fashion store, ingests it through signed webhooks, trains "
        "every model through the scheduled path, and prints what each part produced.",
    )
    demo.add_argument("--as-of", type=_as_of, default=None, help="end of the sample store's history (default today)")
    demo.add_argument("--customers", type=int, default=3000, help="customers in the sample store (default 3000)")
    demo.add_argument("--products", type=int, default=300, help="products in the sample store (default 300)")
    demo.add_argument("--seed", type=int, default=7, help="random seed of the sample store (default 7)")
    demo.add_argument("--output-dir", default="demo-output", help="where plots are written (default demo-output)")
    demo.add_argument("--verbose", action="store_true", help="also print the functions' JSON logs")
    demo.add_argument(
        "--serve", action="store_true", help="then keep the API and the dashboard (web/dist) up until Ctrl-C"
    )
    demo.add_argument("--dashboard-port", type=_port, default=8080, help="port of the dashboard with --serve")
    demo.set_defaults(run=_run_demo)

    local = commands.add_parser(
        "local",
        help="keep the embedded AWS and the API running on localhost until Ctrl-C",
        description="Starts the embedded AWS on --aws-port, the API (every HTTP route of the template) on "
        "--api-port and the built dashboard (web/dist) on --dashboard-port, seeds the demo tenant with its "
        "logins, and serves until Ctrl-C.",
    )
    local.add_argument("--aws-port", type=_port, default=4566, help="port of the embedded AWS (default 4566)")
    local.add_argument("--api-port", type=_port, default=8000, help="port of the local API (default 8000)")
    local.add_argument("--dashboard-port", type=_port, default=8080, help="port of the dashboard (default 8080)")
    local.add_argument("--customers", type=int, default=1500, help="customers in the seeded sample store")
    local.add_argument("--products", type=int, default=300, help="products in the seeded sample store")
    local.add_argument("--ready-file", default=None, help="write the URLs and logins here (JSON) once serving")
    local.add_argument("--verbose", action="store_true", help="also print the functions' JSON logs")
    local.set_defaults(run=_run_local)

    train = commands.add_parser(
        "train",
        help="train every model of one tenant now (against the AWS configured by the environment)",
    )
    train.add_argument("--tenant", required=True, help="tenant id")
    train.set_defaults(run=_run_train)

    backfill = commands.add_parser(
        "backfill",
        help="pull a store's history through the WooCommerce REST API (resumable)",
    )
    backfill.add_argument("--tenant", required=True, help="tenant id")
    backfill.add_argument("--store", required=True, help="store id")
    backfill.set_defaults(run=_run_backfill)

    evaluate = commands.add_parser(
        "evaluate",
        help="evaluate a model kind on your own CSV export against baselines (recommend, forecast, customers)",
    )
    kinds = evaluate.add_subparsers(dest="kind", metavar="KIND")
    if len(argv) and argv[0] == "evaluate":  # harnesses import pandas: only when asked for
        from luxebrain_dev.evaluate import add_evaluate_parsers

        add_evaluate_parsers(kinds)
    return parser


def _run_demo(args: argparse.Namespace) -> int:
    from luxebrain_dev.demo import run_demo

    return run_demo(
        as_of=args.as_of,
        customers=args.customers,
        products=args.products,
        seed=args.seed,
        output_dir=args.output_dir,
        verbose=args.verbose,
        serve=args.serve,
        dashboard_port=args.dashboard_port,
    )


def _run_local(args: argparse.Namespace) -> int:
    from luxebrain_dev.demo import run_local

    return run_local(
        aws_port=args.aws_port,
        api_port=args.api_port,
        customers=args.customers,
        verbose=args.verbose,
        dashboard_port=args.dashboard_port,
        products=args.products,
        ready_file=args.ready_file,
    )


def _run_train(args: argparse.Namespace) -> int:
    from luxebrain.progress import Progress
    from luxebrain.tenancy import validate_tenant_id

    tenant_id = validate_tenant_id(args.tenant)
    from luxebrain.adapters.aws import models_bucket
    from luxebrain.storage.training import training_repository
    from luxebrain.training import train_tenant  # the ML layer: imported only when training
    from luxebrain.training.sources import table_sources

    report = train_tenant(
        tenant_id,
        files=models_bucket(),
        training=training_repository(),
        sources=table_sources(),
        progress=Progress().say,
    )
    print(report.summary())
    return 0


def _run_backfill(args: argparse.Namespace) -> int:
    import json

    from luxebrain.progress import Progress
    from luxebrain.tenancy import validate_entity_id, validate_tenant_id

    tenant_id, store_id = validate_tenant_id(args.tenant), validate_entity_id(args.store, "store id")
    from luxebrain.adapters.aws import models_bucket, secrets_vault
    from luxebrain.billing.usage import plan_usage
    from luxebrain.ingest.backfill import BackfillProgress, backfill_store, store_clients
    from luxebrain.storage.ingest import ingest_repository
    from luxebrain.storage.storefront import storefront_repository
    from luxebrain.storage.tenants import tenant_repository
    from luxebrain.storage.training import training_repository

    progress = Progress()
    current: list[str] = []

    def show(step: BackfillProgress) -> None:
        if current != [step.resource]:  # a new bar per resource (products, customers, orders)
            current[:] = [step.resource]
            progress.start_bar(f"{step.resource} pages", step.total_pages)
        progress.update(step.page)

    clients = store_clients(secrets_vault(), tenant_repository())
    report = backfill_store(
        tenant_id,
        store_id,
        clients,
        progress=show,
        files=models_bucket(),
        records=ingest_repository(),
        usage=plan_usage(),
        training=training_repository(),
        storefront=storefront_repository(),
    )
    print(json.dumps(report.summary(), indent=1))
    if not report.done:
        print("stopped before the end; run the same command again to resume from the last page", file=sys.stderr)
        return 1
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(arguments)
    args = parser.parse_args(arguments)
    run: Callable[[argparse.Namespace], int] | None = getattr(args, "run", None)
    if run is None:
        parser.print_help()
        return 2
    try:
        return run(args)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except (LuxeBrainError, ValueError, OSError) as exc:
        print(f"luxebrain: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())

"""Back-fill: a store's history through the WooCommerce REST API v3, resumable page by page.

- Products (with their variations), customers, then orders; 100 per page, paginated by X-WP-TotalPages.
- Incremental for products and orders: ``orderby=modified&order=asc&modified_after=<watermark>&
  dates_are_gmt=true`` with the watermark set an overlap window before the newest date seen, so a record
  modified while we paged is fetched again next time (harmless: writes are newer-wins and idempotent).
  Customers have no modified filter, so each run pages through all of them, but stores only those modified
  since the last finished run's watermark: an older one was stored by that run, and its conditional write would
  change nothing (it still took a write each: a store's every customer at every reconciliation).
- A checkpoint per resource is saved in the table after every page; a crash, a 500 that outlasts the
  retries, or a Lambda about to time out (``should_stop``) leaves it at the last finished page and the next
  call resumes there. A large store therefore takes as many invocations as it needs.
- Every record goes through the same processor as webhooks (validation, mapping, rejected records), so a
  back-filled order and a webhook order are stored identically and never doubled.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from luxebrain.adapters import KeyVault, MessageQueue, ObjectStore
from luxebrain.billing.usage import UsageCounter
from luxebrain.ingest.backfill_queue import request_backfill
from luxebrain.ingest.envelope import IngestEnvelope, utc_now_iso
from luxebrain.ingest.processor import (
    IngestCounters,
    PageAllowance,
    ProcessResult,
    RefundLinesFetcher,
    feed_training,
    process_envelope,
    store_refund_lines,
)
from luxebrain.runtime import configured_settings
from luxebrain.storage.ingest import Checkpoint, IngestRepository
from luxebrain.storage.storefront import StorefrontRepository
from luxebrain.woocommerce.client import WooCommerceClient

if TYPE_CHECKING:
    from luxebrain.storage.tenants import TenantRepository
    from luxebrain.storage.training import TrainingRepository

RESOURCES: tuple[tuple[str, str, bool], ...] = (
    # (checkpoint name, REST endpoint / webhook resource, has a modified_after filter)
    ("products", "product", True),
    ("customers", "customer", False),
    ("orders", "order", True),
)
DEFAULT_OVERLAP = timedelta(hours=1)
PAGE_WRITERS = 8  # concurrent conditional writes per page (DynamoDB round trips overlap)
RUN = "_run"

ClientFactory = Callable[[str, str], WooCommerceClient]
Progress = Callable[["BackfillProgress"], None]


@dataclass(frozen=True)
class BackfillProgress:
    resource: str
    page: int
    total_pages: int
    items_done: int


@dataclass
class BackfillReport:
    run_id: str
    done: bool = False
    pages: int = 0
    items: int = 0
    counters: IngestCounters = field(default_factory=IngestCounters)
    per_resource: dict[str, int] = field(default_factory=dict)
    requests: int = 0
    retries: int = 0

    def summary(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "done": self.done,
            "pages": self.pages,
            "items": self.items,
            "stored": self.counters.stored,
            "duplicates": self.counters.duplicate,
            "rejected": self.counters.rejected,
            "per_resource": dict(self.per_resource),
            "requests": self.requests,
            "retries": self.retries,
        }


def store_clients(vault: KeyVault, tenants: TenantRepository, **options: Any) -> ClientFactory:
    """The REST clients of the stores in ``tenants``, each with its consumer key and secret decrypted by
    ``vault`` (``options``: the client's timeout and retries, for a caller that must answer quickly)."""

    def store_client(tenant_id: str, store_id: str) -> WooCommerceClient:
        store = tenants.get_store(tenant_id, store_id)
        store_secrets = tenants.get_store_secrets(tenant_id, store_id, vault=vault)
        return WooCommerceClient(
            store.url,
            store_secrets.consumer_key.get_secret_value(),
            store_secrets.consumer_secret.get_secret_value(),
            **options,
        )

    return store_client


def backfill_store(
    tenant_id: str,
    store_id: str,
    client_factory: ClientFactory,
    progress: Progress | None = None,
    *,
    files: ObjectStore,
    records: IngestRepository,
    usage: UsageCounter,
    training: TrainingRepository,
    storefront: StorefrontRepository,
    should_stop: Callable[[], bool] = lambda: False,
    overlap: timedelta = DEFAULT_OVERLAP,
) -> BackfillReport:
    """Bring the store's data up to date, resuming a run in progress (the orders' training deltas go to
    ``files``, the models bucket; the records and checkpoints to ``records``, catalogue sizes counted in
    ``usage``, the tenant's data marked changed in ``training``, orders with storefront attribution counted in
    ``storefront``). ``done`` is False when stopped early (``should_stop`` said so after a page); call again to
    continue. Raises the client's error when the store fails for good (auth, 500s beyond the retries); the
    checkpoint keeps every finished page."""
    configured_settings()
    client = client_factory(tenant_id, store_id)
    writer = _PageWriter(store_refund_lines(client_factory), records, usage, training, storefront)
    run = _load_or_start_run(tenant_id, store_id, records)
    report = BackfillReport(run_id=str(run.run_id))
    try:
        for name, resource, incremental in RESOURCES:
            checkpoint = _checkpoint_for_run(tenant_id, store_id, name, str(run.run_id), records)
            if checkpoint.status == "done":
                continue
            finished = _backfill_resource(
                client,
                files,
                tenant_id,
                store_id,
                checkpoint,
                resource,
                incremental,
                report,
                progress,
                should_stop,
                overlap,
                writer,
            )
            if not finished:
                return report
        run.status = "done"
        run.runs_completed = (run.runs_completed or 0) + 1
        records.save_checkpoint(run)
        report.done = True
        return report
    finally:
        report.requests = client.requests_made
        report.retries = client.retries


def backfill_status(tenant_id: str, store_id: str, *, records: IngestRepository) -> dict[str, Any]:
    """The checkpoints of a store in ``records``, for the dashboard and the CLI."""
    status: dict[str, Any] = {}
    for name in (RUN, *(resource[0] for resource in RESOURCES)):
        item = records.get_checkpoint(tenant_id, store_id, name)
        if item is None:
            continue
        status[name] = {
            "status": item.status,
            "run_id": item.run_id,
            "next_page": item.next_page,
            "total_pages": item.total_pages,
            "items_done": item.items_done,
            "total_items": item.total_items,
            "watermark_gmt": item.watermark_gmt,
        }
    return status


def _load_or_start_run(tenant_id: str, store_id: str, records: IngestRepository) -> Checkpoint:
    run = records.get_checkpoint(tenant_id, store_id, RUN) or _new_checkpoint(tenant_id, store_id, RUN)
    if run.status == "done" or not run.run_id:
        # Unique even for two runs in the same second: a reused id would mark the new run's resources done.
        run.run_id = f"{utc_now_iso()}-{secrets.token_hex(4)}"
        run.status = "running"
        records.save_checkpoint(run)
    return run


def _checkpoint_for_run(tenant_id: str, store_id: str, name: str, run_id: str, records: IngestRepository) -> Checkpoint:
    checkpoint = records.get_checkpoint(tenant_id, store_id, name) or _new_checkpoint(tenant_id, store_id, name)
    if checkpoint.run_id != run_id:  # first visit in this run: start from page 1 after the watermark
        checkpoint.run_id = run_id
        checkpoint.status = "running"
        checkpoint.next_page = 1
        checkpoint.total_pages = None
        checkpoint.items_done = 0
        checkpoint.total_items = None
        checkpoint.run_started_at = utc_now_iso()
        checkpoint.run_modified_after = checkpoint.watermark_gmt
        checkpoint.run_high_water_gmt = None
        records.save_checkpoint(checkpoint)
    return checkpoint


def _new_checkpoint(tenant_id: str, store_id: str, name: str) -> Checkpoint:
    return Checkpoint(tenant_id=tenant_id, store_id=store_id, resource=name)


def _backfill_resource(
    client: WooCommerceClient,
    files: ObjectStore,
    tenant_id: str,
    store_id: str,
    checkpoint: Checkpoint,
    resource: str,
    incremental: bool,
    report: BackfillReport,
    progress: Progress | None,
    should_stop: Callable[[], bool],
    overlap: timedelta,
    writer: _PageWriter,
) -> bool:
    endpoint = f"{resource}s"
    params: dict[str, Any] = {"order": "asc"}
    if incremental:
        params["orderby"] = "modified"
        if checkpoint.run_modified_after:
            params["modified_after"] = checkpoint.run_modified_after
            params["dates_are_gmt"] = "true"
    else:
        params["orderby"] = "id"
    # Without a server-side filter, the watermark filters here: what it excludes, the last finished run stored.
    stored_before = None if incremental else checkpoint.run_modified_after
    for page in client.iter_pages(endpoint, params, start_page=int(checkpoint.next_page or 1)):
        high_water = checkpoint.run_high_water_gmt or ""
        records = []
        for document in page.items:
            modified = document.get("date_modified_gmt") if isinstance(document, dict) else None
            if isinstance(modified, str) and modified > high_water:
                high_water = modified
            if stored_before and isinstance(modified, str) and modified < stored_before:
                continue
            records.extend(_records(client, resource, document))
        results = _ingest_page(tenant_id, store_id, records, report, writer)
        # What the page changed reaches training as the webhooks' batches do: one snapshot delta per page, so
        # a back-filled history is in the training snapshot without a full read of the table.
        feed_training(results, files=files, training=writer.training)
        report.pages += 1
        report.per_resource[checkpoint.resource] = report.per_resource.get(checkpoint.resource, 0) + len(page.items)
        checkpoint.next_page = page.page + 1
        checkpoint.total_pages = page.total_pages
        if page.total is not None:
            checkpoint.total_items = page.total
        checkpoint.items_done = int(checkpoint.items_done or 0) + len(page.items)
        checkpoint.run_high_water_gmt = high_water or None
        writer.records.save_checkpoint(checkpoint)  # the page is stored: a crash from here on resumes at the next page
        if progress:
            progress(BackfillProgress(checkpoint.resource, page.page, page.total_pages, int(checkpoint.items_done)))
        if not page.is_last and should_stop():
            return False
    checkpoint.status = "done"
    checkpoint.runs_completed = int(checkpoint.runs_completed or 0) + 1
    checkpoint.watermark_gmt = _minus(checkpoint.run_high_water_gmt, overlap) or checkpoint.run_modified_after
    writer.records.save_checkpoint(checkpoint)
    return True


def _records(client: WooCommerceClient, resource: str, document: Any) -> Iterator[tuple[str, Any]]:
    if resource == "order" and isinstance(document, dict) and document.get("refunds"):
        # The order lists its refunds by id and amount only; their lines (what was returned) come from the
        # refunds endpoint, fetched here with the client at hand so the processor need not ask again.
        details = {
            refund.get("id"): refund
            for page in client.iter_pages(f"orders/{document.get('id')}/refunds")
            for refund in page.items
            if isinstance(refund, dict)
        }
        document["refunds"] = [
            details.get(refund.get("id"), refund) if isinstance(refund, dict) else refund
            for refund in document["refunds"]
        ]
    yield resource, document
    if resource == "product" and isinstance(document, dict) and document.get("type") == "variable":
        product_id = document.get("id")
        for page in client.iter_pages(f"products/{product_id}/variations", {"order": "asc"}):
            for variation in page.items:
                if isinstance(variation, dict):
                    # The variations endpoint omits what the webhook says: it is a variation of this product.
                    variation.setdefault("type", "variation")
                    variation.setdefault("parent_id", product_id)
                yield "product", variation


@dataclass(frozen=True)
class _PageWriter:
    """What a page's records are stored through: the processor's refund lines, store records and usage, the
    training state its changes are marked in, and the storefront records its orders are attributed in."""

    refunds: RefundLinesFetcher
    records: IngestRepository
    usage: UsageCounter
    training: TrainingRepository
    storefront: StorefrontRepository


def _ingest_page(
    tenant_id: str,
    store_id: str,
    records: list[tuple[str, Any]],
    report: BackfillReport,
    writer: _PageWriter,
) -> list[ProcessResult]:
    """A page's records stored by a few writers at once: each is its own conditional write (newer wins), so
    their order within the page does not matter, and the writes' round trips overlap instead of queueing. What
    the page adds to the catalogue is counted against the plan once for the page."""
    sizes = PageAllowance.for_resources(tenant_id, [resource for resource, _ in records], writer.usage)
    try:
        with ThreadPoolExecutor(max_workers=PAGE_WRITERS, thread_name_prefix="backfill") as pool:
            results = list(
                pool.map(lambda item: _ingest_record(tenant_id, store_id, *item, sizes, writer=writer), records)
            )
    finally:
        sizes.give_back()
    for result in results:
        report.items += 1
        report.counters.add(result)
    return results


def _ingest_record(
    tenant_id: str,
    store_id: str,
    resource: str,
    record: Any,
    sizes: PageAllowance | None = None,
    *,
    writer: _PageWriter,
) -> ProcessResult:
    envelope = IngestEnvelope(
        tenant_id=tenant_id,
        store_id=store_id,
        resource=resource,
        event="updated",
        topic=f"{resource}.updated",
        body=json.dumps(record, separators=(",", ":")),
        received_at=utc_now_iso(),
        source="backfill",
    )
    record_id = record.get("id") if isinstance(record, dict) else None
    return process_envelope(
        envelope,
        event_id=f"backfill-{resource}-{record_id}",
        refunds=writer.refunds,
        records=writer.records,
        usage=writer.usage,
        storefront=writer.storefront,
        metered=False,
        sizes=sizes,
    )


def _minus(moment: str | None, overlap: timedelta) -> str | None:
    if not moment:
        return None
    try:
        return (datetime.fromisoformat(moment) - overlap).isoformat(timespec="seconds")
    except ValueError:
        return None


def request_reconciliation_of_all_stores(backfill_queue: MessageQueue, tenants: TenantRepository) -> int:
    """Queue an incremental back-fill for every active store of every active tenant in ``tenants`` (the daily
    schedule). Webhooks can be lost at the edge (WooCommerce never retries and disables a failing webhook); the
    incremental back-fill with its overlap window brings anything missed in within a day. Returns how many."""
    queued = 0
    for tenant in tenants.iter_tenants():
        if tenant.status != "active":
            continue
        for store in tenants.list_stores(tenant.tenant_id):
            if store.status == "active":
                request_backfill(backfill_queue, tenant.tenant_id, store.store_id)
                queued += 1
    return queued

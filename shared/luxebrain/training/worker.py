"""The worker's one domain call: a TrainQueue message body in, a tenant trained (or skipped) out."""

from __future__ import annotations

from typing import TYPE_CHECKING

from luxebrain.adapters import ObjectStore
from luxebrain.errors import LuxeBrainError
from luxebrain.storage.training import TrainingRepository
from luxebrain.training.dispatch import TrainRequest
from luxebrain.training.pipeline import Progress, TrainingReport, train_tenant

if TYPE_CHECKING:  # the API imports this package; only the worker function builds the sources
    from luxebrain.training.sources import TrainingSources


class TrainingFailedError(LuxeBrainError):
    """Every kind of a run failed: the message is retried (then dead-lettered), the previous models serve."""


def handle_train_request(
    body: str,
    *,
    files: ObjectStore,
    training: TrainingRepository,
    sources: TrainingSources,
    progress: Progress | None = None,
) -> TrainingReport:
    """Parse the message and train its tenant. Scheduled requests skip a tenant whose data has not changed
    since its last completed run (so a duplicate message costs one read); on-demand ones always train.
    Raises LeaseBusyError while another run holds the tenant's lease, and TrainingFailedError when every kind
    failed (both: the message is retried later, then dead-lettered)."""
    request = TrainRequest.model_validate_json(body)
    report = train_tenant(
        request.tenant_id,
        files=files,
        training=training,
        sources=sources,
        progress=progress,
        only_if_changed=request.reason == "scheduled",
    )
    if report.status == "failed":
        reasons = "; ".join(f"{result.kind}: {result.reason}" for result in report.kinds)
        raise TrainingFailedError(f"every model kind failed for tenant {request.tenant_id}: {reasons}"[:2000])
    return report

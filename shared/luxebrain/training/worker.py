"""The worker's one domain call: a TrainQueue message body in, a tenant trained (or skipped) out."""

from __future__ import annotations

from luxebrain.training.dispatch import TrainRequest
from luxebrain.training.pipeline import Progress, TrainingReport, train_tenant


def handle_train_request(body: str, *, progress: Progress | None = None) -> TrainingReport:
    """Parse the message and train its tenant. Scheduled requests skip a tenant whose data has not changed
    since its last completed run (so a duplicate message costs one read); on-demand ones always train.
    Raises LeaseBusyError while another run holds the tenant's lease (the message is retried later)."""
    request = TrainRequest.model_validate_json(body)
    return train_tenant(
        request.tenant_id,
        progress=progress,
        only_if_changed=request.reason == "scheduled",
    )

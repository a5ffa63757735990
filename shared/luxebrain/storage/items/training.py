"""Training: runs, the per-tenant training state and the served model pointers."""

from __future__ import annotations

from datetime import datetime

from pynamodb.attributes import (
    JSONAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)

from luxebrain.storage.items.base import BaseItem, utc_now
from luxebrain.tenancy import tenant_partition


class ModelRunItem(BaseItem):
    """One training run of one model kind for one tenant."""

    ENTITY = "model_run"
    run_id = UnicodeAttribute()
    kind = UnicodeAttribute()
    version = UnicodeAttribute()
    status = UnicodeAttribute()  # running | succeeded | rejected | failed
    started_at = UTCDateTimeAttribute(default=utc_now)
    finished_at = UTCDateTimeAttribute(null=True)
    duration_seconds = NumberAttribute(null=True)
    rows_used = NumberAttribute(default=0)
    metrics = JSONAttribute(default=dict)
    reason = UnicodeAttribute(null=True)
    artifact_prefix = UnicodeAttribute(null=True)


def key_model_run(tenant_id: str, kind: str, started_at: datetime, run_id: str) -> tuple[str, str]:
    return tenant_partition(tenant_id, "RUN"), f"{kind}#{started_at.isoformat()}#{run_id}"


class TrainingStateItem(BaseItem):
    """Per tenant: when its data last changed, when it was last trained, and the training lease.

    The lease (``lease_owner`` / ``lease_expires_at``, epoch seconds) is taken with a conditional write so two
    runs for one tenant never interleave; a crashed run's lease simply expires."""

    ENTITY = "training_state"
    data_changed_at = UTCDateTimeAttribute(null=True)
    last_trained_at = UTCDateTimeAttribute(null=True)  # start of the last run that completed
    last_run_id = UnicodeAttribute(null=True)
    last_run_status = UnicodeAttribute(null=True)
    lease_owner = UnicodeAttribute(null=True)
    lease_expires_at = NumberAttribute(null=True)
    last_requested_at = UTCDateTimeAttribute(null=True)  # last on-demand retrain (rate limit)


class ModelPointerItem(BaseItem):
    """The version of one model kind a tenant's API serves; switched only by a conditional write."""

    ENTITY = "model_pointer"
    kind = UnicodeAttribute()
    version = UnicodeAttribute()
    artifact_prefix = UnicodeAttribute()
    run_id = UnicodeAttribute()
    holdout_metric = NumberAttribute(null=True)
    switched_at = UTCDateTimeAttribute(default=utc_now)


def key_training_state(tenant_id: str) -> tuple[str, str]:
    return tenant_partition(tenant_id, "TRAINING"), "STATE"


def key_model_pointer(tenant_id: str, kind: str) -> tuple[str, str]:
    return tenant_partition(tenant_id, "TRAINING"), f"CURRENT#{kind}"

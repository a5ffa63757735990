"""Scheduled per-tenant training: dispatcher → TrainQueue → worker → S3 artifacts → current pointer.

Public entry points (no pandas is imported by importing this package; the ML layer loads when a kind trains):

- :func:`train_tenant` (CLI ``luxebrain train --tenant``), :func:`handle_train_request` (worker),
  :func:`dispatch_due_tenants` (dispatcher), :func:`request_retrain` (API, rate-limited),
  :func:`list_run_records` (API history), :func:`append_training_delta` (ingest; it marks the tenant's data
  changed through the training repository it is given), :func:`register_kind` (model kinds).

The columnar snapshot (luxebrain.training.snapshot, numpy) is not imported here: the dispatcher and the API
import this package, and the snapshot is only read or written where a tenant trains or a store connects.
"""

from luxebrain.ml.kinds import TrainingInputs
from luxebrain.storage.training import LeaseBusyError, RetrainRateLimitedError, RunRecord
from luxebrain.training.deltas import append_training_delta
from luxebrain.training.dispatch import TrainRequest, dispatch_due_tenants, request_retrain
from luxebrain.training.pipeline import KindResult, TrainingReport, list_run_records, train_tenant
from luxebrain.training.registry import ModelKind, register_kind, registered_kinds
from luxebrain.training.worker import handle_train_request

__all__ = [
    "KindResult",
    "LeaseBusyError",
    "ModelKind",
    "RetrainRateLimitedError",
    "RunRecord",
    "TrainRequest",
    "TrainingInputs",
    "TrainingReport",
    "append_training_delta",
    "dispatch_due_tenants",
    "handle_train_request",
    "list_run_records",
    "register_kind",
    "registered_kinds",
    "request_retrain",
    "train_tenant",
]

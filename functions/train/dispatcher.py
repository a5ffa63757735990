"""Training dispatcher: the daily EventBridge Scheduler event → one TrainQueue message per due tenant."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ConfigDict

from luxebrain.adapters.aws import queue
from luxebrain.billing.usage import plan_usage
from luxebrain.observability import logger, metrics, tracer
from luxebrain.storage.tenants import tenant_repository
from luxebrain.storage.training import training_repository
from luxebrain.training import dispatch_due_tenants

# Stateless, over the table: built once per execution environment.
tenants = tenant_repository()
training = training_repository()


class ScheduleEvent(BaseModel):
    """The schedule target's Input (infra/template.yaml): the scheduled time filled in by the Scheduler."""

    model_config = ConfigDict(extra="ignore")

    source: str = "luxebrain.schedule"
    scheduled_time: datetime | None = None


@logger.inject_lambda_context(correlation_id_path="scheduled_time")
@metrics.log_metrics
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    schedule = ScheduleEvent.model_validate(event or {})
    now = schedule.scheduled_time or datetime.now(UTC)
    result = dispatch_due_tenants(
        queue("train_queue_url"), tenants=tenants, training=training, usage=plan_usage(), now=now
    )
    metrics.add_metric(name="TrainingTenantsDue", unit=MetricUnit.Count, value=len(result.due))
    metrics.add_metric(name="TrainingMessagesSent", unit=MetricUnit.Count, value=result.sent)
    logger.info("training dispatched", extra={"considered": result.considered, "due": len(result.due)})
    return {"considered": result.considered, "due": len(result.due), "sent": result.sent}

"""What one schedule tick of the campaign flows does: run the named flows (and due one-off campaigns) for every
active tenant, or one tenant, and hand the messages to the send queue.

One tenant's failure does not stop the others; the caller learns which tenants failed so the invocation can fail
and the schedule's retry policy run it again (safe: triggers are idempotent).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from luxebrain.adapters import MessageQueue
from luxebrain.campaigns.config import FLOWS
from luxebrain.campaigns.flows import run_flows
from luxebrain.campaigns.oneoff import run_due_campaigns
from luxebrain.campaigns.sending import QueueDispatcher
from luxebrain.campaigns.sources import CampaignSources
from luxebrain.errors import InvalidInputError
from luxebrain.observability import logger

ONE_OFF_CAMPAIGNS = "campaigns"  # the schedule's name for "due one-off campaigns" beside the flows


def run_scheduled_flows(
    flows: list[str],
    *,
    send_queue: MessageQueue,
    sources: CampaignSources,
    tenant_id: str | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Run ``flows`` for ``tenant_id`` or every active tenant (the directory of ``sources.tenants``, each one's
    campaign settings from it too), their messages to ``send_queue`` and their records to ``sources.campaigns``;
    a summary with ``failed_tenants``."""
    unknown = set(flows) - {*FLOWS, ONE_OFF_CAMPAIGNS}
    if unknown:
        raise InvalidInputError(f"unknown flow(s): {', '.join(sorted(unknown))}")
    now = now or datetime.now(UTC)
    if tenant_id:
        tenant_ids = [tenant_id]
    else:
        tenant_ids = [t.tenant_id for t in sources.tenants.iter_tenants() if t.status == "active"]
    triggered = [flow for flow in flows if flow != ONE_OFF_CAMPAIGNS]
    summary: dict[str, Any] = {"tenants": len(tenant_ids), "dispatched": 0, "held_out": 0, "failed_tenants": []}
    for tenant in tenant_ids:
        dispatcher = QueueDispatcher(send_queue)
        try:
            results = list(run_flows(tenant, triggered, now, dispatcher, sources=sources))
            if ONE_OFF_CAMPAIGNS in flows:
                results += run_due_campaigns(tenant, now, dispatcher, sources=sources)
        except Exception:
            logger.exception("campaign flows failed for a tenant", extra={"tenant_id": tenant})
            summary["failed_tenants"].append(tenant)
            continue
        summary["dispatched"] += sum(r.dispatched for r in results)
        summary["held_out"] += sum(r.held_out for r in results)
    return summary

"""LuxeBrain's webhooks on a store: registered by us, found again by name, kept healthy.

- :func:`ensure_webhooks` (on connect and reconnect): one webhook per topic through ``/wp-json/wc/v3/webhooks``,
  named ``LuxeBrain <store id>: <topic>`` so the next call finds it: an existing one is updated (delivery URL,
  secret, status active), never duplicated.
- :func:`check_webhook_health` (hourly per store): WooCommerce disables a webhook after more than 5 consecutive
  failed deliveries and never retries; a ``disabled`` or ``paused`` webhook of ours is re-enabled (a missing one
  re-created), and the caller back-fills the gap incrementally. Per topic, the store records status, times found
  disabled, re-enables and when. When the store cannot be fixed (keys revoked, store down, HTML instead of JSON)
  the owner gets one e-mail per episode, not one an hour.
- :func:`delete_webhooks` (store removal): ours only, with ``force=true`` (webhooks cannot be trashed).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from luxebrain.adapters import MailService
from luxebrain.errors import LuxeBrainError, UnauthorizedError
from luxebrain.observability import logger
from luxebrain.runtime import configured_settings
from luxebrain.storage.members import Memberships
from luxebrain.storage.tenants import TenantRepository
from luxebrain.woocommerce.client import WooCommerceClient, WooCommerceError

TOPICS: tuple[str, ...] = (
    "order.created",
    "order.updated",
    "order.deleted",
    "order.restored",
    "product.created",
    "product.updated",
    "product.deleted",
    "product.restored",
    "customer.created",
    "customer.updated",
    "customer.deleted",
    "coupon.created",
    "coupon.updated",
    "coupon.deleted",
    "coupon.restored",
)
NAME_PREFIX = "LuxeBrain"
HEALTH_SLOTS = 12  # the health schedule ticks every 5 minutes; each store has its slot in the hour


def webhook_name(store_id: str, topic: str) -> str:
    return f"{NAME_PREFIX} {store_id}: {topic}"


def delivery_url(tenant_id: str, store_id: str) -> str:
    """The store's webhook URL on the public ingest API."""
    return f"{configured_settings().ingest_base_url().rstrip('/')}/webhooks/woocommerce/{tenant_id}/{store_id}"


def health_slot(tenant_id: str, store_id: str) -> int:
    """A stable slot per store (0-11): the hourly checks of many stores spread over the hour, not at :00."""
    digest = hashlib.sha256(f"{tenant_id}/{store_id}".encode()).digest()
    return digest[0] % HEALTH_SLOTS


@dataclass
class WebhookSync:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    re_enabled: list[str] = field(default_factory=list)
    webhooks: dict[str, dict[str, Any]] = field(default_factory=dict)  # topic → the store's webhook


def _ours(client: WooCommerceClient, store_id: str) -> dict[str, dict[str, Any]]:
    """Our webhooks on the store, by topic (the oldest when the store somehow has two)."""
    found: dict[str, dict[str, Any]] = {}
    for page in client.iter_pages("webhooks", {"status": "all", "orderby": "id", "order": "asc"}):
        for webhook in page.items:
            if not isinstance(webhook, dict):
                raise WooCommerceError("webhooks: the store answered something that is not a webhook")
            topic = str(webhook.get("topic", ""))
            if webhook.get("name") == webhook_name(store_id, topic) and topic not in found:
                found[topic] = webhook
    return found


def ensure_webhooks(
    client: WooCommerceClient,
    tenant_id: str,
    store_id: str,
    secret: str,
    existing: dict[str, dict[str, Any]] | None = None,
) -> WebhookSync:
    """Create or update our webhooks so each topic has exactly one, active, pointing at our ingest URL."""
    url = delivery_url(tenant_id, store_id)
    existing = _ours(client, store_id) if existing is None else existing
    sync = WebhookSync()
    for topic in TOPICS:
        wanted = {"name": webhook_name(store_id, topic), "topic": topic, "delivery_url": url, "status": "active"}
        current = existing.get(topic)
        if current is None:
            sync.webhooks[topic] = client.send("POST", "webhooks", {**wanted, "secret": secret})
            sync.created.append(topic)
        elif current.get("delivery_url") != url or current.get("status") != "active":
            # The secret is write-only in WooCommerce's answers: set it again with the rest.
            sync.webhooks[topic] = client.send("PUT", f"webhooks/{current['id']}", {**wanted, "secret": secret})
            sync.updated.append(topic)
            if current.get("status") in ("disabled", "paused"):
                sync.re_enabled.append(topic)
        else:
            sync.webhooks[topic] = current
            sync.unchanged.append(topic)
    return sync


@dataclass
class WebhookRemoval:
    """What removing our webhooks from a store did, per topic: a store that cannot be reached, or that fails
    half way, leaves some of them there (``error`` says why; ``left`` names them for the merchant)."""

    deleted: list[str] = field(default_factory=list)
    left: list[dict[str, Any]] = field(default_factory=list)  # {topic, webhook_id, name}
    error: str | None = None


def delete_webhooks(
    client: WooCommerceClient, store_id: str, known: dict[str, dict[str, Any]] | None = None
) -> WebhookRemoval:
    """Remove our webhooks from the store (found by their name). When the store cannot list them, the ones we
    last recorded (``known``: topic → entry with ``webhook_id``) are reported left; after a failed delete, the
    rest is not attempted (the store is down or refusing) and is reported left too."""
    removal = WebhookRemoval()
    try:
        ours = _ours(client, store_id)
    except LuxeBrainError as exc:
        return WebhookRemoval(left=recorded_webhooks(store_id, known or {}), error=str(exc)[:300])
    for topic, webhook in sorted(ours.items()):
        if removal.error is None:
            try:
                client.send("DELETE", f"webhooks/{webhook['id']}", params={"force": "true"})
                removal.deleted.append(topic)
                continue
            except LuxeBrainError as exc:
                removal.error = str(exc)[:300]
        removal.left.append(_left(store_id, topic, webhook))
    return removal


def recorded_webhooks(store_id: str, known: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """Our webhooks as last recorded on the store (topic → entry with ``webhook_id``), as removal reports them."""
    return [_left(store_id, topic, {"id": entry.get("webhook_id")}) for topic, entry in sorted(known.items())]


def _left(store_id: str, topic: str, webhook: dict[str, Any]) -> dict[str, Any]:
    return {"topic": topic, "webhook_id": webhook.get("id"), "name": webhook_name(store_id, topic)}


@dataclass
class HealthReport:
    ok: bool
    re_enabled: list[str] = field(default_factory=list)
    created: list[str] = field(default_factory=list)
    repaired: list[str] = field(default_factory=list)  # pointed elsewhere or off: set right again
    error: str | None = None
    alerted: bool = False

    @property
    def needs_backfill(self) -> bool:
        """Deliveries were missed while a webhook was off, missing or pointed elsewhere: the incremental
        back-fill covers the gap."""
        return bool(self.re_enabled or self.created or self.repaired)


def check_webhook_health(
    tenant_id: str,
    store_id: str,
    client: WooCommerceClient,
    secret: str,
    *,
    mail: MailService,
    members: Memberships,
    tenants: TenantRepository,
    now: datetime | None = None,
) -> HealthReport:
    """One health run for one store: re-enable what WooCommerce disabled, record it per topic on the store in
    ``tenants``, alert the owners (found in ``members``) once, through ``mail``."""
    configured_settings()
    now = now or datetime.now(UTC)
    stamp = now.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="seconds")
    store = tenants.get_store(tenant_id, store_id)
    state: dict[str, Any] = dict(store.webhooks)
    topics: dict[str, Any] = dict(state.get("topics") or {})
    try:
        before = _ours(client, store_id)
        sync = ensure_webhooks(client, tenant_id, store_id, secret, existing=before)
    except (WooCommerceError, UnauthorizedError, LuxeBrainError) as exc:
        reason = str(exc)[:300]
        state["checked_at"], state["error"] = stamp, reason
        state["failing_since"] = state.get("failing_since") or stamp
        alerted = False
        if not state.get("alerted_at"):  # one e-mail per episode: cleared by the next healthy run
            notify_owners(
                mail,
                members,
                tenant_id,
                subject="LuxeBrain cannot keep your store's webhooks running",
                text=(
                    f"LuxeBrain could not check or re-enable the webhooks of your store {store.url} ({reason}).\n"
                    "New orders and product changes may not reach LuxeBrain until this is fixed. Check that the "
                    "store is online and that LuxeBrain's API key was not revoked, or reconnect the store from "
                    "the dashboard."
                ),
            )
            state["alerted_at"] = stamp
            alerted = True
        tenants.set_store_webhooks(tenant_id, store_id, state)
        logger.warning("webhook health check failed", extra={"store": store_id, "reason": reason})
        return HealthReport(ok=False, error=reason, alerted=alerted)
    for topic in TOPICS:
        entry = dict(topics.get(topic) or {})
        previous = before.get(topic)
        if previous is not None and previous.get("status") in ("disabled", "paused"):
            entry["times_found_off"] = int(entry.get("times_found_off", 0)) + 1
            entry["last_found_off_status"] = previous.get("status")
        if topic in sync.re_enabled:
            entry["re_enables"] = int(entry.get("re_enables", 0)) + 1
            entry["last_re_enabled_at"] = stamp
        webhook = sync.webhooks.get(topic) or {}
        entry.setdefault("times_found_off", 0)
        entry.setdefault("re_enables", 0)
        entry["webhook_id"] = webhook.get("id")
        entry["status"] = webhook.get("status", "unknown")
        topics[topic] = entry
    state.update(topics=topics, checked_at=stamp, error=None, failing_since=None, alerted_at=None)
    tenants.set_store_webhooks(tenant_id, store_id, state)
    return HealthReport(ok=True, re_enabled=sync.re_enabled, created=sync.created, repaired=sync.updated)


def record_registration(
    tenant_id: str, store_id: str, sync: WebhookSync, *, tenants: TenantRepository, now: datetime | None = None
) -> None:
    """What :func:`ensure_webhooks` did, on the store in ``tenants`` (the ingest status shows it per topic)."""
    stamp = (now or datetime.now(UTC)).astimezone(UTC).replace(tzinfo=None).isoformat(timespec="seconds")
    state: dict[str, Any] = dict(tenants.get_store(tenant_id, store_id).webhooks)
    topics: dict[str, Any] = dict(state.get("topics") or {})
    for topic, webhook in sync.webhooks.items():
        entry = dict(topics.get(topic) or {})
        entry.update(webhook_id=webhook.get("id"), status=webhook.get("status", "unknown"))
        entry.setdefault("times_found_off", 0)
        entry.setdefault("re_enables", 0)
        topics[topic] = entry
    state.update(topics=topics, registered_at=stamp, checked_at=stamp, error=None, alerted_at=None)
    tenants.set_store_webhooks(tenant_id, store_id, state)


def notify_owners(mail: MailService, members: Memberships, tenant_id: str, *, subject: str, text: str) -> int:
    """E-mail the tenant's owners; returns how many were sent. No sender configured: logged, not sent."""
    settings = configured_settings()
    owners = [m.email for m in members.list_memberships(tenant_id) if m.role == "owner" and m.email]
    if not settings.sender_email or not owners:
        logger.warning("owner alert not sent (no sender or no owner e-mail)", extra={"subject": subject})
        return 0
    for address in owners:
        mail.send_text(sender=settings.sender_email, to=address, subject=subject, text=text)
    return len(owners)

"""WooCommerce stores: registration (the webhook secret and URL are shown once), listing, ingest status."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from pydantic import ConfigDict, Field, field_validator

from api.dependencies import Catalogue, Customers, Ingest, OwnerOnly, SecretsVault, TenantMember, Tenants, Usage
from luxebrain.auth.members import record_audit
from luxebrain.billing.plans import tenant_profile
from luxebrain.ingest.status import eta_seconds
from luxebrain.ingest.status import ingest_status as store_ingest_status
from luxebrain.ingest.store_sync import removal_clients
from luxebrain.ingest.store_sync import remove_store as remove_tenant_store
from luxebrain.storage.tenants import Store, TenantRepository
from luxebrain.webapi.models import ApiModel
from luxebrain.webapi.pagination import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE
from luxebrain.woocommerce.connection import register_store as register_new_store
from luxebrain.woocommerce.connection import start_connection
from luxebrain.woocommerce.outbound import OutboundPolicy, StoreAddressRefused, check_store_url
from luxebrain.woocommerce.webhooks import delivery_url

router = APIRouter(prefix="/stores", tags=["stores"])

StoreId = Annotated[str, Path(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:@-]{0,127}$", max_length=128)]


class RegisterStoreRequest(ApiModel):
    model_config = ConfigDict(
        extra="forbid",
        str_strip_whitespace=True,
        json_schema_extra={
            "examples": [
                {
                    "url": "https://shop.example",
                    "consumer_key": "ck_0123456789abcdef0123456789abcdef01234567",
                    "consumer_secret": "cs_0123456789abcdef0123456789abcdef01234567",
                    "currency": "EUR",
                }
            ]
        },
    )

    url: str = Field(max_length=300, description="the shop's https base URL")
    consumer_key: str = Field(pattern=r"^ck_[A-Za-z0-9]{16,64}$", description="WooCommerce REST API key (read)")
    consumer_secret: str = Field(pattern=r"^cs_[A-Za-z0-9]{16,64}$")
    currency: str = Field(default="EUR", pattern=r"^[A-Z]{3}$")

    @field_validator("url")
    @classmethod
    def _https_base_url(cls, value: str) -> str:
        # The shape here (https, a host name, no IP literal); the port and the resolved addresses in the route.
        try:
            check_store_url(value, OutboundPolicy.configured(), check_port=False, resolve=False)
        except StoreAddressRefused as exc:
            raise ValueError(str(exc)) from None
        return value.rstrip("/")


class ConnectStoreRequest(ApiModel):
    model_config = ConfigDict(
        extra="forbid",
        str_strip_whitespace=True,
        json_schema_extra={"examples": [{"url": "https://shop.example", "currency": "EUR"}]},
    )

    url: str = Field(max_length=300, description="the shop's https base URL")
    currency: str = Field(default="EUR", pattern=r"^[A-Z]{3}$")

    @field_validator("url")
    @classmethod
    def _https_base_url(cls, value: str) -> str:
        return RegisterStoreRequest._https_base_url(value)  # the same rules as a store registered with pasted keys


class ConnectStoreResponse(ApiModel):
    authorize_url: str = Field(
        description="send the merchant's browser here: the store's /wc-auth/v1/authorize page, where they approve "
        "read/write access; the store then calls LuxeBrain back and returns the merchant to the dashboard"
    )
    store_id: str = Field(description="the id the store will have once approved (see GET /stores/{store_id})")
    expires_at: datetime = Field(description="the authorization must be approved before this time")


class StoreResponse(ApiModel):
    store_id: str
    url: str
    currency: str
    status: str
    created_at: datetime


class RegisteredStoreResponse(StoreResponse):
    webhook_url: str = Field(description="paste into WooCommerce > Settings > Advanced > Webhooks (delivery URL)")
    webhook_secret: str = Field(description="shown once: paste as the webhooks' secret; never returned again")


class StorePage(ApiModel):
    items: list[StoreResponse]
    next_cursor: str | None


def _store_response(store: Store) -> StoreResponse:
    return StoreResponse(
        store_id=store.store_id,
        url=store.url,
        currency=store.currency,
        status=store.status,
        created_at=store.created_at,
    )


def _check_outbound(tenant_id: str, url: str, tenants: TenantRepository) -> None:
    """The store URL's port (standard, or allowed for the tenant by a platform admin) and the addresses its
    name resolves to now (public only): 422 naming why. Every connection checks the addresses again."""
    allowed_ports = (tenant_profile(tenant_id, tenants=tenants, fresh=True).settings or {}).get(
        "allowed_store_ports", []
    )
    check_store_url(url, OutboundPolicy.configured(allowed_ports))


def webhook_url(tenant_id: str, store_id: str) -> str:
    # On the ingest API (its own API Gateway API, without the JWT authorizer): on this API the path would fall
    # to the authenticated catch-all and every delivery would get a 401.
    return delivery_url(tenant_id, store_id)


@router.post("", status_code=201, response_model=RegisteredStoreResponse, summary="Register a WooCommerce store")
def register_store(
    body: RegisterStoreRequest, principal: OwnerOnly, vault: SecretsVault, tenants: Tenants, usage: Usage
) -> RegisteredStoreResponse:
    tenant_id = principal.require_tenant()
    _check_outbound(tenant_id, body.url, tenants)
    store, secrets = register_new_store(
        tenant_id,
        tenants=tenants,
        usage=usage,
        vault=vault,
        url=body.url,
        consumer_key=body.consumer_key,
        consumer_secret=body.consumer_secret,
        currency=body.currency,
    )
    record_audit(
        tenant_id,
        audit=tenants,
        action="store.registered",
        actor=principal.subject,
        details={"store_id": store.store_id},
    )
    return RegisteredStoreResponse(
        **_store_response(store).model_dump(),
        webhook_url=webhook_url(tenant_id, store.store_id),
        webhook_secret=secrets.webhook_secret.get_secret_value(),
    )


@router.post(
    "/connect",
    status_code=201,
    response_model=ConnectStoreResponse,
    summary="Connect a WooCommerce store in one click (wc-auth)",
    description="Returns the store's authorization URL with a one-time state valid for 30 minutes. Once the "
    "merchant approves, the store posts its REST keys to LuxeBrain's callback; LuxeBrain stores them "
    "encrypted, registers its webhooks and back-fills the store's history. Pasting keys (POST /stores) "
    "stays possible where the redirect cannot run.",
)
def connect_store(body: ConnectStoreRequest, principal: OwnerOnly, tenants: Tenants) -> ConnectStoreResponse:
    tenant_id = principal.require_tenant()
    _check_outbound(tenant_id, body.url, tenants)
    started = start_connection(
        tenant_id, body.url, tenants=tenants, currency=body.currency, created_by=principal.subject
    )
    record_audit(
        tenant_id,
        audit=tenants,
        action="store.connect_started",
        actor=principal.subject,
        details={"store_id": started.store_id},
    )
    return ConnectStoreResponse(
        authorize_url=started.authorize_url, store_id=started.store_id, expires_at=started.expires_at
    )


@router.get("", response_model=StorePage, summary="The tenant's stores (no secrets)")
def list_stores(
    principal: TenantMember,
    tenants: Tenants,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = DEFAULT_PAGE_SIZE,
    cursor: Annotated[str | None, Query(max_length=2048)] = None,
) -> StorePage:
    page = tenants.store_page(principal.require_tenant(), limit=limit, cursor=cursor)
    return StorePage(items=[_store_response(store) for store in page.items], next_cursor=page.next_cursor)


@router.get("/{store_id}", response_model=StoreResponse, summary="One store (no secrets)")
def get_store(store_id: StoreId, principal: TenantMember, tenants: Tenants) -> StoreResponse:
    return _store_response(tenants.get_store(principal.require_tenant(), store_id))


class WebhookLeft(ApiModel):
    topic: str
    webhook_id: int | None = Field(default=None, description="its id in WooCommerce, when known")
    name: str = Field(description="its name in WooCommerce > Settings > Advanced > Webhooks, to delete it there")


class StoreRemovedResponse(ApiModel):
    store_id: str
    webhooks_deleted: list[str] = Field(description="topics whose webhook LuxeBrain deleted from the store")
    webhooks_left: list[WebhookLeft] = Field(
        description="LuxeBrain's webhooks still on the store (it could not be reached, or refused): they fail "
        "from now on until WooCommerce disables them; delete them in WooCommerce"
    )
    store_error: str | None = Field(default=None, description="why the store could not be reached or refused")


@router.delete(
    "/{store_id}",
    response_model=StoreRemovedResponse,
    summary="Remove a store and the webhooks LuxeBrain registered on it",
    description="Deletes LuxeBrain's webhooks from the store (found by their name), then the store's keys and "
    "record; the records it sent stay. A store that cannot be reached is still removed here, and the answer "
    "names the webhooks left on it.",
)
def remove_store(
    store_id: StoreId, principal: OwnerOnly, vault: SecretsVault, tenants: Tenants, records: Ingest, usage: Usage
) -> StoreRemovedResponse:
    tenant_id = principal.require_tenant()
    # 404 for another tenant's or an unknown store
    removal = remove_tenant_store(
        tenant_id, store_id, removal_clients(vault, tenants), tenants=tenants, records=records, usage=usage
    )
    record_audit(
        tenant_id,
        audit=tenants,
        action="store.removed",
        actor=principal.subject,
        details={
            "store_id": store_id,
            "webhooks_deleted": len(removal.webhooks_deleted),
            "webhooks_left": [entry["topic"] for entry in removal.webhooks_left],
            **({"store_error": removal.store_error} if removal.store_error else {}),
        },
    )
    return StoreRemovedResponse(
        store_id=store_id,
        webhooks_deleted=removal.webhooks_deleted,
        webhooks_left=[WebhookLeft(**entry) for entry in removal.webhooks_left],
        store_error=removal.store_error,
    )


class BackfillProgress(ApiModel):
    resource: str = Field(description="products, customers, orders (or _run: the whole store's run)")
    status: str = Field(description="running or done")
    items_done: int
    total: int | None = Field(default=None, description="records to fetch in this run (WooCommerce's X-WP-Total)")
    eta_seconds: float | None = Field(default=None, description="time left at the pace so far (running only)")
    next_page: int
    total_pages: int | None
    watermark: str | None


class WebhookTopicStatus(ApiModel):
    topic: str = Field(description="e.g. order.updated")
    status: str = Field(description="active, paused, disabled (as WooCommerce last reported it) or unknown")
    webhook_id: int | None = Field(default=None, description="the webhook's id in WooCommerce")
    times_found_off: int = Field(default=0, description="health runs that found it disabled or paused")
    re_enables: int = Field(default=0, description="times LuxeBrain re-enabled it")
    last_re_enabled_at: str | None = None
    last_delivery_at: str | None = Field(default=None, description="when a delivery of this topic was last seen")
    rejected_last_24h: int = Field(default=0, description="deliveries of this topic rejected in the last 24 hours")


class WebhooksStatus(ApiModel):
    topics: list[WebhookTopicStatus]
    last_delivery_at: str | None = Field(default=None, description="when a delivery of this store was last processed")
    checked_at: str | None = Field(default=None, description="the last health run")
    error: str | None = Field(default=None, description="why the last registration or health run failed")
    failing_since: str | None = None


class IngestStatusResponse(ApiModel):
    store_id: str
    counts: dict[str, int]
    stats: dict[str, Any] = Field(description="counters kept by the ingest pipeline")
    last_event_at: str | None = Field(default=None, description="when a delivery of this store was last processed")
    backfill: list[BackfillProgress]
    rejected_events: int = Field(description="deliveries rejected in the last 24 hours")
    last_rejection: str | None = None
    webhook_health: str = Field(description="ok, failing (rejections in the last 24 hours) or silent (no event yet)")
    webhooks: WebhooksStatus = Field(description="LuxeBrain's webhooks on the store, per topic")


@router.get("/{store_id}/ingest-status", response_model=IngestStatusResponse, summary="Ingest counts and health")
def ingest_status(
    store_id: StoreId,
    principal: TenantMember,
    records: Ingest,
    tenants: Tenants,
    catalogue: Catalogue,
    customers: Customers,
) -> IngestStatusResponse:
    # NotFoundError (404) for another tenant's store
    status = store_ingest_status(
        principal.require_tenant(), store_id, records=records, tenants=tenants, catalogue=catalogue, customers=customers
    )
    return IngestStatusResponse(
        store_id=store_id,
        counts=status.counts,
        stats=status.stats,
        last_event_at=status.last_event_at,
        backfill=[
            BackfillProgress(
                resource=item.resource,
                status=item.status,
                items_done=int(item.items_done or 0),
                total=None if item.total_items is None else int(item.total_items),
                eta_seconds=eta_seconds(item, datetime.now(UTC)),
                next_page=int(item.next_page or 1),
                total_pages=None if item.total_pages is None else int(item.total_pages),
                watermark=item.watermark_gmt,
            )
            for item in status.backfill
        ],
        rejected_events=status.rejected_last_24h,
        last_rejection=status.last_rejection,
        webhook_health=status.webhook_health,
        webhooks=WebhooksStatus(
            topics=[
                WebhookTopicStatus(
                    topic=topic,
                    status=str(entry.get("status") or "unknown"),
                    webhook_id=entry.get("webhook_id"),
                    times_found_off=int(entry.get("times_found_off", 0)),
                    re_enables=int(entry.get("re_enables", 0)),
                    last_re_enabled_at=entry.get("last_re_enabled_at"),
                    last_delivery_at=entry.get("last_delivery_at"),
                    rejected_last_24h=int(entry.get("rejected_last_24h", 0)),
                )
                for topic, entry in sorted((status.webhooks.get("topics") or {}).items())
            ],
            last_delivery_at=status.last_event_at,
            checked_at=status.webhooks.get("checked_at"),
            error=status.webhooks.get("error"),
            failing_since=status.webhooks.get("failing_since"),
        ),
    )

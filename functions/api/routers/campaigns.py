"""Campaigns: results per arm (sends, deliveries, opens, clicks, conversions, revenue, lift with always-valid
intervals), template preview with sample data, one-off campaigns, consent records, campaign settings, and the
public unsubscribe link (no login: the HMAC-signed token is the proof, and it names its tenant).
"""

from __future__ import annotations

import html
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse
from pydantic import ConfigDict, Field, field_validator

from api.dependencies import (
    Campaigns,
    Catalogue,
    Customers,
    OwnerOnly,
    SecretsVault,
    StaffOrOwner,
    TenantMember,
    Tenants,
)
from luxebrain.auth.principal import AuthKind
from luxebrain.billing.plans import require_channel
from luxebrain.campaigns.config import CampaignSettings, load_campaign_settings, save_campaign_settings
from luxebrain.campaigns.consent import consent_history, get_consent, record_consent, unsubscribe_with_token
from luxebrain.campaigns.flows import FLOW_DEFAULTS, flow_settings
from luxebrain.campaigns.oneoff import CampaignSpec, campaign_flow, create_campaign
from luxebrain.campaigns.products import load_catalog
from luxebrain.campaigns.results import flow_results
from luxebrain.campaigns.templates import (
    DEFAULT_TEMPLATES,
    TEMPLATE_PARTS,
    render_email,
    render_short_message,
    template_for,
    validate_template,
)
from luxebrain.campaigns.tokens import InvalidTokenError
from luxebrain.storage.campaigns import Campaign
from luxebrain.storage.catalogue import CatalogueRepository
from luxebrain.storage.tenants import TenantRepository
from luxebrain.tenancy import ENTITY_ID_PATTERN
from luxebrain.text import plausible_moment
from luxebrain.webapi.models import ApiModel

router = APIRouter(prefix="/campaigns", tags=["campaigns"])

CustomerId = Annotated[str, Path(pattern=ENTITY_ID_PATTERN.pattern, max_length=128)]
ChannelName = Annotated[Literal["email", "sms", "whatsapp"], Path()]
FlowName = Annotated[str, Path(pattern=r"^[a-z0-9_-]{1,64}$")]
Token = Annotated[str, Path(min_length=10, max_length=1000, pattern=r"^[A-Za-z0-9._-]+$")]


# ----------------------------------------------------------------------------- results
@router.get("/flows/{flow}/results", summary="Results of a flow per arm, with lift over its hold-out")
def flow_result(
    flow: FlowName, principal: TenantMember, campaigns: Campaigns, tenants: Tenants, customers: Customers
) -> dict[str, Any]:
    tenant_id = principal.require_tenant()
    config = flow_settings(load_campaign_settings(tenant_id, tenants=tenants), flow)
    return flow_results(
        tenant_id,
        flow,
        campaigns=campaigns,
        customers=customers,
        conversion_window_days=config.conversion_window_days,
        holdout_fraction=config.holdout_fraction,
    )


class FlowOverview(ApiModel):
    flow: str
    enabled: bool
    channel: Literal["email", "sms", "whatsapp"]
    template: dict[str, str] = Field(description="what the flow sends: the tenant's parts over the defaults")
    default: dict[str, str] = Field(description="LuxeBrain's template of the flow, for each part")
    customised: list[str] = Field(description="the parts the tenant changed")


class FlowsResponse(ApiModel):
    flows: list[FlowOverview]


@router.get("/flows", response_model=FlowsResponse, summary="The flows: on or off, channel, and their templates")
def flows(principal: TenantMember, tenants: Tenants) -> FlowsResponse:
    settings = load_campaign_settings(principal.require_tenant(), tenants=tenants)
    answer = []
    for flow in FLOW_DEFAULTS:
        config = flow_settings(settings, flow)
        own = {part: source for part, source in settings.templates.get(flow, {}).items() if part in TEMPLATE_PARTS}
        answer.append(
            FlowOverview(
                flow=flow,
                enabled=config.enabled,
                channel=config.channel,
                template=template_for(flow, own),
                default=dict(DEFAULT_TEMPLATES[flow]),
                customised=sorted(own),
            )
        )
    return FlowsResponse(flows=answer)


@router.get("", summary="One-off campaigns")
def campaigns(principal: TenantMember, repository: Campaigns) -> dict[str, Any]:
    items = repository.list_campaigns(principal.require_tenant())
    return {"items": [_campaign(item) for item in items]}


@router.post("", status_code=201, summary="Schedule a one-off campaign to a segment (optionally an A/B test)")
def schedule_campaign(
    spec: CampaignSpec, principal: StaffOrOwner, campaigns: Campaigns, tenants: Tenants
) -> dict[str, Any]:
    return _campaign(create_campaign(principal.require_tenant(), spec, campaigns=campaigns, tenants=tenants))


@router.get("/{campaign_id}/results", summary="Results of a one-off campaign per arm")
def campaign_result(
    campaign_id: Annotated[str, Path(pattern=r"^[a-z0-9]{1,40}$")],
    principal: TenantMember,
    campaigns: Campaigns,
    customers: Customers,
) -> dict[str, Any]:
    tenant_id = principal.require_tenant()
    campaign = campaigns.get_campaign(tenant_id, campaign_id)
    ab = dict(campaign.ab_test or {})
    return flow_results(
        tenant_id,
        campaign_flow(campaign_id),
        campaigns=campaigns,
        customers=customers,
        conversion_window_days=int(ab.get("conversion_window_days", 7)),
        holdout_fraction=float(ab.get("holdout_fraction", 0.1)),
    )


def _campaign(item: Campaign) -> dict[str, Any]:
    return {
        "campaign_id": item.campaign_id,
        "name": item.name,
        "segment": item.segment,
        "channel": item.channel,
        "scheduled_at": item.scheduled_at.isoformat(),
        "status": item.status,
        "ab_test": item.ab_test,
        "stats": item.stats,
    }


# ----------------------------------------------------------------------------- preview
class PreviewRequest(ApiModel):
    model_config = ConfigDict(extra="forbid")

    flow: Literal[tuple(DEFAULT_TEMPLATES)] = "campaign"  # type: ignore[valid-type]
    channel: Literal["email", "sms", "whatsapp"] = "email"
    template: dict[str, str] = Field(default_factory=dict, description=f"overrides of: {', '.join(TEMPLATE_PARTS)}")


@router.post("/preview", summary="Render a template with sample data (the tenant's branding and products)")
def preview(body: PreviewRequest, principal: StaffOrOwner, tenants: Tenants, catalogue: Catalogue) -> dict[str, Any]:
    tenant_id = principal.require_tenant()
    validate_template(body.template)
    settings = load_campaign_settings(tenant_id, tenants=tenants)
    template = template_for(body.flow, {**settings.templates.get(body.flow, {}), **body.template})
    context = _sample_context(tenant_id, settings, tenants, catalogue)
    if body.channel == "email":
        rendered = render_email(template, context)
        return {"subject": rendered.subject, "html": rendered.html, "text": rendered.text}
    return {"text": render_short_message(template, context)}


def _sample_context(
    tenant_id: str, settings: CampaignSettings, tenants: TenantRepository, catalogue: CatalogueRepository
) -> dict[str, Any]:
    catalog = load_catalog(tenant_id, tenants=tenants, catalogue=catalogue)
    store_url = catalog.store_url or settings.branding.store_url
    in_stock = [p for p in catalog.products.values() if p.in_stock and p.published][:4]
    products = [p.as_context(store_url) for p in in_stock]
    first = products[0] if products else {"product_id": "1", "name": "Sample product", "price": 100.0, "url": store_url}
    return {
        "customer": {"first_name": "Camille", "country": "FR"},
        "store": {**settings.branding.model_dump(), "store_url": store_url},
        "currency": catalog.currency,
        "products": products[1:4],
        "cart": {
            "lines": [{"name": first["name"], "quantity": 1, "total": first["price"]}],
            "currency": catalog.currency,
            "url": f"{store_url.rstrip('/')}/cart/",
        },
        "order": {"first_item": first["name"], "lines": []},
        "product": {**first, "previous_price": round(float(first["price"]) * 1.2, 2)},
        "unsubscribe_url": "https://example.invalid/unsubscribe-preview",
        "unsubscribe_token": "preview",
    }


# ----------------------------------------------------------------------------- consent
class ConsentUpdate(ApiModel):
    model_config = ConfigDict(extra="forbid")

    granted: bool
    source: str = Field(min_length=1, max_length=100, description="where the consent was given or withdrawn")
    recorded_at: datetime | None = None

    @field_validator("recorded_at")
    @classmethod
    def _plausible(cls, value: datetime | None) -> datetime | None:
        return None if value is None else plausible_moment(value)


@router.get("/consent/{customer_id}/{channel}", summary="A customer's consent for a channel, with history")
def consent(
    customer_id: CustomerId, channel: ChannelName, principal: TenantMember, campaigns: Campaigns
) -> dict[str, Any]:
    tenant_id = principal.require_tenant()
    state = get_consent(tenant_id, customer_id, channel, campaigns=campaigns)
    return {
        "customer_id": customer_id,
        "channel": channel,
        "granted": bool(state and state.granted),
        "recorded": state is not None,
        "history": consent_history(tenant_id, customer_id, channel, campaigns=campaigns),
    }


@router.put("/consent/{customer_id}/{channel}", summary="Record consent given or withdrawn (with its source)")
def put_consent(
    customer_id: CustomerId, channel: ChannelName, body: ConsentUpdate, principal: StaffOrOwner, campaigns: Campaigns
) -> dict[str, Any]:
    state = record_consent(
        principal.require_tenant(),
        customer_id,
        channel,
        granted=body.granted,
        source=body.source,
        at=body.recorded_at,
        campaigns=campaigns,
    )
    return {"customer_id": customer_id, "channel": channel, "granted": state.granted, "source": state.source}


# ----------------------------------------------------------------------------- settings
@router.get("/settings", summary="Campaign settings: branding, consent rule, quiet hours, caps, flows")
def get_settings(principal: TenantMember, tenants: Tenants) -> dict[str, Any]:
    return load_campaign_settings(principal.require_tenant(), tenants=tenants).model_dump(mode="json")


@router.put("/settings", summary="Replace the campaign settings (templates are compiled before saving)")
def put_settings(body: CampaignSettings, principal: OwnerOnly, tenants: Tenants) -> dict[str, Any]:
    for parts in body.templates.values():
        validate_template(parts)
    for flow in body.flows.values():
        if flow.enabled:
            require_channel(principal.require_tenant(), flow.channel, tenants=tenants)
        for parts in flow.variants.values():
            validate_template(parts)
    save_campaign_settings(
        principal.require_tenant(), body, tenants=tenants, may_assign_senders=principal.kind is AuthKind.IMPERSONATION
    )
    return body.model_dump(mode="json")


# ----------------------------------------------------------------------------- unsubscribe (public)
_PAGE = """<!doctype html><html><head><meta charset="utf-8"><meta name="robots" content="noindex">
<title>{title}</title></head><body style="font-family:Georgia,serif;max-width:32em;margin:4em auto">
<h1 style="font-weight:normal">{title}</h1><p>{body}</p></body></html>"""


@router.get("/unsubscribe/{token}", response_class=HTMLResponse, summary="Unsubscribe page (public, signed link)")
def unsubscribe_page(token: Token, keys: SecretsVault, campaigns: Campaigns, tenants: Tenants) -> HTMLResponse:
    # A GET only shows a button: link scanners in mail gateways follow links and must not unsubscribe anyone.
    try:
        from luxebrain.campaigns.tokens import verify_unsubscribe_token

        verify_unsubscribe_token(token, keys=keys, campaigns=campaigns, tenants=tenants)
    except InvalidTokenError:
        return HTMLResponse(_PAGE.format(title="Link not valid", body="This unsubscribe link is not valid."), 400)
    form = f'<form method="post" action="{html.escape(token)}"><button type="submit">Unsubscribe</button></form>'
    return HTMLResponse(_PAGE.format(title="Unsubscribe", body="Stop receiving these messages?" + form))


@router.post("/unsubscribe/{token}", response_class=HTMLResponse, summary="One-click unsubscribe (RFC 8058)")
async def unsubscribe(
    token: Token,
    request: Request,
    keys: SecretsVault,
    campaigns: Campaigns,
    tenants: Tenants,
    customers: Customers,
) -> HTMLResponse:
    """Mail clients POST ``List-Unsubscribe=One-Click``; the page's button posts an empty form. Either way the
    consent is withdrawn and the address suppressed for this tenant, at once."""
    body = (await request.body())[:200].decode("utf-8", "replace")
    source = "one-click-unsubscribe" if "List-Unsubscribe=One-Click" in body else "unsubscribe-link"
    try:
        unsubscribe_with_token(
            token, keys=keys, campaigns=campaigns, tenants=tenants, customers=customers, source=source
        )
    except InvalidTokenError:
        return HTMLResponse(_PAGE.format(title="Link not valid", body="This unsubscribe link is not valid."), 400)
    return HTMLResponse(_PAGE.format(title="Unsubscribed", body="You will not receive these messages any more."))

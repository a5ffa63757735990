"""A tenant's campaign settings (branding, consent jurisdiction, quiet hours, caps, channel numbers, flow
windows), read from the tenant record's ``settings["campaigns"]`` with safe defaults."""

from __future__ import annotations

from datetime import time
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from luxebrain.errors import ForbiddenError, InvalidInputError
from luxebrain.text import PlainLine

if TYPE_CHECKING:
    from luxebrain.storage.tenants import TenantRepository

Channel = Literal["email", "sms", "whatsapp"]
CHANNELS: tuple[Channel, ...] = ("email", "sms", "whatsapp")
FLOWS: tuple[str, ...] = ("abandoned_cart", "welcome", "post_purchase", "win_back", "back_in_stock", "price_drop")


class Branding(BaseModel):
    model_config = ConfigDict(extra="forbid")

    store_name: PlainLine = Field(default="Our store", max_length=120)
    logo_url: str | None = None
    primary_color: str = Field(default="#111111", pattern=r"^#[0-9a-fA-F]{6}$")
    accent_color: str = Field(default="#b8860b", pattern=r"^#[0-9a-fA-F]{6}$")
    footer_address: PlainLine = Field(default="", max_length=300)
    store_url: str = "https://shop.example"

    @field_validator("logo_url", "store_url")
    @classmethod
    def _web_url(cls, value: str | None) -> str | None:
        # These land in href / src attributes of every message: javascript:, data: and the like are refused.
        if value is None:
            return value
        parts = urlsplit(value)
        if parts.scheme not in ("https", "http") or not parts.netloc or any(ord(c) < 33 for c in value):
            raise ValueError("must be an http(s):// URL")
        return value


class FrequencyCap(BaseModel):
    model_config = ConfigDict(extra="forbid")

    max_messages: int = Field(default=3, ge=1, le=100)
    per_days: int = Field(default=7, ge=1, le=90)


class QuietHours(BaseModel):
    """Local time of the recipient; a window that wraps midnight (21:00-09:00) is allowed."""

    model_config = ConfigDict(extra="forbid")

    start: time = time(21, 0)
    end: time = time(9, 0)

    def contains(self, moment: time) -> bool:
        if self.start <= self.end:
            return self.start <= moment < self.end
        return moment >= self.start or moment < self.end


class FlowSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    channel: Channel = "email"
    # Abandoned cart: a cart older than this and not paid is abandoned; older than max_age_hours, too late.
    delay_minutes: int = Field(default=60, ge=5, le=10080)
    max_age_hours: int = Field(default=72, ge=1, le=8760)
    conversion_window_days: int = Field(default=7, ge=1, le=60)
    holdout_fraction: float = Field(default=0.1, ge=0.0, le=0.5)
    # Optional A/B test of the flow's message: variant name -> template overrides (subject, html, text, sms).
    variants: dict[str, dict[str, str]] = Field(default_factory=dict)


class CampaignSettings(BaseModel):
    """Everything a tenant can set about its campaigns. Unknown keys are an error, not silently ignored."""

    model_config = ConfigDict(extra="forbid")

    branding: Branding = Field(default_factory=Branding)
    # opt_in: marketing e-mail only with recorded consent (EU / UK GDPR + ePrivacy);
    # soft_opt_in: existing customers may be e-mailed until they object (UK PECR soft opt-in, US CAN-SPAM).
    # SMS and WhatsApp always need recorded opt-in, whatever this says.
    email_consent_rule: Literal["opt_in", "soft_opt_in"] = "opt_in"
    default_timezone: str = "UTC"
    quiet_hours: QuietHours = Field(default_factory=QuietHours)
    frequency_caps: dict[str, FrequencyCap] = Field(
        default_factory=lambda: {
            "email": FrequencyCap(max_messages=3, per_days=7),
            "sms": FrequencyCap(max_messages=2, per_days=7),
            "whatsapp": FrequencyCap(max_messages=2, per_days=7),
        }
    )
    sms_origination_number: str | None = None
    whatsapp_phone_number_id: str | None = None
    flows: dict[str, FlowSettings] = Field(default_factory=dict)
    templates: dict[str, dict[str, str]] = Field(default_factory=dict)  # tenant-edited, per flow

    def flow(self, name: str) -> FlowSettings:
        return self.flows.get(name) or FlowSettings()

    def cap(self, channel: str) -> FrequencyCap:
        return self.frequency_caps.get(channel) or FrequencyCap()


def parse_campaign_settings(raw: object) -> CampaignSettings:
    try:
        return CampaignSettings.model_validate(raw or {})
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in error['loc'])}: {error['msg']}" for error in exc.errors())
        raise InvalidInputError(f"invalid campaign settings: {problems}") from None


def load_campaign_settings(tenant_id: str, *, tenants: TenantRepository) -> CampaignSettings:
    tenant = tenants.get_tenant(tenant_id)
    settings = parse_campaign_settings((tenant.settings or {}).get("campaigns"))
    if settings.branding.store_name == "Our store":
        settings.branding.store_name = tenant.name
    return settings


SENDER_FIELDS = ("sms_origination_number", "whatsapp_phone_number_id")


def save_campaign_settings(
    tenant_id: str, settings: CampaignSettings, *, tenants: TenantRepository, may_assign_senders: bool = False
) -> None:
    """Store a tenant's campaign settings. The SMS number and WhatsApp sender belong to the platform's account
    and route inbound STOP replies, so only a platform admin (acting in the tenant) may change them: a tenant
    naming another tenant's number would send as them."""

    def change(current_settings: dict[str, Any]) -> dict[str, Any]:
        current = parse_campaign_settings(current_settings.get("campaigns"))
        changed = [name for name in SENDER_FIELDS if getattr(settings, name) != getattr(current, name)]
        if changed and not may_assign_senders:
            raise ForbiddenError(f"{', '.join(changed)} can only be assigned by a platform admin")
        return {**current_settings, "campaigns": settings.model_dump(mode="json")}

    tenants.update_tenant_settings(tenant_id, change)

"""Configuration: read once from environment variables into one validated pydantic model.

The same variables are set by infra/template.yaml (Globals) in AWS and by the embedded local AWS
(luxebrain_dev.local, the development package), so no code path knows which one it runs on.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from functools import lru_cache
from typing import Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from luxebrain.errors import ConfigurationError

AppEnv = Literal["local", "dev", "prod"]


class Settings(BaseModel):
    """Every setting LuxeBrain reads; the alias is the environment variable."""

    model_config = ConfigDict(frozen=True, populate_by_name=True, extra="ignore")

    app_env: AppEnv = Field(alias="APP_ENV")
    aws_region: str = Field(default="us-east-1", validation_alias=AliasChoices("AWS_REGION", "AWS_DEFAULT_REGION"))
    table_name: str = Field(alias="LUXEBRAIN_TABLE_NAME", min_length=3, max_length=255)
    models_bucket: str = Field(alias="LUXEBRAIN_MODELS_BUCKET", min_length=3, max_length=63)
    secrets_key_id: str | None = Field(default=None, alias="LUXEBRAIN_SECRETS_KEY_ID")
    ingest_queue_url: str | None = Field(default=None, alias="LUXEBRAIN_INGEST_QUEUE_URL")
    train_queue_url: str | None = Field(default=None, alias="LUXEBRAIN_TRAIN_QUEUE_URL")
    backfill_queue_url: str | None = Field(default=None, alias="LUXEBRAIN_BACKFILL_QUEUE_URL")
    # Personal-data jobs (a customer's export or erasure, a tenant's deletion) for the privacy worker.
    privacy_queue_url: str | None = Field(default=None, alias="LUXEBRAIN_PRIVACY_QUEUE_URL")
    user_pool_id: str | None = Field(default=None, alias="LUXEBRAIN_USER_POOL_ID")
    user_pool_client_id: str | None = Field(default=None, alias="LUXEBRAIN_USER_POOL_CLIENT_ID")
    # A second app client whose refresh tokens live hours, not days: logins without "remember me".
    user_pool_session_client_id: str | None = Field(default=None, alias="LUXEBRAIN_USER_POOL_SESSION_CLIENT_ID")
    # Comma-separated origins the API's CORS allows (the template's DashboardOrigins parameter).
    dashboard_origins: str = Field(default="", alias="LUXEBRAIN_DASHBOARD_ORIGINS")
    sender_email: str | None = Field(default=None, alias="LUXEBRAIN_SENDER_EMAIL")
    # Cognito's tokens name the real AWS issuer even when served elsewhere, so where the keys are
    # fetched from is a setting of its own (defaults to the issuer's well-known URL).
    jwks_url: str | None = Field(default=None, alias="LUXEBRAIN_JWKS_URL")
    # Training and model serving (issue 8). A new model version is rejected when its holdout metric is
    # worse than the current version's by more than this fraction (relative) and this absolute amount.
    training_max_relative_regression: float = Field(
        default=0.10, ge=0, le=1, alias="LUXEBRAIN_TRAINING_MAX_RELATIVE_REGRESSION"
    )
    training_min_absolute_regression: float = Field(
        default=0.005, ge=0, alias="LUXEBRAIN_TRAINING_MIN_ABSOLUTE_REGRESSION"
    )
    # Longer than the worker's 900 s timeout, shorter than the queue's 960 s visibility timeout: a crashed
    # run's lease has expired by the time its message is delivered again.
    training_lease_seconds: int = Field(default=930, ge=30, le=3600, alias="LUXEBRAIN_TRAINING_LEASE_SECONDS")
    training_retrain_min_interval_seconds: int = Field(
        default=1800, ge=0, alias="LUXEBRAIN_TRAINING_RETRAIN_MIN_INTERVAL_SECONDS"
    )
    training_snapshot_rebuild_days: float = Field(default=7.0, gt=0, alias="LUXEBRAIN_TRAINING_SNAPSHOT_REBUILD_DAYS")
    serving_version_check_seconds: float = Field(
        default=60.0, ge=0, le=3600, alias="LUXEBRAIN_SERVING_VERSION_CHECK_SECONDS"
    )
    serving_cache_max_entries: int = Field(default=256, ge=1, alias="LUXEBRAIN_SERVING_CACHE_MAX_ENTRIES")
    serving_cache_max_bytes: int = Field(default=512 * 1024 * 1024, ge=1024, alias="LUXEBRAIN_SERVING_CACHE_MAX_BYTES")
    # Campaigns: the send queue, the SES configuration set (bounce / complaint / open / click events) and
    # the public base URL unsubscribe links point at.
    campaign_send_queue_url: str | None = Field(default=None, alias="LUXEBRAIN_CAMPAIGN_SEND_QUEUE_URL")
    ses_configuration_set: str | None = Field(default=None, alias="LUXEBRAIN_SES_CONFIGURATION_SET")
    public_api_url: str = Field(default="https://api.luxebrain.example", alias="LUXEBRAIN_PUBLIC_API_URL")
    # The public ingest HTTP API (webhook deliveries, the wc-auth callback): its own host on AWS.
    ingest_api_url: str | None = Field(default=None, alias="LUXEBRAIN_INGEST_API_URL")
    # Where WooCommerce sends the merchant back after approving the connection.
    dashboard_url: str | None = Field(default=None, alias="LUXEBRAIN_DASHBOARD_URL")
    # Each sender worker paces itself; with the send queue's MaximumConcurrency of 2 this keeps within a new
    # SES account's 14 messages per second (raise both when AWS raises the account's quota).
    campaign_sends_per_second: float = Field(default=7.0, gt=0, le=1000, alias="LUXEBRAIN_CAMPAIGN_SENDS_PER_SECOND")
    # Store URLs on localhost over http (the local demo's fake WooCommerce). Only APP_ENV=local accepts it;
    # no request can turn it on (luxebrain.woocommerce.outbound).
    allow_local_stores: bool = Field(default=False, alias="LUXEBRAIN_ALLOW_LOCAL_STORES")

    @model_validator(mode="after")
    def _local_stores_only_locally(self) -> Settings:
        if self.allow_local_stores and self.app_env != "local":
            raise ValueError("LUXEBRAIN_ALLOW_LOCAL_STORES is only accepted with APP_ENV=local")
        return self

    def ingest_base_url(self) -> str:
        # No fallback to the main API: its catch-all route is behind the JWT authorizer, so a webhook or
        # callback URL on it would get a 401 from API Gateway.
        return self.require("ingest_api_url")

    def dashboard_base_url(self) -> str:
        origins = [origin.strip() for origin in self.dashboard_origins.split(",") if origin.strip()]
        return self.dashboard_url or (origins[0] if origins else self.public_api_url)

    @field_validator("table_name", "models_bucket")
    @classmethod
    def _no_whitespace(cls, value: str) -> str:
        if value.strip() != value or " " in value:
            raise ValueError("must not contain spaces")
        return value

    def require(self, field_name: str) -> str:
        """The value of an optional setting a caller cannot work without, or a clear error naming it."""
        value = getattr(self, field_name)
        if not value:
            alias = type(self).model_fields[field_name].alias or field_name
            raise ConfigurationError(f"{alias} is not set; it is required here")
        return str(value)

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None = None) -> Settings:
        source = dict(os.environ if environ is None else environ)
        try:
            return cls.model_validate(source)
        except ValidationError as exc:
            raise ConfigurationError(_describe(exc)) from None


def _describe(exc: ValidationError) -> str:
    """One line per problem, naming the environment variable and what was wrong with it."""
    problems = []
    for error in exc.errors():
        variable = ".".join(str(part) for part in error["loc"]) or "configuration"
        message = "is not set" if error["type"] == "missing" else error["msg"]
        if error["type"] != "missing" and "input" in error:
            message += f" (got {error['input']!r})"
        problems.append(f"{variable} {message}")
    return "invalid configuration: " + "; ".join(problems)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The settings of this process, read once (per Lambda execution environment)."""
    return Settings.from_environ()


def reset_settings() -> None:
    """Forget the cached settings (tests and the local runtime change the environment)."""
    get_settings.cache_clear()

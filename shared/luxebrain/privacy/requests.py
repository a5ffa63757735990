"""What a personal-data job is asked to do: the message the API queues and the privacy worker reads."""

from __future__ import annotations

import hashlib
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from luxebrain.tenancy import validate_entity_id, validate_tenant_id


class JobKind(StrEnum):
    CUSTOMER_EXPORT = "customer_export"
    CUSTOMER_ERASURE = "customer_erasure"
    TENANT_DELETION = "tenant_deletion"


CUSTOMER_KINDS = frozenset({JobKind.CUSTOMER_EXPORT, JobKind.CUSTOMER_ERASURE})


class PrivacyJobMessage(BaseModel):
    """One job on the privacy queue; the job's record (``storage.privacy_jobs``) holds its progress."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    job_id: str = Field(pattern=r"^pj-[0-9a-f]{24}$")
    tenant_id: str
    kind: JobKind
    customer_id: str | None = None
    requested_by: str = Field(min_length=1, max_length=256)

    @field_validator("tenant_id")
    @classmethod
    def _tenant(cls, value: str) -> str:
        validate_tenant_id(value)
        return value

    @model_validator(mode="after")
    def _subject(self) -> PrivacyJobMessage:
        if self.kind in CUSTOMER_KINDS:
            if self.customer_id is None:
                raise ValueError(f"a {self.kind} job names its customer")
            validate_entity_id(self.customer_id, "customer id")
        elif self.customer_id is not None:
            raise ValueError("a tenant deletion names no customer")
        return self


def subject_fingerprint(tenant_id: str, customer_id: str) -> str:
    """What a job record and the audit log keep instead of the customer id (an erasure must not leave the id
    behind; the same customer still matches their earlier requests)."""
    return hashlib.sha256(f"{tenant_id}:{customer_id}".encode()).hexdigest()

"""Sender domains (seed 004's ``/domains``), in coldflow's envelope."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from coldflow.models.domain import DomainState

HOST = r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$"
SELECTOR = r"^[A-Za-z0-9]([A-Za-z0-9._-]{0,61}[A-Za-z0-9])?$"


class DomainCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"domain": "yourdomain.com", "dkim_selector": "google"}]},
    )

    domain: str = Field(max_length=253, description="Lower-case host name, e.g. yourdomain.com")
    dkim_selector: str | None = Field(default=None, pattern=SELECTOR)
    tracking_domain: str | None = Field(
        default=None, description="A custom tracking host that must CNAME to coldflow"
    )


class DomainUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    dkim_selector: str | None = Field(default=None, pattern=SELECTOR)
    tracking_domain: str | None = None


class DomainCheckRead(BaseModel):
    name: str = Field(description="mx, spf, dkim, dmarc or tracking")
    status: str = Field(description="pass, warn, fail or skipped")
    found: str | None
    hint: str | None = Field(description="One line: what to change in DNS")


class DomainRead(BaseModel):
    id: str
    domain: str
    status: DomainState
    dkim_selector: str | None
    tracking_domain: str | None
    inbox_count: int
    checks: list[DomainCheckRead]
    checked_at: datetime | None
    created_at: datetime
    updated_at: datetime

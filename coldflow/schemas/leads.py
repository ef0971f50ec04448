"""Request and response shapes of the leads API (seed 000's batch body, seed 003's fields)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from coldflow.models import JourneyState, LeadStatus
from coldflow.schemas.common import Email

MAX_BATCH = 100

CustomValue = str | int | float | bool | None


class IfExists(StrEnum):
    fail = "fail"
    skip = "skip"
    update = "update"


class LeadIn(BaseModel):
    """One lead; unknown top-level fields (``title``…) become custom variables."""

    model_config = ConfigDict(extra="allow")

    email: Email
    first_name: str = Field(default="", max_length=200)
    last_name: str = Field(default="", max_length=200)
    company: str = Field(default="", max_length=200)
    timezone: str | None = Field(default=None, max_length=64)
    custom_fields: dict[str, CustomValue] = Field(default_factory=dict)


class LeadsCreate(BaseModel):
    """Seed 000's body: ``{"leads": [...]}`` with up to 100 leads."""

    leads: list[LeadIn] = Field(min_length=1)
    if_exists: IfExists = IfExists.skip


class LeadResultStatus(StrEnum):
    created = "created"
    updated = "updated"
    skipped = "skipped"
    failed = "failed"


class LeadResult(BaseModel):
    index: int
    email: str | None
    status: LeadResultStatus
    id: str | None = None
    error: dict[str, str] | None = None


class LeadsCreated(BaseModel):
    total: int
    created: int
    updated: int
    skipped: int
    failed: int
    results: list[LeadResult]


class JourneyView(BaseModel):
    state: JourneyState
    current_step: int
    next_send_at: datetime | None
    hold_reason: str | None
    workflow_id: str
    temporal_ui_url: str | None


class LeadRead(BaseModel):
    id: str
    campaign_id: str
    email: str
    first_name: str
    last_name: str
    company: str
    timezone: str | None
    variables: dict[str, str]
    status: LeadStatus
    is_bounced: bool
    is_unsubscribed: bool
    journey: JourneyView
    created_at: datetime
    updated_at: datetime

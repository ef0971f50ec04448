"""Request and response shapes of the leads API (seed 000's batch body, seed 003's fields)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, PlainValidator, WithJsonSchema

from coldflow.models import ImportKind, ImportStatus, JourneyState, LeadStatus
from coldflow.schemas.common import Email

MAX_BATCH = 100


def _scalar(value: object) -> str | int | float | bool | None:
    if value is None or isinstance(value, str | int | float | bool):
        return value
    raise ValueError("must be text, a number, a boolean or null")


CustomValue = Annotated[
    str | int | float | bool | None,
    PlainValidator(_scalar),
    WithJsonSchema({"type": ["string", "number", "boolean", "null"]}),
]
"""A variable's value: one error naming the field, not one per member of a union."""


class IfExists(StrEnum):
    fail = "fail"
    skip = "skip"
    update = "update"


class LeadIn(BaseModel):
    """One lead; unknown top-level fields (``title``…) become variables, like ``custom_fields``."""

    model_config = ConfigDict(extra="allow")

    email: Email
    first_name: str = Field(default="", max_length=200)
    last_name: str = Field(default="", max_length=200)
    company: str = Field(default="", max_length=200)
    timezone: str | None = Field(default=None, max_length=64)
    variables: dict[str, CustomValue] = Field(default_factory=dict)
    custom_fields: dict[str, CustomValue] = Field(default_factory=dict)
    # Unknown fields become variables, so they are validated like them (text, numbers, booleans).
    __pydantic_extra__: dict[str, CustomValue] = Field(init=False)


class LeadCreate(LeadIn):
    """Seed 003's single-lead body; ``if_exists`` defaults to ``fail`` (409)."""

    model_config = ConfigDict(
        extra="allow",
        json_schema_extra={
            "examples": [
                {
                    "email": "sarah@example.com",
                    "first_name": "Sarah",
                    "variables": {"company": "Acme", "role": "VP Sales"},
                }
            ]
        },
    )

    if_exists: IfExists = IfExists.fail


class LeadsCreate(BaseModel):
    """Seed 000's body: ``{"leads": [...]}``, up to 100; ``if_exists`` defaults to skip."""

    model_config = ConfigDict(extra="forbid")

    leads: list[LeadIn] = Field(min_length=1)
    if_exists: IfExists = IfExists.skip


class ListEnroll(BaseModel):
    """Enrol a contact list (seed 004): its subscribed contacts become leads, in the background."""

    model_config = ConfigDict(
        extra="forbid",
        populate_by_name=True,
        json_schema_extra={"examples": [{"list_id": "0b7c6a52-3d4e-4f51-9a8b-1c2d3e4f5a6b"}]},
    )

    list_id: str = Field(
        max_length=36,
        validation_alias=AliasChoices("list_id", "listId"),
        serialization_alias="list_id",
    )
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
    """Seed 003's lead, plus company, timezone and the ``journey`` block."""

    id: str
    campaign_id: str
    email: str
    first_name: str
    last_name: str
    company: str
    timezone: str | None
    provider: str
    variables: dict[str, str]
    status: LeadStatus
    is_bounced: bool
    is_unsubscribed: bool
    interest_status: str | None = None
    journey: JourneyView
    created_at: datetime
    updated_at: datetime


class LeadImportRead(BaseModel):
    """Progress of an import (a CSV, or a contact list enrolled into a campaign); ``errors``
    keeps the first 1,000 failed rows (for a list, ``row`` is the contact's position)."""

    id: str
    kind: ImportKind
    campaign_id: str | None
    list_id: str | None
    filename: str
    status: ImportStatus
    total_rows: int
    processed_rows: int
    created: int
    updated: int
    skipped: int
    failed: int
    errors: list[dict[str, object]]
    error: str | None
    created_at: datetime
    finished_at: datetime | None


class InterestStatus(StrEnum):
    """Seed 002's lead status set by a person or a CRM: Interested, Not Interested, Meeting
    Booked."""

    interested = "interested"
    not_interested = "not_interested"
    meeting_booked = "meeting_booked"


class LeadUpdate(BaseModel):
    """``PATCH`` a lead: its interest status (``null`` clears it)."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"interest_status": "meeting_booked"}]}
    )

    interest_status: InterestStatus | None


class LeadInterestRead(BaseModel):
    """The status as recorded: ``event_id`` is its ``lead.interest_updated`` event."""

    lead_id: str
    campaign_id: str
    email: str
    interest_status: InterestStatus | None
    event_id: str
    recorded_at: datetime

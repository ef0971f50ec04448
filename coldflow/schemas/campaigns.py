"""Request and response shapes of the campaigns API (seed 003's projection, seed 000's body)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, StringConstraints

from coldflow.models import CampaignStatus
from coldflow.schemas.sequences import SequenceRead

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=150)]


class Seed000Schedule(BaseModel):
    """Seed 000's inline schedule: named (or numbered) days and whole hours."""

    days: list[str | int] = Field(min_length=1)
    start_hour: int = Field(ge=0, le=23)
    end_hour: int = Field(ge=1, le=24)


class InlineStep(BaseModel):
    """Seed 000's inline step: ``delay_days`` counts from the previous step."""

    step: int | None = Field(default=None, ge=1)
    delay_days: int = Field(default=0, ge=0, le=365)
    subject: str = Field(default="", max_length=998)
    body: str = Field(default="", max_length=100_000)


class CampaignOptionsPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    daily_limit: int | None = Field(default=None, ge=0, le=100_000)
    stop_on_reply: bool | None = None
    stop_on_company_reply: bool | None = None
    text_only: bool | None = None
    esp_matching: bool | None = None
    unsubscribe_option: bool | None = None
    track_opens: bool | None = None
    track_clicks: bool | None = None


class CampaignCreate(CampaignOptionsPatch):
    """``name`` alone creates a draft; seed 000's full body is accepted as is."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "name": "Q2 Series B Outreach",
                    "daily_limit": 50,
                    "timezone": "America/New_York",
                    "schedule": {
                        "days": ["monday", "tuesday", "wednesday", "thursday", "friday"],
                        "start_hour": 8,
                        "end_hour": 17,
                    },
                    "sequences": [
                        {
                            "step": 1,
                            "delay_days": 0,
                            "subject": "{{company}} and pipeline visibility",
                            "body": "Hi {{first_name}},\n\nWorth a quick look?",
                        }
                    ],
                }
            ]
        },
    )

    name: Name
    timezone: str | None = None
    schedule: Seed000Schedule | dict[str, Any] | None = None
    sequences: list[InlineStep] | None = Field(default=None, max_length=50)
    inbox_ids: list[str] | None = None
    list_id: str | None = Field(
        default=None,
        max_length=36,
        validation_alias=AliasChoices("list_id", "listId"),
        description="Seed 004: enrol this contact list's contacts as leads, in the background "
        "(progress under GET /campaigns/{id}/imports)",
    )


class CampaignUpdate(CampaignOptionsPatch):
    name: Name | None = None
    status: CampaignStatus | None = None


class CampaignOptions(BaseModel):
    daily_limit: int
    stop_on_reply: bool
    stop_on_company_reply: bool
    text_only: bool
    esp_matching: bool
    unsubscribe_option: bool
    track_opens: bool
    track_clicks: bool


class InboxSummary(BaseModel):
    id: str
    email: str
    provider: str
    is_active: bool
    connection_status: str


class VariantStats(BaseModel):
    id: str
    enabled: bool
    sent: int = 0
    replies: int = 0
    reply_rate: float = 0.0
    positive_replies: int = 0
    positive_reply_rate: float = 0.0


class SequenceStats(BaseModel):
    id: str
    step: int
    variants: list[VariantStats]


class DailyStats(BaseModel):
    date: str
    sent: int
    replies: int


class CampaignStats(BaseModel):
    progress: int = 0
    sequence_steps: int = 0
    leads_count: int = 0
    sent: int = 0
    contacted: int = 0
    replies: int = 0
    reply_rate: float = 0.0
    positive_replies: int = 0
    positive_reply_rate: float = 0.0
    bounced: int = 0
    bounce_rate: float = 0.0
    daily: list[DailyStats] | None = None
    sequences: list[SequenceStats] | None = None


class CampaignRead(BaseModel):
    """Seed 003's campaign projection, plus the steps so seed 000's body reads back whole."""

    id: str
    name: str
    status: CampaignStatus
    progress: int
    options: CampaignOptions
    schedule: dict[str, Any]
    stats: CampaignStats
    inboxes: list[InboxSummary]
    sequences: list[SequenceRead] | None = None
    created_at: datetime
    updated_at: datetime


class DayPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool | None = None
    start: str | None = None
    end: str | None = None


class WindowPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    start: str
    end: str


class SchedulePatch(BaseModel):
    """Seed 003's schedule PATCH body: any subset; per-day ``null`` falls back to the default."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "timezone": "America/Chicago",
                    "default_window": {"start": "09:00", "end": "17:00"},
                    "days": {"friday": {"enabled": True, "start": "09:23", "end": "12:00"}},
                }
            ]
        },
    )

    timezone: str | None = None
    default_window: WindowPatch | None = None
    days: dict[str, DayPatch] | None = None

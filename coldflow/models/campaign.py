"""Campaigns, their steps and variants, and the inboxes they send from."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Index, UniqueConstraint
from sqlmodel import JSON, Field, SQLModel

from coldflow.ids import new_id
from coldflow.models.base import UTCDateTime, enum_type, utcnow


class CampaignStatus(StrEnum):
    draft = "draft"
    active = "active"
    paused = "paused"
    completed = "completed"


class StepCondition(StrEnum):
    """When a follow-up is sent (seed 001); evaluated just before the step's send."""

    always = "always"
    not_replied = "not_replied"
    not_opened = "not_opened"
    opened_not_replied = "opened_not_replied"


class Campaign(SQLModel, table=True):
    """A campaign with its options inline and its schedule as seed 003's JSON document."""

    __tablename__ = "campaigns"
    __table_args__ = (
        Index("ix_campaigns_workspace_status", "workspace_id", "status"),
        Index("ix_campaigns_workspace_name", "workspace_id", "name"),
        Index("ix_campaigns_workspace_created", "workspace_id", "created_at"),
    )

    id: str = Field(default_factory=new_id, primary_key=True)
    workspace_id: str = Field(foreign_key="workspaces.id", ondelete="CASCADE")
    name: str = Field(max_length=150)
    status: CampaignStatus = Field(default=CampaignStatus.draft, sa_type=enum_type(CampaignStatus))
    progress: int = 0
    daily_limit: int = 50
    stop_on_reply: bool = True
    stop_on_company_reply: bool = False
    text_only: bool = False
    esp_matching: bool = False
    unsubscribe_option: bool = True
    track_opens: bool = False
    track_clicks: bool = False
    schedule: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    activated_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class Step(SQLModel, table=True):
    """One step of a sequence; ``delay_days`` is the wait after this step (null on the last)."""

    __tablename__ = "steps"
    __table_args__ = (UniqueConstraint("campaign_id", "position", name="uq_steps_position"),)

    id: str = Field(default_factory=new_id, primary_key=True)
    campaign_id: str = Field(foreign_key="campaigns.id", index=True, ondelete="CASCADE")
    position: int
    delay_days: int | None = None
    condition: StepCondition = Field(
        default=StepCondition.not_replied, sa_type=enum_type(StepCondition)
    )
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Variant(SQLModel, table=True):
    """An A/B variant of a step; ``weight`` is its share of sends in percent (seed 001)."""

    __tablename__ = "variants"
    __table_args__ = (UniqueConstraint("step_id", "label", name="uq_variants_label"),)

    id: str = Field(default_factory=new_id, primary_key=True)
    step_id: str = Field(foreign_key="steps.id", index=True, ondelete="CASCADE")
    label: str = Field(max_length=4)
    subject: str = ""
    body: str = ""
    weight: int = 100
    enabled: bool = True
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class CampaignInbox(SQLModel, table=True):
    """Which inboxes a campaign rotates across."""

    __tablename__ = "campaign_inboxes"

    campaign_id: str = Field(foreign_key="campaigns.id", primary_key=True, ondelete="CASCADE")
    inbox_id: str = Field(
        foreign_key="inboxes.id", primary_key=True, index=True, ondelete="CASCADE"
    )
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)

"""Leads: one person enrolled in one campaign, with the state of their journey."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Index, UniqueConstraint
from sqlmodel import JSON, Field, SQLModel

from coldflow.ids import new_id
from coldflow.models.base import UTCDateTime, enum_type, utcnow


class LeadStatus(StrEnum):
    uncontacted = "uncontacted"
    contacted = "contacted"
    replied = "replied"


class JourneyState(StrEnum):
    """Where the lead's workflow is; mirrored from the workflow by its activities."""

    not_started = "not_started"
    waiting = "waiting"
    sending = "sending"
    paused = "paused"
    held = "held"
    stopped = "stopped"
    completed = "completed"


class Lead(SQLModel, table=True):
    """A lead; ``variables`` holds custom columns under normalised names."""

    __tablename__ = "leads"
    __table_args__ = (
        UniqueConstraint("campaign_id", "email", name="uq_leads_campaign_email"),
        Index("ix_leads_workspace_email", "workspace_id", "email"),
        Index("ix_leads_campaign_state", "campaign_id", "journey_state"),
        Index("ix_leads_workspace_company_domain", "workspace_id", "company_domain"),
    )

    id: str = Field(default_factory=new_id, primary_key=True)
    workspace_id: str = Field(foreign_key="workspaces.id", ondelete="CASCADE")
    campaign_id: str = Field(foreign_key="campaigns.id", index=True, ondelete="CASCADE")
    email: str = Field(max_length=320)
    first_name: str = Field(default="", max_length=200)
    last_name: str = Field(default="", max_length=200)
    company: str = Field(default="", max_length=200)
    company_domain: str = Field(default="", max_length=255)
    timezone: str | None = Field(default=None, max_length=64)
    variables: dict[str, str] = Field(default_factory=dict, sa_type=JSON)
    status: LeadStatus = Field(default=LeadStatus.uncontacted, sa_type=enum_type(LeadStatus))
    is_bounced: bool = False
    is_unsubscribed: bool = False
    journey_state: JourneyState = Field(
        default=JourneyState.not_started, sa_type=enum_type(JourneyState)
    )
    current_step: int = 0
    next_send_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    inbox_id: str | None = Field(default=None, foreign_key="inboxes.id", ondelete="SET NULL")
    hold_reason: str | None = None
    interest_status: str | None = Field(
        default=None, max_length=32, description="interested | not_interested | meeting_booked"
    )
    opened_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    clicked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)

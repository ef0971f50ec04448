"""Outgoing mail: one row per (lead, step) send, and the daily send counters."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Index, UniqueConstraint
from sqlmodel import JSON, Field, SQLModel

from coldflow.ids import new_id
from coldflow.models.base import UTCDateTime, enum_type, utcnow


class SendStatus(StrEnum):
    """``reserved`` is written before SMTP so a crash after the send can never send twice;
    ``queued`` is an API email accepted but not yet reserved by its send workflow."""

    queued = "queued"
    reserved = "reserved"
    sent = "sent"
    failed = "failed"
    bounced = "bounced"


class EmailSource(StrEnum):
    """Where a sent message came from: a journey step, or ``POST /emails`` (one-off or batch)."""

    campaign = "campaign"
    api = "api"


class SentMessage(SQLModel, table=True):
    """A message coldflow sends; unique per (lead, step) and per Message-ID."""

    __tablename__ = "sent_messages"
    __table_args__ = (
        UniqueConstraint("lead_id", "step", name="uq_sent_messages_lead_step"),
        Index("ix_sent_messages_campaign_sent", "campaign_id", "sent_at"),
        Index("ix_sent_messages_workspace_sent", "workspace_id", "sent_at"),
    )

    id: str = Field(default_factory=new_id, primary_key=True)
    workspace_id: str = Field(foreign_key="workspaces.id", ondelete="CASCADE")
    campaign_id: str | None = Field(default=None, foreign_key="campaigns.id", ondelete="CASCADE")
    lead_id: str | None = Field(default=None, foreign_key="leads.id", ondelete="CASCADE")
    step: int = 0
    variant_id: str | None = Field(default=None, max_length=36)
    inbox_id: str | None = Field(default=None, foreign_key="inboxes.id", ondelete="SET NULL")
    message_id: str = Field(unique=True, index=True, max_length=255)
    to_email: str = Field(max_length=320)
    subject: str = ""
    body_text: str = ""
    body_html: str | None = None
    status: SendStatus = Field(default=SendStatus.reserved, sa_type=enum_type(SendStatus))
    error: str | None = None
    local_day: str = Field(default="", max_length=10, description="YYYY-MM-DD in the send zone")
    source: EmailSource = Field(default=EmailSource.campaign, sa_type=enum_type(EmailSource))
    reply_to: str | None = Field(default=None, max_length=320)
    # Extra headers of an API email (already checked against the allowlist), and its tags.
    headers: dict[str, str] = Field(default_factory=dict, sa_type=JSON)
    tags: dict[str, str] = Field(default_factory=dict, sa_type=JSON)
    # Tracking of an API email, applied when its bytes are built (campaigns keep their own).
    track_opens: bool = False
    track_clicks: bool = False
    reserved_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class EmailTag(SQLModel, table=True):
    """One tag of an API email, as a row so the emails log can filter by ``name:value``."""

    __tablename__ = "email_tags"
    __table_args__ = (Index("ix_email_tags_lookup", "workspace_id", "name", "value"),)

    email_id: str = Field(foreign_key="sent_messages.id", primary_key=True, ondelete="CASCADE")
    name: str = Field(primary_key=True, max_length=64)
    value: str = Field(max_length=256)
    workspace_id: str = Field(foreign_key="workspaces.id", ondelete="CASCADE")


class SendCounter(SQLModel, table=True):
    """Sends per (campaign or inbox, local day), incremented atomically under a limit."""

    __tablename__ = "send_counters"

    scope: str = Field(primary_key=True, max_length=16, description="campaign | inbox")
    scope_id: str = Field(primary_key=True, max_length=36)
    day: str = Field(primary_key=True, max_length=10)
    count: int = 0

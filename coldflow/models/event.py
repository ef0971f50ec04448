"""The event log: every fact about a journey, the source of analytics and webhooks."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Index
from sqlmodel import JSON, Field, SQLModel

from coldflow.ids import new_id
from coldflow.models.base import UTCDateTime, utcnow


class Event(SQLModel, table=True):
    """``type`` uses the webhook names (``email.sent``, ``lead.completed``, …)."""

    __tablename__ = "events"
    __table_args__ = (
        Index("ix_events_workspace_type_time", "workspace_id", "type", "occurred_at"),
        Index("ix_events_campaign_type_time", "campaign_id", "type", "occurred_at"),
        Index("ix_events_lead_time", "lead_id", "occurred_at"),
        Index("ix_events_email_time", "email_id", "occurred_at"),
    )

    id: str = Field(default_factory=new_id, primary_key=True)
    workspace_id: str = Field(foreign_key="workspaces.id", ondelete="CASCADE")
    type: str = Field(max_length=32)
    campaign_id: str | None = Field(default=None, max_length=36)
    lead_id: str | None = Field(default=None, max_length=36)
    inbox_id: str | None = Field(default=None, max_length=36)
    step: int | None = None
    variant_id: str | None = Field(default=None, max_length=36)
    # The sent message the event is about (``sent_messages.id``), for the emails log.
    email_id: str | None = Field(default=None, max_length=36)
    data: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    occurred_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    # The webhook relay's outbox marker: null until the event was handed to its deliveries.
    dispatched_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)


class IdempotencyRecord(SQLModel, table=True):
    """The first response to a POST with an ``Idempotency-Key``, replayed on retries."""

    __tablename__ = "idempotency_records"

    api_key_id: str = Field(foreign_key="api_keys.id", primary_key=True, ondelete="CASCADE")
    key: str = Field(primary_key=True, max_length=255)
    request_hash: str = Field(max_length=64)
    status_code: int
    response_body: str
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)

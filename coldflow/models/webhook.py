"""Outgoing webhooks: endpoints and every delivery attempt."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import JSON, Field, SQLModel

from coldflow.ids import new_id
from coldflow.models.base import UTCDateTime, utcnow


class WebhookEndpoint(SQLModel, table=True):
    """An endpoint; its secrets are encrypted (they must sign) and never returned after creation."""

    __tablename__ = "webhook_endpoints"

    id: str = Field(default_factory=new_id, primary_key=True)
    workspace_id: str = Field(foreign_key="workspaces.id", index=True, ondelete="CASCADE")
    url: str = Field(max_length=2048)
    events: list[str] = Field(default_factory=list, sa_type=JSON, description="empty = all")
    campaign_id: str | None = Field(default=None, foreign_key="campaigns.id", ondelete="CASCADE")
    is_active: bool = True
    secret: str = Field(default="", description="Fernet token")
    previous_secret: str | None = None
    previous_secret_expires_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    disabled_reason: str | None = None
    failing_since: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class WebhookDelivery(SQLModel, table=True):
    """One attempt to deliver one event to one endpoint."""

    __tablename__ = "webhook_deliveries"

    id: str = Field(default_factory=new_id, primary_key=True)
    endpoint_id: str = Field(foreign_key="webhook_endpoints.id", index=True, ondelete="CASCADE")
    event_id: str = Field(foreign_key="events.id", index=True, ondelete="CASCADE")
    attempt: int = 1
    status_code: int | None = None
    latency_ms: int | None = None
    error: str | None = None
    succeeded: bool = False
    response_snippet: str | None = Field(default=None, max_length=500)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)

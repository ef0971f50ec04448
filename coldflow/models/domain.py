"""Sender domains and the result of their last DNS health check."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import UniqueConstraint
from sqlmodel import JSON, Field, SQLModel

from coldflow.ids import new_id
from coldflow.models.base import UTCDateTime, enum_type, utcnow


class DomainState(StrEnum):
    """``pending`` until the first check; then the status of ``coldflow.domain_health``."""

    pending = "pending"
    verified = "verified"
    partially_verified = "partially_verified"
    failed = "failed"


class SenderDomain(SQLModel, table=True):
    """A domain mail is sent from: every inbox's, plus any added ahead of its inboxes."""

    __tablename__ = "sender_domains"
    __table_args__ = (UniqueConstraint("workspace_id", "name", name="uq_sender_domains_name"),)

    id: str = Field(default_factory=new_id, primary_key=True)
    workspace_id: str = Field(foreign_key="workspaces.id", index=True, ondelete="CASCADE")
    name: str = Field(max_length=253)
    status: DomainState = Field(default=DomainState.pending, sa_type=enum_type(DomainState))
    dkim_selector: str | None = Field(default=None, max_length=63)
    tracking_domain: str | None = Field(default=None, max_length=253)
    # The last report's checks: [{name, status, found, hint}], as the API shows them.
    checks: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSON)
    checked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)

"""Blocked addresses and domains: a blocked lead is never sent to."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from coldflow.ids import new_id
from coldflow.models.base import UTCDateTime, enum_type, utcnow


class BlockKind(StrEnum):
    email = "email"
    domain = "domain"


class BlocklistEntry(SQLModel, table=True):
    __tablename__ = "blocklist"
    __table_args__ = (UniqueConstraint("workspace_id", "value", name="uq_blocklist_value"),)

    id: str = Field(default_factory=new_id, primary_key=True)
    workspace_id: str = Field(foreign_key="workspaces.id", index=True, ondelete="CASCADE")
    value: str = Field(max_length=320, description="lower-cased address or domain")
    kind: BlockKind = Field(sa_type=enum_type(BlockKind))
    source: str = Field(default="manual", max_length=16, description="manual | unsubscribe")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)

"""Tenancy: workspaces and their API keys."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import JSON, Field, SQLModel

from coldflow.ids import new_id
from coldflow.models.base import UTCDateTime, utcnow

ALL_SCOPES: tuple[str, ...] = (
    "campaigns:read",
    "campaigns:write",
    "leads:read",
    "leads:write",
    "inboxes:read",
    "inboxes:write",
    "webhooks:read",
    "webhooks:write",
    "conversations:read",
    "conversations:write",
    "blocklist:read",
    "blocklist:write",
    "triggers:write",
    "emails:read",
    "emails:write",
    "contacts:read",
    "contacts:write",
    "domains:read",
    "domains:write",
    "stats:read",
)
WILDCARD_SCOPE = "*"


class Workspace(SQLModel, table=True):
    """Every resource belongs to exactly one workspace."""

    __tablename__ = "workspaces"

    id: str = Field(default_factory=new_id, primary_key=True)
    name: str = Field(max_length=150, unique=True, index=True)
    # Opt-in to the installation's shared warmup pool (when the operator allows sharing).
    warmup_shared_pool: bool = False
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ApiKey(SQLModel, table=True):
    """An API key: only its SHA-256 is stored; the key itself is shown once."""

    __tablename__ = "api_keys"

    id: str = Field(default_factory=new_id, primary_key=True)
    workspace_id: str = Field(foreign_key="workspaces.id", index=True, ondelete="CASCADE")
    name: str = Field(default="default", max_length=100)
    key_hash: str = Field(unique=True, index=True, max_length=64)
    hint: str = Field(max_length=16)
    scopes: list[str] = Field(default_factory=lambda: [WILDCARD_SCOPE], sa_type=JSON)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)

    def allows(self, scope: str) -> bool:
        """``*`` grants everything; otherwise the exact scope must be listed."""
        return WILDCARD_SCOPE in self.scopes or scope in self.scopes

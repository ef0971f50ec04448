"""CSV imports of leads: the upload, and the progress a client polls."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import LargeBinary
from sqlmodel import JSON, Field, SQLModel

from coldflow.ids import new_id
from coldflow.models.base import UTCDateTime, enum_type, utcnow


class ImportStatus(StrEnum):
    pending = "pending"
    running = "running"
    completed = "completed"
    failed = "failed"


class LeadImport(SQLModel, table=True):
    """One CSV upload; the file lives in the row until its import workflow has read it.

    Keeping the bytes in the database (not on a worker's disk) lets any worker process the
    import, and a crash resumes from ``processed_rows``.
    """

    __tablename__ = "lead_imports"

    id: str = Field(default_factory=new_id, primary_key=True)
    workspace_id: str = Field(foreign_key="workspaces.id", index=True, ondelete="CASCADE")
    campaign_id: str = Field(foreign_key="campaigns.id", index=True, ondelete="CASCADE")
    filename: str = Field(default="", max_length=255)
    if_exists: str = Field(default="skip", max_length=8)
    status: ImportStatus = Field(default=ImportStatus.pending, sa_type=enum_type(ImportStatus))
    content: bytes | None = Field(default=None, sa_type=LargeBinary)
    total_rows: int = 0
    processed_rows: int = 0
    created: int = 0
    updated: int = 0
    skipped: int = 0
    failed: int = 0
    errors: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSON)
    error: str | None = None
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)

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


class ImportKind(StrEnum):
    """What an import reads and writes: a CSV into a campaign's leads, a contact list into a
    campaign's leads, or a CSV into a list's contacts."""

    csv_leads = "csv_leads"
    list_enrollment = "list_enrollment"
    csv_contacts = "csv_contacts"


class LeadImport(SQLModel, table=True):
    """One background import; a CSV's bytes live in the row until its workflow has read them.

    Keeping the bytes in the database (not on a worker's disk) lets any worker process the
    import, and a crash resumes from ``processed_rows`` (CSV) or ``cursor`` (the last contact id
    of a list enrollment), both committed with each chunk.
    """

    __tablename__ = "lead_imports"

    id: str = Field(default_factory=new_id, primary_key=True)
    workspace_id: str = Field(foreign_key="workspaces.id", index=True, ondelete="CASCADE")
    kind: ImportKind = Field(default=ImportKind.csv_leads, sa_type=enum_type(ImportKind))
    campaign_id: str | None = Field(
        default=None, foreign_key="campaigns.id", index=True, ondelete="CASCADE"
    )
    # The list enrolled (list_enrollment) or filled (csv_contacts).
    list_id: str | None = Field(
        default=None, foreign_key="contact_lists.id", index=True, ondelete="CASCADE"
    )
    cursor: str | None = Field(default=None, max_length=36)
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

"""Inboxes: the mailboxes a workspace sends from and reads replies in."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import UniqueConstraint
from sqlmodel import JSON, Field, SQLModel

from coldflow.ids import new_id
from coldflow.models.base import UTCDateTime, enum_type, utcnow


class Provider(StrEnum):
    google = "google"
    microsoft = "microsoft"
    other = "other"
    sandbox = "sandbox"


class ConnectionType(StrEnum):
    """How credentials are kept: passwords now, OAuth (XOAUTH2) in a later round."""

    imap_smtp = "imap_smtp"
    oauth = "oauth"


class ConnectionStatus(StrEnum):
    pending = "pending"
    validating = "validating"
    connected = "connected"
    error = "error"


class TransportSecurity(StrEnum):
    none = "none"
    starttls = "starttls"
    tls = "tls"


class Inbox(SQLModel, table=True):
    """A sender account; ``credentials`` is an encrypted JSON blob whose shape depends on the type.

    Keeping every secret in one encrypted column lets new connection types (OAuth refresh tokens)
    arrive without a schema change and keeps secrets out of every other column.
    """

    __tablename__ = "inboxes"
    __table_args__ = (UniqueConstraint("workspace_id", "email", name="uq_inboxes_email"),)

    id: str = Field(default_factory=new_id, primary_key=True)
    workspace_id: str = Field(foreign_key="workspaces.id", index=True, ondelete="CASCADE")
    email: str = Field(max_length=320)
    first_name: str = Field(default="", max_length=100)
    last_name: str = Field(default="", max_length=100)
    provider: Provider = Field(default=Provider.other, sa_type=enum_type(Provider))
    connection_type: ConnectionType = Field(
        default=ConnectionType.imap_smtp, sa_type=enum_type(ConnectionType)
    )
    smtp_host: str = Field(default="", max_length=255)
    smtp_port: int = 587
    smtp_username: str = Field(default="", max_length=320)
    smtp_security: TransportSecurity = Field(
        default=TransportSecurity.starttls, sa_type=enum_type(TransportSecurity)
    )
    imap_host: str = Field(default="", max_length=255)
    imap_port: int = 993
    imap_username: str = Field(default="", max_length=320)
    imap_security: TransportSecurity = Field(
        default=TransportSecurity.tls, sa_type=enum_type(TransportSecurity)
    )
    imap_folder: str = Field(default="INBOX", max_length=255)
    credentials: str = Field(default="", description="Fernet token of a JSON object")
    connection_status: ConnectionStatus = Field(
        default=ConnectionStatus.pending, sa_type=enum_type(ConnectionStatus)
    )
    connection_error: str | None = None
    is_active: bool = True
    daily_campaign_limit: int = 50
    is_warming: bool = False
    daily_warmup_limit: int = 10
    # The warmup ramp (coldflow.warmup): first day's volume, growth per day, share answered,
    # the zone of the working hours (Mon–Fri 09:00–17:00) warmup mail is sent in.
    warmup_start: int = 2
    warmup_step: int = 2
    warmup_reply_rate: int = 30
    warmup_timezone: str = Field(default="UTC", max_length=64)
    # Where the ramp stands (a RampState), carried across days and across off/on.
    warmup_state: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    warmup_reason: str | None = None
    signature: str = ""
    reply_to: str | None = Field(default=None, max_length=320)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)

    @property
    def from_name(self) -> str:
        """The display name of the From header."""
        return " ".join(p for p in (self.first_name.strip(), self.last_name.strip()) if p)

    @property
    def domain(self) -> str:
        return self.email.rpartition("@")[2]


class MailboxCursor(SQLModel, table=True):
    """How far the watcher has read a folder: UIDs only mean something under one UIDVALIDITY."""

    __tablename__ = "mailbox_cursors"

    inbox_id: str = Field(foreign_key="inboxes.id", primary_key=True, ondelete="CASCADE")
    folder: str = Field(primary_key=True, max_length=255)
    uidvalidity: int = 0
    last_uid: int = 0
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)

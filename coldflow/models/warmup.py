"""Warmup mail between the installation's own inboxes: what was sent, received, rescued."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from coldflow.ids import new_id
from coldflow.models.base import UTCDateTime, utcnow


class WarmupMessage(SQLModel, table=True):
    """One warmup email. The sender's side writes it when it sends; the recipient's mailbox
    watcher fills in ``received_at`` / ``in_spam`` / ``rescued_at`` and decides ``reply_due``.

    ``depth`` is 0 for a first message, 1 for a reply, 2 for a reply back. ``sender_day`` is the
    sender's local day: the day its stats count the send (and its spam) on.
    """

    __tablename__ = "warmup_messages"
    __table_args__ = (
        Index("ix_warmup_sender_day", "sender_inbox_id", "sender_day"),
        Index("ix_warmup_recipient_received", "recipient_inbox_id", "received_at"),
        Index("ix_warmup_recipient_reply", "recipient_inbox_id", "reply_due"),
    )

    id: str = Field(default_factory=new_id, primary_key=True)
    workspace_id: str = Field(foreign_key="workspaces.id", ondelete="CASCADE")
    sender_inbox_id: str = Field(foreign_key="inboxes.id", ondelete="CASCADE")
    recipient_inbox_id: str = Field(foreign_key="inboxes.id", ondelete="CASCADE")
    token: str = Field(unique=True, max_length=64)
    message_id: str = Field(unique=True, max_length=255)
    parent_id: str | None = Field(default=None, max_length=36)
    depth: int = 0
    subject: str = ""
    sender_day: str = Field(max_length=10)
    sent_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    # Stored before SMTP (so the recipient always knows it); true once SMTP took it.
    delivered: bool = False
    received_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    in_spam: bool = False
    rescued_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    reply_due: bool = False
    replied_at: datetime | None = Field(default=None, sa_type=UTCDateTime)

"""The unibox: reply threads, every message in them, and their attachments."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Index, LargeBinary, UniqueConstraint
from sqlmodel import JSON, Field, SQLModel

from coldflow.ids import new_id
from coldflow.models.base import UTCDateTime, enum_type, utcnow


class MessageKind(StrEnum):
    reply = "reply"
    auto_reply = "auto_reply"
    bounce = "bounce"
    unsubscribe = "unsubscribe"
    outgoing = "outgoing"


class Folder(StrEnum):
    """``primary`` holds human replies; ``others`` auto-replies, bounces and unmatched mail."""

    primary = "primary"
    others = "others"


class Conversation(SQLModel, table=True):
    """A thread with one contact; ``label`` is the classifier's, ``label_override`` a person's."""

    __tablename__ = "conversations"
    __table_args__ = (
        Index("ix_conversations_workspace_last", "workspace_id", "last_message_at"),
        Index("ix_conversations_workspace_folder", "workspace_id", "folder", "last_message_at"),
    )

    id: str = Field(default_factory=new_id, primary_key=True)
    workspace_id: str = Field(foreign_key="workspaces.id", ondelete="CASCADE")
    campaign_id: str | None = Field(default=None, foreign_key="campaigns.id", ondelete="SET NULL")
    lead_id: str | None = Field(default=None, foreign_key="leads.id", ondelete="SET NULL")
    inbox_id: str | None = Field(default=None, foreign_key="inboxes.id", ondelete="SET NULL")
    contact_email: str = Field(max_length=320)
    subject: str = ""
    folder: Folder = Field(default=Folder.primary, sa_type=enum_type(Folder))
    label: str | None = Field(default=None, max_length=32)
    label_override: str | None = Field(default=None, max_length=32)
    is_positive: bool = False
    is_read: bool = False
    last_message_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ConversationMessage(SQLModel, table=True):
    """One message in a thread, stored exactly once: per Message-ID in a workspace, and per
    (inbox, UIDVALIDITY, UID) for mail read from a mailbox."""

    __tablename__ = "conversation_messages"
    __table_args__ = (
        UniqueConstraint("workspace_id", "message_id", name="uq_conversation_messages_mid"),
        UniqueConstraint(
            "inbox_id", "imap_uidvalidity", "imap_uid", name="uq_conversation_messages_uid"
        ),
    )

    id: str = Field(default_factory=new_id, primary_key=True)
    workspace_id: str = Field(foreign_key="workspaces.id", ondelete="CASCADE")
    conversation_id: str = Field(foreign_key="conversations.id", index=True, ondelete="CASCADE")
    inbox_id: str | None = Field(default=None, foreign_key="inboxes.id", ondelete="SET NULL")
    direction: str = Field(max_length=8, description="incoming | outgoing")
    kind: MessageKind = Field(default=MessageKind.reply, sa_type=enum_type(MessageKind))
    label: str | None = Field(default=None, max_length=32)
    message_id: str = Field(max_length=255)
    in_reply_to: str | None = Field(default=None, max_length=255)
    references: list[str] = Field(default_factory=list, sa_type=JSON)
    from_email: str = Field(max_length=320)
    from_name: str = Field(default="", max_length=200)
    to_recipients: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSON)
    cc_recipients: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSON)
    bcc_recipients: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSON)
    subject: str = ""
    text: str = ""
    html: str | None = None
    is_read: bool = False
    sent_message_id: str | None = Field(
        default=None, description="our sent message this one answers (or is, when outgoing)"
    )
    imap_uidvalidity: int | None = None
    imap_uid: int | None = None
    received_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Attachment(SQLModel, table=True):
    """A file that came with a message; kept in the database so any API process can serve it."""

    __tablename__ = "attachments"

    id: str = Field(default_factory=new_id, primary_key=True)
    workspace_id: str = Field(foreign_key="workspaces.id", ondelete="CASCADE")
    message_id: str = Field(foreign_key="conversation_messages.id", index=True, ondelete="CASCADE")
    filename: str = Field(default="", max_length=255)
    content_type: str = Field(default="application/octet-stream", max_length=255)
    size: int = 0
    content: bytes = Field(default=b"", sa_type=LargeBinary)

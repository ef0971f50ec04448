"""The unibox: reply threads and every message in them."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from coldflow.ids import new_id
from coldflow.models.base import UTCDateTime, enum_type, utcnow


class MessageKind(StrEnum):
    reply = "reply"
    auto_reply = "auto_reply"
    bounce = "bounce"
    unsubscribe = "unsubscribe"
    outgoing = "outgoing"


class Conversation(SQLModel, table=True):
    __tablename__ = "conversations"
    __table_args__ = (Index("ix_conversations_workspace_last", "workspace_id", "last_message_at"),)

    id: str = Field(default_factory=new_id, primary_key=True)
    workspace_id: str = Field(foreign_key="workspaces.id", ondelete="CASCADE")
    campaign_id: str | None = Field(default=None, foreign_key="campaigns.id", ondelete="SET NULL")
    lead_id: str | None = Field(default=None, foreign_key="leads.id", ondelete="SET NULL")
    inbox_id: str | None = Field(default=None, foreign_key="inboxes.id", ondelete="SET NULL")
    contact_email: str = Field(max_length=320)
    subject: str = ""
    label: str | None = Field(default=None, max_length=32)
    is_read: bool = False
    last_message_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ConversationMessage(SQLModel, table=True):
    """One message in a thread, stored exactly once per Message-ID in a workspace."""

    __tablename__ = "conversation_messages"
    __table_args__ = (
        UniqueConstraint("workspace_id", "message_id", name="uq_conversation_messages_mid"),
    )

    id: str = Field(default_factory=new_id, primary_key=True)
    workspace_id: str = Field(foreign_key="workspaces.id", ondelete="CASCADE")
    conversation_id: str = Field(foreign_key="conversations.id", index=True, ondelete="CASCADE")
    direction: str = Field(max_length=8, description="in | out")
    kind: MessageKind = Field(default=MessageKind.reply, sa_type=enum_type(MessageKind))
    label: str | None = Field(default=None, max_length=32)
    message_id: str = Field(max_length=255)
    in_reply_to: str | None = Field(default=None, max_length=255)
    from_email: str = Field(max_length=320)
    to_email: str = Field(max_length=320)
    subject: str = ""
    text: str = ""
    html: str | None = None
    imap_uidvalidity: int | None = None
    imap_uid: int | None = None
    received_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)

"""Conversations, their messages and attachments; every lookup is scoped to a workspace."""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

from sqlalchemy import or_, update
from sqlalchemy.orm import QueryableAttribute, defer
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from coldflow.models import (
    Attachment,
    ConnectionStatus,
    Conversation,
    ConversationMessage,
    Folder,
    Inbox,
    SendStatus,
    SentMessage,
)
from coldflow.models.base import utcnow
from coldflow.store.paging import PageRequest, PageResult, contains, fetch_page

CONVERSATION_SORTS = {
    "last_message_at": col(Conversation.last_message_at),
    "created_at": col(Conversation.created_at),
    "updated_at": col(Conversation.updated_at),
}


async def list_conversations(
    session: AsyncSession, workspace_id: str, request: PageRequest, folder: Folder | None
) -> PageResult[Conversation]:
    """Newest activity first by default; ``search`` matches the contact address or the subject."""
    stmt = select(Conversation).where(Conversation.workspace_id == workspace_id)
    if folder is not None:
        stmt = stmt.where(Conversation.folder == folder)
    if request.search:
        pattern = contains(request.search.strip())
        stmt = stmt.where(
            or_(
                col(Conversation.contact_email).ilike(pattern, escape="\\"),
                col(Conversation.subject).ilike(pattern, escape="\\"),
            )
        )
    return await fetch_page(
        session,
        stmt,
        request,
        sortable=CONVERSATION_SORTS,
        default_sort="last_message_at",
        tiebreak=col(Conversation.id),
    )


async def get_conversation(
    session: AsyncSession, workspace_id: str, conversation_id: str
) -> Conversation | None:
    stmt = select(Conversation).where(
        Conversation.id == conversation_id, Conversation.workspace_id == workspace_id
    )
    return (await session.exec(stmt)).first()


async def list_messages(
    session: AsyncSession, workspace_id: str, conversation_ids: Sequence[str]
) -> Sequence[ConversationMessage]:
    """The messages of these conversations, oldest first (a thread reads top to bottom)."""
    if not conversation_ids:
        return []
    stmt = (
        select(ConversationMessage)
        .where(
            ConversationMessage.workspace_id == workspace_id,
            col(ConversationMessage.conversation_id).in_(conversation_ids),
        )
        .order_by(col(ConversationMessage.received_at), col(ConversationMessage.id))
    )
    return (await session.exec(stmt)).all()


async def list_attachments(
    session: AsyncSession, workspace_id: str, message_ids: Sequence[str]
) -> Sequence[Attachment]:
    """The attachments of these messages, without loading their bytes."""
    if not message_ids:
        return []
    stmt = (
        select(Attachment)
        .options(defer(cast("QueryableAttribute[bytes]", Attachment.content)))
        .where(Attachment.workspace_id == workspace_id, col(Attachment.message_id).in_(message_ids))
        .order_by(col(Attachment.filename), col(Attachment.id))
    )
    return (await session.exec(stmt)).all()


async def get_attachment(
    session: AsyncSession, workspace_id: str, conversation_id: str, attachment_id: str
) -> Attachment | None:
    """The attachment, only if it belongs to a message of this conversation in this workspace."""
    stmt = (
        select(Attachment)
        .join(ConversationMessage, col(ConversationMessage.id) == col(Attachment.message_id))
        .where(
            Attachment.id == attachment_id,
            Attachment.workspace_id == workspace_id,
            ConversationMessage.conversation_id == conversation_id,
        )
    )
    return (await session.exec(stmt)).first()


async def set_messages_read(
    session: AsyncSession, workspace_id: str, conversation_id: str, is_read: bool
) -> None:
    await session.execute(
        update(ConversationMessage)
        .where(
            col(ConversationMessage.workspace_id) == workspace_id,
            col(ConversationMessage.conversation_id) == conversation_id,
        )
        .values(is_read=is_read)
    )


async def get_message(
    session: AsyncSession, workspace_id: str, message_row_id: str
) -> ConversationMessage | None:
    stmt = select(ConversationMessage).where(
        ConversationMessage.id == message_row_id,
        ConversationMessage.workspace_id == workspace_id,
    )
    return (await session.exec(stmt)).first()


async def get_sent_messages(
    session: AsyncSession, workspace_id: str, sent_ids: Sequence[str]
) -> dict[str, SentMessage]:
    if not sent_ids:
        return {}
    stmt = select(SentMessage).where(
        SentMessage.workspace_id == workspace_id, col(SentMessage.id).in_(sent_ids)
    )
    return {sent.id: sent for sent in (await session.exec(stmt)).all()}


async def first_active_inbox(session: AsyncSession, workspace_id: str) -> Inbox | None:
    """The oldest active, connected inbox of the workspace."""
    stmt = (
        select(Inbox)
        .where(
            Inbox.workspace_id == workspace_id,
            col(Inbox.is_active).is_(True),
            Inbox.connection_status == ConnectionStatus.connected,
        )
        .order_by(col(Inbox.created_at), col(Inbox.id))
        .limit(1)
    )
    return (await session.exec(stmt)).first()


async def add_reservation(session: AsyncSession, message: ConversationMessage) -> SentMessage:
    """The send record of an outgoing message (``reserved``), linked from the message."""
    sent = SentMessage(
        workspace_id=message.workspace_id,
        inbox_id=message.inbox_id,
        message_id=message.message_id,
        to_email=str(message.to_recipients[0]["email"]),
        subject=message.subject,
        body_text=message.text,
        body_html=message.html,
    )
    message.sent_message_id = sent.id
    session.add_all([sent, message])
    await session.flush()
    return sent


async def remove_reservation(session: AsyncSession, message: ConversationMessage) -> None:
    sent = (
        await session.get(SentMessage, message.sent_message_id) if message.sent_message_id else None
    )
    message.sent_message_id = None
    session.add(message)
    if sent is not None:
        await session.delete(sent)
    await session.flush()


async def set_send_status(
    session: AsyncSession, sent_message_id: str, status: SendStatus, error: str | None
) -> SentMessage | None:
    sent = await session.get(SentMessage, sent_message_id)
    if sent is None:
        return None
    sent.status, sent.error = status, error[:1000] if error else None
    if status == SendStatus.sent:
        sent.sent_at = utcnow()
    session.add(sent)
    await session.flush()
    return sent

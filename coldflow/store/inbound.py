"""Inbound mail: the queries behind matching, storing and the mailbox cursors."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import case, or_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import SelectOfScalar

from coldflow.models import (
    Attachment,
    Campaign,
    CampaignInbox,
    ConnectionStatus,
    Conversation,
    ConversationMessage,
    Inbox,
    JourneyState,
    Lead,
    MailboxCursor,
    SentMessage,
)
from coldflow.models.base import utcnow

FINISHED = (JourneyState.stopped, JourneyState.completed)


# --- cursors ----------------------------------------------------------------------------------


async def get_cursor(session: AsyncSession, inbox_id: str, folder: str) -> MailboxCursor | None:
    return await session.get(MailboxCursor, (inbox_id, folder))


async def advance_cursor(
    session: AsyncSession, inbox_id: str, folder: str, uidvalidity: int, last_uid: int
) -> None:
    """Move the cursor to ``last_uid``; never backwards under the same UIDVALIDITY.

    Locked first, so a zombie session (one Temporal gave up on but still running) and its
    successor cannot interleave read and write.
    """
    stmt = (
        select(MailboxCursor)
        .where(MailboxCursor.inbox_id == inbox_id, MailboxCursor.folder == folder)
        .with_for_update()
    )
    cursor = (await session.exec(stmt)).first()
    if cursor is None:
        cursor = MailboxCursor(inbox_id=inbox_id, folder=folder)
    elif cursor.uidvalidity == uidvalidity and cursor.last_uid >= last_uid:
        return
    cursor.uidvalidity, cursor.last_uid, cursor.updated_at = uidvalidity, last_uid, utcnow()
    session.add(cursor)
    await session.flush()


# --- stored messages --------------------------------------------------------------------------


async def find_message_at(
    session: AsyncSession, inbox_id: str, uidvalidity: int, uid: int
) -> ConversationMessage | None:
    stmt = select(ConversationMessage).where(
        ConversationMessage.inbox_id == inbox_id,
        ConversationMessage.imap_uidvalidity == uidvalidity,
        ConversationMessage.imap_uid == uid,
    )
    return (await session.exec(stmt)).first()


async def uids_stored_at(
    session: AsyncSession, inbox_id: str, uidvalidity: int, uids: Sequence[int]
) -> set[int]:
    """Which of ``uids`` (under ``uidvalidity``) are stored from this very mailbox slot."""
    if not uids:
        return set()
    stmt = select(ConversationMessage.imap_uid).where(
        ConversationMessage.inbox_id == inbox_id,
        ConversationMessage.imap_uidvalidity == uidvalidity,
        col(ConversationMessage.imap_uid).in_(uids),
    )
    return {uid for uid in (await session.exec(stmt)).all() if uid is not None}


async def known_message_ids(
    session: AsyncSession, workspace_id: str, message_ids: Sequence[str]
) -> set[str]:
    """Which of ``message_ids`` coldflow already holds: stored in a conversation, or sent."""
    if not message_ids:
        return set()
    stored = select(ConversationMessage.message_id).where(
        ConversationMessage.workspace_id == workspace_id,
        col(ConversationMessage.message_id).in_(message_ids),
    )
    sent = select(SentMessage.message_id).where(
        SentMessage.workspace_id == workspace_id, col(SentMessage.message_id).in_(message_ids)
    )
    found = set((await session.exec(stored)).all())
    return found | set((await session.exec(sent)).all())


async def add_message(
    session: AsyncSession, message: ConversationMessage, attachments: Sequence[Attachment]
) -> None:
    """Insert the message, then its attachments (their rows point at it)."""
    session.add(message)
    await session.flush()
    session.add_all(attachments)
    await session.flush()


# --- matching ---------------------------------------------------------------------------------


async def find_sent(
    session: AsyncSession, workspace_id: str, message_ids: Sequence[str]
) -> Sequence[SentMessage]:
    if not message_ids:
        return []
    stmt = select(SentMessage).where(
        SentMessage.workspace_id == workspace_id, col(SentMessage.message_id).in_(message_ids)
    )
    return (await session.exec(stmt)).all()


async def find_outgoing(
    session: AsyncSession, workspace_id: str, message_ids: Sequence[str]
) -> Sequence[ConversationMessage]:
    """Messages sent from the unibox (replies, new threads) among ``message_ids``."""
    if not message_ids:
        return []
    stmt = select(ConversationMessage).where(
        ConversationMessage.workspace_id == workspace_id,
        ConversationMessage.direction == "outgoing",
        col(ConversationMessage.message_id).in_(message_ids),
    )
    return (await session.exec(stmt)).all()


def _campaigns_of(inbox_id: str) -> SelectOfScalar[str]:
    return select(CampaignInbox.campaign_id).where(CampaignInbox.inbox_id == inbox_id)


async def find_leads_by_address(
    session: AsyncSession, workspace_id: str, inbox_id: str, email: str
) -> Sequence[Lead]:
    """Leads with this address in the campaigns using the inbox (or last sent from it).

    The lead the inbox wrote to comes first, then the most recently active one: a person in
    two campaigns answers the one that last wrote to them.
    """
    stmt = (
        select(Lead)
        .where(
            Lead.workspace_id == workspace_id,
            Lead.email == email,
            or_(col(Lead.inbox_id) == inbox_id, col(Lead.campaign_id).in_(_campaigns_of(inbox_id))),
        )
        .order_by(
            case((col(Lead.inbox_id) == inbox_id, 0), else_=1),
            col(Lead.updated_at).desc(),
            col(Lead.id),
        )
    )
    return (await session.exec(stmt)).all()


async def latest_sent(session: AsyncSession, lead_id: str) -> SentMessage | None:
    """The last step sent to the lead: what an unthreaded reply answers."""
    stmt = (
        select(SentMessage)
        .where(SentMessage.lead_id == lead_id, col(SentMessage.sent_at).is_not(None))
        .order_by(col(SentMessage.step).desc())
    )
    return (await session.exec(stmt)).first()


async def company_reply_campaigns(
    session: AsyncSession, workspace_id: str, inbox_id: str
) -> Sequence[Campaign]:
    """Campaigns using the inbox that stop a whole company on one reply."""
    stmt = select(Campaign).where(
        Campaign.workspace_id == workspace_id,
        col(Campaign.stop_on_company_reply).is_(True),
        col(Campaign.id).in_(_campaigns_of(inbox_id)),
    )
    return (await session.exec(stmt)).all()


async def find_colleagues(
    session: AsyncSession, campaign_id: str, domains: Sequence[str], exclude_lead_id: str | None
) -> Sequence[Lead]:
    """Leads of the campaign at one of ``domains`` whose journey may still be running."""
    if not domains:
        return []
    stmt = select(Lead).where(
        Lead.campaign_id == campaign_id,
        col(Lead.company_domain).in_(domains),
        col(Lead.journey_state).not_in(FINISHED),
    )
    if exclude_lead_id is not None:
        stmt = stmt.where(Lead.id != exclude_lead_id)
    return (await session.exec(stmt.order_by(col(Lead.id)))).all()


# --- conversations ----------------------------------------------------------------------------


async def find_lead_conversation(
    session: AsyncSession, workspace_id: str, lead_id: str
) -> Conversation | None:
    stmt = (
        select(Conversation)
        .where(Conversation.workspace_id == workspace_id, Conversation.lead_id == lead_id)
        .order_by(col(Conversation.created_at))
    )
    return (await session.exec(stmt)).first()


async def find_contact_conversation(
    session: AsyncSession, workspace_id: str, inbox_id: str, contact_email: str
) -> Conversation | None:
    """The thread with an address no lead has, in one inbox."""
    stmt = (
        select(Conversation)
        .where(
            Conversation.workspace_id == workspace_id,
            Conversation.inbox_id == inbox_id,
            Conversation.contact_email == contact_email,
            col(Conversation.lead_id).is_(None),
        )
        .order_by(col(Conversation.created_at))
    )
    return (await session.exec(stmt)).first()


# --- watched inboxes --------------------------------------------------------------------------


async def list_watchable_inboxes(session: AsyncSession) -> Sequence[Inbox]:
    """Every active, connected inbox with IMAP settings, in every workspace."""
    stmt = select(Inbox).where(
        col(Inbox.is_active).is_(True),
        Inbox.imap_host != "",
        Inbox.connection_status == ConnectionStatus.connected,
    )
    return (await session.exec(stmt.order_by(col(Inbox.created_at)))).all()

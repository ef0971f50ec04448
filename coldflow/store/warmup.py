"""Warmup queries: the pool, sent/spam counts per sender day, receipts, replies owed."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Integer, func, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from coldflow.models import ConnectionStatus, Inbox, WarmupMessage, Workspace
from coldflow.models.base import utcnow


def is_usable(inbox: Inbox) -> bool:
    """Warmup needs to send (SMTP, or a sandbox) and to receive (IMAP): connected and active."""
    return (
        inbox.is_active
        and inbox.connection_status == ConnectionStatus.connected
        and bool(inbox.imap_host)
    )


async def pool_ids(session: AsyncSession, inbox: Inbox, *, shared: bool) -> list[str]:
    """Ids of the warming, usable inboxes ``inbox`` may exchange with (itself included): its
    workspace's, or every opted-in workspace's when the operator shares the pool and the
    inbox's workspace opted in."""
    stmt = select(Inbox).where(col(Inbox.is_warming))
    workspace = await session.get(Workspace, inbox.workspace_id)
    if shared and workspace is not None and workspace.warmup_shared_pool:
        opted = select(Workspace.id).where(col(Workspace.warmup_shared_pool))
        stmt = stmt.where(col(Inbox.workspace_id).in_(opted))
    else:
        stmt = stmt.where(Inbox.workspace_id == inbox.workspace_id)
    return sorted(i.id for i in (await session.exec(stmt)).all() if is_usable(i))


async def warming_inboxes(session: AsyncSession) -> Sequence[Inbox]:
    return (await session.exec(select(Inbox).where(col(Inbox.is_warming)))).all()


async def sent_and_spam(
    session: AsyncSession, inbox_id: str, days: Sequence[str]
) -> tuple[int, int]:
    """Messages the inbox sent on those (sender-local) days, and how many landed in spam."""
    stmt = select(
        func.count(), func.sum(func.coalesce(func.cast(col(WarmupMessage.in_spam), Integer), 0))
    ).where(WarmupMessage.sender_inbox_id == inbox_id, col(WarmupMessage.sender_day).in_(days))
    sent, spam = (await session.exec(stmt)).one()
    return int(sent or 0), int(spam or 0)


async def daily_sent_and_spam(
    session: AsyncSession, inbox_id: str, days: Sequence[str]
) -> dict[str, tuple[int, int]]:
    stmt = (
        select(
            WarmupMessage.sender_day,
            func.count(),
            func.sum(func.cast(col(WarmupMessage.in_spam), Integer)),
        )
        .where(WarmupMessage.sender_inbox_id == inbox_id, col(WarmupMessage.sender_day).in_(days))
        .group_by(col(WarmupMessage.sender_day))
    )
    return {day: (int(n), int(spam or 0)) for day, n, spam in (await session.exec(stmt)).all()}


async def received_since(session: AsyncSession, inbox_id: str, since: datetime) -> tuple[int, int]:
    """Warmup messages the inbox received since ``since``, and how many it took out of spam."""
    stmt = select(func.count(), func.count(col(WarmupMessage.rescued_at))).where(
        WarmupMessage.recipient_inbox_id == inbox_id, col(WarmupMessage.received_at) >= since
    )
    received, rescued = (await session.exec(stmt)).one()
    return int(received or 0), int(rescued or 0)


async def find_by_token(session: AsyncSession, token: str) -> WarmupMessage | None:
    return (await session.exec(select(WarmupMessage).where(WarmupMessage.token == token))).first()


async def find_received(
    session: AsyncSession, recipient_id: str, token: str | None, code: str
) -> WarmupMessage | None:
    """The message sent to ``recipient_id`` with this token, or else with this body code (the
    token's first 8 characters, shown as ``XXXX-XXXX``)."""
    stmt = select(WarmupMessage).where(WarmupMessage.recipient_inbox_id == recipient_id)
    if token is not None:
        return (await session.exec(stmt.where(WarmupMessage.token == token))).first()
    prefix = code.replace("-", "")
    rows = (await session.exec(stmt.where(col(WarmupMessage.token).startswith(prefix)))).all()
    return rows[0] if len(rows) == 1 else None  # an ambiguous code identifies nothing


async def replies_due(session: AsyncSession, inbox_id: str) -> Sequence[WarmupMessage]:
    stmt = (
        select(WarmupMessage)
        .where(
            WarmupMessage.recipient_inbox_id == inbox_id,
            col(WarmupMessage.reply_due),
            col(WarmupMessage.replied_at).is_(None),
        )
        .order_by(col(WarmupMessage.received_at))
    )
    return (await session.exec(stmt)).all()


async def mark_replied(session: AsyncSession, message_id: str) -> None:
    await session.exec(
        update(WarmupMessage)
        .where(col(WarmupMessage.id) == message_id)
        .values(replied_at=utcnow(), reply_due=False)
    )


async def undelivered_replies(session: AsyncSession, inbox_id: str) -> Sequence[WarmupMessage]:
    """Replies this inbox stored but SMTP has not taken yet (new ones, or a retry's)."""
    stmt = (
        select(WarmupMessage)
        .where(
            WarmupMessage.sender_inbox_id == inbox_id,
            WarmupMessage.depth > 0,
            col(WarmupMessage.delivered).is_(False),
        )
        .order_by(col(WarmupMessage.sent_at), col(WarmupMessage.id))
    )
    return (await session.exec(stmt)).all()


async def set_delivered(session: AsyncSession, message_id: str) -> None:
    await session.exec(
        update(WarmupMessage).where(col(WarmupMessage.id) == message_id).values(delivered=True)
    )


async def delete_message(session: AsyncSession, message_id: str) -> None:
    row = await session.get(WarmupMessage, message_id)
    if row is not None:
        await session.delete(row)

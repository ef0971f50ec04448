"""Inboxes."""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from coldflow.models import Campaign, CampaignInbox, Inbox, SentMessage
from coldflow.store.paging import PageRequest, PageResult, contains, fetch_page

INBOX_SORTS = {
    "email": col(Inbox.email),
    "created_at": col(Inbox.created_at),
    "updated_at": col(Inbox.updated_at),
}


async def get_inbox(session: AsyncSession, workspace_id: str, inbox_id: str) -> Inbox | None:
    stmt = select(Inbox).where(Inbox.id == inbox_id, Inbox.workspace_id == workspace_id)
    return (await session.exec(stmt)).first()


async def find_inbox_by_email(session: AsyncSession, workspace_id: str, email: str) -> Inbox | None:
    stmt = select(Inbox).where(Inbox.workspace_id == workspace_id, Inbox.email == email)
    return (await session.exec(stmt)).first()


async def get_inboxes(
    session: AsyncSession, workspace_id: str, inbox_ids: Sequence[str]
) -> Sequence[Inbox]:
    stmt = select(Inbox).where(Inbox.workspace_id == workspace_id, col(Inbox.id).in_(inbox_ids))
    return (await session.exec(stmt)).all()


async def list_inboxes(
    session: AsyncSession, workspace_id: str, request: PageRequest
) -> PageResult[Inbox]:
    stmt = select(Inbox).where(Inbox.workspace_id == workspace_id)
    if request.search:
        stmt = stmt.where(col(Inbox.email).ilike(contains(request.search), escape="\\"))
    return await fetch_page(
        session,
        stmt,
        request,
        sortable=INBOX_SORTS,
        default_sort="created_at",
        tiebreak=col(Inbox.id),
    )


async def list_inbox_campaigns(session: AsyncSession, inbox_id: str) -> Sequence[Campaign]:
    stmt = (
        select(Campaign)
        .join(CampaignInbox, col(CampaignInbox.campaign_id) == col(Campaign.id))
        .where(CampaignInbox.inbox_id == inbox_id)
        .order_by(col(Campaign.created_at))
    )
    return (await session.exec(stmt)).all()


async def list_sent_by_inbox(
    session: AsyncSession, workspace_id: str, inbox_id: str, request: PageRequest
) -> PageResult[SentMessage]:
    stmt = select(SentMessage).where(
        SentMessage.workspace_id == workspace_id, SentMessage.inbox_id == inbox_id
    )
    if request.search:
        stmt = stmt.where(col(SentMessage.to_email).ilike(contains(request.search), escape="\\"))
    return await fetch_page(
        session,
        stmt,
        request,
        sortable={"sent_at": col(SentMessage.sent_at), "reserved_at": col(SentMessage.reserved_at)},
        default_sort="reserved_at",
        tiebreak=col(SentMessage.id),
    )

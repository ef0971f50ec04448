"""Queries of the emails log: sent messages, their tags and the events that name them."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Sequence

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from coldflow.models import EmailSource, EmailTag, Event, Inbox, SendStatus, SentMessage
from coldflow.store.paging import PageRequest, PageResult, contains, fetch_page

EMAIL_SORTS = {
    "created_at": col(SentMessage.reserved_at),
    "sent_at": col(SentMessage.sent_at),
    "to": col(SentMessage.to_email),
}
# The per-email counters the log shows, by event type.
COUNTED = {"email.opened": "opens", "email.clicked": "clicks", "email.replied": "replies"}


async def list_emails(
    session: AsyncSession,
    workspace_id: str,
    request: PageRequest,
    *,
    statuses: Collection[SendStatus] = (),
    campaign_id: str | None = None,
    lead_id: str | None = None,
    source: EmailSource | None = None,
    tags: Sequence[tuple[str, str]] = (),
) -> PageResult[SentMessage]:
    stmt = select(SentMessage).where(SentMessage.workspace_id == workspace_id)
    if statuses:
        stmt = stmt.where(col(SentMessage.status).in_(statuses))
    if campaign_id is not None:
        stmt = stmt.where(SentMessage.campaign_id == campaign_id)
    if lead_id is not None:
        stmt = stmt.where(SentMessage.lead_id == lead_id)
    if source is not None:
        stmt = stmt.where(SentMessage.source == source)
    for name, value in tags:
        tagged = select(EmailTag.email_id).where(
            EmailTag.workspace_id == workspace_id, EmailTag.name == name, EmailTag.value == value
        )
        stmt = stmt.where(col(SentMessage.id).in_(tagged))
    if request.search:
        pattern = contains(request.search.lower())
        stmt = stmt.where(
            col(SentMessage.to_email).ilike(pattern, escape="\\")
            | col(SentMessage.subject).ilike(pattern, escape="\\")
        )
    return await fetch_page(
        session,
        stmt,
        request,
        sortable=EMAIL_SORTS,
        default_sort="created_at",
        tiebreak=col(SentMessage.id),
    )


async def get_email(session: AsyncSession, workspace_id: str, email_id: str) -> SentMessage | None:
    email = await session.get(SentMessage, email_id)
    return email if email is not None and email.workspace_id == workspace_id else None


async def event_counts(
    session: AsyncSession, email_ids: Collection[str]
) -> dict[str, dict[str, int]]:
    """``{email_id: {"opens": n, "clicks": n, "replies": n}}`` in one grouped query."""
    counts: dict[str, dict[str, int]] = defaultdict(dict)
    if not email_ids:
        return counts
    stmt = (
        select(Event.email_id, Event.type, func.count())
        .where(col(Event.email_id).in_(email_ids), col(Event.type).in_(COUNTED))
        .group_by(col(Event.email_id), col(Event.type))
    )
    for email_id, type, count in (await session.exec(stmt)).all():
        if email_id is not None:
            counts[email_id][COUNTED[type]] = int(count)
    return counts


async def inbox_addresses(session: AsyncSession, inbox_ids: Collection[str]) -> dict[str, str]:
    if not inbox_ids:
        return {}
    stmt = select(Inbox.id, Inbox.email).where(col(Inbox.id).in_(inbox_ids))
    return dict((await session.exec(stmt)).all())


async def list_email_events(session: AsyncSession, email_id: str) -> Sequence[Event]:
    stmt = (
        select(Event)
        .where(Event.email_id == email_id)
        .order_by(col(Event.occurred_at), col(Event.id))
    )
    return (await session.exec(stmt)).all()


async def count_queued(session: AsyncSession, inbox_id: str, day: str) -> int:
    """API emails of an inbox accepted for ``day`` and not yet reserved by their workflow."""
    stmt = select(func.count()).where(
        SentMessage.inbox_id == inbox_id,
        SentMessage.local_day == day,
        SentMessage.status == SendStatus.queued,
    )
    return int((await session.exec(stmt)).one())


async def queued_api_emails(session: AsyncSession) -> Sequence[tuple[str, str]]:
    """(workspace id, email id) of every API email still waiting for its send workflow."""
    stmt = select(SentMessage.workspace_id, SentMessage.id).where(
        SentMessage.source == EmailSource.api, SentMessage.status == SendStatus.queued
    )
    return (await session.exec(stmt)).all()

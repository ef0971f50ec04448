"""Workspace-wide counts: one grouped or counting query each, never rows into Python."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from coldflow.models import Campaign, Event, Inbox, Lead, SentMessage


async def count_by(
    session: AsyncSession, column: Any, workspace_column: Any, workspace_id: str
) -> dict[str, int]:
    """``{value: count}`` of ``column`` within the workspace."""
    stmt = select(column, func.count()).where(workspace_column == workspace_id).group_by(column)
    return {str(value): int(count) for value, count in (await session.exec(stmt)).all()}


async def campaigns_by_status(session: AsyncSession, workspace_id: str) -> dict[str, int]:
    return await count_by(session, col(Campaign.status), col(Campaign.workspace_id), workspace_id)


async def inboxes_by_status(session: AsyncSession, workspace_id: str) -> dict[str, int]:
    return await count_by(
        session, col(Inbox.connection_status), col(Inbox.workspace_id), workspace_id
    )


async def count_leads(session: AsyncSession, workspace_id: str) -> int:
    stmt = select(func.count()).select_from(Lead).where(Lead.workspace_id == workspace_id)
    return int((await session.exec(stmt)).one())


async def count_sent_since(session: AsyncSession, workspace_id: str, since: datetime) -> int:
    stmt = (
        select(func.count())
        .select_from(SentMessage)
        .where(SentMessage.workspace_id == workspace_id, col(SentMessage.sent_at) >= since)
    )
    return int((await session.exec(stmt)).one())


async def count_distinct_since(
    session: AsyncSession, workspace_id: str, type: str, column: Any, since: datetime
) -> int:
    """Distinct ``column`` values among the workspace's events of ``type`` since ``since``."""
    stmt = select(func.count(func.distinct(column))).where(
        Event.workspace_id == workspace_id, Event.type == type, col(Event.occurred_at) >= since
    )
    return int((await session.exec(stmt)).one())

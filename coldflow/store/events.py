"""The event log."""

from __future__ import annotations

from typing import Any

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from coldflow.models import Event


async def record_event(
    session: AsyncSession,
    *,
    workspace_id: str,
    type: str,
    campaign_id: str | None = None,
    lead_id: str | None = None,
    inbox_id: str | None = None,
    step: int | None = None,
    variant_id: str | None = None,
    email_id: str | None = None,
    data: dict[str, Any] | None = None,
) -> Event:
    event = Event(
        workspace_id=workspace_id,
        type=type,
        campaign_id=campaign_id,
        lead_id=lead_id,
        inbox_id=inbox_id,
        step=step,
        variant_id=variant_id,
        email_id=email_id,
        data=data or {},
    )
    session.add(event)
    await session.flush()
    return event


async def has_email_event(session: AsyncSession, email_id: str, type: str) -> bool:
    """Whether a sent message already has an event of ``type`` (e.g. its first open)."""
    stmt = select(Event.id).where(Event.email_id == email_id, Event.type == type)
    return (await session.exec(stmt.limit(1))).first() is not None

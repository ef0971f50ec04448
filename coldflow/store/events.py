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
        data=data or {},
    )
    session.add(event)
    await session.flush()
    return event


async def has_step_event(session: AsyncSession, lead_id: str | None, step: int, type: str) -> bool:
    """Whether the lead already has an event of ``type`` for ``step`` (e.g. a first open)."""
    stmt = select(Event.id).where(Event.lead_id == lead_id, Event.step == step, Event.type == type)
    return (await session.exec(stmt.limit(1))).first() is not None

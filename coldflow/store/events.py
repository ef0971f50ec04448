"""The event log."""

from __future__ import annotations

from typing import Any

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

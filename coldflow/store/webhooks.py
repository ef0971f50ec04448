"""Webhook endpoints, their delivery attempts, and the event outbox the relay drains."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime

from sqlalchemy import func, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from coldflow.models import Event, WebhookDelivery, WebhookEndpoint
from coldflow.store.paging import PageRequest, PageResult, contains, fetch_page


async def get_endpoint(
    session: AsyncSession, workspace_id: str, endpoint_id: str
) -> WebhookEndpoint | None:
    stmt = select(WebhookEndpoint).where(
        WebhookEndpoint.id == endpoint_id, WebhookEndpoint.workspace_id == workspace_id
    )
    return (await session.exec(stmt)).first()


async def list_endpoints(
    session: AsyncSession, workspace_id: str, request: PageRequest
) -> PageResult[WebhookEndpoint]:
    stmt = select(WebhookEndpoint).where(WebhookEndpoint.workspace_id == workspace_id)
    if request.search:
        stmt = stmt.where(col(WebhookEndpoint.url).ilike(contains(request.search), escape="\\"))
    return await fetch_page(
        session,
        stmt,
        request,
        sortable={
            "url": col(WebhookEndpoint.url),
            "created_at": col(WebhookEndpoint.created_at),
            "updated_at": col(WebhookEndpoint.updated_at),
        },
        default_sort="created_at",
        tiebreak=col(WebhookEndpoint.id),
    )


async def active_endpoints(
    session: AsyncSession, workspace_ids: Collection[str]
) -> Sequence[WebhookEndpoint]:
    """Every active endpoint of these workspaces (the relay filters by event in Python)."""
    stmt = select(WebhookEndpoint).where(
        col(WebhookEndpoint.workspace_id).in_(workspace_ids),
        col(WebhookEndpoint.is_active).is_(True),
    )
    return (await session.exec(stmt)).all()


async def get_event(session: AsyncSession, workspace_id: str, event_id: str) -> Event | None:
    stmt = select(Event).where(Event.id == event_id, Event.workspace_id == workspace_id)
    return (await session.exec(stmt)).first()


async def pending_events(session: AsyncSession, limit: int) -> Sequence[Event]:
    """The oldest events not yet handed to their deliveries (the transactional outbox)."""
    stmt = (
        select(Event)
        .where(col(Event.dispatched_at).is_(None))
        .order_by(col(Event.occurred_at), col(Event.id))
        .limit(limit)
    )
    return (await session.exec(stmt)).all()


async def mark_dispatched(session: AsyncSession, event_ids: Sequence[str], at: datetime) -> None:
    await session.execute(
        update(Event).where(col(Event.id).in_(event_ids)).values(dispatched_at=at)
    )


async def get_delivery(
    session: AsyncSession, workspace_id: str, endpoint_id: str, delivery_id: str
) -> WebhookDelivery | None:
    stmt = (
        select(WebhookDelivery)
        .join(WebhookEndpoint, col(WebhookEndpoint.id) == WebhookDelivery.endpoint_id)
        .where(
            WebhookDelivery.id == delivery_id,
            WebhookDelivery.endpoint_id == endpoint_id,
            WebhookEndpoint.workspace_id == workspace_id,
        )
    )
    return (await session.exec(stmt)).first()


async def last_attempt(session: AsyncSession, endpoint_id: str, event_id: str) -> int:
    """The highest attempt number recorded for (endpoint, event); 0 when none."""
    stmt = select(func.max(WebhookDelivery.attempt)).where(
        WebhookDelivery.endpoint_id == endpoint_id, WebhookDelivery.event_id == event_id
    )
    return int((await session.exec(stmt)).one() or 0)


async def list_deliveries(
    session: AsyncSession,
    endpoint_id: str,
    request: PageRequest,
    *,
    event_id: str | None = None,
    succeeded: bool | None = None,
) -> PageResult[WebhookDelivery]:
    """Attempts of one endpoint (the caller has checked its workspace), newest first."""
    stmt = select(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint_id)
    if event_id is not None:
        stmt = stmt.where(WebhookDelivery.event_id == event_id)
    if succeeded is not None:
        stmt = stmt.where(WebhookDelivery.succeeded == succeeded)
    return await fetch_page(
        session,
        stmt,
        request,
        sortable={
            "created_at": col(WebhookDelivery.created_at),
            "attempt": col(WebhookDelivery.attempt),
        },
        default_sort="created_at",
        tiebreak=col(WebhookDelivery.id),
    )


async def event_types(session: AsyncSession, event_ids: Collection[str]) -> dict[str, str]:
    """Event id → type, for a page of deliveries."""
    if not event_ids:
        return {}
    stmt = select(Event.id, Event.type).where(col(Event.id).in_(event_ids))
    return dict((await session.exec(stmt)).all())

"""Send reservations and the daily counters behind ``daily_limit`` and ``daily_campaign_limit``.

A counter is incremented with one conditional UPDATE (``count < limit``), which is atomic on
SQLite and on PostgreSQL, so several workers can never overshoot a limit between them.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from coldflow.models import SendCounter, SentMessage


async def _ensure_counter(session: AsyncSession, scope: str, scope_id: str, day: str) -> None:
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = insert(SendCounter).values(scope=scope, scope_id=scope_id, day=day, count=0)
    await session.execute(stmt.on_conflict_do_nothing())


async def try_increment(
    session: AsyncSession, scope: str, scope_id: str, day: str, limit: int
) -> bool:
    """Take one send from the (scope, day) budget; False when the day is already full."""
    await _ensure_counter(session, scope, scope_id, day)
    result = await session.execute(
        update(SendCounter)
        .where(
            col(SendCounter.scope) == scope,
            col(SendCounter.scope_id) == scope_id,
            col(SendCounter.day) == day,
            col(SendCounter.count) < limit,
        )
        .values(count=SendCounter.count + 1)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def increment(session: AsyncSession, scope: str, scope_id: str, day: str) -> None:
    """Count one send whatever the limit (an API email, checked against it when accepted)."""
    await _ensure_counter(session, scope, scope_id, day)
    await session.execute(
        update(SendCounter)
        .where(
            col(SendCounter.scope) == scope,
            col(SendCounter.scope_id) == scope_id,
            col(SendCounter.day) == day,
        )
        .values(count=SendCounter.count + 1)
    )


async def decrement(session: AsyncSession, scope: str, scope_id: str, day: str) -> None:
    """Give back a send taken by ``try_increment`` when its partner counter was full."""
    await session.execute(
        update(SendCounter)
        .where(
            col(SendCounter.scope) == scope,
            col(SendCounter.scope_id) == scope_id,
            col(SendCounter.day) == day,
            col(SendCounter.count) > 0,
        )
        .values(count=SendCounter.count - 1)
    )


async def counts_for(
    session: AsyncSession, scope: str, scope_ids: Sequence[str], day: str
) -> dict[str, int]:
    """Today's count per id (missing ids count zero): the rotation picks the least used."""
    if not scope_ids:
        return {}
    stmt = select(SendCounter).where(
        SendCounter.scope == scope, col(SendCounter.scope_id).in_(scope_ids), SendCounter.day == day
    )
    rows = (await session.exec(stmt)).all()
    counts = dict.fromkeys(scope_ids, 0)
    counts.update({row.scope_id: row.count for row in rows})
    return counts


async def find_sent(session: AsyncSession, lead_id: str, step: int) -> SentMessage | None:
    stmt = select(SentMessage).where(SentMessage.lead_id == lead_id, SentMessage.step == step)
    return (await session.exec(stmt)).first()


async def count_sent(session: AsyncSession, campaign_id: str) -> int:
    stmt = (
        select(func.count())
        .select_from(SentMessage)
        .where(SentMessage.campaign_id == campaign_id, col(SentMessage.sent_at).is_not(None))
    )
    return int((await session.exec(stmt)).one())

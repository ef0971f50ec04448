"""Blocklist lookups."""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from coldflow.models import BlocklistEntry


async def is_blocked(session: AsyncSession, workspace_id: str, email: str) -> bool:
    """An address is blocked by its own entry or by its domain's."""
    address = email.strip().lower()
    domain = address.rpartition("@")[2]
    stmt = select(BlocklistEntry.id).where(
        BlocklistEntry.workspace_id == workspace_id,
        col(BlocklistEntry.value).in_([address, domain]),
    )
    return (await session.exec(stmt)).first() is not None


async def blocked_among(
    session: AsyncSession, workspace_id: str, emails: Sequence[str]
) -> set[str]:
    """Which of ``emails`` are blocked, by address or by domain, in one query."""
    addresses = {e.strip().lower() for e in emails}
    domains = {a.rpartition("@")[2] for a in addresses}
    if not addresses:
        return set()
    stmt = select(BlocklistEntry.value).where(
        BlocklistEntry.workspace_id == workspace_id,
        col(BlocklistEntry.value).in_(addresses | domains),
    )
    values = set((await session.exec(stmt)).all())
    return {a for a in addresses if a in values or a.rpartition("@")[2] in values}

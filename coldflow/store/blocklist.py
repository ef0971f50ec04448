"""Blocklist lookups."""

from __future__ import annotations

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

"""Blocklist lookups."""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from coldflow.models import BlocklistEntry
from coldflow.store.paging import PageRequest, PageResult, contains, fetch_page


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


async def find_entry(session: AsyncSession, workspace_id: str, value: str) -> BlocklistEntry | None:
    stmt = select(BlocklistEntry).where(
        BlocklistEntry.workspace_id == workspace_id, BlocklistEntry.value == value
    )
    return (await session.exec(stmt)).first()


async def get_entry(
    session: AsyncSession, workspace_id: str, entry_id: str
) -> BlocklistEntry | None:
    stmt = select(BlocklistEntry).where(
        BlocklistEntry.workspace_id == workspace_id, BlocklistEntry.id == entry_id
    )
    return (await session.exec(stmt)).first()


async def list_entries(
    session: AsyncSession, workspace_id: str, request: PageRequest
) -> PageResult[BlocklistEntry]:
    stmt = select(BlocklistEntry).where(BlocklistEntry.workspace_id == workspace_id)
    if request.search:
        stmt = stmt.where(
            col(BlocklistEntry.value).ilike(contains(request.search.lower()), escape="\\")
        )
    return await fetch_page(
        session,
        stmt,
        request,
        sortable={"email": col(BlocklistEntry.value), "created_at": col(BlocklistEntry.created_at)},
        default_sort="created_at",
        tiebreak=col(BlocklistEntry.id),
    )

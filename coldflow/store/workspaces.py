"""Workspaces and API keys."""

from __future__ import annotations

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from coldflow.models import ApiKey, Workspace


async def get_workspace_by_name(session: AsyncSession, name: str) -> Workspace | None:
    return (await session.exec(select(Workspace).where(Workspace.name == name))).first()


async def get_workspace(session: AsyncSession, workspace_id: str) -> Workspace | None:
    return await session.get(Workspace, workspace_id)


async def find_key_by_hash(session: AsyncSession, key_hash: str) -> ApiKey | None:
    """The live key with this hash; revoked keys are treated as unknown."""
    stmt = select(ApiKey).where(ApiKey.key_hash == key_hash, ApiKey.revoked_at.is_(None))  # type: ignore[union-attr]
    return (await session.exec(stmt)).first()

"""Blocklist use cases: an entry blocks one address or a whole domain, case-insensitively."""

from __future__ import annotations

import re

from sqlmodel.ext.asyncio.session import AsyncSession

from coldflow.errors import InvalidInput, NotFound
from coldflow.models import BlockKind, BlocklistEntry
from coldflow.store import blocklist as store

_DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
_LOCAL = re.compile(r"^[^@\s]{1,64}$")


def normalize_entry(raw: str) -> tuple[str, BlockKind]:
    """``Ann@Example.com`` → address; ``@example.com`` or ``example.com`` → domain."""
    value = raw.strip().lower()
    if value.startswith("@"):
        value = value[1:]
    local, at, domain = value.rpartition("@")
    if at and _LOCAL.match(local) and _DOMAIN.match(domain):
        return value, BlockKind.email
    if not at and _DOMAIN.match(value):
        return value, BlockKind.domain
    raise InvalidInput.field(
        "email", "expected an email address or a domain such as @example.com", code="INVALID_ENTRY"
    )


async def add_entry(*, session: AsyncSession, workspace_id: str, raw: str) -> BlocklistEntry:
    """Idempotent: blocking what is already blocked returns the existing entry."""
    value, kind = normalize_entry(raw)
    existing = await store.find_entry(session, workspace_id, value)
    if existing is not None:
        return existing
    entry = BlocklistEntry(workspace_id=workspace_id, value=value, kind=kind)
    session.add(entry)
    await session.flush()
    return entry


async def delete_entry(*, session: AsyncSession, workspace_id: str, entry_id: str) -> None:
    entry = await store.get_entry(session, workspace_id, entry_id)
    if entry is None:
        raise NotFound("blocklist_entry", entry_id)
    await session.delete(entry)
    await session.flush()


async def is_blocked(*, session: AsyncSession, workspace_id: str, email: str) -> bool:
    return await store.is_blocked(session, workspace_id, email)

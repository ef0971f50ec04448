"""Stored first responses to POSTs that carried an ``Idempotency-Key``.

Records are scoped by API key rather than workspace: two keys of one workspace may use the same
``Idempotency-Key`` for different requests, and a key only ever sees its own records.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from coldflow.models import IdempotencyRecord


async def find_record(
    session: AsyncSession, *, api_key_id: str, key: str, since: datetime
) -> IdempotencyRecord | None:
    """The record for (API key, Idempotency-Key) created at or after ``since``, if any."""
    stmt = select(IdempotencyRecord).where(
        IdempotencyRecord.api_key_id == api_key_id,
        IdempotencyRecord.key == key,
        col(IdempotencyRecord.created_at) >= since,
    )
    return (await session.exec(stmt)).first()


async def save_record(
    session: AsyncSession, record: IdempotencyRecord, *, expired_before: datetime
) -> None:
    """Insert ``record``, replacing an expired one with the same key (lookups ignore it anyway).

    Raises ``IntegrityError`` if a live record for the same key got there first (another
    process); the caller's unit of work then rolls back and the first record stands.
    """
    await session.execute(
        delete(IdempotencyRecord).where(
            col(IdempotencyRecord.api_key_id) == record.api_key_id,
            col(IdempotencyRecord.key) == record.key,
            col(IdempotencyRecord.created_at) < expired_before,
        )
    )
    session.add(record)
    await session.flush()


async def purge_records(session: AsyncSession, *, before: datetime) -> int:
    """Delete every record created before ``before``; the number deleted."""
    result = await session.execute(
        delete(IdempotencyRecord).where(col(IdempotencyRecord.created_at) < before)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]

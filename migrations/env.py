"""Alembic environment: runs migrations on the async engine coldflow itself uses."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel

import coldflow.models  # noqa: F401  (registers every table on the metadata)
from coldflow.store.db import create_engine

target_metadata = SQLModel.metadata


def _run(connection: Connection) -> None:
    # Batch mode lets SQLite alter tables (it rebuilds them); PostgreSQL ignores it.
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=True,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_online(url: str) -> None:
    # Batch mode rebuilds SQLite tables; a DROP with foreign keys on would cascade (data loss).
    engine = create_engine(url, foreign_keys=False)
    async with engine.connect() as connection:
        await connection.run_sync(_run)
    await engine.dispose()


url = context.config.get_main_option("sqlalchemy.url")
if not url:
    raise RuntimeError("migrations need sqlalchemy.url; use `coldflow migrate`")
if context.is_offline_mode():
    context.configure(url=url, target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _run(connection)
    else:
        asyncio.run(_run_online(url))

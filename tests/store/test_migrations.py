"""The schema the migrations build: every table, no drift from the models, a clean way back down,
and the column behaviours the rest of coldflow relies on (aware UTC datetimes, foreign keys that
are enforced and cascade).

Runs on SQLite and PostgreSQL through ``store_url``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Column, Connection, DateTime, MetaData, func, inspect, select, text
from sqlalchemy.exc import IntegrityError, StatementError
from sqlmodel import SQLModel, col

from coldflow.models import Campaign, CampaignInbox, Inbox, Lead, SentMessage, Step, Variant
from coldflow.models.base import UTCDateTime
from coldflow.store import campaigns as campaign_store
from coldflow.store.db import SessionFactory, create_engine, unit_of_work
from coldflow.store.migrate import alembic_config, upgrade_to_head

if TYPE_CHECKING:
    from tests.fixtures.postgres import PostgresServer
    from tests.store.conftest import Seeder

MODEL_TABLES = frozenset(SQLModel.metadata.tables)


# --- helpers --------------------------------------------------------------------------------


def _schema(connection: Connection) -> dict[str, Any]:
    """Everything Alembic manages, per table, in a form two databases can be compared by."""
    inspector = inspect(connection)
    return {
        table: {
            "columns": sorted(
                (c["name"], str(c["type"]), c["nullable"]) for c in inspector.get_columns(table)
            ),
            "indexes": sorted(
                (i["name"] or "", tuple(i["column_names"]), bool(i["unique"]))
                for i in inspector.get_indexes(table)
            ),
            "uniques": sorted(
                (u["name"] or "", tuple(u["column_names"]))
                for u in inspector.get_unique_constraints(table)
            ),
            "foreign_keys": sorted(
                (
                    fk["referred_table"],
                    tuple(fk["constrained_columns"]),
                    fk["options"].get("ondelete") or "",
                )
                for fk in inspector.get_foreign_keys(table)
            ),
        }
        for table in inspector.get_table_names()
    }


def _revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def _drift(connection: Connection, metadata: MetaData) -> list[Any]:
    # The same options as migrations/env.py, so the test sees what `alembic revision
    # --autogenerate` would see.
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, metadata))


async def _inspect(url: str, probe: Any) -> Any:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(probe)
    finally:
        await engine.dispose()


async def _downgrade_to_base(url: str) -> None:
    # Alembic's env.py runs its own event loop, so commands go to a thread.
    await asyncio.to_thread(command.downgrade, alembic_config(url), "base")


@pytest.fixture
async def empty_url(
    store_url: str, tmp_path: Path, request: pytest.FixtureRequest
) -> AsyncIterator[str]:
    """A brand-new, never-migrated database on the same backend as ``store_url``."""
    if store_url.startswith("sqlite"):
        yield f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}"
        return
    server: PostgresServer = request.getfixturevalue("postgres_server")
    url = await server.create_database()
    yield url
    await server.drop_database(url)


# --- migrations -----------------------------------------------------------------------------


async def test_upgrade_on_empty_database_creates_every_model_table(empty_url: str) -> None:
    await asyncio.to_thread(upgrade_to_head, empty_url)

    tables = await _inspect(empty_url, lambda c: set(inspect(c).get_table_names()))

    assert tables == MODEL_TABLES | {"alembic_version"}


async def test_upgrade_stamps_the_head_revision(store_url: str) -> None:
    head = ScriptDirectory.from_config(alembic_config(store_url)).get_current_head()

    assert await _inspect(store_url, _revision) == head


def _state(connection: Connection) -> tuple[Any, ...]:
    names = connection.execute(text("SELECT name FROM workspaces")).scalars().all()
    return _revision(connection), _schema(connection), names


async def test_second_upgrade_is_a_noop(seed: Seeder, store_url: str) -> None:
    await seed.workspace("acme")  # a rebuilt table would lose it
    before = await _inspect(store_url, _state)

    await asyncio.to_thread(upgrade_to_head, store_url)

    assert await _inspect(store_url, _state) == before


async def test_models_and_migrations_do_not_drift(store_url: str) -> None:
    drift = await _inspect(store_url, lambda c: _drift(c, SQLModel.metadata))

    assert drift == []


async def test_drift_check_catches_a_model_change_without_migration(store_url: str) -> None:
    """Guards the guard: a column added to the models alone must show up as drift."""
    changed = MetaData()
    for table in SQLModel.metadata.tables.values():
        table.to_metadata(changed)
    changed.tables["campaigns"].append_column(Column("archived_at", UTCDateTime(), nullable=True))

    drift = await _inspect(store_url, lambda c: _drift(c, changed))

    assert [(d[0], d[2], d[3].name) for d in drift] == [("add_column", "campaigns", "archived_at")]


async def test_downgrade_to_base_drops_every_table(store_url: str) -> None:
    await _downgrade_to_base(store_url)

    tables = await _inspect(store_url, lambda c: set(inspect(c).get_table_names()))

    assert tables <= {"alembic_version"}


async def test_upgrade_after_downgrade_restores_the_schema(store_url: str) -> None:
    before = await _inspect(store_url, _schema)
    await _downgrade_to_base(store_url)

    await asyncio.to_thread(upgrade_to_head, store_url)

    assert await _inspect(store_url, _schema) == before


# --- aware UTC datetimes (UTCDateTime) -------------------------------------------------------

AWARE_TIMES = [
    pytest.param(
        datetime(2025, 1, 15, 9, 30, 0, 5, tzinfo=timezone(timedelta(hours=5, minutes=30))),
        id="fixed-offset-microseconds",
    ),
    pytest.param(
        # 01:30 happens twice on this day in New York; fold=1 is the second one, in EST.
        datetime(2025, 11, 2, 1, 30, fold=1, tzinfo=ZoneInfo("America/New_York")),
        id="new-york-repeated-hour",
    ),
]


async def _set_activated_at(sessions: SessionFactory, campaign_id: str, value: datetime) -> None:
    async with unit_of_work(sessions) as session:
        row = await session.get(Campaign, campaign_id)
        assert row is not None
        row.activated_at = value
        session.add(row)


async def _campaign_activated_at(seed: Seeder, value: datetime) -> Campaign:
    workspace = await seed.workspace("acme")
    campaign = await seed.campaign(workspace.id)
    await _set_activated_at(seed.sessions, campaign.id, value)
    return campaign


@pytest.mark.parametrize("value", AWARE_TIMES)
async def test_aware_datetime_reads_back_as_the_same_instant_in_utc(
    seed: Seeder, store_sessions: SessionFactory, value: datetime
) -> None:
    campaign = await _campaign_activated_at(seed, value)

    async with store_sessions() as session:
        row = await session.get(Campaign, campaign.id)

    assert row is not None
    assert row.activated_at is not None
    assert row.activated_at.tzinfo is UTC
    # PEP 495: a fold=1 time never compares equal across zones, so compare in UTC.
    assert row.activated_at == value.astimezone(UTC)


async def test_datetime_is_stored_as_utc_wall_clock(
    seed: Seeder, store_sessions: SessionFactory
) -> None:
    value = datetime(2025, 1, 15, 9, 30, tzinfo=timezone(timedelta(hours=5, minutes=30)))
    campaign = await _campaign_activated_at(seed, value)

    raw = text("SELECT activated_at FROM campaigns WHERE id = :id").columns(activated_at=DateTime())
    async with store_sessions() as session:
        stored = (await session.execute(raw, {"id": campaign.id})).scalar_one()

    assert stored == datetime(2025, 1, 15, 4, 0)


async def test_naive_datetime_is_refused(seed: Seeder, store_sessions: SessionFactory) -> None:
    workspace = await seed.workspace("acme")
    campaign = await seed.campaign(workspace.id)

    with pytest.raises(StatementError, match="naive datetime") as raised:
        await _set_activated_at(store_sessions, campaign.id, datetime(2025, 1, 1, 12, 0))

    assert isinstance(raised.value.orig, ValueError)
    async with store_sessions() as session:
        row = await session.get(Campaign, campaign.id)
    assert row is not None
    assert row.activated_at is None


async def test_filtering_by_aware_datetime_compares_instants(
    seed: Seeder, store_sessions: SessionFactory
) -> None:
    campaign = await _campaign_activated_at(seed, datetime(2025, 6, 1, 12, 0, tzinfo=UTC))
    half_past_twelve_utc = datetime(2025, 6, 1, 13, 30, tzinfo=timezone(timedelta(hours=1)))
    half_past_eleven_utc = datetime(2025, 6, 1, 13, 30, tzinfo=timezone(timedelta(hours=2)))

    async with store_sessions() as session:
        before = select(col(Campaign.id)).where(col(Campaign.activated_at) < half_past_twelve_utc)
        after = select(col(Campaign.id)).where(col(Campaign.activated_at) < half_past_eleven_utc)
        found_before = (await session.execute(before)).scalars().all()
        found_after = (await session.execute(after)).scalars().all()

    assert (found_before, found_after) == ([campaign.id], [])


# --- foreign keys and cascades ---------------------------------------------------------------


async def test_orphan_row_is_refused(store_sessions: SessionFactory) -> None:
    """On SQLite this holds only because db.py turns ``PRAGMA foreign_keys`` on per connection."""
    with pytest.raises(IntegrityError):
        async with unit_of_work(store_sessions) as session:
            session.add(Step(campaign_id="no-such-campaign", position=1))


async def _count(sessions: SessionFactory, model: Any, *where: Any) -> int:
    async with sessions() as session:
        stmt = select(func.count()).select_from(model).where(*where)
        return int((await session.execute(stmt)).scalar_one())


@pytest.fixture
async def full_campaign(seed: Seeder, store_sessions: SessionFactory) -> dict[str, Any]:
    """A campaign with two steps (and variants), an attached inbox, two leads and a send."""
    workspace = await seed.workspace("acme")
    inbox = await seed.inbox(workspace.id, "alex@acme.io")
    campaign = await seed.campaign(workspace.id, steps=2, inbox_ids=[inbox.id])
    leads = await seed.leads(
        workspace.id, campaign.id, {"email": "ann@buyer.io"}, {"email": "bob@buyer.io"}
    )
    async with unit_of_work(store_sessions) as session:
        step_ids = [s.id for s in await campaign_store.list_steps(session, campaign.id)]
        session.add(
            SentMessage(
                workspace_id=workspace.id,
                campaign_id=campaign.id,
                lead_id=leads[0].id,
                step=1,
                inbox_id=inbox.id,
                message_id="<m1@acme.io>",
                to_email=leads[0].email,
            )
        )
    return {"workspace": workspace, "inbox": inbox, "campaign": campaign, "step_ids": step_ids}


async def _children_left(sessions: SessionFactory, world: dict[str, Any]) -> dict[str, int]:
    campaign_id = world["campaign"].id
    where: dict[str, tuple[Any, Any]] = {
        "steps": (Step, col(Step.campaign_id) == campaign_id),
        "variants": (Variant, col(Variant.step_id).in_(world["step_ids"])),
        "leads": (Lead, col(Lead.campaign_id) == campaign_id),
        "campaign_inboxes": (CampaignInbox, col(CampaignInbox.campaign_id) == campaign_id),
        "sent_messages": (SentMessage, col(SentMessage.campaign_id) == campaign_id),
    }
    return {name: await _count(sessions, model, clause) for name, (model, clause) in where.items()}


async def _delete_campaign(sessions: SessionFactory, campaign_id: str) -> None:
    async with unit_of_work(sessions) as session:
        await session.delete(await session.get(Campaign, campaign_id))


async def test_deleting_campaign_removes_its_steps_variants_leads_links_and_sends(
    full_campaign: dict[str, Any], store_sessions: SessionFactory
) -> None:
    before = await _children_left(store_sessions, full_campaign)
    assert before == {
        "steps": 2,
        "variants": 2,
        "leads": 2,
        "campaign_inboxes": 1,
        "sent_messages": 1,
    }

    await _delete_campaign(store_sessions, full_campaign["campaign"].id)

    assert await _children_left(store_sessions, full_campaign) == dict.fromkeys(before, 0)


async def test_deleting_campaign_keeps_its_inboxes(
    full_campaign: dict[str, Any], store_sessions: SessionFactory
) -> None:
    await _delete_campaign(store_sessions, full_campaign["campaign"].id)

    assert await _count(store_sessions, Inbox, col(Inbox.id) == full_campaign["inbox"].id) == 1


async def test_0004_lists_the_domains_of_existing_inboxes(empty_url: str) -> None:
    """Inboxes created before sender domains existed get their domain listed by the upgrade."""
    from datetime import datetime

    import sqlalchemy as sa

    await asyncio.to_thread(command.upgrade, alembic_config(empty_url), "0003")
    engine = create_engine(empty_url)
    try:
        async with engine.begin() as connection:
            await connection.execute(
                sa.text(
                    "INSERT INTO workspaces (id, name, created_at) VALUES ('w1', 'acme', :now)"
                ),
                {"now": datetime(2026, 12, 1)},
            )
            for n, email in enumerate(["a@Acme.io", "b@acme.io", "c@other.example"]):
                await connection.execute(
                    sa.text(
                        "INSERT INTO inboxes (id, workspace_id, email, first_name, last_name,"
                        " provider, connection_type, smtp_host, smtp_port, smtp_username,"
                        " smtp_security, imap_host, imap_port, imap_username, imap_security,"
                        " imap_folder, credentials, connection_status, is_active,"
                        " daily_campaign_limit, is_warming, daily_warmup_limit, signature,"
                        " created_at, updated_at) VALUES (:id, 'w1', :email, '', '', 'other',"
                        " 'imap_smtp', '', 587, '', 'starttls', '', 993, '', 'tls', 'INBOX', '',"
                        " 'pending', true, 50, false, 10, '', :now, :now)"
                    ),
                    {"id": f"i{n}", "email": email, "now": datetime(2026, 12, 1)},
                )
    finally:
        await engine.dispose()
    await asyncio.to_thread(command.upgrade, alembic_config(empty_url), "head")

    def names_of(connection: Any) -> list[str]:
        return sorted(r[0] for r in connection.execute(sa.text("SELECT name FROM sender_domains")))

    names = await _inspect(empty_url, names_of)
    assert names == ["acme.io", "other.example"]

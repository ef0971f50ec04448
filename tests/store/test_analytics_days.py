"""The analytics' daily series groups sends in the database by UTC quarter hour; on both
backends its local days must equal a count done in Python, also for half- and
quarter-hour zones."""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from coldflow.models import Campaign, SentMessage
from coldflow.services.analytics import daily_series
from coldflow.store.db import SessionFactory, unit_of_work
from tests.store.conftest import Seeder

NOW = datetime(2026, 3, 20, 12, 7, tzinfo=UTC)


@pytest.mark.parametrize("zone", ["America/New_York", "Asia/Kolkata", "Asia/Tehran", "UTC"])
async def test_local_days_match_a_python_count(
    seed: Seeder, store_sessions: SessionFactory, zone: str
) -> None:
    workspace = await seed.workspace("acme")
    campaign = await seed.campaign(workspace.id)
    rng = random.Random(zone)
    times = [NOW - timedelta(seconds=rng.randrange(40 * 86400)) for _ in range(600)]
    async with unit_of_work(store_sessions) as session:
        row = await session.get(Campaign, campaign.id)
        assert row is not None
        row.schedule = {**row.schedule, "timezone": zone}
        session.add(row)
        for n, at in enumerate(times):
            session.add(
                SentMessage(
                    workspace_id=workspace.id,
                    campaign_id=campaign.id,
                    message_id=f"<d{n}.{zone}@bench.example>",
                    to_email=f"l{n}@example.com",
                    sent_at=at,
                )
            )
    async with unit_of_work(store_sessions) as session:
        row = await session.get(Campaign, campaign.id)
        assert row is not None
        series = await daily_series(session, row, NOW)
    local = ZoneInfo(zone)
    expected = Counter(t.astimezone(local).date().isoformat() for t in times)
    assert len(series) == 30
    assert {d.date: d.sent for d in series} == {d.date: expected[d.date] for d in series}

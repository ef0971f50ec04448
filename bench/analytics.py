"""Campaign analytics at scale, against a baseline measured in the same run.

A campaign of ``--leads`` leads (default 100,000) with one send each spread over the last 40
days, two variants and 5% of the leads replying; then ``GET /campaigns/{id}/analytics``'s work
(``campaign_views(detail=True)``: headline, 30-day series, per-variant numbers) is timed against
the baseline of one ``SELECT count(*)`` of the campaign's sends, each the median of ``--runs``.

    python -m bench.analytics [--leads 100000] [--runs 5] [--postgres URL]

The ratio says what the whole analytics costs in units of one indexed count over the sends.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, insert
from sqlmodel import select

from coldflow.ids import new_id
from coldflow.models import Campaign, Event, Lead, LeadStatus, SentMessage, Step, Variant, Workspace
from coldflow.services.campaign_views import campaign_views
from coldflow.store.db import SessionFactory, create_engine, session_factory, unit_of_work
from coldflow.store.migrate import upgrade_to_head

CHUNK = 5000


async def _seed(sessions: SessionFactory, leads: int) -> str:
    now, rng = datetime.now(UTC), random.Random(7)
    async with unit_of_work(sessions) as session:
        workspace = Workspace(name=f"bench-{new_id()[:8]}")
        session.add(workspace)
        await session.flush()
        campaign = Campaign(workspace_id=workspace.id, name="Analytics bench")
        session.add(campaign)
        await session.flush()
        step = Step(campaign_id=campaign.id, position=1, subject="Hi")
        session.add(step)
        await session.flush()
        variants = [Variant(step_id=step.id, label=label, subject="Hi") for label in "AB"]
        session.add_all(variants)
    ids = [v.id for v in variants]
    for start in range(0, leads, CHUNK):
        lead_rows, sent_rows, events = [], [], []
        for n in range(start, min(start + CHUNK, leads)):
            lead_id, variant = new_id(), ids[n % 2]
            replied = n % 20 == 0
            lead_rows.append(
                {
                    "id": lead_id,
                    "workspace_id": workspace.id,
                    "campaign_id": campaign.id,
                    "email": f"l{n}@bench.example",
                    "status": LeadStatus.replied if replied else LeadStatus.contacted,
                }
            )
            at = now - timedelta(seconds=rng.randrange(40 * 86400))
            sent_rows.append(
                {
                    "id": new_id(),
                    "workspace_id": workspace.id,
                    "campaign_id": campaign.id,
                    "lead_id": lead_id,
                    "step": 1,
                    "variant_id": variant,
                    "message_id": f"<{lead_id}@bench.example>",
                    "to_email": f"l{n}@bench.example",
                    "status": "sent",
                    "sent_at": at,
                }
            )
            if replied:
                events.append(
                    {
                        "id": new_id(),
                        "workspace_id": workspace.id,
                        "type": "email.replied",
                        "campaign_id": campaign.id,
                        "lead_id": lead_id,
                        "step": 1,
                        "variant_id": variant,
                        "data": {"is_positive": n % 40 == 0},
                        "occurred_at": at + timedelta(hours=3),
                    }
                )
        async with unit_of_work(sessions) as session:
            await session.execute(insert(Lead), lead_rows)
            await session.execute(insert(SentMessage), sent_rows)
            await session.execute(insert(Event), events)
    return campaign.id


async def _median(runs: int, work: object) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        await work()  # type: ignore[operator]
        times.append(time.perf_counter() - started)
    return statistics.median(times)


async def run(url: str, leads: int, runs: int) -> None:
    await asyncio.to_thread(upgrade_to_head, url)
    engine = create_engine(url)
    sessions = session_factory(engine)
    started = time.perf_counter()
    campaign_id = await _seed(sessions, leads)
    seeded = time.perf_counter() - started

    async def baseline() -> None:
        async with sessions() as session:
            stmt = select(func.count()).where(SentMessage.campaign_id == campaign_id)
            (await session.exec(stmt)).one()

    async def analytics() -> None:
        async with sessions() as session:
            campaign = await session.get(Campaign, campaign_id)
            assert campaign is not None
            [view] = await campaign_views(session, [campaign], detail=True)
            assert view.stats.sent == leads

    base = await _median(runs, baseline)
    full = await _median(runs, analytics)
    await engine.dispose()
    backend = "postgresql" if url.startswith("postgresql") else "sqlite (WAL)"
    print(f"backend              {backend}; {leads} leads seeded in {seeded:.1f} s")
    print(f"baseline count(*)    {base * 1000:8.1f} ms (median of {runs})")
    print(f"analytics (detail)   {full * 1000:8.1f} ms (median of {runs})")
    print(f"ratio                {full / base:8.2f}  (analytics ÷ baseline)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--leads", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--postgres", help="a PostgreSQL URL instead of a temporary SQLite file")
    args = parser.parse_args()
    if args.postgres:
        asyncio.run(run(args.postgres, args.leads, args.runs))
        return
    with tempfile.TemporaryDirectory() as tmp:
        asyncio.run(run(f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}", args.leads, args.runs))


if __name__ == "__main__":
    main()

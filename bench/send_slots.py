"""Send-slot reservations against a baseline measured in the same run.

Each reservation takes one unit from the campaign counter and one from the inbox counter with
conditional UPDATEs (``count < limit``), then inserts the ``sent_messages`` row, all in one
transaction: exactly what the send activity does before SMTP. The baseline is one plain INSERT
per transaction on the same database, so the ratio says what the limit checks cost.

    python -m bench.send_slots [--n 2000] [--concurrency 20] [--postgres URL]

Prints ops/s for both and their ratio, and checks that no counter ever passed its limit.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

from sqlmodel import select

from coldflow.ids import new_id
from coldflow.models import Event, SendCounter, SentMessage, Workspace
from coldflow.store import sending as store
from coldflow.store.db import SessionFactory, create_engine, session_factory, unit_of_work
from coldflow.store.migrate import upgrade_to_head


async def _baseline(sessions: SessionFactory, workspace_id: str, n: int, concurrency: int) -> float:
    gate = asyncio.Semaphore(concurrency)

    async def one() -> None:
        async with gate, unit_of_work(sessions) as session:
            session.add(Event(workspace_id=workspace_id, type="bench.baseline"))

    started = time.perf_counter()
    await asyncio.gather(*(one() for _ in range(n)))
    return n / (time.perf_counter() - started)


async def _reserve(
    sessions: SessionFactory, workspace_id: str, n: int, concurrency: int, limit: int
) -> tuple[float, int]:
    gate = asyncio.Semaphore(concurrency)
    campaign, inbox, day = new_id(), new_id(), "2026-12-07"
    taken = 0

    async def one() -> None:
        nonlocal taken
        async with gate, unit_of_work(sessions) as session:
            if not await store.try_increment(session, "campaign", campaign, day, limit):
                return
            if not await store.try_increment(session, "inbox", inbox, day, limit):
                await store.decrement(session, "campaign", campaign, day)
                return
            session.add(
                SentMessage(
                    workspace_id=workspace_id,
                    message_id=f"<{new_id()}@bench.example>",
                    to_email="lead@bench.example",
                    step=1,
                )
            )
            taken += 1

    started = time.perf_counter()
    await asyncio.gather(*(one() for _ in range(n)))
    rate = n / (time.perf_counter() - started)
    async with sessions() as session:
        counters = (await session.exec(select(SendCounter))).all()
    assert all(c.count <= limit for c in counters), "a counter passed its limit"
    assert taken == min(n, limit), (taken, n, limit)
    return rate, taken


async def run(url: str, n: int, concurrency: int) -> None:
    await asyncio.to_thread(upgrade_to_head, url)
    engine = create_engine(url)
    sessions = session_factory(engine)
    async with unit_of_work(sessions) as session:
        workspace = Workspace(name=f"bench-{new_id()[:8]}")
        session.add(workspace)
    limit = n - n // 10  # the last tenth is refused: refusals are measured too
    baseline = await _baseline(sessions, workspace.id, n, concurrency)
    reserve, taken = await _reserve(sessions, workspace.id, n, concurrency, limit)
    await engine.dispose()
    backend = "postgresql" if url.startswith("postgresql") else "sqlite (WAL, synchronous=NORMAL)"
    print(f"backend            {backend}")
    print(f"operations         {n} at concurrency {concurrency}; limit {limit}, taken {taken}")
    print(f"baseline INSERT    {baseline:8.1f} tx/s")
    print(f"reserve send slot  {reserve:8.1f} tx/s")
    print(f"ratio              {reserve / baseline:8.2f}  (reserve ÷ baseline)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--postgres", help="a PostgreSQL URL instead of a temporary SQLite file")
    args = parser.parse_args()
    if args.postgres:
        asyncio.run(run(args.postgres, args.n, args.concurrency))
        return
    with tempfile.TemporaryDirectory() as tmp:
        asyncio.run(run(f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}", args.n, args.concurrency))


if __name__ == "__main__":
    main()

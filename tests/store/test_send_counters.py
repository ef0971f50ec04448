"""Daily send counters and the constraints behind exactly-once sending.

``try_increment`` is one conditional UPDATE, so concurrent workers must never overshoot a limit;
``sent_messages`` is unique per (lead, step) and per Message-ID, so a retried send can never
write a second row. Runs on SQLite and PostgreSQL through ``store_url``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy.exc import IntegrityError

from coldflow.models import SendCounter, SentMessage
from coldflow.store import sending
from coldflow.store.db import SessionFactory, unit_of_work

if TYPE_CHECKING:
    from tests.store.conftest import Seeder

DAY = "2025-05-01"
COUNTER = ("campaign", "c1", DAY)


async def _take(sessions: SessionFactory, scope: str, scope_id: str, day: str, limit: int) -> bool:
    """One send from the budget, in its own transaction, as each send activity does."""
    async with unit_of_work(sessions) as session:
        return await sending.try_increment(session, scope, scope_id, day, limit)


async def _give_back(sessions: SessionFactory, scope: str, scope_id: str, day: str) -> None:
    async with unit_of_work(sessions) as session:
        await sending.decrement(session, scope, scope_id, day)


async def _stored(sessions: SessionFactory, scope: str, scope_id: str, day: str) -> int | None:
    """The row's count, or None when no row exists."""
    async with sessions() as session:
        row = await session.get(SendCounter, (scope, scope_id, day))
    return None if row is None else row.count


# --- limits ----------------------------------------------------------------------------------


async def test_increments_stop_exactly_at_the_limit(store_sessions: SessionFactory) -> None:
    taken = [await _take(store_sessions, *COUNTER, limit=3) for _ in range(5)]

    assert taken == [True, True, True, False, False]
    assert await _stored(store_sessions, *COUNTER) == 3


async def test_zero_limit_takes_nothing(store_sessions: SessionFactory) -> None:
    assert await _take(store_sessions, *COUNTER, limit=0) is False
    assert await _stored(store_sessions, *COUNTER) == 0


OTHER_COUNTERS = {
    "other-day": ("campaign", "c1", "2025-05-02"),
    "other-scope-same-id": ("inbox", "c1", DAY),
    "other-id": ("campaign", "c2", DAY),
}


@pytest.mark.parametrize("other", OTHER_COUNTERS)
async def test_full_counter_leaves_other_counters_free(
    store_sessions: SessionFactory, other: str
) -> None:
    for _ in range(2):
        await _take(store_sessions, *COUNTER, limit=2)

    assert await _take(store_sessions, *OTHER_COUNTERS[other], limit=2) is True
    assert await _stored(store_sessions, *COUNTER) == 2
    assert await _stored(store_sessions, *OTHER_COUNTERS[other]) == 1


async def test_decrement_gives_one_send_back(store_sessions: SessionFactory) -> None:
    for _ in range(2):
        await _take(store_sessions, *COUNTER, limit=2)

    await _give_back(store_sessions, *COUNTER)

    assert await _take(store_sessions, *COUNTER, limit=2) is True
    assert await _stored(store_sessions, *COUNTER) == 2


async def test_decrement_never_goes_below_zero(store_sessions: SessionFactory) -> None:
    await _take(store_sessions, *COUNTER, limit=1)
    for _ in range(3):
        await _give_back(store_sessions, *COUNTER)

    assert await _stored(store_sessions, *COUNTER) == 0


async def test_counts_for_reads_one_day_and_fills_missing_ids_with_zero(
    store_sessions: SessionFactory,
) -> None:
    for _ in range(2):
        await _take(store_sessions, "inbox", "i1", DAY, limit=10)
    await _take(store_sessions, "inbox", "i2", "2025-04-30", limit=10)
    await _take(store_sessions, "campaign", "i3", DAY, limit=10)

    async with store_sessions() as session:
        counts = await sending.counts_for(session, "inbox", ["i1", "i2", "i3"], DAY)
        none = await sending.counts_for(session, "inbox", [], DAY)

    assert (counts, none) == ({"i1": 2, "i2": 0, "i3": 0}, {})


# --- concurrency -----------------------------------------------------------------------------

WORKERS = 40
LIMIT = 25


@pytest.mark.parametrize(
    "reads_first", [False, True], ids=["increment-only", "read-then-increment"]
)
async def test_concurrent_increments_never_overshoot_the_limit(
    store_sessions: SessionFactory, reads_first: bool
) -> None:
    """40 workers, each in its own session and transaction, race for 25 sends of one day.

    ``read-then-increment`` reads the counters first, as the send activity does before it takes
    a send: on SQLite a reader that later writes is where "database is locked" would appear.
    """
    start = asyncio.Barrier(WORKERS)

    async def worker() -> bool:
        async with unit_of_work(store_sessions) as session:
            # All forty sessions exist before any worker touches the database, so they all race.
            await start.wait()
            if reads_first:
                await sending.counts_for(session, "campaign", ["c1"], DAY)
                await asyncio.sleep(0)  # let the others read before anyone writes
            return await sending.try_increment(session, *COUNTER, limit=LIMIT)

    results = await asyncio.gather(*(worker() for _ in range(WORKERS)), return_exceptions=True)

    # A "database is locked" here would be a real finding: report it, never retry it away.
    assert [r for r in results if isinstance(r, BaseException)] == []
    assert (results.count(True), results.count(False)) == (LIMIT, WORKERS - LIMIT)
    assert await _stored(store_sessions, *COUNTER) == LIMIT


# --- sent_messages: one row per (lead, step) and per Message-ID ------------------------------


@pytest.fixture
async def first_send(seed: Seeder, store_sessions: SessionFactory) -> dict[str, Any]:
    """Two leads of one campaign; the first has been sent step 1 as ``<m1@acme.io>``."""
    workspace = await seed.workspace("acme")
    campaign = await seed.campaign(workspace.id, steps=2)
    ann, bob = await seed.leads(
        workspace.id, campaign.id, {"email": "ann@buyer.io"}, {"email": "bob@buyer.io"}
    )
    world = {"workspace": workspace.id, "campaign": campaign.id, "ann": ann, "bob": bob}
    async with unit_of_work(store_sessions) as session:
        session.add(_sent(world, "ann", step=1, message_id="<m1@acme.io>"))
    return world


def _sent(world: dict[str, Any], lead: str, *, step: int, message_id: str) -> SentMessage:
    return SentMessage(
        workspace_id=world["workspace"],
        campaign_id=world["campaign"],
        lead_id=world[lead].id,
        step=step,
        message_id=message_id,
        to_email=world[lead].email,
    )


def _send(lead: str, step: int, message_id: str) -> Callable[[dict[str, Any]], SentMessage]:
    return lambda world: _sent(world, lead, step=step, message_id=message_id)


REFUSED_SENDS = {
    "same-lead-and-step": _send("ann", 1, "<m2@acme.io>"),
    "same-message-id": _send("bob", 1, "<m1@acme.io>"),
}
ALLOWED_SENDS = {
    "same-lead-next-step": _send("ann", 2, "<m2@acme.io>"),
    "other-lead-same-step": _send("bob", 1, "<m2@acme.io>"),
}


@pytest.mark.parametrize("case", REFUSED_SENDS)
async def test_second_send_row_is_refused(
    first_send: dict[str, Any], store_sessions: SessionFactory, case: str
) -> None:
    with pytest.raises(IntegrityError):
        async with unit_of_work(store_sessions) as session:
            session.add(REFUSED_SENDS[case](first_send))


@pytest.mark.parametrize("case", ALLOWED_SENDS)
async def test_distinct_send_row_is_accepted(
    first_send: dict[str, Any], store_sessions: SessionFactory, case: str
) -> None:
    row = ALLOWED_SENDS[case](first_send)
    async with unit_of_work(store_sessions) as session:
        session.add(row)

    async with store_sessions() as session:
        assert await session.get(SentMessage, row.id) is not None


async def test_concurrent_reservations_of_one_step_admit_exactly_one(
    first_send: dict[str, Any], store_sessions: SessionFactory
) -> None:
    """Ten retries of bob's step 1 racing, each with its own Message-ID: one row survives."""
    start = asyncio.Barrier(10)

    async def reserve(n: int) -> None:
        async with unit_of_work(store_sessions) as session:
            await start.wait()
            session.add(_sent(first_send, "bob", step=1, message_id=f"<race{n}@acme.io>"))

    results = await asyncio.gather(*(reserve(n) for n in range(10)), return_exceptions=True)

    outcomes = sorted(type(r).__name__ for r in results)
    assert outcomes == ["IntegrityError"] * 9 + ["NoneType"]
    async with store_sessions() as session:
        assert await sending.find_sent(session, first_send["bob"].id, 1) is not None

"""Inbox warmup on a time-skipping server: three warming inboxes for 14 days, real SMTP.

Their watchers do not run here (no IMAP), so nothing is received and nothing is answered: this
is the sending side — the ramp, the working hours, the recipients — and the off/on switch.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import select

from coldflow.contracts.warmup import STOP_SIGNAL, WARMUP_WORKFLOW, WarmupInput, warmup_workflow_id
from coldflow.models import Inbox, WarmupMessage
from coldflow.store.db import unit_of_work
from coldflow.warmup import WARMUP_HEADER
from tests.workflows.world import World

ZONE = ZoneInfo("America/New_York")
LIMIT = 6


async def _warming(world: World, count: int) -> list[Inbox]:
    inboxes = [await world.inbox(f"w{n}@warm{n}.example.com") for n in range(count)]
    async with unit_of_work(world.sessions) as session:
        for inbox in inboxes:
            row = await session.get(Inbox, inbox.id)
            assert row is not None
            row.is_warming, row.daily_warmup_limit = True, LIMIT
            row.imap_host = "imap.invalid"  # configured (the pool needs IMAP); never dialled here
            row.warmup_timezone = "America/New_York"
            session.add(row)
    return inboxes


async def _start(world: World, inbox: Inbox) -> None:
    await world.journeys.start_task(
        WARMUP_WORKFLOW,
        WarmupInput(workspace_id=world.workspace_id, inbox_id=inbox.id),
        workflow_id=warmup_workflow_id(inbox.id),
        replace_running=False,
    )


async def _sent(world: World) -> list[WarmupMessage]:
    async with unit_of_work(world.sessions) as session:
        return list((await session.exec(select(WarmupMessage))).all())


async def _pass_days(world: World, began: datetime, days: int) -> None:
    """Skip ``days`` a day at a time: one long skip is one RPC, which a loaded machine can
    time out while the day's activities run."""
    for day in range(1, days + 1):
        await world.sleep_until(began + timedelta(days=day))


def _ramp(working_day: int) -> int:
    return min(LIMIT, 2 + 2 * working_day)


async def test_three_inboxes_for_14_days(world: World) -> None:
    inboxes = await _warming(world, 3)
    ids = {i.id for i in inboxes}
    began = await world.now()
    first_day = began.astimezone(ZONE).date()
    for inbox in inboxes:
        await _start(world, inbox)
    await _pass_days(world, began, 14)

    sent = await _sent(world)
    assert sent, "nothing was sent"
    by_inbox_day: dict[str, dict[date, int]] = defaultdict(lambda: defaultdict(int))
    for row in sent:
        local = row.sent_at.astimezone(ZONE)
        assert row.sender_inbox_id in ids
        assert row.recipient_inbox_id in ids - {row.sender_inbox_id}, "never to itself"
        assert local.weekday() < 5, f"weekend send at {local}"
        assert 9 <= local.hour < 17, f"send outside working hours at {local}"
        assert local.date().isoformat() == row.sender_day
        by_inbox_day[row.sender_inbox_id][local.date()] += 1
    for inbox in inboxes:
        days = by_inbox_day[inbox.id]
        working = [
            first_day + timedelta(days=n)
            for n in range(15)
            if (first_day + timedelta(days=n)).weekday() < 5
            and first_day + timedelta(days=n) < (began + timedelta(days=14)).astimezone(ZONE).date()
        ]
        for index, day in enumerate(working):
            planned = _ramp(index)
            if day == first_day:
                assert days.get(day, 0) <= planned  # started mid-day: the morning is gone
            else:
                assert days.get(day, 0) == planned, (inbox.email, day, dict(days))
        assert max(days.values()) <= LIMIT
    # Recipients are drawn evenly: over the run each inbox received from both others.
    received = defaultdict(set)
    for row in sent:
        received[row.recipient_inbox_id].add(row.sender_inbox_id)
    assert all(len(senders) == 2 for senders in received.values())
    # Every row went over SMTP, carrying the warmup header with its token.
    tokens = {m.message[WARMUP_HEADER] for m in world.smtp.messages}
    assert tokens == {row.token for row in sent}


async def test_off_and_on_resumes_the_ramp(world: World) -> None:
    first, second = await _warming(world, 2)
    began = await world.now()
    monday = (
        began.astimezone(ZONE) + timedelta(days=(7 - began.astimezone(ZONE).weekday()))
    ).date()
    # Start on a Monday morning, two working days, then off for a day.
    start = datetime.combine(monday, datetime.min.time(), ZONE)
    await world.sleep_until(start)
    for inbox in (first, second):
        await _start(world, inbox)
    await world.sleep_until(start + timedelta(days=2))
    handle = world.env.client.get_workflow_handle(warmup_workflow_id(first.id))
    async with unit_of_work(world.sessions) as session:  # as PATCH is_warming=false does
        row = await session.get(Inbox, first.id)
        assert row is not None
        row.is_warming = False
        session.add(row)
    await handle.signal(STOP_SIGNAL)
    # Asleep, the run ends on the signal; planning a day, it finds warmup off. Either way: over.
    assert await world.result(handle) in ("stopped", "warmup is off or the inbox was deleted")
    await world.sleep_until(start + timedelta(days=3))
    async with unit_of_work(world.sessions) as session:
        row = await session.get(Inbox, first.id)
        assert row is not None
        row.is_warming = True
        session.add(row)
    await _start(world, first)
    await world.sleep_until(start + timedelta(days=4))

    days: dict[date, int] = defaultdict(int)
    for message in await _sent(world):
        if message.sender_inbox_id == first.id:
            days[message.sent_at.astimezone(ZONE).date()] += 1
    # Monday 2, Tuesday 4, Wednesday off, Thursday resumes at 6 (not back to 2).
    assert [days.get(monday + timedelta(days=n), 0) for n in range(4)] == [2, 4, 0, 6]

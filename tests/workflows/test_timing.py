"""When the real journey sends: windows, weekends, disabled days, DST and per-lead time zones.

Each test skips the time-skipping server's clock to the moment it needs (computed from the
server's "now", which starts at the real now), enrols one lead, and lets the journey run to its
end; the send times are read from the journey's own history (server time).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from coldflow.contracts.journey import JourneyQuery, JourneyStatus
from tests.workflows.history import send_times
from tests.workflows.world import (
    WEEKDAYS,
    StepSpec,
    World,
    local,
    next_local,
    schedule,
)

NY = "America/New_York"
MON, TUE, FRI, SAT = 0, 1, 4, 5
# A send happens right after its timer fires; the activities in between take real milliseconds.
SLACK = timedelta(minutes=1)


def assert_at(actual: datetime, expected: datetime) -> None:
    assert expected <= actual < expected + SLACK, f"{actual} is not {expected}"


def two_steps(delay_days: int) -> list[StepSpec]:
    return [
        StepSpec("{{company}} and pipelines", "Hi {{first_name}}", delay_days=delay_days),
        StepSpec("", "Following up, {{first_name}}"),
    ]


async def test_friday_evening_lead_gets_step_one_monday_0900_new_york(world: World) -> None:
    inbox = await world.inbox()
    # Step 1 + 5 days is a Saturday: the weekend is off, so step 2 waits for Monday 09:00.
    campaign = await world.campaign(two_steps(5), inboxes=[inbox], sched=schedule(NY))
    lead = await world.lead(campaign)
    friday = next_local(await world.now(), NY, FRI, 18)
    await world.sleep_until(friday)

    handle = await world.enroll(campaign, lead)
    monday = next_local(friday, NY, MON, 9)
    waiting = await world.wait_lead(lead.id, "waiting")
    assert waiting.next_send_at == monday
    status = await handle.query(JourneyQuery.STATUS, result_type=JourneyStatus)
    assert status.details == (
        f"step 1 of 2: waiting until Mon {monday:%Y-%m-%d} 09:00 America/New_York"
        " (next sending window)"
    )
    await world.sleep_until(monday + timedelta(minutes=1))
    await world.wait_lead(lead.id, "waiting", step=2)
    status = await handle.query(JourneyQuery.STATUS, result_type=JourneyStatus)
    next_monday = monday + timedelta(days=7)
    assert status.details == (
        f"step 2 of 2: waiting until Mon {next_monday:%Y-%m-%d} 09:00 America/New_York"
        " (delay 5 days)"
    )
    assert await world.result(handle) == "completed"

    first, second = await send_times(handle)
    assert_at(first, monday)
    assert_at(second, next_monday)
    sent = await world.sent(campaign.id)
    assert [s.local_day for s in sent] == [
        monday.date().isoformat(),
        (monday + timedelta(days=7)).date().isoformat(),
    ]
    assert len(await world.smtp.wait_for(2)) == 2


async def test_disabled_monday_is_skipped(world: World) -> None:
    inbox = await world.inbox()
    campaign = await world.campaign(
        [StepSpec("Hello", "Hi")],
        inboxes=[inbox],
        sched=schedule(NY, days=("tuesday", "wednesday", "thursday", "friday")),
    )
    lead = await world.lead(campaign)
    friday = next_local(await world.now(), NY, FRI, 18)
    await world.sleep_until(friday)

    handle = await world.enroll(campaign, lead)
    assert await world.result(handle) == "completed"

    [first] = await send_times(handle)
    assert_at(first, next_local(friday, NY, TUE, 9))


async def test_follow_up_due_after_the_day_window_waits_for_the_next_window(
    world: World,
) -> None:
    """Wednesday's own window ends at 12:00: a follow-up due Wednesday 16:30 goes Thursday 09:00."""
    sched = schedule(NY)
    sched["days"]["wednesday"] = {"enabled": True, "start": None, "end": "12:00"}
    inbox = await world.inbox()
    campaign = await world.campaign(two_steps(1), inboxes=[inbox], sched=sched)
    lead = await world.lead(campaign)
    tuesday = next_local(await world.now(), NY, TUE, 16, 30)
    await world.sleep_until(tuesday)

    handle = await world.enroll(campaign, lead)
    assert await world.result(handle) == "completed"

    first, second = await send_times(handle)
    assert_at(first, tuesday)  # inside the window: sent at once
    assert_at(second, tuesday.replace(hour=9, minute=0) + timedelta(days=2))


def next_spring_forward(after: datetime, zone: str) -> datetime:
    """Midnight (local) of the next day whose UTC offset grows, e.g. 2027-03-14 in New York."""
    tz = ZoneInfo(zone)
    day = after.astimezone(tz).date()
    for _ in range(400):
        start = datetime(day.year, day.month, day.day, tzinfo=tz)
        end = datetime.combine(day + timedelta(days=1), start.timetz())
        offset_before, offset_after = start.utcoffset(), end.utcoffset()
        assert offset_before is not None
        assert offset_after is not None
        if offset_after > offset_before:
            return start
        day += timedelta(days=1)
    raise AssertionError("no DST change within a year")


async def test_window_opens_at_0900_local_on_the_day_clocks_spring_forward(world: World) -> None:
    """Inside the real workflow (zoneinfo in the sandbox): 09:00 EDT is 13:00 UTC, not 14:00."""
    inbox = await world.inbox()
    campaign = await world.campaign(
        two_steps(1), inboxes=[inbox], sched=schedule(NY, days=WEEKDAYS)
    )
    lead = await world.lead(campaign)
    change_day = next_spring_forward(await world.now(), NY)
    saturday = change_day - timedelta(hours=6)  # Saturday 18:00, still standard time
    assert saturday.weekday() == SAT
    await world.sleep_until(saturday)

    handle = await world.enroll(campaign, lead)
    assert await world.result(handle) == "completed"

    first, second = await send_times(handle)
    sunday_0900 = datetime(
        change_day.year, change_day.month, change_day.day, 9, tzinfo=ZoneInfo(NY)
    )
    assert sunday_0900.astimezone(UTC).hour == 13  # EDT (UTC-4); on Saturday it was UTC-5
    assert_at(first, sunday_0900)
    assert_at(second, sunday_0900 + timedelta(days=1))
    assert local(first, NY).hour == local(second, NY).hour == 9


async def test_lead_time_zone_overrides_the_campaigns(world: World) -> None:
    tokyo = "Asia/Tokyo"
    inbox = await world.inbox()
    campaign = await world.campaign([StepSpec("Hello", "Hi")], inboxes=[inbox], sched=schedule(NY))
    lead = await world.lead(campaign, timezone=tokyo)
    friday = next_local(await world.now(), NY, FRI, 18)  # Saturday 08:00 in Tokyo
    await world.sleep_until(friday)

    handle = await world.enroll(campaign, lead)
    monday_tokyo = next_local(friday, tokyo, MON, 9)
    await world.wait_lead(lead.id, "waiting")
    status = await handle.query(JourneyQuery.STATUS, result_type=JourneyStatus)
    assert f"Mon {monday_tokyo:%Y-%m-%d} 09:00 Asia/Tokyo" in status.details
    assert await world.result(handle) == "completed"

    [first] = await send_times(handle)
    assert_at(first, monday_tokyo)  # Sunday evening in New York
    [sent] = await world.sent(campaign.id)
    # Daily limits count per day of the campaign's zone: this send is on New York's Sunday.
    assert sent.local_day == local(monday_tokyo, NY).date().isoformat()

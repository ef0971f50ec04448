"""The send-timeline simulation behind the campaign preview: limits, inboxes, delays, windows."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from coldflow.errors import InvalidInput
from coldflow.schedule import DaySchedule, Schedule, default_schedule
from coldflow.sequencing import simulate_timeline

case = pytest.param
MONDAY = date(2025, 1, 6)
# Monday 08:00 UTC: an hour before the default 09:00–17:00 window opens.
MONDAY_EARLY = datetime(2025, 1, 6, 8, 0, tzinfo=UTC)
FRIDAY_EARLY = MONDAY_EARLY + timedelta(days=4)
UTC_WEEKDAYS = default_schedule("UTC")


def day(offset: int) -> date:
    return MONDAY + timedelta(days=offset)


def run(
    *,
    leads: int,
    delays: Sequence[int | None] = (None,),
    daily_limit: int = 1_000,
    inboxes: Sequence[int] = (1_000,),
    start_at: datetime = MONDAY_EARLY,
    schedule: Schedule = UTC_WEEKDAYS,
    horizon_days: int = 365,
) -> dict[date, tuple[int, int]]:
    timeline = simulate_timeline(
        schedule,
        start_at=start_at,
        leads=leads,
        delays=delays,
        daily_limit=daily_limit,
        inbox_limits=inboxes,
        horizon_days=horizon_days,
    )
    return {d.day: (d.first_steps, d.follow_ups) for d in timeline.days}


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        case({"leads": 120, "daily_limit": 50, "inboxes": (30, 30)},
             {day(0): (50, 0), day(1): (50, 0), day(2): (20, 0)},
             id="campaign-limit-50-two-inboxes-of-30"),
        case({"leads": 50, "daily_limit": 100, "inboxes": (10, 10)},
             {day(0): (20, 0), day(1): (20, 0), day(2): (10, 0)},
             id="inbox-limits-bind-before-campaign-limit"),
        case({"leads": 80, "daily_limit": 50, "inboxes": (30, 10)},
             {day(0): (40, 0), day(1): (40, 0)},
             id="step-one-takes-any-inbox-with-room"),
        case({"leads": 40, "delays": (1, None), "daily_limit": 100, "inboxes": (30, 10)},
             {day(0): (40, 0), day(1): (0, 40)},
             id="follow-ups-keep-the-inbox-of-step-one"),
        case({"leads": 60, "delays": (1, None), "daily_limit": 100, "inboxes": (30, 10)},
             {day(0): (40, 0), day(1): (16, 24), day(2): (4, 32), day(3): (0, 4)},
             id="new-leads-and-follow-ups-compete-for-a-small-inbox"),
        case({"leads": 120, "daily_limit": 50, "inboxes": (30, 30), "start_at": FRIDAY_EARLY},
             {day(4): (50, 0), day(7): (50, 0), day(8): (20, 0)},
             id="weekend-skipped"),
        case({"leads": 10, "delays": (3, None)}, {day(0): (10, 0), day(3): (0, 10)},
             id="follow-up-after-delay"),
        case({"leads": 10, "delays": (5, None)}, {day(0): (10, 0), day(7): (0, 10)},
             id="follow-up-due-saturday-waits-for-monday"),
        case({"leads": 10, "delays": (None, None)}, {day(0): (10, 10)},
             id="missing-delay-counts-as-zero"),
        case({"leads": 15, "delays": (1, None), "daily_limit": 10},
             {day(0): (10, 0), day(1): (5, 5), day(2): (0, 10)},
             id="follow-ups-and-first-steps-share-the-day"),
        case({"leads": 10, "delays": (1, 1, None), "daily_limit": 10},
             {day(0): (10, 0), day(1): (0, 10), day(2): (0, 10)},
             id="three-steps"),
        case({"leads": 0}, {}, id="no-leads"),
        case({"leads": 10, "delays": ()}, {}, id="no-steps"),
        case({"leads": 10, "daily_limit": 0}, {}, id="daily-limit-zero-sends-nothing"),
    ],
)  # fmt: skip
def test_sends_per_day(kwargs: dict[str, object], expected: dict[date, tuple[int, int]]) -> None:
    assert run(**kwargs) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("start_at", "expected_day"),
    [
        case(datetime(2025, 1, 3, 23, 0, tzinfo=UTC), date(2025, 1, 6),
             id="friday-18h-new-york-starts-monday"),
        case(datetime(2025, 1, 6, 13, 0, tzinfo=UTC), date(2025, 1, 6),
             id="monday-08h-new-york-same-day"),
        case(datetime(2025, 1, 6, 23, 30, tzinfo=UTC), date(2025, 1, 7),
             id="monday-18h30-new-york-next-day"),
    ],
)  # fmt: skip
def test_days_are_local_to_the_campaign_zone(start_at: datetime, expected_day: date) -> None:
    assert run(leads=5, start_at=start_at, schedule=default_schedule("America/New_York")) == {
        expected_day: (5, 0)
    }


def test_delay_across_dst_keeps_local_days() -> None:
    # Step 1 on Friday 2025-03-07 09:00 EST; three days later, clocks have moved forward on
    # Sunday, so the follow-up is due Monday 10:00 EDT: still inside Monday's window.
    friday = datetime(2025, 3, 7, 9, 0, tzinfo=ZoneInfo("America/New_York"))
    days = run(
        leads=3, delays=(3, None), start_at=friday, schedule=default_schedule("America/New_York")
    )
    assert days == {date(2025, 3, 7): (3, 0), date(2025, 3, 10): (0, 3)}


def test_step_summary_says_when_each_step_finishes() -> None:
    timeline = simulate_timeline(
        UTC_WEEKDAYS,
        start_at=MONDAY_EARLY,
        leads=1_000,
        delays=(2, None),
        daily_limit=50,
        inbox_limits=(30, 30),
    )
    step1, step2 = timeline.steps
    assert (step1.sent, step1.first_day) == (1_000, day(0))
    assert (step2.sent, timeline.unsent) == (1_000, 0)
    assert step2.last_day is not None
    assert step1.last_day is not None
    assert step1.last_day < step2.last_day
    assert sum(d.first_steps + d.follow_ups for d in timeline.days) == 2_000
    assert all(d.first_steps + d.follow_ups <= 50 for d in timeline.days)


def test_horizon_counts_unsent_sends() -> None:
    timeline = simulate_timeline(
        UTC_WEEKDAYS,
        start_at=MONDAY_EARLY,
        leads=100,
        delays=(1, None),
        daily_limit=10,
        inbox_limits=(10,),
        horizon_days=7,
    )
    sent = sum(d.first_steps + d.follow_ups for d in timeline.days)
    assert sent == 50  # five weekdays of ten
    assert timeline.unsent == 200 - sent


def test_window_opening_later_in_the_day() -> None:
    late = Schedule(
        "UTC",
        UTC_WEEKDAYS.default_window,
        {**UTC_WEEKDAYS.days, "monday": DaySchedule(enabled=True, start="15:00")},
    )
    assert run(leads=5, schedule=late, start_at=datetime(2025, 1, 6, 16, tzinfo=UTC)) == {
        day(0): (5, 0)
    }


def test_no_enabled_day_is_a_coded_error() -> None:
    closed = Schedule(
        "UTC",
        UTC_WEEKDAYS.default_window,
        {name: DaySchedule(enabled=False) for name in UTC_WEEKDAYS.days},
    )
    with pytest.raises(InvalidInput) as error:
        run(leads=1, schedule=closed)
    assert error.value.code == "SCHEDULE_HAS_NO_WINDOW"


@pytest.mark.parametrize(
    "kwargs",
    [
        case({"inboxes": ()}, id="no-inbox"),
        case({"leads": -1}, id="negative-leads"),
        case({"start_at": datetime(2025, 1, 6, 8, 0)}, id="naive-start"),
    ],
)
def test_programming_errors(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError, match=r"."):
        run(**{"leads": 1, **kwargs})  # type: ignore[arg-type]

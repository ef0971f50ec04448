"""Properties of coldflow.schedule: grid rounding and next_send_at, checked with Hypothesis.

Schedules are random (zones from the supported list, random enabled days, windows and per-day
overrides on the grid); instants are random over 2026–2027, with extra weight on each zone's DST
transitions and on window edges. The earliest-send oracle below converts local wall times with
its own rule, a scan over UTC half hours, instead of reusing the module's conversion. Runs are
derandomized and database-free, so CI sees the same examples every time.
"""

from __future__ import annotations

import functools
import re
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from coldflow.errors import InvalidInput
from coldflow.schedule import (
    SUPPORTED_TIMEZONES,
    WEEKDAYS,
    DaySchedule,
    Schedule,
    Window,
    apply_schedule_patch,
    default_schedule,
    next_send_at,
    snap_to_grid,
    window_for,
)

PROPERTY = settings(
    max_examples=200,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)

HALF_HOUR = timedelta(minutes=30)
GRID = tuple(f"{m // 60:02d}:{m % 60:02d}" for m in range(0, 24 * 60, 30))  # 00:00 … 23:30
FIRST, LAST = datetime(2026, 1, 1, tzinfo=UTC), datetime(2028, 1, 1, tzinfo=UTC)


def minutes(hhmm: str) -> int:
    hour, minute = hhmm.split(":")
    return int(hour) * 60 + int(minute)


# --- snap_to_grid ---------------------------------------------------------------------------------

clock_times = st.builds(
    lambda hour, minute, short: (
        f"{hour}:{minute:02d}" if short and hour < 10 else f"{hour:02d}:{minute:02d}"
    ),
    st.integers(0, 23),
    st.integers(0, 59),
    st.booleans(),
)


@PROPERTY
@given(value=clock_times)
def test_snap_to_grid_rounds_to_the_nearest_half_hour(value: str) -> None:
    snapped = snap_to_grid(value)
    assert re.fullmatch(r"([01][0-9]|2[0-3]):(00|30)", snapped)
    assert snapped <= "23:30"
    before, after = minutes(value), minutes(snapped)
    if before >= minutes("23:45"):
        assert snapped == "23:30"  # clamped: the grid ends at 23:30, never at midnight
    else:
        assert abs(after - before) <= 15
        if before % 30 == 15:
            assert after == before + 15  # ties round up
    assert snap_to_grid(snapped) == snapped


@PROPERTY
@given(first=clock_times, second=clock_times)
def test_snap_to_grid_is_monotonic(first: str, second: str) -> None:
    if minutes(first) <= minutes(second):
        assert snap_to_grid(first) <= snap_to_grid(second)


@PROPERTY
@given(
    value=st.one_of(
        st.text(max_size=8),
        st.text(st.sampled_from("0123456789: \n٠٩"), max_size=6),
    )
)
def test_snap_to_grid_accepts_only_24_hour_times(value: str) -> None:
    match = re.fullmatch(r"([0-9]{1,2}):([0-9]{2})", value)
    if match and int(match[1]) <= 23 and int(match[2]) <= 59:
        assert snap_to_grid(value) in GRID
    else:
        with pytest.raises(InvalidInput) as caught:
            snap_to_grid(value, field="days.monday.start")
        assert caught.value.code == "INVALID_TIME"
        assert caught.value.details[0]["field"] == "days.monday.start"


@PROPERTY
@given(start=clock_times, end=clock_times, zone=st.sampled_from(SUPPORTED_TIMEZONES))
def test_schedule_patch_stores_snapped_times_or_rejects_whole(
    start: str, end: str, zone: str
) -> None:
    current = default_schedule(zone)
    before = current.to_dict()
    patch = {"default_window": {"start": start, "end": end}, "timezone": "UTC"}
    if snap_to_grid(end) > snap_to_grid(start):
        patched = apply_schedule_patch(current, patch)
        assert patched.default_window == Window(snap_to_grid(start), snap_to_grid(end))
        assert patched.timezone == "UTC"
    else:
        with pytest.raises(InvalidInput) as caught:
            apply_schedule_patch(current, patch)
        assert caught.value.code == "INVALID_WINDOW"
    assert current.to_dict() == before  # never modified, accepted or not


# --- random schedules and instants -------------------------------------------------------------


@functools.cache
def transitions(zone_name: str) -> tuple[datetime, ...]:
    """The UTC instants in 2026–2027 where ``zone_name`` changes its UTC offset."""
    zone = ZoneInfo(zone_name)
    found = []
    day = FIRST
    while day < LAST:
        low, high = day, day + timedelta(days=1)
        if low.astimezone(zone).utcoffset() != high.astimezone(zone).utcoffset():
            while high - low > timedelta(seconds=1):
                middle = low + (high - low) / 2
                same = middle.astimezone(zone).utcoffset() == low.astimezone(zone).utcoffset()
                low, high = (middle, high) if same else (low, middle)
            found.append(high)
        day += timedelta(days=1)
    return tuple(found)


# Windows: start before end on the grid, with extra weight on the small hours, where DST happens.
grid_index = st.one_of(st.integers(0, len(GRID) - 1), st.integers(0, 8))


@st.composite
def grid_windows(draw: st.DrawFn) -> tuple[str, str]:
    first, second = draw(grid_index), draw(grid_index)
    if first == second:
        second = first + 1 if first + 1 < len(GRID) else first - 1
    low, high = sorted((first, second))
    return GRID[low], GRID[high]


@st.composite
def schedules(draw: st.DrawFn) -> Schedule:
    zone = draw(st.sampled_from(SUPPORTED_TIMEZONES))
    default_start, default_end = draw(grid_windows())
    days = {}
    for name in WEEKDAYS:
        enabled = draw(st.booleans())
        own = draw(st.sampled_from(["default", "both", "start", "end"]))
        if own == "both":
            start, end = draw(grid_windows())
            days[name] = DaySchedule(enabled, start, end)
        elif own == "start":  # the default end fills in: the day's start must come before it
            start = draw(st.sampled_from([t for t in GRID if t < default_end]))
            days[name] = DaySchedule(enabled, start, None)
        elif own == "end":
            end = draw(st.sampled_from([t for t in GRID if t > default_start]))
            days[name] = DaySchedule(enabled, None, end)
        else:
            days[name] = DaySchedule(enabled)
    return Schedule(zone, Window(default_start, default_end), days)


uniform_instants = st.datetimes(
    min_value=FIRST.replace(tzinfo=None),
    max_value=(LAST - timedelta(microseconds=1)).replace(tzinfo=None),
    timezones=st.just(UTC),
)
# Seconds around an instant of interest: exactly on it, just before or after, or hours away.
nudges = st.one_of(st.sampled_from([0, -1, 1, -0.000001]), st.integers(-36 * 3600, 36 * 3600)).map(
    lambda seconds: timedelta(seconds=seconds)
)


@st.composite
def instants_for(draw: st.DrawFn, schedule: Schedule) -> datetime:
    """An aware instant: uniform, near one of the zone's DST transitions, or near a local window
    edge (which may fall in a gap or a fold), expressed in a random zone."""
    zone = ZoneInfo(schedule.timezone)
    kind = draw(st.sampled_from(["uniform", "transition", "edge"]))
    if kind == "transition" and transitions(schedule.timezone):
        instant = draw(st.sampled_from(transitions(schedule.timezone))) + draw(nudges)
    elif kind == "edge":
        day = draw(st.dates(date(2026, 1, 2), date(2027, 12, 30)))
        window = schedule.window(WEEKDAYS[day.weekday()])
        wall = time.fromisoformat(draw(st.sampled_from([window.start, window.end])))
        local = datetime.combine(day, wall, tzinfo=zone).replace(fold=draw(st.sampled_from([0, 1])))
        instant = local.astimezone(UTC) + draw(nudges)
    else:
        instant = draw(uniform_instants)
    shown_in = draw(st.sampled_from([UTC, zone, ZoneInfo("Asia/Kolkata")]))
    return instant.astimezone(shown_in)


@st.composite
def schedules_and_instants(draw: st.DrawFn) -> tuple[Schedule, datetime]:
    schedule = draw(schedules())
    return schedule, draw(instants_for(schedule))


def has_enabled_day(schedule: Schedule) -> bool:
    return any(day.enabled for day in schedule.days.values())


def first_instant_reading(naive: datetime, zone: ZoneInfo) -> datetime:
    """The earliest instant whose local wall clock reads ``naive`` or later: the documented rule
    (a gap time means the first instant after the gap, a fold time its first occurrence).

    Every supported zone is offset from UTC by whole half hours and changes offset on a UTC half
    hour, and ``naive`` is on the grid, so the answer is a UTC half hour: scan them from a point
    safely before (no zone is ahead of UTC by 15 hours).
    """
    instant = naive.replace(tzinfo=UTC) - timedelta(hours=15)
    while instant.astimezone(zone).replace(tzinfo=None) < naive:
        instant += HALF_HOUR
    return instant


def occurrences(naive: datetime, zone: ZoneInfo) -> int:
    """How many instants read ``naive`` on the wall clock: 0 in a gap, 2 in a fold, else 1."""
    return len(
        {
            instant
            for fold in (0, 1)
            if (instant := naive.replace(tzinfo=zone, fold=fold).astimezone(UTC))
            .astimezone(zone)
            .replace(tzinfo=None)
            == naive
        }
    )


def inside_window(schedule: Schedule, instant: datetime) -> bool:
    """Whether mail may go out at ``instant``: its wall clock reads a time inside its local day's
    enabled window, and the window has not closed (an end in a fold closes at its first pass)."""
    zone = ZoneInfo(schedule.timezone)
    local = instant.astimezone(zone)
    name = WEEKDAYS[local.weekday()]
    if not schedule.days[name].enabled:
        return False
    window = schedule.window(name)
    start, end = time.fromisoformat(window.start), time.fromisoformat(window.end)
    closes = first_instant_reading(datetime.combine(local.date(), end), zone)
    return start <= local.time() < end and instant < closes


def earliest_send(schedule: Schedule, after: datetime) -> datetime:
    """Oracle for next_send_at: ``after`` if mail may go out then, else the first UTC half hour
    after it when it may (windows open on the grid, or when a DST gap ends, both half hours)."""
    if inside_window(schedule, after):
        return after.astimezone(UTC)
    candidate = datetime.fromtimestamp(after.timestamp() // 1800 * 1800, UTC)
    for _ in range(10 * 48):
        candidate += HALF_HOUR
        if inside_window(schedule, candidate):
            return candidate
    raise AssertionError("no window within ten days, although a day is enabled")


@PROPERTY
@given(case=schedules_and_instants())
def test_next_send_at_is_inside_an_enabled_window_not_before_after(
    case: tuple[Schedule, datetime],
) -> None:
    schedule, after = case
    if not has_enabled_day(schedule):
        with pytest.raises(InvalidInput) as caught:
            next_send_at(schedule, after)
        assert caught.value.code == "SCHEDULE_HAS_NO_WINDOW"
        return
    sent = next_send_at(schedule, after)
    assert sent.utcoffset() == timedelta(0)
    assert sent >= after
    local = sent.astimezone(ZoneInfo(schedule.timezone))
    window = window_for(schedule, local.date())
    assert window is not None, f"{local} is on a disabled day"
    start, end = window
    assert start <= local.time() < end, f"{local} is outside {start}-{end}"


@PROPERTY
@given(case=schedules_and_instants())
def test_next_send_at_is_idempotent(case: tuple[Schedule, datetime]) -> None:
    schedule, after = case
    if has_enabled_day(schedule):
        sent = next_send_at(schedule, after)
        assert next_send_at(schedule, sent) == sent


@PROPERTY
@given(case=schedules_and_instants())
def test_next_send_at_is_the_earliest_send_time(case: tuple[Schedule, datetime]) -> None:
    schedule, after = case
    if has_enabled_day(schedule):
        assert next_send_at(schedule, after) == earliest_send(schedule, after)


def test_window_starting_in_fold_does_not_send_before_its_start() -> None:
    schedule = Schedule(
        "America/New_York", Window("01:30", "02:00"), {d: DaySchedule(True) for d in WEEKDAYS}
    )
    after = datetime(2026, 11, 1, 6, 0, tzinfo=UTC)  # 01:00 EST: the clocks' second 01:00
    local = next_send_at(schedule, after).astimezone(ZoneInfo("America/New_York"))
    assert time(1, 30) <= local.time() < time(2, 0), local

"""Sending windows: grid, seed 003 PATCH semantics, seed 000 conversion and DST-correct send times.

Calendar used below: 2026-06-01 is a Monday (New York on EDT, UTC-4). DST changes in 2026: US on
Sunday 03-08 (02:00 → 03:00) and Sunday 11-01 (02:00 → 01:00); EU on Sunday 03-29 and Sunday
10-25, both at 01:00 UTC.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from coldflow.errors import InvalidInput
from coldflow.schedule import (
    SUPPORTED_TIMEZONES,
    WEEKDAYS,
    DaySchedule,
    Schedule,
    Window,
    apply_schedule_patch,
    default_schedule,
    from_seed000,
    is_valid_timezone,
    local_day,
    next_send_at,
    next_window_opening,
    snap_to_grid,
    window_for,
)

SEED_003_ZONES = (
    "Pacific/Honolulu, America/Anchorage, America/Los_Angeles, America/Vancouver, America/Phoenix, "
    "America/Denver, America/Chicago, America/New_York, America/Toronto, America/Sao_Paulo, "
    "Europe/London, Europe/Paris, Europe/Berlin, Europe/Kiev, Europe/Moscow, "
    "Asia/Tehran, Asia/Dubai, Asia/Karachi, Asia/Kolkata, Asia/Bangkok, Asia/Shanghai, "
    "Asia/Hong_Kong, Asia/Singapore, Asia/Tokyo, Australia/Sydney, Pacific/Auckland"
).split(", ")
NY = "America/New_York"
case = pytest.param


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def every_day(timezone: str, start: str = "09:00", end: str = "17:00") -> Schedule:
    return Schedule(timezone, Window(start, end), {d: DaySchedule(enabled=True) for d in WEEKDAYS})


def assert_invalid(error: pytest.ExceptionInfo[InvalidInput], code: str, field: str) -> None:
    assert (error.value.code, error.value.details[0]["field"]) == (code, field)


NEW_YORK = default_schedule(NY)
MONDAY_TEN = apply_schedule_patch(NEW_YORK, {"days": {"monday": {"start": "10:00"}}})
NO_WEDNESDAY = apply_schedule_patch(NEW_YORK, {"days": {"wednesday": {"enabled": False}}})
CLOSED = apply_schedule_patch(NEW_YORK, {"days": {d: {"enabled": False} for d in WEEKDAYS}})


class TestSupportedTimezones:
    def test_is_seed_003_list_plus_utc(self) -> None:
        assert SUPPORTED_TIMEZONES == (*SEED_003_ZONES, "UTC")

    @pytest.mark.parametrize("zone", SUPPORTED_TIMEZONES)
    def test_every_zone_loads(self, zone: str) -> None:
        assert ZoneInfo(zone).key == zone


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        case("09:00", "09:00", id="on-grid"),
        case("09:14", "09:00", id="down"),
        case("09:15", "09:30", id="tie-15-rounds-up"),
        case("09:23", "09:30", id="seed-003-example"),
        case("09:44", "09:30", id="down-to-half"),
        case("09:45", "10:00", id="tie-45-rounds-up-to-next-hour"),
        case("9:05", "09:00", id="one-digit-hour"),
        case("00:14", "00:00", id="midnight"),
        case("23:15", "23:30", id="last-slot"),
        case("23:45", "23:30", id="tie-capped-at-2330"),
        case("23:50", "23:30", id="capped-at-2330"),
        case("23:59", "23:30", id="end-of-day-capped"),
    ],
)
def test_snap_to_grid(value: str, expected: str) -> None:
    assert snap_to_grid(value) == expected


@pytest.mark.parametrize(
    "value",
    [
        case("24:00", id="hour-24"),
        case("09:60", id="minute-60"),
        case("9am", id="am-pm"),
        case("", id="empty"),
        case("0900", id="no-colon"),
        case("09:5", id="one-digit-minute"),
        case(" 09:00", id="leading-space"),
        case("123:00", id="three-digit-hour"),
        case("٠٩:٠٠", id="non-ascii-digits"),
    ],
)
def test_snap_to_grid_rejects(value: str) -> None:
    with pytest.raises(InvalidInput) as error:
        snap_to_grid(value, field="default_window.start")
    assert_invalid(error, "INVALID_TIME", "default_window.start")


class TestScheduleDocument:
    def test_default_schedule_is_weekdays_nine_to_five(self) -> None:
        schedule = default_schedule()
        assert (schedule.timezone, schedule.default_window) == ("UTC", Window("09:00", "17:00"))
        assert [schedule.days[d].enabled for d in WEEKDAYS] == [True] * 5 + [False] * 2

    def test_to_dict_is_seed_003_shape(self) -> None:
        data = NEW_YORK.to_dict()
        assert list(data) == ["timezone", "default_window", "days"]
        assert data["default_window"] == {"start": "09:00", "end": "17:00"}
        assert list(data["days"]) == list(WEEKDAYS)
        assert data["days"]["saturday"] == {"enabled": False, "start": None, "end": None}

    def test_round_trip(self) -> None:
        patch = {"days": {"monday": {"start": "10:00"}, "sunday": {"enabled": True}}}
        schedule = apply_schedule_patch(NEW_YORK, patch)
        assert Schedule.from_dict(schedule.to_dict()) == schedule

    def test_from_empty_dict_is_default(self) -> None:
        assert Schedule.from_dict({}) == default_schedule()

    @pytest.mark.parametrize(
        ("timezone", "window", "days", "code", "field"),
        [
            case("UTC", Window("09:23", "17:00"), NEW_YORK.days, "INVALID_TIME",
                 "default_window.start", id="off-grid"),
            case("UTC", Window("17:00", "09:00"), NEW_YORK.days, "INVALID_WINDOW",
                 "default_window.end", id="end-before-start"),
            case("Mars/Olympus", Window("09:00", "17:00"), NEW_YORK.days, "INVALID_TIMEZONE",
                 "timezone", id="unsupported-zone"),
            case("UTC", Window("09:00", "17:00"), {"monday": DaySchedule(True)}, "INVALID_DAY",
                 "days.tuesday", id="missing-days"),
        ],
    )  # fmt: skip
    def test_construction_validates(
        self, timezone: str, window: Window, days: dict[str, DaySchedule], code: str, field: str
    ) -> None:
        with pytest.raises(InvalidInput) as error:
            Schedule(timezone, window, days)
        assert_invalid(error, code, field)


@pytest.mark.parametrize(
    ("current", "patch", "expected"),
    [
        case(NEW_YORK, {}, NEW_YORK.to_dict(), id="empty-unchanged"),
        case(NEW_YORK, {"timezone": "Europe/Paris"}, {"timezone": "Europe/Paris"}, id="zone-only"),
        case(NEW_YORK, {"default_window": {"start": "08:23", "end": "18:00"}},
             {"default_window": {"start": "08:30", "end": "18:00"}}, id="default-window-snapped"),
        case(NEW_YORK, {"default_window": {"end": "12:00"}},
             {"default_window": {"start": "09:00", "end": "12:00"}}, id="default-end-only"),
        case(NEW_YORK, {"days": {"saturday": {"enabled": True, "start": "10:00", "end": "14:00"}}},
             {"saturday": {"enabled": True, "start": "10:00", "end": "14:00"}},
             id="enable-saturday"),
        case(NEW_YORK, {"days": {"monday": {"start": "09:23"}}},
             {"monday": {"enabled": True, "start": "09:30", "end": None}}, id="day-time-snapped"),
        case(MONDAY_TEN, {"days": {"monday": {"start": None}}},
             {"monday": {"enabled": True, "start": None, "end": None}},
             id="null-start-falls-back"),
        case(MONDAY_TEN, {"days": {"monday": {"enabled": False}}},
             {"monday": {"enabled": False, "start": "10:00", "end": None}},
             id="enabled-only-keeps-times"),
        case(MONDAY_TEN, {"timezone": "Asia/Tokyo"},
             {"timezone": "Asia/Tokyo", "monday": {"enabled": True, "start": "10:00", "end": None}},
             id="omitted-days-unchanged"),
    ],
)  # fmt: skip
def test_apply_schedule_patch(
    current: Schedule, patch: dict[str, object], expected: dict[str, object]
) -> None:
    result = apply_schedule_patch(current, patch).to_dict()
    for key, value in expected.items():
        assert (result["days"].get(key) if key in WEEKDAYS else result.get(key)) == value, key


@pytest.mark.parametrize(
    ("current", "patch", "code", "field"),
    [
        case(NEW_YORK, {"timezone": "Mars/Olympus"}, "INVALID_TIMEZONE", "timezone",
             id="unknown-zone"),
        case(NEW_YORK, {"timezone": "Asia/Kathmandu"}, "INVALID_TIMEZONE", "timezone",
             id="valid-iana-not-supported"),
        case(NEW_YORK, {"timezone": None}, "INVALID_TIMEZONE", "timezone", id="null-zone"),
        case(NEW_YORK, {"default_window": {"start": "17:00", "end": "09:00"}}, "INVALID_WINDOW",
             "default_window.end", id="end-before-start"),
        case(NEW_YORK, {"default_window": {"start": "09:10", "end": "09:14"}}, "INVALID_WINDOW",
             "default_window.end", id="snaps-to-empty"),
        case(NEW_YORK, {"default_window": {"start": "25:00"}}, "INVALID_TIME",
             "default_window.start", id="bad-time"),
        case(NEW_YORK, {"default_window": {"start": None}}, "INVALID_TIME",
             "default_window.start", id="null-default-start"),
        case(NEW_YORK, {"days": {"monday": {"end": "08:00"}}}, "INVALID_WINDOW",
             "days.monday.end", id="day-end-before-default-start"),
        case(NEW_YORK, {"days": {"monday": {"start": "18:00"}}}, "INVALID_WINDOW",
             "days.monday.start", id="day-start-after-default-end"),
        case(MONDAY_TEN, {"default_window": {"start": "07:00", "end": "09:30"}},
             "INVALID_WINDOW", "days.monday.start", id="new-default-breaks-day-override"),
        case(NEW_YORK, {"days": {"monday": {"end": "5pm"}}}, "INVALID_TIME", "days.monday.end",
             id="day-bad-time"),
        case(NEW_YORK, {"days": {"funday": {"enabled": True}}}, "INVALID_DAY", "days.funday",
             id="unknown-day"),
        case(NEW_YORK, {"days": {"monday": {"enabled": "yes"}}}, "INVALID_TYPE",
             "days.monday.enabled", id="enabled-not-bool"),
        case(NEW_YORK, {"days": "all"}, "INVALID_TYPE", "days", id="days-not-object"),
        case(NEW_YORK, {"timezon": "UTC"}, "UNKNOWN_FIELD", "timezon", id="unknown-field"),
        case(NEW_YORK, {"days": {"monday": {"begin": "09:00"}}}, "UNKNOWN_FIELD",
             "days.monday.begin", id="unknown-day-field"),
    ],
)  # fmt: skip
def test_apply_schedule_patch_rejects(
    current: Schedule, patch: dict[str, object], code: str, field: str
) -> None:
    with pytest.raises(InvalidInput) as error:
        apply_schedule_patch(current, patch)
    assert_invalid(error, code, field)


def test_rejected_patch_applies_nothing() -> None:
    before = NEW_YORK.to_dict()
    patch = {"timezone": "Asia/Tokyo", "days": {"monday": {"end": "08:00"}}}
    with pytest.raises(InvalidInput):
        apply_schedule_patch(NEW_YORK, patch)
    assert NEW_YORK.to_dict() == before


@pytest.mark.parametrize(
    ("days", "start_hour", "end_hour", "enabled", "window"),
    [
        case(["monday", "tuesday", "wednesday", "thursday", "friday"], 8, 17, WEEKDAYS[:5],
             ("08:00", "17:00"), id="seed-000-example-names"),
        case([1, 2, 3, 4, 5], 9, 17, WEEKDAYS[:5], ("09:00", "17:00"), id="iso-numbers"),
        case([6, 0], 10, 14, ("saturday", "sunday"), ("10:00", "14:00"), id="zero-is-sunday"),
        case([7, "sunday"], 10, 14, ("sunday",), ("10:00", "14:00"), id="seven-is-sunday"),
        case(["Mon", 3, "FRIDAY"], 0, 24, ("monday", "wednesday", "friday"), ("00:00", "23:30"),
             id="mixed-and-end-24-capped"),
        case([], 9, 17, (), ("09:00", "17:00"), id="no-days"),
    ],
)  # fmt: skip
def test_from_seed000(
    days: list[int | str],
    start_hour: int,
    end_hour: int,
    enabled: tuple[str, ...],
    window: tuple[str, str],
) -> None:
    schedule = from_seed000(NY, days, start_hour, end_hour)
    assert (schedule.timezone, schedule.default_window) == (NY, Window(*window))
    assert {d for d in WEEKDAYS if schedule.days[d].enabled} == set(enabled)
    assert all(day.start is None and day.end is None for day in schedule.days.values())


@pytest.mark.parametrize(
    ("timezone", "days", "start_hour", "end_hour", "code", "field"),
    [
        case(NY, [8], 9, 17, "INVALID_DAY", "schedule.days[0]", id="day-8"),
        case(NY, ["monday", "funday"], 9, 17, "INVALID_DAY", "schedule.days[1]", id="bad-name"),
        case(NY, [True], 9, 17, "INVALID_DAY", "schedule.days[0]", id="bool-day"),
        case(NY, "monday", 9, 17, "INVALID_TYPE", "schedule.days", id="days-is-a-string"),
        case(NY, [1], 17, 9, "INVALID_WINDOW", "schedule.end_hour", id="end-before-start"),
        case(NY, [1], 9, 9, "INVALID_WINDOW", "schedule.end_hour", id="empty-window"),
        case(NY, [1], -1, 9, "INVALID_TIME", "schedule.start_hour", id="negative-hour"),
        case(NY, [1], 9, 25, "INVALID_TIME", "schedule.end_hour", id="hour-25"),
        case("Mars/Olympus", [1], 9, 17, "INVALID_TIMEZONE", "timezone", id="bad-zone"),
    ],
)
def test_from_seed000_rejects(
    timezone: str, days: list[int | str], start_hour: int, end_hour: int, code: str, field: str
) -> None:
    with pytest.raises(InvalidInput) as error:
        from_seed000(timezone, days, start_hour, end_hour)
    assert_invalid(error, code, field)


@pytest.mark.parametrize(
    ("schedule", "day", "expected"),
    [
        case(NEW_YORK, date(2026, 6, 1), (time(9), time(17)), id="monday"),
        case(NEW_YORK, date(2026, 6, 6), None, id="saturday-disabled"),
        case(MONDAY_TEN, date(2026, 6, 1), (time(10), time(17)), id="day-override"),
        case(MONDAY_TEN, date(2026, 6, 2), (time(9), time(17)), id="other-day-default"),
    ],
)
def test_window_for(schedule: Schedule, day: date, expected: tuple[time, time] | None) -> None:
    assert window_for(schedule, day) == expected


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        case("Asia/Kathmandu", True, id="any-iana-zone"),
        case("UTC", True, id="utc"),
        case("Mars/Olympus", False, id="unknown"),
        case("America", False, id="directory"),
        case("", False, id="empty"),
        case("../etc/passwd", False, id="path-escape"),
        case("localtime", False, id="machine-specific"),
        case("right/UTC", False, id="leap-seconds"),
    ],
)
def test_is_valid_timezone(name: str, expected: bool) -> None:
    assert is_valid_timezone(name) is expected


@pytest.mark.parametrize(
    ("schedule", "after", "tz_override", "expected"),
    [
        case(NEW_YORK, "2026-06-01 14:00", None, "2026-06-01 14:00", id="inside-returns-after"),
        case(NEW_YORK, "2026-06-01 13:00", None, "2026-06-01 13:00", id="at-opening"),
        case(NEW_YORK, "2026-06-01 10:00", None, "2026-06-01 13:00", id="before-opening"),
        case(NEW_YORK, "2026-06-01 20:59", None, "2026-06-01 20:59", id="last-minute"),
        case(NEW_YORK, "2026-06-01 21:00", None, "2026-06-02 13:00", id="closing-is-outside"),
        case(NEW_YORK, "2026-06-05 22:00", None, "2026-06-08 13:00", id="friday-to-monday"),
        case(NEW_YORK, "2026-06-06 15:00", None, "2026-06-08 13:00", id="saturday-to-monday"),
        case(NEW_YORK, "2026-06-08 02:00", None, "2026-06-08 13:00",
             id="sunday-local-though-monday-utc"),
        case(NO_WEDNESDAY, "2026-06-02 22:00", None, "2026-06-04 13:00",
             id="disabled-day-skipped"),
        case(MONDAY_TEN, "2026-06-01 13:30", None, "2026-06-01 14:00", id="day-override"),
        case(NEW_YORK, "2026-06-01 06:00", "Europe/Paris", "2026-06-01 07:00", id="lead-paris"),
        case(NEW_YORK, "2026-05-31 23:00", "Asia/Tokyo", "2026-06-01 00:00",
             id="lead-tokyo-8am-monday"),
        case(NEW_YORK, "2026-06-01 06:00", "Asia/Kathmandu", "2026-06-01 06:00",
             id="lead-any-iana-zone"),
        case(NEW_YORK, "2026-06-01 06:00", "Mars/Olympus", "2026-06-01 13:00",
             id="invalid-lead-zone-falls-back"),
    ],
)  # fmt: skip
def test_next_send_at(
    schedule: Schedule, after: str, tz_override: str | None, expected: str
) -> None:
    result = next_send_at(schedule, utc(after), tz_override)
    assert (result, result.tzinfo) == (utc(expected), UTC)


@pytest.mark.parametrize(
    ("schedule", "after", "expected"),
    [
        case(every_day(NY), "2026-03-07 05:00", "2026-03-07 14:00", id="us-eve-of-spring-est"),
        case(every_day(NY), "2026-03-08 05:00", "2026-03-08 13:00", id="us-spring-opens-9-edt"),
        case(every_day(NY), "2026-03-08 20:59", "2026-03-08 20:59", id="us-spring-last-minute"),
        case(every_day(NY), "2026-03-08 21:00", "2026-03-09 13:00", id="us-spring-closes-17-edt"),
        case(every_day(NY), "2026-10-31 05:00", "2026-10-31 13:00", id="us-eve-of-fall-edt"),
        case(every_day(NY), "2026-11-01 05:00", "2026-11-01 14:00", id="us-fall-opens-9-est"),
        case(every_day(NY), "2026-11-01 21:30", "2026-11-01 21:30", id="us-fall-closes-17-est"),
        case(every_day("Europe/Paris"), "2026-03-28 00:00", "2026-03-28 08:00",
             id="paris-eve-of-spring"),
        case(every_day("Europe/Paris"), "2026-03-29 00:00", "2026-03-29 07:00", id="paris-spring"),
        case(every_day("Europe/Paris"), "2026-10-24 00:00", "2026-10-24 07:00",
             id="paris-eve-of-fall"),
        case(every_day("Europe/Paris"), "2026-10-25 00:00", "2026-10-25 08:00", id="paris-fall"),
        case(every_day("Europe/London"), "2026-03-29 00:00", "2026-03-29 08:00",
             id="london-spring"),
        case(every_day("Europe/London"), "2026-10-25 00:00", "2026-10-25 09:00", id="london-fall"),
        case(every_day(NY, "02:30", "05:00"), "2026-03-08 00:00", "2026-03-08 07:00",
             id="us-gap-start-opens-at-end-of-gap"),
        case(every_day(NY, "02:30", "05:00"), "2026-03-08 07:30", "2026-03-08 07:30",
             id="us-inside-gap-shortened-window"),
        case(every_day("Europe/Paris", "02:30", "09:00"), "2026-03-28 23:00", "2026-03-29 01:00",
             id="paris-gap-start-opens-at-end-of-gap"),
        case(every_day(NY, "02:00", "02:30"), "2026-03-08 00:00", "2026-03-09 06:00",
             id="us-window-wholly-in-gap-skipped"),
        case(every_day(NY, "01:30", "05:00"), "2026-11-01 00:00", "2026-11-01 05:30",
             id="us-fold-start-first-occurrence"),
        case(every_day("Europe/Paris", "02:30", "09:00"), "2026-10-24 23:00", "2026-10-25 00:30",
             id="paris-fold-start-first-occurrence"),
        case(every_day(NY, "00:00", "01:30"), "2026-11-01 05:45", "2026-11-02 05:00",
             id="us-fold-end-first-occurrence"),
    ],
)  # fmt: skip
def test_next_send_at_across_dst(schedule: Schedule, after: str, expected: str) -> None:
    assert next_send_at(schedule, utc(after)) == utc(expected)


def test_next_send_at_accepts_any_aware_offset() -> None:
    after = datetime(2026, 6, 1, 10, 0, tzinfo=ZoneInfo(NY))
    result = next_send_at(NEW_YORK, after)
    assert (result, result.tzinfo) == (after, UTC)


@pytest.mark.parametrize(
    ("schedule", "after", "tz_override", "expected"),
    [
        case(NEW_YORK, "2026-06-01 15:00", None, "2026-06-02 13:00", id="in-window-to-tomorrow"),
        case(NEW_YORK, "2026-06-01 10:00", None, "2026-06-02 13:00", id="early-skips-today"),
        case(NEW_YORK, "2026-06-05 15:00", None, "2026-06-08 13:00", id="friday-to-monday"),
        case(NEW_YORK, "2026-06-06 15:00", None, "2026-06-08 13:00", id="saturday-to-monday"),
        case(NEW_YORK, "2026-06-01 15:00", "Asia/Tokyo", "2026-06-03 00:00",
             id="lead-tokyo-already-tuesday"),
        case(every_day(NY), "2026-03-07 15:00", None, "2026-03-08 13:00", id="us-spring-forward"),
        case(every_day("Europe/Paris"), "2026-10-24 12:00", None, "2026-10-25 08:00",
             id="paris-fall-back"),
        case(every_day(NY, "02:30", "05:00"), "2026-03-07 08:00", None, "2026-03-08 07:00",
             id="gap-start"),
    ],
)  # fmt: skip
def test_next_window_opening(
    schedule: Schedule, after: str, tz_override: str | None, expected: str
) -> None:
    assert next_window_opening(schedule, utc(after), tz_override) == utc(expected)


@pytest.mark.parametrize(
    ("instant", "tz_override", "expected"),
    [
        case("2026-06-02 03:00", None, date(2026, 6, 1), id="campaign-zone-still-yesterday"),
        case("2026-06-02 03:00", "Europe/Paris", date(2026, 6, 2), id="lead-paris"),
        case("2026-06-01 16:00", "Pacific/Auckland", date(2026, 6, 2), id="lead-auckland"),
    ],
)
def test_local_day(instant: str, tz_override: str | None, expected: date) -> None:
    assert local_day(NEW_YORK, utc(instant), tz_override) == expected


@pytest.mark.parametrize("function", [next_send_at, next_window_opening])
def test_no_enabled_day_raises(function: Callable[[Schedule, datetime], datetime]) -> None:
    with pytest.raises(InvalidInput) as error:
        function(CLOSED, utc("2026-06-01 12:00"))
    assert_invalid(error, "SCHEDULE_HAS_NO_WINDOW", "days")


def test_naive_datetime_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="aware"):
        next_send_at(NEW_YORK, datetime(2026, 6, 1, 12, 0))

"""Sending windows: the instants, in a campaign's (or a lead's) time zone, when mail may go out.

Pure on purpose: no clock, no randomness, no I/O beyond zoneinfo reading its tz database, so the
journey workflow (inside the Temporal sandbox) and the API's campaign preview compute the same
instants from the same inputs.

The model is seed 003's schedule document: a time zone, a default window and per-day overrides,
all on a 30-minute grid. A window always lies inside one local day (end strictly after start, the
latest time is 23:30), so no window spans midnight and a local date has at most one window.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import TypedDict
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from coldflow.errors import InvalidInput

# Seed 003's list, in its order, plus "UTC": coldflow's own addition, the zone of a campaign
# created without one.
SUPPORTED_TIMEZONES: tuple[str, ...] = tuple(
    """
    Pacific/Honolulu America/Anchorage America/Los_Angeles America/Vancouver America/Phoenix
    America/Denver America/Chicago America/New_York America/Toronto America/Sao_Paulo
    Europe/London Europe/Paris Europe/Berlin Europe/Kiev Europe/Moscow
    Asia/Tehran Asia/Dubai Asia/Karachi Asia/Kolkata Asia/Bangkok Asia/Shanghai Asia/Hong_Kong
    Asia/Singapore Asia/Tokyo
    Australia/Sydney Pacific/Auckland
    UTC
    """.split()
)
WEEKDAYS: tuple[str, ...] = tuple(
    "monday tuesday wednesday thursday friday saturday sunday".split()
)
LATEST_TIME = "23:30"
# One enabled weekday recurs within 7 days; one spare day covers a window lost to a DST gap.
MAX_DAYS_AHEAD = 8

_TIME_RE = re.compile(r"([0-9]{1,2}):([0-9]{2})")
# Seed 000 day numbers: ISO 8601 (1 = Monday … 7 = Sunday); 0 is also Sunday, as in cron and
# JavaScript's getDay(). Python's date.weekday() (0 = Monday) is deliberately NOT accepted.
_DAY_NUMBERS: dict[int, str] = {0: "sunday", **{n: WEEKDAYS[n - 1] for n in range(1, 8)}}
_DAY_ABBREVIATIONS: dict[str, str] = {name[:3]: name for name in WEEKDAYS}
# Keys that resolve to machine-specific files or leap-second ("right/") data: never deterministic.
_UNSAFE_ZONE_PREFIXES = ("posix/", "right/", "localtime", "posixrules", "Factory")


class WindowDict(TypedDict):
    start: str
    end: str


class DayDict(TypedDict):
    enabled: bool
    start: str | None
    end: str | None


class ScheduleDict(TypedDict):
    timezone: str
    default_window: WindowDict
    days: dict[str, DayDict]


@dataclass(frozen=True, slots=True)
class Window:
    """A local-time window, both ends canonical "HH:MM" on the grid; ``end`` is exclusive."""

    start: str
    end: str

    def to_dict(self) -> WindowDict:
        return {"start": self.start, "end": self.end}


@dataclass(frozen=True, slots=True)
class DaySchedule:
    """One weekday; a ``start`` or ``end`` of None falls back to the default window's."""

    enabled: bool
    start: str | None = None
    end: str | None = None

    def to_dict(self) -> DayDict:
        return {"enabled": self.enabled, "start": self.start, "end": self.end}


@dataclass(frozen=True)
class Schedule:
    """A validated campaign schedule (seed 003); construction rejects anything invalid.

    ``days`` always holds the seven WEEKDAYS keys in order; it is copied on construction, and
    callers must treat it as read-only (change a schedule with ``apply_schedule_patch``). Every
    day's effective window is valid, disabled days included, so enabling a day never exposes a bad
    window.
    """

    timezone: str
    default_window: Window
    days: dict[str, DaySchedule]

    def __post_init__(self) -> None:
        _check_timezone(self.timezone, "timezone")
        default = self.default_window
        _check_window(default.start, default.end, "default_window.start", "default_window.end")
        for name in (*WEEKDAYS, *self.days):
            if name not in self.days or name not in WEEKDAYS:
                raise InvalidInput.field(
                    f"days.{name}", "a schedule has exactly the seven weekdays", code="INVALID_DAY"
                )
        object.__setattr__(self, "days", {name: self.days[name] for name in WEEKDAYS})
        for name, day in self.days.items():
            window, prefix = self.window(name), f"days.{name}"
            # Blame a field the user set: the day's own end, else its own start (the default
            # window, already checked, supplies any end the day leaves unset).
            end_field = f"{prefix}.end" if day.end is not None else f"{prefix}.start"
            _check_window(window.start, window.end, f"{prefix}.start", end_field)

    def window(self, weekday: str) -> Window:
        """The effective window of a weekday, with the default window filling unset ends."""
        day = self.days[weekday]
        return Window(day.start or self.default_window.start, day.end or self.default_window.end)

    def to_dict(self) -> ScheduleDict:
        """Seed 003's JSON shape: ``{"timezone", "default_window", "days": {<7 weekdays>}}``."""
        return {
            "timezone": self.timezone,
            "default_window": self.default_window.to_dict(),
            "days": {name: day.to_dict() for name, day in self.days.items()},
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> Schedule:
        """Read seed 003's shape; parts left out take ``default_schedule()``'s values.

        Validation and grid snapping are ``apply_schedule_patch``'s, so ``{}`` (a campaign row
        never given a schedule) reads as the default schedule.
        """
        return apply_schedule_patch(default_schedule(), data)


def default_schedule(timezone: str = "UTC") -> Schedule:
    """Monday–Friday 09:00–17:00 enabled, Saturday and Sunday disabled."""
    days = {name: DaySchedule(enabled=name not in ("saturday", "sunday")) for name in WEEKDAYS}
    return Schedule(timezone, Window("09:00", "17:00"), days)


def snap_to_grid(value: str, *, field: str = "time") -> str:
    """Round a 24-hour "HH:MM" (or "H:MM") to the 30-minute grid, as seed 003 stores times.

    Nearest :00 or :30, ties round up ("09:15" → "09:30", "09:45" → "10:00", "09:23" → "09:30");
    capped at "23:30" ("23:50" → "23:30") so a window never reaches midnight. Anything else
    ("24:00", "9am", "09:60") raises INVALID_TIME naming ``field``.
    """
    return _snap(value, field)


def apply_schedule_patch(current: Schedule, patch: Mapping[str, object]) -> Schedule:
    """Seed 003's PATCH /campaigns/:id/schedule: a new Schedule with ``patch`` applied.

    Any subset of ``timezone``, ``default_window`` (``start``/``end``) and ``days`` (any weekdays,
    each any of ``enabled``/``start``/``end``); omitted keys keep their value, a day's null
    ``start``/``end`` falls back to the default window. Times are snapped to the grid. Errors name
    the dotted field: INVALID_TIMEZONE (not in SUPPORTED_TIMEZONES), INVALID_TIME, INVALID_WINDOW
    (end not after start, also when a new default window breaks a day's own start),
    INVALID_DAY, INVALID_TYPE, UNKNOWN_FIELD. ``current`` is never modified, so a rejected patch
    leaves nothing half-applied.
    """
    _as_object(patch, "", ("timezone", "default_window", "days"))
    timezone = current.timezone
    if "timezone" in patch:
        timezone = _check_timezone(patch["timezone"], "timezone")
    default = current.default_window
    if "default_window" in patch:
        raw = _as_object(patch["default_window"], "default_window", ("start", "end"))
        default = Window(
            _snap(raw.get("start", default.start), "default_window.start"),
            _snap(raw.get("end", default.end), "default_window.end"),
        )
    days = dict(current.days)
    if "days" in patch:
        for name, raw_day in _as_object(patch["days"], "days").items():
            if name not in WEEKDAYS:
                raise InvalidInput.field(
                    f"days.{name}", f"unknown weekday {name!r}", code="INVALID_DAY"
                )
            prefix = f"days.{name}"
            day_patch = _as_object(raw_day, prefix, ("enabled", "start", "end"))
            old = days[name]
            enabled = day_patch.get("enabled", old.enabled)
            if not isinstance(enabled, bool):
                raise InvalidInput.field(
                    f"{prefix}.enabled", "must be true or false", code="INVALID_TYPE"
                )
            days[name] = DaySchedule(
                enabled=enabled,
                start=_patched_time(day_patch, "start", old.start, prefix),
                end=_patched_time(day_patch, "end", old.end, prefix),
            )
    return Schedule(timezone, default, days)


def from_seed000(
    timezone: str, days: Sequence[int | str], start_hour: int, end_hour: int
) -> Schedule:
    """Convert seed 000's inline ``schedule`` (``days`` + whole ``start_hour``/``end_hour``).

    ``days`` holds names ("monday", any case, or "mon") or numbers: ISO 8601 1 = Monday … 7 =
    Sunday, with 0 also Sunday (cron, JavaScript). Listed days are enabled with the default
    window, the others disabled; duplicates are harmless, an empty list disables every day.
    ``start_hour`` is 0–23, ``end_hour`` 1–24 with 24 stored as "23:30" (the grid's last time).
    Errors name seed 000's fields: ``timezone``, ``schedule.days[i]``, ``schedule.start_hour``,
    ``schedule.end_hour``.
    """
    _check_timezone(timezone, "timezone")
    if isinstance(days, str):
        raise InvalidInput.field("schedule.days", "must be a list of days", code="INVALID_TYPE")
    enabled = {_seed000_day(raw, f"schedule.days[{i}]") for i, raw in enumerate(days)}
    start = _seed000_hour(start_hour, "schedule.start_hour", 0, 23)
    end = _seed000_hour(end_hour, "schedule.end_hour", 1, 24)
    _check_window(start, end, "schedule.start_hour", "schedule.end_hour")
    return Schedule(
        timezone,
        Window(start, end),
        {name: DaySchedule(enabled=name in enabled) for name in WEEKDAYS},
    )


def is_valid_timezone(name: str) -> bool:
    """Whether ``name`` is an IANA zone usable for a lead (any zone, not only the supported list).

    Machine-specific keys ("localtime", "posix/…", "right/…") are refused: two workers could read
    them differently, and schedule math must be identical everywhere.
    """
    if not name or name.startswith(_UNSAFE_ZONE_PREFIXES):
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return False
    return True


def zone_for(schedule: Schedule, tz_override: str | None = None) -> ZoneInfo:
    """The zone windows are read in: the lead's ``tz_override`` when valid, else the campaign's.

    An invalid lead zone falls back silently rather than failing: it comes from imported lead
    data, and a journey must not stall on it (lead validation reports it where it is entered).
    """
    if tz_override and is_valid_timezone(tz_override):
        return ZoneInfo(tz_override)
    return ZoneInfo(schedule.timezone)


def window_for(schedule: Schedule, local_date: date) -> tuple[time, time] | None:
    """The local (start, end) of ``local_date``'s window, or None when that weekday is disabled."""
    name = WEEKDAYS[local_date.weekday()]
    if not schedule.days[name].enabled:
        return None
    window = schedule.window(name)
    return time.fromisoformat(window.start), time.fromisoformat(window.end)


def local_day(schedule: Schedule, instant: datetime, tz_override: str | None = None) -> date:
    """The local calendar date of an aware ``instant``: the key daily send limits count on."""
    _check_aware(instant)
    return instant.astimezone(zone_for(schedule, tz_override)).date()


def next_send_at(schedule: Schedule, after: datetime, tz_override: str | None = None) -> datetime:
    """The earliest UTC instant >= ``after`` inside an enabled window (``after`` itself if inside).

    Windows are read in ``zone_for(schedule, tz_override)``; start is inclusive, end exclusive.
    DST: a window opens at its local wall time on the day clocks change; a time in a DST gap
    (02:30 on spring-forward day) means the first valid instant after the gap (03:00 new time);
    an ambiguous time in the fall-back fold means its first occurrence; a window that lies wholly
    in a gap is skipped. Raises SCHEDULE_HAS_NO_WINDOW when no day is enabled.
    """
    zone = zone_for(schedule, tz_override)
    for opens, closes in _windows_from(schedule, after, tz_override, first_day=0):
        if after >= closes:
            continue
        candidate = max(after, opens)
        local = candidate.astimezone(zone)
        window = window_for(schedule, local.date())
        if window is None or local.time() >= window[0]:
            return candidate.astimezone(UTC)
        # A window that opens inside the fall-back fold spans the repeated hour in UTC; its
        # second pass reads earlier than the opening, so wait for the opening's second occurrence.
        again = datetime.combine(local.date(), window[0]).replace(tzinfo=zone, fold=1)
        if candidate < again.astimezone(UTC) < closes:
            return again.astimezone(UTC)
    raise _no_window()


def next_window_opening(
    schedule: Schedule, after: datetime, tz_override: str | None = None
) -> datetime:
    """The UTC opening of the first enabled window on a later local date than ``after``'s.

    Used when a day's send limit is full: today's window (even one not yet open) is skipped,
    because the limit counts per ``local_day``. DST gap and fold rules as in ``next_send_at``.
    """
    for opens, _closes in _windows_from(schedule, after, tz_override, first_day=1):
        return opens
    raise _no_window()


def _windows_from(
    schedule: Schedule, after: datetime, tz_override: str | None, *, first_day: int
) -> Iterator[tuple[datetime, datetime]]:
    """UTC (opens, closes) of the enabled windows from ``first_day`` days after ``after``'s date."""
    _check_aware(after)
    if not any(day.enabled for day in schedule.days.values()):
        raise _no_window()
    zone = zone_for(schedule, tz_override)
    today = after.astimezone(zone).date()
    for offset in range(first_day, MAX_DAYS_AHEAD + 1):
        day = today + timedelta(days=offset)
        window = window_for(schedule, day)
        if window is not None:
            opens, closes = (_local_to_utc(datetime.combine(day, t), zone) for t in window)
            # Both ends inside one DST gap collapse to one instant: nothing to send in.
            if opens < closes:
                yield opens, closes


def _no_window() -> InvalidInput:
    return InvalidInput.field(
        "days", "the schedule has no enabled sending window", code="SCHEDULE_HAS_NO_WINDOW"
    )


def _local_to_utc(naive: datetime, zone: ZoneInfo) -> datetime:
    # fold=0 is the first occurrence of a time repeated by the fall-back fold (PEP 495).
    instant = naive.replace(tzinfo=zone).astimezone(UTC)
    if instant.astimezone(zone).replace(tzinfo=None) == naive:
        return instant
    # In a gap, fold=0 applies the offset from before the transition and lands after the gap,
    # fold=1 the offset from after it and lands before; the transition (the first valid instant
    # after the gap) lies between. tz transitions fall on whole seconds, so bisect on seconds.
    low = int(naive.replace(tzinfo=zone, fold=1).timestamp())
    high = int(instant.timestamp())
    while high - low > 1:
        middle = (low + high) // 2
        if datetime.fromtimestamp(middle, zone).replace(tzinfo=None) > naive:
            high = middle
        else:
            low = middle
    return datetime.fromtimestamp(high, UTC)


def _check_aware(instant: datetime) -> None:
    # A naive datetime is a programming error, not user input: no error code.
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError(f"expected an aware datetime, got naive {instant!r}")


def _parse_time(value: object, field: str) -> tuple[int, int]:
    match = _TIME_RE.fullmatch(value) if isinstance(value, str) else None
    if match is None or int(match[1]) > 23 or int(match[2]) > 59:
        raise InvalidInput.field(
            field, f"{value!r} is not a 24-hour HH:MM time", code="INVALID_TIME"
        )
    return int(match[1]), int(match[2])


def _snap(value: object, field: str) -> str:
    hour, minute = _parse_time(value, field)
    snapped = min((hour * 60 + minute + 15) // 30 * 30, 23 * 60 + 30)
    return f"{snapped // 60:02d}:{snapped % 60:02d}"


def _check_window(start: str, end: str, start_field: str, end_field: str) -> None:
    for value, field in ((start, start_field), (end, end_field)):
        if _snap(value, field) != value:
            raise InvalidInput.field(
                field, f"{value!r} is not an HH:MM time on the 30-minute grid", code="INVALID_TIME"
            )
    # Canonical "HH:MM" strings order like the times they name.
    if end <= start:
        raise InvalidInput.field(
            end_field, f"window end {end} must be after its start {start}", code="INVALID_WINDOW"
        )


def _check_timezone(value: object, field: str) -> str:
    if not isinstance(value, str) or value not in SUPPORTED_TIMEZONES:
        raise InvalidInput.field(
            field, f"{value!r} is not a supported time zone", code="INVALID_TIMEZONE"
        )
    return value


def _as_object(value: object, field: str, allowed: tuple[str, ...] = ()) -> Mapping[str, object]:
    if not isinstance(value, Mapping):
        raise InvalidInput.field(field or "schedule", "must be an object", code="INVALID_TYPE")
    # A typo ("timezon") silently ignored would look like a successful update.
    for key in value if allowed else ():
        if key not in allowed:
            prefix = f"{field}." if field else ""
            raise InvalidInput.field(f"{prefix}{key}", "unknown field", code="UNKNOWN_FIELD")
    return value


def _patched_time(data: Mapping[str, object], key: str, old: str | None, prefix: str) -> str | None:
    if key not in data:
        return old
    value = data[key]
    return None if value is None else _snap(value, f"{prefix}.{key}")


def _seed000_day(raw: object, field: str) -> str:
    if isinstance(raw, str):
        name = raw.strip().lower()
        name = _DAY_ABBREVIATIONS.get(name, name)
        if name in WEEKDAYS:
            return name
    elif isinstance(raw, int) and not isinstance(raw, bool) and raw in _DAY_NUMBERS:
        return _DAY_NUMBERS[raw]
    raise InvalidInput.field(
        field, f"{raw!r} is not a weekday name or a number 0-7", code="INVALID_DAY"
    )


def _seed000_hour(raw: object, field: str, lowest: int, highest: int) -> str:
    if not isinstance(raw, int) or isinstance(raw, bool) or not lowest <= raw <= highest:
        raise InvalidInput.field(
            field, f"must be a whole hour from {lowest} to {highest}", code="INVALID_TIME"
        )
    return LATEST_TIME if raw == 24 else f"{raw:02d}:00"

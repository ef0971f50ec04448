"""Warmup: ramp and guardrail, send times in the window (DST included), even recipients,
signed tokens and body codes, content without links or spam words, reply shares, stats.

Property tests are derandomized and database-free, so CI sees the same examples every time.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import re
from collections import Counter
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from email.message import EmailMessage
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from temporalio.converter import DataConverter

from coldflow.errors import InvalidInput
from coldflow.schedule import (
    SUPPORTED_TIMEZONES,
    WEEKDAYS,
    DaySchedule,
    Schedule,
    Window,
    default_schedule,
    local_day,
    next_send_at,
)
from coldflow.warmup import (
    WARMUP_HEADER,
    RampSettings,
    RampState,
    WarmupMark,
    body_code,
    find_mark,
    health_score,
    make_token,
    next_volume,
    pick_recipients,
    plan_send_times,
    pool_reason,
    ramp_progress,
    reply_token,
    should_reply,
    should_reply_back,
    spam_rate,
    verify_token,
)
from coldflow.warmup_content import PHRASE_TABLES, SPAM_WORDS, compose, compose_reply, reply_subject

PROPERTY = settings(
    max_examples=200,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
case = pytest.param
SECRET = "installation-secret"
DAY_ONE = date(2026, 1, 5)
SEEDS = [f"seed-{i:05d}" for i in range(10_000)]
GRID = tuple(f"{m // 60:02d}:{m % 60:02d}" for m in range(0, 24 * 60, 30))


def ramp(
    config: RampSettings, days: int, spam: list[float | None] | None = None
) -> list[RampState]:
    states, state = [], RampState()
    for n in range(days):
        rate = spam[n] if spam else None
        state = next_volume(config, state, today=DAY_ONE + timedelta(n), spam_rate_3d=rate)
        states.append(state)
    return states


# --- ramp -------------------------------------------------------------------------------------


def test_default_ramp_starts_at_two_and_grows_by_two_up_to_the_limit() -> None:
    volumes = [s.volume for s in ramp(RampSettings(), 7)]
    assert volumes == [2, 4, 6, 8, 10, 10, 10]


ramp_settings = st.builds(
    RampSettings,
    start=st.integers(1, 30),
    step=st.integers(0, 15),
    limit=st.integers(1, 100),
    spam_threshold=st.floats(0.01, 1.0),
)


@PROPERTY
@given(config=ramp_settings)
def test_ramp_follows_start_step_limit_for_fourteen_days(config: RampSettings) -> None:
    for n, state in enumerate(ramp(config, 14)):
        assert state.volume == min(config.limit, config.start + config.step * n)
        assert 1 <= state.volume <= config.limit
        assert (state.days_planned, state.frozen_reason) == (n + 1, None)


@PROPERTY
@given(config=ramp_settings, rates=st.lists(st.none() | st.floats(0, 1), min_size=14, max_size=14))
def test_ramp_grows_only_below_the_spam_threshold(
    config: RampSettings, rates: list[float | None]
) -> None:
    previous = 0
    for rate, state in zip(rates, ramp(config, 14, rates), strict=True):
        frozen = rate is not None and rate >= config.spam_threshold
        assert 1 <= state.volume <= config.limit
        assert (state.frozen_reason is not None) == frozen
        if previous:
            grown = min(config.limit, previous + config.step)
            assert state.volume == (previous if frozen else grown)
        previous = state.volume


def test_guardrail_holds_the_volume_and_says_why() -> None:
    states = ramp(RampSettings(), 5, [None, 0.05, 0.0, 0.27, 0.1])
    assert [s.volume for s in states] == [2, 4, 6, 6, 8]
    assert states[3].frozen_reason == (
        "spam rate 27% over the last 3 days is at or above the 20% threshold: volume held at 6"
    )
    assert states[4].frozen_reason is None


@pytest.mark.parametrize(
    ("rate", "frozen"),
    [case(0.1999, False, id="just-below"), case(0.20, True, id="at"), case(1.0, True, id="all")],
)
def test_guardrail_threshold_is_inclusive(rate: float, frozen: bool) -> None:
    state = ramp(RampSettings(), 3, [None, None, rate])[-1]
    assert (state.volume, state.frozen_reason is not None) == ((4, True) if frozen else (6, False))


def test_guardrail_on_the_first_day_holds_at_start_and_never_above_limit() -> None:
    first = ramp(RampSettings(start=5, limit=3), 1, [0.5])[0]
    assert first.volume == 3
    assert first.frozen_reason is not None
    reason = ramp(RampSettings(spam_threshold=0.125), 1, [0.5])[0].frozen_reason
    assert reason is not None
    assert "above the 12.5% threshold" in reason


def test_lowered_limit_caps_a_held_volume() -> None:
    state = ramp(RampSettings(), 4)[-1]
    held = next_volume(RampSettings(limit=5), state, today=date(2026, 2, 1), spam_rate_3d=0.9)
    assert held.volume == 5


def test_planning_the_same_day_twice_does_not_step_twice() -> None:
    state = ramp(RampSettings(), 3)[-1]
    again = next_volume(RampSettings(), state, today=DAY_ONE + timedelta(2), spam_rate_3d=0.0)
    assert again is state


def test_resume_from_stored_state_continues_the_ramp() -> None:
    uninterrupted = [s.volume for s in ramp(RampSettings(step=3, limit=40), 8)]
    stored = json.loads(json.dumps(dataclasses.asdict(ramp(RampSettings(step=3, limit=40), 4)[-1])))
    state = RampState(**stored)
    # Warmup was off for three weeks: the ramp resumes where it stood, it neither restarts
    # nor jumps ahead.
    resumed = []
    for n in range(4):
        today = DAY_ONE + timedelta(days=25 + n)
        state = next_volume(RampSettings(step=3, limit=40), state, today=today, spam_rate_3d=None)
        resumed.append(state.volume)
    assert resumed == uninterrupted[4:]


def test_ramp_dataclasses_cross_the_temporal_converter() -> None:
    converter = DataConverter.default.payload_converter
    values = [RampSettings(start=3, limit=50), ramp(RampSettings(), 4, [0, 0, 0, 0.5])[-1]]
    payloads = converter.to_payloads(values)
    assert converter.from_payloads(payloads, [RampSettings, RampState]) == values


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        case({"limit": 0}, "daily_warmup_limit", id="limit-0"),
        case({"limit": 101}, "daily_warmup_limit", id="limit-101"),
        case({"start": 0}, "warmup_start", id="start-0"),
        case({"step": -1}, "warmup_step", id="step-negative"),
        case({"spam_threshold": 0.0}, "warmup_spam_threshold", id="threshold-0"),
        case({"spam_threshold": 1.5}, "warmup_spam_threshold", id="threshold-above-1"),
    ],
)
def test_invalid_ramp_settings_are_rejected(changes: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidInput) as error:
        RampSettings(**changes)
    assert (error.value.code, error.value.details[0]["field"]) == ("INVALID_WARMUP_SETTING", field)


# --- send times -------------------------------------------------------------------------------


def test_send_times_spread_evenly_over_the_working_day() -> None:
    schedule = default_schedule("Europe/Paris")
    times = plan_send_times(schedule, date(2026, 6, 3), 8, "inbox-1:2026-06-03")
    opens = datetime(2026, 6, 3, 7, 0, tzinfo=UTC)  # 09:00 CEST
    share = timedelta(hours=8) / 8
    assert len(times) == 8
    for index, at in enumerate(times):
        assert at.tzinfo is UTC
        assert at.microsecond == 0
        assert opens + index * share + share / 10 <= at < opens + (index + 1) * share


def test_send_times_are_deterministic_per_seed() -> None:
    schedule = default_schedule("Asia/Tokyo")
    day = date(2026, 6, 3)
    assert plan_send_times(schedule, day, 10, "a") == plan_send_times(schedule, day, 10, "a")
    assert plan_send_times(schedule, day, 10, "a") != plan_send_times(schedule, day, 10, "b")


@pytest.mark.parametrize(
    ("day", "volume"),
    [
        case(date(2026, 6, 6), 10, id="saturday-disabled"),
        case(date(2026, 6, 3), 0, id="volume-0"),
    ],
)
def test_no_send_times(day: date, volume: int) -> None:
    assert plan_send_times(default_schedule("UTC"), day, volume, "seed") == []


def test_window_lost_to_a_dst_gap_has_no_send_times() -> None:
    # 02:00–03:00 on US spring-forward day does not exist.
    schedule = _schedule("America/New_York", "sunday", "02:00", "03:00")
    assert plan_send_times(schedule, date(2026, 3, 8), 5, "seed") == []


def test_window_opening_in_the_fold_skips_the_repeated_half_hour() -> None:
    # US fall-back day: 01:00–02:00 happens twice; a 01:30 window opens at the first 01:30,
    # and the second pass of 01:00–01:30 (EST) is outside it, as next_send_at has it.
    schedule = _schedule("America/New_York", "sunday", "01:30", "02:30")
    times = plan_send_times(schedule, date(2026, 11, 1), 100, "seed")
    hole_start, hole_end = (
        datetime(2026, 11, 1, 6, 0, tzinfo=UTC),
        datetime(2026, 11, 1, 6, 30, tzinfo=UTC),
    )
    assert len(times) == 100
    assert not any(hole_start <= at < hole_end for at in times)
    assert min(times) >= datetime(2026, 11, 1, 5, 30, tzinfo=UTC)
    assert max(times) < datetime(2026, 11, 1, 7, 30, tzinfo=UTC)


def test_more_sends_than_half_hour_slots_share_slots_but_stay_inside() -> None:
    schedule = _schedule("Asia/Kolkata", "wednesday", "10:00", "10:30")
    times = plan_send_times(schedule, date(2026, 6, 3), 100, "seed")
    assert len(set(times)) == 100
    assert all(
        time(10) <= at.astimezone(ZoneInfo("Asia/Kolkata")).time() < time(10, 30) for at in times
    )


def test_volume_above_the_maximum_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="outside"):
        plan_send_times(default_schedule(), date(2026, 6, 3), 101, "seed")


@functools.cache
def transition_days(zone_name: str) -> tuple[date, ...]:
    """Local dates in 2026–2027 around which the zone's UTC offset changes."""
    zone, days = ZoneInfo(zone_name), []
    first = date(2026, 1, 1)
    for n in range(730):
        day = first + timedelta(n)
        noon = datetime.combine(day, time(12), UTC)
        if noon.astimezone(zone).utcoffset() != (noon + timedelta(1)).astimezone(zone).utcoffset():
            days += [day, day + timedelta(1)]
    return tuple(days)


@st.composite
def schedule_and_day(draw: st.DrawFn) -> tuple[Schedule, date]:
    zone = draw(st.sampled_from(SUPPORTED_TIMEZONES))
    start = draw(st.sampled_from(GRID[:-1]))
    end = draw(st.sampled_from([t for t in GRID if t > start]))
    transitions = transition_days(zone)
    some_day = st.dates(date(2026, 1, 1), date(2027, 12, 31))
    day = draw(st.sampled_from(transitions) | some_day if transitions else some_day)
    enabled = draw(st.sets(st.sampled_from(WEEKDAYS)))
    days = {name: DaySchedule(enabled=name in enabled) for name in WEEKDAYS}
    return Schedule(zone, Window(start, end), days), day


@PROPERTY
@given(case=schedule_and_day(), volume=st.integers(0, 100), seed=st.text(max_size=20))
def test_send_times_lie_inside_the_window(
    case: tuple[Schedule, date], volume: int, seed: str
) -> None:
    schedule, day = case
    times = plan_send_times(schedule, day, volume, seed)
    window = schedule.window(WEEKDAYS[day.weekday()])
    zone = ZoneInfo(schedule.timezone)
    has_window = schedule.days[WEEKDAYS[day.weekday()]].enabled and _window_exists(schedule, day)
    assert len(times) == (volume if has_window else 0)
    assert times == sorted(set(times))
    for at in times:
        local = at.astimezone(zone)
        assert local.date() == day
        assert time.fromisoformat(window.start) <= local.time() < time.fromisoformat(window.end)
        assert next_send_at(schedule, at) == at


def _window_exists(schedule: Schedule, day: date) -> bool:
    """Independent oracle: some UTC minute of the day reads as a local time inside the window."""
    zone = ZoneInfo(schedule.timezone)
    window = schedule.window(WEEKDAYS[day.weekday()])
    first = datetime.combine(day, time(), zone).astimezone(UTC) - timedelta(hours=3)
    for minute in range(0, 30 * 60, 1):
        local = (first + timedelta(minutes=minute)).astimezone(zone)
        if local.date() == day and window.start <= local.strftime("%H:%M") < window.end:
            return True
    return False


def _schedule(zone: str, weekday: str, start: str, end: str) -> Schedule:
    days = {name: DaySchedule(enabled=name == weekday) for name in WEEKDAYS}
    return Schedule(zone, Window(start, end), days)


# --- recipients -------------------------------------------------------------------------------


def test_a_pool_of_one_does_nothing_and_says_why() -> None:
    assert pick_recipients("a", ["a"], 10, "seed") == []
    assert pick_recipients("a", [], 10, "seed") == []
    assert pool_reason("a", ["a", "a"]) == (
        "no other warming inbox in the pool: warmup needs at least two warming inboxes"
    )
    assert pool_reason("a", ["a", "b"]) is None


@PROPERTY
@given(
    pool=st.lists(st.sampled_from("abcdefghij"), min_size=1, max_size=15),
    sender=st.sampled_from("abc"),
    count=st.integers(0, 100),
    seed=st.text(max_size=10),
)
def test_recipients_are_even_and_never_the_sender(
    pool: list[str], sender: str, count: int, seed: str
) -> None:
    chosen = pick_recipients(sender, pool, count, seed)
    others = set(pool) - {sender}
    assert chosen == pick_recipients(sender, list(reversed(pool)), count, seed)
    if not others:
        assert chosen == []
        return
    assert len(chosen) == count
    assert sender not in chosen
    tally = Counter(chosen)
    low, high = count // len(others), -(-count // len(others))
    assert all(low <= tally[member] <= high for member in others)


def test_recipient_order_changes_with_the_seed() -> None:
    pool = [f"inbox-{i}" for i in range(20)]
    assert pick_recipients("x", pool, 10, "day-1") != pick_recipients("x", pool, 10, "day-2")


# --- tokens -----------------------------------------------------------------------------------

TOKEN = make_token("inbox-1", "2026-06-03", 4, SECRET)


def test_token_is_short_url_safe_deterministic_and_verifies() -> None:
    assert re.fullmatch(r"[A-Z2-7]{32}", TOKEN)
    assert make_token("inbox-1", date(2026, 6, 3), 4, SECRET) == TOKEN
    assert verify_token(TOKEN, SECRET)
    assert not verify_token(TOKEN, "another-secret")
    others = {make_token(s, d, q, SECRET) for s in "ab" for d in ("d1", "d2") for q in range(3)}
    assert len(others) == 12


@PROPERTY
@given(position=st.integers(0, 31), char=st.sampled_from("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"))
def test_altered_tokens_do_not_verify(position: int, char: str) -> None:
    altered = TOKEN[:position] + char + TOKEN[position + 1 :]
    assert verify_token(altered, SECRET) == (altered == TOKEN)


@pytest.mark.parametrize(
    "forged",
    ["", TOKEN[:-1], TOKEN + "A", TOKEN.lower(), "A" * 32, "é" * 32, TOKEN[:16] + "A" * 16],
)
def test_forged_tokens_do_not_verify(forged: str) -> None:
    assert not verify_token(forged, SECRET)


def test_reply_tokens_verify_and_differ_from_their_parent() -> None:
    reply = reply_token(TOKEN, SECRET)
    back = reply_token(reply, SECRET)
    assert verify_token(reply, SECRET)
    assert verify_token(back, SECRET)
    assert len({TOKEN, reply, back}) == 3


def test_warmup_mail_is_recognised_by_header_in_any_form() -> None:
    message = EmailMessage()
    message["X-COLDFLOW-WARMUP"] = TOKEN
    expected = WarmupMark(body_code(TOKEN), TOKEN)
    assert find_mark(message, "", SECRET) == expected
    assert find_mark({"x-coldflow-warmup": f" {TOKEN.lower()} "}, "", SECRET) == expected
    assert find_mark([("subject", "hi"), (WARMUP_HEADER.lower(), TOKEN)], "", SECRET) == expected


def test_warmup_mail_is_recognised_by_body_code_when_the_header_is_lost() -> None:
    _, body = compose(TOKEN, sender_name="Anna", recipient_name="Ben", code=body_code(TOKEN))
    quoted = "Sounds good.\n\n> " + body.replace("\n", "\n> ")
    assert find_mark({}, body, SECRET) == WarmupMark(body_code(TOKEN), None)
    assert find_mark({}, quoted, SECRET) == WarmupMark(body_code(TOKEN), None)
    assert find_mark({WARMUP_HEADER: "A" * 32}, body, SECRET) == WarmupMark(body_code(TOKEN), None)


@pytest.mark.parametrize(
    ("headers", "text"),
    [
        case({}, "Hello, see you Monday.", id="plain-mail"),
        case({WARMUP_HEADER: "A" * 32}, "", id="forged-header"),
        case({}, f"Ref: {body_code(make_token('x', 'd', 1, 'other-secret'))}", id="foreign-code"),
        case({}, "Ref: ABCD-EFGH and order ZZZZ-2222", id="random-codes"),
        case({}, f"Ref: {body_code(TOKEN).lower()}", id="lowercased-code"),
    ],
)
def test_other_mail_is_not_warmup(headers: dict[str, str], text: str) -> None:
    assert find_mark(headers, text, SECRET) is None


def test_random_body_codes_almost_never_verify() -> None:
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
    codes = [
        "".join(alphabet[(i * 7 + k * 13 + i // (k + 1)) % 32] for k in range(8))
        for i in range(3000)
    ]
    assert sum(find_mark({}, f"{c[:4]}-{c[4:]}", SECRET) is not None for c in codes) == 0


# --- content ----------------------------------------------------------------------------------

SPAM_RE = re.compile(
    "|".join(rf"(?<!\w){re.escape(word)}(?!\w)" for word in SPAM_WORDS), re.IGNORECASE
)
LINK_RE = re.compile(
    r"https?:|www\.|://|@|<a\b|\b[\w-]+\.(?:com|net|org|io|co|me|ly|info|biz)\b", re.IGNORECASE
)


def test_ten_thousand_seeds_give_ten_thousand_distinct_messages() -> None:
    # The same code everywhere: distinctness comes from the phrase set alone.
    messages = {
        compose(s, sender_name="Anna", recipient_name="Ben", code="ABCD-EFGH") for s in SEEDS
    }
    assert len(messages) == len(SEEDS)


def test_replies_are_distinct() -> None:
    replies = {
        compose_reply(s, sender_name="Ben", recipient_name="Anna", code="ABCD-EFGH")
        for s in SEEDS[:2000]
    }
    assert len(replies) == 2000


def test_phrase_set_has_no_spam_words_and_no_links() -> None:
    for table in PHRASE_TABLES:
        for phrase in table:
            assert not SPAM_RE.search(phrase), phrase
            assert not LINK_RE.search(phrase), phrase


def test_rendered_messages_have_no_spam_words_and_no_links() -> None:
    for seed in SEEDS[:3000]:
        code = body_code(make_token("inbox", "day", int(seed[-5:]), SECRET))
        subject, body = compose(seed, sender_name="Anna", recipient_name="Ben", code=code)
        reply = compose_reply(seed, sender_name="Ben", recipient_name="Anna", code=code)
        for text in (subject, body, reply):
            assert not SPAM_RE.search(text), text
            assert not LINK_RE.search(text), text


def test_composed_message_shape() -> None:
    subject, body = compose(TOKEN, sender_name="Anna", recipient_name="Ben", code=body_code(TOKEN))
    assert subject
    assert "\n" not in subject
    assert not subject.lower().startswith("re:")
    assert body.split("\n", 1)[0].endswith(" Ben,")
    assert body.rstrip().endswith(body_code(TOKEN))
    assert "\nAnna\n" in body
    assert compose(TOKEN, sender_name="Anna", recipient_name="Ben", code="X") == compose(
        TOKEN, sender_name="Anna", recipient_name="Ben", code="X"
    )


def test_missing_names_leave_no_gaps() -> None:
    _, body = compose("seed", sender_name=" ", recipient_name="", code="ABCD-EFGH")
    reply = compose_reply("seed", sender_name="", recipient_name="", code="ABCD-EFGH")
    for text in (body, reply):
        assert re.match(r"^[A-Za-z ]+[a-z],\n", text)
        assert " ," not in text
        assert "\n\n\n" not in text


def test_replies_are_short() -> None:
    assert (
        max(
            len(compose_reply(s, sender_name="B", recipient_name="A", code="C"))
            for s in SEEDS[:500]
        )
        < 400
    )


@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        ("Budget draft", "Re: Budget draft"),
        ("Re: Budget draft", "Re: Budget draft"),
        ("RE: x", "RE: x"),
    ],
)
def test_reply_subject(subject: str, expected: str) -> None:
    assert reply_subject(subject) == expected


# --- reply share ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("decide", "share", "expected"),
    [
        case(should_reply, 0.30, 0.30, id="reply-default"),
        case(should_reply, 0.50, 0.50, id="reply-half"),
        case(should_reply_back, 0.30, 0.15, id="reply-back-is-half-the-share"),
    ],
)
def test_reply_shares_are_close_to_the_setting(
    decide: Callable[[str, float], bool], share: float, expected: float
) -> None:
    rate = sum(decide(s, share) for s in SEEDS) / len(SEEDS)
    assert abs(rate - expected) <= 0.03


def test_reply_share_extremes_and_defaults() -> None:
    assert not any(should_reply(s, 0.0) for s in SEEDS[:500])
    assert all(should_reply(s, 1.0) for s in SEEDS[:500])
    assert [should_reply(s) for s in SEEDS[:200]] == [should_reply(s, 0.30) for s in SEEDS[:200]]
    with pytest.raises(ValueError, match="outside"):
        should_reply("seed", 1.5)


# --- stats ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sent", "spam", "rate", "health"),
    [
        case(0, 0, None, 100, id="nothing-sent"),
        case(10, 0, 0.0, 100, id="all-inbox"),
        case(1000, 1, 0.001, 99, id="one-in-spam-is-not-100"),
        case(15, 4, 4 / 15, 73, id="some-spam"),
        case(10, 10, 1.0, 0, id="all-spam"),
        case(10, 12, 1.0, 0, id="spam-above-sent-capped"),
    ],
)
def test_spam_rate_and_health_score(sent: int, spam: int, rate: float | None, health: int) -> None:
    assert spam_rate(sent, spam) == rate
    assert health_score(sent, spam) == health


@pytest.mark.parametrize(
    ("volume", "limit", "progress"),
    [(0, 10, 0), (2, 10, 20), (9, 10, 90), (10, 10, 100), (99, 100, 99), (12, 10, 100), (1, 3, 33)],
)
def test_ramp_progress(volume: int, limit: int, progress: int) -> None:
    assert ramp_progress(volume, limit) == progress


def test_negative_counts_are_programming_errors() -> None:
    with pytest.raises(ValueError, match="negative"):
        spam_rate(-1, 0)
    with pytest.raises(ValueError, match="limit"):
        ramp_progress(1, 0)


def test_local_day_of_planned_times_matches_the_schedule_module() -> None:
    schedule = default_schedule("Pacific/Auckland")
    day = date(2026, 4, 6)
    assert {local_day(schedule, at) for at in plan_send_times(schedule, day, 20, "s")} == {day}

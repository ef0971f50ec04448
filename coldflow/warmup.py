"""Warmup: the daily ramp, when and to whom warmup mail goes, its tokens and its stats (pure).

Pure and deterministic like ``sequencing``: no clock, no ``random``, no I/O, every "random"
choice is SHA-256 of a caller-given seed. The warmup workflow replays its plans inside the
Temporal sandbox, and a replay must plan the same times and recipients as the first run.

Window math is ``schedule``'s (the inbox's working hours are a ``Schedule``); message text is
``warmup_content``'s. Tokens are HMAC-signed with the installation's secret, so they are minted
in activities, never in the workflow (workflows never see secrets).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from email.message import Message

from coldflow import schedule as schedule_math
from coldflow.errors import InvalidInput
from coldflow.schedule import Schedule
from coldflow.sequencing import seeded_index

WARMUP_HEADER = "X-Coldflow-Warmup"
MAX_DAILY_WARMUP_LIMIT = 100
SPAM_WINDOW_DAYS = 3
DEFAULT_REPLY_SHARE = 0.30

_HALF_HOUR = timedelta(minutes=30)
_SECOND = timedelta(seconds=1)
# Tokens use RFC 4648 base32: URL- and header-safe, and unchanged by case-folding relays.
_B32 = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
_TOKEN_LENGTH = 32
_CODE_RE = re.compile(r"(?<![A-Za-z0-9])([A-Z2-7]{4})-([A-Z2-7]{4})(?![A-Za-z0-9])")
# Bounds the HMAC work a hostile body can cause; a warmup body has exactly one code.
_MAX_CODE_CANDIDATES = 20


@dataclass(frozen=True)
class RampSettings:
    """How an inbox's daily warmup volume grows: ``start`` on day 1, ``+step`` a day, up to
    ``limit`` (the inbox's ``daily_warmup_limit``); growth stops while the spam rate over the
    last ``SPAM_WINDOW_DAYS`` days is at or above ``spam_threshold``. Invalid values raise
    INVALID_WARMUP_SETTING naming the field."""

    start: int = 2
    step: int = 2
    limit: int = 10
    spam_threshold: float = 0.20

    def __post_init__(self) -> None:
        checks = (
            ("daily_warmup_limit", 1 <= self.limit <= MAX_DAILY_WARMUP_LIMIT, "from 1 to 100"),
            ("warmup_start", self.start >= 1, "at least 1"),
            ("warmup_step", self.step >= 0, "0 or more"),
            ("warmup_spam_threshold", 0 < self.spam_threshold <= 1, "above 0 and at most 1"),
        )
        for field, is_valid, rule in checks:
            if not is_valid:
                raise InvalidInput.field(field, f"must be {rule}", code="INVALID_WARMUP_SETTING")


@dataclass(frozen=True)
class RampState:
    """Where an inbox's ramp stands after its last planned day; the caller stores it (and hands
    it to continue-as-new), so turning warmup off and on resumes from here.

    ``planned_on`` is that day's ISO date; ``frozen_reason`` says why the volume did not grow.
    """

    days_planned: int = 0
    volume: int = 0
    planned_on: str | None = None
    frozen_reason: str | None = None


def next_volume(
    settings: RampSettings, state: RampState, *, today: date, spam_rate_3d: float | None
) -> RampState:
    """The ramp after planning ``today``: ``state.volume + step`` (``start`` on the first day),
    capped at ``limit``; with no spam, day n (0-based) gets ``min(limit, start + step * n)``.

    When ``spam_rate_3d`` (``spam_rate`` over the last 3 days; None = nothing sent) is at or
    above the threshold, the volume is held at yesterday's (never above ``limit``) and
    ``frozen_reason`` says why; growth resumes from the held volume, so a freeze never turns
    into a jump. Planning a day already planned returns ``state`` unchanged (a restart or an
    off/on toggle on the same day must not step twice). Days with warmup off do not count.
    """
    if state.planned_on == today.isoformat():
        return state
    if not state.days_planned:
        grown = held = settings.start
    else:
        grown, held = max(settings.start, state.volume + settings.step), state.volume
    reason = None
    volume = min(settings.limit, grown)
    if spam_rate_3d is not None and spam_rate_3d >= settings.spam_threshold:
        volume = min(settings.limit, held)
        reason = (
            f"spam rate {_percent(spam_rate_3d)} over the last {SPAM_WINDOW_DAYS} days is at or "
            f"above the {_percent(settings.spam_threshold)} threshold: volume held at {volume}"
        )
    return RampState(state.days_planned + 1, volume, today.isoformat(), reason)


def plan_send_times(schedule: Schedule, local_day: date, volume: int, seed: str) -> list[datetime]:
    """``volume`` distinct, sorted UTC instants inside ``local_day``'s window of ``schedule``.

    The window's usable time (DST gaps and folds resolved by ``schedule.next_send_at``, the
    same rule campaign sends use) is cut into ``volume`` equal shares, and each send falls at
    a seeded point in the middle 80% of its share, in whole seconds: evenly spread, never
    clock-regular, never two within 20% of a share of each other. A volume above the window's
    30-minute slots simply puts several sends in one slot. Same seed, same times: a replayed
    workflow sets the same timers. A disabled day, or a window lost to a DST gap → [].
    Times already past are the caller's to skip. ``volume`` outside 0..100 is a ValueError.
    """
    if not 0 <= volume <= MAX_DAILY_WARMUP_LIMIT:
        raise ValueError(f"volume {volume} is outside 0..{MAX_DAILY_WARMUP_LIMIT}")
    spans = _window_spans(schedule, local_day)
    total = sum(int((end - start).total_seconds()) for start, end in spans)
    times = []
    for index in range(volume if total else 0):
        permille = 100 + seeded_index(f"warmup-time:{seed}:{index}", 800)
        offset = total * (1000 * index + permille) // (1000 * volume)
        for start, end in spans:
            length = int((end - start).total_seconds())
            if offset < length:
                times.append(start + timedelta(seconds=offset))
                break
            offset -= length
    return times


def pool_reason(sender_id: str, pool: Iterable[str]) -> str | None:
    """Why ``sender_id`` cannot warm up with ``pool`` (the warming inboxes), or None if it can."""
    if not set(pool) - {sender_id}:
        return "no other warming inbox in the pool: warmup needs at least two warming inboxes"
    return None


def pick_recipients(sender_id: str, pool: Iterable[str], count: int, seed: str) -> list[str]:
    """``count`` recipients for one day's sends, drawn evenly from ``pool`` without the sender.

    Round-robin over the other inboxes in a fresh seeded order each round, so each gets
    ``count // n`` or one more, and the ones that get one more change with the seed (seed
    with the day): every pair exchanges about as much mail, and no mailbox provider sees one
    inbox carry the pool. Duplicates in ``pool`` count once; no other inbox → [].
    """
    others = sorted(set(pool) - {sender_id})
    chosen: list[str] = []
    for round_ in range(-(-count // len(others)) if others else 0):
        chosen += sorted(others, key=lambda m: _digest(f"warmup-recipients:{seed}:{round_}:{m}"))
    return chosen[: max(count, 0)]


def should_reply(seed: str, share: float = DEFAULT_REPLY_SHARE) -> bool:
    """Whether the recipient answers a warmup message (seed: its token), for ``share`` of them.

    Seeded, not random, so a retried receive decides the same way.
    """
    return _seeded_fraction(f"warmup-should-reply:{seed}", share)


def should_reply_back(seed: str, share: float = DEFAULT_REPLY_SHARE) -> bool:
    """Whether the original sender answers a reply (seed: the reply's token): ``share / 2``."""
    return _seeded_fraction(f"warmup-should-reply-back:{seed}", share / 2)


@dataclass(frozen=True, slots=True)
class WarmupMark:
    """A recognised warmup message: its body ``code``, and its full ``token`` when the header
    survived (the token identifies the sent message; the code, 20 bits of tag, may not)."""

    code: str
    token: str | None


def make_token(sender_id: str, day: date | str, seq: int, secret: str) -> str:
    """The token of warmup message ``seq`` sent by ``sender_id`` on ``day`` (32 base32 chars).

    Deterministic, so a retried send activity mints the same token (and can use it as its
    idempotency key). HMAC-signed with the installation secret because a recognised token makes
    the receiving side hide the message from conversations: a stranger must not be able to
    get a real reply ignored by forging one. Layout: body code (8) + nonce (8) + MAC (16).
    """
    return _token(secret, f"message:{sender_id}:{day}:{seq}")


def reply_token(parent_token: str, secret: str) -> str:
    """The token of the reply to the message carrying ``parent_token`` (a reply back chains)."""
    return _token(secret, f"reply:{parent_token}")


def body_code(token: str) -> str:
    """The short code put in the body ("K7QF-2M9X"): the token's first 8 characters.

    It checks itself (4-char tag + 4-char MAC of the tag), so it is recognised when a relay
    strips the header, and each message's differs, so no constant string marks warmup mail.
    """
    return f"{token[:4]}-{token[4:8]}"


def verify_token(token: str, secret: str) -> bool:
    """Whether ``token`` was minted with ``secret`` (constant-time MAC comparison)."""
    if len(token) != _TOKEN_LENGTH or not set(token) <= _B32:
        return False
    head = token[:16]
    return _code_is_valid(head[:4], head[4:8], secret) and hmac.compare_digest(
        token[16:], _mac(secret, f"warmup-token:{head}", 16)
    )


def find_mark(
    headers: Mapping[str, str] | Message | Iterable[tuple[str, str]], text: str, secret: str
) -> WarmupMark | None:
    """The warmup mark of an inbound message: a valid ``X-Coldflow-Warmup`` header first, else
    a valid body code in ``text`` (a reply quoting one counts: it is warmup too); else None.

    ``headers`` is a mapping (any name case), an ``email.message.Message`` or ``(name, value)``
    pairs (``ParsedMessage.headers``). Invalid tokens and codes are ignored, never an error.
    """
    for token in _header_values(headers):
        candidate = token.strip().upper()
        if verify_token(candidate, secret):
            return WarmupMark(body_code(candidate), candidate)
    for number, match in enumerate(_CODE_RE.finditer(text)):
        if number >= _MAX_CODE_CANDIDATES:
            break
        if _code_is_valid(match[1], match[2], secret):
            return WarmupMark(match[0], None)
    return None


def spam_rate(sent: int, spam: int) -> float | None:
    """The share of ``sent`` that landed in spam (0.0–1.0), or None when nothing was sent.

    ``spam`` above ``sent`` (counted over slightly different windows) is capped at 1.0.
    """
    if sent < 0 or spam < 0:
        raise ValueError("counts cannot be negative")
    return min(spam, sent) / sent if sent else None


def health_score(sent: int, spam: int) -> int:
    """0–100: the whole-percent share of ``sent`` that did not land in spam (rounded down, so
    100 means none did). Nothing sent is 100: no evidence of a problem, and seed 003's field
    is a plain integer. Pass the guardrail's 3-day counts so the score explains the freeze."""
    rate = spam_rate(sent, spam)
    return 100 if rate is None else (sent - min(spam, sent)) * 100 // sent


def ramp_progress(volume: int, limit: int) -> int:
    """0–100: today's planned ``volume`` against ``daily_warmup_limit``, rounded down (100 only
    once the ramp reaches the limit)."""
    if limit < 1:
        raise ValueError("limit must be at least 1")
    return min(100, max(volume, 0) * 100 // limit)


def _window_spans(schedule: Schedule, local_day: date) -> list[tuple[datetime, datetime]]:
    """The UTC [start, end) runs of ``local_day``'s window, as ``next_send_at`` defines it.

    Usually one run; two when the window opens inside a fall-back fold (the repeated half hour
    before the opening is outside it). ``next_send_at(t) == t`` is the membership test, so
    the DST rules stay in ``schedule`` alone.
    """
    if schedule_math.window_for(schedule, local_day) is None:
        return []
    zone = schedule_math.zone_for(schedule)
    # fold=0 midnight; in a midnight DST gap it lands after the gap, still on local_day.
    midnight = datetime.combine(local_day, time()).replace(tzinfo=zone).astimezone(UTC)
    spans = []
    cursor = schedule_math.next_send_at(schedule, midnight)
    while schedule_math.local_day(schedule, cursor) == local_day:
        inside = cursor
        while _is_inside(schedule, inside + _HALF_HOUR):
            inside += _HALF_HOUR
        # Window edges and DST changes fall on the half-hour grid in every supported zone,
        # so the run nearly always ends exactly at the next half-hour step; else bisect.
        low, high = inside, inside + _HALF_HOUR
        while high - low > _SECOND and not _is_inside(schedule, high - _SECOND):
            middle = low + (high - low) // 2
            low, high = (middle, high) if _is_inside(schedule, middle) else (low, middle)
        spans.append((cursor, high))
        cursor = schedule_math.next_send_at(schedule, high)
    return spans


def _is_inside(schedule: Schedule, instant: datetime) -> bool:
    return schedule_math.next_send_at(schedule, instant) == instant


def _token(secret: str, material: str) -> str:
    nonce = base64.b32encode(_hmac(secret, f"warmup-nonce:{material}")).decode()
    head = nonce[:4] + _mac(secret, f"warmup-code:{nonce[:4]}", 4) + nonce[4:12]
    return head + _mac(secret, f"warmup-token:{head}", 16)


def _code_is_valid(tag: str, mac: str, secret: str) -> bool:
    return hmac.compare_digest(mac, _mac(secret, f"warmup-code:{tag}", 4))


def _mac(secret: str, message: str, length: int) -> str:
    return base64.b32encode(_hmac(secret, message)).decode()[:length]


def _hmac(secret: str, message: str) -> bytes:
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).digest()


def _digest(seed: str) -> bytes:
    return hashlib.sha256(seed.encode()).digest()


def _seeded_fraction(seed: str, share: float) -> bool:
    if not 0 <= share <= 1:
        raise ValueError(f"share {share} is outside 0..1")
    return seeded_index(seed, 10_000) < round(share * 10_000)


def _header_values(headers: Mapping[str, str] | Message | Iterable[tuple[str, str]]) -> list[str]:
    if isinstance(headers, Message):
        return [str(value) for value in headers.get_all(WARMUP_HEADER, [])]
    pairs = headers.items() if isinstance(headers, Mapping) else headers
    return [value for name, value in pairs if name.lower() == WARMUP_HEADER.lower()]


def _percent(share: float) -> str:
    return f"{share * 100:.1f}".removesuffix(".0") + "%"

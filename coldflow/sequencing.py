"""Sequence rules: step delays, A/B variant choice and follow-up conditions.

Pure and deterministic (stdlib only, no clock, no ``random``, no ``hash()``), because the journey
workflow replays these decisions inside the Temporal sandbox and the campaign preview must agree
with the journey: every "random" choice is derived from a caller-given seed with SHA-256.
"""

from __future__ import annotations

import hashlib
import heapq
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from coldflow import schedule as schedule_math
from coldflow.errors import InvalidInput
from coldflow.schedule import Schedule

# Values of coldflow.models.StepCondition (seed 001), repeated here as plain strings because this
# module must not import the ORM.
STEP_CONDITIONS: tuple[str, ...] = ("always", "not_replied", "not_opened", "opened_not_replied")
DEFAULT_CONDITION = "not_replied"


@dataclass(frozen=True, slots=True)
class VariantChoice:
    """What variant choice needs to know of a variant: ``weight`` is its share (seed 001)."""

    id: str
    label: str
    weight: int
    enabled: bool


def delays_from_seed000(delays_after_previous: Sequence[int]) -> list[int | None]:
    """Seed 000's ``delay_days`` (days after the previous step) → coldflow's (days after this step).

    ``[0, 3, 5]`` → ``[3, 5, None]``: step i keeps step i+1's value and the last step gets None.
    Step 1's value has no previous step and is ignored, whatever it is. An empty list stays
    empty. A negative or non-integer delay raises INVALID_DELAY naming
    ``sequences[i].delay_days`` (seed 000's field, 0-based like its JSON array).
    """
    for index, delay in enumerate(delays_after_previous):
        if index > 0:
            _check_delay(delay, f"sequences[{index}].delay_days")
    return [*delays_after_previous[1:], None] if delays_after_previous else []


def delays_to_seed000(delays_after_step: Sequence[int | None]) -> list[int]:
    """The inverse of ``delays_from_seed000``: ``[3, 5, None]`` → ``[0, 3, 5]``.

    The last step's value is ignored (seed 003 reports it as null; a stored leftover from a
    deleted later step must not leak out), step 1 gets 0. A None or negative delay before the
    last step raises INVALID_DELAY naming ``steps[i].delay_days``.
    """
    result = [0] if delays_after_step else []
    for index, delay in enumerate(delays_after_step[:-1]):
        result.append(_check_delay(delay, f"steps[{index}].delay_days"))
    return result


def seeded_index(seed: str, n: int) -> int:
    """A deterministic, uniformly spread index in ``range(n)`` for ``seed``.

    SHA-256 rather than ``hash()`` (salted per process) or ``random`` (not replay-safe): every
    worker, every replay and the preview get the same answer. The 256-bit digest makes modulo
    bias negligible. Callers prefix seeds by purpose ("variant:", "spintax:") so two choices
    made for the same lead and step are independent. ``n`` < 1 is a programming error
    (ValueError).
    """
    if n < 1:
        raise ValueError(f"cannot choose among {n} options")
    digest = hashlib.sha256(seed.encode("utf-8")).digest()
    return int.from_bytes(digest, "big") % n


def choose_variant(variants: Sequence[VariantChoice], *, lead_id: str, step: int) -> VariantChoice:
    """The variant ``lead_id`` gets at ``step``: weighted among enabled ones, same on every replay.

    Weights are percentages by convention but any non-negative integers work (shares of their
    sum); a zero-weight variant is never chosen unless all enabled weights are zero, which means
    an equal split. Variants are ordered by (label, id) first, so the caller's order does not
    matter. Disabled variants are ignored. Errors: NO_ENABLED_VARIANT (none enabled),
    INVALID_WEIGHT (a negative weight). Adding or re-weighting a variant may move leads that
    have not been sent that step yet; a sent step is recorded, so it never changes afterwards.
    """
    for variant in variants:
        if variant.weight < 0:
            raise InvalidInput.field(
                f"variants.{variant.label}.weight",
                "weight must not be negative",
                code="INVALID_WEIGHT",
            )
    enabled = sorted((v for v in variants if v.enabled), key=lambda v: (v.label, v.id))
    if not enabled:
        raise InvalidInput.field(
            "variants", "the step has no enabled variant", code="NO_ENABLED_VARIANT"
        )
    seed = f"variant:{lead_id}:{step}"
    total = sum(v.weight for v in enabled)
    if total == 0:
        return enabled[seeded_index(seed, len(enabled))]
    point = seeded_index(seed, total)
    for variant in enabled:
        if point < variant.weight:
            return variant
        point -= variant.weight
    raise AssertionError("unreachable: point < total")


def should_send_step(condition: str, *, replied: bool, opened: bool) -> bool:
    """Whether a follow-up with ``condition`` goes out, given what the lead did so far.

    ``always``; ``not_replied`` (the default); ``not_opened``; ``opened_not_replied``. A reply
    counts as an open: it proves the email was read even when the tracking pixel was blocked,
    so "did you see my email?" never goes to someone who answered. Whether a reply ends the
    journey at all is ``stop_on_reply``'s business, not this function's. An unknown condition
    raises INVALID_CONDITION.
    """
    if condition == "always":
        return True
    if condition == "not_replied":
        return not replied
    if condition == "not_opened":
        return not (opened or replied)
    if condition == "opened_not_replied":
        return opened and not replied
    raise InvalidInput.field(
        "condition",
        f"{condition!r} is not one of {', '.join(STEP_CONDITIONS)}",
        code="INVALID_CONDITION",
    )


def _check_delay(delay: object, field: str) -> int:
    if not isinstance(delay, int) or isinstance(delay, bool) or delay < 0:
        raise InvalidInput.field(
            field, "delay_days must be a whole number of days, 0 or more", code="INVALID_DELAY"
        )
    return delay


@dataclass(frozen=True, slots=True)
class TimelineDay:
    """Sends planned on one local day of the campaign's time zone."""

    day: date
    first_steps: int
    follow_ups: int


@dataclass(frozen=True, slots=True)
class StepProgress:
    """How far one step gets: sends within the horizon, and the local days it starts and ends."""

    step: int
    sent: int
    first_day: date | None
    last_day: date | None


@dataclass(frozen=True, slots=True)
class Timeline:
    """A simulated campaign run; ``unsent`` counts sends still pending at the horizon."""

    days: tuple[TimelineDay, ...]
    steps: tuple[StepProgress, ...]
    unsent: int


# The cohort key of step-1 leads: they have no inbox yet and take any inbox with room.
_ANY_INBOX = -1


def simulate_timeline(
    schedule: Schedule,
    *,
    start_at: datetime,
    leads: int,
    delays: Sequence[int | None],
    daily_limit: int,
    inbox_limits: Sequence[int],
    horizon_days: int = 365,
) -> Timeline:
    """When ``leads`` leads enrolled at ``start_at`` get each step, day by day.

    ``delays[i]`` is step i+1's ``delay_days`` (one entry per step; None counts as 0, like the
    journey's plan); ``inbox_limits`` are the usable inboxes' ``daily_campaign_limit``. It
    follows the journey and the send path: a step goes out at ``next_send_at`` of its due time;
    a send takes one slot of the campaign's and of an inbox's budget for that ``local_day``;
    step 1 takes the least-used inbox with room, a follow-up the inbox of its step 1; when the
    budget is full the lead waits for ``next_window_opening``; a follow-up is due ``delay`` days
    after the previous send. Assumptions: every follow-up goes out (no replies, bounces or
    unmet conditions), all leads use the campaign's time zone, and leads due at the same
    instant share its slots round-robin, further-along leads first on a tie. Sends after
    ``horizon_days`` local days are not simulated but counted in ``unsent``. Raises
    SCHEDULE_HAS_NO_WINDOW when no day is enabled; ValueError for a naive ``start_at``, a
    negative count or no inbox.
    """
    if leads < 0 or daily_limit < 0 or any(limit < 0 for limit in inbox_limits):
        raise ValueError("lead counts and limits cannot be negative")
    if not inbox_limits:
        raise ValueError("the simulation needs at least one inbox")
    steps = len(delays)
    horizon = schedule_math.local_day(schedule, start_at) + timedelta(days=horizon_days)
    # Cohorts of identical leads, keyed by (due instant) → {(step, inbox): count}: the leads of
    # one day move together, so the cost grows with days × steps × inboxes, not with leads.
    pending: dict[datetime, dict[tuple[int, int], int]] = {}
    instants: list[datetime] = []

    def push(at: datetime, step: int, inbox: int, count: int) -> None:
        if count <= 0:
            return
        if at not in pending:
            pending[at] = {}
            heapq.heappush(instants, at)
        pending[at][(step, inbox)] = pending[at].get((step, inbox), 0) + count

    if steps:
        push(schedule_math.next_send_at(schedule, start_at), 1, _ANY_INBOX, leads)
    campaign_used: dict[date, int] = {}
    inbox_used: dict[date, list[int]] = {}
    per_day: dict[date, list[int]] = {}
    step_sent: dict[int, int] = {}
    step_days: dict[int, tuple[date, date]] = {}
    unsent = 0
    while instants:
        at = heapq.heappop(instants)
        cohorts = pending.pop(at)
        send_at = schedule_math.next_send_at(schedule, at)
        if send_at != at:
            for (step, inbox), count in cohorts.items():
                push(send_at, step, inbox, count)
            continue
        day = schedule_math.local_day(schedule, at)
        if day >= horizon:
            unsent += sum(n * (steps - s + 1) for (s, _), n in cohorts.items())
            continue
        used = inbox_used.setdefault(day, [0] * len(inbox_limits))
        sent = _share_slots(
            cohorts, daily_limit - campaign_used.get(day, 0), used, list(inbox_limits)
        )
        reopen = schedule_math.next_window_opening(schedule, at)
        for (step, inbox), count in cohorts.items():
            push(reopen, step, inbox, count - sum(sent.get((step, inbox), {}).values()))
        for (step, _), by_inbox in sent.items():
            for inbox, done in by_inbox.items():
                campaign_used[day] = campaign_used.get(day, 0) + done
                per_day.setdefault(day, [0, 0])[0 if step == 1 else 1] += done
                step_sent[step] = step_sent.get(step, 0) + done
                step_days[step] = (step_days.get(step, (day, day))[0], day)
                if step < steps:
                    push(at + timedelta(days=delays[step - 1] or 0), step + 1, inbox, done)
    return Timeline(
        days=tuple(TimelineDay(d, first, follow) for d, (first, follow) in sorted(per_day.items())),
        steps=tuple(
            StepProgress(s, step_sent.get(s, 0), *step_days.get(s, (None, None)))
            for s in range(1, steps + 1)
        ),
        unsent=unsent,
    )


def _share_slots(
    cohorts: dict[tuple[int, int], int], campaign_room: int, used: list[int], limits: list[int]
) -> dict[tuple[int, int], dict[int, int]]:
    """Hand out one instant's slots: round-robin over the cohorts, within the campaign's room
    and each inbox's; ``used`` (per inbox, today) is updated. Returns, per cohort, the sends
    per inbox: a pinned cohort uses its own inbox, the step-1 pool the least-used one with room.

    Equal shares go out in bulk while every active cohort can take them (the pool's share is
    bounded as if it all came from one inbox), so the loop runs about once per exhausted
    cohort or inbox rather than once per send.
    """
    inboxes = range(len(limits))
    order = sorted(cohorts, key=lambda key: (-key[0], key[1]))
    left = dict(cohorts)
    given: dict[tuple[int, int], dict[int, int]] = {key: {} for key in order}

    def room(inbox: int) -> int:
        return limits[inbox] - used[inbox]

    def can_take(key: tuple[int, int]) -> bool:
        if key[1] == _ANY_INBOX:
            return left[key] > 0 and any(room(i) > 0 for i in inboxes)
        return left[key] > 0 and room(key[1]) > 0

    def take(key: tuple[int, int], count: int) -> None:
        left[key] -= count
        if key[1] != _ANY_INBOX:
            used[key[1]] += count
            given[key][key[1]] = given[key].get(key[1], 0) + count
            return
        # Least used today first, like the send path's slot taking; ties keep inbox order.
        heap = [(used[i], i) for i in inboxes if room(i) > 0]
        heapq.heapify(heap)
        for _ in range(count):
            _, inbox = heapq.heappop(heap)
            used[inbox] += 1
            given[key][inbox] = given[key].get(inbox, 0) + 1
            if room(inbox) > 0:
                heapq.heappush(heap, (used[inbox], inbox))

    while campaign_room > 0:
        active = [key for key in order if can_take(key)]
        if not active:
            break
        pool = int(any(key[1] == _ANY_INBOX for key in active))
        pinned = [sum(1 for key in active if key[1] == i) for i in inboxes]
        per_inbox = [room(i) // (pinned[i] + pool) for i in inboxes if room(i) and pinned[i] + pool]
        share = min(
            campaign_room // len(active), min(left[key] for key in active), min(per_inbox or [0])
        )
        for key in active:
            count = share or int(campaign_room > 0 and can_take(key))
            if count:
                take(key, count)
                campaign_room -= count
    return {key: by_inbox for key, by_inbox in given.items() if by_inbox}

"""Inbox warmup, the database side: the pool, each day's plan, sends, receipts, stats.

The math (ramp, send times, recipients, tokens, content) is ``coldflow.warmup``; this module
reads and writes what it needs. Warmup mail lives only in ``warmup_messages``: it never becomes
a conversation, an event, an emails-log entry or a campaign number.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, timedelta

from sqlmodel.ext.asyncio.session import AsyncSession

from coldflow import mime
from coldflow import schedule as schedule_math
from coldflow import warmup as warmup_math
from coldflow.contracts.warmup import (
    STOP_SIGNAL,
    WARMUP_WORKFLOW,
    PlannedWarmupSend,
    PlanWarmupInput,
    SendWarmupInput,
    WarmupDayPlan,
    WarmupInput,
    warmup_workflow_id,
)
from coldflow.errors import Unavailable
from coldflow.models import Inbox, Provider, WarmupMessage
from coldflow.services.journeys import Journeys
from coldflow.store import events as event_store
from coldflow.store import warmup as store
from coldflow.store.db import after_commit
from coldflow.warmup_content import compose, compose_reply, reply_subject

log = logging.getLogger(__name__)

MESSAGE_ID_SALT = "warmup"
PAUSED_EVENT = "inbox.warmup_paused"
# The three depths: a first message, its reply, the reply back; nothing answers deeper.
MAX_DEPTH = 2


def working_hours(inbox: Inbox) -> schedule_math.Schedule:
    """Warmup is sent Monday–Friday 09:00–17:00 in the inbox's warmup time zone."""
    zone = inbox.warmup_timezone
    return schedule_math.default_schedule(
        zone if zone in schedule_math.SUPPORTED_TIMEZONES else "UTC"
    )


def ramp_settings(inbox: Inbox, spam_threshold: float) -> warmup_math.RampSettings:
    return warmup_math.RampSettings(
        start=inbox.warmup_start,
        step=inbox.warmup_step,
        limit=inbox.daily_warmup_limit,
        spam_threshold=spam_threshold,
    )


def ramp_state(inbox: Inbox) -> warmup_math.RampState:
    return (
        warmup_math.RampState(**inbox.warmup_state)
        if inbox.warmup_state
        else warmup_math.RampState()
    )


def _next_midnight(schedule: schedule_math.Schedule, day: date) -> datetime:
    zone = schedule_math.zone_for(schedule)
    return datetime.combine(day + timedelta(days=1), datetime.min.time(), zone).astimezone(UTC)


async def plan_day(
    session: AsyncSession, inp: PlanWarmupInput, *, shared_pool: bool, spam_threshold: float
) -> WarmupDayPlan:
    """Today's warmup for the inbox; the ramp's new state is stored with the inbox."""
    inbox = await session.get(Inbox, inp.inbox_id)
    if inbox is None or inbox.workspace_id != inp.workspace_id or not inbox.is_warming:
        return WarmupDayPlan(stop=True, reason="warmup is off or the inbox was deleted")
    schedule = working_hours(inbox)
    today = schedule_math.local_day(schedule, inp.now)
    next_day_at = _next_midnight(schedule, today)
    pool = await store.pool_ids(session, inbox, shared=shared_pool)
    reason = warmup_math.pool_reason(inbox.id, pool) or _unusable(inbox)
    if reason is not None:
        inbox.warmup_reason = reason
        session.add(inbox)
        return WarmupDayPlan(
            stop=False, local_day=today.isoformat(), reason=reason, next_day_at=next_day_at
        )
    if schedule_math.window_for(schedule, today) is None:
        # A day without working hours neither sends nor moves the ramp on.
        inbox.warmup_reason = f"no warmup on {today:%A}s (Monday–Friday 09:00–17:00)"
        session.add(inbox)
        return WarmupDayPlan(
            stop=False,
            local_day=today.isoformat(),
            reason=inbox.warmup_reason,
            next_day_at=next_day_at,
        )
    sent, spam = await store.sent_and_spam(session, inbox.id, last_days(today))
    previous = ramp_state(inbox)
    state = warmup_math.next_volume(
        ramp_settings(inbox, spam_threshold),
        previous,
        today=today,
        spam_rate_3d=warmup_math.spam_rate(sent, spam),
    )
    if state.frozen_reason and not previous.frozen_reason:
        # The one webhook warmup raises: its owner should look at the inbox's deliverability.
        await event_store.record_event(
            session,
            workspace_id=inbox.workspace_id,
            type=PAUSED_EVENT,
            inbox_id=inbox.id,
            data={"email": inbox.email, "reason": state.frozen_reason, "volume": state.volume},
        )
    seed = f"{inbox.id}:{today.isoformat()}"
    times = warmup_math.plan_send_times(schedule, today, state.volume, seed)
    recipients = warmup_math.pick_recipients(inbox.id, pool, len(times), seed)
    sends = [
        PlannedWarmupSend(at=at, recipient_inbox_id=recipient, seq=seq)
        for seq, (at, recipient) in enumerate(zip(times, recipients, strict=True))
        if at >= inp.now  # switched on mid-day: the morning's sends are gone
    ]
    inbox.warmup_state = asdict(state)
    inbox.warmup_reason = state.frozen_reason or (None if sends else "no working hours left today")
    session.add(inbox)
    return WarmupDayPlan(
        stop=False,
        local_day=today.isoformat(),
        volume=state.volume,
        reason=inbox.warmup_reason,
        sends=sends,
        next_day_at=next_day_at,
    )


def _unusable(inbox: Inbox) -> str | None:
    if not store.is_usable(inbox):
        return "the inbox needs working SMTP and IMAP (connected and active) to warm up"
    return None


def last_days(today: date, count: int = warmup_math.SPAM_WINDOW_DAYS) -> list[str]:
    return [(today - timedelta(days=n)).isoformat() for n in range(count)]


@dataclass(frozen=True)
class PreparedWarmup:
    """A stored warmup message ready for SMTP (no secrets)."""

    row_id: str
    inbox_id: str
    provider: Provider
    sender: str
    recipient: str
    message: bytes


def _text(row: WarmupMessage, sender: Inbox, recipient: Inbox) -> str:
    """The body, composed again from the token (deterministic), so a retry sends the same."""
    names = {"sender_name": sender.first_name, "recipient_name": recipient.first_name}
    code = warmup_math.body_code(row.token)
    if row.depth == 0:
        return compose(row.token, code=code, **names)[1]
    return compose_reply(row.token, code=code, **names)


async def _prepared(session: AsyncSession, row: WarmupMessage) -> PreparedWarmup | None:
    sender = await session.get(Inbox, row.sender_inbox_id)
    recipient = await session.get(Inbox, row.recipient_inbox_id)
    if sender is None or recipient is None:
        return None
    parent = await session.get(WarmupMessage, row.parent_id) if row.parent_id else None
    message = mime.build_message(
        mime.OutgoingEmail(
            from_name=sender.from_name,
            from_email=sender.email,
            to_email=recipient.email,
            to_name=recipient.from_name,
            subject=row.subject,
            text=_text(row, sender, recipient),
            html=None,
            message_id=row.message_id,
            in_reply_to=parent.message_id if parent is not None else None,
            references=(parent.message_id,) if parent is not None else (),
            extra_headers=((warmup_math.WARMUP_HEADER, row.token),),
        ),
        date=row.sent_at,
    )
    return PreparedWarmup(
        row.id, sender.id, sender.provider, sender.email, recipient.email, message
    )


async def prepare_send(
    session: AsyncSession, inp: SendWarmupInput, secret: str, now: datetime
) -> PreparedWarmup | str:
    """Store one planned first message before SMTP, or say why it is skipped.

    Stored first so the recipient's watcher knows it whenever it arrives (a message it cannot
    find is ordinary mail and would reach the unibox). A retry finds the row: delivered means
    done, otherwise the same bytes go again (same Message-ID and token).
    """
    token = warmup_math.make_token(inp.inbox_id, inp.local_day, inp.seq, secret)
    row = await store.find_by_token(session, token)
    if row is not None and row.delivered:
        return "already sent"
    sender = await session.get(Inbox, inp.inbox_id)
    recipient = await session.get(Inbox, inp.recipient_inbox_id)
    if sender is None or recipient is None or not sender.is_warming:
        return "an inbox was deleted or stopped warming"
    if not (store.is_usable(sender) and store.is_usable(recipient)):
        return "an inbox is not connected"
    if row is None:
        subject = compose(
            token,
            sender_name=sender.first_name,
            recipient_name=recipient.first_name,
            code=warmup_math.body_code(token),
        )[0]
        row = _row(sender, recipient, token, subject, inp.local_day, now)
        session.add(row)
        await session.flush()
    prepared = await _prepared(session, row)
    return prepared if prepared is not None else "an inbox was deleted"


def _row(
    sender: Inbox,
    recipient: Inbox,
    token: str,
    subject: str,
    day: str,
    sent_at: datetime,
    parent: WarmupMessage | None = None,
) -> WarmupMessage:
    return WarmupMessage(
        workspace_id=sender.workspace_id,
        sender_inbox_id=sender.id,
        recipient_inbox_id=recipient.id,
        token=token,
        message_id=mime.make_message_id(
            lead_id=token, step=0, domain=sender.domain, salt=MESSAGE_ID_SALT
        ),
        parent_id=parent.id if parent is not None else None,
        depth=parent.depth + 1 if parent is not None else 0,
        subject=subject,
        sender_day=day,
        sent_at=sent_at,
    )


async def record_sent(session: AsyncSession, row_id: str) -> None:
    """SMTP took the message."""
    await store.set_delivered(session, row_id)


async def record_refused(session: AsyncSession, row_id: str) -> None:
    """SMTP refused the message for good: it never existed for the stats."""
    await store.delete_message(session, row_id)


async def prepare_replies(
    session: AsyncSession, inbox_id: str, secret: str, now: datetime
) -> list[PreparedWarmup]:
    """The replies this inbox owes (received warmup mail chosen to be answered), stored before
    SMTP like first messages, plus any earlier reply still undelivered (a retry)."""
    inbox = await session.get(Inbox, inbox_id)
    if inbox is None or not store.is_usable(inbox):
        return []
    day = schedule_math.local_day(working_hours(inbox), now).isoformat()
    for parent in await store.replies_due(session, inbox_id):
        original = await session.get(Inbox, parent.sender_inbox_id)
        if original is None or not store.is_usable(original):
            continue
        token = warmup_math.reply_token(parent.token, secret)
        if await store.find_by_token(session, token) is None:
            subject = reply_subject(parent.subject)
            session.add(_row(inbox, original, token, subject, day, now, parent))
        await store.mark_replied(session, parent.id)
    await session.flush()
    prepared = [
        await _prepared(session, row) for row in await store.undelivered_replies(session, inbox_id)
    ]
    return [p for p in prepared if p is not None]


async def record_received(
    session: AsyncSession,
    *,
    recipient: Inbox,
    mark: warmup_math.WarmupMark,
    in_spam: bool,
    now: datetime,
) -> WarmupMessage | None:
    """A warmup message arrived in ``recipient``'s INBOX or spam folder; None when it is not
    one this installation sent to that inbox (then it is ordinary mail).

    The first sighting decides: ``received_at``, ``in_spam`` (the sender's spam count), and
    ``rescued_at`` when it is taken out of spam; whether it gets a reply is a seeded choice at
    the recipient's ``warmup_reply_rate`` (a reply back at half of it). Seeing it again (after
    the rescue moves it to INBOX) changes nothing.
    """
    row = await store.find_received(session, recipient.id, mark.token, mark.code)
    if row is None:
        return None
    if row.received_at is None:
        share = recipient.warmup_reply_rate / 100
        row.received_at = now
        row.in_spam = in_spam
        row.rescued_at = now if in_spam else None
        if row.depth == 0:
            row.reply_due = warmup_math.should_reply(row.token, share)
        elif row.depth < MAX_DEPTH:
            row.reply_due = warmup_math.should_reply_back(row.token, share)
        session.add(row)
        await session.flush()
    return row


# --- the workflow's lifecycle ------------------------------------------------------------------


def warm_after_commit(
    session: AsyncSession, inbox: Inbox, journeys: Journeys | None, *, warm: bool | None = None
) -> None:
    """Once committed, start the inbox's warmup workflow (``is_warming`` and active) or stop it.

    A stopped workflow keeps nothing: the ramp's state lives with the inbox, so starting again
    resumes where it stood.
    """
    if journeys is None:
        return
    should_warm = (inbox.is_warming and inbox.is_active) if warm is None else warm
    workspace_id, inbox_id = inbox.workspace_id, inbox.id

    async def apply() -> None:
        try:
            if should_warm:
                await journeys.start_task(
                    WARMUP_WORKFLOW,
                    WarmupInput(workspace_id=workspace_id, inbox_id=inbox_id),
                    workflow_id=warmup_workflow_id(inbox_id),
                    replace_running=False,
                )
            else:
                await journeys.signal_workflow(warmup_workflow_id(inbox_id), STOP_SIGNAL)
        except Unavailable as exc:
            # The row is committed; a worker's start-up reconciliation settles the workflow.
            log.warning(
                "inbox %s: warmup not %s: %s",
                inbox_id,
                "started" if should_warm else "stopped",
                exc,
            )

    after_commit(session, apply)


async def ensure_warmers(session: AsyncSession, journeys: Journeys) -> int:
    """Start the warmup workflow of every warming inbox (no-op for those running)."""
    started = 0
    for inbox in await store.warming_inboxes(session):
        if inbox.is_active:
            await journeys.start_task(
                WARMUP_WORKFLOW,
                WarmupInput(workspace_id=inbox.workspace_id, inbox_id=inbox.id),
                workflow_id=warmup_workflow_id(inbox.id),
                replace_running=False,
            )
            started += 1
    return started

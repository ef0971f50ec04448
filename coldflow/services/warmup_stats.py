"""Seed 003's warmup stats of an inbox (``GET /inboxes/{id}/warmup/stats``)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel.ext.asyncio.session import AsyncSession

from coldflow import schedule as schedule_math
from coldflow import warmup as warmup_math
from coldflow.models import Inbox
from coldflow.schemas.warmup import WarmupDay, WarmupRamp, WarmupStats
from coldflow.services.warmup import last_days, ramp_state, working_hours
from coldflow.store import warmup as store

STATS_DAYS = 7


async def warmup_stats(session: AsyncSession, inbox: Inbox, now: datetime) -> WarmupStats:
    """Seed 003's numbers over the last 7 local days; health from the last 3 (the guardrail's
    window), so a held ramp and a low score tell the same story."""
    today = schedule_math.local_day(working_hours(inbox), now)
    days = [(today - timedelta(days=n)).isoformat() for n in range(STATS_DAYS)][::-1]
    per_day = await store.daily_sent_and_spam(session, inbox.id, days)
    sent_3d, spam_3d = await store.sent_and_spam(session, inbox.id, last_days(today))
    received, rescued = await store.received_since(
        session, inbox.id, now - timedelta(days=STATS_DAYS)
    )
    state = ramp_state(inbox)
    volume = state.volume if state.planned_on == today.isoformat() else 0
    status = inbox.warmup_reason if inbox.is_warming else "warmup is off (is_warming is false)"
    return WarmupStats(
        sent=sum(n for n, _ in per_day.values()),
        received=received,
        saved_from_spam=rescued,
        health_score=warmup_math.health_score(sent_3d, spam_3d),
        ramp_up_progress=warmup_math.ramp_progress(state.volume, inbox.daily_warmup_limit),
        daily=[
            WarmupDay(
                date=day, sent=per_day.get(day, (0, 0))[0], spam_count=per_day.get(day, (0, 0))[1]
            )
            for day in days
        ],
        is_warming=inbox.is_warming,
        ramp=WarmupRamp(
            day=state.days_planned,
            volume=volume,
            limit=inbox.daily_warmup_limit,
            start=inbox.warmup_start,
            step=inbox.warmup_step,
        ),
        status=status,
    )

"""Campaign analytics (seed 003): the 30-day daily series and per-variant performance.

Sends come from ``sent_messages``, counted by the database (per variant, per UTC quarter hour),
so a 100,000-lead campaign never loads its sends; replies from the event log's ``email.replied``
events, which carry the variant replied to and whether the reply was positive. Days are the
campaign's local days, so "today" in the series is today in the campaign's timezone.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Integer, func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from coldflow import schedule as schedule_math
from coldflow.models import Campaign, Event, SentMessage
from coldflow.schemas.campaigns import DailyStats

REPLIED = "email.replied"


def rate(part: int, whole: int) -> float:
    """A percentage with two decimals, as seed 003 reports rates."""
    return round(100 * part / whole, 2) if whole else 0.0


def _zone(campaign: Campaign) -> ZoneInfo:
    return ZoneInfo(schedule_math.Schedule.from_dict(campaign.schedule).timezone)


async def daily_series(
    session: AsyncSession, campaign: Campaign, now: datetime, days: int = 30
) -> list[DailyStats]:
    """Sends and replies per local day, today and the ``days - 1`` days before it, oldest first."""
    zone = _zone(campaign)
    today = now.astimezone(zone).date()
    first = today - timedelta(days=days - 1)
    since = datetime.combine(first, datetime.min.time(), zone) - timedelta(days=1)
    buckets = await send_counts_by_quarter_hour(session, campaign.id, since)
    reply_rows = (
        await session.exec(
            select(Event.occurred_at, Event.lead_id).where(
                Event.campaign_id == campaign.id,
                Event.type == REPLIED,
                col(Event.occurred_at) >= since,
            )
        )
    ).all()
    sent: Counter[date] = Counter()
    for start, count in buckets:
        sent[start.astimezone(zone).date()] += count
    # A lead replying twice on one day counts once that day, as in the headline numbers.
    replies = Counter(
        day for day, _ in {(t.astimezone(zone).date(), lead) for t, lead in reply_rows}
    )
    series: list[DailyStats] = []
    for offset in range(days):
        day: date = first + timedelta(days=offset)
        series.append(DailyStats(date=day.isoformat(), sent=sent[day], replies=replies[day]))
    return series


QUARTER_HOUR = 900  # seconds: every UTC offset in use is a multiple of 15 minutes


async def send_counts_by_quarter_hour(
    session: AsyncSession, campaign_id: str, since: datetime
) -> list[tuple[datetime, int]]:
    """Sends per UTC quarter hour since ``since``: at most 96 rows a day whatever the volume,
    grouped by the database, and fine enough to put each in its local day in any time zone."""
    column = col(SentMessage.sent_at)
    bucket: ColumnElement[Any]
    if session.get_bind().dialect.name == "postgresql":
        # UTCDateTime is stored without a zone, as UTC: its epoch is the UTC epoch.
        bucket = func.floor(func.extract("epoch", column) / QUARTER_HOUR)
    else:
        bucket = func.cast(func.strftime("%s", column), Integer) / QUARTER_HOUR
    stmt = (
        select(bucket, func.count())
        .where(SentMessage.campaign_id == campaign_id, column >= since)
        .group_by(bucket)
    )
    return [
        (datetime.fromtimestamp(int(b) * QUARTER_HOUR, UTC), int(n))
        for b, n in (await session.exec(stmt)).all()
    ]


async def variant_numbers(
    session: AsyncSession, campaign_id: str
) -> dict[str, tuple[int, int, int]]:
    """(sent, replies, positive replies) per variant id; sends counted by the database (one
    row per variant), replies — far fewer — read to count each lead once."""
    sent_rows = (
        await session.exec(
            select(SentMessage.variant_id, func.count())
            .where(SentMessage.campaign_id == campaign_id, col(SentMessage.sent_at).is_not(None))
            .group_by(col(SentMessage.variant_id))
        )
    ).all()
    reply_rows = (
        await session.exec(
            select(Event.variant_id, Event.lead_id, Event.data).where(
                Event.campaign_id == campaign_id, Event.type == REPLIED
            )
        )
    ).all()
    sent = Counter({v: int(n) for v, n in sent_rows if v})
    # Distinct leads per variant: a lead answering twice is one reply (its rate stays ≤ 100%).
    replied = {(v, lead) for v, lead, _ in reply_rows if v}
    positives = {(v, lead) for v, lead, data in reply_rows if v and data.get("is_positive")}
    replies = Counter(v for v, _ in replied)
    positive = Counter(v for v, _ in positives)
    return {v: (sent[v], replies[v], positive[v]) for v in {*sent, *replies}}


async def positive_reply_leads(session: AsyncSession, campaign_ids: list[str]) -> dict[str, int]:
    """Distinct leads with a positive reply, per campaign."""
    if not campaign_ids:
        return {}
    rows = (
        await session.exec(
            select(Event.campaign_id, Event.lead_id, Event.data).where(
                col(Event.campaign_id).in_(campaign_ids), Event.type == REPLIED
            )
        )
    ).all()
    leads: dict[str, set[str]] = {}
    for campaign_id, lead_id, data in rows:
        if campaign_id and lead_id and data.get("is_positive"):
            leads.setdefault(campaign_id, set()).add(lead_id)
    return {cid: len(ids) for cid, ids in leads.items()}

"""A lead's journey as a person wants to read it: what happened, and what is planned when.

The planned send times come from ``coldflow.schedule`` (the functions the workflow waits on),
starting from the workflow's own next send time, so the API never guesses differently from the
journey. They assume nobody replies and no limit is full.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from coldflow import schedule as schedule_math
from coldflow.models import Campaign, Event, JourneyState, Lead, SentMessage
from coldflow.models.base import utcnow
from coldflow.schemas.journeys import JourneyEventRead, JourneyRead, PlannedSend, SentRead
from coldflow.services.journeys import Journeys
from coldflow.store import campaigns as campaign_store

LIVE = (JourneyState.not_started, JourneyState.waiting, JourneyState.sending, JourneyState.paused)


async def _planned(
    session: AsyncSession, campaign: Campaign, lead: Lead, now: datetime
) -> list[PlannedSend]:
    if lead.journey_state not in LIVE:
        return []
    steps = await campaign_store.list_steps(session, campaign.id)
    first = max(lead.current_step, 1)
    sched = schedule_math.Schedule.from_dict(campaign.schedule)
    planned: list[PlannedSend] = []
    at = lead.next_send_at
    for index, step in enumerate(steps):
        if step.position < first:
            continue
        if at is None:
            at = schedule_math.next_send_at(sched, now, lead.timezone)
        planned.append(PlannedSend(step=step.position, send_at=at, condition=step.condition))
        if index + 1 < len(steps):
            due = at + timedelta(days=step.delay_days or 0)
            at = schedule_math.next_send_at(sched, due, lead.timezone)
    return planned


async def journey_view(
    *, session: AsyncSession, journeys: Journeys, lead: Lead, now: datetime | None = None
) -> JourneyRead:
    campaign = await campaign_store.get_campaign(session, lead.workspace_id, lead.campaign_id)
    assert campaign is not None  # the lead row's campaign cascades on delete
    events = (
        await session.exec(
            select(Event).where(Event.lead_id == lead.id).order_by(col(Event.occurred_at))
        )
    ).all()
    sent = (
        await session.exec(
            select(SentMessage)
            .where(SentMessage.lead_id == lead.id)
            .order_by(col(SentMessage.step))
        )
    ).all()
    return JourneyRead(
        lead_id=lead.id,
        campaign_id=campaign.id,
        workflow_id=journeys.workflow_id(campaign.id, lead.id),
        temporal_ui_url=journeys.ui_url(campaign.id, lead.id),
        state=lead.journey_state,
        current_step=lead.current_step,
        hold_reason=lead.hold_reason,
        events=[JourneyEventRead.model_validate(e, from_attributes=True) for e in events],
        sent=[SentRead.model_validate(m, from_attributes=True) for m in sent],
        planned=await _planned(session, campaign, lead, now or utcnow()),
    )

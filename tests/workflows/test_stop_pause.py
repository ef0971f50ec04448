"""What ends or holds a journey between steps: replies, pauses, the blocklist, deletion."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from typing import Any

from temporalio.client import WorkflowHandle

from coldflow.contracts.journey import (
    JourneyQuery,
    JourneySignal,
    JourneyStatus,
    ReplyReceived,
)
from coldflow.models import BlockKind, BlocklistEntry, Campaign, CampaignStatus, Lead
from coldflow.store.db import unit_of_work
from tests.workflows.history import send_times
from tests.workflows.world import WEEKDAYS, StepSpec, World, schedule

ALWAYS_OPEN = schedule("UTC", days=WEEKDAYS, start="00:00", end="23:30")
TWO_STEPS = [StepSpec("Hello {{company}}", "Hi", delay_days=1), StepSpec("", "Following up")]


async def after_step_one(world: World) -> tuple[Campaign, Lead, WorkflowHandle[Any, Any]]:
    """A two-step journey that has sent step 1 and waits out its one-day delay."""
    inbox = await world.inbox()
    campaign = await world.campaign(TWO_STEPS, inboxes=[inbox], sched=ALWAYS_OPEN)
    lead = await world.lead(campaign)
    handle = await world.enroll(campaign, lead)
    await world.smtp.wait_for(1)
    await world.wait_lead(lead.id, "waiting", step=2)
    return campaign, lead, handle


async def set_campaign_status(world: World, campaign: Campaign, status: CampaignStatus) -> None:
    async with unit_of_work(world.sessions) as session:
        row = await session.get(Campaign, campaign.id)
        assert row is not None
        row.status = status
        session.add(row)


async def test_reply_between_steps_stops_journey_and_completes_campaign(world: World) -> None:
    campaign, lead, handle = await after_step_one(world)
    out_of_office = ReplyReceived("<ooo@lead.example.com>", lead.email, label="out_of_office")
    await world.journeys.signal(campaign.id, lead.id, JourneySignal.REPLY_RECEIVED, out_of_office)
    status = await handle.query(JourneyQuery.STATUS, result_type=JourneyStatus)
    assert status.stopped_reason is None  # an auto-reply is not a reply

    reply = ReplyReceived("<reply@lead.example.com>", lead.email, label="interested")
    await world.journeys.signal(campaign.id, lead.id, JourneySignal.REPLY_RECEIVED, reply)

    assert await world.result(handle) == "stopped: replied"
    assert len(world.smtp.messages) == 1
    row = await world.wait_lead(lead.id, "stopped")
    assert row.hold_reason == "replied"
    # Its only lead is done, so the campaign is complete.
    assert (await world.get(Campaign, campaign.id)).status == CampaignStatus.completed
    events = Counter(e.type for e in await world.events(campaign.id))
    assert events == {"email.sent": 1, "lead.stopped": 1, "campaign.completed": 1}


async def test_stop_signal_ends_journey_with_its_reason(world: World) -> None:
    campaign, lead, handle = await after_step_one(world)
    await world.journeys.stop(campaign.id, lead.id, "crm: deal won")
    assert await world.result(handle) == "stopped: crm: deal won"
    assert len(world.smtp.messages) == 1


async def test_pause_mid_timer_then_resume_days_later(world: World) -> None:
    campaign, lead, handle = await after_step_one(world)
    await world.journeys.signal(campaign.id, lead.id, JourneySignal.PAUSE)
    paused = await world.wait_lead(lead.id, "paused")
    assert paused.hold_reason == "lead paused"

    await world.sleep_until(await world.now() + timedelta(days=5))  # step 2 was due on day 1
    assert len(world.smtp.messages) == 1
    assert (await world.get(Lead, lead.id)).journey_state == "paused"

    resumed_at = await world.now()
    await world.journeys.signal(campaign.id, lead.id, JourneySignal.RESUME)
    assert await world.result(handle) == "completed"
    assert len(await world.smtp.wait_for(2)) == 2
    _first, second = await send_times(handle)
    assert second >= resumed_at


async def test_blocklist_entry_added_mid_journey_prevents_next_send(world: World) -> None:
    campaign, lead, handle = await after_step_one(world)
    async with unit_of_work(world.sessions) as session:
        session.add(
            BlocklistEntry(
                workspace_id=world.workspace_id, value="lead.example.com", kind=BlockKind.domain
            )
        )
    assert await world.result(handle) == "stopped: blocklisted"
    assert len(world.smtp.messages) == 1
    assert len(await world.sent(campaign.id)) == 1


async def test_deleted_lead_ends_journey(world: World) -> None:
    _campaign, lead, handle = await after_step_one(world)
    async with unit_of_work(world.sessions) as session:
        row = await session.get(Lead, lead.id)
        await session.delete(row)
    assert await world.result(handle) == "stopped: lead_deleted"
    assert len(world.smtp.messages) == 1


async def test_paused_campaign_holds_journey_until_refresh_after_resume(world: World) -> None:
    campaign, lead, handle = await after_step_one(world)
    await set_campaign_status(world, campaign, CampaignStatus.paused)
    await world.sleep_until(await world.now() + timedelta(days=3))
    held = await world.wait_lead(lead.id, "paused")
    assert held.hold_reason == "campaign paused"
    assert len(world.smtp.messages) == 1

    await set_campaign_status(world, campaign, CampaignStatus.active)
    await world.journeys.signal(campaign.id, lead.id, JourneySignal.REFRESH)
    # No time skipping here: the refresh alone, not the hourly re-check, lets step 2 go.
    await world.smtp.wait_for(2, timeout=10)
    assert await world.result(handle) == "completed"

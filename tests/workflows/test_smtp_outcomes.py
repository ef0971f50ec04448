"""What the real SMTP server answers decides the journey: retry, bounce, or hold the inbox.

Also the one failure that never reaches SMTP: a template variable the lead has no value for.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from typing import Any

from temporalio.client import WorkflowExecutionStatus, WorkflowHandle

from coldflow.contracts.journey import JourneyActivity, JourneySignal
from coldflow.models import Campaign, ConnectionStatus, Inbox, Lead
from coldflow.store.db import unit_of_work
from tests.fixtures.temporal import raw_describe
from tests.workflows.history import activity_events
from tests.workflows.world import WEEKDAYS, StepSpec, World, schedule

ALWAYS_OPEN = schedule("UTC", days=WEEKDAYS, start="00:00", end="23:30")
TWO_STEPS = [StepSpec("Hello {{company}}", "Hi", delay_days=1), StepSpec("", "Following up")]
LEAD = "sarah@lead.example.com"


async def start(
    world: World, steps: list[StepSpec] = TWO_STEPS, *, password: str = "secret-password"
) -> tuple[Campaign, Inbox, Lead, WorkflowHandle[Any, Any]]:
    inbox = await world.inbox(password=password)
    campaign = await world.campaign(steps, inboxes=[inbox], sched=ALWAYS_OPEN)
    lead = await world.lead(campaign, LEAD)
    return campaign, inbox, lead, await world.enroll(campaign, lead)


async def wait_for_send_attempt(handle: WorkflowHandle[Any, Any], attempt: int) -> None:
    """Wait (real time) until the pending send_email activity is on ``attempt``."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        description = await raw_describe(handle)
        for pending in description.pending_activities:
            if pending.activity_type.name == JourneyActivity.SEND_EMAIL and (
                pending.attempt >= attempt
            ):
                return
        await asyncio.sleep(0.05)
    raise AssertionError(f"send_email never reached attempt {attempt}")


async def test_greylisting_451_then_success_sends_exactly_one_email(world: World) -> None:
    world.smtp.reject_rcpt[LEAD] = "451 4.7.1 Greylisted, try again later"
    campaign, _inbox, _lead, handle = await start(world, TWO_STEPS[:1])
    await wait_for_send_attempt(handle, 2)  # the first attempt was deferred
    assert world.smtp.messages == []
    world.smtp.reject_rcpt.clear()

    assert await world.result(handle) == "completed"
    [received] = await world.smtp.wait_for(1)
    [(_at, attempts)] = await activity_events(handle, JourneyActivity.SEND_EMAIL)
    assert attempts >= 2
    [sent] = await world.sent(campaign.id)
    assert (sent.status, sent.message_id) == ("sent", received.message["Message-ID"])


async def test_hard_bounce_550_marks_lead_bounced_and_ends_journey(world: World) -> None:
    world.smtp.reject_rcpt[LEAD] = "550 5.1.1 User unknown"
    campaign, _inbox, lead, handle = await start(world)

    assert await world.result(handle) == "stopped: bounced"
    [(_at, attempts)] = await activity_events(handle, JourneyActivity.SEND_EMAIL)
    assert attempts == 1  # a 5xx is never retried
    assert world.smtp.messages == []
    row: Lead = await world.wait_lead(lead.id, "stopped")
    assert row.is_bounced
    assert row.hold_reason == "bounced"
    [sent] = await world.sent(campaign.id)
    assert sent.status == "bounced"
    assert "550" in (sent.error or "")
    events = Counter(e.type for e in await world.events(campaign.id))
    assert events["email.bounced"] == 1
    assert events["lead.stopped"] == 1


async def test_auth_failure_marks_inbox_error_and_holds_journey(world: World) -> None:
    world.smtp.auth = ("alex@sender.example.com", "the-right-password")
    campaign, inbox, lead, handle = await start(world, password="a-wrong-password")

    held = await world.wait_lead(lead.id, "held")
    assert held.hold_reason is not None
    assert "535" in held.hold_reason
    row: Inbox = await world.get(Inbox, inbox.id)
    assert row.connection_status == ConnectionStatus.error
    [(_at, attempts)] = await activity_events(handle, JourneyActivity.SEND_EMAIL)
    assert attempts == 1  # the wrong password is not tried again and again
    assert world.smtp.messages == []
    assert await world.sent(campaign.id) == []  # the reservation was given back
    status = (await raw_describe(handle)).workflow_execution_info.status
    assert status == WorkflowExecutionStatus.RUNNING.value


async def test_missing_variable_holds_lead_until_fixed(world: World) -> None:
    steps = [StepSpec("Hello {{company}}", "Hi {{first_name}}, about {{pain_point}}")]
    campaign, _inbox, lead, handle = await start(world, steps)

    held = await world.wait_lead(lead.id, "held")
    assert held.hold_reason == "Missing value for pain_point and no fallback"
    assert world.smtp.messages == []
    assert await world.sent(campaign.id) == []
    assert [e.type for e in await world.events(campaign.id)] == ["lead.held"]

    async with unit_of_work(world.sessions) as session:
        row = await session.get(Lead, lead.id)
        assert row is not None
        row.variables = {"pain_point": "slow pipelines"}
        session.add(row)
    await world.journeys.signal(campaign.id, lead.id, JourneySignal.REFRESH)
    [received] = await world.smtp.wait_for(1, timeout=10)
    assert "about slow pipelines" in received.message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert await world.result(handle) == "completed"

"""The send activity against the real SMTP server, without Temporal: crashes and refusals.

A worker can die at any point of ``send_email``; Temporal then runs the activity again. These
tests act out the two crash points by running the activity's first half (the reservation,
committed on its own) by hand, then the whole activity as its retry.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlmodel import select
from temporalio.testing import ActivityEnvironment

from coldflow import mailer
from coldflow.contracts.journey import SendOutcome, SendStepInput, SendStepResult
from coldflow.mime import make_message_id
from coldflow.models import Campaign, Event, Inbox, Lead, SendCounter, SendStatus
from coldflow.services import inboxes as inbox_service
from coldflow.services import sending
from coldflow.store.db import unit_of_work
from tests.fixtures.smtp import SmtpServer
from tests.workflows.world import WEEKDAYS, StepSpec, World, open_world, schedule

DAY = "2027-01-04"


@pytest.fixture
async def world(database_url: str, smtp_server: SmtpServer, tmp_path: Path) -> AsyncIterator[World]:
    async with open_world(None, database_url, smtp_server, tmp_path / "data") as world:
        yield world


async def one_lead(world: World, **inbox: object) -> tuple[Campaign, Inbox, Lead, SendStepInput]:
    sender = await world.inbox(**inbox)  # type: ignore[arg-type]
    campaign = await world.campaign(
        [StepSpec("Hello {{company}}", "Hi {{first_name}}")],
        inboxes=[sender],
        sched=schedule("UTC", days=WEEKDAYS),
    )
    lead = await world.lead(campaign)
    inp = SendStepInput(
        workspace_id=world.workspace_id,
        campaign_id=campaign.id,
        lead_id=lead.id,
        step=1,
        message_id=make_message_id(lead_id=lead.id, step=1, domain="sender.example.com"),
        local_day=DAY,
    )
    return campaign, sender, lead, inp


async def reserve_only(world: World, inp: SendStepInput) -> sending.PreparedSend:
    """The activity's first transaction, committed, as a worker that dies right after it."""
    async with unit_of_work(world.sessions) as session:
        prepared = await sending.reserve_send(session, inp, links=world.activities.links)
    assert isinstance(prepared, sending.PreparedSend)
    return prepared


async def run(world: World, inp: SendStepInput) -> SendStepResult:
    result: SendStepResult = await ActivityEnvironment().run(world.activities.send_email, inp)
    return result


async def counters(world: World) -> dict[str, int]:
    rows = await world.rows(select(SendCounter).where(SendCounter.day == DAY))
    return {row.scope: row.count for row in rows}


async def test_crash_after_reservation_sends_exactly_once(world: World) -> None:
    campaign, _inbox, _lead, inp = await one_lead(world)
    prepared = await reserve_only(world, inp)  # ...and the worker dies before SMTP

    result = await run(world, inp)

    assert result.outcome == SendOutcome.SENT
    [received] = await world.smtp.wait_for(1)
    assert received.message["Message-ID"] == inp.message_id == result.message_id
    assert received.data == prepared.message
    [sent] = await world.sent(campaign.id)
    assert sent.status == SendStatus.sent
    assert await counters(world) == {"campaign": 1, "inbox": 1}  # the budget is taken once


async def test_crash_after_smtp_resends_the_same_bytes_never_another_email(world: World) -> None:
    campaign, sender, _lead, inp = await one_lead(world)
    prepared = await reserve_only(world, inp)
    async with unit_of_work(world.sessions) as session:
        inbox = await session.get(Inbox, sender.id)
        assert inbox is not None
        settings = inbox_service.smtp_settings(inbox, world.box)
    await mailer.send_message(
        settings, sender=prepared.sender, recipient=prepared.recipient, message=prepared.message
    )  # ...and the worker dies before recording it

    result = await run(world, inp)

    assert result.outcome == SendOutcome.SENT
    first, second = await world.smtp.wait_for(2)
    # At-least-once across a crash at this exact point, but never a different email: same bytes,
    # same Message-ID, so the recipient's client shows one message.
    assert first.data == second.data == prepared.message
    [sent] = await world.sent(campaign.id)
    assert sent.status == SendStatus.sent
    assert await counters(world) == {"campaign": 1, "inbox": 1}
    assert await run(world, inp) == result  # a later retry sends nothing more
    assert len(world.smtp.messages) == 2


async def test_permanent_refusal_fails_the_send_without_retry(world: World) -> None:
    world.smtp.auth = ("alex@sender.example.com", "secret-password")
    campaign, sender, _lead, inp = await one_lead(world)
    async with unit_of_work(world.sessions) as session:
        inbox = await session.get(Inbox, sender.id)
        assert inbox is not None
        inbox.smtp_username = ""  # no AUTH: the server refuses MAIL FROM with 530
        session.add(inbox)

    result = await run(world, inp)

    assert result.outcome == SendOutcome.FAILED
    assert result.reason is not None
    assert "530" in result.reason
    [sent] = await world.sent(campaign.id)
    assert sent.status == SendStatus.failed
    events = await world.rows(select(Event).where(Event.campaign_id == campaign.id))
    assert [e.type for e in events] == ["email.failed"]
    assert await run(world, inp) == result  # decided once: a retry does not try SMTP again
    assert world.smtp.messages == []

"""Step conditions fed by real opens and clicks: ``not_opened`` and ``opened_not_replied``.

Step 1 goes out over real SMTP with open and click tracking; the test opens its pixel (or
follows its first link) with the token taken from the received bytes, through the same service
the public endpoints call, while step 2 waits out its delay on the time-skipping server.
"""

from __future__ import annotations

import re
from collections import Counter
from email.message import EmailMessage
from typing import Literal

import pytest

from coldflow.models import Lead, StepCondition
from coldflow.services import tracking
from coldflow.store.db import unit_of_work
from tests.workflows.world import WEEKDAYS, StepSpec, World, schedule

ALWAYS_OPEN = schedule("UTC", days=WEEKDAYS, start="00:00", end="23:30")
Action = Literal["open", "click", "nothing"]


def html_part(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("html",))
    assert part is not None
    content: str = part.get_content()
    return content


def token(html: str, kind: str) -> str:
    match = re.search(rf'"https://coldflow\.example\.com/t/{kind}/([^"]+)"', html)
    assert match is not None, html
    return match.group(1)


async def act(world: World, html: str, action: Action) -> None:
    links = world.activities.links
    async with unit_of_work(world.sessions) as session:
        if action == "open":
            await tracking.record_open(session=session, links=links, token=token(html, "o"))
        elif action == "click":
            url = await tracking.record_click(session=session, links=links, token=token(html, "c"))
            assert url == "https://acme.example/pricing"


@pytest.mark.parametrize(
    ("condition", "action", "sends"),
    [
        pytest.param(StepCondition.not_opened, "open", 1, id="not_opened-after-open-skipped"),
        pytest.param(StepCondition.not_opened, "click", 1, id="not_opened-after-click-skipped"),
        pytest.param(StepCondition.not_opened, "nothing", 2, id="not_opened-unopened-sent"),
        pytest.param(StepCondition.opened_not_replied, "open", 2, id="opened_not_replied-sent"),
        pytest.param(
            StepCondition.opened_not_replied, "nothing", 1, id="opened_not_replied-skipped"
        ),
    ],
)
async def test_opens_decide_the_follow_up(
    world: World, condition: StepCondition, action: Action, sends: int
) -> None:
    inbox = await world.inbox()
    steps = [
        StepSpec(
            "Hello {{company}}",
            '<p>Hi, see <a href="https://acme.example/pricing">pricing</a>.</p>',
            delay_days=1,
        ),
        StepSpec("", "Did you see my last email?", condition=condition),
    ]
    campaign = await world.campaign(
        steps, inboxes=[inbox], sched=ALWAYS_OPEN, track_opens=True, track_clicks=True
    )
    lead = await world.lead(campaign)
    handle = await world.enroll(campaign, lead)
    [first] = await world.smtp.wait_for(1)
    await world.wait_lead(lead.id, "waiting", step=2)

    await act(world, html_part(first.message), action)

    assert await world.result(handle) == "completed"
    assert len(world.smtp.messages) == sends
    row: Lead = await world.get(Lead, lead.id)
    assert (row.opened_at is not None) == (action != "nothing")
    assert (row.clicked_at is not None) == (action == "click")
    events = Counter(e.type for e in await world.events(campaign.id))
    assert events["email.sent"] == sends
    assert events["email.opened"] == (action != "nothing")
    assert events["email.clicked"] == (action == "click")


async def test_open_counts_once_per_message(world: World) -> None:
    inbox = await world.inbox()
    campaign = await world.campaign(
        [StepSpec("Hello", "<p>Hi</p>")], inboxes=[inbox], sched=ALWAYS_OPEN, track_opens=True
    )
    lead = await world.lead(campaign)
    handle = await world.enroll(campaign, lead)
    [first] = await world.smtp.wait_for(1)
    assert await world.result(handle) == "completed"

    for _ in range(3):
        await act(world, html_part(first.message), "open")

    events = Counter(e.type for e in await world.events(campaign.id))
    assert events["email.opened"] == 1

"""Daily limits on the real journey: the campaign's budget and each inbox's, per local day."""

from __future__ import annotations

import asyncio
import os
import time
from collections import Counter
from datetime import UTC, datetime, timedelta

from coldflow.models import Campaign, CampaignStatus
from tests.workflows.world import WEEKDAYS, StepSpec, World, local_days, schedule

# The shape (50/day, two inboxes at 30/day, 120 leads → 50, 50, 20) scaled down by
# SCALE; COLDFLOW_LIMITS_SCALE=1 runs the full size.
SCALE = int(os.environ.get("COLDFLOW_LIMITS_SCALE", "1"))


async def test_daily_limits_spread_leads_over_days_and_inboxes(world: World) -> None:
    campaign_limit, inbox_limit, leads_count = 50 // SCALE, 30 // SCALE, 120 // SCALE
    first = await world.inbox("ann@sender.example.com", daily_limit=inbox_limit)
    second = await world.inbox("bob@sender.example.com", daily_limit=inbox_limit)
    campaign = await world.campaign(
        [StepSpec("Hello {{company}}", "Hi {{first_name}}")],
        inboxes=[first, second],
        sched=schedule("UTC", days=WEEKDAYS),
        daily_limit=campaign_limit,
    )
    leads = [
        await world.lead(campaign, f"lead{i:03d}@company{i}.example.com")
        for i in range(leads_count)
    ]
    now = await world.now()
    # Enrolled before the window opens, so every lead competes for day one's budget.
    opening = datetime(now.year, now.month, now.day, 9, tzinfo=UTC) + timedelta(days=1)
    await world.sleep_until(opening - timedelta(hours=2))
    started = time.monotonic()
    handles = [await world.enroll(campaign, lead) for lead in leads]

    # Past day three's opening: every send has happened once the sleep returns, since the
    # server does not skip time while an activity runs.
    await world.sleep_until(opening + timedelta(days=2, hours=1))
    results = await asyncio.gather(*(world.result(h, timeout=30, skip_time=False) for h in handles))
    elapsed = time.monotonic() - started

    assert set(results) == {"completed"}
    sent = await world.sent(campaign.id)
    per_day = local_days(sent)
    assert list(per_day.values()) == [
        campaign_limit,
        campaign_limit,
        leads_count - 2 * campaign_limit,
    ]
    days = list(per_day)
    assert days[0] == opening.date()
    assert [d - days[0] for d in days] == [timedelta(days=n) for n in range(3)]
    per_inbox_day = Counter((s.local_day, s.inbox_id) for s in sent)
    assert max(per_inbox_day.values()) <= inbox_limit
    assert {inbox for _day, inbox in per_inbox_day} == {first.id, second.id}
    received = await world.smtp.wait_for(leads_count)
    assert len({m.message["Message-ID"] for m in received}) == leads_count == len(received)
    row: Campaign = await world.get(Campaign, campaign.id)
    assert row.status == CampaignStatus.completed
    events = Counter(e.type for e in await world.events(campaign.id))
    assert events["email.sent"] == leads_count
    assert events["lead.completed"] == leads_count
    assert events["campaign.completed"] == 1
    print(f"{leads_count} journeys over three days took {elapsed:.1f}s")  # noqa: T201

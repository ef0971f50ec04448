"""A/B variants on the real journey: weighted, and fixed per (lead, step) through replays."""

from __future__ import annotations

from collections import Counter

from sqlmodel import select
from temporalio.testing import ActivityEnvironment
from temporalio.worker import Replayer

from coldflow import sequencing
from coldflow.contracts.journey import SendOutcome, SendStepInput
from coldflow.models import Campaign, SentMessage, Variant
from coldflow.temporal import sandbox_runner
from tests.workflows.history import send_results
from tests.workflows.world import (
    WEEKDAYS,
    StepSpec,
    VariantSpec,
    World,
    schedule,
)
from workflows import WORKFLOWS

ALWAYS_OPEN = schedule("UTC", days=WEEKDAYS, start="00:00", end="23:30")
AB_70_30 = StepSpec(
    "",
    "",
    variants=(
        VariantSpec("A", "Variant A for {{company}}", "Hi {{first_name}} (A)", weight=70),
        VariantSpec("B", "Variant B for {{company}}", "Hi {{first_name}} (B)", weight=30),
    ),
)


async def step_one_variants(world: World, campaign: Campaign) -> list[Variant]:
    sent = await world.rows(select(SentMessage).where(SentMessage.campaign_id == campaign.id))
    step_id = (await world.get(Variant, sent[0].variant_id)).step_id
    return await world.rows(select(Variant).where(Variant.step_id == step_id))


def expected_label(variants: list[Variant], lead_id: str) -> str:
    choices = [sequencing.VariantChoice(v.id, v.label, v.weight, v.enabled) for v in variants]
    return sequencing.choose_variant(choices, lead_id=lead_id, step=1).label


async def test_same_lead_keeps_its_variant_on_replay_and_retry(world: World) -> None:
    inbox = await world.inbox()
    campaign = await world.campaign([AB_70_30], inboxes=[inbox], sched=ALWAYS_OPEN)
    lead = await world.lead(campaign, lead_id="lead-replay-0001")
    handle = await world.enroll(campaign, lead)
    assert await world.result(handle) == "completed"

    [result] = await send_results(world, handle)
    label = expected_label(await step_one_variants(world, campaign), lead.id)
    assert (result.outcome, result.variant_label) == (SendOutcome.SENT, label)
    [received] = await world.smtp.wait_for(1)
    assert received.message["Subject"] == f"Variant {label} for Acme Corp"

    # The recorded history replays through the current workflow code: the send and its
    # variant come from history, and any non-determinism would fail the replay.
    replayer = Replayer(workflows=WORKFLOWS, workflow_runner=sandbox_runner())
    replay = await replayer.replay_workflow(await handle.fetch_history())
    assert replay.replay_failure is None
    # A retry of the send (after a lost completion, say) returns the recorded send as it was.
    again = await ActivityEnvironment().run(
        world.activities.send_email,
        SendStepInput(
            workspace_id=world.workspace_id,
            campaign_id=campaign.id,
            lead_id=lead.id,
            step=1,
            message_id=result.message_id,
            local_day="2000-01-01",
        ),
    )
    assert again == result
    assert len(world.smtp.messages) == 1


async def test_two_hundred_leads_split_seventy_thirty(world: World) -> None:
    inbox = await world.inbox(daily_limit=500)
    campaign = await world.campaign(
        [AB_70_30], inboxes=[inbox], sched=ALWAYS_OPEN, daily_limit=1000
    )
    # Fixed lead ids: the split is deterministic, so the test cannot flake.
    leads = [
        await world.lead(campaign, f"lead{i:03d}@company{i}.example.com", lead_id=f"lead-{i:04d}")
        for i in range(200)
    ]
    for lead in leads:
        await world.enroll(campaign, lead)
    await world.smtp.wait_for(200, timeout=60)
    finished = [await world.wait_lead(lead.id, "completed", timeout=30) for lead in leads]
    assert len(finished) == 200

    variants = {v.id: v for v in await step_one_variants(world, campaign)}
    sent = await world.rows(select(SentMessage).where(SentMessage.campaign_id == campaign.id))
    labels = Counter(variants[s.variant_id].label for s in sent)
    # Binomial(200, 0.7): mean 140, standard deviation 6.5; ±3 sd is 120..160.
    assert 120 <= labels["A"] <= 160, labels
    assert labels["A"] + labels["B"] == 200
    for s in sent:
        assert variants[s.variant_id].label == expected_label(list(variants.values()), s.lead_id)
    subjects = Counter(m.message["Subject"].split(" for ")[0] for m in world.smtp.messages)
    assert subjects == {"Variant A": labels["A"], "Variant B": labels["B"]}

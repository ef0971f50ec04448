"""Re-create the journey histories that ``test_replay.py`` replays.

    .venv/bin/python -m tests.workflows.record_histories            # only missing files
    .venv/bin/python -m tests.workflows.record_histories --force    # re-record all

Each scenario runs a real journey (the real worker and activities, a migrated SQLite database,
sandbox inboxes so no SMTP server is needed) on a time-skipping server and writes its history as
compact, gzipped JSON to ``tests/workflows/histories/<scenario>.json.gz`` (a few KB each; the
replay test also reads plain ``.json`` exports, e.g. one downloaded from the Temporal UI).

Re-record only on purpose. The files are the proof that journeys already running keep replaying
after a change to ``workflows/journey.py``: a change that breaks them must be gated with
``workflow.patched(...)`` instead, and a new recording is added next to the old ones, never
over them.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import sys
import tempfile
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest
from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from coldflow.contracts.journey import JourneySignal, ReplyReceived
from coldflow.contracts.search_attributes import SEARCH_ATTRIBUTES
from coldflow.models import Lead, Provider
from coldflow.store.db import unit_of_work
from coldflow.store.migrate import upgrade_to_head
from tests.fixtures.smtp import SmtpServer
from tests.workflows.world import WEEKDAYS, StepSpec, World, open_world, schedule

HISTORIES = Path(__file__).parent / "histories"
ALWAYS_OPEN = schedule("UTC", days=WEEKDAYS, start="00:00", end="23:30")
Scenario = Callable[[World], Awaitable[WorkflowHandle[Any, Any]]]


async def two_step_journey(world: World) -> WorkflowHandle[Any, Any]:
    """Step 1 at once, step 2 three days later in the next window, then completed."""
    inbox = await world.inbox(provider=Provider.sandbox)
    campaign = await world.campaign(
        [
            StepSpec("{{company}} and pipelines", "Hi {{first_name}}", delay_days=3),
            StepSpec("", "Following up, {{first_name}}"),
        ],
        inboxes=[inbox],
        sched=schedule("America/New_York"),
    )
    handle = await world.enroll(campaign, await world.lead(campaign))
    assert await world.result(handle) == "completed"
    return handle


async def pause_resume_reply(world: World) -> WorkflowHandle[Any, Any]:
    """Paused after step 1, resumed a day later, step 2 sent, then a reply stops it."""
    inbox = await world.inbox(provider=Provider.sandbox)
    steps = [StepSpec("Hello", "Hi", delay_days=1), StepSpec("", "Again", delay_days=1)]
    campaign = await world.campaign(
        [*steps, StepSpec("", "Last")], inboxes=[inbox], sched=ALWAYS_OPEN
    )
    lead = await world.lead(campaign)
    handle = await world.enroll(campaign, lead)
    await world.wait_lead(lead.id, "waiting", step=2)
    await world.journeys.signal(campaign.id, lead.id, JourneySignal.PAUSE)
    await world.wait_lead(lead.id, "paused")
    await world.sleep_until(await world.now() + timedelta(days=1))
    await world.journeys.signal(campaign.id, lead.id, JourneySignal.RESUME)
    await world.wait_lead(lead.id, "waiting", step=3)
    reply = ReplyReceived("<reply@lead.example.com>", lead.email, label="interested")
    await world.journeys.signal(campaign.id, lead.id, JourneySignal.REPLY_RECEIVED, reply)
    assert await world.result(handle) == "stopped: replied"
    return handle


async def held_then_day_full(world: World) -> WorkflowHandle[Any, Any]:
    """Held for a missing variable, fixed and refreshed, then the day is full: sent next day."""
    inbox = await world.inbox(provider=Provider.sandbox)
    campaign = await world.campaign(
        [StepSpec("Hello", "About {{pain_point}}")],
        inboxes=[inbox],
        sched=ALWAYS_OPEN,
        daily_limit=1,
    )
    first = await world.lead(campaign, "first@lead.example.com", variables={"pain_point": "x"})
    held = await world.lead(campaign, "held@lead.example.com")
    handle = await world.enroll(campaign, held)
    await world.wait_lead(held.id, "held")
    assert await world.result(await world.enroll(campaign, first)) == "completed"
    async with unit_of_work(world.sessions) as session:
        row = await session.get(Lead, held.id)
        assert row is not None
        row.variables = {"pain_point": "slow pipelines"}
        session.add(row)
    await world.journeys.signal(campaign.id, held.id, JourneySignal.REFRESH)
    await world.wait_lead(held.id, "waiting")  # the day's one send went to the first lead
    assert await world.result(handle) == "completed"
    return handle


SCENARIOS: dict[str, Scenario] = {
    "two_step_journey": two_step_journey,
    "pause_resume_reply": pause_resume_reply,
    "held_then_day_full": held_then_day_full,
}


async def record(name: str, scenario: Scenario, env: WorkflowEnvironment) -> Path:
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite+aiosqlite:///{tmp}/coldflow.db"
        await asyncio.to_thread(upgrade_to_head, url)
        smtp = SmtpServer(host="127.0.0.1", port=0)  # sandbox inboxes never connect
        async with open_world(env, url, smtp, Path(tmp) / "data") as world:
            handle = await scenario(world)
            history = await handle.fetch_history()
    path = HISTORIES / f"{name}.json.gz"
    text = json.dumps(history.to_json_dict(), separators=(",", ":")) + "\n"
    # mtime=0: the same history always gives the same bytes.
    path.write_bytes(gzip.compress(text.encode(), compresslevel=9, mtime=0))
    return path


async def main(argv: list[str]) -> None:
    force = "--force" in argv
    todo = {
        name: scenario
        for name, scenario in SCENARIOS.items()
        if force or not (HISTORIES / f"{name}.json.gz").exists()
    }
    if not todo:
        sys.stdout.write("every scenario is recorded; --force re-records them\n")
        return
    server = Path(sys.executable).parent / "temporal-test-server"
    env = await WorkflowEnvironment.start_time_skipping(test_server_existing_path=str(server))
    await env.client.operator_service.add_search_attributes(
        AddSearchAttributesRequest(
            namespace=env.client.namespace,
            search_attributes={
                key.name: IndexedValueType.ValueType(key.indexed_value_type)
                for key in SEARCH_ATTRIBUTES
            },
        )
    )
    HISTORIES.mkdir(exist_ok=True)
    try:
        for name, scenario in todo.items():
            path = await record(name, scenario, env)
            sys.stdout.write(f"{path} ({path.stat().st_size} bytes)\n")
    finally:
        await env.shutdown()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1:]))

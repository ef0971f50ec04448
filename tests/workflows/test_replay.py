"""Recorded journey histories replay through the current workflow code.

A change to ``workflows/journey.py`` that would break journeys already running (a command added,
removed or reordered without ``workflow.patched``) fails here instead of in production. The
histories are re-created by ``python -m tests.workflows.record_histories``, on purpose only.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer

from coldflow.contracts.journey import JOURNEY_WORKFLOW, JourneyActivity
from coldflow.temporal import sandbox_runner
from workflows import WORKFLOWS

HISTORIES = Path(__file__).parent / "histories"
FILES = sorted([*HISTORIES.glob("*.json"), *HISTORIES.glob("*.json.gz")])


def load(path: Path) -> WorkflowHistory:
    raw = path.read_bytes()
    text = gzip.decompress(raw).decode() if path.suffix == ".gz" else raw.decode()
    return WorkflowHistory.from_json(f"replay/{path.name}", text)


def test_histories_are_recorded() -> None:
    names = {path.name.split(".")[0] for path in FILES}
    assert {"two_step_journey", "pause_resume_reply", "held_then_day_full"} <= names


@pytest.mark.parametrize("path", FILES, ids=[path.name.split(".")[0] for path in FILES])
async def test_history_replays_on_current_code(path: Path) -> None:
    history = load(path)
    started = history.events[0].workflow_execution_started_event_attributes
    assert started.workflow_type.name == JOURNEY_WORKFLOW
    sends = [
        event
        for event in history.events
        if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
        and event.activity_task_scheduled_event_attributes.activity_type.name
        == JourneyActivity.SEND_EMAIL
    ]
    assert sends, "a journey history without a send proves little"

    replayer = Replayer(workflows=WORKFLOWS, workflow_runner=sandbox_runner())
    result = await replayer.replay_workflow(history, raise_on_replay_failure=False)

    assert result.replay_failure is None, f"{path.name} no longer replays: {result.replay_failure}"

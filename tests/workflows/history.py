"""Reading a journey's history: when each activity ran, how often, and what it returned."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowHandle

from coldflow.contracts.journey import JourneyActivity, SendStepResult
from tests.workflows.world import World


async def activity_events(
    handle: WorkflowHandle[Any, Any], activity: JourneyActivity
) -> list[tuple[datetime, int]]:
    """(server time, attempt) of every start of ``activity`` in the journey's history."""
    scheduled: dict[int, datetime] = {}
    starts: list[tuple[datetime, int]] = []
    async for event in handle.fetch_history_events():
        if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            attrs = event.activity_task_scheduled_event_attributes
            if attrs.activity_type.name == activity.value:
                scheduled[event.event_id] = event.event_time.ToDatetime(tzinfo=UTC)
        elif event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED:
            started = event.activity_task_started_event_attributes
            if started.scheduled_event_id in scheduled:
                starts.append((scheduled[started.scheduled_event_id], started.attempt))
    return starts


async def send_times(handle: WorkflowHandle[Any, Any]) -> list[datetime]:
    """When (server time) each ``send_email`` activity was scheduled: one per step sent."""
    return [at for at, _attempt in await activity_events(handle, JourneyActivity.SEND_EMAIL)]


async def send_results(world: World, handle: WorkflowHandle[Any, Any]) -> list[SendStepResult]:
    """The decoded results of the journey's ``send_email`` activities, as recorded in history."""
    names: dict[int, str] = {}
    results: list[SendStepResult] = []
    async for event in handle.fetch_history_events():
        if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            attrs = event.activity_task_scheduled_event_attributes
            names[event.event_id] = attrs.activity_type.name
        elif event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
            done = event.activity_task_completed_event_attributes
            if names.get(done.scheduled_event_id) == JourneyActivity.SEND_EMAIL.value:
                [result] = await world.env.client.data_converter.decode(
                    done.result.payloads, [SendStepResult]
                )
                results.append(result)
    return results

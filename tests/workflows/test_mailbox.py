"""The mailbox watcher workflow on the time-skipping server, with its IMAP session faked: it runs
sessions back to back, continues as new, ends on a final outcome or a stop, and leaves
reconnecting to the retry policy."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest
from temporalio import activity
from temporalio.client import WorkflowExecutionStatus, WorkflowHandle
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from coldflow.contracts.mailbox import (
    MAILBOX_WORKFLOW,
    WATCH_MAILBOX_ACTIVITY,
    MailboxQuery,
    MailboxSignal,
    MailboxStatus,
    MailboxWatchInput,
    WatchMailboxInput,
    WatchMailboxResult,
    WatchOptions,
    WatchOutcome,
)
from coldflow.ids import mailbox_workflow_id
from coldflow.temporal import sandbox_runner
from workflows.mailbox import MailboxWatcherWorkflow


@dataclass
class FakeSessions:
    """Stands in for the IMAP session: returns the scripted outcomes, then ``then``."""

    script: list[WatchMailboxResult | Exception] = field(default_factory=list)
    then: WatchMailboxResult | None = None  # None: run until cancelled
    calls: list[WatchMailboxInput] = field(default_factory=list)
    cancelled: asyncio.Event = field(default_factory=asyncio.Event)

    def activity(self) -> Callable[[WatchMailboxInput], Any]:
        @activity.defn(name=WATCH_MAILBOX_ACTIVITY)
        async def watch_mailbox(inp: WatchMailboxInput) -> WatchMailboxResult:
            self.calls.append(inp)
            if self.script:
                step = self.script.pop(0)
                if isinstance(step, Exception):
                    raise step
                return step
            if self.then is not None:
                return self.then
            try:
                while True:
                    activity.heartbeat()
                    await asyncio.sleep(0.1)
            except asyncio.CancelledError:
                self.cancelled.set()
                raise

        return watch_mailbox


@asynccontextmanager
async def watcher(
    env: WorkflowEnvironment, fake: FakeSessions, options: WatchOptions
) -> AsyncIterator[WorkflowHandle[Any, Any]]:
    task_queue = f"mailbox-{uuid.uuid4().hex[:12]}"
    inbox_id = str(uuid.uuid4())
    async with Worker(
        env.client,
        task_queue=task_queue,
        workflows=[MailboxWatcherWorkflow],
        activities=[fake.activity()],
        workflow_runner=sandbox_runner(),
        workflow_failure_exception_types=[Exception],
    ):
        handle = await env.client.start_workflow(
            MAILBOX_WORKFLOW,
            MailboxWatchInput(workspace_id="ws", inbox_id=inbox_id, options=options),
            id=mailbox_workflow_id(inbox_id),
            task_queue=task_queue,
        )
        yield handle


def rotate(stored: int = 0) -> WatchMailboxResult:
    return WatchMailboxResult(WatchOutcome.ROTATE, stored=stored, mode="idle")


async def test_sessions_run_back_to_back_and_continue_as_new(time_env: WorkflowEnvironment) -> None:
    fake = FakeSessions(script=[rotate(stored=2) for _ in range(7)])
    options = WatchOptions(session_seconds=60, max_sessions=3, heartbeat_timeout_seconds=2)
    async with watcher(time_env, fake, options) as handle:
        first_run = (await handle.describe()).run_id
        while len(fake.calls) < 8:  # seven scripted sessions, then one that runs until stopped
            await asyncio.sleep(0.05)
        latest = time_env.client.get_workflow_handle(handle.id)
        status = await latest.query(MailboxQuery.STATUS, result_type=MailboxStatus)
        await latest.signal(MailboxSignal.STOP)
        assert await latest.result() == "stopped: requested"
        await asyncio.wait_for(fake.cancelled.wait(), 30)

    assert (status.sessions, status.stored) == (7, 14)
    first = time_env.client.get_workflow_handle(handle.id, run_id=first_run)
    assert (await first.describe()).status == WorkflowExecutionStatus.CONTINUED_AS_NEW
    assert {call.session_seconds for call in fake.calls} == {60}


@pytest.mark.parametrize(
    ("outcome", "expected"),
    [
        (WatchOutcome.AUTH_FAILED, "auth_failed: IMAP login refused"),
        (WatchOutcome.STOPPED, "stopped: inbox gone"),
    ],
    ids=["bad-credentials", "inbox-gone"],
)
async def test_final_outcome_ends_the_watcher(
    time_env: WorkflowEnvironment, outcome: WatchOutcome, expected: str
) -> None:
    reason = expected.split(": ", 1)[1]
    fake = FakeSessions(script=[rotate(), WatchMailboxResult(outcome, reason=reason)])
    async with watcher(time_env, fake, WatchOptions()) as handle:
        assert await handle.result() == expected
    assert len(fake.calls) == 2


async def test_connection_errors_are_retried_until_a_session_works(
    time_env: WorkflowEnvironment,
) -> None:
    """Reconnecting is the retry policy's job: failures never end the watcher."""
    refused = ApplicationError("IMAP connection failed: ConnectionRefusedError", type="Imap")
    fake = FakeSessions(
        script=[refused, refused, refused, WatchMailboxResult(WatchOutcome.STOPPED, reason="x")]
    )
    async with watcher(time_env, fake, WatchOptions()) as handle:
        assert await handle.result() == "stopped: x"
    assert len(fake.calls) == 4


async def test_stop_signal_cancels_the_running_session(time_env: WorkflowEnvironment) -> None:
    fake = FakeSessions()
    async with watcher(time_env, fake, WatchOptions(heartbeat_timeout_seconds=2)) as handle:
        while not fake.calls:
            await asyncio.sleep(0.05)
        await handle.signal(MailboxSignal.STOP)
        assert await handle.result() == "stopped: requested"
        await asyncio.wait_for(fake.cancelled.wait(), 30)


def test_workflow_declares_the_contract_names() -> None:
    definition = getattr(MailboxWatcherWorkflow, "__temporal_workflow_definition")  # noqa: B009
    assert definition.name == MAILBOX_WORKFLOW
    assert set(definition.signals) == {MailboxSignal.STOP.value}
    assert set(definition.queries) == {MailboxQuery.STATUS.value}

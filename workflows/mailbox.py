"""The watcher of one inbox: run IMAP sessions back to back until the inbox goes away.

The workflow only supervises. Each ``watch_mailbox`` activity is one bounded IMAP session that
fetches, stores and signals the journeys itself (the messages never pass through this history),
then returns; a network error fails the attempt and the retry policy reconnects with backoff.
"""

from __future__ import annotations

import dataclasses
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from coldflow.contracts.mailbox import (
        MAILBOX_WORKFLOW,
        WATCH_MAILBOX_ACTIVITY,
        MailboxQuery,
        MailboxSignal,
        MailboxStatus,
        MailboxWatchInput,
        WatchMailboxInput,
        WatchMailboxResult,
        is_final,
    )

# Reconnecting is the retry policy's job: a refused connection or a server restart fails the
# attempt, and the next one starts after 1 s, 2 s, 4 s … up to a minute, for as long as it
# takes. Bad credentials are not an error but an outcome (they would fail the same way forever).
RECONNECT = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=1),
)
# Room above the session length for the last fetch and logout; the heartbeat timeout is what
# notices a dead worker, this only bounds a session that ignores its own deadline.
SESSION_GRACE = timedelta(minutes=5)


@workflow.defn(name=MAILBOX_WORKFLOW)
class MailboxWatcherWorkflow:
    """Watches one inbox's IMAP folder for replies, bounces and auto-replies."""

    @workflow.init
    def __init__(self, input: MailboxWatchInput) -> None:
        self._input = input
        self._stopping = False
        self._sessions = 0
        self._stored = 0
        self._last_outcome: str | None = None

    @workflow.run
    async def run(self, input: MailboxWatchInput) -> str:
        options = input.options
        while not self._stopping:
            # Continue as new well before the history limits (PITFALLS.md): a session adds
            # about six events, so max_sessions bounds the history to a few hundred.
            if self._sessions >= options.max_sessions or (
                workflow.info().is_continue_as_new_suggested()
            ):
                await workflow.wait_condition(workflow.all_handlers_finished)
                workflow.continue_as_new(
                    dataclasses.replace(
                        input,
                        sessions_before=input.sessions_before + self._sessions,
                        stored_before=input.stored_before + self._stored,
                    )
                )
            workflow.set_current_details(
                f"watching (session {input.sessions_before + self._sessions + 1}, "
                f"{input.stored_before + self._stored} message(s) stored so far)"
            )
            result = await self._session(input)
            if result is None:
                break
            self._sessions += 1
            self._stored += result.stored
            self._last_outcome = result.outcome.value
            if is_final(result.outcome):
                detail = f": {result.reason}" if result.reason else ""
                return f"{result.outcome.value}{detail}"
        await workflow.wait_condition(workflow.all_handlers_finished)
        return "stopped: requested"

    async def _session(self, input: MailboxWatchInput) -> WatchMailboxResult | None:
        """One IMAP session; None when a stop request ended it."""
        options = input.options
        handle = workflow.start_activity(
            WATCH_MAILBOX_ACTIVITY,
            WatchMailboxInput(
                workspace_id=input.workspace_id,
                inbox_id=input.inbox_id,
                session_seconds=options.session_seconds,
            ),
            result_type=WatchMailboxResult,
            start_to_close_timeout=timedelta(seconds=options.session_seconds) + SESSION_GRACE,
            heartbeat_timeout=timedelta(seconds=options.heartbeat_timeout_seconds),
            retry_policy=RECONNECT,
            summary="IMAP session",
        )
        await workflow.wait_condition(lambda: self._stopping or handle.done())
        if not handle.done():
            # TRY_CANCEL (the default): the watcher ends now; the activity learns of the
            # cancellation with its next heartbeat and logs out.
            handle.cancel()
            return None
        # Only a non-retryable failure (a bug) raises here, and it fails the watcher rather
        # than letting it spin; the inbox's validate endpoint starts it again after a fix.
        result: WatchMailboxResult = await handle
        return result

    @workflow.signal(name=MailboxSignal.STOP)
    def stop(self) -> None:
        self._stopping = True

    @workflow.query(name=MailboxQuery.STATUS)
    def status(self) -> MailboxStatus:
        return MailboxStatus(
            sessions=self._input.sessions_before + self._sessions,
            stored=self._input.stored_before + self._stored,
            last_outcome=self._last_outcome,
            stopping=self._stopping,
        )

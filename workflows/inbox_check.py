"""An inbox's connection check: SMTP and IMAP logins, run where the worker's network is."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from coldflow.contracts.inboxes import (
        CHECK_INBOX_ACTIVITY,
        INBOX_CHECK_WORKFLOW,
        InboxCheckInput,
        InboxCheckResult,
    )


@workflow.defn(name=INBOX_CHECK_WORKFLOW)
class InboxConnectionCheckWorkflow:
    """pending → validating → connected | error; the outcome is written by the activity."""

    @workflow.run
    async def run(self, input: InboxCheckInput) -> InboxCheckResult:
        result: InboxCheckResult = await workflow.execute_activity(
            CHECK_INBOX_ACTIVITY,
            input,
            result_type=InboxCheckResult,
            # A refused login is an answer, not a failure: only crashes of the activity retry.
            start_to_close_timeout=timedelta(minutes=2),
            retry_policy=RetryPolicy(maximum_attempts=3),
        )
        return result

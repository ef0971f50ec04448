"""One outgoing unibox message (a reply or a new thread), delivered durably over SMTP."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from coldflow.contracts.conversations import (
        CONVERSATION_SEND_WORKFLOW,
        FAIL_CONVERSATION_MESSAGE_ACTIVITY,
        SEND_CONVERSATION_MESSAGE_ACTIVITY,
        ConversationSendFailed,
        ConversationSendInput,
        ConversationSendResult,
    )

# Transient SMTP trouble (4xx, greylisting, a server restart) is retried for about two hours:
# 5 s, 10 s, 20 s … then every 10 minutes, 16 attempts in all.
SEND_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=5),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=10),
    maximum_attempts=16,
)


@workflow.defn(name=CONVERSATION_SEND_WORKFLOW)
class ConversationSendWorkflow:
    """queued → sending → sent | failed; the activity records every state in the database."""

    @workflow.run
    async def run(self, input: ConversationSendInput) -> ConversationSendResult:
        workflow.set_current_details(f"sending conversation message {input.message_row_id}")
        try:
            result: ConversationSendResult = await workflow.execute_activity(
                SEND_CONVERSATION_MESSAGE_ACTIVITY,
                input,
                result_type=ConversationSendResult,
                # Above the SMTP client's own timeout, so a slow server fails as a retryable
                # SMTP error in the activity rather than as a Temporal timeout.
                start_to_close_timeout=timedelta(minutes=5),
                retry_policy=SEND_RETRY,
            )
        except ActivityError as err:
            # The retries ran out: the message must not stay "queued" forever.
            reason = str(err.cause) if err.cause is not None else str(err)
            failed: ConversationSendResult = await workflow.execute_activity(
                FAIL_CONVERSATION_MESSAGE_ACTIVITY,
                ConversationSendFailed(input.workspace_id, input.message_row_id, reason),
                result_type=ConversationSendResult,
                start_to_close_timeout=timedelta(minutes=1),
                retry_policy=RetryPolicy(maximum_interval=timedelta(minutes=1)),
            )
            return failed
        return result

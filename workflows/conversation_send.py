"""One outgoing unibox message (a reply or a new thread), delivered durably over SMTP."""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from coldflow.contracts.conversations import (
        CONVERSATION_SEND_WORKFLOW,
        FAIL_CONVERSATION_MESSAGE_ACTIVITY,
        SEND_CONVERSATION_MESSAGE_ACTIVITY,
        ConversationSendFailed,
        ConversationSendInput,
        ConversationSendResult,
    )
    from workflows.durable_send import send_or_fail


@workflow.defn(name=CONVERSATION_SEND_WORKFLOW)
class ConversationSendWorkflow:
    """queued → sending → sent | failed; the activity records every state in the database."""

    @workflow.run
    async def run(self, input: ConversationSendInput) -> ConversationSendResult:
        workflow.set_current_details(f"sending conversation message {input.message_row_id}")
        return await send_or_fail(
            SEND_CONVERSATION_MESSAGE_ACTIVITY,
            input,
            fail_activity=FAIL_CONVERSATION_MESSAGE_ACTIVITY,
            failed_arg=lambda reason: ConversationSendFailed(
                input.workspace_id, input.message_row_id, reason
            ),
            result_type=ConversationSendResult,
        )

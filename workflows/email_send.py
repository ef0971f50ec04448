"""One API email (``POST /emails``), delivered durably over SMTP like a unibox message."""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from coldflow.contracts.emails import (
        EMAIL_SEND_WORKFLOW,
        FAIL_API_EMAIL_ACTIVITY,
        SEND_API_EMAIL_ACTIVITY,
        EmailSendFailed,
        EmailSendInput,
        EmailSendResult,
    )
    from workflows.durable_send import send_or_fail


@workflow.defn(name=EMAIL_SEND_WORKFLOW)
class EmailSendWorkflow:
    """queued → reserved → sent | failed | bounced; the activity records every state."""

    @workflow.run
    async def run(self, input: EmailSendInput) -> EmailSendResult:
        workflow.set_current_details(f"sending email {input.email_id}")
        return await send_or_fail(
            SEND_API_EMAIL_ACTIVITY,
            input,
            fail_activity=FAIL_API_EMAIL_ACTIVITY,
            failed_arg=lambda reason: EmailSendFailed(input.workspace_id, input.email_id, reason),
            result_type=EmailSendResult,
        )

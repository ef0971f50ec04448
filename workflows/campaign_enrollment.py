"""A campaign's activation fan-out: every lead not yet started gets its journey, durably."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from coldflow.contracts.campaigns import (
        ENROLL_LEADS_ACTIVITY,
        ENROLLMENT_WORKFLOW,
        EnrollmentInput,
        EnrollmentResult,
    )


@workflow.defn(name=ENROLLMENT_WORKFLOW)
class CampaignEnrollmentWorkflow:
    """Runs outside the HTTP request, so activating 100,000 leads answers at once."""

    @workflow.run
    async def run(self, input: EnrollmentInput) -> EnrollmentResult:
        workflow.set_current_details(f"enrolling the leads of campaign {input.campaign_id}")
        result: EnrollmentResult = await workflow.execute_activity(
            ENROLL_LEADS_ACTIVITY,
            input,
            result_type=EnrollmentResult,
            # Pages of leads are started and heartbeated; a retry resumes with those not started
            # yet (journey starts are idempotent, so a page started twice costs nothing).
            start_to_close_timeout=timedelta(hours=6),
            heartbeat_timeout=timedelta(minutes=1),
            retry_policy=RetryPolicy(maximum_interval=timedelta(minutes=1)),
        )
        return result

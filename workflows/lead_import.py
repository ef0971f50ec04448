"""A CSV lead import, run durably: one heartbeating activity that resumes where it stopped."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from coldflow.contracts.imports import (
        IMPORT_LEADS_ACTIVITY,
        LEAD_IMPORT_WORKFLOW,
        LeadImportInput,
        LeadImportResult,
    )


@workflow.defn(name=LEAD_IMPORT_WORKFLOW)
class LeadImportWorkflow:
    """Imports one uploaded CSV; progress lives in the database, where the API reads it."""

    @workflow.run
    async def run(self, input: LeadImportInput) -> LeadImportResult:
        workflow.set_current_details(f"importing {input.import_id}")
        result: LeadImportResult = await workflow.execute_activity(
            IMPORT_LEADS_ACTIVITY,
            input,
            result_type=LeadImportResult,
            # Each chunk commits and heartbeats; a retry resumes after the last committed row.
            start_to_close_timeout=timedelta(hours=2),
            heartbeat_timeout=timedelta(minutes=2),
            retry_policy=RetryPolicy(maximum_interval=timedelta(minutes=1), maximum_attempts=20),
        )
        return result

"""One event to one endpoint: signed attempts on a fixed schedule until a 2xx, or ≈ 28 hours.

The waits are workflow timers, not activity retries, so every attempt is its own recorded row
and the schedule survives worker restarts. One workflow per (endpoint, event): a slow or dead
endpoint only ever delays its own deliveries.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from coldflow.contracts.webhooks import (
        RETRY_DELAYS,
        WEBHOOK_DELIVERY_WORKFLOW,
        AttemptInput,
        AttemptOutcome,
        AttemptResult,
        DeliveryInput,
        DeliveryResult,
        SyntheticEventInput,
        WebhookActivity,
    )

# An attempt's HTTP failures are results, not errors; this only retries a crashed activity
# (database busy, worker lost), a few times, before the schedule's next timer takes over.
ATTEMPT_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    maximum_interval=timedelta(seconds=30),
    maximum_attempts=5,
)
ATTEMPT_TIMEOUT = timedelta(minutes=1)  # the POST's own timeout is 10 s


@workflow.defn(name=WEBHOOK_DELIVERY_WORKFLOW)
class WebhookDeliveryWorkflow:
    """Attempt, wait 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h between failures, then give up."""

    @workflow.run
    async def run(self, input: DeliveryInput) -> DeliveryResult:
        if input.is_test:
            await workflow.execute_activity(
                WebhookActivity.RECORD_TEST_EVENT,
                SyntheticEventInput(input.workspace_id, input.endpoint_id, input.event_id),
                start_to_close_timeout=timedelta(seconds=30),
                retry_policy=ATTEMPT_RETRY,
            )
        delays = RETRY_DELAYS
        if input.max_attempts:
            delays = RETRY_DELAYS[: max(input.max_attempts - 1, 0)]
        last: AttemptResult | None = None
        for index in range(len(delays) + 1):
            attempt = input.attempt_offset + index + 1
            workflow.set_current_details(f"attempt {attempt} to endpoint {input.endpoint_id}")
            last = await self._attempt(input, attempt)
            if last.outcome != AttemptOutcome.FAILED:
                return DeliveryResult(last.outcome, index + 1, last)
            if index < len(delays):
                workflow.set_current_details(
                    f"attempt {attempt} failed ({last.error}); next in {delays[index]}"
                )
                await workflow.sleep(delays[index])
        return DeliveryResult(AttemptOutcome.FAILED, len(delays) + 1, last)

    async def _attempt(self, input: DeliveryInput, attempt: int) -> AttemptResult:
        result: AttemptResult = await workflow.execute_activity(
            WebhookActivity.DELIVER,
            AttemptInput(
                workspace_id=input.workspace_id,
                endpoint_id=input.endpoint_id,
                event_id=input.event_id,
                attempt=attempt,
                force=input.force,
                track_health=not input.is_test,
            ),
            result_type=AttemptResult,
            start_to_close_timeout=ATTEMPT_TIMEOUT,
            retry_policy=ATTEMPT_RETRY,
        )
        return result

"""The transactional outbox's relay: every event row becomes its webhook deliveries.

Whoever writes an event (the API, a journey's activity, the mailbox watcher) only commits the
row; this one long-running workflow's activity polls for rows not yet dispatched, starts one
delivery workflow per matching endpoint and marks them. An event committed by a process that
crashed right after is still delivered, and nothing a receiver does can slow a journey.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from coldflow.contracts.webhooks import (
        EVENT_RELAY_WORKFLOW,
        RelayCycleInput,
        RelayCycleResult,
        RelayInput,
        WebhookActivity,
    )

# One activity run polls for this long, then returns; a short history per cycle.
CYCLE_SECONDS = 300.0
# Continue as new after this many cycles (≈ 8 h) or when Temporal suggests it.
CYCLES_PER_RUN = 100
# The database or Temporal being down fails a cycle; it retries without limit, never slower
# than every 30 s, so the relay resumes on its own.
CYCLE_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1), maximum_interval=timedelta(seconds=30)
)


@workflow.defn(name=EVENT_RELAY_WORKFLOW)
class EventRelayWorkflow:
    """Runs forever: heartbeating relay cycles, continued as new every few hours."""

    @workflow.run
    async def run(self, input: RelayInput) -> None:
        relayed = input.relayed
        for _ in range(CYCLES_PER_RUN):
            workflow.set_current_details(f"relaying; {relayed} events so far")
            result: RelayCycleResult = await workflow.execute_activity(
                WebhookActivity.RELAY_EVENTS,
                RelayCycleInput(seconds=CYCLE_SECONDS),
                result_type=RelayCycleResult,
                start_to_close_timeout=timedelta(seconds=CYCLE_SECONDS + 120),
                # A lost worker is noticed within this, and the cycle restarts elsewhere.
                heartbeat_timeout=timedelta(seconds=30),
                retry_policy=CYCLE_RETRY,
            )
            relayed += result.events
            if workflow.info().is_continue_as_new_suggested():
                break
        workflow.continue_as_new(RelayInput(relayed=relayed))

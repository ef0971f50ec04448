"""Inbox warmup: one workflow per warming inbox, one run per day (continue-as-new).

Each run asks an activity for the day's plan (the ramp's volume, send times inside the inbox's
working hours, recipients drawn evenly from the pool; all computed by ``coldflow.warmup`` from
stored state, so the run itself stays deterministic), sleeps to each send time, sends, and lets
the inbox answer the warmup mail it was chosen to answer. ``stop`` (``is_warming`` turned off)
ends it at once; turning warmup on again resumes the ramp from the state stored with the inbox.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from coldflow.contracts.warmup import (
        PLAN_WARMUP_DAY_ACTIVITY,
        SEND_WARMUP_ACTIVITY,
        SEND_WARMUP_REPLIES_ACTIVITY,
        STOP_SIGNAL,
        WARMUP_WORKFLOW,
        PlanWarmupInput,
        SendWarmupInput,
        WarmupDayPlan,
        WarmupInput,
        WarmupRepliesResult,
        WarmupSendResult,
    )

# Warmup mail is worth little once its moment has passed: a few retries, then the next send.
SEND_RETRY = RetryPolicy(maximum_attempts=5, maximum_interval=timedelta(minutes=5))
QUICK = timedelta(minutes=2)
IDLE_RECHECK = timedelta(hours=1)


@workflow.defn(name=WARMUP_WORKFLOW)
class InboxWarmupWorkflow:
    def __init__(self) -> None:
        self._stopped = False

    @workflow.signal(name=STOP_SIGNAL)
    def stop(self) -> None:
        self._stopped = True

    @workflow.run
    async def run(self, input: WarmupInput) -> str:
        plan: WarmupDayPlan = await workflow.execute_activity(
            PLAN_WARMUP_DAY_ACTIVITY,
            PlanWarmupInput(input.workspace_id, input.inbox_id, workflow.now()),
            result_type=WarmupDayPlan,
            start_to_close_timeout=QUICK,
            retry_policy=RetryPolicy(maximum_interval=timedelta(minutes=5)),
        )
        if plan.stop:
            return plan.reason or "stopped"
        done = 0
        for send in plan.sends:
            workflow.set_current_details(
                self._details(plan, done, f"next send at {send.at:%H:%M} UTC")
            )
            if not await self._sleep_until(send.at):
                return "stopped"
            await workflow.execute_activity(
                SEND_WARMUP_ACTIVITY,
                SendWarmupInput(
                    input.workspace_id,
                    input.inbox_id,
                    send.recipient_inbox_id,
                    plan.local_day,
                    send.seq,
                ),
                result_type=WarmupSendResult,
                start_to_close_timeout=timedelta(minutes=5),
                retry_policy=SEND_RETRY,
            )
            done += 1
            await self._answer(input)
        wake = plan.next_day_at or workflow.now() + IDLE_RECHECK
        if not plan.sends:
            # Nothing to send (a pool of one, an unconnected inbox, a day off): look again
            # within the hour, so a new pool member or a fixed inbox starts the ramp soon.
            wake = min(wake, workflow.now() + IDLE_RECHECK)
        workflow.set_current_details(
            self._details(plan, done, f"next look at {wake:%Y-%m-%d %H:%M} UTC")
        )
        if not await self._sleep_until(wake):
            return "stopped"
        await self._answer(input)
        workflow.continue_as_new(input)

    async def _answer(self, input: WarmupInput) -> None:
        """Replies (and replies back) this inbox owes to warmup mail it received."""
        await workflow.execute_activity(
            SEND_WARMUP_REPLIES_ACTIVITY,
            input,
            result_type=WarmupRepliesResult,
            start_to_close_timeout=timedelta(minutes=5),
            retry_policy=SEND_RETRY,
        )

    async def _sleep_until(self, at: datetime) -> bool:
        """Wait until ``at`` unless stopped first; False when stopped."""
        delay = at - workflow.now()
        if delay > timedelta(0):
            try:
                await workflow.wait_condition(lambda: self._stopped, timeout=delay)
            except TimeoutError:
                pass
        return not self._stopped

    @staticmethod
    def _details(plan: WarmupDayPlan, done: int, what: str) -> str:
        """The Temporal UI's current details: where today's warmup stands."""
        held = f"; {plan.reason}" if plan.reason else ""
        progress = f"sent {done} of {len(plan.sends)} (volume {plan.volume})"
        return f"{plan.local_day}: {progress}{held}; {what}"

"""One lead's journey through one campaign: wait, send, follow up, stop.

The workflow decides *when*; activities read the campaign and do the sends. Each step's plan is
loaded fresh, so edits to a running campaign apply from the lead's next step.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from coldflow import schedule as schedule_math
    from coldflow.contracts import search_attributes as sa
    from coldflow.contracts.journey import (
        JOURNEY_WORKFLOW,
        Bounced,
        JourneyActivity,
        JourneyInput,
        JourneyProgress,
        JourneyQuery,
        JourneySignal,
        JourneyStatus,
        LoadStepInput,
        RecordJourneyInput,
        ReplyReceived,
        SendOutcome,
        SendStepInput,
        SendStepResult,
        StepPlan,
        StopJourney,
    )
    from coldflow.mime import make_message_id

# Transient failures (database busy, SMTP 4xx, network) retry with backoff; permanent ones are
# raised non-retryable by the activity itself and come back here as outcomes or failures.
ACTIVITY_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=2),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=10),
)
# A held or paused journey re-checks its plan this often even without a signal, so a lost
# resume signal delays a journey by at most this much instead of forever.
RECHECK_INTERVAL = timedelta(hours=1)


@workflow.defn(name=JOURNEY_WORKFLOW)
class LeadJourneyWorkflow:
    """Sends a campaign's steps to one lead inside the sending windows, until done or stopped."""

    @workflow.init
    def __init__(self, input: JourneyInput) -> None:
        self._input = input
        self._progress = input.state or JourneyProgress()
        self._state = "waiting"
        self._next_send_at: datetime | None = None
        # Set by signals; the run loop reacts. A refresh re-reads the plan after an edit.
        self._refresh = False

    @workflow.run
    async def run(self, input: JourneyInput) -> str:
        progress = self._progress
        while progress.stopped_reason is None:
            plan = await self._load_step()
            if plan.stop_reason:
                progress.stopped_reason = plan.stop_reason
                break
            if not plan.exists:
                return await self._finish("completed", None)
            if not await self._wait_for_send_time(plan):
                continue
            if progress.paused or plan.campaign_paused:
                await self._hold("paused", "paused")
                continue
            await self._send(plan)
            if workflow.info().is_continue_as_new_suggested():
                await workflow.wait_condition(workflow.all_handlers_finished)
                workflow.continue_as_new(
                    JourneyInput(
                        workspace_id=input.workspace_id,
                        campaign_id=input.campaign_id,
                        lead_id=input.lead_id,
                        lead_email=input.lead_email,
                        state=progress,
                    )
                )
        return await self._finish("stopped", progress.stopped_reason)

    async def _wait_for_send_time(self, plan: StepPlan) -> bool:
        """Sleep out the step's delay, then until the window opens; False if interrupted."""
        progress = self._progress
        if progress.step > 1 and progress.last_sent_at is not None:
            due = progress.last_sent_at + timedelta(days=plan.delay_days_before)
            if not await self._sleep_until(due, f"delay of {plan.delay_days_before} day(s)"):
                return False
        sched = schedule_math.Schedule.from_dict(plan.schedule)
        zone = plan.lead_timezone or sched.timezone
        at = schedule_math.next_send_at(sched, workflow.now(), plan.lead_timezone)
        return await self._sleep_until(at, f"sending window ({zone})")

    async def _send(self, plan: StepPlan) -> None:
        progress = self._progress
        sched = schedule_math.Schedule.from_dict(plan.schedule)
        now = workflow.now()
        # Minted here, not in the activity, so every retry and replay reuses the same id.
        message_id = make_message_id(
            lead_id=self._input.lead_id, step=progress.step, domain=plan.sender_domain
        )
        await self._set_state("sending")
        result: SendStepResult = await workflow.execute_activity(
            JourneyActivity.SEND_STEP,
            SendStepInput(
                workspace_id=self._input.workspace_id,
                campaign_id=self._input.campaign_id,
                lead_id=self._input.lead_id,
                step=progress.step,
                message_id=message_id,
                local_day=schedule_math.local_day(sched, now, plan.lead_timezone).isoformat(),
                in_reply_to=progress.message_ids[-1] if progress.message_ids else None,
                references=tuple(progress.message_ids),
                previous_subject=progress.first_subject,
            ),
            result_type=SendStepResult,
            start_to_close_timeout=timedelta(minutes=5),
            retry_policy=ACTIVITY_RETRY,
        )
        if result.outcome == SendOutcome.SENT:
            progress.message_ids.append(result.message_id)
            progress.first_subject = progress.first_subject or result.subject
            progress.last_sent_at = workflow.now()
            progress.step += 1
        elif result.outcome == SendOutcome.SKIPPED:
            # A step whose condition is not met counts as done; the next delay runs from now.
            progress.last_sent_at = workflow.now()
            progress.step += 1
        elif result.outcome == SendOutcome.PAUSED:
            await self._hold("paused", result.reason)
        elif result.outcome == SendOutcome.DAY_FULL:
            opening = schedule_math.next_window_opening(sched, workflow.now(), plan.lead_timezone)
            await self._sleep_until(opening, "daily limit reached; next window")
        elif result.outcome == SendOutcome.HELD:
            await self._hold("held", result.reason)
        else:
            progress.stopped_reason = result.reason or result.outcome.value

    async def _sleep_until(self, at: datetime, why: str) -> bool:
        """A timer that a stop or refresh signal cuts short (returns False then)."""
        delta = at - workflow.now()
        if delta <= timedelta(0):
            return True
        self._next_send_at = at
        await self._set_state("waiting", f"waiting until {at.isoformat()} — {why}")
        self._refresh = False
        try:
            await workflow.wait_condition(self._interrupted, timeout=delta)
        except TimeoutError:
            return True
        return False

    async def _hold(self, state: str, reason: str | None) -> None:
        """Park until resumed, refreshed or stopped; re-check the plan now and then."""
        self._next_send_at = None
        await self._set_state(state, f"{state}: {reason}" if reason else state, reason)
        self._refresh = False
        try:
            await workflow.wait_condition(
                lambda: self._interrupted() or (state == "paused" and not self._progress.paused),
                timeout=RECHECK_INTERVAL,
            )
        except TimeoutError:
            pass

    def _interrupted(self) -> bool:
        return self._refresh or self._progress.stopped_reason is not None

    async def _load_step(self) -> StepPlan:
        plan: StepPlan = await workflow.execute_activity(
            JourneyActivity.LOAD_STEP,
            LoadStepInput(
                workspace_id=self._input.workspace_id,
                campaign_id=self._input.campaign_id,
                lead_id=self._input.lead_id,
                step=self._progress.step,
            ),
            result_type=StepPlan,
            start_to_close_timeout=timedelta(seconds=30),
            retry_policy=ACTIVITY_RETRY,
        )
        return plan

    async def _set_state(self, state: str, details: str = "", reason: str | None = None) -> None:
        """Mirror the state into search attributes, the UI's details line and the lead row."""
        if state == self._state and state != "waiting":
            return
        self._state = state
        workflow.set_current_details(details or state)
        workflow.upsert_search_attributes(
            [sa.JOURNEY_STATUS.value_set(state), sa.JOURNEY_STEP.value_set(self._progress.step)]
        )
        await workflow.execute_activity(
            JourneyActivity.RECORD_JOURNEY,
            RecordJourneyInput(
                workspace_id=self._input.workspace_id,
                lead_id=self._input.lead_id,
                state=state,
                step=self._progress.step,
                next_send_at=self._next_send_at,
                reason=reason,
            ),
            start_to_close_timeout=timedelta(seconds=30),
            retry_policy=ACTIVITY_RETRY,
        )

    async def _finish(self, state: str, reason: str | None) -> str:
        self._next_send_at = None
        await self._set_state(state, f"{state}: {reason}" if reason else state, reason)
        await workflow.wait_condition(workflow.all_handlers_finished)
        return state if reason is None else f"{state}: {reason}"

    @workflow.signal(name=JourneySignal.PAUSE)
    def pause(self) -> None:
        self._progress.paused = True

    @workflow.signal(name=JourneySignal.RESUME)
    def resume(self) -> None:
        self._progress.paused = False
        self._refresh = True

    @workflow.signal(name=JourneySignal.REFRESH)
    def refresh(self) -> None:
        self._refresh = True

    @workflow.signal(name=JourneySignal.STOP)
    def stop(self, signal: StopJourney) -> None:
        self._progress.stopped_reason = signal.reason

    @workflow.signal(name=JourneySignal.REPLY_RECEIVED)
    def reply_received(self, signal: ReplyReceived) -> None:
        self._progress.replied = True
        if signal.stop:
            self._progress.stopped_reason = "replied"

    @workflow.signal(name=JourneySignal.BOUNCED)
    def bounced(self, signal: Bounced) -> None:
        if signal.hard:
            self._progress.stopped_reason = "bounced"

    @workflow.query(name=JourneyQuery.STATUS)
    def status(self) -> JourneyStatus:
        return JourneyStatus(
            state=self._state,
            step=self._progress.step,
            next_send_at=self._next_send_at,
            paused=self._progress.paused,
            stopped_reason=self._progress.stopped_reason,
            sent_message_ids=list(self._progress.message_ids),
        )

"""One lead's journey through one campaign: wait, send, follow up, stop.

The workflow decides *when*; activities read the campaign and do the sends. Each step's plan is
loaded fresh, and loaded again after every timer, so edits to a running campaign (schedule,
delays, limits, pause) apply from the lead's next wait and nothing is sent on a stale plan.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy, SearchAttributeUpdate

with workflow.unsafe.imports_passed_through():
    from coldflow import schedule as schedule_math
    from coldflow.contracts import search_attributes as sa
    from coldflow.contracts.journey import (
        AUTO_REPLY_LABELS,
        JOURNEY_WORKFLOW,
        Bounced,
        JourneyActivity,
        JourneyInput,
        JourneyPhase,
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
        Unsubscribed,
    )
    from coldflow.errors import InvalidInput
    from coldflow.mime import make_message_id

# Transient failures (database busy, SMTP 4xx, network) retry with backoff and without limit;
# permanent ones come back from the activity as outcomes, never as failures.
ACTIVITY_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=2),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=10),
)
# A held or paused journey re-checks its plan this often even without a signal, so a fix that
# sent no refresh (an inbox reconnected, a lead's data completed) or a resume whose fan-out
# failed delays a journey by at most this much. Pauses last long and end with a signal, so
# they re-check rarely: a paused campaign of 100,000 leads should not wake them every hour.
HELD_RECHECK = timedelta(hours=1)
PAUSED_RECHECK = timedelta(hours=6)
SHORT_ACTIVITY = timedelta(seconds=30)
SEND_TIMEOUT = timedelta(minutes=5)
# The send activity heartbeats during SMTP: a worker killed mid-send is noticed in seconds.
SEND_HEARTBEAT = timedelta(seconds=20)


@workflow.defn(name=JOURNEY_WORKFLOW)
class LeadJourneyWorkflow:
    """Sends a campaign's steps to one lead inside the sending windows, until done or stopped."""

    @workflow.init
    def __init__(self, input: JourneyInput) -> None:
        self._input = input
        self._progress = input.state or JourneyProgress()
        self._phase = JourneyPhase.WAITING
        self._details = "starting"
        self._next_send_at: datetime | None = None
        self._total_steps = 0
        # What was last written to the lead row and to the search attributes: unchanged
        # states are not written again, which keeps the history short.
        self._mirrored: tuple[object, ...] | None = None
        self._indexed: tuple[str, int, datetime | None] | None = None
        # Set by signals; the run loop reacts. A refresh cuts the current wait short.
        self._refresh = False

    @workflow.run
    async def run(self, input: JourneyInput) -> str:
        progress = self._progress
        while progress.stopped_reason is None:
            if workflow.info().is_continue_as_new_suggested():
                await workflow.wait_condition(workflow.all_handlers_finished)
                workflow.continue_as_new(dataclasses.replace(input, state=progress))
            plan = await self._plan()
            self._total_steps = plan.total_steps or self._total_steps
            if plan.stop_reason:
                progress.stopped_reason = plan.stop_reason
            elif not plan.exists:
                return await self._finish(JourneyPhase.COMPLETED, None)
            elif progress.paused or plan.campaign_paused:
                reason = "lead paused" if progress.paused else "campaign paused"
                await self._hold(JourneyPhase.PAUSED, reason)
            else:
                await self._advance(plan)
        return await self._finish(JourneyPhase.STOPPED, progress.stopped_reason)

    async def _advance(self, plan: StepPlan) -> None:
        """Wait for the step's send time; or, when it has come, send the step."""
        try:
            sched = schedule_math.Schedule.from_dict(plan.schedule)
            due = self._due(plan)
            at = schedule_math.next_send_at(sched, due, plan.lead_timezone)
        except InvalidInput as exc:  # e.g. every day disabled: nothing to wait for
            await self._hold(JourneyPhase.HELD, exc.message)
            return
        if at > workflow.now():
            # The loop plans again after the timer, so nothing is sent on a stale plan.
            why = "next sending window"
            if due > workflow.now():
                days = plan.delay_days_before
                why = f"delay {days} day{'s' if days != 1 else ''}"
            await self._sleep_until(at, self._wait_details(at, sched, plan, why))
            return
        await self._send(plan, sched)

    def _due(self, plan: StepPlan) -> datetime:
        """The earliest the step may go: now, or ``delay_days`` after the previous send."""
        progress = self._progress
        if progress.step > 1 and progress.last_sent_at is not None:
            due = progress.last_sent_at + timedelta(days=plan.delay_days_before)
            return max(workflow.now(), due)
        return workflow.now()

    async def _send(self, plan: StepPlan, sched: schedule_math.Schedule) -> None:
        progress = self._progress
        # Minted here, not in the activity, so every retry and replay reuses the same id.
        message_id = make_message_id(
            lead_id=self._input.lead_id, step=progress.step, domain=plan.sender_domain
        )
        self._next_send_at = None
        await self._enter(JourneyPhase.SENDING, f"{self._step_label()}: sending")
        result: SendStepResult = await workflow.execute_activity(
            JourneyActivity.SEND_EMAIL,
            SendStepInput(
                workspace_id=self._input.workspace_id,
                campaign_id=self._input.campaign_id,
                lead_id=self._input.lead_id,
                step=progress.step,
                message_id=message_id,
                # Daily limits count per local day of the campaign's own time zone, whatever
                # the lead's: one campaign-wide budget per day.
                local_day=schedule_math.local_day(sched, workflow.now()).isoformat(),
                in_reply_to=progress.message_ids[-1] if progress.message_ids else None,
                references=tuple(progress.message_ids),
                previous_subject=progress.first_subject,
            ),
            result_type=SendStepResult,
            start_to_close_timeout=SEND_TIMEOUT,
            heartbeat_timeout=SEND_HEARTBEAT,
            retry_policy=ACTIVITY_RETRY,
            summary=f"step {progress.step} to {self._input.lead_email}",
        )
        outcome = result.outcome
        if outcome in (SendOutcome.SENT, SendOutcome.SKIPPED):
            if outcome == SendOutcome.SENT:
                progress.message_ids.append(result.message_id)
                progress.first_subject = progress.first_subject or result.subject
            # A skipped step (condition not met) counts as done; the next delay runs from now.
            progress.last_sent_at = workflow.now()
            progress.step += 1
        elif outcome == SendOutcome.DAY_FULL:
            opening = schedule_math.next_window_opening(sched, workflow.now(), plan.lead_timezone)
            why = result.reason or "daily limit reached"
            await self._sleep_until(opening, self._wait_details(opening, sched, plan, why))
        elif outcome == SendOutcome.PAUSED:
            await self._hold(JourneyPhase.PAUSED, result.reason)
        elif outcome == SendOutcome.HELD:
            await self._hold(JourneyPhase.HELD, result.reason)
        elif outcome == SendOutcome.BOUNCED:
            self._stop("bounced")
        elif outcome == SendOutcome.FAILED:
            self._stop(f"send_failed: {result.reason}")
        else:
            self._stop(result.reason or "stopped")

    async def _sleep_until(self, at: datetime, details: str) -> None:
        """A timer that a stop, pause, resume or refresh signal cuts short."""
        self._next_send_at = at
        # Cleared before the mirror's await: a refresh arriving during it still counts.
        self._refresh = False
        await self._enter(JourneyPhase.WAITING, details)
        delta = at - workflow.now()
        if delta <= timedelta(0):
            return
        try:
            await workflow.wait_condition(
                lambda: self._refresh or self._progress.paused or self._stopped(),
                timeout=delta,
                timeout_summary=f"step {self._progress.step} send time",
            )
        except TimeoutError:
            pass

    async def _hold(self, phase: JourneyPhase, reason: str | None) -> None:
        """Park until resumed, refreshed or stopped; re-check the plan now and then."""
        self._next_send_at = None
        self._refresh = False
        lead_paused = self._progress.paused
        details = f"{self._step_label()}: {phase.value}" + (f" ({reason})" if reason else "")
        await self._enter(phase, details, reason)
        try:
            await workflow.wait_condition(
                lambda: self._refresh or self._stopped() or self._progress.paused != lead_paused,
                timeout=PAUSED_RECHECK if phase == JourneyPhase.PAUSED else HELD_RECHECK,
                timeout_summary=f"re-check while {phase.value}",
            )
        except TimeoutError:
            pass

    async def _finish(self, phase: JourneyPhase, reason: str | None) -> str:
        self._next_send_at = None
        if phase == JourneyPhase.COMPLETED:
            # The loop ran one past the last step; the lead row shows the last one.
            self._progress.step = max(self._progress.step - 1, 0)
            details = f"completed all {self._progress.step} step(s)"
        else:
            details = f"stopped at {self._step_label()}: {reason}"
        await self._enter(phase, details, reason)
        await workflow.wait_condition(workflow.all_handlers_finished)
        return phase.value if reason is None else f"{phase.value}: {reason}"

    def _stopped(self) -> bool:
        return self._progress.stopped_reason is not None

    def _stop(self, reason: str) -> None:
        # The first reason wins: a reply that arrives while a bounce is handled stays a bounce.
        if self._progress.stopped_reason is None:
            self._progress.stopped_reason = reason

    def _step_label(self) -> str:
        step, total = self._progress.step, self._total_steps
        return f"step {step} of {total}" if total else f"step {step}"

    def _wait_details(
        self, at: datetime, sched: schedule_math.Schedule, plan: StepPlan, why: str
    ) -> str:
        """E.g. "step 2 of 3: waiting until Tue 2027-03-09 09:00 America/New_York (delay 3 days)".

        Written for people reading the Temporal UI: the wall-clock time in the lead's zone.
        """
        zone = schedule_math.zone_for(sched, plan.lead_timezone)
        local = at.astimezone(zone)
        return f"{self._step_label()}: waiting until {local:%a %Y-%m-%d %H:%M} {zone.key} ({why})"

    async def _plan(self) -> StepPlan:
        plan: StepPlan = await workflow.execute_activity(
            JourneyActivity.PLAN_STEP,
            LoadStepInput(
                workspace_id=self._input.workspace_id,
                campaign_id=self._input.campaign_id,
                lead_id=self._input.lead_id,
                step=self._progress.step,
            ),
            result_type=StepPlan,
            start_to_close_timeout=SHORT_ACTIVITY,
            retry_policy=ACTIVITY_RETRY,
            summary=f"plan step {self._progress.step}",
        )
        return plan

    async def _enter(self, phase: JourneyPhase, details: str, reason: str | None = None) -> None:
        """Show the state in the Temporal UI (details, search attributes) and the lead row."""
        self._phase = phase
        self._details = details
        workflow.set_current_details(details)
        # Journeys started before NextSendAt existed keep their recorded upserts on replay.
        with_next = workflow.patched("next-send-at")
        indexed = (phase.value, self._progress.step, self._next_send_at if with_next else None)
        if indexed != self._indexed:
            self._indexed = indexed
            updates: list[SearchAttributeUpdate[Any]] = [
                sa.JOURNEY_STATUS.value_set(phase.value),
                sa.JOURNEY_STEP.value_set(self._progress.step),
            ]
            if with_next:
                updates.append(
                    sa.NEXT_SEND_AT.value_set(self._next_send_at)
                    if self._next_send_at is not None
                    else sa.NEXT_SEND_AT.value_unset()
                )
            workflow.upsert_search_attributes(updates)
        mirrored = (phase, self._progress.step, self._next_send_at, reason)
        # "sending" lasts one activity; the send itself records its outcome in the database.
        if phase == JourneyPhase.SENDING or mirrored == self._mirrored:
            return
        self._mirrored = mirrored
        await workflow.execute_activity(
            JourneyActivity.RECORD_JOURNEY,
            RecordJourneyInput(
                workspace_id=self._input.workspace_id,
                lead_id=self._input.lead_id,
                state=phase.value,
                step=self._progress.step,
                next_send_at=self._next_send_at,
                reason=reason,
            ),
            start_to_close_timeout=SHORT_ACTIVITY,
            retry_policy=ACTIVITY_RETRY,
            summary=f"record {phase.value}",
        )

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
        self._stop(signal.reason)

    @workflow.signal(name=JourneySignal.REPLY_RECEIVED)
    def reply_received(self, signal: ReplyReceived) -> None:
        if signal.label in AUTO_REPLY_LABELS:
            return  # an out-of-office is recorded by the mailbox side, never counted
        self._progress.replied = True
        if signal.stop:
            self._stop("replied")

    @workflow.signal(name=JourneySignal.BOUNCED)
    def bounced(self, signal: Bounced) -> None:
        if signal.hard:
            self._stop("bounced")

    @workflow.signal(name=JourneySignal.UNSUBSCRIBED)
    def unsubscribed(self, signal: Unsubscribed) -> None:
        workflow.logger.info("lead unsubscribed (%s)", signal.source)
        self._stop("unsubscribed")

    @workflow.query(name=JourneyQuery.STATUS)
    def status(self) -> JourneyStatus:
        return JourneyStatus(
            state=self._phase.value,
            step=self._progress.step,
            next_send_at=self._next_send_at,
            paused=self._progress.paused,
            stopped_reason=self._progress.stopped_reason,
            sent_message_ids=list(self._progress.message_ids),
            details=self._details,
            total_steps=self._total_steps,
        )

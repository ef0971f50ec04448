"""Webhook activities: one signed delivery attempt, the test event, and the event relay loop."""

from __future__ import annotations

import asyncio
import time

from temporalio import activity
from temporalio.exceptions import ApplicationError, ApplicationErrorCategory

from coldflow.contracts.webhooks import (
    AttemptInput,
    AttemptOutcome,
    AttemptResult,
    DeliveryInput,
    RelayCycleInput,
    RelayCycleResult,
    SyntheticEventInput,
    WebhookActivity,
)
from coldflow.crypto import SecretBox
from coldflow.services import webhook_delivery as delivery
from coldflow.services.webhooks import start_delivery
from coldflow.store.db import SessionFactory, unit_of_work


class WebhookActivities:
    def __init__(
        self,
        sessions: SessionFactory,
        box: SecretBox,
        *,
        allow_private: bool = False,
        timeout: float = 10.0,
        relay_poll_seconds: float = 0.5,
        relay_batch: int = 100,
    ) -> None:
        self.sessions = sessions
        self.box = box
        self.allow_private = allow_private
        self.timeout = timeout
        self.relay_poll_seconds = relay_poll_seconds
        self.relay_batch = relay_batch
        self.tls = delivery.tls_context()

    @activity.defn(name=WebhookActivity.DELIVER)
    async def deliver_webhook(self, inp: AttemptInput) -> AttemptResult:
        """Sign and POST the event once, then record the attempt and the endpoint's health.

        No database session stays open during the POST. A retry of this activity (a worker
        crash mid-request) may POST twice with the same ``webhook-id``: receivers deduplicate.
        """
        async with unit_of_work(self.sessions) as session:
            request = await delivery.load_request(session, self.box, inp)
        if request is None:
            return AttemptResult(AttemptOutcome.SKIPPED, error="endpoint inactive or deleted")
        activity.heartbeat()
        response = await delivery.post(
            request, timeout=self.timeout, allow_private=self.allow_private, tls=self.tls
        )
        async with unit_of_work(self.sessions) as session:
            return await delivery.record_attempt(session, inp, response)

    @activity.defn(name=WebhookActivity.RECORD_TEST_EVENT)
    async def record_test_event(self, inp: SyntheticEventInput) -> None:
        async with unit_of_work(self.sessions) as session:
            await delivery.record_test_event(
                session,
                workspace_id=inp.workspace_id,
                endpoint_id=inp.endpoint_id,
                event_id=inp.event_id,
            )

    @activity.defn(name=WebhookActivity.RELAY_EVENTS)
    async def relay_events(self, inp: RelayCycleInput) -> RelayCycleResult:
        """Drain the outbox for ``inp.seconds``: poll, start deliveries, mark, heartbeat.

        An idle relay polls every ``relay_poll_seconds``; a full batch is followed at once by
        the next. When the worker shuts down it fails on purpose (benign, retryable): the retry
        is queued by the server for any worker at once, while a normal return would wait for
        a workflow task stuck on this worker's sticky queue until that times out.
        """
        client = activity.client()
        task_queue = activity.info().task_queue

        async def start(inp: DeliveryInput) -> None:
            await start_delivery(client, task_queue, inp)

        deadline = time.monotonic() + inp.seconds
        events = deliveries = 0
        while time.monotonic() < deadline:
            if activity.is_worker_shutdown():
                raise ApplicationError(
                    "worker shutting down; the relay goes on with the next worker",
                    type="WorkerShutdown",
                    category=ApplicationErrorCategory.BENIGN,
                )
            async with unit_of_work(self.sessions) as session:
                found, started = await delivery.dispatch_pending(
                    session, start, limit=self.relay_batch
                )
            events, deliveries = events + found, deliveries + started
            activity.heartbeat(events)
            if found < self.relay_batch:
                await _sleep_unless_shutdown(self.relay_poll_seconds)
        return RelayCycleResult(events=events, deliveries=deliveries)


async def _sleep_unless_shutdown(seconds: float) -> None:
    try:
        await asyncio.wait_for(activity.wait_for_worker_shutdown(), timeout=seconds)
    except TimeoutError:
        pass

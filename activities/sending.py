"""Journey activities: plan a step, send an email, record the journey's state."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

from temporalio import activity
from temporalio.exceptions import ApplicationError

from coldflow import mailer
from coldflow.contracts.journey import (
    JourneyActivity,
    LoadStepInput,
    RecordJourneyInput,
    SendStepInput,
    SendStepResult,
    StepPlan,
)
from coldflow.crypto import SecretBox
from coldflow.links import Links
from coldflow.models import Inbox, Provider
from coldflow.services import inboxes as inbox_service
from coldflow.services import journey_mirror, sending
from coldflow.store.db import SessionFactory, unit_of_work

T = TypeVar("T")
HEARTBEAT_EVERY = 5.0


class SendingActivities:
    """Bound methods registered on the worker; dependencies come in through the constructor."""

    def __init__(
        self, sessions: SessionFactory, box: SecretBox, links: Links, smtp_timeout: float = 60.0
    ) -> None:
        self.sessions = sessions
        self.box = box
        self.links = links
        self.smtp_timeout = smtp_timeout

    @activity.defn(name=JourneyActivity.PLAN_STEP)
    async def plan_step(self, inp: LoadStepInput) -> StepPlan:
        async with unit_of_work(self.sessions) as session:
            return await sending.plan_step(session, inp)

    @activity.defn(name=JourneyActivity.SEND_EMAIL)
    async def send_email(self, inp: SendStepInput) -> SendStepResult:
        """Reserve (committed), deliver over SMTP, record; safe to retry at any point.

        The reservation is its own transaction, committed before SMTP starts, so a retry after a
        crash finds it and sends the same message with the same Message-ID.
        """
        async with unit_of_work(self.sessions) as session:
            prepared = await sending.reserve_send(session, inp, links=self.links)
            settings = None
            if isinstance(prepared, sending.PreparedSend) and prepared.provider != Provider.sandbox:
                inbox = await session.get(Inbox, prepared.inbox_id)
                if inbox is not None:
                    settings = inbox_service.smtp_settings(
                        inbox, self.box, timeout=self.smtp_timeout
                    )
        if isinstance(prepared, SendStepResult):
            return prepared
        if settings is not None:
            try:
                await _heartbeating(
                    mailer.send_message(
                        settings,
                        sender=prepared.sender,
                        recipient=prepared.recipient,
                        message=prepared.message,
                    )
                )
            except mailer.SmtpRecipientRejected as exc:
                async with unit_of_work(self.sessions) as session:
                    return await journey_mirror.record_bounce(
                        session, prepared.sent_message_id, exc.message
                    )
            except mailer.SmtpAuthFailed as exc:
                # Retrying with the same wrong password cannot succeed; hold instead.
                async with unit_of_work(self.sessions) as session:
                    return await journey_mirror.record_auth_failure(
                        session, prepared.sent_message_id, prepared.inbox_id, exc.message
                    )
            except mailer.SmtpRejected as exc:
                # The server refused this message for good; sending it again would be refused
                # the same way (and hurt the inbox's reputation).
                async with unit_of_work(self.sessions) as session:
                    return await journey_mirror.record_failure(
                        session, prepared.sent_message_id, exc.message
                    )
            except mailer.SmtpTransient as exc:
                # 4xx or a dropped connection: the retry policy tries again with backoff.
                raise ApplicationError(exc.message, type="SmtpTransient") from exc
        async with unit_of_work(self.sessions) as session:
            return await journey_mirror.record_sent(
                session, prepared.sent_message_id, prepared.variant_label
            )

    @activity.defn(name=JourneyActivity.RECORD_JOURNEY)
    async def record_journey(self, inp: RecordJourneyInput) -> None:
        async with unit_of_work(self.sessions) as session:
            await journey_mirror.record_journey(session, inp)


async def _heartbeating(work: Coroutine[Any, Any, T]) -> T:
    """Await ``work`` while heartbeating, so a killed worker's send is retried within the
    heartbeat timeout (seconds) rather than after the whole start-to-close timeout (minutes)."""
    task = asyncio.ensure_future(work)
    while not task.done():
        activity.heartbeat()
        await asyncio.wait({task}, timeout=HEARTBEAT_EVERY)
    return task.result()

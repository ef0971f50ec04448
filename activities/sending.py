"""Journey activities: plan a step, send it, mirror the journey's state."""

from __future__ import annotations

from temporalio import activity
from temporalio.exceptions import ApplicationError

from coldflow import mailer
from coldflow.contracts.journey import (
    JourneyActivity,
    LoadStepInput,
    RecordJourneyInput,
    SendOutcome,
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


class SendingActivities:
    """Bound methods registered on the worker; dependencies come in through the constructor."""

    def __init__(
        self, sessions: SessionFactory, box: SecretBox, links: Links, smtp_timeout: float = 60.0
    ) -> None:
        self.sessions = sessions
        self.box = box
        self.links = links
        self.smtp_timeout = smtp_timeout

    @activity.defn(name=JourneyActivity.LOAD_STEP)
    async def load_step(self, inp: LoadStepInput) -> StepPlan:
        async with unit_of_work(self.sessions) as session:
            return await sending.plan_step(session, inp)

    @activity.defn(name=JourneyActivity.SEND_STEP)
    async def send_step(self, inp: SendStepInput) -> SendStepResult:
        """Reserve (committed), deliver over SMTP, record; safe to retry at any point."""
        async with unit_of_work(self.sessions) as session:
            prepared = await sending.reserve_send(session, inp, links=self.links)
            settings = None
            if isinstance(prepared, sending.PreparedSend) and prepared.provider != Provider.sandbox:
                inbox = await session.get(Inbox, prepared.inbox_id)
                assert inbox is not None
                settings = inbox_service.smtp_settings(inbox, self.box, timeout=self.smtp_timeout)
        if isinstance(prepared, SendStepResult):
            return prepared
        if settings is not None:
            try:
                await mailer.send_message(
                    settings,
                    sender=prepared.sender,
                    recipient=prepared.recipient,
                    message=prepared.message,
                )
            except mailer.SmtpRecipientRejected as exc:
                async with unit_of_work(self.sessions) as session:
                    return await sending.record_bounce(session, prepared, exc.message)
            except mailer.SmtpAuthFailed as exc:
                async with unit_of_work(self.sessions) as session:
                    await sending.mark_inbox_error(session, prepared.inbox_id, exc.message)
                return SendStepResult(SendOutcome.HELD, reason=f"inbox error: {exc.message}")
            except mailer.SmtpRejected as exc:
                # A permanent refusal of this message: retrying would be refused the same way.
                raise ApplicationError(
                    exc.message, type="SmtpPermanent", non_retryable=True
                ) from exc
            except mailer.SmtpTransient as exc:
                raise ApplicationError(exc.message, type="SmtpTransient") from exc
        async with unit_of_work(self.sessions) as session:
            return await sending.record_sent(session, prepared)

    @activity.defn(name=JourneyActivity.RECORD_JOURNEY)
    async def record_journey(self, inp: RecordJourneyInput) -> None:
        async with unit_of_work(self.sessions) as session:
            await journey_mirror.record_journey(session, inp)

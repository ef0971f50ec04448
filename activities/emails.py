"""API-email activities: deliver one queued email over SMTP, or give up on it."""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession
from temporalio import activity

from activities.smtp_delivery import Attempt, deliver_stored
from coldflow.contracts.emails import (
    FAIL_API_EMAIL_ACTIVITY,
    SEND_API_EMAIL_ACTIVITY,
    EmailSendFailed,
    EmailSendInput,
    EmailSendResult,
)
from coldflow.crypto import SecretBox
from coldflow.links import Links
from coldflow.services import email_sends as service
from coldflow.store.db import SessionFactory, unit_of_work


class EmailActivities:
    """Bound methods registered on the worker; dependencies come in through the constructor."""

    def __init__(
        self, sessions: SessionFactory, box: SecretBox, links: Links, smtp_timeout: float = 60.0
    ) -> None:
        self.sessions = sessions
        self.box = box
        self.links = links
        self.smtp_timeout = smtp_timeout

    @activity.defn(name=SEND_API_EMAIL_ACTIVITY)
    async def send_api_email(self, inp: EmailSendInput) -> EmailSendResult:
        """Reserve, deliver, record; a retry never sends twice (see ``deliver_stored``)."""

        async def record(
            session: AsyncSession, prepared: service.PreparedEmail, attempt: Attempt
        ) -> EmailSendResult:
            return await service.record_outcome(
                session, prepared.email_id, error=attempt.error, bounced=attempt.bounced
            )

        return await deliver_stored(
            self.sessions,
            self.box,
            timeout=self.smtp_timeout,
            workspace_id=inp.workspace_id,
            prepared_type=service.PreparedEmail,
            prepare=lambda session: service.prepare_delivery(session, inp, self.links),
            release=lambda session: service.release_reservation(session, inp),
            record=record,
        )

    @activity.defn(name=FAIL_API_EMAIL_ACTIVITY)
    async def fail_api_email(self, inp: EmailSendFailed) -> EmailSendResult:
        """The retries ran out: record the email ``failed`` with the last transient error."""
        async with unit_of_work(self.sessions) as session:
            return await service.record_outcome(session, inp.email_id, error=inp.reason)

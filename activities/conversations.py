"""Unibox activities: deliver one stored outgoing message over SMTP, or give up on it."""

from __future__ import annotations

from temporalio import activity
from temporalio.exceptions import ApplicationError

from coldflow import mailer
from coldflow.contracts.conversations import (
    FAIL_CONVERSATION_MESSAGE_ACTIVITY,
    SEND_CONVERSATION_MESSAGE_ACTIVITY,
    ConversationSendFailed,
    ConversationSendInput,
    ConversationSendResult,
)
from coldflow.crypto import SecretBox
from coldflow.models import Inbox, Provider
from coldflow.services import conversations as service
from coldflow.services import inboxes as inbox_service
from coldflow.store.db import SessionFactory, unit_of_work


class ConversationActivities:
    """Bound methods registered on the worker; dependencies come in through the constructor."""

    def __init__(
        self, sessions: SessionFactory, box: SecretBox, smtp_timeout: float = 60.0
    ) -> None:
        self.sessions = sessions
        self.box = box
        self.smtp_timeout = smtp_timeout

    @activity.defn(name=SEND_CONVERSATION_MESSAGE_ACTIVITY)
    async def send_conversation_message(self, inp: ConversationSendInput) -> ConversationSendResult:
        """Reserve (committed), deliver over SMTP, record; a retry never sends twice.

        The reservation is its own transaction, committed before SMTP starts, so a retry can
        tell "decided" (returned as is) and "died during SMTP" (failed, unconfirmed) apart.
        """
        async with unit_of_work(self.sessions) as session:
            prepared = await service.prepare_delivery(session, inp)
            settings = None
            if (
                isinstance(prepared, service.PreparedDelivery)
                and prepared.provider != Provider.sandbox
            ):
                inbox = await session.get(Inbox, prepared.inbox_id)
                if inbox is not None:
                    settings = inbox_service.smtp_settings(
                        inbox, self.box, timeout=self.smtp_timeout
                    )
        if not isinstance(prepared, service.PreparedDelivery):
            return prepared
        error: str | None = None
        bounced = auth_failed = False
        try:
            if settings is not None:  # a sandbox inbox captures instead of sending
                await mailer.send_message(
                    settings,
                    sender=prepared.sender,
                    recipient=prepared.recipient,
                    message=prepared.message,
                )
        except mailer.SmtpTransient as exc:
            # 4xx, a timeout or a dropped connection: the server did not take the message, so
            # the reservation goes (back to queued) and the retry policy sends it with backoff.
            async with unit_of_work(self.sessions) as session:
                await service.release_reservation(session, inp)
            raise ApplicationError(exc.message, type="SmtpTransient") from exc
        except mailer.SmtpAuthFailed as exc:
            # 535: the same password fails on every retry; the inbox shows the reason instead.
            error, auth_failed = exc.message, True
        except mailer.SmtpRecipientRejected as exc:
            # 5xx at RCPT: the address is bad (a hard bounce); never retried.
            error, bounced = exc.message, True
        except mailer.SmtpRejected as exc:
            # Any other 5xx: the server refused this message for good.
            error = exc.message
        async with unit_of_work(self.sessions) as session:
            if auth_failed:
                await inbox_service.record_validation(
                    session=session,
                    workspace_id=inp.workspace_id,
                    inbox_id=prepared.inbox_id,
                    error=error,
                )
            return await service.record_outcome(
                session, prepared.sent_message_id, error=error, bounced=bounced
            )

    @activity.defn(name=FAIL_CONVERSATION_MESSAGE_ACTIVITY)
    async def fail_conversation_message(
        self, inp: ConversationSendFailed
    ) -> ConversationSendResult:
        """The retries ran out: record the message ``failed`` with the last transient error."""
        send = ConversationSendInput(
            workspace_id=inp.workspace_id, message_row_id=inp.message_row_id
        )
        async with unit_of_work(self.sessions) as session:
            prepared = await service.prepare_delivery(session, send)
            if not isinstance(prepared, service.PreparedDelivery):
                return prepared
            return await service.record_outcome(session, prepared.sent_message_id, error=inp.reason)

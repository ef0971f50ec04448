"""Unibox activities: deliver one stored outgoing message over SMTP, or give up on it."""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession
from temporalio import activity

from activities.smtp_delivery import Attempt, deliver_stored
from coldflow.contracts.conversations import (
    FAIL_CONVERSATION_MESSAGE_ACTIVITY,
    SEND_CONVERSATION_MESSAGE_ACTIVITY,
    ConversationSendFailed,
    ConversationSendInput,
    ConversationSendResult,
)
from coldflow.crypto import SecretBox
from coldflow.services import conversations as service
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
        """Reserve, deliver, record; a retry never sends twice (see ``deliver_stored``)."""

        async def record(
            session: AsyncSession, prepared: service.PreparedDelivery, attempt: Attempt
        ) -> ConversationSendResult:
            return await service.record_outcome(
                session, prepared.sent_message_id, error=attempt.error, bounced=attempt.bounced
            )

        return await deliver_stored(
            self.sessions,
            self.box,
            timeout=self.smtp_timeout,
            workspace_id=inp.workspace_id,
            prepared_type=service.PreparedDelivery,
            prepare=lambda session: service.prepare_delivery(session, inp),
            release=lambda session: service.release_reservation(session, inp),
            record=record,
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

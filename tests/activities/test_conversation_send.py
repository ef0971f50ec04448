"""The unibox send activity against the real SMTP server, without Temporal: retries and refusals.

Temporal runs an activity again after a failure or a lost worker; these tests run it twice (or
act out the first attempt's crash by hand) and count what reached the SMTP server.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest
from temporalio.client import Client
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment, WorkflowEnvironment
from temporalio.worker import Worker

from activities.conversations import ConversationActivities
from coldflow import mailer
from coldflow.contracts.conversations import (
    CONVERSATION_SEND_WORKFLOW,
    ConversationSendFailed,
    ConversationSendInput,
    ConversationSendResult,
    DeliveryStatus,
    conversation_send_workflow_id,
)
from coldflow.crypto import SecretBox, generate_key
from coldflow.models import (
    ConnectionStatus,
    Conversation,
    ConversationMessage,
    Inbox,
    SendStatus,
    SentMessage,
    TransportSecurity,
)
from coldflow.schemas.conversations import ReplyCreate
from coldflow.services import conversations as service
from coldflow.services import inboxes as inbox_service
from coldflow.services import workspaces as workspace_service
from coldflow.services.inboxes import Credentials
from coldflow.services.journeys import Journeys
from coldflow.store.db import SessionFactory, unit_of_work
from tests.fixtures.smtp import SmtpServer
from workflows.conversation_send import ConversationSendWorkflow

CONTACT = "ann@example.com"
SENDER = "alex@sender.example.com"


class NoTemporal(Journeys):
    """Records the workflow the request would start; the tests run its activity themselves."""

    def __init__(self) -> None:
        super().__init__(self._unreachable, task_queue="none", namespace="default")
        self.started: list[str] = []

    @staticmethod
    async def _unreachable() -> object:
        raise AssertionError("no Temporal client in these tests")

    async def start_task(self, workflow: str, arg: object, *, workflow_id: str) -> None:
        self.started.append(workflow_id)


@dataclass
class World:
    sessions: SessionFactory
    box: SecretBox
    smtp: SmtpServer
    workspace_id: str
    inbox_id: str
    activities: ConversationActivities

    async def send(
        self, inp: ConversationSendInput, client: Client | None = None
    ) -> ConversationSendResult:
        result: ConversationSendResult = await ActivityEnvironment(client).run(
            self.activities.send_conversation_message, inp
        )
        return result

    async def sent_rows(
        self, inp: ConversationSendInput
    ) -> tuple[ConversationMessage, SentMessage | None]:
        async with unit_of_work(self.sessions) as session:
            message = await session.get(ConversationMessage, inp.message_row_id)
            assert message is not None
            sent = await session.get(SentMessage, message.sent_message_id or "")
            return message, sent


@pytest.fixture
async def world(sessions: SessionFactory, smtp_server: SmtpServer) -> World:
    box = SecretBox(generate_key())
    async with unit_of_work(sessions) as session:
        workspace = await workspace_service.create_workspace(session=session, name="acme")
        inbox = Inbox(
            workspace_id=workspace.id,
            email=SENDER,
            smtp_host=smtp_server.host,
            smtp_port=smtp_server.port,
            smtp_username=SENDER,
            smtp_security=TransportSecurity.none,
            credentials=Credentials(smtp_password="right").seal(box),
            connection_status=ConnectionStatus.connected,
        )
        session.add(inbox)
    return World(
        sessions, box, smtp_server, workspace.id, inbox.id, ConversationActivities(sessions, box)
    )


async def queue_reply(world: World) -> ConversationSendInput:
    """A thread with one incoming message and a reply queued by the API's service."""
    journeys = NoTemporal()
    async with unit_of_work(world.sessions) as session:
        conversation = Conversation(
            workspace_id=world.workspace_id,
            inbox_id=world.inbox_id,
            contact_email=CONTACT,
            subject="Pricing",
        )
        session.add(conversation)
        await session.flush()
        session.add(
            ConversationMessage(
                workspace_id=world.workspace_id,
                conversation_id=conversation.id,
                inbox_id=world.inbox_id,
                direction="incoming",
                message_id="<q1@example.com>",
                from_email=CONTACT,
                subject="Pricing",
            )
        )
        await session.flush()
        message = await service.reply(
            session=session,
            journeys=journeys,
            workspace_id=world.workspace_id,
            conversation_id=conversation.id,
            data=ReplyCreate(content="<p>It is 10 euros.</p>"),
        )
    assert journeys.started == [f"conversation-send/{message.id}"]
    return ConversationSendInput(workspace_id=world.workspace_id, message_row_id=message.id)


async def test_a_retry_after_the_send_was_recorded_sends_nothing(world: World) -> None:
    inp = await queue_reply(world)

    first = await world.send(inp)
    again = await world.send(inp)  # Temporal lost the first completion (worker died after it)

    assert first == again == ConversationSendResult(DeliveryStatus.SENT)
    [received] = await world.smtp.wait_for(1)
    message, sent = await world.sent_rows(inp)
    assert received.message["Message-ID"] == message.message_id
    assert received.message["In-Reply-To"] == "<q1@example.com>"
    assert sent is not None
    assert (sent.status, sent.message_id) == (SendStatus.sent, message.message_id)
    assert len(world.smtp.messages) == 1


async def test_a_crash_between_smtp_and_the_record_is_not_sent_twice(world: World) -> None:
    inp = await queue_reply(world)
    # The first attempt, by hand: reserve (committed), deliver... and the worker dies.
    async with unit_of_work(world.sessions) as session:
        prepared = await service.prepare_delivery(session, inp)
        assert isinstance(prepared, service.PreparedDelivery)
        inbox = await session.get(Inbox, world.inbox_id)
        assert inbox is not None
        settings = inbox_service.smtp_settings(inbox, world.box)
    await mailer.send_message(
        settings, sender=prepared.sender, recipient=prepared.recipient, message=prepared.message
    )

    result = await world.send(inp)  # Temporal's retry

    assert result.status == DeliveryStatus.FAILED
    assert result.error == service.UNCONFIRMED
    assert len(await world.smtp.wait_for(1)) == 1
    assert await world.send(inp) == result
    assert len(world.smtp.messages) == 1


async def test_a_transient_refusal_is_retried_and_then_sent_once(world: World) -> None:
    inp = await queue_reply(world)
    world.smtp.reject_rcpt = {CONTACT: "451 4.7.1 Greylisted, try again later"}

    with pytest.raises(ApplicationError) as raised:
        await world.send(inp)

    assert raised.value.type == "SmtpTransient"
    assert not raised.value.non_retryable
    message, sent = await world.sent_rows(inp)
    assert (message.sent_message_id, sent) == (None, None)  # back to queued
    world.smtp.reject_rcpt = {}
    assert await world.send(inp) == ConversationSendResult(DeliveryStatus.SENT)
    assert len(await world.smtp.wait_for(1)) == 1


async def test_a_rejected_recipient_fails_without_retry(world: World) -> None:
    inp = await queue_reply(world)
    world.smtp.reject_rcpt = {CONTACT: "550 5.1.1 User unknown"}

    result = await world.send(inp)

    assert result.status == DeliveryStatus.FAILED
    assert result.error is not None
    assert "550" in result.error
    _, sent = await world.sent_rows(inp)
    assert sent is not None
    assert sent.status == SendStatus.bounced
    world.smtp.reject_rcpt = {}
    assert await world.send(inp) == result  # decided: a retry does not try SMTP again
    assert world.smtp.messages == []


async def test_wrong_credentials_fail_the_message_and_the_inbox(
    world: World, temporal_client: Client
) -> None:
    inp = await queue_reply(world)
    world.smtp.auth = (SENDER, "the-new-password")

    # With a client: marking the inbox ``error`` also stops its mailbox watcher (none here).
    result = await world.send(inp, temporal_client)

    assert result.status == DeliveryStatus.FAILED
    assert result.error is not None
    assert "535" in result.error
    async with unit_of_work(world.sessions) as session:
        inbox = await session.get(Inbox, world.inbox_id)
    assert inbox is not None
    assert inbox.connection_status == ConnectionStatus.error
    assert world.smtp.messages == []


async def test_giving_up_records_the_last_error(world: World) -> None:
    inp = await queue_reply(world)
    failed = ConversationSendFailed(inp.workspace_id, inp.message_row_id, "451 try later")

    result: ConversationSendResult = await ActivityEnvironment().run(
        world.activities.fail_conversation_message, failed
    )

    assert result == ConversationSendResult(DeliveryStatus.FAILED, "451 try later")
    assert world.smtp.messages == []


async def test_the_workflow_gives_up_after_its_retries_and_records_failed(
    world: World, time_env: WorkflowEnvironment, task_queue: str
) -> None:
    inp = await queue_reply(world)
    world.smtp.reject_rcpt = {CONTACT: "451 4.3.0 Mail server temporarily rejected message"}
    activities = world.activities
    async with Worker(
        time_env.client,
        task_queue=task_queue,
        workflows=[ConversationSendWorkflow],
        activities=[activities.send_conversation_message, activities.fail_conversation_message],
        workflow_failure_exception_types=[Exception],
    ):
        # The time-skipping server jumps over the backoff between the attempts.
        result = await time_env.client.execute_workflow(
            CONVERSATION_SEND_WORKFLOW,
            inp,
            id=conversation_send_workflow_id(inp.message_row_id),
            task_queue=task_queue,
            result_type=ConversationSendResult,
            execution_timeout=timedelta(days=1),
        )

    assert result.status == DeliveryStatus.FAILED
    assert result.error is not None
    assert "451" in result.error
    assert world.smtp.messages == []
    _, sent = await world.sent_rows(inp)
    assert sent is not None
    assert sent.status == SendStatus.failed

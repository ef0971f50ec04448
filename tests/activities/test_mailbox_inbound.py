"""``coldflow.services.inbound.store_message``, the database half of the watcher, on SQLite and
PostgreSQL: exactly-once storing, matching order, folders and labels, awkward messages."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlmodel import select

from coldflow.contracts.journey import JourneySignal, ReplyReceived
from coldflow.models import (
    Campaign,
    Conversation,
    ConversationMessage,
    Event,
    Folder,
    Inbox,
    Lead,
    SentMessage,
)
from coldflow.services import inbound
from coldflow.services.inbound import StoreResult, StoreStatus
from coldflow.store.db import unit_of_work
from tests.e2e.test_reply_world import (
    contacted_lead,
    dsn,
    out_of_office,
    reply_to,
    waiting_campaign,
)
from tests.fixtures.smtp import SmtpServer
from tests.workflows.world import World, open_world

UIDVALIDITY = 1000


@pytest.fixture
async def world(database_url: str, smtp_server: SmtpServer, tmp_path: Path) -> AsyncIterator[World]:
    async with open_world(None, database_url, smtp_server, tmp_path / "data") as world:
        yield world


@pytest.fixture
async def any_world(
    store_url: str, smtp_server: SmtpServer, tmp_path: Path
) -> AsyncIterator[World]:
    async with open_world(None, store_url, smtp_server, tmp_path / "data") as world:
        yield world


async def store(world: World, inbox: Inbox, uid: int, raw: bytes) -> StoreResult:
    async with unit_of_work(world.sessions) as session:
        row = await session.get(Inbox, inbox.id)
        assert row is not None
        return await inbound.store_message(
            session, inbox=row, uidvalidity=UIDVALIDITY, uid=uid, raw=raw
        )


async def setup(world: World, **campaign: object) -> tuple[Inbox, Campaign, Lead, SentMessage]:
    inbox = await world.inbox()
    sending = await waiting_campaign(world, inbox, **campaign)
    lead, sent = await contacted_lead(world, sending, inbox, "sarah@lead.example.com")
    return inbox, sending, lead, sent


async def test_each_message_is_stored_once(any_world: World) -> None:
    world = any_world
    inbox, campaign, lead, sent = await setup(world)
    raw = reply_to(sent, "Interested, tell me more.")

    first = await store(world, inbox, 1, raw)
    again = await store(world, inbox, 1, raw)  # the same slot: a session died before its cursor
    copy = await store(world, inbox, 7, raw)  # the same message elsewhere (or re-synced)
    own = await store(world, inbox, 8, reply_to(sent, message_id=sent.message_id))

    assert first.status == StoreStatus.STORED
    assert [n.signal for n in first.notices] == [JourneySignal.REPLY_RECEIVED]
    payload = first.notices[0].payload
    assert isinstance(payload, ReplyReceived)
    assert (payload.message_id, payload.stop) == (first.message_id, True)
    assert (again.status, again.notices) == (StoreStatus.RESIGNAL, first.notices)
    assert (copy.status, copy.notices) == (StoreStatus.DUPLICATE, ())
    assert own.status == StoreStatus.DUPLICATE
    assert len(await world.rows(select(ConversationMessage))) == 1
    assert len(await world.rows(select(Event).where(Event.type == "email.replied"))) == 1


async def test_awkward_messages_are_stored(any_world: World) -> None:
    """No Message-ID, NUL bytes (which PostgreSQL text refuses), overlong header values."""
    world = any_world
    inbox, *_ = await setup(world)
    name = "N" * 500
    raw = (
        f"From: {name} <someone@elsewhere.example>\r\nTo: alex@sender.example.com\r\n"
        "Subject: nul\x00here\r\n\r\nbody with \x00 a NUL\r\n"
    ).encode()

    first = await store(world, inbox, 1, raw)
    second = await store(world, inbox, 2, raw)

    assert first.status == StoreStatus.STORED
    assert first.message_id.endswith("@coldflow.invalid>")
    assert (second.status, second.message_id) == (StoreStatus.DUPLICATE, first.message_id)
    [message] = await world.rows(select(ConversationMessage))
    assert "\x00" not in message.subject + message.text
    assert len(message.from_name) == 200


async def test_thread_match_wins_over_the_sender_address(world: World) -> None:
    """Replying from another address in the lead's thread is still the lead's reply; References
    alone (no In-Reply-To) are enough."""
    inbox, campaign, lead, sent = await setup(world)
    raw = reply_to(sent, "Forwarding to my colleague.", from_email="colleague@other.example")
    raw = raw.replace(b"In-Reply-To: ", b"X-Old-In-Reply-To: ")

    result = await store(world, inbox, 1, raw)

    [message] = await world.rows(select(ConversationMessage))
    conversation: Conversation = await world.get(Conversation, message.conversation_id)
    assert (conversation.lead_id, conversation.folder) == (lead.id, Folder.primary)
    assert conversation.contact_email == lead.email
    assert result.notices[0].lead_id == lead.id


async def test_address_match_prefers_the_lead_written_from_this_inbox(world: World) -> None:
    inbox = await world.inbox()
    other_inbox = await world.inbox("other@sender.example.com")
    first = await waiting_campaign(world, inbox)
    second = await waiting_campaign(world, inbox)
    await contacted_lead(world, first, other_inbox, "pat@lead.example.com")
    mine, sent = await contacted_lead(world, second, inbox, "pat@lead.example.com")
    async with unit_of_work(world.sessions) as session:
        row = await session.get(Lead, mine.id)
        assert row is not None
        row.inbox_id = inbox.id
        session.add(row)

    result = await store(world, inbox, 1, reply_to(sent, "Yes.", threaded=False))

    assert [(n.campaign_id, n.lead_id) for n in result.notices] == [(second.id, mine.id)]


async def test_dsn_without_returned_headers_matches_the_failed_recipient(world: World) -> None:
    inbox, _, lead, sent = await setup(world)
    raw = (
        dsn(sent).split(b"Content-Type: text/rfc822-headers")[0]
        + b"--000000000000dsn0b0undary--\r\n"
    )

    result = await store(world, inbox, 1, raw)

    assert [n.signal for n in result.notices] == [JourneySignal.BOUNCED]
    assert result.notices[0].lead_id == lead.id
    row: Lead = await world.get(Lead, lead.id)
    assert row.is_bounced


async def test_a_reply_after_an_auto_reply_moves_the_thread_to_primary(world: World) -> None:
    inbox, _, lead, sent = await setup(world)

    ooo = await store(world, inbox, 1, out_of_office(sent))
    reply = await store(world, inbox, 2, reply_to(sent, "Back now. Let's book a meeting."))
    later = await store(world, inbox, 3, out_of_office(sent))

    assert ooo.notices == ()
    assert ooo.conversation_id == reply.conversation_id == later.conversation_id
    conversation: Conversation = await world.get(Conversation, reply.conversation_id)
    assert conversation.folder == Folder.primary
    assert conversation.label == "meeting_requested"
    assert conversation.is_positive


async def test_reply_to_a_unibox_message_joins_its_thread(world: World) -> None:
    inbox = await world.inbox()
    async with unit_of_work(world.sessions) as session:
        conversation = Conversation(
            workspace_id=world.workspace_id,
            inbox_id=inbox.id,
            contact_email="new@prospect.example",
            folder=Folder.others,
        )
        session.add(conversation)
        await session.flush()
        session.add(
            ConversationMessage(
                workspace_id=world.workspace_id,
                conversation_id=conversation.id,
                inbox_id=inbox.id,
                direction="outgoing",
                message_id="<unibox.1@sender.example.com>",
                from_email=inbox.email,
                subject="Hello",
            )
        )
    raw = (
        b"From: new@prospect.example\r\nTo: alex@sender.example.com\r\nSubject: Re: Hello\r\n"
        b"Message-ID: <r1@prospect.example>\r\nIn-Reply-To: <unibox.1@sender.example.com>\r\n"
        b"\r\nSure, what do you have in mind?\r\n"
    )

    result = await store(world, inbox, 1, raw)

    assert result.conversation_id == conversation.id
    row: Conversation = await world.get(Conversation, conversation.id)
    assert row.folder == Folder.primary
    assert not row.is_read


class TestApiEmails:
    """Replies to and bounce reports of API emails (POST /emails): no lead, no journey, but the
    emails log and webhooks hear of them."""

    async def _api_email(self, world: World, inbox: Inbox, to: str) -> SentMessage:
        from coldflow.models import Contact, EmailSource, SendStatus

        async with unit_of_work(world.sessions) as session:
            sent = SentMessage(
                workspace_id=world.workspace_id,
                source=EmailSource.api,
                inbox_id=inbox.id,
                message_id=f"<api.{to}@sender.example.com>",
                to_email=to,
                subject="Welcome!",
                status=SendStatus.sent,
                tags={"type": "welcome"},
            )
            session.add(sent)
            session.add(Contact(workspace_id=world.workspace_id, email=to))
        return sent

    async def test_hard_dsn_bounces_the_email_and_its_contact_once(self, world: World) -> None:
        from coldflow.models import Contact, ContactStatus, SendStatus

        inbox = await world.inbox()
        sent = await self._api_email(world, inbox, "gone@customer.example")
        await store(world, inbox, 1, dsn(sent))
        await store(world, inbox, 2, dsn(sent))  # a second report of the same failure
        async with unit_of_work(world.sessions) as session:
            email = await session.get(SentMessage, sent.id)
            events = (await session.exec(select(Event).where(Event.email_id == sent.id))).all()
            contact = (await session.exec(select(Contact))).one()
        assert email is not None
        assert email.status == SendStatus.bounced
        assert [(e.type, e.data["hard"], e.data["tags"]) for e in events] == [
            ("email.bounced", True, {"type": "welcome"})
        ]
        assert contact.status == ContactStatus.bounced

    async def test_reply_is_logged_on_the_email_and_kept_in_primary(self, world: World) -> None:
        inbox = await world.inbox()
        sent = await self._api_email(world, inbox, "ann@customer.example")
        result = await store(world, inbox, 1, reply_to(sent, "Thanks, can we talk?"))
        assert result.notices == ()  # no journey to signal
        async with unit_of_work(world.sessions) as session:
            [event] = (await session.exec(select(Event).where(Event.email_id == sent.id))).all()
            conversation = (await session.exec(select(Conversation))).one()
        assert event.type == "email.replied"
        assert event.data["replied_to"] == sent.message_id
        assert (conversation.folder, conversation.lead_id) == (Folder.primary, None)


async def test_spam_complaint_unsubscribes_the_lead_and_marks_the_contact(world: World) -> None:
    """An RFC 5965 abuse report: the lead is unsubscribed (source ``complaint``), its journey is
    told, and the address's contact becomes ``complained``."""
    from coldflow.models import Contact, ContactStatus
    from tests.e2e.test_reply_world import abuse_report

    inbox = await world.inbox()
    campaign = await waiting_campaign(world, inbox)
    lead, sent = await contacted_lead(world, campaign, inbox, "sam@lead.example.com")
    async with unit_of_work(world.sessions) as session:
        session.add(Contact(workspace_id=world.workspace_id, email=lead.email))
    result = await store(world, inbox, 1, abuse_report(sent))
    [notice] = result.notices
    assert notice.signal == JourneySignal.UNSUBSCRIBED
    assert notice.payload.source == "complaint"
    async with unit_of_work(world.sessions) as session:
        row = await session.get(Lead, lead.id)
        [event] = (await session.exec(select(Event).where(Event.type == "lead.unsubscribed"))).all()
        contact = (await session.exec(select(Contact))).one()
    assert row is not None
    assert row.is_unsubscribed
    assert event.data["source"] == "complaint"
    assert contact.status == ContactStatus.complained

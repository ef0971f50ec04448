"""Reply, bounce and auto-reply detection end to end: a real Dovecot, the real Temporal dev
server, a worker, and the mailbox watcher idling on the inbox (issue 6, "Watching")."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlmodel import col, select
from temporalio.client import WorkflowExecutionStatus
from temporalio.testing import WorkflowEnvironment

from coldflow.contracts.journey import JourneyQuery, JourneyStatus
from coldflow.models import (
    Attachment,
    Conversation,
    Event,
    Folder,
    Inbox,
    Lead,
    LeadStatus,
    MailboxCursor,
    MessageKind,
    SendStatus,
    SentMessage,
)
from coldflow.store.db import unit_of_work
from tests.e2e.test_reply_world import (
    contacted_lead,
    dsn,
    enroll_all,
    eventually,
    imap_inbox,
    journey_result,
    out_of_office,
    reply_to,
    stop_watchers,
    stored,
    wait_cursor,
    waiting_campaign,
    watch,
)
from tests.fixtures.imap import ImapServer
from tests.fixtures.smtp import SmtpServer
from tests.workflows.world import World, open_world

pytestmark = pytest.mark.imap


@pytest.fixture
async def world(
    temporal_env: WorkflowEnvironment, database_url: str, smtp_server: SmtpServer, tmp_path: Path
) -> AsyncIterator[World]:
    async with open_world(temporal_env, database_url, smtp_server, tmp_path / "data") as world:
        yield world
        await stop_watchers(world)


async def _events(world: World, lead_id: str, kind: str) -> list[Event]:
    return await world.rows(select(Event).where(Event.lead_id == lead_id, Event.type == kind))


async def _status(world: World, lead: Lead) -> JourneyStatus:
    status: JourneyStatus = await world.handles[lead.id].query(
        JourneyQuery.STATUS, result_type=JourneyStatus
    )
    return status


async def test_reply_stops_journey_and_is_stored(world: World, imap_server: ImapServer) -> None:
    user = imap_server.add_user()
    inbox = await imap_inbox(world, imap_server, user)
    campaign = await waiting_campaign(world, inbox)
    lead, sent = await contacted_lead(world, campaign, inbox, "sarah@lead.example.com")
    await enroll_all(world, campaign, [lead])
    watcher = await watch(world, inbox)

    await imap_server.append(user, reply_to(sent, "Interested! Can you send pricing?"))

    assert await journey_result(world, lead) == "stopped: replied"
    [message] = await eventually(lambda: stored(world, inbox.id), "the stored reply")
    assert message.kind == MessageKind.reply
    assert message.direction == "incoming"
    assert message.from_email == "sarah@lead.example.com"
    assert message.sent_message_id == sent.id
    assert "Interested" in message.text
    conversation: Conversation = await world.get(Conversation, message.conversation_id)
    assert (conversation.lead_id, conversation.campaign_id) == (lead.id, campaign.id)
    assert conversation.folder == Folder.primary
    assert conversation.label is not None
    [event] = await _events(world, lead.id, "email.replied")
    assert (event.step, event.variant_id, event.inbox_id) == (1, sent.variant_id, inbox.id)
    assert event.data["label"] == conversation.label
    assert event.data["is_positive"] == conversation.is_positive
    assert event.data["replied_to"] == sent.message_id
    replied: Lead = await world.get(Lead, lead.id)
    assert replied.status == LeadStatus.replied
    assert (await watcher.describe()).status == WorkflowExecutionStatus.RUNNING
    await watcher.signal("stop")
    assert await watcher.result() == "stopped: requested"


async def test_hard_bounce_dsn_bounces_the_right_lead(
    world: World, imap_server: ImapServer
) -> None:
    """Matched by the returned message's Message-ID, not by the mailer-daemon sender."""
    user = imap_server.add_user()
    inbox = await imap_inbox(world, imap_server, user)
    campaign = await waiting_campaign(world, inbox)
    lead, sent = await contacted_lead(world, campaign, inbox, "gone@lead.example.com")
    other, _ = await contacted_lead(world, campaign, inbox, "here@lead.example.com")
    await enroll_all(world, campaign, [lead, other])
    await watch(world, inbox)

    await imap_server.append(user, dsn(sent, status="5.1.1"))

    assert await journey_result(world, lead) == "stopped: bounced"
    bounced: Lead = await world.get(Lead, lead.id)
    assert bounced.is_bounced
    assert (await world.get(SentMessage, sent.id)).status == SendStatus.bounced
    [event] = await _events(world, lead.id, "email.bounced")
    assert event.data["hard"] is True
    assert event.data["status"] == "5.1.1"
    [message] = await stored(world, inbox.id)
    assert message.kind == MessageKind.bounce
    conversation: Conversation = await world.get(Conversation, message.conversation_id)
    assert conversation.folder == Folder.others
    assert conversation.lead_id == lead.id
    await wait_cursor(world, inbox, 1)
    assert (await _status(world, other)).stopped_reason is None
    assert not (await world.get(Lead, other.id)).is_bounced


async def test_soft_bounce_and_out_of_office_do_not_stop(
    world: World, imap_server: ImapServer
) -> None:
    user = imap_server.add_user()
    inbox = await imap_inbox(world, imap_server, user)
    campaign = await waiting_campaign(world, inbox)
    full, full_sent = await contacted_lead(world, campaign, inbox, "full@lead.example.com")
    away, away_sent = await contacted_lead(world, campaign, inbox, "away@lead.example.com")
    await enroll_all(world, campaign, [full, away])
    await watch(world, inbox)

    await imap_server.append(user, dsn(full_sent, status="4.2.2", action="delayed"))
    await imap_server.append(user, out_of_office(away_sent))
    await wait_cursor(world, inbox, 2)

    soft, ooo = await stored(world, inbox.id)
    assert soft.kind == MessageKind.bounce
    assert (ooo.kind, ooo.label) == (MessageKind.auto_reply, "out_of_office")
    for lead in (full, away):
        status = await _status(world, lead)
        assert status.stopped_reason is None, lead.email
        row: Lead = await world.get(Lead, lead.id)
        assert (row.is_bounced, row.status) == (False, LeadStatus.uncontacted)
    [event] = await _events(world, full.id, "email.bounced")
    assert event.data["hard"] is False
    assert await _events(world, away.id, "email.replied") == []
    conversation: Conversation = await world.get(Conversation, ooo.conversation_id)
    assert (conversation.folder, conversation.label) == (Folder.others, "out_of_office")


async def test_company_reply_stops_colleagues_but_not_free_mail(
    world: World, imap_server: ImapServer
) -> None:
    user = imap_server.add_user()
    inbox = await imap_inbox(world, imap_server, user)
    campaign = await waiting_campaign(world, inbox, stop_on_company_reply=True)
    ceo, ceo_sent = await contacted_lead(world, campaign, inbox, "ceo@acme.example")
    cto, _ = await contacted_lead(world, campaign, inbox, "cto@acme.example")
    cfo, _ = await contacted_lead(world, campaign, inbox, "cfo@acme.example")
    jane, jane_sent = await contacted_lead(world, campaign, inbox, "jane@gmail.com")
    john, _ = await contacted_lead(world, campaign, inbox, "john@gmail.com")
    other, _ = await contacted_lead(world, campaign, inbox, "bob@globex.example")
    await enroll_all(world, campaign, [ceo, cto, cfo, jane, john, other])
    await watch(world, inbox)

    # The CEO's assistant answers in the CEO's thread, from an address that is no lead.
    await imap_server.append(
        user, reply_to(ceo_sent, "Not interested, thanks.", from_email="assistant@acme.example")
    )
    await imap_server.append(user, reply_to(jane_sent, "Sure, let's talk."))

    assert await journey_result(world, ceo) == "stopped: replied"
    assert await journey_result(world, cto) == "stopped: company_replied"
    assert await journey_result(world, cfo) == "stopped: company_replied"
    assert await journey_result(world, jane) == "stopped: replied"
    await wait_cursor(world, inbox, 2)
    for lead in (john, other):
        assert (await _status(world, lead)).stopped_reason is None, lead.email


async def test_unsubscribe_request_unsubscribes(world: World, imap_server: ImapServer) -> None:
    user = imap_server.add_user()
    inbox = await imap_inbox(world, imap_server, user)
    campaign = await waiting_campaign(world, inbox)
    lead, sent = await contacted_lead(world, campaign, inbox, "nope@lead.example.com")
    await enroll_all(world, campaign, [lead])
    await watch(world, inbox)

    await imap_server.append(user, reply_to(sent, "Please remove me from your mailing list."))

    assert await journey_result(world, lead) == "stopped: unsubscribed"
    row: Lead = await world.get(Lead, lead.id)
    assert row.is_unsubscribed
    assert len(await _events(world, lead.id, "lead.unsubscribed")) == 1


async def test_unthreaded_and_unmatched_mail(world: World, imap_server: ImapServer) -> None:
    """No In-Reply-To: the sender's address decides; a stranger's mail lands in others."""
    user = imap_server.add_user()
    inbox = await imap_inbox(world, imap_server, user)
    campaign = await waiting_campaign(world, inbox)
    lead, sent = await contacted_lead(world, campaign, inbox, "fresh@lead.example.com")
    await enroll_all(world, campaign, [lead])
    await watch(world, inbox)
    attachment = (
        b"From: stranger@elsewhere.example\r\nTo: alex@sender.example.com\r\n"
        b"Subject: Partnership\r\nMessage-ID: <s1@elsewhere.example>\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\n'
        b"Content-Type: text/plain\r\n\r\nHello there, see attached.\r\n--b\r\n"
        b'Content-Type: application/pdf\r\nContent-Disposition: attachment; filename="deck.pdf"\r\n'
        b"Content-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQK\r\n--b--\r\n"
    )

    await imap_server.append(user, attachment)
    await imap_server.append(user, reply_to(sent, "Tell me more please.", threaded=False))

    assert await journey_result(world, lead) == "stopped: replied"
    await wait_cursor(world, inbox, 2)
    stranger, known = await stored(world, inbox.id)
    assert known.sent_message_id == sent.id
    unmatched: Conversation = await world.get(Conversation, stranger.conversation_id)
    assert (unmatched.lead_id, unmatched.folder) == (None, Folder.others)
    assert unmatched.contact_email == "stranger@elsewhere.example"
    [pdf] = await world.rows(select(Attachment).where(Attachment.message_id == stranger.id))
    assert (pdf.filename, pdf.content_type, pdf.content) == (
        "deck.pdf",
        "application/pdf",
        b"%PDF-1.4\n",
    )


async def test_uidvalidity_change_resyncs_without_duplicates(
    world: World, imap_server: ImapServer
) -> None:
    """The watched folder is deleted and recreated: every UID is new, every message is not."""
    user = imap_server.add_user()
    async with imap_server.client(user) as client:
        await client.create('"Replies"')
    inbox = await imap_inbox(world, imap_server, user, folder="Replies")
    campaign = await waiting_campaign(world, inbox)
    leads = [
        await contacted_lead(world, campaign, inbox, f"l{i}@lead.example.com") for i in range(3)
    ]
    await enroll_all(world, campaign, [lead for lead, _ in leads])
    await watch(world, inbox)
    first = [reply_to(sent, "Interested.") for _, sent in leads[:2]]
    for raw in first:
        await imap_server.append(user, raw, folder="Replies")
    before = await wait_cursor(world, inbox, 2)

    async with imap_server.client(user) as client:
        await client.delete('"Replies"')
        await client.create('"Replies"')
    for raw in [*first, reply_to(leads[2][1], "Interested too.")]:
        await imap_server.append(user, raw, folder="Replies")

    assert await journey_result(world, leads[2][0]) == "stopped: replied"

    async def resynced() -> MailboxCursor | None:
        async with unit_of_work(world.sessions) as session:
            cursor = await session.get(MailboxCursor, (inbox.id, "Replies"))
        return cursor if cursor and cursor.uidvalidity != before.uidvalidity else None

    after = await eventually(resynced, "the cursor under the new UIDVALIDITY")
    assert after.last_uid == 3
    messages = await stored(world, inbox.id)
    assert len(messages) == 3
    assert len({m.message_id for m in messages}) == 3
    assert [m.imap_uidvalidity for m in messages].count(after.uidvalidity) == 1
    for lead, _ in leads:
        assert len(await _events(world, lead.id, "email.replied")) == 1


async def test_bad_credentials_put_inbox_in_error(world: World, imap_server: ImapServer) -> None:
    user = imap_server.add_user()
    inbox = await imap_inbox(world, imap_server, user, password="wrong-password")
    watcher = await watch(world, inbox)

    result = await watcher.result()

    assert result.startswith("auth_failed: IMAP login refused")
    row: Inbox = await world.get(Inbox, inbox.id)
    assert row.connection_status == "error"
    assert row.connection_error is not None
    assert "IMAP login refused" in row.connection_error
    cursor = await world.rows(select(MailboxCursor).where(col(MailboxCursor.inbox_id) == inbox.id))
    assert cursor == []

"""Inbox warmup's receiving side in the ``watch_mailbox`` activity, against the real Dovecot (its
``Junk`` folder is marked ``\\Junk``): warmup mail is recorded, marked read and flagged, rescued
from the spam folder, and kept out of the unibox; forged and ordinary mail is not."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import func, select
from temporalio.testing import WorkflowEnvironment

from activities.mailbox import MailboxActivities
from coldflow import imap_folders, warmup
from coldflow.contracts.mailbox import WatchMailboxInput, WatchMailboxResult, WatchOutcome
from coldflow.contracts.warmup import SendWarmupInput
from coldflow.imap import quote_mailbox
from coldflow.models import Conversation, ConversationMessage, Event, Inbox, WarmupMessage
from coldflow.services import warmup as warmup_service
from coldflow.store.db import unit_of_work
from tests.activities.test_mailbox import environment, stranger
from tests.e2e.test_reply_world import (
    contacted_lead,
    eventually,
    imap_inbox,
    reply_to,
    stored,
    wait_cursor,
    waiting_campaign,
)
from tests.fixtures.imap import ImapServer, ImapUser
from tests.fixtures.smtp import SmtpServer
from tests.workflows.world import World, open_world

pytestmark = pytest.mark.imap

SECRET = "warmup-test-secret"
DAY = "2026-03-02"
JUNK = "Junk"
_FLAGS = re.compile(rb"FLAGS \(([^)]*)\)")
_UID = re.compile(rb"\bUID (\d+)")


@pytest.fixture
async def world(database_url: str, smtp_server: SmtpServer, tmp_path: Path) -> AsyncIterator[World]:
    async with open_world(None, database_url, smtp_server, tmp_path / "data") as world:
        yield world


async def warming_pair(
    world: World, server: ImapServer, *, warming: bool = True
) -> tuple[Inbox, Inbox, ImapUser]:
    """Inboxes A and B, both connected and reading their own Dovecot user; B's user too."""
    inboxes = []
    for name in ("anna", "ben"):
        user = server.add_user(name)
        inbox = await imap_inbox(world, server, user, email=user.address)
        async with unit_of_work(world.sessions) as session:
            row = await session.get(Inbox, inbox.id)
            assert row is not None
            row.is_warming, row.first_name = warming, name.title()
            session.add(row)
        inboxes.append((row, user))
    (a, _), (b, b_user) = inboxes
    return a, b, b_user


async def warmup_mail(world: World, sender: Inbox, recipient: Inbox, seq: int) -> bytes:
    """Record a warmup message as sent, and return the bytes the sender's SMTP would carry."""
    async with unit_of_work(world.sessions) as session:
        inp = SendWarmupInput(world.workspace_id, sender.id, recipient.id, DAY, seq)
        prepared = await warmup_service.prepare_send(session, inp, SECRET, now=datetime.now(UTC))
        assert not isinstance(prepared, str), prepared
        await warmup_service.record_sent(session, prepared.row_id)
    return prepared.message


def forged(sender: Inbox, recipient: Inbox) -> bytes:
    """Looks like warmup mail, but its token was signed with another secret."""
    token = warmup.make_token(sender.id, DAY, 99, "someone-elses-secret")
    return (
        f"From: {sender.email}\r\nTo: {recipient.email}\r\nSubject: Quick one\r\n"
        f"Message-ID: <forged.{token[:12]}@elsewhere.example>\r\n"
        f"{warmup.WARMUP_HEADER}: {token}\r\n\r\n"
        f"Hi, code {warmup.body_code(token)}.\r\n"
    ).encode()


async def row(world: World, token_of: bytes) -> WarmupMessage:
    token = re.search(rb"X-Coldflow-Warmup: (\w+)", token_of)
    assert token is not None
    [found] = await world.rows(
        select(WarmupMessage).where(WarmupMessage.token == token.group(1).decode())
    )
    return found  # type: ignore[no-any-return]


async def flags(server: ImapServer, user: ImapUser, folder: str) -> list[set[str]]:
    """Each message's flags in ``folder``, oldest UID first, read on a separate connection."""
    async with server.client(user) as client:
        assert (await client.select(quote_mailbox(folder))).result == "OK"
        response = await client.uid("fetch", "1:*", "(UID FLAGS)")
        assert response.result == "OK"
    found: dict[int, set[str]] = {}
    for line in response.lines[:-1]:
        uid, listed = _UID.search(line), _FLAGS.search(line)
        if uid is not None and listed is not None:
            found[int(uid.group(1))] = set(listed.group(1).decode().split()) - {"\\Recent"}
    return [found[uid] for uid in sorted(found)]


async def unibox_counts(world: World) -> tuple[int, int, int]:
    counts = []
    for model in (Conversation, ConversationMessage, Event):
        [n] = await world.rows(select(func.count()).select_from(model))
        counts.append(n)
    return counts[0], counts[1], counts[2]


def activities(world: World, **options: Any) -> MailboxActivities:
    return MailboxActivities(world.sessions, world.box, warmup_secret=SECRET, **options)


async def run_session(
    world: World,
    temporal_env: WorkflowEnvironment,
    inbox: Inbox,
    seconds: float = 1.0,
    **options: Any,
) -> WatchMailboxResult:
    result: WatchMailboxResult = await environment(temporal_env.client).run(
        activities(world, **options).watch_mailbox,
        WatchMailboxInput(world.workspace_id, inbox.id, session_seconds=seconds),
    )
    return result


SEEN_FLAGGED = {"\\Seen", "\\Flagged"}


async def test_warmup_in_junk_is_rescued_flagged_and_kept_out_of_the_unibox(
    world: World, imap_server: ImapServer, temporal_env: WorkflowEnvironment
) -> None:
    a, b, user = await warming_pair(world, imap_server)
    raw = await warmup_mail(world, a, b, 0)
    await imap_server.append(user, raw, folder=JUNK)
    before = await unibox_counts(world)

    result = await run_session(world, temporal_env, b)

    assert (result.outcome, result.stored) == (WatchOutcome.ROTATE, 0)
    assert await imap_server.list_messages(user, JUNK) == []
    assert await imap_server.list_messages(user) == [raw]
    assert await flags(imap_server, user, "INBOX") == [SEEN_FLAGGED]
    received = await row(world, raw)
    assert received.received_at is not None
    assert received.in_spam
    assert received.rescued_at == received.received_at
    assert await unibox_counts(world) == before
    cursor = await wait_cursor(world, b, 1)  # seen in INBOX afterwards, and passed
    assert cursor.last_uid == 1
    again = await row(world, raw)
    assert (again.received_at, again.in_spam) == (received.received_at, True)


async def test_warmup_in_inbox_is_recorded_and_flagged_not_stored(
    world: World, imap_server: ImapServer, temporal_env: WorkflowEnvironment
) -> None:
    a, b, user = await warming_pair(world, imap_server)
    raw = await warmup_mail(world, a, b, 1)
    await imap_server.append(user, raw)
    before = await unibox_counts(world)

    result = await run_session(world, temporal_env, b)

    assert result.stored == 0
    received = await row(world, raw)
    assert received.received_at is not None
    assert (received.in_spam, received.rescued_at) == (False, None)
    assert await flags(imap_server, user, "INBOX") == [SEEN_FLAGGED]
    assert await unibox_counts(world) == before
    assert await stored(world, b.id) == []


async def test_lead_reply_to_a_warming_inbox_is_still_a_conversation(
    world: World, imap_server: ImapServer, temporal_env: WorkflowEnvironment
) -> None:
    a, b, user = await warming_pair(world, imap_server)
    campaign = await waiting_campaign(world, b)
    lead, sent = await contacted_lead(world, campaign, b, "sarah@lead.example.com")
    await imap_server.append(user, reply_to(sent, "Interested, tell me more."))
    await imap_server.append(user, await warmup_mail(world, a, b, 2))

    result = await run_session(world, temporal_env, b)

    assert result.stored == 1
    [message] = await stored(world, b.id)
    assert message.from_email == "sarah@lead.example.com"
    [conversation] = await world.rows(select(Conversation))
    assert conversation.lead_id == lead.id
    [event] = await world.rows(select(Event).where(Event.type == "email.replied"))
    assert event.lead_id == lead.id
    assert await flags(imap_server, user, "INBOX") == [set(), SEEN_FLAGGED]


async def test_forged_mark_is_ordinary_mail_and_stays_in_junk(
    world: World, imap_server: ImapServer, temporal_env: WorkflowEnvironment
) -> None:
    a, b, user = await warming_pair(world, imap_server)
    fake = forged(a, b)
    real = await warmup_mail(world, a, b, 3)
    await imap_server.append(user, fake, folder=JUNK)
    await imap_server.append(user, real, folder=JUNK)
    await imap_server.append(user, forged(a, b).replace(b"<forged.", b"<forged2."))

    result = await run_session(world, temporal_env, b)

    assert await imap_server.list_messages(user, JUNK) == [fake]
    assert await flags(imap_server, user, JUNK) == [set()]
    assert result.stored == 1  # the forged one in INBOX, as ordinary mail
    [message] = await stored(world, b.id)
    assert message.subject == "Quick one"
    assert (await row(world, real)).in_spam
    assert await flags(imap_server, user, "INBOX") == [set(), SEEN_FLAGGED]


async def test_junk_is_left_alone_when_the_inbox_is_not_warming(
    world: World, imap_server: ImapServer, temporal_env: WorkflowEnvironment
) -> None:
    a, b, user = await warming_pair(world, imap_server, warming=False)
    raw = await warmup_mail_unchecked(world, a, b)
    await imap_server.append(user, raw, folder=JUNK)

    await run_session(world, temporal_env, b)

    assert await imap_server.list_messages(user, JUNK) == [raw]
    assert (await row(world, raw)).received_at is None


async def warmup_mail_unchecked(world: World, sender: Inbox, recipient: Inbox) -> bytes:
    """A recorded warmup message even though the sender no longer warms up (it stopped after
    sending): prepare_send refuses a non-warming sender, so it is switched on for the call."""
    async with unit_of_work(world.sessions) as session:
        row = await session.get(Inbox, sender.id)
        assert row is not None
        row.is_warming = True
        session.add(row)
    raw = await warmup_mail(world, sender, recipient, 4)
    async with unit_of_work(world.sessions) as session:
        row = await session.get(Inbox, sender.id)
        assert row is not None
        row.is_warming = False
        session.add(row)
    return raw


async def test_junk_is_scanned_between_idles(
    world: World, imap_server: ImapServer, temporal_env: WorkflowEnvironment
) -> None:
    """A long session idles in INBOX, yet rescues mail that lands in Junk meanwhile, and still
    notices INBOX mail at once."""
    a, b, user = await warming_pair(world, imap_server)
    beats: list[Any] = []
    env = environment(temporal_env.client, heartbeat=1.0)
    env.on_heartbeat = lambda *details: beats.append(details)
    task = asyncio.create_task(
        env.run(
            activities(world, junk_scan_seconds=0.3).watch_mailbox,
            WatchMailboxInput(world.workspace_id, b.id, session_seconds=600),
        )
    )
    try:
        while not beats:  # idling
            await asyncio.sleep(0.05)
        raw = await warmup_mail(world, a, b, 5)
        await imap_server.append(user, raw, folder=JUNK)
        await eventually(lambda: rescued(world, raw), "the rescue from Junk")
        await imap_server.append(user, stranger(1))
        await eventually(lambda: stored(world, b.id), "the stranger's mail stored")
        await wait_cursor(world, b, 2)
    finally:
        env.cancel()
        with pytest.raises(asyncio.CancelledError):
            await asyncio.wait_for(task, 30)

    assert await imap_server.list_messages(user, JUNK) == []
    assert await flags(imap_server, user, "INBOX") == [SEEN_FLAGGED, set()]
    assert beats[-1][0]["mode"] == "idle"


async def rescued(world: World, raw: bytes) -> datetime | None:
    return (await row(world, raw)).rescued_at


async def test_failed_junk_scan_keeps_the_inbox_watched(
    world: World,
    imap_server: ImapServer,
    temporal_env: WorkflowEnvironment,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The server refuses to SELECT the spam folder: logged, retried each interval, and INBOX
    mail is still stored."""
    a, b, user = await warming_pair(world, imap_server)
    looked: list[datetime] = []

    async def missing(*_args: Any) -> str:
        looked.append(datetime.now(UTC))
        return "No such folder"

    monkeypatch.setattr(imap_folders, "find_junk_folder", missing)
    await imap_server.append(user, stranger(1))

    result = await run_session(world, temporal_env, b, seconds=1.5, junk_scan_seconds=0.2)

    assert (result.outcome, result.stored) == (WatchOutcome.ROTATE, 1)
    assert len(looked) >= 3  # looked up again after each failure
    await imap_server.append(user, stranger(2))
    assert (await run_session(world, temporal_env, b, junk_scan_seconds=0.2)).stored == 1


async def test_crash_after_recording_flags_on_the_next_fetch(
    world: World, imap_server: ImapServer, temporal_env: WorkflowEnvironment
) -> None:
    """A session died after recording a warmup message, before its flags and cursor: the next
    session fetches it again, records nothing new and sets the flags."""
    a, b, user = await warming_pair(world, imap_server)
    raw = await warmup_mail(world, a, b, 6)
    await imap_server.append(user, raw)
    mark = warmup.find_mark([(warmup.WARMUP_HEADER, (await row(world, raw)).token)], "", SECRET)
    assert mark is not None
    earlier = datetime(2026, 3, 2, 10, tzinfo=UTC)
    async with unit_of_work(world.sessions) as session:
        recipient = await session.get(Inbox, b.id)
        assert recipient is not None
        await warmup_service.record_received(
            session, recipient=recipient, mark=mark, in_spam=False, now=earlier
        )
    assert await flags(imap_server, user, "INBOX") == [set()]

    result = await run_session(world, temporal_env, b)

    assert result.stored == 0
    assert await flags(imap_server, user, "INBOX") == [SEEN_FLAGGED]
    assert (await row(world, raw)).received_at == earlier
    assert await stored(world, b.id) == []

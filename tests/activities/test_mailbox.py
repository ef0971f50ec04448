"""The ``watch_mailbox`` activity against the real Dovecot, run through ActivityEnvironment:
cursors and the ``n:*`` trap, the first session's horizon, IDLE heartbeats, polling, and how a
session ends (rotation, a changed or vanished inbox, an unreachable server, worker shutdown)."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment, WorkflowEnvironment

from activities.mailbox import MailboxActivities
from coldflow import imap
from coldflow.contracts.mailbox import WatchMailboxInput, WatchMailboxResult, WatchOutcome
from coldflow.models import Inbox, MailboxCursor, TransportSecurity
from coldflow.store.db import unit_of_work
from tests.e2e.test_reply_world import imap_inbox, stored
from tests.fixtures.imap import ImapServer, ImapUser
from tests.fixtures.ports import free_port
from tests.fixtures.smtp import SmtpServer
from tests.workflows.world import World, open_world

pytestmark = pytest.mark.imap


@pytest.fixture
async def world(database_url: str, smtp_server: SmtpServer, tmp_path: Path) -> AsyncIterator[World]:
    async with open_world(None, database_url, smtp_server, tmp_path / "data") as world:
        yield world


def stranger(n: int) -> bytes:
    return (
        f"From: person{n}@elsewhere.example\r\nTo: alex@sender.example.com\r\n"
        f"Subject: Hello {n}\r\nMessage-ID: <m{n}.{id(object())}@elsewhere.example>\r\n\r\n"
        "Hi there.\r\n"
    ).encode()


def environment(client: Any, heartbeat: float | None = 2.0) -> ActivityEnvironment:
    env = ActivityEnvironment(client=client)
    env.info = dataclasses.replace(
        env.info,
        heartbeat_timeout=timedelta(seconds=heartbeat) if heartbeat else None,
        task_queue="mailbox-activity-test",
    )
    return env


async def run_session(
    world: World,
    temporal_env: WorkflowEnvironment,
    inbox: Inbox,
    seconds: float = 0.5,
    **options: Any,
) -> WatchMailboxResult:
    activities = MailboxActivities(world.sessions, world.box, **options)
    result: WatchMailboxResult = await environment(temporal_env.client).run(
        activities.watch_mailbox,
        WatchMailboxInput(world.workspace_id, inbox.id, session_seconds=seconds),
    )
    return result


async def cursor_of(world: World, inbox: Inbox) -> MailboxCursor | None:
    async with unit_of_work(world.sessions) as session:
        return await session.get(MailboxCursor, (inbox.id, inbox.imap_folder))


async def test_cursor_and_the_n_star_trap(
    world: World, imap_server: ImapServer, temporal_env: WorkflowEnvironment
) -> None:
    """``UID SEARCH UID 3:*`` answers 2 when 2 is the newest UID; nothing is read twice."""
    user = imap_server.add_user()
    inbox = await imap_inbox(world, imap_server, user)
    for n in (1, 2):
        await imap_server.append(user, stranger(n))

    first = await run_session(world, temporal_env, inbox)
    second = await run_session(world, temporal_env, inbox)

    assert (first.outcome, first.stored, first.mode) == (WatchOutcome.ROTATE, 2, "idle")
    assert second.stored == 0
    cursor = await cursor_of(world, inbox)
    assert cursor is not None
    assert cursor.last_uid == 2
    assert len(await stored(world, inbox.id)) == 2
    settings = imap.ImapSettings(
        imap_server.host, imap_server.port, user.username, user.password, TransportSecurity.none
    )
    async with imap.MailboxSession(settings) as mailbox:
        raw = await mailbox._client.uid_search("UID 3:*", charset=None)
        assert raw.lines[0].split() == [b"2"]  # the trap, as the server springs it
        assert await mailbox.uids_after(2) == []


async def test_first_session_reads_only_mail_since_the_inbox_was_added(
    world: World, imap_server: ImapServer, temporal_env: WorkflowEnvironment
) -> None:
    user = imap_server.add_user()
    inbox = await imap_inbox(world, imap_server, user)
    async with imap_server.client(user) as client:
        old = datetime.now(UTC) - timedelta(days=30)
        await client.append(stranger(1), mailbox='"INBOX"', date=old)
    await imap_server.append(user, stranger(2))

    result = await run_session(world, temporal_env, inbox)

    assert result.stored == 1
    [message] = await stored(world, inbox.id)
    assert message.subject == "Hello 2"
    cursor = await cursor_of(world, inbox)
    assert cursor is not None
    assert cursor.last_uid == 2


async def test_idle_session_heartbeats_notices_mail_and_can_be_cancelled(
    world: World, imap_server: ImapServer, temporal_env: WorkflowEnvironment
) -> None:
    user = imap_server.add_user()
    inbox = await imap_inbox(world, imap_server, user)
    beats: list[Any] = []
    env = environment(temporal_env.client, heartbeat=1.0)
    env.on_heartbeat = lambda *details: beats.append(details)
    activities = MailboxActivities(world.sessions, world.box)
    task = asyncio.create_task(
        env.run(
            activities.watch_mailbox,
            WatchMailboxInput(world.workspace_id, inbox.id, session_seconds=600),
        )
    )
    while len(beats) < 2:  # idling: the 0.25 s ticks heartbeat
        await asyncio.sleep(0.05)
    await imap_server.append(user, stranger(1))
    while not await stored(world, inbox.id):
        await asyncio.sleep(0.05)
    env.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(task, 30)
    assert beats[-1][0]["mode"] == "idle"


async def test_polls_when_the_server_has_no_idle(
    world: World,
    imap_server: ImapServer,
    temporal_env: WorkflowEnvironment,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(imap.MailboxSession, "has_idle", property(lambda _self: False))
    user = imap_server.add_user()
    inbox = await imap_inbox(world, imap_server, user)
    activities = MailboxActivities(world.sessions, world.box, poll_interval=0.2)
    beats: list[Any] = []
    env = environment(temporal_env.client, heartbeat=0.4)
    env.on_heartbeat = lambda *details: beats.append(details)
    task = asyncio.create_task(
        env.run(
            activities.watch_mailbox,
            WatchMailboxInput(world.workspace_id, inbox.id, session_seconds=3),
        )
    )
    while not beats:  # the session is in its polling wait
        await asyncio.sleep(0.05)
    await imap_server.append(user, stranger(1))
    result: WatchMailboxResult = await asyncio.wait_for(task, 30)

    assert (result.outcome, result.stored, result.mode) == (WatchOutcome.ROTATE, 1, "poll")


async def test_changed_inbox_rotates_and_vanished_inbox_stops(
    world: World, imap_server: ImapServer, temporal_env: WorkflowEnvironment
) -> None:
    user = imap_server.add_user()
    inbox = await imap_inbox(world, imap_server, user)
    activities = MailboxActivities(world.sessions, world.box, idle_reissue=0.2)
    beats: list[Any] = []
    env = environment(temporal_env.client, heartbeat=0.4)
    env.on_heartbeat = lambda *details: beats.append(details)
    task = asyncio.create_task(
        env.run(
            activities.watch_mailbox,
            WatchMailboxInput(world.workspace_id, inbox.id, session_seconds=600),
        )
    )
    while not beats:  # the session is idling
        await asyncio.sleep(0.05)
    await _edit(world, inbox, updated_at=datetime.now(UTC))
    changed: WatchMailboxResult = await asyncio.wait_for(task, 30)
    await _edit(world, inbox, is_active=False)
    inactive = await run_session(world, temporal_env, inbox)

    assert (changed.outcome, changed.reason) == (WatchOutcome.ROTATE, "inbox settings changed")
    assert inactive.outcome == WatchOutcome.STOPPED


async def test_unreachable_server_fails_the_attempt_for_a_retry(
    world: World, imap_server: ImapServer, temporal_env: WorkflowEnvironment
) -> None:
    user = ImapUser("nobody@mail.test", "nobody@mail.test", "x")
    inbox = await imap_inbox(world, imap_server, user)
    await _edit(world, inbox, imap_port=free_port())

    with pytest.raises(ApplicationError) as raised:
        await run_session(world, temporal_env, inbox)

    assert raised.value.type == "ImapUnavailable"
    assert not raised.value.non_retryable


async def test_worker_shutdown_hands_the_mailbox_over(
    world: World, imap_server: ImapServer, temporal_env: WorkflowEnvironment
) -> None:
    user = imap_server.add_user()
    inbox = await imap_inbox(world, imap_server, user)
    beats: list[Any] = []
    env = environment(temporal_env.client, heartbeat=1.0)
    env.on_heartbeat = lambda *details: beats.append(details)
    activities = MailboxActivities(world.sessions, world.box)
    task = asyncio.create_task(
        env.run(
            activities.watch_mailbox,
            WatchMailboxInput(world.workspace_id, inbox.id, session_seconds=600),
        )
    )
    while not beats:
        await asyncio.sleep(0.05)
    env.worker_shutdown()
    with pytest.raises(ApplicationError) as raised:
        await asyncio.wait_for(task, 30)
    assert raised.value.type == "WorkerShutdown"


async def _edit(world: World, inbox: Inbox, **changes: Any) -> None:
    async with unit_of_work(world.sessions) as session:
        row = await session.get(Inbox, inbox.id)
        assert row is not None
        for name, value in changes.items():
            setattr(row, name, value)
        session.add(row)

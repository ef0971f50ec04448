"""The watcher under failure: a worker killed mid-batch, a crash between storing a message and
signalling its journey, and Dovecot restarted under an idling watcher.

The worker that gets killed runs in its own process (``coldflow worker``) and dies by SIGKILL,
so nothing of it gets to clean up; the Dovecot that restarts is a private one, started from the
fixture's own config, so the session's server is left alone.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlmodel import func, select
from temporalio.client import WorkflowExecutionStatus
from temporalio.testing import WorkflowEnvironment

from coldflow.config import Settings
from coldflow.crypto import SecretBox, generate_key
from coldflow.models import Conversation, ConversationMessage, Event, Inbox
from coldflow.services import inbound
from coldflow.services.journeys import Journeys
from coldflow.store.db import unit_of_work
from tests.e2e.test_reply_world import (
    contacted_lead,
    enroll_all,
    eventually,
    imap_inbox,
    journey_result,
    reply_to,
    stop_watchers,
    stored,
    wait_cursor,
    waiting_campaign,
    watch,
)
from tests.fixtures.imap import (
    ImapServer,
    _die_with_parent,
    _dovecot_binary,
    _start_dovecot,
    _stop,
)
from tests.fixtures.ports import LOOPBACK, wait_for_banner
from tests.fixtures.smtp import SmtpServer
from tests.workflows.world import World, open_world
from worker import build_worker

pytestmark = [pytest.mark.imap, pytest.mark.timeout(300)]
BATCH = 100


@pytest.fixture
async def crash_world(
    temporal_env: WorkflowEnvironment, database_url: str, smtp_server: SmtpServer, tmp_path: Path
) -> AsyncIterator[tuple[World, Settings]]:
    """A world whose workers the test starts and kills itself."""
    secret = generate_key()
    async with open_world(None, database_url, smtp_server, tmp_path / "data") as world:
        world.env = temporal_env
        world.box = SecretBox(secret)
        world.journeys = Journeys(
            temporal_env.client, task_queue=world.task_queue, namespace="default"
        )
        settings = Settings(
            env="test",
            data_dir=tmp_path / "data",
            database_url=database_url,
            temporal_address=temporal_env.client.service_client.config.target_host,
            task_queue=world.task_queue,
            secret_key=secret,
            public_url="http://127.0.0.1:8000",
        )
        yield world, settings
        await stop_watchers(world)


def _worker_process(settings: Settings, log: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "COLDFLOW_ENV": "test",
        "COLDFLOW_DATABASE_URL": settings.database_url,
        "COLDFLOW_TEMPORAL_ADDRESS": settings.temporal_address,
        "COLDFLOW_TASK_QUEUE": settings.task_queue,
        "COLDFLOW_SECRET_KEY": settings.secret_key,
        "COLDFLOW_PUBLIC_URL": settings.public_url,
        "COLDFLOW_DATA_DIR": str(settings.data_dir),
    }
    with log.open("ab") as out:
        return subprocess.Popen(
            [str(Path(sys.executable).parent / "coldflow"), "worker"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )


async def _count(world: World, inbox_id: str) -> int:
    async with unit_of_work(world.sessions) as session:
        stmt = select(func.count()).where(ConversationMessage.inbox_id == inbox_id)
        return int((await session.exec(stmt)).one())


async def test_worker_killed_mid_batch_stores_each_message_once(
    crash_world: tuple[World, Settings], imap_server: ImapServer, tmp_path: Path
) -> None:
    world, settings = crash_world
    user = imap_server.add_user()
    inbox = await imap_inbox(world, imap_server, user)
    campaign = await waiting_campaign(world, inbox)
    leads = [
        await contacted_lead(world, campaign, inbox, f"lead{i:03}@company{i:03}.example")
        for i in range(BATCH)
    ]
    for _, sent in leads:
        await imap_server.append(user, reply_to(sent, "Yes, interested. Call me."))
    process = _worker_process(settings, tmp_path / "worker.log")
    try:
        await enroll_all(world, campaign, [lead for lead, _ in leads])
        await watch(world, inbox)
        await eventually(lambda: _at_least(world, inbox.id, 10), "the first stored messages")
        process.send_signal(signal.SIGKILL)
        process.wait()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    at_kill = await _count(world, inbox.id)

    async with (
        build_worker(
            settings, world.env.client, workflow_failure_exception_types=[Exception]
        ) as worker,
        worker,
    ):
        await wait_cursor(world, inbox, BATCH)
        results = [await journey_result(world, lead) for lead, _ in leads]

    print(f"killed the worker with {at_kill} of {BATCH} messages stored")
    assert results == ["stopped: replied"] * BATCH
    messages = await stored(world, inbox.id)
    assert len(messages) == BATCH
    assert len({m.message_id for m in messages}) == BATCH
    assert sorted(m.imap_uid for m in messages) == list(range(1, BATCH + 1))
    events = await world.rows(select(Event).where(Event.type == "email.replied"))
    assert Counter(e.lead_id for e in events) == Counter({lead.id: 1 for lead, _ in leads})
    conversations = await world.rows(select(Conversation).where(Conversation.inbox_id == inbox.id))
    assert sorted(c.lead_id for c in conversations) == sorted(lead.id for lead, _ in leads)


async def _at_least(world: World, inbox_id: str, n: int) -> bool:
    return await _count(world, inbox_id) >= n


async def test_crash_between_store_and_signal_signals_again(
    crash_world: tuple[World, Settings], imap_server: ImapServer
) -> None:
    """A session stored the message and died before signalling and moving the cursor."""
    world, settings = crash_world
    user = imap_server.add_user()
    inbox = await imap_inbox(world, imap_server, user)
    campaign = await waiting_campaign(world, inbox)
    lead, sent = await contacted_lead(world, campaign, inbox, "quick@lead.example.com")
    raw = reply_to(sent, "Interested, send details.")
    await imap_server.append(user, raw)
    async with imap_server.client(user) as client:
        selected = await client.select("INBOX")
    uidvalidity = next(
        int(line.split(b"UIDVALIDITY ")[1].split(b"]")[0])
        for line in selected.lines
        if b"UIDVALIDITY" in line
    )
    async with (
        build_worker(
            settings, world.env.client, workflow_failure_exception_types=[Exception]
        ) as worker,
        worker,
    ):
        await enroll_all(world, campaign, [lead])
        async with unit_of_work(world.sessions) as session:
            row = await session.get(Inbox, inbox.id)
            assert row is not None
            first = await inbound.store_message(
                session, inbox=row, uidvalidity=uidvalidity, uid=1, raw=raw
            )
        assert first.status == inbound.StoreStatus.STORED
        assert first.notices  # what the dead session never sent

        await watch(world, inbox)

        assert await journey_result(world, lead) == "stopped: replied"
        await wait_cursor(world, inbox, 1)

    assert len(await stored(world, inbox.id)) == 1
    events = await world.rows(select(Event).where(Event.type == "email.replied"))
    assert len(events) == 1


class _PrivateDovecot:
    """A Dovecot of the test's own that can be stopped and started again on the same port and
    mail directory, as a server restart would."""

    def __init__(self) -> None:
        binary = _dovecot_binary()
        assert binary is not None
        self.binary = binary
        self.process, self.server = _start_dovecot(binary)

    def stop(self) -> None:
        _stop(self.process)

    def start(self) -> None:
        config = self.server.root / "dovecot.conf"
        with (self.server.root / "stderr.log").open("ab") as out:
            self.process = subprocess.Popen(
                [self.binary, "-F", "-c", str(config)],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=out,
                start_new_session=True,
                preexec_fn=_die_with_parent,
            )
        wait_for_banner(LOOPBACK, self.server.port, b"* OK", 15.0, process=self.process)

    def deliver(self, username: str, raw: bytes) -> None:
        """Drop a message into the user's maildir, as the MTA does while IMAP is down."""
        maildir = self.server.root / "mail" / username
        name = f"{uuid.uuid4().hex}.coldflow-test"
        staged = maildir / "tmp" / name
        staged.write_bytes(raw)
        shutil.chown(staged, user="mail", group="mail")
        staged.rename(maildir / "new" / name)


@pytest.fixture
def private_dovecot(imap_server: ImapServer) -> Iterator[_PrivateDovecot]:
    """Asks for ``imap_server`` only so a missing Dovecot skips (or fails under CI) alike."""
    dovecot = _PrivateDovecot()
    try:
        yield dovecot
    finally:
        dovecot.stop()
        shutil.rmtree(dovecot.server.root, ignore_errors=True)


async def test_dovecot_restart_while_idling_catches_up(
    crash_world: tuple[World, Settings], private_dovecot: _PrivateDovecot
) -> None:
    world, settings = crash_world
    server = private_dovecot.server
    user = server.add_user()
    inbox = await imap_inbox(world, server, user)
    campaign = await waiting_campaign(world, inbox)
    leads = [
        await contacted_lead(world, campaign, inbox, f"r{i}@lead{i}.example") for i in range(3)
    ]
    async with (
        build_worker(
            settings, world.env.client, workflow_failure_exception_types=[Exception]
        ) as worker,
        worker,
    ):
        await enroll_all(world, campaign, [lead for lead, _ in leads])
        watcher = await watch(world, inbox)
        await server.append(user, reply_to(leads[0][1], "Interested."))
        assert await journey_result(world, leads[0][0]) == "stopped: replied"
        await wait_cursor(world, inbox, 1)

        private_dovecot.stop()
        for _, sent in leads[1:]:
            private_dovecot.deliver(user.username, reply_to(sent, "Yes please, interested."))
        private_dovecot.start()

        assert await journey_result(world, leads[1][0]) == "stopped: replied"
        assert await journey_result(world, leads[2][0]) == "stopped: replied"
        await wait_cursor(world, inbox, 3)
        description = await watcher.describe()
    assert description.status == WorkflowExecutionStatus.RUNNING
    messages = await stored(world, inbox.id)
    assert len(messages) == 3
    assert len({m.message_id for m in messages}) == 3

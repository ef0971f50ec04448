"""Crash-proof sending, proven by killing processes (issue 5).

A campaign of N leads (default 500, ``COLDFLOW_CRASH_LEADS`` to change) with two steps runs on a
private dev server with SQLite persistence and a worker in its own process. The worker is killed
with SIGKILL three times at random moments and restarted; in the second test the dev server
itself is killed and restarted on the same SQLite file. In the end every lead has exactly one
message per step at the SMTP server, counted by Message-ID: none missing, none sent twice under
two ids. (A crash between the SMTP server's "250 OK" and the worker's bookkeeping resends the
same bytes with the same Message-ID, which receivers deduplicate; the count of such resends is
printed.)
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from temporalio.client import Client

from coldflow.config import Settings
from coldflow.crypto import SecretBox, generate_key
from coldflow.devserver import DevServer, start_dev_server
from coldflow.models import CampaignStatus, ConnectionStatus, Inbox, Lead, TransportSecurity
from coldflow.schemas.campaigns import CampaignCreate, InlineStep
from coldflow.services import campaigns as campaign_service
from coldflow.services import workspaces as workspace_service
from coldflow.services.inboxes import Credentials
from coldflow.services.journeys import Journeys
from coldflow.store.db import create_engine, session_factory, unit_of_work
from coldflow.store.migrate import upgrade_to_head
from tests.e2e.helpers import always_open, zone_open_now
from tests.fixtures.ports import free_port
from tests.fixtures.smtp import SmtpServer

pytestmark = pytest.mark.timeout(1500)

LEADS = int(os.environ.get("COLDFLOW_CRASH_LEADS", "500"))
INBOXES = 4  # 500 leads x 2 steps over 4 inboxes stays under the 500/day inbox cap


@dataclass
class Stack:
    tmp: Path
    settings: Settings
    server: DevServer
    client: Client
    worker: subprocess.Popen[bytes] | None = None

    def start_worker(self) -> None:
        env = {
            **os.environ,
            "COLDFLOW_DATABASE_URL": self.settings.database_url,
            "COLDFLOW_TEMPORAL_ADDRESS": self.settings.temporal_address,
            "COLDFLOW_TASK_QUEUE": self.settings.task_queue,
            "COLDFLOW_SECRET_KEY": self.settings.secret_key,
            "COLDFLOW_PUBLIC_URL": self.settings.public_url,
            "COLDFLOW_DATA_DIR": str(self.settings.data_dir),
        }
        log = open(self.tmp / "worker.log", "ab")  # noqa: SIM115
        self.worker = subprocess.Popen(
            [str(Path(sys.executable).parent / "coldflow"), "worker"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )

    def kill_worker(self) -> None:
        assert self.worker is not None
        self.worker.send_signal(signal.SIGKILL)
        self.worker.wait()

    def restart_server(self) -> None:
        self.server.process.send_signal(signal.SIGKILL)
        self.server.process.wait()
        self.server = start_dev_server(
            db_file=self.tmp / "temporal.db",
            port=self.server.port,
            ui_port=None,
            log_file=self.tmp / "temporal.log",
        )


@pytest.fixture
async def stack(tmp_path: Path) -> AsyncIterator[Stack]:
    port = free_port()
    server = start_dev_server(
        db_file=tmp_path / "temporal.db",
        port=port,
        ui_port=None,
        log_file=tmp_path / "temporal.log",
    )
    await server.wait_ready()
    settings = Settings(
        env="test",
        data_dir=tmp_path,
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'c.db'}",
        temporal_address=f"127.0.0.1:{port}",
        task_queue="crash",
        secret_key=generate_key(),
        public_url="http://127.0.0.1:8000",
    )
    await asyncio.to_thread(upgrade_to_head, settings.database_url)
    client = await _connect(settings.temporal_address)
    stack = Stack(tmp=tmp_path, settings=settings, server=server, client=client)
    try:
        yield stack
    finally:
        if stack.worker is not None and stack.worker.poll() is None:
            stack.kill_worker()
        stack.server.stop()


async def _connect(address: str) -> Client:
    for _ in range(100):
        try:
            return await Client.connect(address)
        except RuntimeError:
            await asyncio.sleep(0.2)
    raise AssertionError(f"no Temporal at {address}")


async def _campaign(stack: Stack, smtp: SmtpServer) -> str:
    """Two steps, always open, N leads over four inboxes; activated through the service."""
    sessions = session_factory(create_engine(stack.settings.database_url))
    box = SecretBox(stack.settings.secret_key)
    journeys = Journeys(stack.client, task_queue="crash", namespace="default")
    async with unit_of_work(sessions) as session:
        workspace = await workspace_service.create_workspace(session=session, name="crash")
        inbox_ids = []
        for n in range(INBOXES):
            inbox = Inbox(
                workspace_id=workspace.id,
                email=f"sender{n}@crash.example",
                smtp_host=smtp.host,
                smtp_port=smtp.port,
                smtp_security=TransportSecurity.none,
                credentials=Credentials(smtp_password="x").seal(box),
                connection_status=ConnectionStatus.connected,
                daily_campaign_limit=500,
            )
            session.add(inbox)
            inbox_ids.append(inbox.id)
        await session.flush()
        campaign = await campaign_service.create_campaign(
            session=session,
            workspace_id=workspace.id,
            data=CampaignCreate(
                name="crash",
                daily_limit=10_000,
                unsubscribe_option=False,
                schedule=always_open(zone_open_now()),
                inbox_ids=inbox_ids,
                sequences=[
                    InlineStep(subject="Hello {{first_name}}", body="Step one."),
                    InlineStep(delay_days=0, subject="", body="Step two."),
                ],
            ),
        )
        for n in range(LEADS):
            session.add(
                Lead(
                    workspace_id=workspace.id,
                    campaign_id=campaign.id,
                    email=f"lead{n}@crash.example",
                    first_name=f"L{n}",
                )
            )
    async with unit_of_work(sessions) as session:
        found = await campaign_service.get_campaign(
            session=session, workspace_id=workspace.id, campaign_id=campaign.id
        )
        await campaign_service.set_status(
            session=session, journeys=journeys, campaign=found, target=CampaignStatus.active
        )
    return campaign.id


async def _wait_for(smtp: SmtpServer, unique: int, timeout: float = 1200) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        if len({m.message["Message-ID"] for m in smtp.messages}) >= unique:
            return
        await asyncio.sleep(0.5)
    raise AssertionError(f"only {len(smtp.messages)} messages arrived")


def _check(smtp: SmtpServer) -> None:
    """Two distinct Message-IDs per lead, no more, no fewer."""
    copies = Counter(m.message["Message-ID"] for m in smtp.messages)
    recipient = {m.message["Message-ID"]: m.rcpt_tos[0] for m in smtp.messages}
    per_lead = Counter(recipient.values())
    resent = sum(count - 1 for count in copies.values())
    print(f"\n{LEADS} leads: {len(copies)} unique Message-IDs, {resent} same-id resends")
    assert len(copies) == 2 * LEADS
    assert len(per_lead) == LEADS
    assert set(per_lead.values()) == {2}


async def test_worker_killed_three_times(stack: Stack, smtp_server: SmtpServer) -> None:
    await _campaign(stack, smtp_server)
    stack.start_worker()
    rng = random.Random(7)
    for target in sorted(rng.sample(range(LEADS // 5, 2 * LEADS * 4 // 5), 3)):
        await _wait_for(smtp_server, target)
        await asyncio.sleep(rng.random())
        stack.kill_worker()
        stack.start_worker()
    await _wait_for(smtp_server, 2 * LEADS)
    await asyncio.sleep(3)  # anything sent twice would have arrived by now
    _check(smtp_server)


async def test_dev_server_killed_mid_campaign(stack: Stack, smtp_server: SmtpServer) -> None:
    await _campaign(stack, smtp_server)
    stack.start_worker()
    await _wait_for(smtp_server, LEADS // 2)
    stack.restart_server()
    await stack.server.wait_ready()
    await _wait_for(smtp_server, 2 * LEADS)
    await asyncio.sleep(3)
    _check(smtp_server)

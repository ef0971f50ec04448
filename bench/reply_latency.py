"""Reply latency: from APPEND of a reply to its journey stopped, against a bare IDLE client.

    python -m bench.reply_latency [--replies 50]

Starts a private Dovecot (the test fixture's config) and a private Temporal dev server (SQLite,
WAL + synchronous=NORMAL), a coldflow worker in this process, one watched inbox and as many
waiting journeys as replies. Then, one reply at a time:

1. baseline: a bare aioimaplib client idles on another mailbox of the same server; the time from
   the start of an APPEND to that client's ``EXISTS`` notification;
2. coldflow: the time from the start of an APPEND of a lead's reply to that lead's journey having
   stopped (the workflow closed), through IDLE, fetch, parse, classify, match, store, signal.

Prints median and p95 of both and their ratios. Needs root (Dovecot's mail dirs belong to
``mail``); every server is stopped at the end, and the whole run is bounded.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

import aioimaplib
from sqlmodel import col, func, select
from temporalio.client import Client

from coldflow.config import Settings
from coldflow.contracts.mailbox import WatchOptions
from coldflow.crypto import SecretBox, generate_key
from coldflow.devserver import start_dev_server
from coldflow.ids import journey_workflow_id
from coldflow.models import (
    Campaign,
    CampaignInbox,
    CampaignStatus,
    ConnectionStatus,
    Inbox,
    JourneyState,
    Lead,
    MailboxCursor,
    SendStatus,
    SentMessage,
    Step,
    TransportSecurity,
    Variant,
)
from coldflow.services import mailboxes
from coldflow.services import workspaces as workspace_service
from coldflow.services.inboxes import Credentials
from coldflow.services.journeys import Enrollment, Journeys
from coldflow.store.db import SessionFactory, create_engine, session_factory, unit_of_work
from coldflow.store.migrate import upgrade_to_head
from tests.e2e.test_reply_world import closed_schedule
from tests.fixtures.imap import ImapServer, ImapUser, _dovecot_binary, _start_dovecot, _stop
from tests.fixtures.ports import free_port
from worker import build_worker

RUN_BOUND = 900.0  # seconds: the whole benchmark, servers included


def _reply(to_email: str, message_id: str, n: int) -> bytes:
    return (
        f"From: <{to_email}>\r\nTo: sender@bench.example\r\nSubject: Re: Hello\r\n"
        f"Message-ID: <bench-reply-{n}-{time.time_ns()}@lead.example>\r\n"
        f"In-Reply-To: {message_id}\r\nReferences: {message_id}\r\n\r\n"
        "Sounds interesting, can we talk on Thursday?\r\n"
    ).encode()


async def _login(server: ImapServer, user: ImapUser) -> aioimaplib.IMAP4:
    client = aioimaplib.IMAP4(host=server.host, port=server.port, timeout=30)
    await client.wait_hello_from_server()
    response = await client.login(user.username, user.password)
    assert response.result == "OK", response
    return client


async def _baseline(server: ImapServer, n: int) -> list[float]:
    """APPEND → EXISTS pushed to a client idling on the same mailbox."""
    user = server.add_user("baseline")
    appender, idler = await _login(server, user), await _login(server, user)
    await idler.select("INBOX")
    samples = []
    for i in range(n):
        idle = await idler.idle_start(timeout=300)
        started = time.perf_counter()
        await appender.append(_reply("x@lead.example", "<x@bench.example>", i), mailbox="INBOX")
        while True:
            lines = await idler.wait_server_push(timeout=60)
            if any(line.endswith(b"EXISTS") for line in lines):
                break
        samples.append(time.perf_counter() - started)
        idler.idle_done()
        await asyncio.wait_for(idle, 30)
    await appender.logout()
    await idler.logout()
    return samples


async def _world(
    sessions: SessionFactory, box: SecretBox, server: ImapServer, user: ImapUser, n: int
) -> tuple[str, str, str, list[tuple[str, str, str]]]:
    """A watched inbox and ``n`` contacted leads; (workspace, campaign, inbox, leads)."""
    async with unit_of_work(sessions) as session:
        workspace = await workspace_service.create_workspace(session=session, name="bench")
        inbox = Inbox(
            workspace_id=workspace.id,
            email="sender@bench.example",
            imap_host=server.host,
            imap_port=server.port,
            imap_username=user.username,
            imap_security=TransportSecurity.none,
            credentials=Credentials(imap_password=user.password).seal(box),
            connection_status=ConnectionStatus.connected,
        )
        campaign = Campaign(
            workspace_id=workspace.id,
            name="bench",
            status=CampaignStatus.active,
            schedule=closed_schedule(),
        )
        session.add_all([inbox, campaign])
        await session.flush()
        step = Step(campaign_id=campaign.id, position=1, delay_days=3)
        session.add_all([step, CampaignInbox(campaign_id=campaign.id, inbox_id=inbox.id)])
        await session.flush()
        session.add(Variant(step_id=step.id, label="A", subject="Hello", body="Hi"))
        leads = []
        for i in range(n):
            lead = Lead(
                workspace_id=workspace.id,
                campaign_id=campaign.id,
                email=f"lead{i}@company{i}.example",
                company_domain=f"company{i}.example",
            )
            session.add(lead)
            await session.flush()
            sent = SentMessage(
                workspace_id=workspace.id,
                campaign_id=campaign.id,
                lead_id=lead.id,
                step=1,
                inbox_id=inbox.id,
                message_id=f"<bench{i}.1@sender.bench.example>",
                to_email=lead.email,
                status=SendStatus.sent,
                sent_at=datetime.now(UTC),
            )
            session.add(sent)
            leads.append((lead.id, lead.email, sent.message_id))
    return workspace.id, campaign.id, inbox.id, leads


async def _until(probe: Callable[[], Awaitable[bool]], what: str, bound: float = 120.0) -> None:
    deadline = time.monotonic() + bound
    while not await probe():
        if time.monotonic() > deadline:
            raise TimeoutError(f"gave up waiting for {what}")
        await asyncio.sleep(0.05)


async def _coldflow(
    client: Client, settings: Settings, server: ImapServer, n: int
) -> tuple[list[float], str]:
    engine = create_engine(settings.database_url)
    sessions = session_factory(engine)
    box = SecretBox(settings.secret_key)
    user = server.add_user("watched")
    workspace_id, campaign_id, inbox_id, leads = await _world(sessions, box, server, user, n)
    journeys = Journeys(client, task_queue=settings.task_queue, namespace="default")
    samples: list[float] = []
    async with build_worker(settings, client) as worker, worker:
        for lead_id, email, _ in leads:
            await journeys.enroll(Enrollment(workspace_id, campaign_id, lead_id, email))

        async def all_waiting() -> bool:
            async with sessions() as session:
                stmt = select(func.count()).where(
                    Lead.campaign_id == campaign_id, Lead.journey_state == JourneyState.waiting
                )
                return int((await session.exec(stmt)).one()) == n

        await _until(all_waiting, "every journey to wait")
        await mailboxes.start_watcher(
            journeys, workspace_id=workspace_id, inbox_id=inbox_id, options=WatchOptions()
        )

        async def cursor_set() -> bool:
            async with sessions() as session:
                return await session.get(MailboxCursor, (inbox_id, "INBOX")) is not None

        await _until(cursor_set, "the watcher's first sync")
        await asyncio.sleep(0.5)  # the session settles into IDLE (not part of any figure)
        appender = await _login(server, user)
        for i, (lead_id, email, message_id) in enumerate(leads):
            handle = client.get_workflow_handle(journey_workflow_id(campaign_id, lead_id))
            started = time.perf_counter()
            await appender.append(_reply(email, message_id, i), mailbox="INBOX")
            result = await asyncio.wait_for(handle.result(), 60)
            samples.append(time.perf_counter() - started)
            assert result == "stopped: replied", result
        await appender.logout()
        async with sessions() as session:
            replied = await session.exec(
                select(func.count()).where(
                    col(Lead.campaign_id) == campaign_id, Lead.status == "replied"
                )
            )
            assert int(replied.one()) == n
    await engine.dispose()
    return samples, "idle"


def _summary(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    p95 = ordered[max(0, round(0.95 * len(ordered)) - 1)]
    return statistics.median(ordered), p95


async def run(tmp: Path, n: int) -> None:
    binary = _dovecot_binary()
    if binary is None or os.geteuid() != 0:
        raise SystemExit("needs Dovecot (apt-get install -y dovecot-imapd) and root")
    dovecot, server = _start_dovecot(binary)
    port = free_port()
    temporal = start_dev_server(
        db_file=tmp / "temporal.db", port=port, ui_port=None, log_file=tmp / "temporal.log"
    )
    try:
        await temporal.wait_ready()
        client = await Client.connect(f"127.0.0.1:{port}")
        settings = Settings(
            env="test",
            data_dir=tmp,
            database_url=f"sqlite+aiosqlite:///{tmp / 'coldflow.db'}",
            temporal_address=f"127.0.0.1:{port}",
            task_queue="bench-replies",
            secret_key=generate_key(),
            public_url="http://127.0.0.1:8000",
        )
        await asyncio.to_thread(upgrade_to_head, settings.database_url)
        baseline = await _baseline(server, n)
        measured, mode = await _coldflow(client, settings, server, n)
    finally:
        temporal.stop()
        _stop(dovecot)
    base_median, base_p95 = _summary(baseline)
    median, p95 = _summary(measured)
    load = os.getloadavg()[0]
    print(f"replies: {n}, watcher mode: {mode}, load average: {load:.1f}")
    print("persistence: Temporal dev server on SQLite (WAL, synchronous=NORMAL); coldflow SQLite")
    rows = [
        ("baseline APPEND -> IDLE EXISTS ", base_median, base_p95),
        ("coldflow APPEND -> journey stop", median, p95),
    ]
    for label, mid, high in rows:
        print(f"{label}: median {mid * 1000:7.1f} ms, p95 {high * 1000:7.1f} ms")
    ratio_median, ratio_p95 = median / base_median, p95 / base_p95
    print(f"ratio (coldflow / baseline)    : median {ratio_median:7.1f}x, p95 {ratio_p95:7.1f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replies", type=int, default=50)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="coldflow-bench-replies-") as tmp:
        asyncio.run(asyncio.wait_for(run(Path(tmp), args.replies), RUN_BOUND))


if __name__ == "__main__":
    main()

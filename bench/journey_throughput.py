"""Journey throughput against two baselines measured in the same run.

    python -m bench.journey_throughput [--leads 300]

On a private dev server (SQLite, WAL + synchronous=NORMAL) and an SMTP sink in its own process:
1. raw SMTP: the same number of messages sent with coldflow's mailer (one connection each);
2. empty workflows: one trivial workflow with one trivial activity per lead;
3. journeys: a one-step campaign of that many leads, activated through the service, until every
   send is recorded as sent.
Prints messages per second for each and the journey's ratio to both baselines.
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from sqlmodel import col, func, select
from temporalio import activity, workflow
from temporalio.client import Client
from temporalio.worker import UnsandboxedWorkflowRunner, Worker

from coldflow import mailer
from coldflow.config import Settings
from coldflow.crypto import SecretBox, generate_key
from coldflow.devserver import start_dev_server
from coldflow.models import (
    CampaignStatus,
    ConnectionStatus,
    Inbox,
    Lead,
    SentMessage,
    TransportSecurity,
)
from coldflow.schemas.campaigns import CampaignCreate, InlineStep
from coldflow.services import campaigns as campaign_service
from coldflow.services import workspaces as workspace_service
from coldflow.services.inboxes import Credentials
from coldflow.services.journeys import Journeys
from coldflow.store.db import create_engine, session_factory, unit_of_work
from coldflow.store.migrate import upgrade_to_head
from tests.e2e.helpers import always_open, zone_open_now
from tests.fixtures.ports import free_port
from worker import build_worker


@activity.defn(name="noop")
async def noop() -> None:
    """The baseline's activity: no work at all."""


@workflow.defn(name="Baseline")
class Baseline:
    @workflow.run
    async def run(self) -> None:
        await workflow.execute_activity("noop", start_to_close_timeout=timedelta(seconds=30))


def _smtp_sink(port: int) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "aiosmtpd",
            "-n",
            "-l",
            f"127.0.0.1:{port}",
            "-c",
            "aiosmtpd.handlers.Sink",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


async def _raw_smtp(port: int, n: int) -> float:
    settings = mailer.SmtpSettings("127.0.0.1", port, "", "", TransportSecurity.none)
    message = b"From: a@bench.example\r\nTo: b@bench.example\r\nSubject: x\r\n\r\nhello\r\n"
    gate = asyncio.Semaphore(20)

    async def one() -> None:
        async with gate:
            await mailer.send_message(
                settings, sender="a@bench.example", recipient="b@bench.example", message=message
            )

    started = time.perf_counter()
    await asyncio.gather(*(one() for _ in range(n)))
    return n / (time.perf_counter() - started)


async def _empty_workflows(client: Client, n: int) -> float:
    async with Worker(
        client,
        task_queue="baseline",
        workflows=[Baseline],
        activities=[noop],
        workflow_runner=UnsandboxedWorkflowRunner(),
    ):
        started = time.perf_counter()
        handles = [
            await client.start_workflow("Baseline", id=f"baseline-{i}", task_queue="baseline")
            for i in range(n)
        ]
        await asyncio.gather(*(h.result() for h in handles))
        return n / (time.perf_counter() - started)


async def _journeys(client: Client, settings: Settings, smtp_port: int, n: int) -> float:
    engine = create_engine(settings.database_url)
    sessions = session_factory(engine)
    box = SecretBox(settings.secret_key)
    async with unit_of_work(sessions) as session:
        workspace = await workspace_service.create_workspace(session=session, name="bench")
        inbox = Inbox(
            workspace_id=workspace.id,
            email="sender@bench.example",
            smtp_host="127.0.0.1",
            smtp_port=smtp_port,
            smtp_security=TransportSecurity.none,
            credentials=Credentials(smtp_password="x").seal(box),
            connection_status=ConnectionStatus.connected,
            daily_campaign_limit=500,
        )
        session.add(inbox)
        await session.flush()
        campaign = await campaign_service.create_campaign(
            session=session,
            workspace_id=workspace.id,
            data=CampaignCreate(
                name="bench",
                daily_limit=100_000,
                unsubscribe_option=False,
                schedule=always_open(zone_open_now()),
                inbox_ids=[inbox.id],
                sequences=[InlineStep(subject="Hi {{first_name}}", body="One step.")],
            ),
        )
        for i in range(n):
            session.add(
                Lead(
                    workspace_id=workspace.id,
                    campaign_id=campaign.id,
                    email=f"lead{i}@bench.example",
                    first_name=f"L{i}",
                )
            )
    journeys = Journeys(client, task_queue=settings.task_queue, namespace="default")
    async with build_worker(settings, client) as worker, worker:
        started = time.perf_counter()
        async with unit_of_work(sessions) as session:
            found = await campaign_service.get_campaign(
                session=session, workspace_id=workspace.id, campaign_id=campaign.id
            )
            await campaign_service.set_status(
                session=session, journeys=journeys, campaign=found, target=CampaignStatus.active
            )
        while True:
            async with sessions() as session:
                sent = (
                    await session.exec(
                        select(func.count())
                        .select_from(SentMessage)
                        .where(col(SentMessage.sent_at).is_not(None))
                    )
                ).one()
            if sent >= n:
                break
            await asyncio.sleep(0.2)
        rate = n / (time.perf_counter() - started)
    await engine.dispose()
    return rate


async def run(tmp: Path, n: int) -> None:
    temporal_port, smtp_port = free_port(), free_port()
    server = start_dev_server(
        db_file=tmp / "temporal.db", port=temporal_port, ui_port=None, log_file=tmp / "temporal.log"
    )
    sink = _smtp_sink(smtp_port)
    try:
        await server.wait_ready()
        await asyncio.sleep(1.0)
        client = await Client.connect(f"127.0.0.1:{temporal_port}")
        settings = Settings(
            env="test",
            data_dir=tmp,
            database_url=f"sqlite+aiosqlite:///{tmp / 'c.db'}",
            temporal_address=f"127.0.0.1:{temporal_port}",
            task_queue="bench",
            secret_key=generate_key(),
            public_url="http://127.0.0.1:8000",
        )
        await asyncio.to_thread(upgrade_to_head, settings.database_url)
        smtp_rate = await _raw_smtp(smtp_port, n)
        workflow_rate = await _empty_workflows(client, n)
        journey_rate = await _journeys(client, settings, smtp_port, n)
    finally:
        sink.terminate()
        server.stop()
    print("persistence          dev server SQLite, WAL + synchronous=NORMAL; app DB SQLite (WAL)")
    print(f"leads                {n}")
    print(f"raw SMTP sends       {smtp_rate:8.1f} /s")
    print(f"empty workflows      {workflow_rate:8.1f} /s  (start + one activity + complete)")
    print(f"journey sends        {journey_rate:8.1f} /s  (activation to every send recorded)")
    print(f"ratio vs raw SMTP    {journey_rate / smtp_rate:8.3f}")
    print(f"ratio vs workflows   {journey_rate / workflow_rate:8.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--leads", type=int, default=300)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        asyncio.run(run(Path(tmp), args.leads))


if __name__ == "__main__":
    main()

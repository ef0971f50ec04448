"""The Temporal worker: the composition root of workflows and activities, no logic of its own."""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import timedelta
from urllib.parse import urlsplit

from temporalio.client import Client
from temporalio.worker import Worker

from activities import build_activities
from activities.conversations import ConversationActivities
from activities.domains import DomainActivities
from activities.emails import EmailActivities
from activities.enrollment import EnrollmentActivities
from activities.inboxes import InboxActivities
from activities.lead_import import ImportActivities
from activities.mailbox import MailboxActivities
from activities.sending import SendingActivities
from activities.warmup import WarmupActivities
from activities.webhooks import WebhookActivities
from coldflow.config import Settings, get_settings, resolve_secret_key
from coldflow.crypto import SecretBox
from coldflow.links import Links
from coldflow.services import domains, email_sends, mailboxes, warmup
from coldflow.services.journeys import Journeys
from coldflow.services.webhooks import ensure_relay
from coldflow.store.db import create_engine, session_factory
from coldflow.temporal import connect, sandbox_runner
from workflows import WORKFLOWS

log = logging.getLogger(__name__)


@asynccontextmanager
async def build_worker(
    settings: Settings,
    client: Client,
    *,
    task_queue: str | None = None,
    workflow_failure_exception_types: Sequence[type[BaseException]] = (),
) -> AsyncIterator[Worker]:
    """A configured worker (not yet running) and the engine it uses, disposed on exit.

    Tests pass ``workflow_failure_exception_types=[Exception]`` so a workflow bug fails the
    workflow at once instead of retrying its task until the test times out.
    """
    engine = create_engine(settings.resolved_database_url)
    secret = resolve_secret_key(settings)
    sessions = session_factory(engine)
    box = SecretBox(secret)
    links = Links(public_url=settings.resolved_public_url, secret=secret)
    sending = SendingActivities(sessions, box, links, smtp_timeout=settings.smtp_timeout_seconds)
    journeys = Journeys(
        client, task_queue=task_queue or settings.task_queue, namespace=settings.temporal_namespace
    )
    imports = ImportActivities(sessions, journeys)
    try:
        yield Worker(
            client,
            task_queue=task_queue or settings.task_queue,
            workflows=WORKFLOWS,
            activities=build_activities(
                sending,
                imports,
                InboxActivities(sessions, box),
                conversations=ConversationActivities(
                    sessions, box, smtp_timeout=settings.smtp_timeout_seconds
                ),
                webhooks=WebhookActivities(
                    sessions,
                    box,
                    allow_private=settings.webhook_allow_private,
                    timeout=settings.webhook_timeout_seconds,
                    relay_poll_seconds=settings.webhook_relay_poll_seconds,
                    relay_batch=settings.webhook_relay_batch,
                ),
                mailbox=MailboxActivities(sessions, box, warmup_secret=secret),
                enrollment=EnrollmentActivities(sessions, journeys),
                emails=EmailActivities(
                    sessions, box, links, smtp_timeout=settings.smtp_timeout_seconds
                ),
                warmup=WarmupActivities(
                    sessions,
                    box,
                    secret=secret,
                    shared_pool=settings.warmup_shared_pool,
                    spam_threshold=settings.warmup_spam_threshold,
                    smtp_timeout=settings.smtp_timeout_seconds,
                ),
                domains=DomainActivities(
                    sessions,
                    resolver=settings.dns_resolver,
                    timeout=settings.dns_timeout_seconds,
                    tracking_target=urlsplit(settings.resolved_public_url).hostname,
                ),
            ),
            workflow_runner=sandbox_runner(),
            graceful_shutdown_timeout=timedelta(seconds=10),
            workflow_failure_exception_types=workflow_failure_exception_types,
        )
    finally:
        await engine.dispose()


async def _ensure_watchers(settings: Settings, client: Client) -> None:
    engine = create_engine(settings.resolved_database_url)
    journeys = Journeys(
        client, task_queue=settings.task_queue, namespace=settings.temporal_namespace
    )
    try:
        async with session_factory(engine)() as session:
            await mailboxes.ensure_watchers(session, journeys)
            await email_sends.resume_queued(session, journeys)
            await warmup.ensure_warmers(session, journeys)
    finally:
        await engine.dispose()


async def run_worker(settings: Settings) -> None:
    """Run until SIGINT/SIGTERM, then finish in-flight activities (up to the grace period)."""
    client = await connect(settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with build_worker(settings, client) as worker:
        log.info("worker polling task queue %s", settings.task_queue)
        async with worker:
            # Every worker makes sure the webhook relay and the mailbox watchers run (no-ops
            # when they do), so inboxes connected before a deploy are watched too, and that
            # every queued API email has its send workflow (its start may have failed).
            await ensure_relay(client, settings.task_queue)
            await domains.ensure_recheck_schedule(client, settings.task_queue)
            await _ensure_watchers(settings, client)
            await stop.wait()
    log.info("worker stopped")


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)
    asyncio.run(run_worker(get_settings()))

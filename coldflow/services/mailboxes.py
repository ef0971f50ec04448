"""Mailbox watchers: which inboxes are watched, and starting and stopping their workflows.

A watcher runs for every active inbox with IMAP settings once it is connected. It is started
after the commit that connects the inbox and stopped after the one that deactivates or deletes
it; a watcher that misses its stop finds out by itself at its next check of the inbox row.
"""

from __future__ import annotations

import logging

from sqlmodel.ext.asyncio.session import AsyncSession
from temporalio import activity
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.service import RPCError, RPCStatusCode

from coldflow.contracts.mailbox import (
    MAILBOX_WORKFLOW,
    MailboxSignal,
    MailboxWatchInput,
    WatchOptions,
)
from coldflow.errors import Unavailable
from coldflow.ids import mailbox_workflow_id
from coldflow.models import ConnectionStatus, Inbox
from coldflow.models.base import utcnow
from coldflow.services.journeys import Journeys
from coldflow.store import events as event_store
from coldflow.store import inbound as inbound_store
from coldflow.store import inboxes as inbox_store
from coldflow.store.db import after_commit

log = logging.getLogger(__name__)


def is_watchable(inbox: Inbox) -> bool:
    return inbox.is_active and bool(inbox.imap_host)


async def record_login_failure(
    session: AsyncSession, workspace_id: str, inbox_id: str, reason: str
) -> None:
    """Bad IMAP credentials: the inbox shows ``error`` with the server's words until fixed."""
    inbox = await inbox_store.get_inbox(session, workspace_id, inbox_id)
    if inbox is None:
        return
    if inbox.connection_status != ConnectionStatus.error:
        # The same event the connection check writes, for webhooks and the activity log.
        await event_store.record_event(
            session,
            workspace_id=workspace_id,
            type="inbox.error",
            inbox_id=inbox_id,
            data={"email": inbox.email, "error": reason, "source": "mailbox_watcher"},
        )
    inbox.connection_status, inbox.connection_error = ConnectionStatus.error, reason
    inbox.updated_at = utcnow()
    session.add(inbox)
    await session.flush()


async def start_watcher(
    journeys: Journeys, *, workspace_id: str, inbox_id: str, options: WatchOptions | None = None
) -> None:
    """Start the inbox's watcher unless it runs already (idempotent: USE_EXISTING)."""
    client = await journeys.client()
    workflow_id = mailbox_workflow_id(inbox_id)
    try:
        await client.start_workflow(
            MAILBOX_WORKFLOW,
            MailboxWatchInput(
                workspace_id=workspace_id, inbox_id=inbox_id, options=options or WatchOptions()
            ),
            id=workflow_id,
            task_queue=journeys.task_queue,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            # A watcher that ended (deactivated, bad password) may be started again later.
            id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
            static_summary=f"mailbox watcher of inbox {inbox_id}",
        )
    except RPCError as exc:
        raise Unavailable(
            f"Temporal refused to start {workflow_id}: {exc.message}", code="TEMPORAL_UNAVAILABLE"
        ) from exc


async def stop_watcher(journeys: Journeys, inbox_id: str) -> bool:
    """Ask the watcher to end; False when none was running."""
    client = await journeys.client()
    handle = client.get_workflow_handle(mailbox_workflow_id(inbox_id))
    try:
        await handle.signal(MailboxSignal.STOP)
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            return False
        raise
    return True


def watch_after_commit(
    session: AsyncSession, inbox: Inbox, journeys: Journeys | None, *, watch: bool | None = None
) -> None:
    """Once the surrounding unit of work commits, start or stop the inbox's watcher to match
    its row (watched while active, connected and with IMAP settings), or as ``watch`` says.

    Without ``journeys`` it uses the current activity's client and task queue (the connection
    check calls in from an activity); elsewhere, without either, it does nothing and the
    watcher's own checks of the row take over.
    """
    journeys = journeys or _activity_journeys()
    if journeys is None:
        return
    if watch is None:
        if is_watchable(inbox) and inbox.connection_status != ConnectionStatus.connected:
            # An inbox in error (say, SMTP refused) keeps its watcher: replies to the mail it
            # already sent still count, and a refused IMAP login ends the watcher by itself.
            return
        watch = is_watchable(inbox)
    workspace_id, inbox_id = inbox.workspace_id, inbox.id

    async def apply() -> None:
        try:
            if watch:
                await start_watcher(journeys, workspace_id=workspace_id, inbox_id=inbox_id)
            else:
                await stop_watcher(journeys, inbox_id)
        except (Unavailable, RPCError) as exc:
            # The row is committed either way; a later check or restart settles the watcher.
            action = "started" if watch else "stopped"
            log.warning("inbox %s: watcher not %s: %s", inbox_id, action, exc)

    after_commit(session, apply)


def _activity_journeys() -> Journeys | None:
    if not activity.in_activity():
        return None
    info = activity.info()
    return Journeys(activity.client(), task_queue=info.task_queue, namespace=info.namespace)


async def ensure_watchers(session: AsyncSession, journeys: Journeys) -> int:
    """Start the watcher of every inbox that should have one (at worker start, after an
    upgrade, or after a watcher was terminated by hand); returns how many were asked."""
    inboxes = await inbound_store.list_watchable_inboxes(session)
    for inbox in inboxes:
        await start_watcher(journeys, workspace_id=inbox.workspace_id, inbox_id=inbox.id)
    return len(inboxes)

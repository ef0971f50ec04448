"""Building blocks for the reply-detection tests (no tests of its own).

A watched inbox on the Dovecot fixture, a campaign whose journeys wait days for their next
window (so only a reply, bounce or unsubscribe can end them), recorded step-1 sends to reply
to, messages shaped like the real ones (replies, RFC 3464 DSNs, RFC 3834 auto-replies), and
bounded waits: the bounds only keep a broken build from hanging, nothing asserts on time.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any, TypeVar

from sqlmodel import col, select
from temporalio.client import WorkflowHandle
from temporalio.service import RPCError

from coldflow.contracts.mailbox import WatchOptions
from coldflow.ids import mailbox_workflow_id
from coldflow.models import (
    Campaign,
    ConnectionStatus,
    ConversationMessage,
    Inbox,
    JourneyState,
    Lead,
    MailboxCursor,
    SendStatus,
    SentMessage,
    TransportSecurity,
)
from coldflow.services import mailboxes
from coldflow.services.inboxes import Credentials
from coldflow.store.db import unit_of_work
from tests.fixtures.imap import ImapServer, ImapUser
from tests.workflows.world import WEEKDAYS, StepSpec, World, schedule

T = TypeVar("T")
SENDER = "alex@sender.example.com"
# Short heartbeats, so a killed worker's session moves to another worker within seconds.
FAST = WatchOptions(heartbeat_timeout_seconds=4.0)


async def eventually(
    probe: Callable[[], Awaitable[T | None]], what: str, timeout: float = 60.0
) -> T:
    """Poll ``probe`` until it returns something truthy; fail (not hang) after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        value = await probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


async def imap_inbox(
    world: World,
    server: ImapServer,
    user: ImapUser,
    *,
    folder: str = "INBOX",
    password: str | None = None,
    email: str = SENDER,
) -> Inbox:
    """A connected inbox that sends nowhere and reads ``user``'s mailbox on the fixture."""
    async with unit_of_work(world.sessions) as session:
        inbox = Inbox(
            workspace_id=world.workspace_id,
            email=email,
            smtp_host=world.smtp.host,
            smtp_port=world.smtp.port,
            smtp_security=TransportSecurity.none,
            imap_host=server.host,
            imap_port=server.port,
            imap_username=user.username,
            imap_security=TransportSecurity.none,
            imap_folder=folder,
            credentials=Credentials(
                smtp_password="x", imap_password=password or user.password
            ).seal(world.box),
            connection_status=ConnectionStatus.connected,
        )
        session.add(inbox)
    return inbox


def closed_schedule() -> dict[str, Any]:
    """Open only on the weekday three days from now: every journey waits for days."""
    day = WEEKDAYS[(datetime.now(UTC).weekday() + 3) % 7]
    return schedule("UTC", days=[day])


async def waiting_campaign(world: World, inbox: Inbox, **options: Any) -> Campaign:
    steps = [StepSpec("Quick question", "Hi {{first_name}}", delay_days=3), StepSpec("", "Bump")]
    return await world.campaign(steps, inboxes=[inbox], sched=closed_schedule(), **options)


async def contacted_lead(
    world: World, campaign: Campaign, inbox: Inbox, email: str
) -> tuple[Lead, SentMessage]:
    """A lead whose step 1 went out from ``inbox`` (recorded, not really sent)."""
    lead = await world.lead(campaign, email, first_name=email.split("@")[0].title())
    async with unit_of_work(world.sessions) as session:
        sent = SentMessage(
            workspace_id=world.workspace_id,
            campaign_id=campaign.id,
            lead_id=lead.id,
            step=1,
            inbox_id=inbox.id,
            message_id=f"<{lead.id[:18]}.1@sender.example.com>",
            to_email=email,
            subject="Quick question",
            status=SendStatus.sent,
            sent_at=datetime.now(UTC),
        )
        session.add(sent)
    return lead, sent


async def enroll_all(world: World, campaign: Campaign, leads: Sequence[Lead]) -> None:
    """Start the journeys and wait until each is parked on its timer."""
    for lead in leads:
        await world.enroll(campaign, lead)
    for lead in leads:
        await world.wait_lead(lead.id, JourneyState.waiting.value, timeout=60)


async def watch(
    world: World, inbox: Inbox, options: WatchOptions = FAST
) -> WorkflowHandle[Any, Any]:
    await mailboxes.start_watcher(
        world.journeys, workspace_id=world.workspace_id, inbox_id=inbox.id, options=options
    )
    handle = world.env.client.get_workflow_handle(mailbox_workflow_id(inbox.id))
    world.handles[handle.id] = handle
    return handle


async def stop_watchers(world: World) -> None:
    """End the test's watchers, so none keeps retrying on the session's server afterwards."""
    for key, handle in world.handles.items():
        if key.startswith("mailbox/"):
            with contextlib.suppress(RPCError):
                await handle.terminate("test finished")


async def journey_result(world: World, lead: Lead, timeout: float = 60.0) -> str:
    result: str = await asyncio.wait_for(world.handles[lead.id].result(), timeout)
    return result


async def stored(world: World, inbox_id: str) -> list[ConversationMessage]:
    async with unit_of_work(world.sessions) as session:
        stmt = (
            select(ConversationMessage)
            .where(ConversationMessage.inbox_id == inbox_id)
            .order_by(col(ConversationMessage.imap_uidvalidity), col(ConversationMessage.imap_uid))
        )
        return list((await session.exec(stmt)).all())


async def wait_cursor(world: World, inbox: Inbox, last_uid: int) -> MailboxCursor:
    """Until the watcher has moved past ``last_uid``: stored *and* signalled."""

    async def probe() -> MailboxCursor | None:
        async with unit_of_work(world.sessions) as session:
            cursor = await session.get(MailboxCursor, (inbox.id, inbox.imap_folder))
        return cursor if cursor is not None and cursor.last_uid >= last_uid else None

    return await eventually(probe, f"cursor past UID {last_uid}")


def _headers(pairs: dict[str, str]) -> bytes:
    return "".join(f"{k}: {v}\r\n" for k, v in pairs.items()).encode()


def reply_to(
    sent: SentMessage,
    body: str = "Thanks, this sounds interesting. Could we talk on Tuesday?",
    *,
    from_email: str | None = None,
    message_id: str | None = None,
    threaded: bool = True,
    extra: dict[str, str] | None = None,
) -> bytes:
    """A reply as a mail client writes it: threaded, quoting our message below."""
    headers = {
        "From": f"Someone <{from_email or sent.to_email}>",
        "To": SENDER,
        "Subject": f"Re: {sent.subject}",
        "Date": format_datetime(datetime.now(UTC)),
        "Message-ID": message_id or f"<reply.{time.monotonic_ns()}@lead.example.com>",
        **({"In-Reply-To": sent.message_id, "References": sent.message_id} if threaded else {}),
        "MIME-Version": "1.0",
        "Content-Type": "text/plain; charset=utf-8",
        **(extra or {}),
    }
    quoted = f"On Mon, Alex wrote:\r\n> Hi,\r\n> {sent.subject}?\r\n"
    return _headers(headers) + b"\r\n" + f"{body}\r\n\r\n{quoted}".encode()


def dsn(sent: SentMessage, *, status: str = "5.1.1", action: str = "failed") -> bytes:
    """A DSN the way Gmail's MTA writes one (RFC 3464), returning our message's headers."""
    boundary = "000000000000dsn0b0undary"
    diagnostic = (
        "smtp; 550-5.1.1 The email account that you tried to reach does not exist."
        if status.startswith("5")
        else "smtp; 452 4.2.2 The email account that you tried to reach is over quota."
    )
    human = (
        "Address not found\r\n\r\nYour message wasn't delivered to "
        f"{sent.to_email} because the address couldn't be found."
        if status.startswith("5")
        else "Delivery incomplete\r\n\r\nThere was a temporary problem delivering to "
        f"{sent.to_email}."
    )
    headers = {
        "From": "Mail Delivery Subsystem <mailer-daemon@googlemail.com>",
        "To": SENDER,
        "Subject": "Delivery Status Notification (Failure)"
        if status.startswith("5")
        else "Delivery Status Notification (Delay)",
        "Date": format_datetime(datetime.now(UTC)),
        "Message-ID": f"<dsn.{time.monotonic_ns()}@mx.google.com>",
        "Auto-Submitted": "auto-replied",
        "MIME-Version": "1.0",
        "Content-Type": f'multipart/report; boundary="{boundary}"; report-type=delivery-status',
    }
    parts = [
        f"--{boundary}\r\nContent-Type: text/plain; charset=UTF-8\r\n\r\n{human}\r\n",
        f"--{boundary}\r\nContent-Type: message/delivery-status\r\n\r\n"
        "Reporting-MTA: dns; googlemail.com\r\n"
        f"Arrival-Date: {format_datetime(datetime.now(UTC))}\r\n\r\n"
        f"Final-Recipient: rfc822; {sent.to_email}\r\n"
        f"Action: {action}\r\nStatus: {status}\r\n"
        "Remote-MTA: dns; mx.lead.example.com. (203.0.113.7, the server for the domain.)\r\n"
        f"Diagnostic-Code: {diagnostic}\r\n"
        f"Last-Attempt-Date: {format_datetime(datetime.now(UTC))}\r\n",
        f"--{boundary}\r\nContent-Type: text/rfc822-headers\r\n\r\n"
        f"From: Alex Sender <{SENDER}>\r\nTo: {sent.to_email}\r\n"
        f"Subject: {sent.subject}\r\nMessage-ID: {sent.message_id}\r\n",
        f"--{boundary}--\r\n",
    ]
    return _headers(headers) + b"\r\n" + "".join(parts).encode()


def out_of_office(sent: SentMessage) -> bytes:
    return reply_to(
        sent,
        "I am out of the office until Monday with limited access to email. "
        "For urgent matters please contact my colleague.",
        extra={"Auto-Submitted": "auto-replied", "X-Autoreply": "yes"},
    ).replace(b"Subject: Re: ", b"Subject: Automatic reply: ", 1)


def abuse_report(sent: SentMessage) -> bytes:
    """An RFC 5965 feedback report (a feedback loop's spam complaint) about our message."""
    boundary = "arf0b0undary"
    headers = {
        "From": "Feedback Loop <fbl@mailbox-provider.example>",
        "To": SENDER,
        "Subject": "Complaint about message from sender.example.com",
        "Date": format_datetime(datetime.now(UTC)),
        "Message-ID": f"<arf.{time.monotonic_ns()}@mailbox-provider.example>",
        "MIME-Version": "1.0",
        "Content-Type": f'multipart/report; report-type=feedback-report; boundary="{boundary}"',
    }
    body = (
        f"--{boundary}\r\nContent-Type: text/plain\r\n\r\n"
        "This is an email abuse report for an email message received from IP 192.0.2.1.\r\n\r\n"
        f"--{boundary}\r\nContent-Type: message/feedback-report\r\n\r\n"
        "Feedback-Type: abuse\r\nUser-Agent: SomeGenerator/1.0\r\nVersion: 1\r\n"
        f"Original-Rcpt-To: <{sent.to_email}>\r\n\r\n"
        f"--{boundary}\r\nContent-Type: message/rfc822\r\n\r\n"
        f"From: {SENDER}\r\nTo: {sent.to_email}\r\nSubject: {sent.subject}\r\n"
        f"Message-ID: {sent.message_id}\r\n\r\nHello\r\n\r\n"
        f"--{boundary}--\r\n"
    )
    return _headers(headers) + b"\r\n" + body.encode()

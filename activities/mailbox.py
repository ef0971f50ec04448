"""The mailbox watcher's activity: one bounded IMAP session that stores new mail and signals
the journeys.

A session logs in, catches up from the cursor, then waits for mail with IDLE (or polls where
the server has no IDLE), storing and signalling every new message as it comes. It returns after
``session_seconds`` so the workflow can record it and continue as new; a dropped connection
raises, and Temporal's retry policy reconnects with backoff.

Per message: one transaction stores it (unique constraints make that exactly once), then the
journeys are signalled, then a second transaction moves the cursor past it. A crash between
the two leaves the cursor behind: the message is fetched again, found stored at the same
(UIDVALIDITY, UID), and only its signals are sent again, which the journeys ignore when
repeated. The signals are thus sent at least once and act exactly once.

Warmup mail (``activities.mailbox_warmup``) is recorded as received in one transaction, then
marked ``\\Seen \\Flagged`` in the folder, then the cursor moves past it; nothing else is written
or signalled. A crash after the recording leaves the cursor behind: the message is fetched
again, recorded again (which changes nothing) and flagged then. While the inbox warms up, the
session also rescues warmup mail from the spam folder between its waits (never during IDLE).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy.exc import IntegrityError
from temporalio import activity
from temporalio.exceptions import ApplicationError, ApplicationErrorCategory

from activities import mailbox_warmup
from coldflow import imap, imap_folders
from coldflow.classify import parse
from coldflow.contracts.mailbox import (
    WATCH_MAILBOX_ACTIVITY,
    WatchMailboxInput,
    WatchMailboxResult,
    WatchOutcome,
)
from coldflow.crypto import SecretBox
from coldflow.services import inbound, mailboxes
from coldflow.services.inboxes import imap_settings
from coldflow.services.journeys import Journeys
from coldflow.store import inbound as inbound_store
from coldflow.store import inboxes as inbox_store
from coldflow.store.db import SessionFactory, unit_of_work


@dataclass(frozen=True)
class _Target:
    """What a session reads about its inbox (in process only: it holds the password)."""

    workspace_id: str
    inbox_id: str
    settings: imap.ImapSettings
    # A first session (or a re-sync) reads the mail since the inbox was added (a day earlier
    # for time zones), never the mailbox's whole history.
    since: date
    # Changes with the inbox row: a session that sees another version starts afresh.
    version: str
    # While it warms up, the session also rescues warmup mail from the spam folder.
    warming: bool = False


class _InboxGone(Exception):
    """The inbox was deleted or deactivated while its session ran."""


class MailboxActivities:
    """``poll_interval`` applies to servers without IDLE; ``idle_reissue`` is how long one IDLE
    lasts before it is re-issued (and the inbox row re-read): RFC 9051 wants under 29 minutes,
    and NAT boxes drop quiet connections sooner.

    ``warmup_secret`` (the installation's secret key) verifies warmup marks; without it no mail
    is taken for warmup. A warming inbox's spam folder (``\\Junk``, else the first of
    ``junk_folders`` that exists) is scanned at the session's start and every
    ``junk_scan_seconds``."""

    def __init__(
        self,
        sessions: SessionFactory,
        box: SecretBox,
        *,
        poll_interval: float = 60.0,
        idle_reissue: float = 180.0,
        fetch_batch: int = 25,
        warmup_secret: str = "",
        junk_folders: Sequence[str] = imap_folders.DEFAULT_JUNK_NAMES,
        junk_scan_seconds: float = 60.0,
    ) -> None:
        self.sessions = sessions
        self.box = box
        self.poll_interval = poll_interval
        self.idle_reissue = idle_reissue
        self.fetch_batch = fetch_batch
        self.warmup_secret = warmup_secret
        self.junk_folders = junk_folders
        self.junk_scan_seconds = junk_scan_seconds

    @activity.defn(name=WATCH_MAILBOX_ACTIVITY)
    async def watch_mailbox(self, inp: WatchMailboxInput) -> WatchMailboxResult:
        """One IMAP session: catch up, then IDLE (or poll) until the session's time is up."""
        target = await self.load_target(inp.workspace_id, inp.inbox_id)
        if target is None:
            return WatchMailboxResult(WatchOutcome.STOPPED, reason="inbox gone or inactive")
        info = activity.info()
        journeys = Journeys(activity.client(), task_queue=info.task_queue, namespace=info.namespace)
        session = _Session(self, target, journeys, inp.session_seconds)
        try:
            async with imap.MailboxSession(target.settings) as mailbox:
                return await session.run(mailbox)
        except imap.ImapLoginFailed as exc:
            async with unit_of_work(self.sessions) as db:
                await mailboxes.record_login_failure(
                    db, inp.workspace_id, inp.inbox_id, exc.message
                )
            return WatchMailboxResult(WatchOutcome.AUTH_FAILED, session.stored, reason=exc.message)
        except _InboxGone:
            return WatchMailboxResult(
                WatchOutcome.STOPPED, session.stored, reason="inbox gone or inactive"
            )
        except imap.ImapUnavailable as exc:
            # Network trouble or a server restart: the retry policy reconnects with backoff.
            raise ApplicationError(exc.message, type="ImapUnavailable") from exc

    async def load_target(self, workspace_id: str, inbox_id: str) -> _Target | None:
        async with unit_of_work(self.sessions) as db:
            inbox = await inbox_store.get_inbox(db, workspace_id, inbox_id)
            if inbox is None or not mailboxes.is_watchable(inbox):
                return None
            return _Target(
                workspace_id=workspace_id,
                inbox_id=inbox_id,
                settings=imap_settings(inbox, self.box),
                since=inbox.created_at.date() - timedelta(days=1),
                version=inbox.updated_at.isoformat(),
                warming=inbox.is_warming,
            )


class _Session:
    """The state of one watch session."""

    def __init__(
        self, owner: MailboxActivities, target: _Target, journeys: Journeys, seconds: float
    ) -> None:
        self.owner = owner
        self.target = target
        self.journeys = journeys
        self.deadline = time.monotonic() + seconds
        self.stored = 0
        timeout = activity.info().heartbeat_timeout
        # Several beats per heartbeat timeout, so one late beat never times the session out.
        self.tick = max(0.5, timeout.total_seconds() / 4) if timeout else 10.0
        self.mode = ""
        self.warming = target.warming
        self.rescue = mailbox_warmup.JunkRescue(
            owner.sessions,
            target.workspace_id,
            target.inbox_id,
            secret=owner.warmup_secret,
            folders=owner.junk_folders,
            interval=owner.junk_scan_seconds,
            batch=owner.fetch_batch,
            beat=self.beat,
        )

    async def run(self, mailbox: imap.MailboxSession) -> WatchMailboxResult:
        self.mode = "idle" if mailbox.has_idle else "poll"
        while True:
            found = await self.sync(mailbox)
            if self.rescue.seconds_left(self.warming) == 0:
                # Between two waits, never during IDLE. Its visit to the spam folder makes
                # the server announce INBOX's messages again: the loop looks once more.
                await self.rescue.scan(mailbox)
                continue
            if time.monotonic() >= self.deadline:
                return WatchMailboxResult(WatchOutcome.ROTATE, self.stored, self.mode)
            if found or mailbox.take_announced():
                continue  # mail came in while we fetched: look again before waiting
            fresh = await self.owner.load_target(self.target.workspace_id, self.target.inbox_id)
            if fresh is None:
                raise _InboxGone
            self.warming = fresh.warming
            if fresh.version != self.target.version:
                reason = "inbox settings changed"
                return WatchMailboxResult(WatchOutcome.ROTATE, self.stored, self.mode, reason)
            await self.wait(mailbox)

    async def wait(self, mailbox: imap.MailboxSession) -> None:
        # Ends in time for the next spam-folder scan, which cannot run during IDLE.
        left = min(self.deadline - time.monotonic(), self.rescue.seconds_left(self.warming))
        if mailbox.has_idle:
            await mailbox.wait_for_mail(
                max_wait=min(left, self.owner.idle_reissue), tick=self.tick, on_tick=self.beat
            )
            return
        until = time.monotonic() + min(left, self.owner.poll_interval)
        while (remaining := until - time.monotonic()) > 0:
            await asyncio.sleep(min(self.tick, remaining))
            await self.beat()
        await mailbox.noop()

    async def beat(self) -> None:
        activity.heartbeat(
            {"stored": self.stored, "mode": self.mode, "rescued": self.rescue.rescued}
        )
        if activity.is_worker_shutdown():
            # Hand the mailbox to another worker now rather than after the heartbeat timeout.
            raise ApplicationError(
                "worker shutting down",
                type="WorkerShutdown",
                category=ApplicationErrorCategory.BENIGN,
            )

    async def sync(self, mailbox: imap.MailboxSession) -> int:
        """Store and signal every message past the cursor; how many were new."""
        target, folder = self.target, mailbox.folder
        async with unit_of_work(self.owner.sessions) as db:
            cursor = await inbound_store.get_cursor(db, target.inbox_id, target.settings.folder)
        if cursor is not None and cursor.uidvalidity == folder.uidvalidity:
            floor = cursor.last_uid
            uids = await mailbox.uids_after(floor)
        else:
            # A first session, or UIDVALIDITY changed (the folder was recreated or rebuilt):
            # every UID is new, so messages are recognised by Message-ID instead.
            floor = max(folder.uidnext - 1, 0)
            uids = await self.unknown(mailbox, await mailbox.uids_since(target.since))
            if not uids:
                await self.advance(folder.uidvalidity, floor)
        new = 0
        for start in range(0, len(uids), self.owner.fetch_batch):
            chunk = uids[start : start + self.owner.fetch_batch]
            for message in await mailbox.fetch(chunk):
                new += await self.process(mailbox, folder.uidvalidity, message)
                await self.advance(folder.uidvalidity, message.uid)
                await self.beat()
            await self.advance(folder.uidvalidity, chunk[-1])
        if uids:
            await self.advance(folder.uidvalidity, max(floor, uids[-1]))
        self.stored += new
        return new

    async def unknown(self, mailbox: imap.MailboxSession, uids: Sequence[int]) -> list[int]:
        """The UIDs to process when no cursor applies: those whose Message-ID coldflow does not
        hold (or that have none), and those stored from this very slot by a session that died
        before moving the cursor (their signals may be missing)."""
        keep: list[int] = []
        uidvalidity = mailbox.folder.uidvalidity
        for start in range(0, len(uids), 200):
            chunk = uids[start : start + 200]
            headers = await mailbox.fetch(chunk, headers_only=True)
            ids = {m.uid: parse(m.raw).message_id for m in headers}
            async with unit_of_work(self.owner.sessions) as db:
                known = await inbound_store.known_message_ids(
                    db, self.target.workspace_id, [i for i in ids.values() if i]
                )
                unsignalled = await inbound_store.uids_stored_at(
                    db, self.target.inbox_id, uidvalidity, chunk
                )
            keep += [
                uid for uid in chunk if uid in ids and (ids[uid] not in known or uid in unsignalled)
            ]
            await self.beat()
        return keep

    async def process(
        self, mailbox: imap.MailboxSession, uidvalidity: int, message: imap.FetchedMessage
    ) -> int:
        """Store one message and signal its journeys; 1 when it was new. Warmup mail is only
        recorded as received and marked read and flagged."""
        parsed = parse(message.raw)
        mark = mailbox_warmup.mark_of(parsed, self.owner.warmup_secret)
        if mark is not None:
            target = self.target
            ours = await mailbox_warmup.record(
                self.owner.sessions,
                target.workspace_id,
                target.inbox_id,
                {message.uid: mark},
                in_spam=False,
            )
            if ours:
                await imap_folders.mark_seen_and_flagged(mailbox, target.settings.folder, ours)
                return 0
        result = None
        for attempt in (1, 2):
            try:
                async with unit_of_work(self.owner.sessions) as db:
                    inbox = await inbox_store.get_inbox(
                        db, self.target.workspace_id, self.target.inbox_id
                    )
                    if inbox is None:
                        raise _InboxGone
                    result = await inbound.store_message(
                        db,
                        inbox=inbox,
                        uidvalidity=uidvalidity,
                        uid=message.uid,
                        raw=message.raw,
                        parsed=parsed,
                    )
                break
            except IntegrityError:
                # Another session stored it first (a zombie attempt, or the same message in
                # two inboxes at once): run again and find it stored.
                if attempt == 2:
                    raise
        assert result is not None
        await inbound.deliver(self.journeys, result.notices)
        activity.logger.debug(
            "inbox %s uid %s: %s %s", self.target.inbox_id, message.uid, result.status, result.kind
        )
        return int(result.status == inbound.StoreStatus.STORED)

    async def advance(self, uidvalidity: int, uid: int) -> None:
        async with unit_of_work(self.owner.sessions) as db:
            await inbound_store.advance_cursor(
                db, self.target.inbox_id, self.target.settings.folder, uidvalidity, uid
            )

"""Inbox warmup's receiving side, inside the mailbox watcher's session.

Warmup mail is recognised by its signed mark (``coldflow.warmup.find_mark``) *and* by the row
the sending side wrote (``services.warmup.record_received`` returns None for a mark that is not
a message this installation sent to this inbox: that mail is ordinary). Recognised mail is
recorded as received and marked read and flagged; it never becomes a conversation, an event or
a journey signal. While the inbox warms up, ``JunkRescue`` also looks into the spam folder every
``interval`` seconds and moves the warmup mail it finds there to INBOX.

Every IMAP call here visits another folder and comes back (``coldflow.imap_folders``), so the
session makes them only between two waits, never while it IDLEs: it ends IDLE no later than
``JunkRescue.seconds_left()`` so the scans keep their interval.

Order in the spam folder: record (commit), flag, move. A crash before the move leaves the
message in the spam folder; the next scan recognises it again (recording it once more changes
nothing), flags it and moves it. Flags travel with MOVE (or COPY), so the message arrives in
INBOX read and flagged; the watcher then finds it recorded and only sets the flags again.
"""

from __future__ import annotations

import math
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence

from temporalio import activity

from coldflow import imap, imap_folders
from coldflow.classify import ParsedMessage, parse
from coldflow.models.base import utcnow
from coldflow.services import warmup as warmup_service
from coldflow.store import inboxes as inbox_store
from coldflow.store.db import SessionFactory, unit_of_work
from coldflow.warmup import WARMUP_HEADER, WarmupMark, find_mark


def mark_of(parsed: ParsedMessage, secret: str) -> WarmupMark | None:
    """The message's warmup mark; None without one, or when no secret is configured."""
    return find_mark(parsed.headers, parsed.text, secret) if secret else None


async def record(
    sessions: SessionFactory,
    workspace_id: str,
    inbox_id: str,
    marks: Mapping[int, WarmupMark],
    *,
    in_spam: bool,
) -> list[int]:
    """The UIDs whose mark is warmup mail sent to this inbox, recorded as received (in one
    transaction; recording a message again changes nothing). [] when the inbox is gone."""
    if not marks:
        return []
    async with unit_of_work(sessions) as db:
        inbox = await inbox_store.get_inbox(db, workspace_id, inbox_id)
        if inbox is None:
            return []
        now = utcnow()
        return [
            uid
            for uid, mark in marks.items()
            if await warmup_service.record_received(
                db, recipient=inbox, mark=mark, in_spam=in_spam, now=now
            )
            is not None
        ]


class JunkRescue:
    """One session's spam-folder scans: the folder is looked up once (LIST, ``\\Junk`` first,
    else the first of ``folders`` that exists), then every ``interval`` seconds its warmup
    mail is recorded (``in_spam``), marked read and flagged, and moved to INBOX.

    A failed scan (no spam folder, a refused command) is logged and tried again at the next
    interval; INBOX watching goes on. A dead connection fails the session's next command."""

    def __init__(
        self,
        sessions: SessionFactory,
        workspace_id: str,
        inbox_id: str,
        *,
        secret: str,
        folders: Sequence[str],
        interval: float,
        batch: int,
        beat: Callable[[], Awaitable[None]],
    ) -> None:
        self.sessions = sessions
        self.workspace_id = workspace_id
        self.inbox_id = inbox_id
        self.secret = secret
        self.folders = folders
        self.interval = interval
        self.batch = batch
        self.beat = beat
        self.folder: str | None = None
        self.next_scan = time.monotonic()  # the first scan comes at the session's start
        self.rescued = 0

    def seconds_left(self, warming: bool) -> float:
        """Seconds until the next scan (0 when due); infinite when there is none to make."""
        if not (warming and self.secret):
            return math.inf
        return max(0.0, self.next_scan - time.monotonic())

    async def scan(self, mailbox: imap.MailboxSession) -> int:
        """Move the spam folder's warmup mail to INBOX; how many messages were moved."""
        self.next_scan = time.monotonic() + self.interval
        try:
            moved = await self._rescue(mailbox)
        except imap.ImapUnavailable as exc:
            self.folder = None  # renamed or deleted, perhaps: look it up again next time
            activity.logger.warning("inbox %s: spam folder scan failed: %s", self.inbox_id, exc)
            return 0
        self.rescued += moved
        if moved:
            activity.logger.info(
                "inbox %s: %d warmup messages taken out of %s", self.inbox_id, moved, self.folder
            )
        return moved

    async def _rescue(self, mailbox: imap.MailboxSession) -> int:
        folder = self.folder or await imap_folders.find_junk_folder(mailbox, self.folders)
        if folder is None:
            activity.logger.info("inbox %s: no spam folder found", self.inbox_id)
            return 0
        self.folder = folder
        uids = await imap_folders.uids_with_header(mailbox, folder, WARMUP_HEADER)
        moved = 0
        for start in range(0, len(uids), self.batch):
            chunk = uids[start : start + self.batch]
            async with imap_folders.selected(mailbox, folder):
                messages = await mailbox.fetch(chunk)
            marks = {}
            for message in messages:
                mark = mark_of(parse(message.raw), self.secret)
                if mark is not None:
                    marks[message.uid] = mark
            # Mail whose mark does not verify, or that this inbox was never sent, stays put.
            ours = await record(
                self.sessions, self.workspace_id, self.inbox_id, marks, in_spam=True
            )
            if ours:
                await imap_folders.mark_seen_and_flagged(mailbox, folder, ours)
                done = await imap_folders.move_to_inbox(
                    mailbox, folder, ours, require_header=WARMUP_HEADER
                )
                moved += len(done)
            await self.beat()
        return moved

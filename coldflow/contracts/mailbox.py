"""Everything that crosses the Temporal boundary for an inbox's mailbox watcher.

One ``MailboxWatcher`` workflow per watched inbox (id ``mailbox/{inbox_id}``) runs the
``watch_mailbox`` activity over and over: each run is one bounded IMAP session that stores and
signals what it finds and then returns, so the workflow's history grows by a few events per
session and it can continue as new. New fields get defaults so running watchers keep decoding.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

MAILBOX_WORKFLOW = "MailboxWatcher"
WATCH_MAILBOX_ACTIVITY = "watch_mailbox"


class MailboxSignal(StrEnum):
    STOP = "stop"


class MailboxQuery(StrEnum):
    STATUS = "status"


class WatchOutcome(StrEnum):
    """How one watch session ended; business outcomes are values, not exceptions."""

    ROTATE = "rotate"  # the session reached its length or the inbox's settings changed: go on
    STOPPED = "stopped"  # the inbox was deleted, deactivated or lost its IMAP settings
    AUTH_FAILED = "auth_failed"  # the server refused the credentials: the inbox is in error


@dataclass(frozen=True)
class WatchOptions:
    """Timing of a watcher, chosen when it is started (tests shorten them).

    ``session_seconds`` bounds one activity run (IDLE or polling), after which the workflow
    starts the next one; ``heartbeat_timeout_seconds`` is how soon Temporal notices a dead
    worker and hands the mailbox to another; ``max_sessions`` is how many runs one history
    holds before the workflow continues as new.
    """

    session_seconds: float = 600.0
    heartbeat_timeout_seconds: float = 30.0
    max_sessions: int = 100


@dataclass(frozen=True)
class MailboxWatchInput:
    workspace_id: str
    inbox_id: str
    options: WatchOptions = WatchOptions()
    sessions_before: int = 0  # sessions run by earlier histories of this watcher (for the UI)
    stored_before: int = 0


@dataclass(frozen=True)
class WatchMailboxInput:
    workspace_id: str
    inbox_id: str
    session_seconds: float = 600.0


@dataclass(frozen=True)
class WatchMailboxResult:
    outcome: WatchOutcome
    stored: int = 0
    mode: str = ""  # "idle" or "poll"
    reason: str | None = None


@dataclass(frozen=True)
class MailboxStatus:
    sessions: int
    stored: int
    last_outcome: str | None
    stopping: bool


def is_final(outcome: WatchOutcome) -> bool:
    """Whether the watcher ends after a session with this outcome."""
    return outcome != WatchOutcome.ROTATE

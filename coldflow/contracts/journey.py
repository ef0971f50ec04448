"""Everything that crosses the Temporal boundary for a lead's journey.

Each payload is one frozen dataclass carrying ids and small snapshots, never table rows or
secrets. New fields get defaults so running journeys keep decoding their history.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

JOURNEY_WORKFLOW = "LeadJourney"


class JourneySignal(StrEnum):
    PAUSE = "pause"
    RESUME = "resume"
    STOP = "stop"
    REFRESH = "refresh"
    REPLY_RECEIVED = "reply_received"
    BOUNCED = "bounced"
    UNSUBSCRIBED = "unsubscribed"


class JourneyQuery(StrEnum):
    STATUS = "status"


class JourneyActivity(StrEnum):
    """Activity names as they read in the Temporal UI's event history."""

    PLAN_STEP = "plan_step"
    SEND_EMAIL = "send_email"
    RECORD_JOURNEY = "record_journey"


class JourneyPhase(StrEnum):
    """The workflow's state: the ``JourneyStatus`` search attribute and the lead row's mirror.

    Values equal ``coldflow.models.JourneyState``'s (which this pure module cannot import).
    """

    WAITING = "waiting"
    SENDING = "sending"
    PAUSED = "paused"
    HELD = "held"
    STOPPED = "stopped"
    COMPLETED = "completed"


class SendOutcome(StrEnum):
    """Business outcomes are values, not exceptions (a raised error would retry forever)."""

    SENT = "sent"
    SKIPPED = "skipped"
    DAY_FULL = "day_full"
    PAUSED = "paused"
    HELD = "held"
    STOPPED = "stopped"
    BOUNCED = "bounced"
    FAILED = "failed"


@dataclass(frozen=True)
class JourneyInput:
    workspace_id: str
    campaign_id: str
    lead_id: str
    lead_email: str
    state: JourneyProgress | None = None


@dataclass
class JourneyProgress:
    """The workflow's whole state, handed to ``continue_as_new`` in one piece."""

    step: int = 1
    last_sent_at: datetime | None = None
    message_ids: list[str] = field(default_factory=list)
    first_subject: str = ""
    paused: bool = False
    stopped_reason: str | None = None
    replied: bool = False


@dataclass(frozen=True)
class LoadStepInput:
    workspace_id: str
    campaign_id: str
    lead_id: str
    step: int


@dataclass(frozen=True)
class StepPlan:
    """What the workflow needs to time a step, read fresh so edits apply from the next step.

    ``exists`` is false past the last step. ``stop_reason`` is set when the lead or campaign
    can no longer be sent to (deleted, blocklisted, unsubscribed, bounced, campaign completed).
    ``sender_domain`` is the domain of the inbox expected to send (for the Message-ID).
    """

    exists: bool
    schedule: dict[str, Any] = field(default_factory=dict)
    lead_timezone: str | None = None
    delay_days_before: int = 0
    campaign_paused: bool = False
    stop_reason: str | None = None
    sender_domain: str = "coldflow.invalid"
    total_steps: int = 0


@dataclass(frozen=True)
class SendStepInput:
    """One send of (lead, step). ``message_id`` is minted by the workflow; ``local_day`` is the
    campaign's local date the daily limits count on."""

    workspace_id: str
    campaign_id: str
    lead_id: str
    step: int
    message_id: str
    local_day: str
    in_reply_to: str | None = None
    references: tuple[str, ...] = ()
    previous_subject: str = ""


@dataclass(frozen=True)
class SendStepResult:
    outcome: SendOutcome
    message_id: str = ""
    subject: str = ""
    reason: str | None = None
    variant_label: str = ""
    inbox_id: str = ""


@dataclass(frozen=True)
class RecordJourneyInput:
    """Mirror of the workflow's state into the lead row, for the API and listing."""

    workspace_id: str
    lead_id: str
    state: str
    step: int
    next_send_at: datetime | None = None
    reason: str | None = None


@dataclass(frozen=True)
class StopJourney:
    reason: str


@dataclass(frozen=True)
class ReplyReceived:
    """A reply matched to the lead. ``label`` is the classifier's; ``stop`` is the campaign's
    ``stop_on_reply`` (or a company-domain stop), decided by the sender of the signal."""

    message_id: str
    from_email: str
    label: str | None = None
    stop: bool = True


@dataclass(frozen=True)
class Bounced:
    message_id: str
    hard: bool
    status: str = ""


@dataclass(frozen=True)
class Unsubscribed:
    source: str = "link"


# Classifier labels of automatic answers: recorded by the mailbox side, never counted as replies.
AUTO_REPLY_LABELS = frozenset({"auto_reply", "out_of_office"})


@dataclass(frozen=True)
class JourneyStatus:
    state: str
    step: int
    next_send_at: datetime | None
    paused: bool
    stopped_reason: str | None
    sent_message_ids: list[str]
    details: str = ""
    total_steps: int = 0

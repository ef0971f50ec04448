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


class JourneyQuery(StrEnum):
    STATUS = "status"


class JourneyActivity(StrEnum):
    LOAD_STEP = "load_step"
    SEND_STEP = "send_step"
    RECORD_JOURNEY = "record_journey"


class SendOutcome(StrEnum):
    """Business outcomes are values, not exceptions (a raised error would retry forever)."""

    SENT = "sent"
    SKIPPED = "skipped"
    DAY_FULL = "day_full"
    PAUSED = "paused"
    HELD = "held"
    STOPPED = "stopped"
    BOUNCED = "bounced"


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
    """

    exists: bool
    schedule: dict[str, Any] = field(default_factory=dict)
    lead_timezone: str | None = None
    delay_days_before: int = 0
    campaign_paused: bool = False
    stop_reason: str | None = None
    sender_domain: str = "coldflow.invalid"


@dataclass(frozen=True)
class SendStepInput:
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
class JourneyStatus:
    state: str
    step: int
    next_send_at: datetime | None
    paused: bool
    stopped_reason: str | None
    sent_message_ids: list[str]

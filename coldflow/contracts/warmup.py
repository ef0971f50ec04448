"""What crosses the Temporal boundary for inbox warmup: one long-running workflow per inbox."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

WARMUP_WORKFLOW = "InboxWarmup"
PLAN_WARMUP_DAY_ACTIVITY = "plan_warmup_day"
SEND_WARMUP_ACTIVITY = "send_warmup_email"
SEND_WARMUP_REPLIES_ACTIVITY = "send_warmup_replies"
STOP_SIGNAL = "stop"


def warmup_workflow_id(inbox_id: str) -> str:
    """``warmup/{inbox}``: the one warmup workflow of an inbox, readable in the Temporal UI."""
    return f"warmup/{inbox_id}"


@dataclass(frozen=True)
class WarmupInput:
    workspace_id: str
    inbox_id: str


@dataclass(frozen=True)
class PlanWarmupInput:
    workspace_id: str
    inbox_id: str
    now: datetime


@dataclass(frozen=True)
class PlannedWarmupSend:
    at: datetime
    recipient_inbox_id: str
    seq: int


@dataclass(frozen=True)
class WarmupDayPlan:
    """One day of an inbox's warmup. ``stop``: the inbox is gone or no longer warming.

    ``reason`` says why nothing is sent today (a pool of one, a day off) or why the volume is
    held (the spam guardrail); ``next_day_at`` is the inbox's next local midnight.
    """

    stop: bool
    local_day: str = ""
    volume: int = 0
    reason: str | None = None
    sends: list[PlannedWarmupSend] = field(default_factory=list)
    next_day_at: datetime | None = None


@dataclass(frozen=True)
class SendWarmupInput:
    workspace_id: str
    inbox_id: str
    recipient_inbox_id: str
    local_day: str
    seq: int


@dataclass(frozen=True)
class WarmupSendResult:
    """``sent``, ``skipped`` (an inbox unusable now) or ``failed`` (refused by SMTP)."""

    status: str
    detail: str | None = None


@dataclass(frozen=True)
class WarmupRepliesResult:
    sent: int

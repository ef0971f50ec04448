"""What crosses the Temporal boundary for an inbox's connection check."""

from __future__ import annotations

from dataclasses import dataclass

INBOX_CHECK_WORKFLOW = "InboxConnectionCheck"
CHECK_INBOX_ACTIVITY = "check_inbox_connection"


def inbox_check_workflow_id(inbox_id: str) -> str:
    return f"inbox-check/{inbox_id}"


@dataclass(frozen=True)
class InboxCheckInput:
    workspace_id: str
    inbox_id: str


@dataclass(frozen=True)
class InboxCheckResult:
    status: str
    error: str | None = None

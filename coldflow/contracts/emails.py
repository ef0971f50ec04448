"""What crosses the Temporal boundary when an API email (``POST /emails``) is sent."""

from __future__ import annotations

from dataclasses import dataclass

EMAIL_SEND_WORKFLOW = "EmailSend"
SEND_API_EMAIL_ACTIVITY = "send_api_email"
FAIL_API_EMAIL_ACTIVITY = "fail_api_email"


def email_send_workflow_id(email_id: str) -> str:
    """One send workflow per API email, readable in the Temporal UI next to the emails log."""
    return f"email/{email_id}"


@dataclass(frozen=True)
class EmailSendInput:
    workspace_id: str
    email_id: str


@dataclass(frozen=True)
class EmailSendFailed:
    """The send gave up after its retries; ``reason`` is the last transient error."""

    workspace_id: str
    email_id: str
    reason: str


@dataclass(frozen=True)
class EmailSendResult:
    """``status`` is the emails log's (``sent``, ``failed``, ``bounced``, or ``deleted``)."""

    status: str
    error: str | None = None

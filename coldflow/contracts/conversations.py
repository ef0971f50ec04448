"""What crosses the Temporal boundary when the unibox sends a message (a reply or a new thread)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

CONVERSATION_SEND_WORKFLOW = "ConversationSend"
SEND_CONVERSATION_MESSAGE_ACTIVITY = "send_conversation_message"
FAIL_CONVERSATION_MESSAGE_ACTIVITY = "fail_conversation_message"


def conversation_send_workflow_id(message_row_id: str) -> str:
    """One send workflow per stored outgoing message, readable in the Temporal UI."""
    return f"conversation-send/{message_row_id}"


class DeliveryStatus(StrEnum):
    """Where an outgoing unibox message is; the API shows these values (``received`` when in)."""

    RECEIVED = "received"
    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    DELETED = "deleted"


@dataclass(frozen=True)
class ConversationSendInput:
    workspace_id: str
    message_row_id: str


@dataclass(frozen=True)
class ConversationSendFailed:
    """The send gave up after its retries; ``reason`` is the last transient error."""

    workspace_id: str
    message_row_id: str
    reason: str


@dataclass(frozen=True)
class ConversationSendResult:
    status: DeliveryStatus
    error: str | None = None

"""Request and response shapes of the unibox API (seed 003's Conversation Endpoints)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictBool, field_validator

from coldflow.classify import LABELS, POSITIVE_LABELS
from coldflow.contracts.conversations import DeliveryStatus
from coldflow.models import Conversation, ConversationMessage, Folder, SendStatus, SentMessage
from coldflow.schemas.common import Email

# Gmail clips a message past ~100 KB; this also keeps any valid body under max_body_bytes.
MAX_BODY_CHARS = 100_000


def _ascii_address(value: str) -> str:
    # The MIME builder writes addresses as they are: no SMTPUTF8 (RFC 6531) for the local part.
    if not value.isascii():
        raise ValueError("the address must be ASCII (internationalised domains are fine as IDNA)")
    return value


def _one_line(value: str) -> str:
    # RFC 5322 §2.2: a header value holding CR or LF would start a header of the caller's choosing.
    if any(char in value for char in "\r\n\x00"):
        raise ValueError("must be a single line")
    return value.strip()


AsciiEmail = Annotated[Email, AfterValidator(_ascii_address)]
HeaderText = Annotated[str, AfterValidator(_one_line)]


class RecipientIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: AsciiEmail
    name: Annotated[HeaderText, Field(max_length=200)] | None = None


class _Body(BaseModel):
    content: str = Field(
        min_length=1,
        max_length=MAX_BODY_CHARS,
        description="The HTML body (restricted to an allowlist); plain text is turned into HTML",
    )
    text: str | None = Field(
        default=None,
        max_length=MAX_BODY_CHARS,
        description="The text/plain alternative; derived from ``content`` when omitted",
    )

    @field_validator("content")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("content must not be blank")
        return value


class ReplyCreate(_Body):
    """A reply in the thread: sent from the conversation's inbox to the contact, threaded."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"content": "<p>Tuesday at 10 works for me.</p>"}]},
    )


class ConversationCreate(_Body):
    """A new thread; ``inbox_id`` defaults to the workspace's first active, connected inbox."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "to": [{"email": "ann@example.com", "name": "Ann"}],
                    "subject": "Quick question",
                    "content": "<p>Hi Ann,</p>",
                }
            ]
        },
    )

    inbox_id: str | None = Field(default=None, max_length=36)
    to: list[RecipientIn] = Field(min_length=1, max_length=50)
    subject: HeaderText = Field(min_length=1, max_length=900)


class ConversationUpdate(BaseModel):
    """Any combination; omitted fields are unchanged, ``label_override: null`` clears it."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"label_override": "interested", "is_read": True}]},
    )

    label_override: str | None = Field(
        default=None, max_length=32, json_schema_extra={"enum": [*LABELS, None]}
    )
    is_read: StrictBool | None = None

    @field_validator("is_read")
    @classmethod
    def _not_null(cls, value: bool | None) -> bool:
        # Only runs when the field was sent: null is not a read state.
        if value is None:
            raise ValueError("is_read must be true or false")
        return value


class RecipientRead(BaseModel):
    email: str
    name: str


class AttachmentRead(BaseModel):
    id: str
    filename: str
    content_type: str
    size: int


class MessageRead(BaseModel):
    """Seed 003's message, plus ``id``, ``kind``, ``from_name`` and the delivery ``status``."""

    id: str
    direction: str
    kind: str
    inbox_id: str | None
    subject: str
    text_body: str
    html_body: str | None
    from_email: str
    from_name: str
    to_recipients: list[RecipientRead]
    cc_recipients: list[RecipientRead]
    bcc_recipients: list[RecipientRead]
    email_date: datetime
    is_read: bool
    status: DeliveryStatus = Field(
        description="received (incoming); queued, sending, sent or failed (outgoing)"
    )
    error: str | None = Field(description="why an outgoing message failed")
    attachments: list[AttachmentRead]


class ConversationRead(BaseModel):
    """Seed 003's conversation; ``label`` is the effective one (the override, else the
    classifier's) and ``is_positive`` follows it."""

    id: str
    label: str | None
    is_positive: bool
    lead_id: str | None
    campaign_id: str | None
    inbox_id: str | None
    folder: Folder
    contact_email: str
    subject: str
    is_read: bool
    last_message_at: datetime
    messages: list[MessageRead]
    created_at: datetime
    updated_at: datetime


# --- shaping rows into responses (pure) --------------------------------------------------------


def effective_label(conversation: Conversation) -> str | None:
    """A person's override wins over the classifier's label."""
    return conversation.label_override or conversation.label


def conversation_read(conversation: Conversation, messages: list[MessageRead]) -> ConversationRead:
    label = effective_label(conversation)
    return ConversationRead(
        id=conversation.id,
        label=label,
        is_positive=label in POSITIVE_LABELS,
        lead_id=conversation.lead_id,
        campaign_id=conversation.campaign_id,
        inbox_id=conversation.inbox_id,
        folder=conversation.folder,
        contact_email=conversation.contact_email,
        subject=conversation.subject,
        is_read=conversation.is_read,
        last_message_at=conversation.last_message_at,
        messages=messages,
        created_at=conversation.created_at,
        updated_at=conversation.updated_at,
    )


def message_read(
    message: ConversationMessage, *, attachments: list[AttachmentRead], sent: SentMessage | None
) -> MessageRead:
    """``sent`` is the outgoing message's send record (None while queued, or when incoming)."""
    status, error = delivery_state(message.direction, sent)
    return MessageRead(
        id=message.id,
        direction=message.direction,
        kind=message.kind.value,
        inbox_id=message.inbox_id,
        subject=message.subject,
        text_body=message.text,
        html_body=message.html,
        from_email=message.from_email,
        from_name=message.from_name,
        to_recipients=_recipients(message.to_recipients),
        cc_recipients=_recipients(message.cc_recipients),
        bcc_recipients=_recipients(message.bcc_recipients),
        email_date=message.received_at,
        is_read=message.is_read,
        status=status,
        error=error,
        attachments=attachments,
    )


def delivery_state(direction: str, sent: SentMessage | None) -> tuple[DeliveryStatus, str | None]:
    """An outgoing message's state from its send record (None: still queued), and why it failed."""
    if direction != "outgoing":
        return DeliveryStatus.RECEIVED, None
    if sent is None:
        return DeliveryStatus.QUEUED, None
    if sent.status == SendStatus.reserved:
        return DeliveryStatus.SENDING, None
    if sent.status == SendStatus.sent:
        return DeliveryStatus.SENT, None
    return DeliveryStatus.FAILED, sent.error


def _recipients(values: list[dict[str, Any]]) -> list[RecipientRead]:
    return [
        RecipientRead(email=str(v.get("email", "")), name=str(v.get("name") or "")) for v in values
    ]

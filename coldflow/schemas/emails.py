"""The emails log (seed 004's ``/emails``): every message coldflow sent or queued, with events."""

from __future__ import annotations

import re
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from coldflow.models import EmailSource
from coldflow.schemas.common import Email

_TAG_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")


class EmailStatus(StrEnum):
    """What the log shows; ``queued`` covers a message accepted or reserved but not yet sent."""

    queued = "queued"
    sent = "sent"
    failed = "failed"
    bounced = "bounced"


class EmailRead(BaseModel):
    id: str
    source: EmailSource = Field(description="campaign: a journey step; api: POST /emails")
    status: EmailStatus
    to: str
    from_email: str | None = Field(description="The sending inbox's address")
    inbox_id: str | None
    reply_to: str | None
    subject: str
    message_id: str = Field(description="The RFC 5322 Message-ID, as the recipient sees it")
    campaign_id: str | None
    lead_id: str | None
    step: int | None = Field(description="1-based step of a campaign email")
    variant_id: str | None
    tags: dict[str, str]
    opens: int = Field(description="Unique opens (the first pixel load of this message)")
    clicks: int = Field(description="Every followed tracked link")
    replies: int
    error: str | None
    created_at: datetime
    sent_at: datetime | None


class EmailEventRead(BaseModel):
    id: str
    type: str = Field(description="The webhook event name, e.g. email.opened")
    occurred_at: datetime
    data: dict[str, Any]


class EmailDetail(EmailRead):
    text: str
    html: str | None
    events: list[EmailEventRead] = Field(description="Oldest first")


# --- sending (POST /emails, POST /emails/batch) -------------------------------------------------

MAX_EMAIL_BATCH = 100
MAX_TAGS = 10


class EmailCreate(BaseModel):
    """Seed 004's one-off email. ``from`` is the address of an active, connected inbox of the
    workspace (or give ``inbox_id``); at least one of ``html`` and ``text``."""

    model_config = ConfigDict(
        extra="forbid",
        populate_by_name=True,
        json_schema_extra={
            "examples": [
                {
                    "to": "user@example.com",
                    "from": "you@yourdomain.com",
                    "subject": "Welcome!",
                    "html": "<h1>Hello!</h1><p>Welcome aboard.</p>",
                    "tags": {"type": "welcome"},
                }
            ]
        },
    )

    to: Email
    to_name: str = Field(default="", max_length=200)
    from_email: Email | None = Field(default=None, alias="from")
    inbox_id: str | None = Field(default=None, max_length=36)
    subject: str = Field(min_length=1, max_length=500)
    html: str | None = Field(default=None, max_length=500_000)
    text: str | None = Field(default=None, max_length=500_000)
    reply_to: Email | None = None
    tags: dict[str, Annotated[str, Field(max_length=256)]] = Field(default_factory=dict)
    headers: dict[str, Annotated[str, Field(max_length=900)]] = Field(default_factory=dict)
    track_opens: bool = False
    track_clicks: bool = False

    @model_validator(mode="after")
    def _complete(self) -> EmailCreate:
        if self.html is None and self.text is None:
            raise ValueError("give html, text or both")
        if self.from_email is None and self.inbox_id is None:
            raise ValueError("give from (an inbox's address) or inbox_id")
        if len(self.tags) > MAX_TAGS:
            raise ValueError(f"at most {MAX_TAGS} tags")
        for name in self.tags:
            if not _TAG_NAME.fullmatch(name):
                raise ValueError(f"tag name {name!r}: letters, digits, _ and -, up to 64")
        return self


class EmailBatchCreate(BaseModel):
    """Up to 100 emails; each item is checked on its own, so one bad item fails alone."""

    model_config = ConfigDict(extra="forbid")

    emails: list[dict[str, Any]] = Field(
        min_length=1, description="Items shaped like POST /emails bodies"
    )


class EmailQueued(BaseModel):
    id: str
    status: EmailStatus
    message_id: str
    to: str


class BatchItemResult(BaseModel):
    index: int
    to: str | None
    id: str | None = None
    status: EmailStatus | None = None
    message_id: str | None = None
    error: dict[str, str] | None = Field(
        default=None, description="code, message and field of a refused item"
    )


class EmailBatchResult(BaseModel):
    total: int
    queued: int
    failed: int
    results: list[BatchItemResult]

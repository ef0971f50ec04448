"""Request and response shapes of the webhooks API; the secret goes out once, never again."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from urllib.parse import urlsplit

import httpx
from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from coldflow.contracts.webhooks import EVENT_TYPES


def _http_url(value: str) -> str:
    value = value.strip()
    if any(c.isspace() or not c.isprintable() for c in value):
        raise ValueError("the URL must not contain spaces or control characters")
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises on a malformed port
        httpx.URL(value)  # the client that will POST must read it the same way
    except (ValueError, httpx.InvalidURL) as exc:
        raise ValueError(f"not a valid URL: {exc}") from exc
    if parts.scheme not in ("http", "https"):
        raise ValueError("the URL must start with http:// or https://")
    if not parts.hostname:
        raise ValueError("the URL needs a host")
    return value


WebhookUrl = Annotated[str, Field(min_length=1, max_length=2048), AfterValidator(_http_url)]
EventList = Annotated[
    list[str],
    Field(
        max_length=len(EVENT_TYPES),
        description="Event types to receive; empty or omitted means every type. One of: "
        + ", ".join(EVENT_TYPES),
    ),
]


class WebhookCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "url": "https://crm.example.com/hooks/coldflow",
                    "events": ["email.replied", "email.bounced", "lead.unsubscribed"],
                }
            ]
        },
    )

    url: WebhookUrl
    events: EventList | None = None
    campaign_id: str | None = Field(
        default=None, max_length=36, description="Only events of this campaign."
    )
    is_active: bool = True


class WebhookUpdate(BaseModel):
    """Fields left out stay as they are; ``campaign_id: null`` removes the campaign filter."""

    model_config = ConfigDict(extra="forbid")

    url: WebhookUrl | None = None
    events: EventList | None = None
    campaign_id: str | None = Field(default=None, max_length=36)
    is_active: bool | None = None


class WebhookRead(BaseModel):
    id: str
    url: str
    events: list[str] = Field(description="Subscribed event types; empty means all.")
    campaign_id: str | None
    is_active: bool
    disabled_reason: str | None = Field(
        description="Why coldflow disabled the endpoint (410 Gone, failing for days); "
        "cleared by setting is_active to true."
    )
    failing_since: datetime | None = Field(
        description="Start of the current run of failed attempts; null while it succeeds."
    )
    previous_secret_expires_at: datetime | None = Field(
        description="After a rotation, until when the previous secret still signs."
    )
    created_at: datetime
    updated_at: datetime


class WebhookCreated(WebhookRead):
    secret: str = Field(description="The signing secret, shown once: store it now.")


class WebhookSecret(BaseModel):
    id: str
    secret: str = Field(description="The new signing secret, shown once.")
    previous_secret_expires_at: datetime = Field(
        description="The old secret keeps signing alongside the new one until then."
    )


class DeliveryRead(BaseModel):
    """One attempt to deliver one event."""

    id: str
    event_id: str
    event_type: str
    attempt: int
    succeeded: bool
    status_code: int | None
    latency_ms: int | None
    error: str | None
    response_snippet: str | None
    created_at: datetime


class RedeliveryRead(BaseModel):
    event_id: str
    workflow_id: str


class WebhookTestRead(BaseModel):
    """The outcome of one synthetic ``webhook.test`` delivery."""

    event_id: str
    delivery_id: str | None
    succeeded: bool
    status_code: int | None
    latency_ms: int | None
    error: str | None
    response_snippet: str | None

"""Request and response shapes of the inboxes API (seed 003); secrets go in, never out."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, SecretStr, model_validator

from coldflow.models import ConnectionStatus, ConnectionType, Provider, TransportSecurity
from coldflow.schedule import SUPPORTED_TIMEZONES
from coldflow.schemas.common import Email


def _zone(name: str) -> str:
    """The zones campaign schedules accept (seed 003's list), so warmup hours can use any."""
    if name not in SUPPORTED_TIMEZONES:
        raise ValueError(f"{name!r} is not a supported time zone (the campaign schedule's list)")
    return name


Zone = Annotated[str, AfterValidator(_zone)]


class ServerIn(BaseModel):
    """One mail server's settings; the username defaults to the inbox address."""

    model_config = ConfigDict(extra="forbid")

    host: str = Field(min_length=1, max_length=255)
    port: int = Field(ge=1, le=65535)
    username: str = Field(default="", max_length=320)
    password: SecretStr = Field(min_length=1, max_length=1000)
    security: TransportSecurity


class SmtpIn(ServerIn):
    port: int = Field(default=587, ge=1, le=65535)
    security: TransportSecurity = TransportSecurity.starttls


class ImapIn(ServerIn):
    port: int = Field(default=993, ge=1, le=65535)
    security: TransportSecurity = TransportSecurity.tls
    folder: str = Field(default="INBOX", min_length=1, max_length=255)


class InboxCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "email": "alex@acme.io",
                    "first_name": "Alex",
                    "last_name": "Doe",
                    "provider": "other",
                    "smtp": {
                        "host": "smtp.acme.io",
                        "port": 587,
                        "password": "app-password",
                        "security": "starttls",
                    },
                    "imap": {
                        "host": "imap.acme.io",
                        "port": 993,
                        "password": "app-password",
                        "security": "tls",
                    },
                    "daily_campaign_limit": 40,
                }
            ]
        },
    )

    email: Email
    first_name: str = Field(default="", max_length=100)
    last_name: str = Field(default="", max_length=100)
    provider: Provider = Provider.other
    smtp: SmtpIn | None = None
    imap: ImapIn | None = None
    daily_campaign_limit: int = Field(default=50, ge=1, le=500)
    is_warming: bool = False
    daily_warmup_limit: int = Field(default=10, ge=1, le=100)
    warmup_start: int = Field(default=2, ge=1, le=100, description="Warmup emails on day 1")
    warmup_step: int = Field(default=2, ge=0, le=50, description="Added to the volume each day")
    warmup_reply_rate: int = Field(
        default=30, ge=0, le=100, description="Percent of received warmup mail answered"
    )
    warmup_timezone: Zone = Field(
        default="UTC", max_length=64, description="Zone of the Mon–Fri 09:00–17:00 warmup hours"
    )
    signature: str = Field(default="", max_length=10_000)
    reply_to: Email | None = None

    @model_validator(mode="after")
    def _servers_needed(self) -> InboxCreate:
        """Only a sandbox inbox may go without SMTP: it records instead of sending."""
        if self.provider != Provider.sandbox and self.smtp is None:
            raise ValueError("smtp settings are required unless provider is sandbox")
        return self


class InboxUpdate(BaseModel):
    """Seed 003's editable fields, plus new server settings (which re-run the check)."""

    model_config = ConfigDict(extra="forbid")

    first_name: str | None = Field(default=None, max_length=100)
    last_name: str | None = Field(default=None, max_length=100)
    daily_campaign_limit: int | None = Field(default=None, ge=1, le=500)
    is_active: bool | None = None
    is_warming: bool | None = None
    daily_warmup_limit: int | None = Field(default=None, ge=1, le=100)
    warmup_start: int | None = Field(default=None, ge=1, le=100)
    warmup_step: int | None = Field(default=None, ge=0, le=50)
    warmup_reply_rate: int | None = Field(default=None, ge=0, le=100)
    warmup_timezone: Zone | None = Field(default=None, max_length=64)
    signature: str | None = Field(default=None, max_length=10_000)
    reply_to: Email | Literal[""] | None = Field(default=None, description="empty clears it")
    smtp: SmtpIn | None = None
    imap: ImapIn | None = None


class ServerRead(BaseModel):
    host: str
    port: int
    username: str
    security: TransportSecurity


class ImapRead(ServerRead):
    folder: str


class InboxCampaign(BaseModel):
    id: str
    name: str
    status: str
    created_at: datetime
    updated_at: datetime


class InboxRead(BaseModel):
    """Seed 003's inbox projection plus the server settings; credentials are never included."""

    id: str
    email: str
    domain: str
    provider: Provider
    connection_type: ConnectionType
    connection_status: ConnectionStatus
    connection_error: str | None
    first_name: str
    last_name: str
    reply_to: str | None
    signature: str
    is_active: bool
    is_warming: bool
    daily_campaign_limit: int
    daily_warmup_limit: int
    warmup_start: int
    warmup_step: int
    warmup_reply_rate: int
    warmup_timezone: str
    warmup_status: str | None = Field(
        description="Why warmup sends nothing or holds its volume (a pool of one, spam), if so"
    )
    smtp: ServerRead | None
    imap: ImapRead | None
    campaigns: list[InboxCampaign] | None = None
    created_at: datetime
    updated_at: datetime


class SandboxMessage(BaseModel):
    """A message a sandbox inbox recorded instead of sending."""

    id: str
    message_id: str
    to_email: str
    subject: str
    body_text: str
    body_html: str | None
    campaign_id: str | None
    lead_id: str | None
    step: int
    sent_at: datetime | None

"""Request and response shapes of the inboxes API; secrets go in, never out."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from coldflow.models import ConnectionStatus, ConnectionType, Provider, TransportSecurity
from coldflow.schemas.common import Email


class InboxCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "email": "alex@acme.io",
                    "from_name": "Alex Doe",
                    "smtp_host": "smtp.acme.io",
                    "smtp_port": 587,
                    "smtp_username": "alex@acme.io",
                    "smtp_password": "app-password",
                    "imap_host": "imap.acme.io",
                    "imap_port": 993,
                    "imap_username": "alex@acme.io",
                    "imap_password": "app-password",
                }
            ]
        },
    )

    email: Email
    from_name: str = Field(default="", max_length=200)
    provider: Provider = Provider.other
    connection_type: ConnectionType = ConnectionType.imap_smtp
    smtp_host: str = Field(default="", max_length=255)
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_username: str = Field(default="", max_length=320)
    smtp_password: SecretStr | None = None
    smtp_security: TransportSecurity = TransportSecurity.starttls
    imap_host: str = Field(default="", max_length=255)
    imap_port: int = Field(default=993, ge=1, le=65535)
    imap_username: str = Field(default="", max_length=320)
    imap_password: SecretStr | None = None
    imap_security: TransportSecurity = TransportSecurity.tls
    daily_campaign_limit: int = Field(default=50, ge=1, le=500)
    is_warming: bool = False
    daily_warmup_limit: int = Field(default=10, ge=1, le=100)
    signature: str = Field(default="", max_length=10_000)
    reply_to: Email | None = None


class InboxUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    from_name: str | None = Field(default=None, max_length=200)
    daily_campaign_limit: int | None = Field(default=None, ge=1, le=500)
    is_active: bool | None = None
    is_warming: bool | None = None
    daily_warmup_limit: int | None = Field(default=None, ge=1, le=100)
    signature: str | None = Field(default=None, max_length=10_000)
    reply_to: Email | None = None


class InboxRead(BaseModel):
    """Everything about an inbox except its credentials."""

    id: str
    email: str
    from_name: str
    provider: Provider
    connection_type: ConnectionType
    smtp_host: str
    smtp_port: int
    smtp_username: str
    smtp_security: TransportSecurity
    imap_host: str
    imap_port: int
    imap_username: str
    imap_security: TransportSecurity
    connection_status: ConnectionStatus
    connection_error: str | None
    is_active: bool
    daily_campaign_limit: int
    is_warming: bool
    daily_warmup_limit: int
    signature: str
    reply_to: str | None
    created_at: datetime
    updated_at: datetime

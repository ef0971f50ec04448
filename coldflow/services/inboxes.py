"""Inbox use cases: connect (credentials encrypted at rest), check, update."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass

from sqlmodel.ext.asyncio.session import AsyncSession

from coldflow import mailer
from coldflow.crypto import SecretBox
from coldflow.errors import CodedError, Conflict, NotFound
from coldflow.models import ConnectionStatus, Inbox, Provider
from coldflow.models.base import utcnow
from coldflow.schemas.inboxes import InboxCreate, InboxUpdate
from coldflow.store import inboxes as store

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Credentials:
    """The secret half of an inbox; its JSON is what the encrypted column holds."""

    kind: str = "password"
    smtp_password: str = ""
    imap_password: str = ""

    def seal(self, box: SecretBox) -> str:
        return box.encrypt(json.dumps(self.__dict__))

    @classmethod
    def open(cls, box: SecretBox, token: str) -> Credentials:
        return cls(**json.loads(box.decrypt(token))) if token else cls()


async def get_inbox(*, session: AsyncSession, workspace_id: str, inbox_id: str) -> Inbox:
    inbox = await store.get_inbox(session, workspace_id, inbox_id)
    if inbox is None:
        raise NotFound("inbox", inbox_id)
    return inbox


async def create_inbox(
    *, session: AsyncSession, box: SecretBox, workspace_id: str, data: InboxCreate
) -> Inbox:
    if await store.find_inbox_by_email(session, workspace_id, data.email) is not None:
        raise Conflict(f"An inbox for {data.email} exists", code="INBOX_EXISTS")
    fields = data.model_dump(exclude={"smtp_password", "imap_password"})
    credentials = Credentials(
        smtp_password=data.smtp_password.get_secret_value() if data.smtp_password else "",
        imap_password=data.imap_password.get_secret_value() if data.imap_password else "",
    )
    inbox = Inbox(workspace_id=workspace_id, credentials=credentials.seal(box), **fields)
    fields_defaults(inbox)
    if inbox.provider == Provider.sandbox:
        # Sandbox inboxes capture instead of sending, so there is nothing to connect to.
        inbox.connection_status = ConnectionStatus.connected
    session.add(inbox)
    await session.flush()
    return inbox


def fields_defaults(inbox: Inbox) -> None:
    """Usernames default to the address, the usual case for hosted mailboxes."""
    inbox.smtp_username = inbox.smtp_username or (inbox.email if inbox.smtp_host else "")
    inbox.imap_username = inbox.imap_username or (inbox.email if inbox.imap_host else "")


def smtp_settings(inbox: Inbox, box: SecretBox, *, timeout: float = 60.0) -> mailer.SmtpSettings:
    credentials = Credentials.open(box, inbox.credentials)
    return mailer.SmtpSettings(
        host=inbox.smtp_host,
        port=inbox.smtp_port,
        username=inbox.smtp_username,
        password=credentials.smtp_password,
        security=inbox.smtp_security,
        timeout=timeout,
    )


async def check_connection(
    *, session: AsyncSession, box: SecretBox, workspace_id: str, inbox_id: str
) -> Inbox:
    """Log in to SMTP and record ``connected`` or ``error`` with the server's reason."""
    inbox = await get_inbox(session=session, workspace_id=workspace_id, inbox_id=inbox_id)
    if inbox.provider == Provider.sandbox:
        inbox.connection_status, inbox.connection_error = ConnectionStatus.connected, None
    else:
        try:
            await mailer.check_login(smtp_settings(inbox, box, timeout=15.0))
        except CodedError as exc:
            log.info("inbox %s failed its connection check: %s", inbox.id, exc.code)
            inbox.connection_status, inbox.connection_error = ConnectionStatus.error, exc.message
        else:
            inbox.connection_status, inbox.connection_error = ConnectionStatus.connected, None
    inbox.updated_at = utcnow()
    session.add(inbox)
    await session.flush()
    return inbox


async def update_inbox(
    *, session: AsyncSession, workspace_id: str, inbox_id: str, data: InboxUpdate
) -> Inbox:
    inbox = await get_inbox(session=session, workspace_id=workspace_id, inbox_id=inbox_id)
    for name, value in data.model_dump(exclude_unset=True).items():
        setattr(inbox, name, value)
    inbox.updated_at = utcnow()
    session.add(inbox)
    await session.flush()
    return inbox

"""Inbox use cases: connect (credentials encrypted at rest), check, update, delete."""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import asdict, dataclass

from sqlmodel.ext.asyncio.session import AsyncSession

from coldflow import imap, mailer
from coldflow.contracts.inboxes import (
    INBOX_CHECK_WORKFLOW,
    InboxCheckInput,
    inbox_check_workflow_id,
)
from coldflow.crypto import SecretBox
from coldflow.errors import CodedError, Conflict, NotFound, Unavailable
from coldflow.models import CampaignStatus, ConnectionStatus, Inbox, Provider
from coldflow.models.base import utcnow
from coldflow.schemas.inboxes import (
    ImapIn,
    ImapRead,
    InboxCampaign,
    InboxCreate,
    InboxRead,
    InboxUpdate,
    ServerRead,
    SmtpIn,
)
from coldflow.services import domains, mailboxes, warmup
from coldflow.services.journeys import Journeys
from coldflow.store import events as event_store
from coldflow.store import inboxes as store
from coldflow.store.db import after_commit

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Credentials:
    """The secret half of an inbox; its JSON is what the encrypted column holds.

    ``kind`` leaves room for OAuth (XOAUTH2 refresh tokens) without a schema change.
    """

    kind: str = "password"
    smtp_password: str = ""
    imap_password: str = ""

    def seal(self, box: SecretBox) -> str:
        return box.encrypt(json.dumps(asdict(self)))

    @classmethod
    def open(cls, box: SecretBox, token: str) -> Credentials:
        return cls(**json.loads(box.decrypt(token))) if token else cls()


async def get_inbox(*, session: AsyncSession, workspace_id: str, inbox_id: str) -> Inbox:
    inbox = await store.get_inbox(session, workspace_id, inbox_id)
    if inbox is None:
        raise NotFound("inbox", inbox_id)
    return inbox


def _apply_servers(
    inbox: Inbox, smtp: SmtpIn | None, imap_in: ImapIn | None, box: SecretBox
) -> None:
    credentials = Credentials.open(box, inbox.credentials)
    smtp_password, imap_password = credentials.smtp_password, credentials.imap_password
    if smtp is not None:
        inbox.smtp_host, inbox.smtp_port = smtp.host, smtp.port
        inbox.smtp_username = smtp.username or inbox.email
        inbox.smtp_security = smtp.security
        smtp_password = smtp.password.get_secret_value()
    if imap_in is not None:
        inbox.imap_host, inbox.imap_port = imap_in.host, imap_in.port
        inbox.imap_username = imap_in.username or inbox.email
        inbox.imap_security, inbox.imap_folder = imap_in.security, imap_in.folder
        imap_password = imap_in.password.get_secret_value()
    inbox.credentials = Credentials(smtp_password=smtp_password, imap_password=imap_password).seal(
        box
    )


async def create_inbox(
    *, session: AsyncSession, box: SecretBox, workspace_id: str, data: InboxCreate
) -> Inbox:
    """A new inbox in ``pending``; the caller runs the connection check."""
    if await store.find_inbox_by_email(session, workspace_id, data.email) is not None:
        raise Conflict(f"An inbox for {data.email} exists", code="INBOX_EXISTS")
    inbox = Inbox(
        workspace_id=workspace_id,
        **data.model_dump(exclude={"smtp", "imap"}),
    )
    _apply_servers(inbox, data.smtp, data.imap, box)
    session.add(inbox)
    await session.flush()
    await domains.ensure_inbox_domain(session, inbox)
    return inbox


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


def imap_settings(inbox: Inbox, box: SecretBox) -> imap.ImapSettings:
    credentials = Credentials.open(box, inbox.credentials)
    return imap.ImapSettings(
        host=inbox.imap_host,
        port=inbox.imap_port,
        username=inbox.imap_username,
        password=credentials.imap_password,
        security=inbox.imap_security,
        folder=inbox.imap_folder,
    )


async def probe(inbox: Inbox, box: SecretBox) -> str | None:
    """Log in to SMTP (and IMAP when configured); the first failure's reason, or None."""
    if inbox.provider == Provider.sandbox:
        return None
    try:
        await mailer.check_login(smtp_settings(inbox, box, timeout=15.0))
        if inbox.imap_host:
            await imap.check_login(imap_settings(inbox, box))
    except CodedError as exc:
        log.info("inbox %s failed its connection check: %s", inbox.id, exc.code)
        return exc.message
    return None


def request_check(session: AsyncSession, journeys: Journeys, inbox: Inbox) -> None:
    """Queue the connection check (a workflow) once the inbox row is committed.

    A sandbox inbox has nothing to log in to and is connected at once. If Temporal is down the
    inbox stays ``pending`` and ``POST /inboxes/{id}/validate`` runs the check later.
    """
    if inbox.provider == Provider.sandbox:
        inbox.connection_status, inbox.connection_error = ConnectionStatus.connected, None
        session.add(inbox)
        return
    inbox.connection_status, inbox.connection_error = ConnectionStatus.pending, None
    session.add(inbox)
    check = InboxCheckInput(workspace_id=inbox.workspace_id, inbox_id=inbox.id)

    async def start() -> None:
        try:
            await journeys.start_task(
                INBOX_CHECK_WORKFLOW, check, workflow_id=inbox_check_workflow_id(inbox.id)
            )
        except Unavailable:
            log.warning("inbox %s: connection check not started (Temporal down)", inbox.id)

    after_commit(session, start)


async def start_validation(
    *, session: AsyncSession, workspace_id: str, inbox_id: str
) -> Inbox | None:
    """Mark the inbox ``validating``; None when it was deleted meanwhile."""
    inbox = await store.get_inbox(session, workspace_id, inbox_id)
    if inbox is None:
        return None
    inbox.connection_status = ConnectionStatus.validating
    session.add(inbox)
    await session.flush()
    return inbox


async def record_validation(
    *,
    session: AsyncSession,
    workspace_id: str,
    inbox_id: str,
    error: str | None,
    journeys: Journeys | None = None,
) -> str:
    """``connected``, or ``error`` with the server's reason; the status written.

    A connected inbox's mailbox watcher starts after the commit.
    """
    inbox = await store.get_inbox(session, workspace_id, inbox_id)
    if inbox is None:
        return "deleted"
    was_error = inbox.connection_status == ConnectionStatus.error
    if error and not was_error:
        await event_store.record_event(
            session,
            workspace_id=workspace_id,
            type="inbox.error",
            inbox_id=inbox.id,
            data={"email": inbox.email, "error": error, "source": "connection_check"},
        )
    inbox.connection_status = ConnectionStatus.error if error else ConnectionStatus.connected
    inbox.connection_error = error
    inbox.updated_at = utcnow()
    session.add(inbox)
    await session.flush()
    mailboxes.watch_after_commit(session, inbox, journeys)
    return inbox.connection_status.value


async def update_inbox(
    *,
    session: AsyncSession,
    box: SecretBox,
    workspace_id: str,
    inbox_id: str,
    data: InboxUpdate,
    journeys: Journeys | None = None,
) -> tuple[Inbox, bool]:
    """Apply the changes; True as second value when credentials changed (re-check needed)."""
    inbox = await get_inbox(session=session, workspace_id=workspace_id, inbox_id=inbox_id)
    changes = data.model_dump(exclude_unset=True, exclude={"smtp", "imap"})
    if "reply_to" in changes:
        changes["reply_to"] = (changes["reply_to"] or "").strip().lower() or None
    for name, value in changes.items():
        if value is None and name != "reply_to":
            continue
        setattr(inbox, name, value)
    credentials_changed = data.smtp is not None or data.imap is not None
    if credentials_changed:
        _apply_servers(inbox, data.smtp, data.imap, box)
    inbox.updated_at = utcnow()
    session.add(inbox)
    await session.flush()
    if "is_active" in changes:
        mailboxes.watch_after_commit(session, inbox, journeys)
    if "is_warming" in changes or "is_active" in changes:
        warmup.warm_after_commit(session, inbox, journeys)
    return inbox, credentials_changed


async def delete_inbox(
    *,
    session: AsyncSession,
    workspace_id: str,
    inbox_id: str,
    force: bool,
    journeys: Journeys | None = None,
) -> None:
    """409 while an active campaign sends from it, unless forced."""
    inbox = await get_inbox(session=session, workspace_id=workspace_id, inbox_id=inbox_id)
    active = [
        c
        for c in await store.list_inbox_campaigns(session, inbox.id)
        if c.status == CampaignStatus.active
    ]
    if active and not force:
        raise Conflict(
            "The inbox is attached to an active campaign; pass force=true to delete it anyway",
            code="INBOX_IN_USE",
            details=[{"campaign_id": c.id, "name": c.name} for c in active],
        )
    await session.delete(inbox)
    await session.flush()
    mailboxes.watch_after_commit(session, inbox, journeys, watch=False)
    warmup.warm_after_commit(session, inbox, journeys, warm=False)


async def inbox_view(session: AsyncSession, inbox: Inbox, *, with_campaigns: bool) -> InboxRead:
    campaigns: Sequence[InboxCampaign] | None = None
    if with_campaigns:
        campaigns = [
            InboxCampaign.model_validate(c, from_attributes=True)
            for c in await store.list_inbox_campaigns(session, inbox.id)
        ]
    return InboxRead(
        id=inbox.id,
        email=inbox.email,
        domain=inbox.domain,
        provider=inbox.provider,
        connection_type=inbox.connection_type,
        connection_status=inbox.connection_status,
        connection_error=inbox.connection_error,
        first_name=inbox.first_name,
        last_name=inbox.last_name,
        reply_to=inbox.reply_to,
        signature=inbox.signature,
        is_active=inbox.is_active,
        is_warming=inbox.is_warming,
        daily_campaign_limit=inbox.daily_campaign_limit,
        daily_warmup_limit=inbox.daily_warmup_limit,
        warmup_start=inbox.warmup_start,
        warmup_step=inbox.warmup_step,
        warmup_reply_rate=inbox.warmup_reply_rate,
        warmup_timezone=inbox.warmup_timezone,
        warmup_status=inbox.warmup_reason if inbox.is_warming else None,
        smtp=ServerRead(
            host=inbox.smtp_host,
            port=inbox.smtp_port,
            username=inbox.smtp_username,
            security=inbox.smtp_security,
        )
        if inbox.smtp_host
        else None,
        imap=ImapRead(
            host=inbox.imap_host,
            port=inbox.imap_port,
            username=inbox.imap_username,
            security=inbox.imap_security,
            folder=inbox.imap_folder,
        )
        if inbox.imap_host
        else None,
        campaigns=list(campaigns) if campaigns is not None else None,
        created_at=inbox.created_at,
        updated_at=inbox.updated_at,
    )

"""API emails (seed 004's ``POST /emails`` and ``/emails/batch``): accept, queue, deliver.

Every check runs before anything is written (a refused item leaves no row), the row is stored
``queued`` and its ``EmailSend`` workflow starts once the request has committed. Delivery
follows the unibox's rule: a send found ``reserved`` on a retry may have reached the server, so
it is marked failed ("delivery unconfirmed") rather than sent twice.

API emails count against their inbox's daily total on the UTC day: one is refused while the
inbox has no room left today, and each one sent takes a slot that journeys then do not get.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from pydantic import ValidationError
from sqlmodel.ext.asyncio.session import AsyncSession

from coldflow import mime, templates
from coldflow.contracts.emails import (
    EMAIL_SEND_WORKFLOW,
    EmailSendInput,
    EmailSendResult,
    email_send_workflow_id,
)
from coldflow.errors import CodedError, InvalidInput, PayloadTooLarge
from coldflow.ids import new_id
from coldflow.links import Links
from coldflow.models import (
    ConnectionStatus,
    ContactStatus,
    EmailSource,
    EmailTag,
    Inbox,
    Provider,
    SendStatus,
    SentMessage,
)
from coldflow.models.base import utcnow
from coldflow.rendering import apply_tracking
from coldflow.schemas.emails import (
    MAX_EMAIL_BATCH,
    BatchItemResult,
    EmailBatchCreate,
    EmailBatchResult,
    EmailCreate,
    EmailQueued,
    EmailStatus,
)
from coldflow.services import blocklist
from coldflow.services.emails import SHOWN
from coldflow.services.journeys import Journeys
from coldflow.store import contacts as contact_store
from coldflow.store import emails as email_store
from coldflow.store import events as event_store
from coldflow.store import inboxes as inbox_store
from coldflow.store import sending as send_store
from coldflow.store.db import after_commit

log = logging.getLogger(__name__)

MESSAGE_ID_SALT = "api-email"
UNCONFIRMED = "delivery unconfirmed: the worker stopped during the SMTP transaction"
# Headers a caller may add: any X- header, plus a few informational ones. The rest (From, To,
# Bcc, Subject, Message-ID, threading, List-Unsubscribe…) are coldflow's to write.
_CUSTOM_HEADER = re.compile(r"X-[A-Za-z0-9-]{1,60}")
OTHER_ALLOWED_HEADERS = frozenset(
    {"auto-submitted", "comments", "importance", "keywords", "list-id", "precedence", "priority"}
)


def _check_headers(headers: Mapping[str, str]) -> None:
    for name, value in headers.items():
        field = f"headers.{name}"
        if not (_CUSTOM_HEADER.fullmatch(name) or name.lower() in OTHER_ALLOWED_HEADERS):
            raise InvalidInput.field(
                field,
                f"Header {name!r} cannot be set; allowed are X-* and "
                + ", ".join(sorted(OTHER_ALLOWED_HEADERS)),
                code="HEADER_NOT_ALLOWED",
            )
        mime.check_line(field, value)


async def _sending_inbox(session: AsyncSession, workspace_id: str, data: EmailCreate) -> Inbox:
    """The inbox named by ``inbox_id`` or by the ``from`` address; active and connected."""
    field = "inbox_id" if data.inbox_id else "from"
    if data.inbox_id:
        inbox = await inbox_store.get_inbox(session, workspace_id, data.inbox_id)
    else:
        inbox = await inbox_store.find_inbox_by_email(session, workspace_id, data.from_email or "")
    if inbox is None:
        raise InvalidInput.field(
            field, "No inbox of this workspace has that id or address", code="INBOX_NOT_FOUND"
        )
    if data.inbox_id and data.from_email and data.from_email != inbox.email:
        raise InvalidInput.field(
            "from", f"inbox_id names {inbox.email}, not {data.from_email}", code="INBOX_MISMATCH"
        )
    if not (inbox.is_active and inbox.connection_status == ConnectionStatus.connected):
        state = "inactive" if not inbox.is_active else inbox.connection_status.value
        raise InvalidInput.field(field, f"Inbox {inbox.email} is {state}", code="INBOX_UNAVAILABLE")
    return inbox


async def _suppressed(session: AsyncSession, workspace_id: str, address: str) -> bool:
    """Blocklisted (address or domain, unsubscribes included), or a contact that is not
    ``subscribed`` (bounced, complained, unsubscribed)."""
    if await blocklist.is_blocked(session=session, workspace_id=workspace_id, email=address):
        return True
    return bool(await contact_store.suppressed_emails(session, workspace_id, [address]))


def utc_day(now: datetime) -> str:
    return now.date().isoformat()


async def _prepare(
    session: AsyncSession, workspace_id: str, data: EmailCreate, now: datetime
) -> tuple[SentMessage, list[EmailTag]]:
    """Check everything and build the rows; nothing is written here. Earlier items of a batch
    are already flushed, so they count towards the inbox's day like any queued email."""
    _check_headers(data.headers)
    mime.check_line("subject", data.subject)
    inbox = await _sending_inbox(session, workspace_id, data)
    if await _suppressed(session, workspace_id, data.to):
        raise InvalidInput.field(
            "to",
            f"{data.to} is blocklisted, unsubscribed or bounced in this workspace",
            code="RECIPIENT_SUPPRESSED",
        )
    day = utc_day(now)
    # Sent and reserved sends are in the counter; queued ones take their slot when reserved.
    used = (await send_store.counts_for(session, "inbox", [inbox.id], day))[inbox.id]
    used += await email_store.count_queued(session, inbox.id, day)
    if used >= inbox.daily_campaign_limit:
        raise InvalidInput.field(
            "from",
            f"Inbox {inbox.email} reached its daily limit of {inbox.daily_campaign_limit}",
            code="INBOX_DAILY_LIMIT",
        )
    html = templates.sanitize_html(data.html) if data.html is not None else None
    text = data.text if data.text is not None else templates.html_to_text(html or "")
    email_id = new_id()
    email = SentMessage(
        id=email_id,
        workspace_id=workspace_id,
        source=EmailSource.api,
        status=SendStatus.queued,
        inbox_id=inbox.id,
        message_id=mime.make_message_id(
            lead_id=email_id, step=0, domain=inbox.domain, salt=MESSAGE_ID_SALT
        ),
        to_email=data.to,
        subject=data.subject,
        body_text=text,
        body_html=html,
        reply_to=data.reply_to,
        headers=dict(data.headers),
        tags=dict(data.tags),
        track_opens=data.track_opens,
        track_clicks=data.track_clicks,
        local_day=day,
        reserved_at=now,
    )
    mime.build_message(outgoing(email, inbox), date=now)  # refuse now what MIME would refuse
    tags = [
        EmailTag(email_id=email_id, name=name, value=value, workspace_id=workspace_id)
        for name, value in data.tags.items()
    ]
    return email, tags


async def _queue(
    session: AsyncSession, journeys: Journeys, email: SentMessage, tags: list[EmailTag]
) -> None:
    session.add(email)
    await session.flush()  # no relationship orders the inserts: the tags' FK needs the row first
    session.add_all(tags)
    inp = EmailSendInput(workspace_id=email.workspace_id, email_id=email.id)

    async def start() -> None:
        await journeys.start_task(
            EMAIL_SEND_WORKFLOW,
            inp,
            workflow_id=email_send_workflow_id(email.id),
            replace_running=False,
        )

    after_commit(session, start)


async def resume_queued(session: AsyncSession, journeys: Journeys) -> int:
    """Start the send workflow of every queued API email (a no-op for those that have one).

    The start runs after the request's commit; if Temporal was unreachable then, the email
    would wait forever. Workers call this when they start.
    """
    ids = await email_store.queued_api_emails(session)
    for workspace_id, email_id in ids:
        await journeys.start_task(
            EMAIL_SEND_WORKFLOW,
            EmailSendInput(workspace_id=workspace_id, email_id=email_id),
            workflow_id=email_send_workflow_id(email_id),
            replace_running=False,
        )
    return len(ids)


def _queued(email: SentMessage) -> EmailQueued:
    return EmailQueued(
        id=email.id, status=EmailStatus.queued, message_id=email.message_id, to=email.to_email
    )


async def send_email(
    *, session: AsyncSession, journeys: Journeys, workspace_id: str, data: EmailCreate
) -> EmailQueued:
    email, tags = await _prepare(session, workspace_id, data, utcnow())
    await _queue(session, journeys, email, tags)
    await session.flush()
    return _queued(email)


def _item_error(index: int, raw: object, exc: Exception) -> BatchItemResult:
    to = raw.get("to") if isinstance(raw, dict) else None
    if isinstance(exc, ValidationError):
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "body"
        error = {"code": "VALIDATION_ERROR", "message": first["msg"], "field": field}
    else:
        assert isinstance(exc, CodedError)
        details = exc.details[0] if exc.details else {}
        error = {"code": exc.code, "message": exc.message, "field": str(details.get("field", ""))}
    return BatchItemResult(index=index, to=to if isinstance(to, str) else None, error=error)


async def send_batch(
    *, session: AsyncSession, journeys: Journeys, workspace_id: str, data: EmailBatchCreate
) -> EmailBatchResult:
    """One result per item; a refused item is reported and the others still go."""
    if len(data.emails) > MAX_EMAIL_BATCH:
        raise PayloadTooLarge(
            f"At most {MAX_EMAIL_BATCH} emails per batch",
            code="BATCH_TOO_LARGE",
            details=[{"field": "emails", "limit": MAX_EMAIL_BATCH, "received": len(data.emails)}],
        )
    now = utcnow()
    results: list[BatchItemResult] = []
    for index, raw in enumerate(data.emails):
        try:
            item = EmailCreate.model_validate(raw)
            email, tags = await _prepare(session, workspace_id, item, now)
        except (ValidationError, CodedError) as exc:
            results.append(_item_error(index, raw, exc))
            continue
        await _queue(session, journeys, email, tags)
        queued = _queued(email)
        results.append(BatchItemResult(index=index, **queued.model_dump()))
    await session.flush()
    failed = sum(1 for r in results if r.error is not None)
    return EmailBatchResult(
        total=len(results), queued=len(results) - failed, failed=failed, results=results
    )


# --- delivery (the activity's database side) ----------------------------------------------------


def outgoing(email: SentMessage, inbox: Inbox, html: str | None = None) -> mime.OutgoingEmail:
    """The MIME description of an API email; ``html`` overrides the stored one (tracking)."""
    return mime.OutgoingEmail(
        from_name=inbox.from_name,
        from_email=inbox.email,
        to_email=email.to_email,
        to_name="",
        subject=email.subject,
        text=email.body_text,
        html=html if html is not None else email.body_html,
        message_id=email.message_id,
        reply_to=email.reply_to or inbox.reply_to,
        extra_headers=tuple(email.headers.items()),
    )


@dataclass(frozen=True)
class PreparedEmail:
    """A reserved API email, ready for SMTP; no rows and no secrets."""

    email_id: str
    inbox_id: str
    provider: Provider
    sender: str
    recipient: str
    message: bytes


def _result(email: SentMessage) -> EmailSendResult:
    return EmailSendResult(SHOWN[email.status].value, email.error)


async def prepare_delivery(
    session: AsyncSession, inp: EmailSendInput, links: Links
) -> PreparedEmail | EmailSendResult:
    """Reserve the send (counted on the inbox's day), or return what was already decided."""
    email = await session.get(SentMessage, inp.email_id, with_for_update=True)
    if email is None or email.workspace_id != inp.workspace_id:
        return EmailSendResult("deleted")
    if email.status == SendStatus.reserved:
        log.warning("email %s: delivery unconfirmed", email.id)
        return await record_outcome(session, email.id, error=UNCONFIRMED)
    if email.status != SendStatus.queued:
        return _result(email)
    inbox = await inbox_store.get_inbox(session, inp.workspace_id, email.inbox_id or "")
    if inbox is None or not inbox.is_active:
        return await record_outcome(session, email.id, error="The inbox was deleted or deactivated")
    if await _suppressed(session, email.workspace_id, email.to_email):
        return await record_outcome(session, email.id, error="The recipient unsubscribed")
    await send_store.increment(session, "inbox", inbox.id, email.local_day)
    email.status = SendStatus.reserved
    session.add(email)
    tracking = links.tracking(email.id, opens=email.track_opens, clicks=email.track_clicks)
    html = apply_tracking(email.body_html, tracking) if tracking and email.body_html else None
    return PreparedEmail(
        email_id=email.id,
        inbox_id=inbox.id,
        provider=inbox.provider,
        sender=inbox.email,
        recipient=email.to_email,
        message=mime.build_message(outgoing(email, inbox, html), date=email.reserved_at),
    )


async def release_reservation(session: AsyncSession, inp: EmailSendInput) -> None:
    """Back to ``queued`` after a transient failure: nothing was delivered, the retry re-sends."""
    email = await session.get(SentMessage, inp.email_id)
    if email is not None and email.status == SendStatus.reserved:
        email.status = SendStatus.queued
        session.add(email)
        await send_store.decrement(session, "inbox", email.inbox_id or "", email.local_day)


async def record_outcome(
    session: AsyncSession, email_id: str, *, error: str | None, bounced: bool = False
) -> EmailSendResult:
    """``sent`` when ``error`` is None, else ``bounced`` (refused recipient) or ``failed``; one
    event each (``email.sent``, ``email.bounced``, ``email.failed``) for the log and webhooks."""
    email = await session.get(SentMessage, email_id)
    if email is None:
        return EmailSendResult("deleted")
    if error is None:
        email.status, email.sent_at, type = SendStatus.sent, utcnow(), "email.sent"
    else:
        email.status = SendStatus.bounced if bounced else SendStatus.failed
        email.error = error
    if bounced:
        await contact_store.raise_status(
            session, email.workspace_id, email.to_email, ContactStatus.bounced
        )
        type = "email.bounced" if bounced else "email.failed"
    session.add(email)
    data: dict[str, object] = {"message_id": email.message_id, "email": email.to_email}
    if error is not None:
        data["error"] = error
    if bounced:
        data["hard"] = True
    await event_store.record_event(
        session,
        workspace_id=email.workspace_id,
        type=type,
        inbox_id=email.inbox_id,
        email_id=email.id,
        data={**data, "tags": email.tags},
    )
    return _result(email)

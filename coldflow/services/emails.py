"""The emails log: campaign steps and API emails alike, each with its counters and events.

Counters come from the event log (``events.email_id``), so the log and the webhooks can never
disagree: an open is counted once per message (the first pixel load), every click counts.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel.ext.asyncio.session import AsyncSession

from coldflow.errors import InvalidInput, NotFound
from coldflow.models import EmailSource, SendStatus, SentMessage
from coldflow.schemas.emails import EmailDetail, EmailEventRead, EmailRead, EmailStatus
from coldflow.store import emails as store
from coldflow.store.paging import PageRequest, PageResult

# The stored statuses each shown status covers.
STORED: dict[EmailStatus, tuple[SendStatus, ...]] = {
    EmailStatus.queued: (SendStatus.queued, SendStatus.reserved),
    EmailStatus.sent: (SendStatus.sent,),
    EmailStatus.failed: (SendStatus.failed,),
    EmailStatus.bounced: (SendStatus.bounced,),
}
SHOWN = {stored: shown for shown, covered in STORED.items() for stored in covered}


def parse_tags(raw: Sequence[str]) -> list[tuple[str, str]]:
    """``name:value`` filters; anything else is a 422 naming ``tag``."""
    parsed: list[tuple[str, str]] = []
    for item in raw:
        name, sep, value = item.partition(":")
        if not sep or not name:
            raise InvalidInput.field("tag", "tag filters look like name:value", code="INVALID_TAG")
        parsed.append((name, value))
    return parsed


def _read(email: SentMessage, counts: dict[str, int], from_email: str | None) -> EmailRead:
    return EmailRead(
        id=email.id,
        source=email.source,
        status=SHOWN[email.status],
        to=email.to_email,
        from_email=from_email,
        inbox_id=email.inbox_id,
        reply_to=email.reply_to,
        subject=email.subject,
        message_id=email.message_id,
        campaign_id=email.campaign_id,
        lead_id=email.lead_id,
        step=email.step or None,
        variant_id=email.variant_id,
        tags=email.tags,
        opens=counts.get("opens", 0),
        clicks=counts.get("clicks", 0),
        replies=counts.get("replies", 0),
        error=email.error,
        created_at=email.reserved_at,
        sent_at=email.sent_at,
    )


async def list_emails(
    *,
    session: AsyncSession,
    workspace_id: str,
    request: PageRequest,
    status: EmailStatus | None = None,
    campaign_id: str | None = None,
    lead_id: str | None = None,
    source: EmailSource | None = None,
    tags: Sequence[str] = (),
) -> tuple[PageResult[SentMessage], list[EmailRead]]:
    result = await store.list_emails(
        session,
        workspace_id,
        request,
        statuses=STORED[status] if status is not None else (),
        campaign_id=campaign_id,
        lead_id=lead_id,
        source=source,
        tags=parse_tags(tags),
    )
    counts = await store.event_counts(session, [e.id for e in result.items])
    senders = await store.inbox_addresses(
        session, {e.inbox_id for e in result.items if e.inbox_id is not None}
    )
    reads = [_read(e, counts.get(e.id, {}), senders.get(e.inbox_id or "")) for e in result.items]
    return result, reads


async def show_email(*, session: AsyncSession, workspace_id: str, email_id: str) -> EmailDetail:
    email = await store.get_email(session, workspace_id, email_id)
    if email is None:
        raise NotFound("email")
    counts = await store.event_counts(session, [email.id])
    senders = await store.inbox_addresses(session, [email.inbox_id] if email.inbox_id else [])
    read = _read(email, counts.get(email.id, {}), senders.get(email.inbox_id or ""))
    events = await store.list_email_events(session, email.id)
    return EmailDetail(
        **read.model_dump(),
        text=email.body_text,
        html=email.body_html,
        events=[
            EmailEventRead(id=e.id, type=e.type, occurred_at=e.occurred_at, data=e.data)
            for e in events
        ],
    )

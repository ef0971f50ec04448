"""What a stored inbound message means for the event log: a lead's reply, unsubscribe or
bounce (and the lead's flags), or a reply to / bounce of an API email (and its status)."""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

from coldflow.classify import Classification, Kind, ParsedMessage
from coldflow.models import (
    ContactStatus,
    Conversation,
    ConversationMessage,
    Inbox,
    Lead,
    LeadStatus,
    SendStatus,
    SentMessage,
)
from coldflow.models.base import utcnow
from coldflow.store import contacts as contact_store
from coldflow.store import events as event_store

PREVIEW_CHARS = 200


def clean(value: str) -> str:
    """PostgreSQL text cannot hold NUL, and a message that can never be stored would stall
    its mailbox behind it forever."""
    return value.replace("\x00", "")


async def record_lead_message(
    session: AsyncSession,
    inbox: Inbox,
    parsed: ParsedMessage,
    verdict: Classification,
    lead: Lead,
    sent: SentMessage | None,
    message: ConversationMessage,
    conversation: Conversation,
) -> None:
    """The lead's new state and the event log (webhooks, analytics), once per stored message."""
    base = {
        "email": lead.email,
        "from_email": parsed.from_email,
        "message_id": message.message_id,
        "conversation_id": conversation.id,
        "replied_to": sent.message_id if sent is not None else None,
    }
    event_type: str | None = None
    data: dict[str, object] = {}
    if verdict.kind == Kind.REPLY:
        lead.status = LeadStatus.replied
        event_type = "email.replied"
        preview = " ".join(parsed.text.split())[:PREVIEW_CHARS]
        data = {"label": verdict.label, "is_positive": verdict.is_positive, "preview": preview}
    elif verdict.kind == Kind.UNSUBSCRIBE:
        complaint = verdict.complaint_message_id is not None
        if complaint:  # a spam complaint is the strongest suppression a contact can have
            await contact_store.raise_status(
                session, inbox.workspace_id, lead.email, ContactStatus.complained
            )
        if not lead.is_unsubscribed:
            lead.is_unsubscribed = True
            event_type, data = (
                "lead.unsubscribed",
                {"source": "complaint" if complaint else "reply"},
            )
    elif verdict.kind == Kind.BOUNCE and verdict.bounce is not None:
        bounce = verdict.bounce
        data = {"hard": bounce.hard, "status": bounce.status, "diagnostic": bounce.diagnostic}
        event_type = None if (bounce.hard and lead.is_bounced) else "email.bounced"
        if bounce.hard:
            lead.is_bounced = True
            await contact_store.raise_status(
                session, inbox.workspace_id, lead.email, ContactStatus.bounced
            )
            if sent is not None:
                sent.status, sent.error = SendStatus.bounced, clean(bounce.diagnostic) or None
                session.add(sent)
    lead.updated_at = utcnow()
    session.add(lead)
    if event_type is not None:
        await event_store.record_event(
            session,
            workspace_id=inbox.workspace_id,
            type=event_type,
            campaign_id=lead.campaign_id,
            lead_id=lead.id,
            inbox_id=inbox.id,
            step=sent.step if sent is not None else None,
            variant_id=sent.variant_id if sent is not None else None,
            email_id=sent.id if sent is not None else None,
            data={**base, **data},
        )


async def record_api_email_message(
    session: AsyncSession,
    parsed: ParsedMessage,
    verdict: Classification,
    sent: SentMessage,
    message: ConversationMessage,
    conversation: Conversation,
) -> None:
    """A reply to, or a bounce report of, an API email: the emails log and webhooks hear of it
    (``email.replied``, ``email.bounced``); a hard bounce marks the email and its contact."""
    data: dict[str, object] = {
        "email": sent.to_email,
        "from_email": parsed.from_email,
        "message_id": message.message_id,
        "conversation_id": conversation.id,
        "replied_to": sent.message_id,
    }
    if verdict.kind == Kind.REPLY:
        preview = " ".join(parsed.text.split())[:PREVIEW_CHARS]
        event_type = "email.replied"
        data |= {"label": verdict.label, "is_positive": verdict.is_positive, "preview": preview}
    elif verdict.kind == Kind.BOUNCE and verdict.bounce is not None:
        bounce = verdict.bounce
        if bounce.hard and sent.status == SendStatus.bounced:
            return  # counted once, whatever the number of reports
        event_type = "email.bounced"
        data |= {"hard": bounce.hard, "status": bounce.status, "diagnostic": bounce.diagnostic}
        if bounce.hard:
            sent.status, sent.error = SendStatus.bounced, clean(bounce.diagnostic) or None
            session.add(sent)
            await contact_store.raise_status(
                session, sent.workspace_id, sent.to_email, ContactStatus.bounced
            )
    else:
        return
    await event_store.record_event(
        session,
        workspace_id=sent.workspace_id,
        type=event_type,
        inbox_id=sent.inbox_id,
        email_id=sent.id,
        data={**data, "tags": sent.tags},
    )

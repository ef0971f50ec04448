"""Unibox use cases: read and triage threads, reply in one, start one; and the database side
of their delivery: the request stores the message ``queued`` with its Message-ID and starts
``conversation-send/{row id}`` after the commit; the activity reserves (``sending``, committed
before SMTP), delivers, and records ``sent`` or ``failed`` (see ``prepare_delivery``).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass

from sqlmodel.ext.asyncio.session import AsyncSession

from coldflow import mime, templates
from coldflow.classify import LABELS, POSITIVE_LABELS
from coldflow.contracts.conversations import (
    CONVERSATION_SEND_WORKFLOW,
    ConversationSendInput,
    ConversationSendResult,
    DeliveryStatus,
    conversation_send_workflow_id,
)
from coldflow.errors import InvalidInput, NotFound
from coldflow.ids import new_id
from coldflow.models import (
    Attachment,
    ConnectionStatus,
    Conversation,
    ConversationMessage,
    Folder,
    Inbox,
    MessageKind,
    Provider,
    SendStatus,
    SentMessage,
)
from coldflow.models.base import utcnow
from coldflow.schemas.conversations import (
    AttachmentRead,
    ConversationCreate,
    ConversationRead,
    ConversationUpdate,
    MessageRead,
    ReplyCreate,
    conversation_read,
    delivery_state,
    effective_label,
    message_read,
)
from coldflow.services.journeys import Journeys
from coldflow.store import conversations as store
from coldflow.store import inboxes as inbox_store
from coldflow.store.db import after_commit

log = logging.getLogger(__name__)

OUTGOING = "outgoing"
INCOMING = "incoming"
# Separates the Message-IDs of unibox sends from those of journey steps (same derivation).
MESSAGE_ID_SALT = "conversation"
# RFC 5322 §3.6.4 msg-id, as coldflow.mime accepts it; an inbound id it would refuse is skipped.
_MSG_ID = re.compile(r"<[\x21-\x3b\x3d\x3f-\x7e]+>")
# A long thread keeps its first id (the root) and its latest ones, as mail clients do.
MAX_REFERENCES = 20
UNCONFIRMED = (
    "Delivery unconfirmed: the worker stopped between handing the message to SMTP and recording "
    "the outcome. It may have been delivered, so it was not sent again."
)


# --- reading -----------------------------------------------------------------------------------


async def get_conversation(
    *, session: AsyncSession, workspace_id: str, conversation_id: str
) -> Conversation:
    conversation = await store.get_conversation(session, workspace_id, conversation_id)
    if conversation is None:
        raise NotFound("conversation", conversation_id)
    return conversation


async def get_attachment(
    *, session: AsyncSession, workspace_id: str, conversation_id: str, attachment_id: str
) -> Attachment:
    attachment = await store.get_attachment(session, workspace_id, conversation_id, attachment_id)
    if attachment is None:
        raise NotFound("attachment", attachment_id)
    return attachment


async def conversation_views(
    session: AsyncSession, conversations: Sequence[Conversation]
) -> list[ConversationRead]:
    """Conversations with their messages, attachments and delivery states, in four queries."""
    if not conversations:
        return []
    workspace_id = conversations[0].workspace_id
    messages = await store.list_messages(session, workspace_id, [c.id for c in conversations])
    views = await _message_views(session, workspace_id, messages)
    by_conversation: dict[str, list[MessageRead]] = {c.id: [] for c in conversations}
    for message, view in zip(messages, views, strict=True):
        by_conversation[message.conversation_id].append(view)
    return [conversation_read(c, by_conversation[c.id]) for c in conversations]


async def message_view(session: AsyncSession, message: ConversationMessage) -> MessageRead:
    [view] = await _message_views(session, message.workspace_id, [message])
    return view


async def _message_views(
    session: AsyncSession, workspace_id: str, rows: Sequence[ConversationMessage]
) -> list[MessageRead]:
    attachments: dict[str, list[AttachmentRead]] = {}
    for a in await store.list_attachments(session, workspace_id, [m.id for m in rows]):
        attachments.setdefault(a.message_id, []).append(
            AttachmentRead(id=a.id, filename=a.filename, content_type=a.content_type, size=a.size)
        )
    sent = await store.get_sent_messages(
        session,
        workspace_id,
        [m.sent_message_id for m in rows if m.direction == OUTGOING and m.sent_message_id],
    )
    return [
        message_read(
            m,
            attachments=attachments.get(m.id, []),
            sent=sent.get(m.sent_message_id or "") if m.direction == OUTGOING else None,
        )
        for m in rows
    ]


# --- triage ------------------------------------------------------------------------------------


async def update_conversation(
    *, session: AsyncSession, workspace_id: str, conversation_id: str, data: ConversationUpdate
) -> Conversation:
    """``label_override`` (one of seed 003's labels, or null to clear) and ``is_read`` for every
    message; ``is_positive`` is kept in step with the effective label for analytics."""
    conversation = await get_conversation(
        session=session, workspace_id=workspace_id, conversation_id=conversation_id
    )
    changes = data.model_dump(exclude_unset=True)
    if "label_override" in changes:
        label = changes["label_override"]
        if label is not None and label not in LABELS:
            raise InvalidInput.field(
                "label_override",
                f"label_override must be one of: {', '.join(LABELS)}, or null",
                code="INVALID_LABEL",
            )
        conversation.label_override = label
        conversation.is_positive = effective_label(conversation) in POSITIVE_LABELS
    if "is_read" in changes:
        conversation.is_read = bool(changes["is_read"])
        await store.set_messages_read(session, workspace_id, conversation.id, conversation.is_read)
    conversation.updated_at = utcnow()
    session.add(conversation)
    await session.flush()
    return conversation


# --- sending -----------------------------------------------------------------------------------


async def reply(
    *,
    session: AsyncSession,
    journeys: Journeys,
    workspace_id: str,
    conversation_id: str,
    data: ReplyCreate,
) -> ConversationMessage:
    """Queue a reply from the conversation's inbox to the contact, threaded under the latest
    incoming message (RFC 5322 §3.6.4: In-Reply-To its id, References its chain plus its id)."""
    conversation = await get_conversation(
        session=session, workspace_id=workspace_id, conversation_id=conversation_id
    )
    inbox = await _sending_inbox(session, workspace_id, conversation.inbox_id, field=None)
    messages = list(await store.list_messages(session, workspace_id, [conversation.id]))
    incoming = [m for m in messages if m.direction == INCOMING]
    parent = incoming[-1] if incoming else (messages[-1] if messages else None)
    if parent is not None and parent.direction == INCOMING and parent.from_email:
        to = (parent.from_email, parent.from_name)
    else:
        to = (conversation.contact_email, "")
    subject = mime.reply_subject(parent.subject if parent else conversation.subject, None)
    return await _queue(
        session,
        journeys,
        conversation,
        inbox,
        to=to,
        subject=subject,
        body=data,
        in_reply_to=_valid_id(parent.message_id) if parent else None,
        references=_references(parent) if parent else [],
    )


async def start_conversation(
    *, session: AsyncSession, journeys: Journeys, workspace_id: str, data: ConversationCreate
) -> Conversation:
    """A new thread with its first message queued; ``lead_id`` stays null (seed 003)."""
    if len(data.to) > 1:
        # coldflow.mime writes one To address and coldflow.mailer one RCPT per message.
        raise InvalidInput.field(
            "to", "Only one recipient per conversation is supported", code="TOO_MANY_RECIPIENTS"
        )
    inbox = await _sending_inbox(session, workspace_id, data.inbox_id, field="inbox_id")
    recipient = data.to[0]
    conversation = Conversation(
        workspace_id=workspace_id,
        inbox_id=inbox.id,
        contact_email=recipient.email,
        subject=data.subject,
        folder=Folder.primary,
        is_read=True,
    )
    session.add(conversation)
    await _queue(
        session,
        journeys,
        conversation,
        inbox,
        to=(recipient.email, recipient.name or ""),
        subject=data.subject,
        body=data,
    )
    return conversation


async def _sending_inbox(
    session: AsyncSession, workspace_id: str, inbox_id: str | None, *, field: str | None
) -> Inbox:
    """The given inbox if usable; with ``field`` and no id, the first active, connected one."""
    if inbox_id is None and field is not None:
        first = await store.first_active_inbox(session, workspace_id)
        if first is None:
            raise InvalidInput.field(
                field, "The workspace has no active, connected inbox", code="NO_ACTIVE_INBOX"
            )
        return first
    inbox = await inbox_store.get_inbox(session, workspace_id, inbox_id) if inbox_id else None
    if inbox is None:
        if field is None:
            raise InvalidInput.field(
                "inbox_id", "The inbox of this conversation was deleted", code="INBOX_UNAVAILABLE"
            )
        raise NotFound("inbox", inbox_id)
    if not (inbox.is_active and inbox.connection_status == ConnectionStatus.connected):
        state = "inactive" if not inbox.is_active else inbox.connection_status.value
        raise InvalidInput.field(
            field or "inbox_id", f"Inbox {inbox.email} is {state}", code="INBOX_UNAVAILABLE"
        )
    return inbox


def _valid_id(message_id: str) -> str | None:
    return message_id if _MSG_ID.fullmatch(message_id) else None


def _references(parent: ConversationMessage) -> list[str]:
    chain = list(parent.references) or ([parent.in_reply_to] if parent.in_reply_to else [])
    ids = list(dict.fromkeys(i for i in [*chain, parent.message_id] if _valid_id(i)))
    return ids if len(ids) <= MAX_REFERENCES else [ids[0], *ids[-(MAX_REFERENCES - 1) :]]


async def _queue(
    session: AsyncSession,
    journeys: Journeys,
    conversation: Conversation,
    inbox: Inbox,
    *,
    to: tuple[str, str],
    subject: str,
    body: ReplyCreate | ConversationCreate,
    in_reply_to: str | None = None,
    references: list[str] | None = None,
) -> ConversationMessage:
    """Store the outgoing message and start its send once committed."""
    now = utcnow()
    row_id = new_id()
    html = templates.to_body_html(body.content)
    message = ConversationMessage(
        id=row_id,
        workspace_id=conversation.workspace_id,
        conversation_id=conversation.id,
        inbox_id=inbox.id,
        direction=OUTGOING,
        kind=MessageKind.outgoing,
        # Minted before anything is sent, so every retry of the send uses this id.
        message_id=mime.make_message_id(
            lead_id=row_id, step=0, domain=inbox.domain, salt=MESSAGE_ID_SALT
        ),
        in_reply_to=in_reply_to,
        references=references or [],
        from_email=inbox.email,
        from_name=inbox.from_name,
        to_recipients=[{"email": to[0], "name": to[1]}],
        subject=subject,
        text=body.text if body.text is not None else templates.html_to_text(html),
        html=html,
        is_read=True,
        received_at=now,
    )
    build_message(message, inbox)  # refuse now what MIME would refuse in the activity
    conversation.last_message_at = conversation.updated_at = now
    session.add_all([conversation, message])
    await session.flush()
    inp = ConversationSendInput(workspace_id=conversation.workspace_id, message_row_id=row_id)

    async def start() -> None:
        await journeys.start_task(
            CONVERSATION_SEND_WORKFLOW, inp, workflow_id=conversation_send_workflow_id(row_id)
        )

    after_commit(session, start)
    return message


def build_message(message: ConversationMessage, inbox: Inbox) -> bytes:
    """The bytes of an outgoing unibox message; the same on every retry (stored date and id)."""
    to = message.to_recipients[0]
    return mime.build_message(
        mime.OutgoingEmail(
            from_name=message.from_name,
            from_email=message.from_email,
            to_email=str(to["email"]),
            to_name=str(to.get("name") or ""),
            subject=message.subject,
            text=message.text,
            html=message.html,
            message_id=message.message_id,
            in_reply_to=message.in_reply_to,
            references=tuple(message.references),
            reply_to=inbox.reply_to,
        ),
        date=message.received_at,
    )


# --- delivery (the activity's database side) ----------------------------------------------------


@dataclass(frozen=True)
class PreparedDelivery:
    """A reserved send, ready for SMTP; no table rows and no secrets."""

    sent_message_id: str
    inbox_id: str
    provider: Provider
    sender: str
    recipient: str
    message: bytes


async def prepare_delivery(
    session: AsyncSession, inp: ConversationSendInput
) -> PreparedDelivery | ConversationSendResult:
    """Reserve the send, or return the outcome an earlier attempt already decided.

    A reservation still ``sending`` means an earlier attempt reached SMTP and died before it
    recorded what happened: it may have been delivered, so it is failed, never sent twice.
    """
    message = await store.get_message(session, inp.workspace_id, inp.message_row_id)
    if message is None or message.direction != OUTGOING:
        return ConversationSendResult(DeliveryStatus.DELETED)
    if message.sent_message_id is not None:
        sent = await session.get(SentMessage, message.sent_message_id)
        if sent is not None:
            if sent.status == SendStatus.reserved:
                log.warning("conversation message %s: delivery unconfirmed", message.id)
                return await record_outcome(session, sent.id, error=UNCONFIRMED)
            return _result(sent)
    inbox = await inbox_store.get_inbox(session, inp.workspace_id, message.inbox_id or "")
    sent = await store.add_reservation(session, message)
    if inbox is None or not inbox.is_active:
        return await record_outcome(session, sent.id, error="The inbox was deleted or deactivated")
    return PreparedDelivery(
        sent_message_id=sent.id,
        inbox_id=inbox.id,
        provider=inbox.provider,
        sender=inbox.email,
        recipient=sent.to_email,
        message=build_message(message, inbox),
    )


async def record_outcome(
    session: AsyncSession, sent_message_id: str, *, error: str | None, bounced: bool = False
) -> ConversationSendResult:
    """``sent`` when ``error`` is None, else ``failed`` (``bounced`` for a refused recipient)."""
    status = (
        SendStatus.sent if error is None else (SendStatus.bounced if bounced else SendStatus.failed)
    )
    sent = await store.set_send_status(session, sent_message_id, status, error)
    return ConversationSendResult(DeliveryStatus.DELETED) if sent is None else _result(sent)


async def release_reservation(session: AsyncSession, inp: ConversationSendInput) -> None:
    """Back to ``queued`` after a transient failure: nothing was delivered, the retry re-sends."""
    message = await store.get_message(session, inp.workspace_id, inp.message_row_id)
    if message is not None:
        await store.remove_reservation(session, message)


def _result(sent: SentMessage) -> ConversationSendResult:
    return ConversationSendResult(*delivery_state(OUTGOING, sent))

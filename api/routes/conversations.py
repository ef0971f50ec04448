"""Conversation endpoints (seed 003's unibox): list, show, triage, attachments, reply, start."""

from __future__ import annotations

import re
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Query, Response, status

from api.deps import ConversationsRead, ConversationsWrite, JourneysDep, SessionDep
from api.envelope import Data, Page, PageParams
from api.errors import responses
from api.uow import UnitOfWorkRoute
from coldflow.models import Folder
from coldflow.schemas.conversations import (
    ConversationCreate,
    ConversationRead,
    ConversationUpdate,
    MessageRead,
    ReplyCreate,
)
from coldflow.services import conversations as service
from coldflow.store import conversations as store

router = APIRouter(
    prefix="/unibox/conversations", tags=["conversations"], route_class=UnitOfWorkRoute
)

_MIME_TYPE = re.compile(r"[\w.+-]+/[\w.+-]+")


@router.get("", response_model=Page[ConversationRead], responses=responses())
async def list_conversations(
    session: SessionDep,
    key: ConversationsRead,
    params: PageParams,
    folder: Annotated[
        Folder | None,
        Query(description="primary: human replies; others: auto-replies, bounces, unmatched"),
    ] = None,
) -> Page[ConversationRead]:
    """The workspace's threads with their messages, latest activity first. ``search`` matches
    the contact's address or the subject; sort by last_message_at, created_at, updated_at."""
    result = await store.list_conversations(session, key.workspace_id, params, folder)
    views = await service.conversation_views(session, result.items)
    return Page.of(result, views)  # type: ignore[arg-type]


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=Data[ConversationRead],
    responses=responses(404, 503),
)
async def start_conversation(
    body: ConversationCreate, session: SessionDep, journeys: JourneysDep, key: ConversationsWrite
) -> Data[ConversationRead]:
    """Start a thread and send its first email from ``inbox_id``, or from the workspace's first
    active, connected inbox (422 ``NO_ACTIVE_INBOX`` when there is none). The message is stored
    ``queued`` and sent in the background; its ``status`` becomes ``sent`` or ``failed``."""
    conversation = await service.start_conversation(
        session=session, journeys=journeys, workspace_id=key.workspace_id, data=body
    )
    [view] = await service.conversation_views(session, [conversation])
    return Data(data=view)


@router.get("/{conversation_id}", response_model=Data[ConversationRead], responses=responses(404))
async def get_conversation(
    conversation_id: str, session: SessionDep, key: ConversationsRead
) -> Data[ConversationRead]:
    """One thread with every message (oldest first), recipients, read state and attachments."""
    conversation = await service.get_conversation(
        session=session, workspace_id=key.workspace_id, conversation_id=conversation_id
    )
    [view] = await service.conversation_views(session, [conversation])
    return Data(data=view)


@router.patch("/{conversation_id}", response_model=Data[ConversationRead], responses=responses(404))
async def update_conversation(
    conversation_id: str, body: ConversationUpdate, session: SessionDep, key: ConversationsWrite
) -> Data[ConversationRead]:
    """Override the label (one of seed 003's labels; null reverts to the classifier's) and mark
    every message read or unread. Omitted fields are unchanged."""
    conversation = await service.update_conversation(
        session=session, workspace_id=key.workspace_id, conversation_id=conversation_id, data=body
    )
    [view] = await service.conversation_views(session, [conversation])
    return Data(data=view)


@router.post(
    "/{conversation_id}/reply",
    status_code=status.HTTP_201_CREATED,
    response_model=Data[MessageRead],
    responses=responses(404, 503),
)
async def reply_to_conversation(
    conversation_id: str,
    body: ReplyCreate,
    session: SessionDep,
    journeys: JourneysDep,
    key: ConversationsWrite,
) -> Data[MessageRead]:
    """Reply from the conversation's inbox, threaded (``In-Reply-To``/``References``, ``Re:``
    subject). The stored message is returned ``queued``; it is sent in the background."""
    message = await service.reply(
        session=session,
        journeys=journeys,
        workspace_id=key.workspace_id,
        conversation_id=conversation_id,
        data=body,
    )
    return Data(data=await service.message_view(session, message))


@router.get(
    "/{conversation_id}/attachments/{attachment_id}",
    response_class=Response,
    responses={
        **responses(404),
        # The stored content type is served as is, so any media type can come back.
        200: {
            "description": "The file",
            "content": {"*/*": {"schema": {"type": "string", "format": "binary"}}},
        },
    },
)
async def download_attachment(
    conversation_id: str, attachment_id: str, session: SessionDep, key: ConversationsRead
) -> Response:
    """The attachment's bytes with its content type, as a download."""
    attachment = await service.get_attachment(
        session=session,
        workspace_id=key.workspace_id,
        conversation_id=conversation_id,
        attachment_id=attachment_id,
    )
    content_type = attachment.content_type.lower()
    return Response(
        content=attachment.content,
        headers={
            "Content-Type": (
                content_type if _MIME_TYPE.fullmatch(content_type) else "application/octet-stream"
            ),
            "Content-Disposition": _disposition(attachment.filename or "attachment"),
            # A stored text/html must never render as a page of this API's origin.
            "X-Content-Type-Options": "nosniff",
        },
    )


def _disposition(filename: str) -> str:
    """RFC 6266: an ASCII ``filename`` fallback plus the exact name as RFC 8187 ``filename*``."""
    fallback = "".join(
        c if c.isascii() and c.isprintable() and c not in '"\\' else "_" for c in filename
    )
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"

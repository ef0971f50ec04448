"""Inbox endpoints: connect, list, show, update, validate, delete, sandbox messages."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from api.deps import InboxesRead, InboxesWrite, JourneysDep, SecretBoxDep, SessionDep
from api.envelope import Data, Page, PageParams
from api.errors import responses
from api.uow import UnitOfWorkRoute
from coldflow.models.base import utcnow
from coldflow.schemas.inboxes import InboxCreate, InboxRead, InboxUpdate, SandboxMessage
from coldflow.schemas.warmup import WarmupStats
from coldflow.services import inboxes as service
from coldflow.services import warmup
from coldflow.services import warmup_stats as warmup_stats_service
from coldflow.store import inboxes as store

router = APIRouter(prefix="/inboxes", tags=["inboxes"], route_class=UnitOfWorkRoute)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=Data[InboxRead],
    responses=responses(409),
)
async def create_inbox(
    body: InboxCreate,
    session: SessionDep,
    box: SecretBoxDep,
    journeys: JourneysDep,
    key: InboxesWrite,
) -> Data[InboxRead]:
    """Connect a mailbox. Passwords are encrypted at rest and never returned. The SMTP and IMAP
    logins are checked in the background (a Temporal activity): ``connection_status`` goes
    ``pending → validating → connected``, or ``error`` with the server's reason in
    ``connection_error``; poll ``GET /inboxes/{id}``. Provider ``sandbox`` needs no servers and
    is ``connected`` at once."""
    inbox = await service.create_inbox(
        session=session, box=box, workspace_id=key.workspace_id, data=body
    )
    service.request_check(session, journeys, inbox)
    warmup.warm_after_commit(session, inbox, journeys)
    return Data(data=await service.inbox_view(session, inbox, with_campaigns=True))


@router.get("", response_model=Page[InboxRead], responses=responses())
async def list_inboxes(
    session: SessionDep, key: InboxesRead, params: PageParams
) -> Page[InboxRead]:
    """The workspace's inboxes; search by address, sort by email, created_at, updated_at."""
    result = await store.list_inboxes(session, key.workspace_id, params)
    views = [await service.inbox_view(session, i, with_campaigns=False) for i in result.items]
    return Page.of(result, views)  # type: ignore[arg-type]


@router.get("/{inbox_id}", response_model=Data[InboxRead], responses=responses(404))
async def get_inbox(inbox_id: str, session: SessionDep, key: InboxesRead) -> Data[InboxRead]:
    """One inbox with the campaigns it sends for; never its credentials."""
    inbox = await service.get_inbox(
        session=session, workspace_id=key.workspace_id, inbox_id=inbox_id
    )
    return Data(data=await service.inbox_view(session, inbox, with_campaigns=True))


@router.patch("/{inbox_id}", response_model=Data[InboxRead], responses=responses(404))
async def update_inbox(
    inbox_id: str,
    body: InboxUpdate,
    session: SessionDep,
    box: SecretBoxDep,
    journeys: JourneysDep,
    key: InboxesWrite,
) -> Data[InboxRead]:
    """Seed 003's editable fields; new ``smtp``/``imap`` settings re-run the connection check."""
    inbox, recheck = await service.update_inbox(
        session=session,
        box=box,
        workspace_id=key.workspace_id,
        inbox_id=inbox_id,
        data=body,
        journeys=journeys,
    )
    if recheck:
        service.request_check(session, journeys, inbox)
    return Data(data=await service.inbox_view(session, inbox, with_campaigns=True))


@router.post("/{inbox_id}/validate", response_model=Data[InboxRead], responses=responses(404))
async def validate_inbox(
    inbox_id: str, session: SessionDep, journeys: JourneysDep, key: InboxesWrite
) -> Data[InboxRead]:
    """Run the SMTP (and IMAP) login check again in the background (status ``pending``)."""
    inbox = await service.get_inbox(
        session=session, workspace_id=key.workspace_id, inbox_id=inbox_id
    )
    service.request_check(session, journeys, inbox)
    return Data(data=await service.inbox_view(session, inbox, with_campaigns=True))


@router.delete("/{inbox_id}", status_code=status.HTTP_204_NO_CONTENT, responses=responses(404, 409))
async def delete_inbox(
    inbox_id: str,
    session: SessionDep,
    journeys: JourneysDep,
    key: InboxesWrite,
    force: Annotated[
        bool, Query(description="delete even while an active campaign uses it")
    ] = False,
) -> Response:
    """Delete an inbox; 409 ``INBOX_IN_USE`` while attached to an active campaign."""
    await service.delete_inbox(
        session=session,
        workspace_id=key.workspace_id,
        inbox_id=inbox_id,
        force=force,
        journeys=journeys,
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/{inbox_id}/messages", response_model=Page[SandboxMessage], responses=responses(404))
async def list_inbox_messages(
    inbox_id: str, session: SessionDep, key: InboxesRead, params: PageParams
) -> Page[SandboxMessage]:
    """Messages sent through the inbox; for a ``sandbox`` inbox, everything it captured."""
    await service.get_inbox(session=session, workspace_id=key.workspace_id, inbox_id=inbox_id)
    result = await store.list_sent_by_inbox(session, key.workspace_id, inbox_id, params)
    items = [SandboxMessage.model_validate(m, from_attributes=True) for m in result.items]
    return Page.of(result, items)  # type: ignore[arg-type]


@router.get("/{inbox_id}/warmup/stats", response_model=Data[WarmupStats], responses=responses(404))
async def warmup_stats(inbox_id: str, session: SessionDep, key: InboxesRead) -> Data[WarmupStats]:
    """Seed 003's warmup statistics over the last 7 days (``sent``, ``received``,
    ``saved_from_spam``, ``health_score``, ``ramp_up_progress``, ``daily``), plus where the ramp
    stands and, when warmup sends nothing or holds its volume, why."""
    inbox = await service.get_inbox(
        session=session, workspace_id=key.workspace_id, inbox_id=inbox_id
    )
    return Data(data=await warmup_stats_service.warmup_stats(session, inbox, utcnow()))

"""Inbox endpoints: connect, list, show, update, re-check the connection."""

from __future__ import annotations

from fastapi import APIRouter, status

from api.deps import InboxesRead, InboxesWrite, SecretBoxDep, SessionDep
from api.envelope import Data, Page, PageParams
from api.errors import responses
from api.uow import UnitOfWorkRoute
from coldflow.schemas.inboxes import InboxCreate, InboxRead, InboxUpdate
from coldflow.services import inboxes as service
from coldflow.store import inboxes as store

router = APIRouter(prefix="/inboxes", tags=["inboxes"], route_class=UnitOfWorkRoute)


def _read(inbox: object) -> InboxRead:
    return InboxRead.model_validate(inbox, from_attributes=True)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=Data[InboxRead],
    responses=responses(409),
)
async def create_inbox(
    body: InboxCreate, session: SessionDep, box: SecretBoxDep, key: InboxesWrite
) -> Data[InboxRead]:
    """Connect a mailbox; passwords are encrypted at rest and never returned. The connection is
    checked right away (``connection_status`` ``connected`` or ``error`` with the reason)."""
    inbox = await service.create_inbox(
        session=session, box=box, workspace_id=key.workspace_id, data=body
    )
    inbox = await service.check_connection(
        session=session, box=box, workspace_id=key.workspace_id, inbox_id=inbox.id
    )
    return Data(data=_read(inbox))


@router.get("", response_model=Page[InboxRead], responses=responses())
async def list_inboxes(
    session: SessionDep, key: InboxesRead, params: PageParams
) -> Page[InboxRead]:
    """The workspace's inboxes; search by address."""
    result = await store.list_inboxes(session, key.workspace_id, params)
    return Page.of(result, [_read(i) for i in result.items])  # type: ignore[arg-type]


@router.get("/{inbox_id}", response_model=Data[InboxRead], responses=responses(404))
async def get_inbox(inbox_id: str, session: SessionDep, key: InboxesRead) -> Data[InboxRead]:
    """One inbox, without its credentials."""
    inbox = await service.get_inbox(
        session=session, workspace_id=key.workspace_id, inbox_id=inbox_id
    )
    return Data(data=_read(inbox))


@router.patch("/{inbox_id}", response_model=Data[InboxRead], responses=responses(404))
async def update_inbox(
    inbox_id: str, body: InboxUpdate, session: SessionDep, key: InboxesWrite
) -> Data[InboxRead]:
    """Change limits, activity, signature or reply-to."""
    inbox = await service.update_inbox(
        session=session, workspace_id=key.workspace_id, inbox_id=inbox_id, data=body
    )
    return Data(data=_read(inbox))


@router.post("/{inbox_id}/check", response_model=Data[InboxRead], responses=responses(404))
async def check_inbox(
    inbox_id: str, session: SessionDep, box: SecretBoxDep, key: InboxesWrite
) -> Data[InboxRead]:
    """Test the SMTP login again and record the result."""
    inbox = await service.check_connection(
        session=session, box=box, workspace_id=key.workspace_id, inbox_id=inbox_id
    )
    return Data(data=_read(inbox))

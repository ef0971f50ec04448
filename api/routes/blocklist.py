"""Blocklist endpoints (seed 003): add, list, delete, check."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from api.deps import BlocklistRead, BlocklistWrite, SessionDep
from api.envelope import Data, Page, PageParams
from api.errors import responses
from api.uow import UnitOfWorkRoute
from coldflow.models import BlocklistEntry
from coldflow.schemas.blocklist import BlocklistCheck, BlocklistCreate
from coldflow.schemas.blocklist import BlocklistRead as EntryRead
from coldflow.services import blocklist as service
from coldflow.store import blocklist as store

router = APIRouter(prefix="/blocklist", tags=["blocklist"], route_class=UnitOfWorkRoute)


def _read(entry: BlocklistEntry) -> EntryRead:
    shown = entry.value if entry.kind == "email" else "@" + entry.value
    return EntryRead(id=entry.id, email=shown, kind=entry.kind, created_at=entry.created_at)


@router.post(
    "", status_code=status.HTTP_201_CREATED, response_model=Data[EntryRead], responses=responses()
)
async def add_entry(
    body: BlocklistCreate, session: SessionDep, key: BlocklistWrite
) -> Data[EntryRead]:
    """Block an address, or a whole domain as ``@example.com``; leads matching it are never sent
    to again (checked at enrollment and before every send). Idempotent."""
    entry = await service.add_entry(session=session, workspace_id=key.workspace_id, raw=body.email)
    return Data(data=_read(entry))


@router.get("", response_model=Page[EntryRead], responses=responses())
async def list_entries(
    session: SessionDep, key: BlocklistRead, params: PageParams
) -> Page[EntryRead]:
    """The workspace's blocklist; search, sort by email or created_at."""
    result = await store.list_entries(session, key.workspace_id, params)
    return Page.of(result, [_read(e) for e in result.items])  # type: ignore[arg-type]


@router.get("/check", response_model=Data[BlocklistCheck], responses=responses())
async def check_email(
    session: SessionDep,
    key: BlocklistRead,
    email: Annotated[str, Query(min_length=3, max_length=320)],
) -> Data[BlocklistCheck]:
    """Whether an address is blocked, by itself or by its domain."""
    blocked = await service.is_blocked(session=session, workspace_id=key.workspace_id, email=email)
    return Data(data=BlocklistCheck(blocked=blocked))


@router.delete("/{entry_id}", status_code=status.HTTP_204_NO_CONTENT, responses=responses(404))
async def delete_entry(entry_id: str, session: SessionDep, key: BlocklistWrite) -> Response:
    """Remove an entry."""
    await service.delete_entry(session=session, workspace_id=key.workspace_id, entry_id=entry_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)

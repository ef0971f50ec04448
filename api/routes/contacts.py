"""Contact endpoints (seed 004): create, list, show, update, delete."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from api.deps import ContactsRead, ContactsWrite, JourneysDep, SessionDep
from api.envelope import Data, Page, PageParams
from api.errors import responses
from api.uow import UnitOfWorkRoute
from coldflow.models import ContactStatus
from coldflow.schemas.contacts import ContactCreate, ContactRead, ContactUpdate
from coldflow.services import contacts as service
from coldflow.store import contacts as store

router = APIRouter(prefix="/contacts", tags=["contacts"], route_class=UnitOfWorkRoute)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=Data[ContactRead],
    responses=responses(404, 409),
)
async def create_contact(
    body: ContactCreate, session: SessionDep, key: ContactsWrite
) -> Data[ContactRead]:
    """Add a contact (seed 004: ``email``, ``name``, ``list_id`` or ``listId``, plus
    ``variables``). An address the workspace already has is 409 ``CONTACT_EXISTS``; one it
    learnt about before starts ``unsubscribed`` (unsubscribed from any campaign) or ``bounced``
    (hard-bounced as a lead). An unknown list is 404 ``LIST_NOT_FOUND``."""
    contact = await service.create_contact(
        session=session, workspace_id=key.workspace_id, data=body
    )
    [view] = await service.contact_views(session, [contact])
    return Data(data=view)


@router.get("", response_model=Page[ContactRead], responses=responses())
async def list_contacts(
    session: SessionDep,
    key: ContactsRead,
    params: PageParams,
    list_id: Annotated[str | None, Query(max_length=36)] = None,
    list_id_seed: Annotated[
        str | None, Query(alias="listId", max_length=36, description="Seed 004's ``list_id``.")
    ] = None,
    contact_status: Annotated[ContactStatus | None, Query(alias="status")] = None,
) -> Page[ContactRead]:
    """The workspace's contacts; filter by list and status, search email and name, sort by
    ``email``, ``created_at`` or ``status``."""
    result = await store.list_contacts(
        session,
        key.workspace_id,
        params,
        list_id=list_id or list_id_seed,
        status=contact_status,
    )
    return Page.of(result, await service.contact_views(session, result.items))  # type: ignore[arg-type]


@router.get("/{contact_id}", response_model=Data[ContactRead], responses=responses(404))
async def get_contact(contact_id: str, session: SessionDep, key: ContactsRead) -> Data[ContactRead]:
    """One contact with its status and the ids of its lists."""
    contact = await service.get_contact(
        session=session, workspace_id=key.workspace_id, contact_id=contact_id
    )
    [view] = await service.contact_views(session, [contact])
    return Data(data=view)


@router.patch("/{contact_id}", response_model=Data[ContactRead], responses=responses(404, 409))
async def update_contact(
    contact_id: str,
    body: ContactUpdate,
    session: SessionDep,
    journeys: JourneysDep,
    key: ContactsWrite,
) -> Data[ContactRead]:
    """Change ``name``, ``variables`` (replaced as a whole) or ``status``. ``unsubscribed`` or
    ``complained`` unsubscribe the address from the whole workspace, as the unsubscribe link
    does (leads flagged, journeys ended, blocklist entry). ``bounced`` is 422
    ``CONTACT_STATUS_NOT_SETTABLE``; returning a suppressed contact to ``subscribed`` is 409
    ``CONTACT_SUPPRESSED``: suppression is permanent in the workspace."""
    contact = await service.update_contact(
        session=session,
        journeys=journeys,
        workspace_id=key.workspace_id,
        contact_id=contact_id,
        data=body,
    )
    [view] = await service.contact_views(session, [contact])
    return Data(data=view)


@router.delete("/{contact_id}", status_code=status.HTTP_204_NO_CONTENT, responses=responses(404))
async def delete_contact(contact_id: str, session: SessionDep, key: ContactsWrite) -> Response:
    """Delete the contact and its list memberships. An unsubscribe stays on the blocklist, so
    the address is still never sent to and a new contact for it starts ``unsubscribed``."""
    await service.delete_contact(
        session=session, workspace_id=key.workspace_id, contact_id=contact_id
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)

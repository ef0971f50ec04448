"""List endpoints (seed 004): create, list, show, update, delete, and their members."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status

from api.deps import ContactsRead, ContactsWrite, JourneysDep, SessionDep, SettingsDep
from api.envelope import Data, Page, PageParams
from api.errors import responses
from api.routes.imports import CSV_BODY
from api.uow import UnitOfWorkRoute
from coldflow.models import ContactStatus
from coldflow.schemas.contacts import (
    ContactIfExists,
    ContactRead,
    ListContactsAdd,
    ListContactsAdded,
    ListCreate,
    ListRead,
    ListUpdate,
)
from coldflow.schemas.leads import LeadImportRead
from coldflow.services import contacts as service
from coldflow.services import list_imports
from coldflow.store import contacts as store

router = APIRouter(prefix="/lists", tags=["lists"], route_class=UnitOfWorkRoute)


@router.post(
    "", status_code=status.HTTP_201_CREATED, response_model=Data[ListRead], responses=responses(409)
)
async def create_list(body: ListCreate, session: SessionDep, key: ContactsWrite) -> Data[ListRead]:
    """Create a list; names are unique in the workspace (409 ``LIST_EXISTS``)."""
    created = await service.create_list(session=session, workspace_id=key.workspace_id, data=body)
    [view] = await service.list_views(session, [created])
    return Data(data=view)


@router.get("", response_model=Page[ListRead], responses=responses())
async def list_lists(session: SessionDep, key: ContactsRead, params: PageParams) -> Page[ListRead]:
    """The workspace's lists with their ``contact_count``; search by name, sort by ``name`` or
    ``created_at``."""
    result = await store.list_lists(session, key.workspace_id, params)
    return Page.of(result, await service.list_views(session, result.items))  # type: ignore[arg-type]


@router.get("/{list_id}", response_model=Data[ListRead], responses=responses(404))
async def get_list(list_id: str, session: SessionDep, key: ContactsRead) -> Data[ListRead]:
    """One list with its ``contact_count``."""
    found = await service.get_list(session=session, workspace_id=key.workspace_id, list_id=list_id)
    [view] = await service.list_views(session, [found])
    return Data(data=view)


@router.patch("/{list_id}", response_model=Data[ListRead], responses=responses(404, 409))
async def update_list(
    list_id: str, body: ListUpdate, session: SessionDep, key: ContactsWrite
) -> Data[ListRead]:
    """Rename the list or change its description."""
    found = await service.update_list(
        session=session, workspace_id=key.workspace_id, list_id=list_id, data=body
    )
    [view] = await service.list_views(session, [found])
    return Data(data=view)


@router.delete("/{list_id}", status_code=status.HTTP_204_NO_CONTENT, responses=responses(404))
async def delete_list(list_id: str, session: SessionDep, key: ContactsWrite) -> Response:
    """Delete the list; its contacts stay in the workspace (and in their other lists)."""
    await service.delete_list(session=session, workspace_id=key.workspace_id, list_id=list_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/{list_id}/contacts",
    status_code=status.HTTP_201_CREATED,
    response_model=Data[ListContactsAdded],
    responses=responses(404, 413),
)
async def add_list_contacts(
    list_id: str, body: ListContactsAdd, session: SessionDep, key: ContactsWrite
) -> Data[ListContactsAdded]:
    """Add up to 100 contacts (413 ``BATCH_TOO_LARGE`` above), one result per item
    (``created``, ``updated``, ``skipped``, ``failed`` with a code such as
    ``DUPLICATE_IN_BATCH``) plus totals. A contact the workspace already has joins the list;
    ``if_exists: "update"`` also overwrites the name and variables sent."""
    result = await service.add_to_list(
        session=session, workspace_id=key.workspace_id, list_id=list_id, data=body
    )
    return Data(data=result)


@router.get("/{list_id}/contacts", response_model=Page[ContactRead], responses=responses(404))
async def list_list_contacts(
    list_id: str,
    session: SessionDep,
    key: ContactsRead,
    params: PageParams,
    contact_status: Annotated[ContactStatus | None, Query(alias="status")] = None,
) -> Page[ContactRead]:
    """The list's contacts; filter by status, search email and name, sort by ``email``,
    ``created_at`` or ``status``."""
    await service.get_list(session=session, workspace_id=key.workspace_id, list_id=list_id)
    result = await store.list_contacts(
        session, key.workspace_id, params, list_id=list_id, status=contact_status
    )
    return Page.of(result, await service.contact_views(session, result.items))  # type: ignore[arg-type]


@router.delete(
    "/{list_id}/contacts/{contact_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=responses(404),
)
async def remove_list_contact(
    list_id: str, contact_id: str, session: SessionDep, key: ContactsWrite
) -> Response:
    """Take a contact out of the list; the contact itself stays."""
    await service.remove_from_list(
        session=session, workspace_id=key.workspace_id, list_id=list_id, contact_id=contact_id
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/{list_id}/contacts/import",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=Data[LeadImportRead],
    responses=responses(404, 413),
    openapi_extra={"requestBody": CSV_BODY},
)
async def import_contacts(
    list_id: str,
    request: Request,
    session: SessionDep,
    journeys: JourneysDep,
    settings: SettingsDep,
    key: ContactsWrite,
    if_exists: Annotated[ContactIfExists, Query()] = ContactIfExists.skip,
    filename: Annotated[str, Query(max_length=255)] = "contacts.csv",
) -> Data[LeadImportRead]:
    """Upload a CSV of contacts into the list (``Content-Type: text/csv``; an ``email``
    column, ``name`` or ``first_name``/``last_name``; other columns become variables). 202 with
    the import; poll ``GET /lists/{id}/imports/{import_id}`` for progress and row errors."""
    record = await list_imports.import_contacts(
        session=session,
        journeys=journeys,
        workspace_id=key.workspace_id,
        list_id=list_id,
        filename=filename,
        content=await request.body(),
        if_exists=if_exists,
        max_bytes=settings.max_import_bytes,
    )
    return Data(data=LeadImportRead.model_validate(record, from_attributes=True))


@router.get(
    "/{list_id}/imports/{contact_import_id}",
    response_model=Data[LeadImportRead],
    responses=responses(404),
)
async def get_contact_import(
    list_id: str, contact_import_id: str, session: SessionDep, key: ContactsRead
) -> Data[LeadImportRead]:
    """Progress of a CSV import into the list: rows processed, outcomes, the first 1,000
    errors."""
    record = await list_imports.get_list_import(
        session=session,
        workspace_id=key.workspace_id,
        list_id=list_id,
        import_id=contact_import_id,
    )
    return Data(data=LeadImportRead.model_validate(record, from_attributes=True))

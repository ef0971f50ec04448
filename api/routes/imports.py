"""CSV lead imports: upload a file, then poll its progress."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, status

from api.deps import JourneysDep, LeadsRead, LeadsWrite, SessionDep, SettingsDep
from api.envelope import Data, Page, PageParams
from api.errors import responses
from api.uow import UnitOfWorkRoute
from coldflow.schemas.leads import IfExists, LeadImportRead
from coldflow.services import lead_imports as service

router = APIRouter(tags=["leads"], route_class=UnitOfWorkRoute)

CSV_BODY = {
    "required": True,
    "content": {"text/csv": {"schema": {"type": "string", "format": "binary"}}},
}


@router.post(
    "/campaigns/{campaign_id}/leads/import",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=Data[LeadImportRead],
    responses=responses(404, 413),
    openapi_extra={"requestBody": CSV_BODY},
)
async def import_leads(
    campaign_id: str,
    request: Request,
    session: SessionDep,
    journeys: JourneysDep,
    settings: SettingsDep,
    key: LeadsWrite,
    if_exists: Annotated[IfExists, Query()] = IfExists.skip,
    filename: Annotated[str, Query(max_length=255)] = "upload.csv",
) -> Data[LeadImportRead]:
    """Upload a CSV (``Content-Type: text/csv``; header row with an ``email`` column; other
    known columns ``first_name``, ``last_name``, ``company``, ``timezone``; every other column
    becomes a variable). Answers 202 with the import id; the rows are processed durably in the
    background. Poll ``GET .../imports/{import_id}`` for progress and per-row errors."""
    record = await service.create_import(
        session=session,
        journeys=journeys,
        workspace_id=key.workspace_id,
        campaign_id=campaign_id,
        filename=filename,
        content=await request.body(),
        if_exists=if_exists,
        max_bytes=settings.max_import_bytes,
    )
    return Data(data=LeadImportRead.model_validate(record, from_attributes=True))


@router.get(
    "/campaigns/{campaign_id}/imports/{import_id}",
    response_model=Data[LeadImportRead],
    responses=responses(404),
)
async def get_import(
    campaign_id: str, import_id: str, session: SessionDep, key: LeadsRead
) -> Data[LeadImportRead]:
    """Progress of an import: rows processed of the total, outcomes, the first 1,000 errors."""
    record = await service.get_import(
        session=session, workspace_id=key.workspace_id, campaign_id=campaign_id, import_id=import_id
    )
    return Data(data=LeadImportRead.model_validate(record, from_attributes=True))


@router.get(
    "/campaigns/{campaign_id}/imports",
    response_model=Page[LeadImportRead],
    responses=responses(404),
)
async def list_imports(
    campaign_id: str, session: SessionDep, key: LeadsRead, params: PageParams
) -> Page[LeadImportRead]:
    """The campaign's imports, newest first: CSV uploads and enrolled contact lists."""
    result = await service.list_imports(
        session=session, workspace_id=key.workspace_id, campaign_id=campaign_id, request=params
    )
    reads = [LeadImportRead.model_validate(r, from_attributes=True) for r in result.items]
    return Page.of(result, reads)  # type: ignore[arg-type]

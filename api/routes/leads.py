"""Lead endpoints: add (batch of up to 100), list, show."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from api.deps import JourneysDep, LeadsRead, LeadsWrite, SessionDep
from api.envelope import Data, Page, PageParams
from api.errors import responses
from api.uow import UnitOfWorkRoute
from coldflow.schemas.leads import LeadRead, LeadsCreate, LeadsCreated
from coldflow.services import campaigns as campaign_service
from coldflow.services import leads as service
from coldflow.store import leads as store

router = APIRouter(tags=["leads"], route_class=UnitOfWorkRoute)


@router.post(
    "/campaigns/{campaign_id}/leads",
    status_code=status.HTTP_201_CREATED,
    response_model=Data[LeadsCreated],
    responses=responses(404, 413),
)
async def add_leads(
    campaign_id: str, body: LeadsCreate, session: SessionDep, journeys: JourneysDep, key: LeadsWrite
) -> Data[LeadsCreated]:
    """Add up to 100 leads (seed 000's body); each item gets its own result."""
    result = await service.add_leads(
        session=session,
        journeys=journeys,
        workspace_id=key.workspace_id,
        campaign_id=campaign_id,
        data=body,
    )
    return Data(data=result)


@router.get(
    "/campaigns/{campaign_id}/leads", response_model=Page[LeadRead], responses=responses(404)
)
async def list_campaign_leads(
    campaign_id: str, session: SessionDep, journeys: JourneysDep, key: LeadsRead, params: PageParams
) -> Page[LeadRead]:
    """The campaign's leads with their journey state."""
    await campaign_service.get_campaign(
        session=session, workspace_id=key.workspace_id, campaign_id=campaign_id
    )
    result = await store.list_leads(session, key.workspace_id, params, campaign_id=campaign_id)
    return Page.of(result, [service.lead_view(lead, journeys) for lead in result.items])  # type: ignore[arg-type]


@router.get("/leads", response_model=Page[LeadRead], responses=responses())
async def list_leads(
    session: SessionDep,
    journeys: JourneysDep,
    key: LeadsRead,
    params: PageParams,
    campaign_id: Annotated[str | None, Query()] = None,
) -> Page[LeadRead]:
    """All leads of the workspace; search by email, name or company."""
    result = await store.list_leads(session, key.workspace_id, params, campaign_id=campaign_id)
    return Page.of(result, [service.lead_view(lead, journeys) for lead in result.items])  # type: ignore[arg-type]


@router.get("/leads/{lead_id}", response_model=Data[LeadRead], responses=responses(404))
async def get_lead(
    lead_id: str, session: SessionDep, journeys: JourneysDep, key: LeadsRead
) -> Data[LeadRead]:
    """One lead with its journey: state, step, next send and a link to the Temporal UI."""
    lead = await service.get_lead(session=session, workspace_id=key.workspace_id, lead_id=lead_id)
    return Data(data=service.lead_view(lead, journeys))

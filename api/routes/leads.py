"""Lead endpoints: add (one or a batch of up to 100), list, show, steer, delete."""

from __future__ import annotations

from typing import Annotated, Any, Literal, TypeVar

from fastapi import APIRouter, Body, Query, Response, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ValidationError

from api.deps import JourneysDep, LeadsRead, LeadsWrite, SessionDep
from api.envelope import Data, Page, PageParams
from api.errors import responses
from api.uow import UnitOfWorkRoute
from coldflow.models import LeadStatus
from coldflow.schemas.journeys import JourneyRead
from coldflow.schemas.leads import (
    LeadCreate,
    LeadImportRead,
    LeadInterestRead,
    LeadRead,
    LeadResultStatus,
    LeadsCreate,
    LeadsCreated,
    LeadUpdate,
    ListEnroll,
)
from coldflow.services import campaigns as campaign_service
from coldflow.services import leads as service
from coldflow.services import list_imports
from coldflow.services.journey_view import journey_view
from coldflow.store import leads as store

router = APIRouter(tags=["leads"], route_class=UnitOfWorkRoute)

# The body is one lead or a batch; both shapes are published under components (api/main.py).
OPENAPI_MODELS = (LeadCreate, LeadsCreate, ListEnroll)
ADD_BODY = {
    "required": True,
    "content": {
        "application/json": {
            "schema": {
                "oneOf": [
                    {"$ref": "#/components/schemas/LeadCreate"},
                    {"$ref": "#/components/schemas/LeadsCreate"},
                    {"$ref": "#/components/schemas/ListEnroll"},
                ]
            }
        }
    },
}


M = TypeVar("M", bound=BaseModel)


def _parse(model: type[M], body: dict[str, Any]) -> M:
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        raise RequestValidationError(
            [{**e, "loc": ("body", *e["loc"])} for e in exc.errors()]
        ) from exc


@router.post(
    "/campaigns/{campaign_id}/leads",
    status_code=status.HTTP_201_CREATED,
    response_model=Data[LeadsCreated] | Data[LeadRead],
    responses={
        **responses(404, 409, 413),
        200: {"model": Data[LeadRead], "description": "A single existing lead skipped or updated"},
        202: {
            "model": Data[LeadImportRead],
            "description": "A contact list (list_id) is being enrolled in the background",
        },
    },
    openapi_extra={"requestBody": ADD_BODY},
)
async def add_leads(
    campaign_id: str,
    body: Annotated[dict[str, Any], Body()],
    session: SessionDep,
    journeys: JourneysDep,
    key: LeadsWrite,
) -> Any:
    """Add one lead (seed 003: ``email``, names, ``variables``, ``if_exists`` fail/skip/update;
    409 ``LEAD_EXISTS``) or ``{"leads": [...]}`` of up to 100 (seed 000) with one result per
    item. Blocklisted addresses are refused (``LEAD_BLOCKLISTED``), as are contacts that
    bounced, complained or unsubscribed (``LEAD_SUPPRESSED``). Leads of an active campaign
    start their journeys at once. ``{"list_id": ...}`` (seed 004's ``listId`` too) enrols a
    contact list: 202 with an import to poll at ``GET .../imports/{import_id}``."""
    if "list_id" in body or "listId" in body:
        enroll = _parse(ListEnroll, body)
        record = await list_imports.enroll_list(
            session=session,
            journeys=journeys,
            workspace_id=key.workspace_id,
            campaign_id=campaign_id,
            list_id=enroll.list_id,
            if_exists=enroll.if_exists,
        )
        queued: Data[LeadImportRead] = Data(
            data=LeadImportRead.model_validate(record, from_attributes=True)
        )
        return JSONResponse(queued.model_dump(mode="json"), status_code=status.HTTP_202_ACCEPTED)
    if "leads" in body:
        batch = _parse(LeadsCreate, body)
        result = await service.add_leads(
            session=session,
            journeys=journeys,
            workspace_id=key.workspace_id,
            campaign_id=campaign_id,
            data=batch,
        )
        return Data(data=result)
    single = _parse(LeadCreate, body)
    lead, outcome = await service.add_lead(
        session=session,
        journeys=journeys,
        workspace_id=key.workspace_id,
        campaign_id=campaign_id,
        data=single,
    )
    code = status.HTTP_201_CREATED if outcome == LeadResultStatus.created else status.HTTP_200_OK
    view: Data[LeadRead] = Data(data=service.lead_view(lead, journeys))
    return JSONResponse(view.model_dump(mode="json"), status_code=code)


@router.get(
    "/campaigns/{campaign_id}/leads", response_model=Page[LeadRead], responses=responses(404)
)
async def list_campaign_leads(
    campaign_id: str,
    session: SessionDep,
    journeys: JourneysDep,
    key: LeadsRead,
    params: PageParams,
    lead_status: Annotated[LeadStatus | None, Query(alias="status")] = None,
) -> Page[LeadRead]:
    """The campaign's leads with their journeys; search email/name/company, filter by status."""
    await campaign_service.get_campaign(
        session=session, workspace_id=key.workspace_id, campaign_id=campaign_id
    )
    result = await store.list_leads(
        session, key.workspace_id, params, campaign_id=campaign_id, status=lead_status
    )
    return Page.of(result, [service.lead_view(lead, journeys) for lead in result.items])  # type: ignore[arg-type]


@router.get(
    "/campaigns/{campaign_id}/leads/{lead_id}",
    response_model=Data[LeadRead],
    responses=responses(404),
)
async def get_campaign_lead(
    campaign_id: str, lead_id: str, session: SessionDep, journeys: JourneysDep, key: LeadsRead
) -> Data[LeadRead]:
    """One lead of the campaign with its journey block."""
    lead = await service.get_lead(
        session=session, workspace_id=key.workspace_id, lead_id=lead_id, campaign_id=campaign_id
    )
    return Data(data=service.lead_view(lead, journeys))


@router.get(
    "/campaigns/{campaign_id}/leads/{lead_id}/journey",
    response_model=Data[JourneyRead],
    responses=responses(404),
)
async def get_lead_journey(
    campaign_id: str, lead_id: str, session: SessionDep, journeys: JourneysDep, key: LeadsRead
) -> Data[JourneyRead]:
    """The lead's journey: past events, sent messages, and the planned sends with their
    computed times (from the schedule functions the workflow itself waits on), plus the
    Temporal UI link."""
    lead = await service.get_lead(
        session=session, workspace_id=key.workspace_id, lead_id=lead_id, campaign_id=campaign_id
    )
    return Data(data=await journey_view(session=session, journeys=journeys, lead=lead))


@router.delete(
    "/campaigns/{campaign_id}/leads/{lead_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=responses(404),
)
async def delete_lead(
    campaign_id: str, lead_id: str, session: SessionDep, journeys: JourneysDep, key: LeadsWrite
) -> Response:
    """Delete the lead; its journey stops."""
    await service.delete_lead(
        session=session,
        journeys=journeys,
        workspace_id=key.workspace_id,
        campaign_id=campaign_id,
        lead_id=lead_id,
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.patch(
    "/campaigns/{campaign_id}/leads/{lead_id}",
    response_model=Data[LeadInterestRead],
    responses=responses(404),
)
async def update_lead(
    campaign_id: str, lead_id: str, body: LeadUpdate, session: SessionDep, key: LeadsWrite
) -> Data[LeadInterestRead]:
    """Set the lead's status of seed 002: ``{"interest_status": "interested" |
    "not_interested" | "meeting_booked" | null}``. Recorded as a ``lead.interest_updated``
    event (relayed to webhooks); the journey is not changed."""
    result = await service.update_interest(
        session=session,
        workspace_id=key.workspace_id,
        campaign_id=campaign_id,
        lead_id=lead_id,
        data=body,
    )
    return Data(data=result)


@router.post(
    "/campaigns/{campaign_id}/leads/{lead_id}/{action}",
    response_model=Data[LeadRead],
    responses=responses(404, 409),
)
async def steer_lead(
    campaign_id: str,
    lead_id: str,
    action: Literal["pause", "resume", "stop"],
    session: SessionDep,
    journeys: JourneysDep,
    key: LeadsWrite,
) -> Data[LeadRead]:
    """Pause, resume or stop this lead's journey (resume continues where it was)."""
    lead = await service.steer_lead(
        session=session,
        journeys=journeys,
        workspace_id=key.workspace_id,
        campaign_id=campaign_id,
        lead_id=lead_id,
        action=action,
    )
    return Data(data=service.lead_view(lead, journeys))


@router.get("/leads", response_model=Page[LeadRead], responses=responses())
async def list_leads(
    session: SessionDep,
    journeys: JourneysDep,
    key: LeadsRead,
    params: PageParams,
    campaign_id: Annotated[str | None, Query()] = None,
    lead_status: Annotated[LeadStatus | None, Query(alias="status")] = None,
) -> Page[LeadRead]:
    """All leads of the workspace; search by email, name or company."""
    result = await store.list_leads(
        session, key.workspace_id, params, campaign_id=campaign_id, status=lead_status
    )
    return Page.of(result, [service.lead_view(lead, journeys) for lead in result.items])  # type: ignore[arg-type]


@router.get("/leads/{lead_id}", response_model=Data[LeadRead], responses=responses(404))
async def get_lead(
    lead_id: str, session: SessionDep, journeys: JourneysDep, key: LeadsRead
) -> Data[LeadRead]:
    """One lead with its journey: state, step, next send and a link to the Temporal UI."""
    lead = await service.get_lead(session=session, workspace_id=key.workspace_id, lead_id=lead_id)
    return Data(data=service.lead_view(lead, journeys))

"""Campaign endpoints: CRUD, status actions, inbox attach/detach."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response, status
from pydantic import BaseModel, Field

from api.deps import CampaignsRead, CampaignsWrite, JourneysDep, SessionDep
from api.envelope import Data, Page, PageParams
from api.errors import responses
from api.uow import UnitOfWorkRoute
from coldflow.models import CampaignStatus
from coldflow.schemas.campaigns import (
    CampaignCreate,
    CampaignRead,
    CampaignStats,
    CampaignUpdate,
    SchedulePatch,
)
from coldflow.schemas.leads import IfExists
from coldflow.services import campaigns as service
from coldflow.services import list_imports
from coldflow.services.campaign_views import campaign_views
from coldflow.store import campaigns as store

router = APIRouter(prefix="/campaigns", tags=["campaigns"], route_class=UnitOfWorkRoute)


class InboxIds(BaseModel):
    inbox_ids: list[str] = Field(min_length=1, max_length=500)


async def _view(session: SessionDep, campaign_id: str, workspace_id: str) -> CampaignRead:
    campaign = await service.get_campaign(
        session=session, workspace_id=workspace_id, campaign_id=campaign_id
    )
    return (await campaign_views(session, [campaign], detail=True))[0]


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    responses=responses(404),
    response_model=Data[CampaignRead],
)
async def create_campaign(
    body: CampaignCreate, session: SessionDep, journeys: JourneysDep, key: CampaignsWrite
) -> Data[CampaignRead]:
    """Create a draft: ``name`` alone, or seed 000's full body with schedule and sequences;
    with ``list_id`` (seed 004) the list's contacts become its leads in the background
    (``GET /campaigns/{id}/imports`` shows the progress; 422 ``LIST_NOT_FOUND``)."""
    campaign = await service.create_campaign(
        session=session, workspace_id=key.workspace_id, data=body
    )
    if body.list_id is not None:
        await list_imports.enroll_list(
            session=session,
            journeys=journeys,
            workspace_id=key.workspace_id,
            campaign_id=campaign.id,
            list_id=body.list_id,
            if_exists=IfExists.skip,
        )
    return Data(data=await _view(session, campaign.id, key.workspace_id))


@router.get("", response_model=Page[CampaignRead], responses=responses())
async def list_campaigns(
    session: SessionDep, key: CampaignsRead, params: PageParams
) -> Page[CampaignRead]:
    """List campaigns; search by name, sort by name, created_at, updated_at or status."""
    result = await store.list_campaigns(session, key.workspace_id, params)
    return Page.of(result, await campaign_views(session, result.items))  # type: ignore[arg-type]


@router.get("/{campaign_id}", response_model=Data[CampaignRead], responses=responses(404))
async def get_campaign(
    campaign_id: str, session: SessionDep, key: CampaignsRead
) -> Data[CampaignRead]:
    """One campaign with its steps, per-sequence and daily stats."""
    return Data(data=await _view(session, campaign_id, key.workspace_id))


@router.get(
    "/{campaign_id}/analytics", response_model=Data[CampaignStats], responses=responses(404)
)
async def campaign_analytics(
    campaign_id: str, session: SessionDep, key: CampaignsRead
) -> Data[CampaignStats]:
    """Seed 003's analytics: headline numbers, 30 local days of sends and replies, and
    per-step, per-variant performance (rates in percent)."""
    return Data(data=(await _view(session, campaign_id, key.workspace_id)).stats)


@router.patch("/{campaign_id}", response_model=Data[CampaignRead], responses=responses(404, 409))
async def update_campaign(
    campaign_id: str,
    body: CampaignUpdate,
    session: SessionDep,
    journeys: JourneysDep,
    key: CampaignsWrite,
) -> Data[CampaignRead]:
    """Change name, options or status; one invalid field saves nothing."""
    await service.update_campaign(
        session=session,
        journeys=journeys,
        workspace_id=key.workspace_id,
        campaign_id=campaign_id,
        data=body,
    )
    return Data(data=await _view(session, campaign_id, key.workspace_id))


async def _transition(
    campaign_id: str,
    target: CampaignStatus,
    session: SessionDep,
    journeys: JourneysDep,
    workspace_id: str,
) -> Data[CampaignRead]:
    campaign = await service.get_campaign(
        session=session, workspace_id=workspace_id, campaign_id=campaign_id
    )
    await service.set_status(session=session, journeys=journeys, campaign=campaign, target=target)
    return Data(data=await _view(session, campaign_id, workspace_id))


@router.post(
    "/{campaign_id}/activate", response_model=Data[CampaignRead], responses=responses(404, 409)
)
async def activate_campaign(
    campaign_id: str, session: SessionDep, journeys: JourneysDep, key: CampaignsWrite
) -> Data[CampaignRead]:
    """Start sending: every lead not yet started gets its journey. 422 names what is missing."""
    return await _transition(
        campaign_id, CampaignStatus.active, session, journeys, key.workspace_id
    )


@router.post(
    "/{campaign_id}/launch",
    response_model=Data[CampaignRead],
    responses=responses(404, 409),
    include_in_schema=True,
)
async def launch_campaign(
    campaign_id: str, session: SessionDep, journeys: JourneysDep, key: CampaignsWrite
) -> Data[CampaignRead]:
    """Alias of ``activate``."""
    return await _transition(
        campaign_id, CampaignStatus.active, session, journeys, key.workspace_id
    )


@router.post(
    "/{campaign_id}/pause", response_model=Data[CampaignRead], responses=responses(404, 409)
)
async def pause_campaign(
    campaign_id: str, session: SessionDep, journeys: JourneysDep, key: CampaignsWrite
) -> Data[CampaignRead]:
    """Hold every journey of the campaign: no send starts while paused."""
    return await _transition(
        campaign_id, CampaignStatus.paused, session, journeys, key.workspace_id
    )


@router.post(
    "/{campaign_id}/resume", response_model=Data[CampaignRead], responses=responses(404, 409)
)
async def resume_campaign(
    campaign_id: str, session: SessionDep, journeys: JourneysDep, key: CampaignsWrite
) -> Data[CampaignRead]:
    """Continue where each journey was (only a paused campaign can resume)."""
    await service.require_status(
        session=session,
        workspace_id=key.workspace_id,
        campaign_id=campaign_id,
        expected=CampaignStatus.paused,
    )
    return await _transition(
        campaign_id, CampaignStatus.active, session, journeys, key.workspace_id
    )


@router.post(
    "/{campaign_id}/inboxes/attach", response_model=Data[CampaignRead], responses=responses(404)
)
async def attach_inboxes(
    campaign_id: str, body: InboxIds, session: SessionDep, key: CampaignsWrite
) -> Data[CampaignRead]:
    """Attach inboxes (idempotent; one unknown id and nothing is attached)."""
    await service.attach_inboxes(
        session=session,
        workspace_id=key.workspace_id,
        campaign_id=campaign_id,
        inbox_ids=body.inbox_ids,
    )
    return Data(data=await _view(session, campaign_id, key.workspace_id))


@router.post(
    "/{campaign_id}/inboxes/detach", response_model=Data[CampaignRead], responses=responses(404)
)
async def detach_inboxes(
    campaign_id: str, body: InboxIds, session: SessionDep, key: CampaignsWrite
) -> Data[CampaignRead]:
    """Detach inboxes (idempotent; one unknown id and nothing is detached)."""
    await service.detach_inboxes(
        session=session,
        workspace_id=key.workspace_id,
        campaign_id=campaign_id,
        inbox_ids=body.inbox_ids,
    )
    return Data(data=await _view(session, campaign_id, key.workspace_id))


@router.patch(
    "/{campaign_id}/schedule", response_model=Data[dict[str, Any]], responses=responses(404)
)
async def update_schedule(
    campaign_id: str,
    body: SchedulePatch,
    session: SessionDep,
    journeys: JourneysDep,
    key: CampaignsWrite,
) -> Data[dict[str, Any]]:
    """Seed 003: timezone from the supported list, default window, per-day overrides (null falls
    back to the default window), times on a 30-minute grid (``09:23`` is stored as ``09:30``).
    Waiting journeys re-plan against the new windows."""
    updated = await service.update_schedule(
        session=session,
        journeys=journeys,
        workspace_id=key.workspace_id,
        campaign_id=campaign_id,
        patch=body.model_dump(exclude_unset=True),
    )
    return Data(data=dict(updated.to_dict()))


@router.delete("/{campaign_id}", status_code=status.HTTP_204_NO_CONTENT, responses=responses(404))
async def delete_campaign(
    campaign_id: str, session: SessionDep, journeys: JourneysDep, key: CampaignsWrite
) -> Response:
    """Delete the campaign, its steps, variants, leads and sent emails; running journeys stop."""
    await service.delete_campaign(
        session=session, journeys=journeys, workspace_id=key.workspace_id, campaign_id=campaign_id
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)

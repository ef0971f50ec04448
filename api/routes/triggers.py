"""CRM triggers: stop, pause, resume, mark replied, unsubscribe or book a meeting by email."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import JourneysDep, SessionDep, TriggersWrite
from api.envelope import Data
from api.errors import responses
from api.uow import UnitOfWorkRoute
from coldflow.schemas.triggers import TriggerCreate, TriggerResult
from coldflow.services import triggers as service

router = APIRouter(prefix="/triggers", tags=["triggers"], route_class=UnitOfWorkRoute)


@router.post("", response_model=Data[TriggerResult], responses=responses(404, 503))
async def create_trigger(
    body: TriggerCreate, session: SessionDep, journeys: JourneysDep, key: TriggersWrite
) -> Data[TriggerResult]:
    """Act on every lead of the workspace with this ``email`` (only in ``campaign_id``, if
    given): ``stop``, ``pause``, ``resume``, ``mark_replied``, ``unsubscribe`` (the whole
    workspace; the address is blocklisted so it cannot be enrolled again) or
    ``meeting_booked``. Answers how many leads matched and which journeys were signalled; an
    unknown address matches none (200, ``affected: 0``)."""
    result = await service.apply_trigger(
        session=session, journeys=journeys, workspace_id=key.workspace_id, data=body
    )
    return Data(data=result)

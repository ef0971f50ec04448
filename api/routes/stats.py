"""Workspace totals (seed 004's ``GET /stats``)."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import SessionDep, StatsRead
from api.envelope import Data
from api.errors import responses
from api.uow import UnitOfWorkRoute
from coldflow.models.base import utcnow
from coldflow.schemas.stats import WorkspaceStats
from coldflow.services import stats as service

router = APIRouter(prefix="/stats", tags=["stats"], route_class=UnitOfWorkRoute)


@router.get("", response_model=Data[WorkspaceStats], responses=responses())
async def workspace_stats(session: SessionDep, key: StatsRead) -> Data[WorkspaceStats]:
    """Counts across the workspace: contacts, leads, campaigns, inboxes and sender domains by
    status, emails sent this UTC month, and sent / replied / bounced over the last 30 days."""
    return Data(
        data=await service.workspace_stats(
            session=session, workspace_id=key.workspace_id, now=utcnow()
        )
    )

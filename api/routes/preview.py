"""Campaign preview: rendered steps for one lead and a simulated send timeline."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import CampaignsRead, LinksDep, SessionDep
from api.envelope import Data
from api.errors import responses
from api.uow import UnitOfWorkRoute
from coldflow.schemas.preview import PreviewRead, PreviewRequest
from coldflow.services import preview as service

router = APIRouter(prefix="/campaigns", tags=["campaigns"], route_class=UnitOfWorkRoute)


@router.post("/{campaign_id}/preview", response_model=Data[PreviewRead], responses=responses(404))
async def preview_campaign(
    campaign_id: str,
    body: PreviewRequest,
    session: SessionDep,
    links: LinksDep,
    key: CampaignsRead,
) -> Data[PreviewRead]:
    """Preview without sending or saving anything.

    With ``lead`` (ad-hoc) or ``lead_id`` (a lead of this campaign; the key also needs
    ``leads:read``): every step rendered as that lead would get it — the variant chosen the way
    the journey chooses it, subject (follow-ups threaded as ``Re:``), HTML and text, and the
    variables that have no value (shown as ``{{name}}`` in place; a real send would hold the
    lead). With ``timeline``: how many step-1 and follow-up sends go out on each local day for
    ``leads`` leads enrolled at ``start_at``, under the schedule, ``daily_limit``, the attached
    inboxes' ``daily_campaign_limit`` and the step delays, assuming nobody replies.
    """
    return Data(
        data=await service.preview_campaign(
            session=session,
            links=links,
            workspace_id=key.workspace_id,
            campaign_id=campaign_id,
            data=body,
            can_read_leads=key.allows("leads:read"),
        )
    )

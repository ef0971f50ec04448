"""Sequence endpoints: a campaign's steps and their A/B variants (seed 003).

Steps and variants are reached through their campaign, so another workspace's campaign, step or
variant is a 404 like a missing one.
"""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from api.deps import CampaignsRead, CampaignsWrite, SessionDep
from api.envelope import Data
from api.errors import responses
from api.uow import UnitOfWorkRoute
from coldflow.schemas.sequences import (
    SequenceCreate,
    SequenceRead,
    SequenceUpdate,
    VariantCreate,
    VariantRead,
    VariantUpdate,
)
from coldflow.services import sequences as service

router = APIRouter(
    prefix="/campaigns/{campaign_id}", tags=["sequences"], route_class=UnitOfWorkRoute
)


@router.get("/sequences", response_model=Data[list[SequenceRead]], responses=responses(404))
async def list_sequences(
    campaign_id: str, session: SessionDep, key: CampaignsRead
) -> Data[list[SequenceRead]]:
    """The campaign's steps in order with their variants.

    ``delay_days`` is the number of days to wait after a step before the next one; it is null
    on the last step. ``weight`` is a variant's share of the step's sends: enabled variants'
    weights need not sum to 100 (each gets weight / sum; all zero is an equal split).
    """
    return Data(
        data=await service.list_sequences(
            session=session, workspace_id=key.workspace_id, campaign_id=campaign_id
        )
    )


@router.post(
    "/sequences",
    status_code=status.HTTP_201_CREATED,
    response_model=Data[SequenceRead],
    responses=responses(404, 409),
)
async def create_sequence(
    campaign_id: str, body: SequenceCreate, session: SessionDep, key: CampaignsWrite
) -> Data[SequenceRead]:
    """Append a step with an empty variant A (holding only the unsubscribe link when the
    campaign's ``unsubscribe_option`` is on).

    The new step is last, so its ``delay_days`` reads null; the value sent (default 3) applies
    once a step is added after it. The previous last step's delay applies again now.
    """
    return Data(
        data=await service.create_sequence(
            session=session, workspace_id=key.workspace_id, campaign_id=campaign_id, data=body
        )
    )


@router.patch(
    "/sequences/{sequence_id}", response_model=Data[SequenceRead], responses=responses(404)
)
async def update_sequence(
    campaign_id: str,
    sequence_id: str,
    body: SequenceUpdate,
    session: SessionDep,
    key: CampaignsWrite,
) -> Data[SequenceRead]:
    """Change a step's ``delay_days`` and/or ``condition`` (``always``, ``not_replied``,
    ``not_opened``, ``opened_not_replied``). Running journeys use it from their next step."""
    return Data(
        data=await service.update_sequence(
            session=session,
            workspace_id=key.workspace_id,
            campaign_id=campaign_id,
            sequence_id=sequence_id,
            data=body,
        )
    )


@router.delete(
    "/sequences/{sequence_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=responses(404),
)
async def delete_sequence(
    campaign_id: str, sequence_id: str, session: SessionDep, key: CampaignsWrite
) -> Response:
    """Delete a step and its variants; later steps move up (deleting 2 of 1–4 leaves 1–3)."""
    await service.delete_sequence(
        session=session,
        workspace_id=key.workspace_id,
        campaign_id=campaign_id,
        sequence_id=sequence_id,
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/sequences/{sequence_id}/variants",
    status_code=status.HTTP_201_CREATED,
    response_model=Data[VariantRead],
    responses=responses(404, 409),
)
async def create_variant(
    campaign_id: str,
    sequence_id: str,
    body: VariantCreate,
    session: SessionDep,
    key: CampaignsWrite,
) -> Data[VariantRead]:
    """Add a variant with the step's next letter (A, B, C…); same content rules as PATCH."""
    return Data(
        data=await service.create_variant(
            session=session,
            workspace_id=key.workspace_id,
            campaign_id=campaign_id,
            sequence_id=sequence_id,
            data=body,
        )
    )


@router.patch("/variants/{variant_id}", response_model=Data[VariantRead], responses=responses(404))
async def update_variant(
    campaign_id: str,
    variant_id: str,
    body: VariantUpdate,
    session: SessionDep,
    key: CampaignsWrite,
) -> Data[VariantRead]:
    """Change any of ``subject``, ``body_html``, ``weight`` and ``enabled``.

    ``body_html`` is sanitized to an allowlist and normalized (plain text becomes paragraphs),
    so the stored markup may differ from what was sent; ``body_text`` is derived from it. Merge
    tags are validated: unbalanced braces are a 422 TEMPLATE_SYNTAX_ERROR with the field and the
    offset. With ``unsubscribe_option`` on, a body without an ``{{unsubscribe_url}}`` link gets
    one appended. The last enabled variant of a step cannot be disabled
    (CANNOT_DISABLE_LAST_VARIANT). An empty subject on a follow-up sends ``Re: <first subject>``.
    """
    return Data(
        data=await service.update_variant(
            session=session,
            workspace_id=key.workspace_id,
            campaign_id=campaign_id,
            variant_id=variant_id,
            data=body,
        )
    )


@router.delete(
    "/variants/{variant_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=responses(404),
)
async def delete_variant(
    campaign_id: str, variant_id: str, session: SessionDep, key: CampaignsWrite
) -> Response:
    """Delete a variant; 422 CANNOT_DELETE_LAST_VARIANT if its step would have none enabled."""
    await service.delete_variant(
        session=session,
        workspace_id=key.workspace_id,
        campaign_id=campaign_id,
        variant_id=variant_id,
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)

"""The emails log (seed 004): every sent or queued message with its counters and events."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from api.deps import EmailsRead, EmailsWrite, JourneysDep, SessionDep
from api.envelope import Data, Page, PageParams
from api.errors import responses
from api.uow import UnitOfWorkRoute
from coldflow.models import EmailSource
from coldflow.schemas.emails import (
    EmailBatchCreate,
    EmailBatchResult,
    EmailCreate,
    EmailDetail,
    EmailQueued,
    EmailRead,
    EmailStatus,
)
from coldflow.services import email_sends
from coldflow.services import emails as service

router = APIRouter(prefix="/emails", tags=["emails"], route_class=UnitOfWorkRoute)


@router.get("", response_model=Page[EmailRead], responses=responses())
async def list_emails(
    session: SessionDep,
    key: EmailsRead,
    params: PageParams,
    status: Annotated[EmailStatus | None, Query()] = None,
    campaign_id: Annotated[str | None, Query(max_length=36)] = None,
    lead_id: Annotated[str | None, Query(max_length=36)] = None,
    source: Annotated[EmailSource | None, Query()] = None,
    tag: Annotated[
        list[str] | None,
        Query(max_length=330, description="name:value; repeat to require several tags"),
    ] = None,
) -> Page[EmailRead]:
    """Newest first; search matches the recipient or the subject. Sort by created_at, sent_at
    or to."""
    result, reads = await service.list_emails(
        session=session,
        workspace_id=key.workspace_id,
        request=params,
        status=status,
        campaign_id=campaign_id,
        lead_id=lead_id,
        source=source,
        tags=tag or (),
    )
    return Page.of(result, reads)  # type: ignore[arg-type]


@router.get("/{email_id}", response_model=Data[EmailDetail], responses=responses(404))
async def show_email(email_id: str, session: SessionDep, key: EmailsRead) -> Data[EmailDetail]:
    """One email with its body and every event about it (sent, opened, clicked, replied,
    bounced), oldest first."""
    return Data(
        data=await service.show_email(
            session=session, workspace_id=key.workspace_id, email_id=email_id
        )
    )


@router.post(
    "",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=Data[EmailQueued],
    responses=responses(),
)
async def send_email(
    body: EmailCreate, session: SessionDep, journeys: JourneysDep, key: EmailsWrite
) -> Data[EmailQueued]:
    """Queue one email from an inbox of the workspace (``from`` or ``inbox_id``); it goes out
    through a durable send workflow (``email/{id}`` in Temporal) and its status moves from
    ``queued`` to ``sent``, ``failed`` or ``bounced`` in ``GET /emails/{id}``. Refused with a
    code: ``RECIPIENT_SUPPRESSED`` (blocklisted or unsubscribed), ``INBOX_NOT_FOUND``,
    ``INBOX_UNAVAILABLE``, ``INBOX_DAILY_LIMIT``, ``HEADER_NOT_ALLOWED``, ``HEADER_INJECTION``.
    Send an ``Idempotency-Key`` to make retries safe."""
    queued = await email_sends.send_email(
        session=session, journeys=journeys, workspace_id=key.workspace_id, data=body
    )
    return Data(data=queued)


@router.post(
    "/batch",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=Data[EmailBatchResult],
    responses=responses(413),
)
async def send_batch(
    body: EmailBatchCreate, session: SessionDep, journeys: JourneysDep, key: EmailsWrite
) -> Data[EmailBatchResult]:
    """Up to 100 emails, each checked alone: one result per item (``id`` and ``status``, or an
    ``error`` with its code and field), plus ``total``, ``queued`` and ``failed``. More than 100
    → 413 ``BATCH_TOO_LARGE``."""
    result = await email_sends.send_batch(
        session=session, journeys=journeys, workspace_id=key.workspace_id, data=body
    )
    return Data(data=result)

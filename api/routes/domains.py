"""Sender domains (seed 004): every inbox's domain, its DNS health checks and their fix hints."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from api.deps import DomainsRead, DomainsWrite, JourneysDep, SessionDep
from api.envelope import Data, Page, PageParams
from api.errors import responses
from api.uow import UnitOfWorkRoute
from coldflow.models.domain import DomainState, SenderDomain
from coldflow.schemas.domains import DomainCreate, DomainRead, DomainUpdate
from coldflow.services import domains as service

router = APIRouter(prefix="/domains", tags=["domains"], route_class=UnitOfWorkRoute)


async def _view(session: SessionDep, workspace_id: str, domain: SenderDomain) -> DomainRead:
    [view] = await service.views(session, workspace_id, [domain])
    return view


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=Data[DomainRead],
    responses=responses(409),
)
async def add_domain(
    body: DomainCreate, session: SessionDep, key: DomainsWrite
) -> Data[DomainRead]:
    """List a domain before any inbox sends from it (inboxes' domains are listed by
    themselves). ``dkim_selector`` is tried first (then google, selector1, selector2, default,
    k1); ``tracking_domain`` must CNAME to coldflow's public host. 409 ``DOMAIN_EXISTS``."""
    domain = await service.add_domain(session=session, workspace_id=key.workspace_id, data=body)
    return Data(data=await _view(session, key.workspace_id, domain))


@router.get("", response_model=Page[DomainRead], responses=responses())
async def list_domains(
    session: SessionDep,
    key: DomainsRead,
    params: PageParams,
    status: Annotated[DomainState | None, Query()] = None,
) -> Page[DomainRead]:
    """Every domain of the workspace: each inbox's, and those added; search by name, sort by
    domain, status, created_at or checked_at."""
    result, views = await service.list_domains(
        session=session, workspace_id=key.workspace_id, request=params, status=status
    )
    return Page.of(result, views)  # type: ignore[arg-type]


@router.get("/{domain_id}", response_model=Data[DomainRead], responses=responses(404))
async def show_domain(domain_id: str, session: SessionDep, key: DomainsRead) -> Data[DomainRead]:
    """One domain with its last checks (``mx``, ``spf``, ``dkim``, ``dmarc``, ``tracking``:
    status, what was found and a one-line fix hint)."""
    domain = await service.get_domain(
        session=session, workspace_id=key.workspace_id, domain_id=domain_id
    )
    return Data(data=await _view(session, key.workspace_id, domain))


@router.patch("/{domain_id}", response_model=Data[DomainRead], responses=responses(404))
async def update_domain(
    domain_id: str, body: DomainUpdate, session: SessionDep, key: DomainsWrite
) -> Data[DomainRead]:
    """Change the DKIM selector or the tracking domain (null clears it); verify again after."""
    domain = await service.update_domain(
        session=session, workspace_id=key.workspace_id, domain_id=domain_id, data=body
    )
    return Data(data=await _view(session, key.workspace_id, domain))


@router.delete(
    "/{domain_id}", status_code=status.HTTP_204_NO_CONTENT, responses=responses(404, 409)
)
async def delete_domain(domain_id: str, session: SessionDep, key: DomainsWrite) -> Response:
    """Remove a domain no inbox uses (409 ``DOMAIN_IN_USE`` otherwise)."""
    await service.delete_domain(session=session, workspace_id=key.workspace_id, domain_id=domain_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/{domain_id}/verify",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=Data[DomainRead],
    responses=responses(404),
)
async def verify_domain(
    domain_id: str, session: SessionDep, journeys: JourneysDep, key: DomainsWrite
) -> Data[DomainRead]:
    """Run the DNS checks now, as a Temporal activity (``domain-verify/{id}``); the result
    replaces ``status`` and ``checks`` (``checked_at`` moves) within seconds. Every domain is
    also re-checked daily; a worse result raises the ``domain.degraded`` webhook event."""
    domain = await service.request_verification(
        session=session, journeys=journeys, workspace_id=key.workspace_id, domain_id=domain_id
    )
    return Data(data=await _view(session, key.workspace_id, domain))

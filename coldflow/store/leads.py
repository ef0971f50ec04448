"""Leads and their journey mirror."""

from __future__ import annotations

from collections.abc import Sequence

from pydantic_core import PydanticUndefined
from sqlalchemy import insert
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from coldflow.models import JourneyState, Lead, LeadImport, LeadStatus
from coldflow.store.paging import PageRequest, PageResult, contains, fetch_page

LEAD_SORTS = {
    "email": col(Lead.email),
    "created_at": col(Lead.created_at),
    "updated_at": col(Lead.updated_at),
    "status": col(Lead.status),
}


async def get_lead(session: AsyncSession, workspace_id: str, lead_id: str) -> Lead | None:
    stmt = select(Lead).where(Lead.id == lead_id, Lead.workspace_id == workspace_id)
    return (await session.exec(stmt)).first()


async def find_lead_by_email(session: AsyncSession, campaign_id: str, email: str) -> Lead | None:
    stmt = select(Lead).where(Lead.campaign_id == campaign_id, Lead.email == email)
    return (await session.exec(stmt)).first()


async def list_leads(
    session: AsyncSession,
    workspace_id: str,
    request: PageRequest,
    *,
    campaign_id: str | None,
    status: LeadStatus | None = None,
) -> PageResult[Lead]:
    stmt = select(Lead).where(Lead.workspace_id == workspace_id)
    if campaign_id is not None:
        stmt = stmt.where(Lead.campaign_id == campaign_id)
    if status is not None:
        stmt = stmt.where(Lead.status == status)
    if request.search:
        pattern = contains(request.search.lower())
        stmt = stmt.where(
            col(Lead.email).ilike(pattern, escape="\\")
            | col(Lead.first_name).ilike(pattern, escape="\\")
            | col(Lead.last_name).ilike(pattern, escape="\\")
            | col(Lead.company).ilike(pattern, escape="\\")
        )
    return await fetch_page(
        session,
        stmt,
        request,
        sortable=LEAD_SORTS,
        default_sort="created_at",
        tiebreak=col(Lead.id),
    )


async def list_lead_ids_in_state(
    session: AsyncSession, campaign_id: str, state: JourneyState
) -> Sequence[str]:
    stmt = select(Lead.id).where(Lead.campaign_id == campaign_id, Lead.journey_state == state)
    return (await session.exec(stmt)).all()


FINAL_STATES = (JourneyState.completed, JourneyState.stopped)


async def list_running_lead_ids(session: AsyncSession, campaign_id: str) -> Sequence[str]:
    """Leads whose journey was started and has not ended."""
    stmt = select(Lead.id).where(
        Lead.campaign_id == campaign_id,
        col(Lead.journey_state).not_in([JourneyState.not_started, *FINAL_STATES]),
    )
    return (await session.exec(stmt)).all()


async def find_leads_by_emails(
    session: AsyncSession, campaign_id: str, emails: Sequence[str]
) -> dict[str, Lead]:
    """The campaign's leads among ``emails``, in one query (batches and CSV chunks)."""
    if not emails:
        return {}
    stmt = select(Lead).where(Lead.campaign_id == campaign_id, col(Lead.email).in_(set(emails)))
    return {lead.email: lead for lead in (await session.exec(stmt)).all()}


async def insert_leads(session: AsyncSession, rows: Sequence[dict[str, object]]) -> None:
    """Insert many new leads at once; columns left out take the model's defaults."""
    if not rows:
        return
    defaults = _LEAD_DEFAULTS
    await session.execute(insert(Lead), [{**defaults, **row} for row in rows])


_LEAD_DEFAULTS: dict[str, object] = {
    name: field.default
    for name, field in Lead.model_fields.items()
    if field.default is not PydanticUndefined and name != "id"
}


async def has_unfinished_leads(session: AsyncSession, campaign_id: str) -> bool:
    """Whether any lead of the campaign has a journey not yet completed or stopped."""
    stmt = select(Lead.id).where(
        Lead.campaign_id == campaign_id, col(Lead.journey_state).not_in(FINAL_STATES)
    )
    return (await session.exec(stmt.limit(1))).first() is not None


async def find_leads_by_email(
    session: AsyncSession, workspace_id: str, email: str, campaign_id: str | None = None
) -> Sequence[Lead]:
    """Every lead with this address in the workspace (optionally one campaign), oldest first."""
    stmt = select(Lead).where(Lead.workspace_id == workspace_id, Lead.email == email)
    if campaign_id is not None:
        stmt = stmt.where(Lead.campaign_id == campaign_id)
    return (await session.exec(stmt.order_by(col(Lead.created_at), col(Lead.id)))).all()


async def list_unstarted_leads(
    session: AsyncSession, campaign_id: str, *, after_lead_id: str, limit: int
) -> Sequence[Lead]:
    """A page of the campaign's leads whose journey has not started, in id order."""
    stmt = (
        select(Lead)
        .where(
            Lead.campaign_id == campaign_id,
            Lead.journey_state == JourneyState.not_started,
            col(Lead.id) > after_lead_id,
        )
        .order_by(col(Lead.id))
        .limit(limit)
    )
    return (await session.exec(stmt)).all()


async def list_leads_by_ids(session: AsyncSession, lead_ids: Sequence[str]) -> Sequence[Lead]:
    if not lead_ids:
        return []
    return (await session.exec(select(Lead).where(col(Lead.id).in_(lead_ids)))).all()


IMPORT_SORTS = {"created_at": col(LeadImport.created_at)}


async def list_imports(
    session: AsyncSession, campaign_id: str, request: PageRequest
) -> PageResult[LeadImport]:
    stmt = select(LeadImport).where(LeadImport.campaign_id == campaign_id)
    return await fetch_page(
        session,
        stmt,
        request,
        sortable=IMPORT_SORTS,
        default_sort="created_at",
        tiebreak=col(LeadImport.id),
    )

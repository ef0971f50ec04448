"""Campaigns, steps, variants and campaign↔inbox links; every query is scoped by workspace."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from coldflow.models import Campaign, CampaignInbox, Inbox, Lead, Step, Variant
from coldflow.store.paging import PageRequest, PageResult, contains, fetch_page

CAMPAIGN_SORTS = {
    "name": col(Campaign.name),
    "created_at": col(Campaign.created_at),
    "updated_at": col(Campaign.updated_at),
    "status": col(Campaign.status),
}


async def get_campaign(
    session: AsyncSession, workspace_id: str, campaign_id: str, *, for_update: bool = False
) -> Campaign | None:
    stmt = select(Campaign).where(Campaign.id == campaign_id, Campaign.workspace_id == workspace_id)
    if for_update:
        stmt = stmt.with_for_update()
    return (await session.exec(stmt)).first()


async def list_campaigns(
    session: AsyncSession, workspace_id: str, request: PageRequest
) -> PageResult[Campaign]:
    stmt = select(Campaign).where(Campaign.workspace_id == workspace_id)
    if request.search:
        stmt = stmt.where(col(Campaign.name).ilike(contains(request.search), escape="\\"))
    return await fetch_page(
        session,
        stmt,
        request,
        sortable=CAMPAIGN_SORTS,
        default_sort="created_at",
        tiebreak=col(Campaign.id),
    )


async def list_steps(session: AsyncSession, campaign_id: str) -> Sequence[Step]:
    stmt = select(Step).where(Step.campaign_id == campaign_id).order_by(col(Step.position))
    return (await session.exec(stmt)).all()


async def list_variants(session: AsyncSession, step_ids: Sequence[str]) -> Sequence[Variant]:
    if not step_ids:
        return []
    stmt = (
        select(Variant)
        .where(col(Variant.step_id).in_(step_ids))
        .order_by(col(Variant.step_id), col(Variant.label))
    )
    return (await session.exec(stmt)).all()


async def get_step_at(session: AsyncSession, campaign_id: str, position: int) -> Step | None:
    stmt = select(Step).where(Step.campaign_id == campaign_id, Step.position == position)
    return (await session.exec(stmt)).first()


async def list_campaign_inboxes(session: AsyncSession, campaign_id: str) -> Sequence[Inbox]:
    stmt = (
        select(Inbox)
        .join(CampaignInbox, col(CampaignInbox.inbox_id) == col(Inbox.id))
        .where(CampaignInbox.campaign_id == campaign_id)
        .order_by(col(Inbox.email))
    )
    return (await session.exec(stmt)).all()


async def attach_inboxes(session: AsyncSession, campaign_id: str, inbox_ids: Sequence[str]) -> None:
    """Idempotent: links that exist already are left alone."""
    existing = set(
        (
            await session.exec(
                select(CampaignInbox.inbox_id).where(CampaignInbox.campaign_id == campaign_id)
            )
        ).all()
    )
    for inbox_id in dict.fromkeys(inbox_ids):
        if inbox_id not in existing:
            session.add(CampaignInbox(campaign_id=campaign_id, inbox_id=inbox_id))
    await session.flush()


async def detach_inboxes(session: AsyncSession, campaign_id: str, inbox_ids: Sequence[str]) -> None:
    await session.execute(
        delete(CampaignInbox).where(
            col(CampaignInbox.campaign_id) == campaign_id,
            col(CampaignInbox.inbox_id).in_(inbox_ids),
        )
    )


async def count_leads(session: AsyncSession, campaign_id: str) -> int:
    stmt = select(func.count()).select_from(Lead).where(Lead.campaign_id == campaign_id)
    return int((await session.exec(stmt)).one())


async def count_leads_per_inbox(session: AsyncSession, campaign_id: str) -> dict[str, int]:
    """How many of the campaign's leads each inbox already owns (the rotation's load)."""
    stmt = (
        select(Lead.inbox_id, func.count())
        .where(Lead.campaign_id == campaign_id, col(Lead.inbox_id).is_not(None))
        .group_by(col(Lead.inbox_id))
    )
    return {str(inbox_id): int(n) for inbox_id, n in (await session.exec(stmt)).all()}

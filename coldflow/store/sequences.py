"""Steps and variants, reached through their campaign so every lookup is scoped by workspace."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, func, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from coldflow.models import Campaign, Step, Variant


async def get_step(
    session: AsyncSession, workspace_id: str, campaign_id: str, step_id: str
) -> Step | None:
    """A step of the campaign, or None when it (or its campaign) is in another workspace."""
    stmt = (
        select(Step)
        .join(Campaign, col(Campaign.id) == col(Step.campaign_id))
        .where(
            Step.id == step_id,
            Step.campaign_id == campaign_id,
            Campaign.workspace_id == workspace_id,
        )
    )
    return (await session.exec(stmt)).first()


async def get_variant(
    session: AsyncSession, workspace_id: str, campaign_id: str, variant_id: str
) -> Variant | None:
    """A variant of one of the campaign's steps, scoped like ``get_step``."""
    stmt = (
        select(Variant)
        .join(Step, col(Step.id) == col(Variant.step_id))
        .join(Campaign, col(Campaign.id) == col(Step.campaign_id))
        .where(
            Variant.id == variant_id,
            Step.campaign_id == campaign_id,
            Campaign.workspace_id == workspace_id,
        )
    )
    return (await session.exec(stmt)).first()


async def last_step(session: AsyncSession, campaign_id: str) -> Step | None:
    stmt = (
        select(Step)
        .where(Step.campaign_id == campaign_id)
        .order_by(col(Step.position).desc())
        .limit(1)
    )
    return (await session.exec(stmt)).first()


async def count_steps(session: AsyncSession, campaign_id: str) -> int:
    stmt = select(func.count()).select_from(Step).where(Step.campaign_id == campaign_id)
    return int((await session.exec(stmt)).one())


async def list_step_variants(session: AsyncSession, step_id: str) -> Sequence[Variant]:
    stmt = select(Variant).where(Variant.step_id == step_id).order_by(col(Variant.label))
    return (await session.exec(stmt)).all()


async def delete_step(session: AsyncSession, step: Step) -> None:
    """Delete a step and its variants, then close the gap so positions stay 1..n.

    The shift goes through negative positions: a single ``position - 1`` update may hit the
    unique (campaign, position) constraint mid-statement, because PostgreSQL checks a
    non-deferrable unique constraint row by row. Steps already loaded in the session are kept in
    step by the ORM's default ``synchronize_session``.
    """
    await session.execute(delete(Variant).where(col(Variant.step_id) == step.id))
    await session.execute(delete(Step).where(col(Step.id) == step.id))
    later = (col(Step.campaign_id) == step.campaign_id, col(Step.position) > step.position)
    await session.execute(update(Step).where(*later).values(position=-(col(Step.position) - 1)))
    await session.execute(
        update(Step)
        .where(col(Step.campaign_id) == step.campaign_id, col(Step.position) < 0)
        .values(position=-col(Step.position))
    )


async def delete_variant(session: AsyncSession, variant: Variant) -> None:
    await session.execute(delete(Variant).where(col(Variant.id) == variant.id))

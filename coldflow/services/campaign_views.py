"""The campaign projection of seed 003 (options, schedule, stats, inboxes), built from the store."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import case, func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from coldflow.models import Campaign, Lead, LeadStatus, SentMessage
from coldflow.models.base import utcnow
from coldflow.schemas.campaigns import (
    CampaignOptions,
    CampaignRead,
    CampaignStats,
    InboxSummary,
    SequenceStats,
    VariantStats,
)
from coldflow.schemas.sequences import SequenceRead, VariantRead
from coldflow.services import analytics
from coldflow.services import sequences as sequence_service
from coldflow.services.analytics import rate
from coldflow.store import campaigns as store
from coldflow.store.leads import FINAL_STATES


async def _headline(session: AsyncSession, campaign_ids: Sequence[str]) -> dict[str, CampaignStats]:
    """One grouped query for all campaigns of a page, not one per campaign."""
    if not campaign_ids:
        return {}
    lead_rows = await session.exec(
        select(  # type: ignore[call-overload]  # sqlmodel types at most four columns
            Lead.campaign_id,
            func.count(),
            func.sum(case((col(Lead.status) != LeadStatus.uncontacted, 1), else_=0)),
            func.sum(case((col(Lead.status) == LeadStatus.replied, 1), else_=0)),
            func.sum(case((col(Lead.is_bounced), 1), else_=0)),
            # Leads an email was tried on: contacted, or refused at RCPT (never contacted).
            func.sum(
                case(
                    ((col(Lead.status) != LeadStatus.uncontacted) | col(Lead.is_bounced), 1),
                    else_=0,
                )
            ),
            func.sum(case((col(Lead.journey_state).in_(FINAL_STATES), 1), else_=0)),
        )
        .where(col(Lead.campaign_id).in_(campaign_ids))
        .group_by(Lead.campaign_id)
    )
    sent_rows = await session.exec(
        select(SentMessage.campaign_id, func.count())
        .where(
            col(SentMessage.campaign_id).in_(campaign_ids), col(SentMessage.sent_at).is_not(None)
        )
        .group_by(SentMessage.campaign_id)
    )
    sent = {str(cid): int(n) for cid, n in sent_rows.all()}
    stats = {cid: CampaignStats() for cid in campaign_ids}
    for cid, leads, contacted, replied, bounced, attempted, finished in lead_rows.all():
        contacted, replied, bounced = int(contacted or 0), int(replied or 0), int(bounced or 0)
        stats[cid] = CampaignStats(
            leads_count=int(leads),
            contacted=contacted,
            replies=replied,
            reply_rate=rate(replied, contacted),
            bounced=bounced,
            bounce_rate=rate(bounced, int(attempted or 0)),
            # Done means the lead's sequence ended (sent out, replied, bounced, stopped).
            progress=round(100 * int(finished or 0) / leads) if leads else 0,
        )
    for cid, count in sent.items():
        stats[cid].sent = count
    positive = await analytics.positive_reply_leads(session, list(campaign_ids))
    for cid, count in positive.items():
        stats[cid].positive_replies = count
        stats[cid].positive_reply_rate = rate(count, stats[cid].contacted)
    return stats


def _variant_stats(variant: VariantRead, numbers: dict[str, tuple[int, int, int]]) -> VariantStats:
    sent, replies, positive = numbers.get(variant.id, (0, 0, 0))
    return VariantStats(
        id=variant.id,
        enabled=variant.enabled,
        sent=sent,
        replies=replies,
        reply_rate=rate(replies, sent),
        positive_replies=positive,
        positive_reply_rate=rate(positive, sent),
    )


async def campaign_views(
    session: AsyncSession,
    campaigns: Sequence[Campaign],
    *,
    detail: bool = False,
    now: datetime | None = None,
) -> list[CampaignRead]:
    """Campaign projections; ``detail`` adds the steps, the daily series and per-variant numbers."""
    headline = await _headline(session, [c.id for c in campaigns])
    views: list[CampaignRead] = []
    for campaign in campaigns:
        steps = await store.list_steps(session, campaign.id)
        inboxes = await store.list_campaign_inboxes(session, campaign.id)
        stats = headline[campaign.id]
        stats.sequence_steps = len(steps)
        sequences: list[SequenceRead] | None = None
        if detail:
            variants = await store.list_variants(session, [s.id for s in steps])
            numbers = await analytics.variant_numbers(session, campaign.id)
            sequences = sequence_service.sequence_reads(steps, variants)
            stats.daily = await analytics.daily_series(session, campaign, now or utcnow())
            stats.sequences = [
                SequenceStats(
                    id=s.id, step=s.step, variants=[_variant_stats(v, numbers) for v in s.variants]
                )
                for s in sequences
            ]
        views.append(
            CampaignRead(
                id=campaign.id,
                name=campaign.name,
                status=campaign.status,
                progress=stats.progress,
                options=CampaignOptions.model_validate(campaign, from_attributes=True),
                schedule=campaign.schedule,
                stats=stats,
                inboxes=[InboxSummary.model_validate(i, from_attributes=True) for i in inboxes],
                sequences=sequences,
                created_at=campaign.created_at,
                updated_at=campaign.updated_at,
            )
        )
    return views

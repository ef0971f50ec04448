"""Workspace totals for ``GET /stats``.

"This month" is the UTC calendar month and "last 30 days" a rolling window ending now: the
workspace has no single timezone (each campaign has its own), so UTC is the only honest choice.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from coldflow.models import CampaignStatus, ConnectionStatus, DomainState, Event
from coldflow.schemas.stats import (
    CampaignCounts,
    DomainCounts,
    InboxCounts,
    RecentActivity,
    WorkspaceStats,
)
from coldflow.store import contacts as contact_store
from coldflow.store import domains as domain_store
from coldflow.store import stats as store


def _month_start(now: datetime) -> datetime:
    return now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


async def workspace_stats(
    *, session: AsyncSession, workspace_id: str, now: datetime
) -> WorkspaceStats:
    campaigns = await store.campaigns_by_status(session, workspace_id)
    inboxes = await store.inboxes_by_status(session, workspace_id)
    domains = await domain_store.domains_by_status(session, workspace_id)
    since = now - timedelta(days=30)
    return WorkspaceStats(
        contacts=await contact_store.count_contacts(session, workspace_id),
        leads=await store.count_leads(session, workspace_id),
        campaigns=CampaignCounts(
            total=sum(campaigns.values()),
            **{s.value: campaigns.get(s.value, 0) for s in CampaignStatus},
        ),
        inboxes=InboxCounts(
            total=sum(inboxes.values()),
            **{s.value: inboxes.get(s.value, 0) for s in ConnectionStatus},
        ),
        domains=DomainCounts(
            total=sum(domains.values()),
            **{s.value: domains.get(s.value, 0) for s in DomainState},
        ),
        emails_this_month=await store.count_sent_since(session, workspace_id, _month_start(now)),
        last_30_days=RecentActivity(
            sent=await store.count_sent_since(session, workspace_id, since),
            replied=await store.count_distinct_since(
                session, workspace_id, "email.replied", col(Event.lead_id), since
            ),
            bounced=await store.count_distinct_since(
                session, workspace_id, "email.bounced", col(Event.email_id), since
            ),
        ),
    )

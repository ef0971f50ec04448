"""Sender-domain rows, and which inboxes send from each."""

from __future__ import annotations

from collections.abc import Collection, Sequence

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from coldflow.models import Inbox, Provider
from coldflow.models.domain import DomainState, SenderDomain
from coldflow.store.paging import PageRequest, PageResult, contains, fetch_page

DOMAIN_SORTS = {
    "domain": col(SenderDomain.name),
    "status": col(SenderDomain.status),
    "created_at": col(SenderDomain.created_at),
    "checked_at": col(SenderDomain.checked_at),
}


def _domain_of(email: str) -> str:
    return email.rpartition("@")[2].lower()


async def list_domains(
    session: AsyncSession, workspace_id: str, request: PageRequest, status: DomainState | None
) -> PageResult[SenderDomain]:
    stmt = select(SenderDomain).where(SenderDomain.workspace_id == workspace_id)
    if status is not None:
        stmt = stmt.where(SenderDomain.status == status)
    if request.search:
        stmt = stmt.where(
            col(SenderDomain.name).ilike(contains(request.search.lower()), escape="\\")
        )
    return await fetch_page(
        session,
        stmt,
        request,
        sortable=DOMAIN_SORTS,
        default_sort="created_at",
        tiebreak=col(SenderDomain.id),
    )


async def get_domain(
    session: AsyncSession, workspace_id: str, domain_id: str
) -> SenderDomain | None:
    stmt = select(SenderDomain).where(
        SenderDomain.id == domain_id, SenderDomain.workspace_id == workspace_id
    )
    return (await session.exec(stmt)).first()


async def find_domain(session: AsyncSession, workspace_id: str, name: str) -> SenderDomain | None:
    stmt = select(SenderDomain).where(
        SenderDomain.workspace_id == workspace_id, SenderDomain.name == name
    )
    return (await session.exec(stmt)).first()


async def inbox_counts(
    session: AsyncSession, workspace_id: str, names: Collection[str]
) -> dict[str, int]:
    """Inboxes per domain name, among ``names``."""
    emails = (
        await session.exec(select(Inbox.email).where(Inbox.workspace_id == workspace_id))
    ).all()
    counts = dict.fromkeys(names, 0)
    for email in emails:
        name = _domain_of(email)
        if name in counts:
            counts[name] += 1
    return counts


async def smtp_host_for(session: AsyncSession, workspace_id: str, name: str) -> str | None:
    """The SMTP host of a (non-sandbox) inbox on the domain: what SPF must authorize."""
    stmt = select(Inbox.smtp_host, Inbox.email).where(
        Inbox.workspace_id == workspace_id, Inbox.provider != Provider.sandbox
    )
    for host, email in (await session.exec(stmt)).all():
        if _domain_of(email) == name and host:
            return str(host)
    return None


async def all_domain_keys(session: AsyncSession) -> Sequence[tuple[str, str]]:
    """(workspace id, domain id) of every domain, for the daily re-check."""
    stmt = select(SenderDomain.workspace_id, SenderDomain.id).order_by(col(SenderDomain.id))
    return (await session.exec(stmt)).all()


async def domains_by_status(session: AsyncSession, workspace_id: str) -> dict[str, int]:
    stmt = (
        select(SenderDomain.status, func.count())
        .where(SenderDomain.workspace_id == workspace_id)
        .group_by(col(SenderDomain.status))
    )
    return {str(status): int(count) for status, count in (await session.exec(stmt)).all()}

"""Contacts, lists and memberships."""

from __future__ import annotations

from collections.abc import Collection, Sequence

from pydantic_core import PydanticUndefined
from sqlalchemy import func, insert, update
from sqlmodel import col, delete, select
from sqlmodel.ext.asyncio.session import AsyncSession

from coldflow.models import (
    SUPPRESSION_RANK,
    BlockKind,
    BlocklistEntry,
    Contact,
    ContactList,
    ContactStatus,
    Lead,
    ListMembership,
)
from coldflow.models.base import utcnow
from coldflow.store.paging import PageRequest, PageResult, contains, fetch_page

CONTACT_SORTS = {
    "email": col(Contact.email),
    "created_at": col(Contact.created_at),
    "status": col(Contact.status),
}
LIST_SORTS = {"name": col(ContactList.name), "created_at": col(ContactList.created_at)}


def _addresses(emails: Collection[str]) -> set[str]:
    return {e.strip().lower() for e in emails}


# --- contacts ------------------------------------------------------------------------------


async def get_contact(session: AsyncSession, workspace_id: str, contact_id: str) -> Contact | None:
    stmt = select(Contact).where(Contact.workspace_id == workspace_id, Contact.id == contact_id)
    return (await session.exec(stmt)).first()


async def find_contacts_by_emails(
    session: AsyncSession, workspace_id: str, emails: Collection[str]
) -> dict[str, Contact]:
    """The workspace's contacts among ``emails``, in one query."""
    if not emails:
        return {}
    stmt = select(Contact).where(
        Contact.workspace_id == workspace_id, col(Contact.email).in_(_addresses(emails))
    )
    return {contact.email: contact for contact in (await session.exec(stmt)).all()}


async def list_contacts(
    session: AsyncSession,
    workspace_id: str,
    request: PageRequest,
    *,
    list_id: str | None = None,
    status: ContactStatus | None = None,
) -> PageResult[Contact]:
    stmt = select(Contact).where(Contact.workspace_id == workspace_id)
    if list_id is not None:
        stmt = stmt.join(ListMembership, col(ListMembership.contact_id) == Contact.id).where(
            ListMembership.list_id == list_id
        )
    if status is not None:
        stmt = stmt.where(Contact.status == status)
    if request.search:
        pattern = contains(request.search.lower())
        stmt = stmt.where(
            col(Contact.email).ilike(pattern, escape="\\")
            | col(Contact.name).ilike(pattern, escape="\\")
        )
    return await fetch_page(
        session,
        stmt,
        request,
        sortable=CONTACT_SORTS,
        default_sort="created_at",
        tiebreak=col(Contact.id),
    )


_CONTACT_DEFAULTS: dict[str, object] = {
    name: field.default
    for name, field in Contact.model_fields.items()
    if field.default is not PydanticUndefined and name != "id"
}


async def insert_contacts(session: AsyncSession, rows: Sequence[dict[str, object]]) -> None:
    """Insert many new contacts at once; columns left out take the model's defaults."""
    if rows:
        await session.exec(insert(Contact), params=[{**_CONTACT_DEFAULTS, **row} for row in rows])


async def count_contacts(session: AsyncSession, workspace_id: str) -> int:
    stmt = select(func.count()).select_from(Contact).where(Contact.workspace_id == workspace_id)
    return int((await session.exec(stmt)).one())


async def suppressed_emails(
    session: AsyncSession, workspace_id: str, emails: Collection[str]
) -> set[str]:
    """Which of ``emails`` (normalised) belong to a contact that is not ``subscribed``."""
    if not emails:
        return set()
    stmt = select(Contact.email).where(
        Contact.workspace_id == workspace_id,
        col(Contact.email).in_(_addresses(emails)),
        Contact.status != ContactStatus.subscribed,
    )
    return set((await session.exec(stmt)).all())


async def raise_status(
    session: AsyncSession, workspace_id: str, email: str, status: ContactStatus
) -> None:
    """Set ``status`` on the address's contact, if any, unless it already has an equal or
    stronger one (``SUPPRESSION_RANK``). One conditional UPDATE, so concurrent marks cannot
    lower a status."""
    weaker = [s for s, rank in SUPPRESSION_RANK.items() if rank < SUPPRESSION_RANK[status]]
    if not weaker:
        return
    stmt = (
        update(Contact)
        .where(
            col(Contact.workspace_id) == workspace_id,
            col(Contact.email) == email.strip().lower(),
            col(Contact.status).in_(weaker),
        )
        .values(status=status, updated_at=utcnow())
    )
    await session.exec(stmt)


async def known_suppressions(
    session: AsyncSession, workspace_id: str, emails: Collection[str], *, unsubscribe_source: str
) -> tuple[set[str], set[str]]:
    """``(unsubscribed, bounced)`` among ``emails``: what the workspace already learnt about
    each address, from its blocklist (entries with ``unsubscribe_source``) and its leads."""
    addresses = _addresses(emails)
    if not addresses:
        return set(), set()
    blocked = select(BlocklistEntry.value).where(
        BlocklistEntry.workspace_id == workspace_id,
        BlocklistEntry.kind == BlockKind.email,
        BlocklistEntry.source == unsubscribe_source,
        col(BlocklistEntry.value).in_(addresses),
    )
    unsubscribed = set((await session.exec(blocked)).all())
    leads = select(Lead.email, Lead.is_unsubscribed, Lead.is_bounced).where(
        Lead.workspace_id == workspace_id,
        col(Lead.email).in_(addresses),
        col(Lead.is_unsubscribed) | col(Lead.is_bounced),
    )
    bounced: set[str] = set()
    for email, is_unsubscribed, is_bounced in (await session.exec(leads)).all():
        if is_unsubscribed:
            unsubscribed.add(email)
        if is_bounced:
            bounced.add(email)
    return unsubscribed, bounced


# --- lists ---------------------------------------------------------------------------------


async def get_list(session: AsyncSession, workspace_id: str, list_id: str) -> ContactList | None:
    stmt = select(ContactList).where(
        ContactList.workspace_id == workspace_id, ContactList.id == list_id
    )
    return (await session.exec(stmt)).first()


async def find_list_by_name(
    session: AsyncSession, workspace_id: str, name: str
) -> ContactList | None:
    stmt = select(ContactList).where(
        ContactList.workspace_id == workspace_id, ContactList.name == name
    )
    return (await session.exec(stmt)).first()


async def list_lists(
    session: AsyncSession, workspace_id: str, request: PageRequest
) -> PageResult[ContactList]:
    stmt = select(ContactList).where(ContactList.workspace_id == workspace_id)
    if request.search:
        stmt = stmt.where(
            col(ContactList.name).ilike(contains(request.search.lower()), escape="\\")
        )
    return await fetch_page(
        session,
        stmt,
        request,
        sortable=LIST_SORTS,
        default_sort="created_at",
        tiebreak=col(ContactList.id),
    )


async def count_members(session: AsyncSession, list_ids: Collection[str]) -> dict[str, int]:
    """Contacts per list, in one grouped query; lists without members are absent."""
    if not list_ids:
        return {}
    stmt = (
        select(ListMembership.list_id, func.count())
        .where(col(ListMembership.list_id).in_(list_ids))
        .group_by(col(ListMembership.list_id))
    )
    return {list_id: int(count) for list_id, count in (await session.exec(stmt)).all()}


# --- memberships ---------------------------------------------------------------------------


async def list_ids_by_contact(
    session: AsyncSession, contact_ids: Collection[str]
) -> dict[str, list[str]]:
    """The lists of each contact, in one query."""
    if not contact_ids:
        return {}
    stmt = (
        select(ListMembership.contact_id, ListMembership.list_id)
        .where(col(ListMembership.contact_id).in_(contact_ids))
        .order_by(col(ListMembership.added_at), col(ListMembership.list_id))
    )
    found: dict[str, list[str]] = {}
    for contact_id, list_id in (await session.exec(stmt)).all():
        found.setdefault(contact_id, []).append(list_id)
    return found


async def add_memberships(
    session: AsyncSession, workspace_id: str, list_id: str, contact_ids: Collection[str]
) -> None:
    """Put the contacts in the list; those already in it stay as they are (one read, one
    multi-row INSERT). A concurrent request adding the same pair loses on the primary key and
    the request is retried by the unit of work."""
    if not contact_ids:
        return
    present = select(ListMembership.contact_id).where(
        ListMembership.list_id == list_id, col(ListMembership.contact_id).in_(contact_ids)
    )
    members = set((await session.exec(present)).all())
    now = utcnow()
    rows = [
        {"list_id": list_id, "contact_id": c, "workspace_id": workspace_id, "added_at": now}
        for c in dict.fromkeys(contact_ids)
        if c not in members
    ]
    if rows:
        await session.exec(insert(ListMembership), params=rows)


async def remove_membership(
    session: AsyncSession, workspace_id: str, list_id: str, contact_id: str
) -> bool:
    """Whether the contact was in the list."""
    stmt = delete(ListMembership).where(
        col(ListMembership.workspace_id) == workspace_id,
        col(ListMembership.list_id) == list_id,
        col(ListMembership.contact_id) == contact_id,
    )
    result = await session.exec(stmt)
    return bool(result.rowcount)


async def contacts_page_for_list(
    session: AsyncSession, list_id: str, after_id: str | None, limit: int
) -> list[Contact]:
    """Up to ``limit`` members of the list after ``after_id``, ordered by id: a keyset a durable
    enrollment can resume from. Every status is returned; callers skip the suppressed ones."""
    stmt = (
        select(Contact)
        .join(ListMembership, col(ListMembership.contact_id) == Contact.id)
        .where(ListMembership.list_id == list_id)
    )
    if after_id is not None:
        stmt = stmt.where(col(Contact.id) > after_id)
    return list((await session.exec(stmt.order_by(col(Contact.id)).limit(limit))).all())

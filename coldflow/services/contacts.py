"""Contact and list use cases: one subscription status per address, shared by every campaign.

A contact's ``status`` follows what the workspace learns about its address. At creation it is
derived: an address unsubscribed before (blocklist entry with source ``unsubscribe``, or a lead
flagged ``is_unsubscribed``) is ``unsubscribed``, one a lead hard-bounced on is ``bounced``.
Afterwards the unsubscribe, hard-bounce and complaint paths call ``mark_address``. A status only
moves up ``SUPPRESSION_RANK`` (subscribed < bounced < unsubscribed < complained) and never back
to ``subscribed``: suppression is permanent in the workspace, as in commercial tools, because
an API key holder cannot give back consent the person withdrew, and a complaint or hard bounce
ignored once costs the sender's reputation for every campaign. A manual blocklist entry (an
address or a domain) blocks sending but is not a subscription status: the contact stays
``subscribed``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sqlmodel.ext.asyncio.session import AsyncSession

from coldflow.errors import Conflict, InvalidInput, NotFound, PayloadTooLarge
from coldflow.ids import new_id
from coldflow.models import SUPPRESSION_RANK, Contact, ContactList, ContactStatus
from coldflow.models.base import utcnow
from coldflow.schemas.contacts import (
    MAX_BATCH,
    ContactCreate,
    ContactIfExists,
    ContactIn,
    ContactRead,
    ContactResult,
    ContactResultStatus,
    ContactUpdate,
    ItemError,
    ListContactsAdd,
    ListContactsAdded,
    ListCreate,
    ListRead,
    ListUpdate,
)
from coldflow.services.journeys import Journeys
from coldflow.services.triggers import UNSUBSCRIBE_SOURCE, unsubscribe_address
from coldflow.store import contacts as store
from coldflow.templates import normalize_name

MAX_VARIABLE_NAME = 100
UNSUBSCRIBING = frozenset({ContactStatus.unsubscribed, ContactStatus.complained})


def normalize_variables(raw: Mapping[str, str]) -> dict[str, str]:
    """Keys under their normalised names (``First Name`` → ``first_name``); a later key wins
    over an earlier one with the same normal form."""
    variables: dict[str, str] = {}
    for key, value in raw.items():
        name = normalize_name(key)
        if not name or len(name) > MAX_VARIABLE_NAME:
            raise InvalidInput.field(
                f"variables.{key}",
                f"a variable name needs a letter or digit and at most {MAX_VARIABLE_NAME} "
                "characters",
                code="INVALID_VARIABLE_NAME",
            )
        variables[name] = value
    return variables


def _stronger(current: ContactStatus, new: ContactStatus) -> ContactStatus:
    return new if SUPPRESSION_RANK[new] > SUPPRESSION_RANK[current] else current


async def _derived_statuses(
    session: AsyncSession, workspace_id: str, emails: Sequence[str]
) -> dict[str, ContactStatus]:
    unsubscribed, bounced = await store.known_suppressions(
        session, workspace_id, emails, unsubscribe_source=UNSUBSCRIBE_SOURCE
    )
    statuses = dict.fromkeys(bounced, ContactStatus.bounced)
    return statuses | dict.fromkeys(unsubscribed, ContactStatus.unsubscribed)


async def mark_address(
    session: AsyncSession, workspace_id: str, email: str, status: ContactStatus
) -> None:
    """Record what coldflow learnt about an address on its contact, if the workspace has one.

    Creates nothing, never lowers a status and never returns one to ``subscribed``: complained
    > unsubscribed > bounced > subscribed (see ``SUPPRESSION_RANK``), so a bounce after an
    unsubscribe keeps the unsubscribe on record. Writes through the caller's unit of work.
    """
    await store.raise_status(session, workspace_id, email, status)


def _failure(index: int, email: str, code: str, field: str, message: str) -> ContactResult:
    return ContactResult(
        index=index,
        email=email,
        status=ContactResultStatus.failed,
        error=ItemError(code=code, field=field, message=message),
    )


async def upsert_items(
    session: AsyncSession,
    workspace_id: str,
    list_id: str | None,
    items: Sequence[tuple[int, ContactIn]],
    if_exists: ContactIfExists,
) -> list[ContactResult]:
    """Create or update contacts and put them all in ``list_id`` (when given; callers check it
    is the workspace's). Independent of HTTP: the batch endpoint and CSV imports share it.

    Every item is checked before anything is written, and a bad item fails alone: an address
    listed twice fails its second item (``DUPLICATE_IN_BATCH``), an unusable variable name fails
    its item (``INVALID_VARIABLE_NAME``). An existing contact joins the list either way;
    ``update`` overwrites the name and variables the item sent. New contacts get their derived
    status. A fixed number of queries per call, whatever its size (multi-row INSERTs).
    """
    emails = [item.email for _, item in items]
    existing = await store.find_contacts_by_emails(session, workspace_id, emails)
    statuses = await _derived_statuses(
        session, workspace_id, [e for e in emails if e not in existing]
    )
    results: list[ContactResult] = []
    seen: set[str] = set()
    members: list[str] = []
    rows: list[dict[str, object]] = []
    now = utcnow()
    for index, item in items:
        email = item.email
        if email in seen:
            results.append(_failure(index, email, "DUPLICATE_IN_BATCH", "email", "listed twice"))
            continue
        try:
            variables = normalize_variables(item.variables)
        except InvalidInput as exc:
            results.append(_failure(index, email, exc.code, exc.details[0]["field"], exc.message))
            continue
        seen.add(email)
        contact = existing.get(email)
        if contact is None:
            contact_id = new_id()
            status = statuses.get(email, ContactStatus.subscribed)
            rows.append(
                {
                    "id": contact_id,
                    "workspace_id": workspace_id,
                    "email": email,
                    "name": item.name,
                    "variables": variables,
                    "status": status,
                    "created_at": now,
                    "updated_at": now,
                }
            )
            outcome = ContactResultStatus.created
        elif if_exists == ContactIfExists.update:
            contact_id = contact.id
            if "name" in item.model_fields_set:
                contact.name = item.name
            if "variables" in item.model_fields_set:
                contact.variables = variables
            contact.updated_at = now
            session.add(contact)
            outcome = ContactResultStatus.updated
        else:
            contact_id, outcome = contact.id, ContactResultStatus.skipped
        members.append(contact_id)
        results.append(
            ContactResult(index=index, email=email, status=outcome, contact_id=contact_id)
        )
    await session.flush()
    await store.insert_contacts(session, rows)
    if list_id is not None:
        await store.add_memberships(session, workspace_id, list_id, members)
    return results


# --- contacts ------------------------------------------------------------------------------


async def get_contact(*, session: AsyncSession, workspace_id: str, contact_id: str) -> Contact:
    contact = await store.get_contact(session, workspace_id, contact_id)
    if contact is None:
        raise NotFound("contact", contact_id)
    return contact


async def create_contact(
    *, session: AsyncSession, workspace_id: str, data: ContactCreate
) -> Contact:
    """One new contact (409 ``CONTACT_EXISTS`` for a known address), its status derived."""
    if data.list_id is not None:
        await get_list(session=session, workspace_id=workspace_id, list_id=data.list_id)
    if await store.find_contacts_by_emails(session, workspace_id, [data.email]):
        message = "The workspace already has a contact with this address"
        raise Conflict(
            message, code="CONTACT_EXISTS", details=[{"field": "email", "message": message}]
        )
    [result] = await upsert_items(
        session, workspace_id, data.list_id, [(0, data)], ContactIfExists.skip
    )
    if result.error is not None:
        raise InvalidInput.field(result.error.field, result.error.message, code=result.error.code)
    assert result.contact_id is not None
    return await get_contact(
        session=session, workspace_id=workspace_id, contact_id=result.contact_id
    )


async def update_contact(
    *,
    session: AsyncSession,
    journeys: Journeys,
    workspace_id: str,
    contact_id: str,
    data: ContactUpdate,
) -> Contact:
    """Change name, variables or status. ``unsubscribed`` and ``complained`` unsubscribe the
    address from the whole workspace exactly as the unsubscribe link does; a contact already
    stronger keeps its status. ``bounced`` is 422 ``CONTACT_STATUS_NOT_SETTABLE`` (coldflow
    sets it from real bounces); back to ``subscribed`` from a suppressed status is 409
    ``CONTACT_SUPPRESSED``."""
    contact = await get_contact(session=session, workspace_id=workspace_id, contact_id=contact_id)
    variables = normalize_variables(data.variables) if data.variables is not None else None
    if data.status == ContactStatus.bounced:
        raise InvalidInput.field(
            "status", "bounced is set by coldflow only", code="CONTACT_STATUS_NOT_SETTABLE"
        )
    if data.status == ContactStatus.subscribed and contact.status != ContactStatus.subscribed:
        message = (
            f"The contact is {contact.status.value}: suppression is permanent in the workspace"
        )
        raise Conflict(
            message, code="CONTACT_SUPPRESSED", details=[{"field": "status", "message": message}]
        )
    if data.name is not None:
        contact.name = data.name
    if variables is not None:
        contact.variables = variables
    if data.status is not None and data.status in UNSUBSCRIBING:
        await unsubscribe_address(
            session=session,
            journeys=journeys,
            workspace_id=workspace_id,
            email=contact.email,
            source="contact",
        )
        contact.status = _stronger(contact.status, data.status)
    contact.updated_at = utcnow()
    session.add(contact)
    await session.flush()
    return contact


async def delete_contact(*, session: AsyncSession, workspace_id: str, contact_id: str) -> None:
    """The contact and its memberships go; a blocklist entry of its unsubscribe stays."""
    contact = await get_contact(session=session, workspace_id=workspace_id, contact_id=contact_id)
    await session.delete(contact)
    await session.flush()


async def contact_views(session: AsyncSession, contacts: Sequence[Contact]) -> list[ContactRead]:
    lists = await store.list_ids_by_contact(session, [c.id for c in contacts])
    return [
        ContactRead(
            id=c.id,
            email=c.email,
            name=c.name,
            variables=c.variables,
            status=c.status,
            list_ids=lists.get(c.id, []),
            created_at=c.created_at,
            updated_at=c.updated_at,
        )
        for c in contacts
    ]


# --- lists ---------------------------------------------------------------------------------


async def get_list(*, session: AsyncSession, workspace_id: str, list_id: str) -> ContactList:
    found = await store.get_list(session, workspace_id, list_id)
    if found is None:
        raise NotFound("list", list_id)
    return found


async def _check_name_free(
    session: AsyncSession, workspace_id: str, name: str, list_id: str | None = None
) -> None:
    other = await store.find_list_by_name(session, workspace_id, name)
    if other is not None and other.id != list_id:
        message = "The workspace already has a list with this name"
        raise Conflict(message, code="LIST_EXISTS", details=[{"field": "name", "message": message}])


async def create_list(*, session: AsyncSession, workspace_id: str, data: ListCreate) -> ContactList:
    await _check_name_free(session, workspace_id, data.name)
    new = ContactList(workspace_id=workspace_id, name=data.name, description=data.description)
    session.add(new)
    await session.flush()
    return new


async def update_list(
    *, session: AsyncSession, workspace_id: str, list_id: str, data: ListUpdate
) -> ContactList:
    found = await get_list(session=session, workspace_id=workspace_id, list_id=list_id)
    if data.name is not None:
        await _check_name_free(session, workspace_id, data.name, list_id)
        found.name = data.name
    if data.description is not None:
        found.description = data.description
    found.updated_at = utcnow()
    session.add(found)
    await session.flush()
    return found


async def delete_list(*, session: AsyncSession, workspace_id: str, list_id: str) -> None:
    """The list and its memberships go; its contacts stay."""
    found = await get_list(session=session, workspace_id=workspace_id, list_id=list_id)
    await session.delete(found)
    await session.flush()


async def add_to_list(
    *, session: AsyncSession, workspace_id: str, list_id: str, data: ListContactsAdd
) -> ListContactsAdded:
    """Add up to 100 contacts to a list, one result per item."""
    if len(data.contacts) > MAX_BATCH:
        raise PayloadTooLarge(
            f"At most {MAX_BATCH} contacts per request",
            code="BATCH_TOO_LARGE",
            details=[{"field": "contacts", "limit": MAX_BATCH, "received": len(data.contacts)}],
        )
    await get_list(session=session, workspace_id=workspace_id, list_id=list_id)
    items = list(enumerate(data.contacts))
    return ListContactsAdded.of(
        await upsert_items(session, workspace_id, list_id, items, data.if_exists)
    )


async def remove_from_list(
    *, session: AsyncSession, workspace_id: str, list_id: str, contact_id: str
) -> None:
    """Take the contact out of the list (404 ``LIST_MEMBER_NOT_FOUND`` if it is not in it)."""
    await get_list(session=session, workspace_id=workspace_id, list_id=list_id)
    if not await store.remove_membership(session, workspace_id, list_id, contact_id):
        raise NotFound("list_member", contact_id)


async def list_views(session: AsyncSession, lists: Sequence[ContactList]) -> list[ListRead]:
    counts = await store.count_members(session, [found.id for found in lists])
    return [
        ListRead(
            id=found.id,
            name=found.name,
            description=found.description,
            contact_count=counts.get(found.id, 0),
            created_at=found.created_at,
            updated_at=found.updated_at,
        )
        for found in lists
    ]

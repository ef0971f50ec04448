"""Imports that involve contact lists, on the same durable machinery as CSV lead imports.

* A list enrolled into a campaign (``POST /campaigns/{id}/leads`` with ``list_id``, or a
  campaign created with ``list_id``): its contacts become leads with their variables, page by
  page in id order; the last contact id of each committed page is the cursor a retried
  activity resumes from, so each contact becomes a lead (and a journey) exactly once.
  Suppressed contacts (unsubscribed, bounced, complained) fail with ``LEAD_SUPPRESSED``.
* A CSV imported into a list (``POST /lists/{id}/contacts/import``): rows become contacts
  through the same core as the batch endpoint.

Both keep their progress in a ``lead_imports`` row (``kind`` says which) that the API reads.
"""

from __future__ import annotations

from pydantic import ValidationError
from sqlmodel.ext.asyncio.session import AsyncSession

from coldflow.errors import InvalidInput, NotFound, PayloadTooLarge
from coldflow.models import Contact, ImportKind, LeadImport
from coldflow.schemas.contacts import ContactIfExists, ContactIn, ContactResultStatus
from coldflow.schemas.leads import IfExists, LeadIn
from coldflow.services import contacts as contact_service
from coldflow.services import lead_imports
from coldflow.services.campaigns import get_campaign
from coldflow.services.journeys import Journeys
from coldflow.store import contacts as contact_store

NAME_COLUMNS = ("name", "first_name", "last_name")


async def _list_in_body(session: AsyncSession, workspace_id: str, list_id: str) -> str:
    """A list named in a request body: unknown (or another workspace's) is a 422 on the field."""
    found = await contact_store.get_list(session, workspace_id, list_id)
    if found is None:
        raise InvalidInput.field("list_id", f"List {list_id} not found", code="LIST_NOT_FOUND")
    return found.id


async def enroll_list(
    *,
    session: AsyncSession,
    journeys: Journeys,
    workspace_id: str,
    campaign_id: str,
    list_id: str,
    if_exists: IfExists,
) -> LeadImport:
    """Start turning the list's contacts into the campaign's leads, in the background."""
    campaign = await get_campaign(
        session=session, workspace_id=workspace_id, campaign_id=campaign_id
    )
    found = await _list_in_body(session, workspace_id, list_id)
    members = await contact_store.count_members(session, [found])
    record = LeadImport(
        workspace_id=workspace_id,
        kind=ImportKind.list_enrollment,
        campaign_id=campaign.id,
        list_id=found,
        filename=f"list:{found}",
        if_exists=if_exists.value,
        total_rows=members.get(found, 0),
    )
    await lead_imports.queue_import(session, journeys, record)
    return record


async def import_contacts(
    *,
    session: AsyncSession,
    journeys: Journeys,
    workspace_id: str,
    list_id: str,
    filename: str,
    content: bytes,
    if_exists: ContactIfExists,
    max_bytes: int,
) -> LeadImport:
    """Store a CSV of contacts for the list and start its import (header: ``email``, ``name``
    or ``first_name``/``last_name``; every other column becomes a variable)."""
    found = await contact_service.get_list(
        session=session, workspace_id=workspace_id, list_id=list_id
    )
    if len(content) > max_bytes:
        raise PayloadTooLarge(f"The file is over {max_bytes} bytes", code="FILE_TOO_LARGE")
    lead_imports.read_rows(content)  # header problems answered now, with a 422
    record = LeadImport(
        workspace_id=workspace_id,
        kind=ImportKind.csv_contacts,
        list_id=found.id,
        filename=filename[:255],
        if_exists=if_exists.value,
        content=content,
    )
    await lead_imports.queue_import(session, journeys, record)
    return record


async def get_list_import(
    *, session: AsyncSession, workspace_id: str, list_id: str, import_id: str
) -> LeadImport:
    record = await session.get(LeadImport, import_id)
    if record is None or record.workspace_id != workspace_id or record.list_id != list_id:
        raise NotFound("import", import_id)
    if record.kind != ImportKind.csv_contacts:
        raise NotFound("import", import_id)
    return record


# --- the activity's side ------------------------------------------------------------------------


def contact_to_lead(contact: Contact) -> LeadIn:
    """A contact as a lead: ``name`` split at its first space, variables kept."""
    first, _, last = contact.name.strip().partition(" ")
    return LeadIn.model_validate(
        {
            "email": contact.email,
            "first_name": first,
            "last_name": last.strip(),
            "variables": contact.variables,
        }
    )


async def enroll_page(
    session: AsyncSession, journeys: Journeys, record: LeadImport, page_size: int
) -> bool:
    """Turn the next page of the list into leads and move the cursor, in the caller's
    transaction; False when the list has no contacts left."""
    contacts = await contact_store.contacts_page_for_list(
        session, record.list_id or "", record.cursor, page_size
    )
    if not contacts:
        return False
    first = record.processed_rows + 1
    items = [(first + n, contact_to_lead(c)) for n, c in enumerate(contacts)]
    chunk = lead_imports.Chunk(items=items, errors=[], rows=len(contacts))
    await lead_imports.apply_chunk(session, journeys, record, chunk)
    record.cursor = contacts[-1].id
    return True


def row_to_contact(row: dict[str, str]) -> ContactIn:
    """``name`` (or first and last name) and ``email``; other columns become variables."""
    name = row.get("name") or " ".join(
        p.strip() for p in (row.get("first_name", ""), row.get("last_name", "")) if p.strip()
    )
    variables = {k: v for k, v in row.items() if k and k not in (*NAME_COLUMNS, "email")}
    return ContactIn.model_validate(
        {"email": row.get("email", "").strip(), "name": name.strip(), "variables": variables}
    )


async def apply_contact_rows(
    session: AsyncSession, record: LeadImport, rows: list[tuple[int, dict[str, str]]]
) -> None:
    """Upsert one chunk of CSV rows into the list and advance the counters. A repeated
    address is skipped, as in lead imports (spreadsheets repeat rows); its first row counts."""
    items: list[tuple[int, ContactIn]] = []
    errors: list[dict[str, object]] = []
    seen: set[str] = set()
    repeats = 0
    for line, row in rows:
        try:
            item = row_to_contact(row)
        except ValidationError as exc:
            errors.append(lead_imports.row_error(line, row, exc))
            continue
        if item.email in seen:
            repeats += 1
            continue
        seen.add(item.email)
        items.append((line, item))
    results = await contact_service.upsert_items(
        session, record.workspace_id, record.list_id, items, ContactIfExists(record.if_exists)
    )
    for result in results:
        if result.status == ContactResultStatus.failed and result.error is not None:
            errors.append({"row": result.index, "email": result.email, **result.error.model_dump()})
    lead_imports.count_chunk(
        record,
        created=sum(r.status == ContactResultStatus.created for r in results),
        updated=sum(r.status == ContactResultStatus.updated for r in results),
        skipped=repeats + sum(r.status == ContactResultStatus.skipped for r in results),
        errors=errors,
        rows=len(rows),
    )
    session.add(record)

"""CSV lead imports: accept the upload, process it in chunks from an activity, report progress.

The header row maps ``email``, ``first_name``, ``last_name``, ``company`` and ``timezone`` (names
normalised, so ``First Name`` works); every other column becomes a variable. Rows go through the
same batch core as the API (``leads.upsert_items``), so an import and a POST behave alike.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass

from pydantic import ValidationError
from sqlmodel.ext.asyncio.session import AsyncSession

from coldflow.contracts.imports import LEAD_IMPORT_WORKFLOW, LeadImportInput
from coldflow.errors import InvalidInput, NotFound, PayloadTooLarge
from coldflow.models import ImportKind, ImportStatus, LeadImport
from coldflow.models.base import utcnow
from coldflow.schemas.leads import IfExists, LeadIn, LeadResultStatus
from coldflow.services import leads as lead_service
from coldflow.services.campaigns import get_campaign
from coldflow.services.journeys import Journeys
from coldflow.store import leads as lead_store
from coldflow.store.db import after_commit
from coldflow.store.paging import PageRequest, PageResult
from coldflow.templates import normalize_name

CHUNK_ROWS = 500
MAX_KEPT_ERRORS = 1000
KNOWN_COLUMNS = ("email", "first_name", "last_name", "company", "timezone")
ALIASES = {"email_address": "email", "e_mail": "email", "company_name": "company"}


def import_workflow_id(import_id: str) -> str:
    return f"lead-import/{import_id}"


def _header(raw: list[str]) -> list[str]:
    names = [ALIASES.get(normalize_name(h), normalize_name(h)) for h in raw]
    if "email" not in names:
        raise InvalidInput.field("file", "the header row has no email column", code="CSV_NO_EMAIL")
    return names


def _decode(content: bytes) -> str:
    """UTF-8 with or without a BOM (spreadsheets add one), else Latin-1 rather than failing."""
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError:
        return content.decode("latin-1")


def read_rows(content: bytes) -> tuple[list[str], Iterator[tuple[int, dict[str, str]]]]:
    """The normalised header and an iterator of (1-based line number, row) pairs."""
    reader = csv.reader(io.StringIO(_decode(content)))
    try:
        header = _header(next(reader))
    except StopIteration:
        raise InvalidInput.field("file", "the file is empty", code="CSV_EMPTY") from None

    def rows() -> Iterator[tuple[int, dict[str, str]]]:
        for line, values in enumerate(reader, start=2):
            if not any(v.strip() for v in values):
                continue
            yield line, dict(zip(header, values, strict=False))

    return header, rows()


def row_to_lead(row: dict[str, str]) -> LeadIn:
    """Known columns become fields; the rest variables. Raises ValidationError."""
    fields = {k: v.strip() for k, v in row.items() if k in KNOWN_COLUMNS}
    variables = {k: v for k, v in row.items() if k not in KNOWN_COLUMNS and k}
    if not fields.get("timezone"):
        fields.pop("timezone", None)
    return LeadIn.model_validate({**fields, "variables": variables})


async def create_import(
    *,
    session: AsyncSession,
    journeys: Journeys,
    workspace_id: str,
    campaign_id: str,
    filename: str,
    content: bytes,
    if_exists: IfExists,
    max_bytes: int,
) -> LeadImport:
    """Store the upload and start its import workflow once committed."""
    campaign = await get_campaign(
        session=session, workspace_id=workspace_id, campaign_id=campaign_id
    )
    if len(content) > max_bytes:
        raise PayloadTooLarge(f"The file is over {max_bytes} bytes", code="FILE_TOO_LARGE")
    read_rows(content)  # header problems are the caller's, answered now with a 422
    record = LeadImport(
        workspace_id=workspace_id,
        campaign_id=campaign.id,
        filename=filename[:255],
        if_exists=if_exists.value,
        content=content,
    )
    await queue_import(session, journeys, record)
    return record


async def queue_import(session: AsyncSession, journeys: Journeys, record: LeadImport) -> None:
    """Store an import of any kind and start its workflow once the request has committed."""
    session.add(record)
    await session.flush()
    inp = LeadImportInput(workspace_id=record.workspace_id, import_id=record.id)

    async def start() -> None:
        await journeys.start_task(
            LEAD_IMPORT_WORKFLOW, inp, workflow_id=import_workflow_id(record.id)
        )

    after_commit(session, start)


async def get_import(
    *, session: AsyncSession, workspace_id: str, campaign_id: str, import_id: str
) -> LeadImport:
    record = await session.get(LeadImport, import_id)
    if record is None or record.workspace_id != workspace_id or record.campaign_id != campaign_id:
        raise NotFound("import", import_id)
    if record.kind == ImportKind.csv_contacts:  # a list's import, shown under /lists
        raise NotFound("import", import_id)
    return record


async def list_imports(
    *, session: AsyncSession, workspace_id: str, campaign_id: str, request: PageRequest
) -> PageResult[LeadImport]:
    campaign = await get_campaign(
        session=session, workspace_id=workspace_id, campaign_id=campaign_id
    )
    return await lead_store.list_imports(session, campaign.id, request)


@dataclass
class Chunk:
    """Rows parsed for one transaction; ``line`` numbers are the file's (header is line 1)."""

    items: list[tuple[int, LeadIn]]
    errors: list[dict[str, object]]
    rows: int


def row_error(line: int, row: dict[str, str], exc: ValidationError) -> dict[str, object]:
    """A row that does not parse, as the import's ``errors`` list shows it."""
    first = exc.errors()[0]
    return {
        "row": line,
        "email": row.get("email", ""),
        "code": "INVALID_ROW",
        "field": ".".join(str(p) for p in first["loc"]) or "row",
        "message": first["msg"],
    }


def parse_chunk(rows: list[tuple[int, dict[str, str]]]) -> Chunk:
    items: list[tuple[int, LeadIn]] = []
    errors: list[dict[str, object]] = []
    for line, row in rows:
        try:
            items.append((line, row_to_lead(row)))
        except ValidationError as exc:
            errors.append(row_error(line, row, exc))
    return Chunk(items=items, errors=errors, rows=len(rows))


def count_chunk(
    record: LeadImport,
    *,
    created: int,
    updated: int,
    skipped: int,
    errors: list[dict[str, object]],
    rows: int,
) -> None:
    """Advance an import's counters by one committed chunk; keep the first errors, by row."""
    record.created += created
    record.updated += updated
    record.skipped += skipped
    record.failed += len(errors)
    room = MAX_KEPT_ERRORS - len(record.errors)
    if room > 0 and errors:
        record.errors = [*record.errors, *sorted(errors, key=lambda e: int(str(e["row"])))[:room]]
    record.processed_rows += rows
    record.status = ImportStatus.running
    record.updated_at = utcnow()


async def apply_chunk(
    session: AsyncSession, journeys: Journeys, record: LeadImport, chunk: Chunk
) -> None:
    """Upsert one chunk's leads and advance the import's counters, in the caller's transaction."""
    campaign = await get_campaign(
        session=session, workspace_id=record.workspace_id, campaign_id=record.campaign_id or ""
    )
    outcome = await lead_service.upsert_items(
        session, campaign, chunk.items, IfExists(record.if_exists), skip_repeats=True
    )
    lead_service.enroll_after_commit(session, journeys, campaign, outcome.started)
    errors = list(chunk.errors)
    for result in outcome.results:
        if result.status == LeadResultStatus.failed and result.error is not None:
            errors.append({"row": result.index, "email": result.email, **result.error})
    counts = outcome.counts()
    count_chunk(
        record,
        created=counts[LeadResultStatus.created],
        updated=counts[LeadResultStatus.updated],
        skipped=counts[LeadResultStatus.skipped],
        errors=errors,
        rows=chunk.rows,
    )
    session.add(record)


def finish(record: LeadImport, *, error: str | None = None) -> None:
    record.status = ImportStatus.failed if error else ImportStatus.completed
    record.error = error
    record.content = None  # the file is not kept once imported
    record.finished_at = record.updated_at = utcnow()

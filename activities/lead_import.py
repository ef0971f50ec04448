"""The import activity (CSV into leads or contacts, a list into leads): in chunks, one
transaction and heartbeat each."""

from __future__ import annotations

from itertools import islice

from temporalio import activity

from coldflow.contracts.imports import IMPORT_LEADS_ACTIVITY, LeadImportInput, LeadImportResult
from coldflow.models import ImportKind, ImportStatus, LeadImport
from coldflow.services import lead_imports as service
from coldflow.services import list_imports
from coldflow.services.journeys import Journeys
from coldflow.store.db import SessionFactory, unit_of_work


class ImportActivities:
    def __init__(self, sessions: SessionFactory, journeys: Journeys) -> None:
        self.sessions = sessions
        self.journeys = journeys

    @activity.defn(name=IMPORT_LEADS_ACTIVITY)
    async def import_leads(self, inp: LeadImportInput) -> LeadImportResult:
        """One import of any kind; each chunk commits with its progress and heartbeats."""
        async with unit_of_work(self.sessions) as session:
            record = await session.get(LeadImport, inp.import_id)
            kind = record.kind if record is not None else None
        if kind == ImportKind.list_enrollment:
            return await self._enroll_list(inp)
        return await self._import_csv(inp)

    async def _import_csv(self, inp: LeadImportInput) -> LeadImportResult:
        async with unit_of_work(self.sessions) as session:
            record = await session.get(LeadImport, inp.import_id)
            if record is None or record.content is None:
                return self._result(record)
            content, done = record.content, record.processed_rows
            _, rows = service.read_rows(content)
            if record.total_rows == 0:
                record.total_rows = sum(1 for _ in service.read_rows(content)[1])
                session.add(record)
        for _ in islice(rows, done):  # resume: skip what earlier attempts committed
            pass
        while chunk_rows := list(islice(rows, service.CHUNK_ROWS)):
            async with unit_of_work(self.sessions) as session:
                record = await session.get(LeadImport, inp.import_id)
                if record is None:
                    return self._result(None)
                if record.kind == ImportKind.csv_contacts:
                    await list_imports.apply_contact_rows(session, record, chunk_rows)
                else:
                    chunk = service.parse_chunk(chunk_rows)
                    await service.apply_chunk(session, self.journeys, record, chunk)
            activity.heartbeat(record.processed_rows)
        return await self._finish(inp)

    async def _enroll_list(self, inp: LeadImportInput) -> LeadImportResult:
        while True:
            async with unit_of_work(self.sessions) as session:
                record = await session.get(LeadImport, inp.import_id)
                if record is None:
                    return self._result(None)
                if record.status in (ImportStatus.completed, ImportStatus.failed):
                    return self._result(record)
                more = await list_imports.enroll_page(
                    session, self.journeys, record, service.CHUNK_ROWS
                )
            if not more:
                return await self._finish(inp)
            activity.heartbeat(record.processed_rows)

    async def _finish(self, inp: LeadImportInput) -> LeadImportResult:
        async with unit_of_work(self.sessions) as session:
            record = await session.get(LeadImport, inp.import_id)
            if record is not None:
                service.finish(record)
                session.add(record)
        return self._result(record)

    @staticmethod
    def _result(record: LeadImport | None) -> LeadImportResult:
        if record is None:
            return LeadImportResult(status="deleted", processed_rows=0, created=0, failed=0)
        return LeadImportResult(
            status=record.status.value,
            processed_rows=record.processed_rows,
            created=record.created,
            failed=record.failed,
        )

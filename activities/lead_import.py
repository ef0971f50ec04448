"""The CSV import activity: parse and upsert in chunks, one transaction and heartbeat each."""

from __future__ import annotations

from itertools import islice

from temporalio import activity

from coldflow.contracts.imports import IMPORT_LEADS_ACTIVITY, LeadImportInput, LeadImportResult
from coldflow.models import LeadImport
from coldflow.services import lead_imports as service
from coldflow.services.journeys import Journeys
from coldflow.store.db import SessionFactory, unit_of_work


class ImportActivities:
    def __init__(self, sessions: SessionFactory, journeys: Journeys) -> None:
        self.sessions = sessions
        self.journeys = journeys

    @activity.defn(name=IMPORT_LEADS_ACTIVITY)
    async def import_leads(self, inp: LeadImportInput) -> LeadImportResult:
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
            chunk = service.parse_chunk(chunk_rows)
            async with unit_of_work(self.sessions) as session:
                record = await session.get(LeadImport, inp.import_id)
                if record is None:
                    return self._result(None)
                await service.apply_chunk(session, self.journeys, record, chunk)
            activity.heartbeat(record.processed_rows)
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

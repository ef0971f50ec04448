"""The activation fan-out activity: start the journeys of a campaign's leads, page by page."""

from __future__ import annotations

import asyncio

from temporalio import activity

from coldflow.contracts.campaigns import ENROLL_LEADS_ACTIVITY, EnrollmentInput, EnrollmentResult
from coldflow.services import campaigns as campaign_service
from coldflow.services.journeys import Enrollment, Journeys
from coldflow.store.db import SessionFactory

PAGE = 500
PARALLEL_STARTS = 20


class EnrollmentActivities:
    def __init__(self, sessions: SessionFactory, journeys: Journeys) -> None:
        self.sessions = sessions
        self.journeys = journeys

    @activity.defn(name=ENROLL_LEADS_ACTIVITY)
    async def enroll_leads(self, inp: EnrollmentInput) -> EnrollmentResult:
        """Start a journey for every lead not yet started while the campaign stays active."""
        after = (
            str(activity.info().heartbeat_details[0]) if activity.info().heartbeat_details else ""
        )
        started = 0
        gate = asyncio.Semaphore(PARALLEL_STARTS)

        async def start(enrollment: Enrollment) -> None:
            async with gate:
                await self.journeys.enroll(enrollment)

        while True:
            async with self.sessions() as session:
                page = await campaign_service.unstarted_enrollments(
                    session=session,
                    workspace_id=inp.workspace_id,
                    campaign_id=inp.campaign_id,
                    after_lead_id=after,
                    limit=PAGE,
                )
            if page is None:
                return EnrollmentResult(started=started, stopped_early=True)
            if not page:
                return EnrollmentResult(started=started)
            await asyncio.gather(*(start(e) for e in page))
            started += len(page)
            after = page[-1].lead_id
            activity.heartbeat(after)

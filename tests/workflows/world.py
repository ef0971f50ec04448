"""A small world for journey tests: a database, a worker on a time-skipping server, builders.

Rows are written straight through the models (campaign, steps, variants, inboxes, leads) so each
test states exactly the campaign it needs; journeys are started the way the API starts them,
through ``coldflow.services.journeys``.

Time: the time-skipping server's clock starts at the real "now" and only moves forward. A test
that needs a particular moment (a Friday 18:00 in New York, the week of a DST change) computes it
from ``await world.now()`` and skips there with ``world.sleep_until`` before it enrols the lead.
While the test neither sleeps nor awaits a workflow result, the server's clock runs at real speed.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import col, select
from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from activities.sending import SendingActivities
from coldflow.config import Settings
from coldflow.crypto import SecretBox, generate_key
from coldflow.ids import journey_workflow_id
from coldflow.links import Links
from coldflow.models import (
    Campaign,
    CampaignInbox,
    CampaignStatus,
    ConnectionStatus,
    Event,
    Inbox,
    Lead,
    Provider,
    SentMessage,
    Step,
    StepCondition,
    TransportSecurity,
    Variant,
)
from coldflow.services import workspaces as workspace_service
from coldflow.services.inboxes import Credentials
from coldflow.services.journeys import Enrollment, Journeys
from coldflow.store.db import SessionFactory, create_engine, session_factory, unit_of_work
from tests.fixtures.smtp import SmtpServer
from worker import build_worker

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def schedule(
    zone: str,
    *,
    days: Sequence[str] = WEEKDAYS[:5],
    start: str = "09:00",
    end: str = "17:00",
) -> dict[str, Any]:
    """A seed 003 schedule document: ``days`` enabled with one window, the others disabled."""
    return {
        "timezone": zone,
        "default_window": {"start": start, "end": end},
        "days": {d: {"enabled": d in days, "start": None, "end": None} for d in WEEKDAYS},
    }


def next_local(after: datetime, zone: str, weekday: int, hh: int, mm: int = 0) -> datetime:
    """The first local ``weekday`` (0 = Monday) at hh:mm in ``zone`` strictly after ``after``."""
    tz = ZoneInfo(zone)
    day = after.astimezone(tz).date()
    while True:
        candidate = datetime(day.year, day.month, day.day, hh, mm, tzinfo=tz)
        if candidate.weekday() == weekday and candidate > after:
            return candidate
        day += timedelta(days=1)


def local(at: datetime, zone: str) -> datetime:
    return at.astimezone(ZoneInfo(zone))


@dataclass(frozen=True)
class VariantSpec:
    label: str
    subject: str
    body: str
    weight: int = 100


@dataclass(frozen=True)
class StepSpec:
    """One step; ``delay_days`` is the wait *after* it (coldflow's convention)."""

    subject: str
    body: str
    delay_days: int | None = None
    variants: tuple[VariantSpec, ...] = ()
    condition: StepCondition = StepCondition.not_replied


@dataclass
class World:
    env: WorkflowEnvironment
    sessions: SessionFactory
    box: SecretBox
    journeys: Journeys
    smtp: SmtpServer
    workspace_id: str
    task_queue: str
    activities: SendingActivities
    handles: dict[str, WorkflowHandle[Any, Any]] = field(default_factory=dict)

    # -- time -------------------------------------------------------------------------------
    async def now(self) -> datetime:
        return await self.env.get_current_time()

    async def sleep_until(self, instant: datetime) -> None:
        delta = instant - await self.now()
        if delta > timedelta(0):
            await self.env.sleep(delta)

    async def result(
        self, handle: WorkflowHandle[Any, Any], timeout: float = 60.0, *, skip_time: bool = True
    ) -> Any:
        """The journey's result, skipping time while waiting (as a started handle would).

        Handles from ``get_workflow_handle`` lack the time-skipping env's auto-unlock, so it is
        done here; the bound keeps a stuck journey from hanging the test. Never await several
        of these at once with ``skip_time``: the test server's lock counter refuses to go below
        zero. The server ends a long poll after about 20 s with no event, which the SDK reports
        as "No completion event found": that only means "not yet".
        """
        deadline = time.monotonic() + timeout
        async with contextlib.AsyncExitStack() as stack:
            if skip_time:
                await stack.enter_async_context(self.env.time_skipping_unlocked())  # type: ignore[attr-defined]
            while True:
                try:
                    return await asyncio.wait_for(handle.result(), deadline - time.monotonic())
                except RuntimeError as exc:
                    if "No completion event" not in str(exc) or time.monotonic() > deadline:
                        raise

    # -- builders ---------------------------------------------------------------------------
    async def inbox(
        self,
        email: str = "alex@sender.example.com",
        *,
        daily_limit: int = 50,
        password: str = "secret-password",
        signature: str = "",
        reply_to: str | None = None,
        provider: Provider = Provider.other,
    ) -> Inbox:
        async with unit_of_work(self.sessions) as session:
            inbox = Inbox(
                workspace_id=self.workspace_id,
                email=email,
                first_name="Alex",
                last_name="Sender",
                smtp_host=self.smtp.host,
                smtp_port=self.smtp.port,
                smtp_username=email,
                smtp_security=TransportSecurity.none,
                credentials=Credentials(smtp_password=password).seal(self.box),
                connection_status=ConnectionStatus.connected,
                daily_campaign_limit=daily_limit,
                signature=signature,
                reply_to=reply_to,
                provider=provider,
            )
            session.add(inbox)
        return inbox

    async def campaign(
        self,
        steps: Sequence[StepSpec],
        *,
        inboxes: Sequence[Inbox],
        sched: dict[str, Any],
        daily_limit: int = 50,
        **options: Any,
    ) -> Campaign:
        async with unit_of_work(self.sessions) as session:
            campaign = Campaign(
                workspace_id=self.workspace_id,
                name="Journey test",
                status=CampaignStatus.active,
                daily_limit=daily_limit,
                schedule=sched,
                **options,
            )
            session.add(campaign)
            await session.flush()
            for position, spec in enumerate(steps, start=1):
                step = Step(
                    campaign_id=campaign.id,
                    position=position,
                    delay_days=spec.delay_days,
                    condition=spec.condition,
                )
                session.add(step)
                await session.flush()
                variants = spec.variants or (VariantSpec("A", spec.subject, spec.body),)
                for v in variants:
                    session.add(
                        Variant(
                            step_id=step.id,
                            label=v.label,
                            subject=v.subject,
                            body=v.body,
                            weight=v.weight,
                        )
                    )
            for inbox in inboxes:
                session.add(CampaignInbox(campaign_id=campaign.id, inbox_id=inbox.id))
        return campaign

    async def lead(
        self,
        campaign: Campaign,
        email: str = "sarah@lead.example.com",
        *,
        lead_id: str | None = None,
        first_name: str = "Sarah",
        company: str = "Acme Corp",
        timezone: str | None = None,
        variables: dict[str, str] | None = None,
    ) -> Lead:
        async with unit_of_work(self.sessions) as session:
            lead = Lead(
                workspace_id=self.workspace_id,
                campaign_id=campaign.id,
                email=email,
                first_name=first_name,
                company=company,
                company_domain=email.rpartition("@")[2],
                timezone=timezone,
                variables=variables or {},
            )
            if lead_id is not None:
                lead.id = lead_id
            session.add(lead)
        return lead

    async def enroll(self, campaign: Campaign, lead: Lead) -> WorkflowHandle[Any, Any]:
        await self.journeys.enroll(Enrollment(self.workspace_id, campaign.id, lead.id, lead.email))
        handle = self.env.client.get_workflow_handle(journey_workflow_id(campaign.id, lead.id))
        self.handles[lead.id] = handle
        return handle

    # -- reading back -----------------------------------------------------------------------
    async def get(self, model: type[Any], row_id: str) -> Any:
        async with unit_of_work(self.sessions) as session:
            return await session.get(model, row_id)

    async def rows(self, stmt: Any) -> list[Any]:
        async with unit_of_work(self.sessions) as session:
            return list((await session.exec(stmt)).all())

    async def sent(self, campaign_id: str) -> list[SentMessage]:
        async with unit_of_work(self.sessions) as session:
            stmt = (
                select(SentMessage)
                .where(SentMessage.campaign_id == campaign_id)
                .order_by(col(SentMessage.reserved_at))
            )
            return list((await session.exec(stmt)).all())

    async def events(self, campaign_id: str) -> list[Event]:
        async with unit_of_work(self.sessions) as session:
            stmt = (
                select(Event)
                .where(Event.campaign_id == campaign_id)
                .order_by(col(Event.occurred_at), col(Event.id))
            )
            return list((await session.exec(stmt)).all())

    async def wait_lead(
        self, lead_id: str, state: str, *, timeout: float = 20.0, step: int | None = None
    ) -> Lead:
        """Wait (in real time) until the lead row mirrors ``state`` (and ``step``, if given)."""
        deadline = time.monotonic() + timeout
        while True:
            lead: Lead | None = await self.get(Lead, lead_id)
            assert lead is not None
            if lead.journey_state == state and (step is None or lead.current_step == step):
                return lead
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"lead {lead.email} is {lead.journey_state} at step {lead.current_step} "
                    f"({lead.hold_reason}), expected {state}"
                )
            await asyncio.sleep(0.05)


async def _no_temporal() -> Any:
    raise AssertionError("this world has no Temporal server")


@contextlib.asynccontextmanager
async def open_world(
    env: WorkflowEnvironment | None, database_url: str, smtp: SmtpServer, data_dir: Path
) -> AsyncIterator[World]:
    """A workspace in a migrated database, and a running worker that fails workflows on bugs.

    Without ``env`` there is no Temporal at all: for tests that call the activities directly.
    """
    secret = generate_key()
    settings = Settings(
        env="test",
        data_dir=data_dir,
        database_url=database_url,
        task_queue=f"journey-{uuid.uuid4().hex[:12]}",
        secret_key=secret,
        # https, so RFC 8058's one-click header is sent (it is only allowed over HTTPS).
        public_url="https://coldflow.example.com",
        smtp_timeout_seconds=10.0,
    )
    engine = create_engine(database_url)
    sessions = session_factory(engine)
    async with unit_of_work(sessions) as session:
        workspace = await workspace_service.create_workspace(session=session, name="acme")
    world = World(
        env=env,  # type: ignore[arg-type]
        sessions=sessions,
        box=SecretBox(secret),
        journeys=Journeys(
            env.client if env else _no_temporal,
            task_queue=settings.task_queue,
            namespace="default",
        ),
        smtp=smtp,
        workspace_id=workspace.id,
        task_queue=settings.task_queue,
        # The worker's activities, callable directly (ActivityEnvironment) to act out a
        # retry of a send.
        activities=SendingActivities(
            sessions, SecretBox(secret), Links(settings.resolved_public_url, secret)
        ),
    )
    try:
        if env is None:
            yield world
        else:
            worker_context = build_worker(
                settings, env.client, workflow_failure_exception_types=[Exception]
            )
            async with worker_context as worker, worker:
                yield world
    finally:
        await engine.dispose()


def local_days(sent: Sequence[SentMessage]) -> dict[date, int]:
    counts: dict[date, int] = {}
    for row in sent:
        day = date.fromisoformat(row.local_day)
        counts[day] = counts.get(day, 0) + 1
    return dict(sorted(counts.items()))

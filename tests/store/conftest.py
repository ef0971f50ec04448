"""Engine, sessions and a row builder on ``store_url``, shared by every store test.

Each test gets its own database from ``store_url`` (once on SQLite, once on PostgreSQL); the
builder writes through the services, each call in its own committed unit of work, so the rows
are visible to every session a test opens afterwards.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import Client

from coldflow.crypto import SecretBox, generate_key
from coldflow.models import Campaign, Inbox, Lead, Workspace
from coldflow.schemas.campaigns import CampaignCreate, InlineStep
from coldflow.schemas.inboxes import InboxCreate
from coldflow.schemas.leads import LeadIn, LeadsCreate
from coldflow.services import campaigns as campaign_service
from coldflow.services import inboxes as inbox_service
from coldflow.services import leads as lead_service
from coldflow.services import workspaces as workspace_service
from coldflow.services.journeys import Journeys
from coldflow.store import leads as lead_store
from coldflow.store.db import SessionFactory, create_engine, session_factory, unit_of_work


async def _no_temporal() -> Client:
    # Draft campaigns never enrol, so a store test that reaches Temporal is itself a bug.
    raise AssertionError("store tests never talk to Temporal")


@dataclass(frozen=True)
class Seeder:
    """Creates rows the way the API does, one committed unit of work per call."""

    sessions: SessionFactory
    box: SecretBox
    journeys: Journeys

    async def workspace(self, name: str) -> Workspace:
        async with unit_of_work(self.sessions) as session:
            return await workspace_service.create_workspace(session=session, name=name)

    async def campaign(
        self,
        workspace_id: str,
        name: str = "Q2 outreach",
        *,
        steps: int = 1,
        inbox_ids: Sequence[str] = (),
    ) -> Campaign:
        data = CampaignCreate(
            name=name,
            sequences=[
                InlineStep(step=n, delay_days=0 if n == 1 else 2, subject=f"Step {n}")
                for n in range(1, steps + 1)
            ],
            inbox_ids=list(inbox_ids) or None,
        )
        async with unit_of_work(self.sessions) as session:
            return await campaign_service.create_campaign(
                session=session, workspace_id=workspace_id, data=data
            )

    async def inbox(self, workspace_id: str, email: str) -> Inbox:
        data = InboxCreate.model_validate(
            {"email": email, "smtp": {"host": "smtp.example.test", "password": "app-password"}}
        )
        async with unit_of_work(self.sessions) as session:
            return await inbox_service.create_inbox(
                session=session, box=self.box, workspace_id=workspace_id, data=data
            )

    async def leads(
        self, workspace_id: str, campaign_id: str, *people: dict[str, Any]
    ) -> list[Lead]:
        """``people`` are LeadIn fields, e.g. ``{"email": "ann@acme.io", "first_name": "Ann"}``."""
        data = LeadsCreate(leads=[LeadIn(**person) for person in people])
        async with unit_of_work(self.sessions) as session:
            created = await lead_service.add_leads(
                session=session,
                journeys=self.journeys,
                workspace_id=workspace_id,
                campaign_id=campaign_id,
                data=data,
            )
            ids = [result.id for result in created.results if result.id is not None]
            assert len(ids) == len(people), created.results
            by_id = {lead.id: lead for lead in await lead_store.list_leads_by_ids(session, ids)}
        return [by_id[lead_id] for lead_id in ids]


@pytest.fixture
def is_postgres(store_url: str) -> bool:
    return store_url.startswith("postgresql")


@pytest.fixture
async def store_engine(
    store_url: str, is_postgres: bool, request: pytest.FixtureRequest
) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(store_url)
    yield engine
    await engine.dispose()
    if is_postgres:
        # store_url leaves its database behind; ~8 MB each adds up over a session.
        await request.getfixturevalue("postgres_server").drop_database(store_url)


@pytest.fixture
def store_sessions(store_engine: AsyncEngine) -> SessionFactory:
    return session_factory(store_engine)


@pytest.fixture
def seed(store_sessions: SessionFactory) -> Seeder:
    journeys = Journeys(_no_temporal, task_queue="unused", namespace="default")
    return Seeder(sessions=store_sessions, box=SecretBox(generate_key()), journeys=journeys)

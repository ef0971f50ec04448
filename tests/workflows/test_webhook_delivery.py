"""Webhook delivery through real workflows to a real local receiver that verifies every request.

Retries run on the test's own time-skipping server, so the 5 s and 5 min waits take no real
time; the relay runs on the session's dev server, end to end from ``record_event``.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlmodel import col, select
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from coldflow.config import Settings
from coldflow.contracts.webhooks import (
    WEBHOOK_DELIVERY_WORKFLOW,
    AttemptOutcome,
    DeliveryInput,
    DeliveryResult,
    delivery_workflow_id,
)
from coldflow.crypto import SecretBox, generate_key
from coldflow.models import Event, WebhookDelivery, WebhookEndpoint
from coldflow.models.base import utcnow
from coldflow.schemas.webhooks import WebhookCreate
from coldflow.services import webhook_delivery as delivery
from coldflow.services import webhooks as service
from coldflow.services import workspaces as workspace_service
from coldflow.store.db import SessionFactory, create_engine, session_factory, unit_of_work
from coldflow.store.events import record_event
from tests.fixtures.api import Tenant
from tests.fixtures.temporal import unique_task_queue
from tests.fixtures.webhook_receiver import Receiver, closed_port_url, running_receiver
from worker import build_worker


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with running_receiver() as running:
        yield running


@dataclass
class Hooks:
    """A database, a worker on a time-skipping server, and one workspace."""

    client: Client
    sessions: SessionFactory
    box: SecretBox
    task_queue: str
    workspace_id: str

    async def endpoint(self, url: str, **fields: Any) -> tuple[str, str]:
        async with unit_of_work(self.sessions) as session:
            endpoint, secret = await service.create_endpoint(
                session=session,
                box=self.box,
                workspace_id=self.workspace_id,
                data=WebhookCreate(url=url, **fields),
                allow_private=True,
            )
        return endpoint.id, secret

    async def event(self, type: str = "email.sent", **fields: Any) -> str:
        async with unit_of_work(self.sessions) as session:
            event = await record_event(session, workspace_id=self.workspace_id, type=type, **fields)
        return event.id

    async def start(self, endpoint_id: str, event_id: str, **options: Any) -> Any:
        return await self.client.start_workflow(
            WEBHOOK_DELIVERY_WORKFLOW,
            DeliveryInput(self.workspace_id, endpoint_id, event_id, **options),
            id=delivery_workflow_id(endpoint_id, event_id),
            task_queue=self.task_queue,
            result_type=DeliveryResult,
        )

    async def deliver(self, endpoint_id: str, event_id: str, **options: Any) -> DeliveryResult:
        result: DeliveryResult = await (await self.start(endpoint_id, event_id, **options)).result()
        return result

    async def row(self, endpoint_id: str) -> WebhookEndpoint:
        async with self.sessions() as session:
            endpoint = await session.get(WebhookEndpoint, endpoint_id)
            assert endpoint is not None
            return endpoint

    async def attempts(self, endpoint_id: str) -> list[WebhookDelivery]:
        async with self.sessions() as session:
            stmt = (
                select(WebhookDelivery)
                .where(WebhookDelivery.endpoint_id == endpoint_id)
                .order_by(col(WebhookDelivery.attempt))
            )
            return list((await session.exec(stmt)).all())


@pytest.fixture
async def hooks(
    time_env: WorkflowEnvironment, database_url: str, tmp_path: Path
) -> AsyncIterator[Hooks]:
    settings = Settings(
        env="test",
        data_dir=tmp_path / "data",
        database_url=database_url,
        task_queue=unique_task_queue("hooks"),
        secret_key=generate_key(),
        webhook_allow_private=True,
    )
    engine = create_engine(database_url)
    sessions = session_factory(engine)
    async with unit_of_work(sessions) as session:
        workspace = await workspace_service.create_workspace(session=session, name="acme")
    try:
        async with (
            build_worker(
                settings, time_env.client, workflow_failure_exception_types=[Exception]
            ) as worker,
            worker,
        ):
            yield Hooks(
                time_env.client,
                sessions,
                SecretBox(settings.secret_key),
                settings.task_queue,
                workspace.id,
            )
    finally:
        await engine.dispose()


async def test_delivery_verifies_with_the_reference_library(
    hooks: Hooks, receiver: Receiver
) -> None:
    endpoint_id, secret = await hooks.endpoint(receiver.url("/hook"))
    receiver.verify_with("/hook", secret)
    event_id = await hooks.event(
        "email.replied",
        campaign_id="c-1",
        lead_id="l-1",
        step=2,
        data={"email": "sarah@example.com", "label": "interested", "preview": "Thanks for…"},
    )

    result = await hooks.deliver(endpoint_id, event_id)

    assert (result.outcome, result.attempts) == (AttemptOutcome.DELIVERED, 1)
    [arrival] = receiver.at("/hook")
    assert arrival.verified == (True,)
    assert arrival.webhook_id == event_id
    payload = json.loads(arrival.body)
    assert payload["type"] == "email.replied"
    assert payload["timestamp"].endswith("Z")
    assert payload["data"] == {
        "campaign_id": "c-1",
        "lead_id": "l-1",
        "step": 2,
        "email": "sarah@example.com",
        "label": "interested",
        "preview": "Thanks for…",
    }
    [row] = await hooks.attempts(endpoint_id)
    assert (row.attempt, row.status_code, row.succeeded, row.error) == (1, 200, True, None)
    assert row.response_snippet == "answer 200"


async def test_retries_until_2xx_with_the_same_webhook_id(
    hooks: Hooks, receiver: Receiver, time_env: WorkflowEnvironment
) -> None:
    endpoint_id, secret = await hooks.endpoint(receiver.url("/flaky"))
    receiver.verify_with("/flaky", secret)
    receiver.answer("/flaky", 500, 503)
    event_id = await hooks.event()
    started, real_start = await time_env.get_current_time(), time.monotonic()

    result = await hooks.deliver(endpoint_id, event_id)

    assert (result.outcome, result.attempts) == (AttemptOutcome.DELIVERED, 3)
    arrivals = receiver.at("/flaky")
    assert [a.status for a in arrivals] == [500, 503, 200]
    assert {a.webhook_id for a in arrivals} == {event_id}
    assert all(a.verified == (True,) for a in arrivals)
    rows = await hooks.attempts(endpoint_id)
    assert [(r.attempt, r.status_code, r.succeeded) for r in rows] == [
        (1, 500, False),
        (2, 503, False),
        (3, 200, True),
    ]
    assert rows[0].error == "HTTP 500"
    # 5 s + 5 min of workflow time, a few seconds of real time.
    assert await time_env.get_current_time() - started >= timedelta(minutes=5, seconds=5)
    assert time.monotonic() - real_start < 30
    assert (await hooks.row(endpoint_id)).failing_since is None


async def test_dead_and_slow_endpoints_do_not_delay_a_healthy_one(
    hooks: Hooks, receiver: Receiver
) -> None:
    dead_id, _ = await hooks.endpoint(closed_port_url())
    slow_id, _ = await hooks.endpoint(receiver.url("/slow"))
    healthy_id, _ = await hooks.endpoint(receiver.url("/healthy"))
    receiver.delays["/slow"] = 3.0
    event_id = await hooks.event()
    dead = await hooks.start(dead_id, event_id)
    slow = await hooks.start(slow_id, event_id)
    began = time.monotonic()

    result = await hooks.deliver(healthy_id, event_id)

    assert result.outcome == AttemptOutcome.DELIVERED
    assert time.monotonic() - began < 2.5
    assert receiver.at("/slow") == []  # still waiting for its answer
    assert (await slow.result()).outcome == AttemptOutcome.DELIVERED
    attempts = await hooks.attempts(dead_id)
    assert attempts
    assert attempts[0].status_code is None
    assert "ConnectError" in (attempts[0].error or "")
    await dead.terminate()


async def test_410_gone_disables_the_endpoint(hooks: Hooks, receiver: Receiver) -> None:
    endpoint_id, _ = await hooks.endpoint(receiver.url("/gone"))
    receiver.answer("/gone", 410)

    result = await hooks.deliver(endpoint_id, await hooks.event())

    assert (result.outcome, result.attempts) == (AttemptOutcome.GONE, 1)
    endpoint = await hooks.row(endpoint_id)
    assert endpoint.is_active is False
    assert "410 Gone" in (endpoint.disabled_reason or "")
    later = await hooks.deliver(endpoint_id, await hooks.event())
    assert later.outcome == AttemptOutcome.SKIPPED
    assert len(receiver.at("/gone")) == 1


async def test_failing_for_three_days_disables_the_endpoint(
    hooks: Hooks, receiver: Receiver
) -> None:
    endpoint_id, _ = await hooks.endpoint(receiver.url("/down"))
    receiver.answer("/down", 502)
    async with unit_of_work(hooks.sessions) as session:
        endpoint = await session.get(WebhookEndpoint, endpoint_id)
        assert endpoint is not None
        endpoint.failing_since = utcnow() - timedelta(days=3, minutes=1)
        session.add(endpoint)

    result = await hooks.deliver(endpoint_id, await hooks.event())

    assert (result.outcome, result.attempts) == (AttemptOutcome.DISABLED, 1)
    endpoint = await hooks.row(endpoint_id)
    assert endpoint.is_active is False
    assert "every attempt failed since" in (endpoint.disabled_reason or "")


async def test_a_first_failure_starts_the_failing_streak(hooks: Hooks, receiver: Receiver) -> None:
    endpoint_id, _ = await hooks.endpoint(receiver.url("/once"))
    receiver.answer("/once", 500)

    result = await hooks.deliver(endpoint_id, await hooks.event(), max_attempts=1)

    assert (result.outcome, result.attempts) == (AttemptOutcome.FAILED, 1)
    endpoint = await hooks.row(endpoint_id)
    assert endpoint.is_active is True
    assert endpoint.failing_since is not None


async def test_rotation_signs_with_the_old_and_the_new_secret(
    hooks: Hooks, receiver: Receiver
) -> None:
    endpoint_id, old = await hooks.endpoint(receiver.url("/rotating"))
    async with unit_of_work(hooks.sessions) as session:
        _, new, _ = await service.rotate_secret(
            session=session, box=hooks.box, workspace_id=hooks.workspace_id, endpoint_id=endpoint_id
        )
    receiver.verify_with("/rotating", old)
    receiver.verify_with("/rotating", new)

    await hooks.deliver(endpoint_id, await hooks.event())
    async with unit_of_work(hooks.sessions) as session:
        endpoint = await session.get(WebhookEndpoint, endpoint_id)
        assert endpoint is not None
        endpoint.previous_secret_expires_at = utcnow() - timedelta(seconds=1)
        session.add(endpoint)
    await hooks.deliver(endpoint_id, await hooks.event())

    during, after = receiver.at("/rotating")
    assert during.verified == (True, True)
    assert len(during.headers["webhook-signature"].split(" ")) == 2
    assert after.verified == (False, True)


async def test_an_event_offered_twice_is_delivered_once(hooks: Hooks, receiver: Receiver) -> None:
    """The relay crashed after starting the deliveries but before its mark committed."""
    endpoint_id, _ = await hooks.endpoint(receiver.url("/once-only"))
    await hooks.endpoint(receiver.url("/filtered"), events=["lead.completed"])
    event_id = await hooks.event("email.sent")

    async def start(inp: DeliveryInput) -> None:
        await service.start_delivery(hooks.client, hooks.task_queue, inp)

    async with hooks.sessions() as session:
        assert await delivery.dispatch_pending(session, start, limit=10) == (1, 1)
        await session.rollback()  # the crash: the mark never commits
    async with unit_of_work(hooks.sessions) as session:
        assert await delivery.dispatch_pending(session, start, limit=10) == (1, 1)
    async with unit_of_work(hooks.sessions) as session:
        assert await delivery.dispatch_pending(session, start, limit=10) == (0, 0)

    handle = hooks.client.get_workflow_handle(
        delivery_workflow_id(endpoint_id, event_id), result_type=DeliveryResult
    )
    assert (await handle.result()).outcome == AttemptOutcome.DELIVERED
    assert len(receiver.at("/once-only")) == 1
    assert receiver.at("/filtered") == []


async def test_relay_delivers_recorded_events_end_to_end(
    client: httpx.AsyncClient,
    tenant: Tenant,
    worker: None,
    settings: Settings,
    temporal_env: WorkflowEnvironment,
    receiver: Receiver,
) -> None:
    """Events committed before and after the relay starts reach matching endpoints only."""
    hooks_url = "/api/v1/webhooks"
    campaign = await client.post("/api/v1/campaigns", json={"name": "c"}, headers=tenant.headers)
    campaign_id = campaign.json()["data"]["id"]
    created = {}
    for path, body in {
        "/all": {},
        "/replies": {"events": ["email.replied"]},
        "/campaign": {"campaign_id": campaign_id},
    }.items():
        response = await client.post(
            hooks_url, json={"url": receiver.url(path), **body}, headers=tenant.headers
        )
        assert response.status_code == 201, response.text
        created[path] = response.json()["data"]
        receiver.verify_with(path, created[path]["secret"])
    sessions: SessionFactory = client.app.state.sessions  # type: ignore[attr-defined]

    async def record(**fields: Any) -> str:
        async with unit_of_work(sessions) as session:
            event = await record_event(session, workspace_id=tenant.workspace_id, **fields)
        return event.id

    before = await record(type="email.sent", campaign_id="other", data={"email": "a@x.io"})
    handle = temporal_env.client.get_workflow_handle(
        await service.ensure_relay(temporal_env.client, settings.task_queue)
    )
    try:
        [arrival] = await receiver.wait_for("/all")
        assert arrival.webhook_id == before
        committed = time.monotonic()
        after = await record(type="email.replied", campaign_id=campaign_id, data={"label": "x"})
        arrivals = await receiver.wait_for("/all", 2)
        latency = arrivals[1].at - committed
        assert latency < 3.0, f"relay latency {latency:.2f} s"
        assert [a.webhook_id for a in await receiver.wait_for("/replies")] == [after]
        assert [a.webhook_id for a in await receiver.wait_for("/campaign")] == [after]
        assert all(a.verified == (True,) for a in receiver.arrivals)
        async with sessions() as session:
            events = (await session.exec(select(Event))).all()
        assert all(e.dispatched_at is not None for e in events)
        assert len(receiver.arrivals) == 4
    finally:
        await handle.terminate()

"""Warmup through the API: the inbox fields, the on/off switch, and seed 003's stats."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta
from typing import Any

import httpx
import pytest
from temporalio.client import WorkflowExecutionStatus
from temporalio.testing import WorkflowEnvironment

from coldflow.contracts.warmup import warmup_workflow_id
from coldflow.models import Inbox, WarmupMessage
from coldflow.models.base import utcnow
from coldflow.store.db import unit_of_work
from tests.api.test_campaigns import create_inbox
from tests.api.test_conversations import _sessions, assert_error, reader
from tests.fixtures.api import Tenant

INBOXES = "/api/v1/inboxes"


async def patch(
    client: httpx.AsyncClient, tenant: Tenant, inbox_id: str, **body: Any
) -> httpx.Response:
    return await client.patch(f"{INBOXES}/{inbox_id}", json=body, headers=tenant.headers)


async def status_of(
    env: WorkflowEnvironment, inbox_id: str, wanted: WorkflowExecutionStatus
) -> None:
    handle = env.client.get_workflow_handle(warmup_workflow_id(inbox_id))
    deadline = time.monotonic() + 30
    while True:
        try:
            current = (await handle.describe()).status
        except Exception:  # not started yet
            current = None
        if current == wanted or time.monotonic() > deadline:
            assert current == wanted
            return
        await asyncio.sleep(0.1)


class TestSettings:
    async def test_fields_shown_and_validated(
        self, client: httpx.AsyncClient, tenant: Tenant
    ) -> None:
        inbox = await create_inbox(client, tenant, "w@acme.io")
        assert (inbox["is_warming"], inbox["daily_warmup_limit"], inbox["warmup_start"]) == (
            False,
            10,
            2,
        )
        assert (inbox["warmup_step"], inbox["warmup_reply_rate"], inbox["warmup_timezone"]) == (
            2,
            30,
            "UTC",
        )
        changed = await patch(
            client,
            tenant,
            inbox["id"],
            daily_warmup_limit=40,
            warmup_step=5,
            warmup_timezone="Europe/Paris",
        )
        assert changed.status_code == 200, changed.text
        data = changed.json()["data"]
        assert (data["daily_warmup_limit"], data["warmup_step"], data["warmup_timezone"]) == (
            40,
            5,
            "Europe/Paris",
        )

    @pytest.mark.parametrize(
        ("body", "field"),
        [
            ({"daily_warmup_limit": 101}, "daily_warmup_limit"),
            ({"daily_warmup_limit": 0}, "daily_warmup_limit"),
            ({"warmup_start": 0}, "warmup_start"),
            ({"warmup_reply_rate": 101}, "warmup_reply_rate"),
            ({"warmup_timezone": "Mars/Olympus"}, "warmup_timezone"),
        ],
    )
    async def test_invalid_422(
        self, client: httpx.AsyncClient, tenant: Tenant, body: dict[str, Any], field: str
    ) -> None:
        inbox = await create_inbox(client, tenant, "v@acme.io")
        response = await patch(client, tenant, inbox["id"], **body)
        assert response.status_code == 422, response.text
        assert response.json()["error"]["details"][0]["field"].endswith(field)
        shown = await client.get(f"{INBOXES}/{inbox['id']}", headers=tenant.headers)
        assert shown.json()["data"]["daily_warmup_limit"] == 10  # nothing changed


@pytest.mark.usefixtures("worker")
async def test_switch_starts_and_stops_the_workflow(
    client: httpx.AsyncClient, tenant: Tenant, temporal_env: WorkflowEnvironment
) -> None:
    inbox = await create_inbox(client, tenant, "solo@acme.io")
    on = await patch(client, tenant, inbox["id"], is_warming=True)
    assert on.status_code == 200, on.text
    await status_of(temporal_env, inbox["id"], WorkflowExecutionStatus.RUNNING)
    deadline = time.monotonic() + 30
    while True:  # a sandbox inbox has no IMAP: warmup runs and says why it sends nothing
        stats = (
            await client.get(f"{INBOXES}/{inbox['id']}/warmup/stats", headers=tenant.headers)
        ).json()["data"]
        if stats["status"] or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.1)
    assert stats["is_warming"] is True
    assert "IMAP" in stats["status"] or "pool" in stats["status"]
    shown = await client.get(f"{INBOXES}/{inbox['id']}", headers=tenant.headers)
    assert shown.json()["data"]["warmup_status"] == stats["status"]
    off = await patch(client, tenant, inbox["id"], is_warming=False)
    assert off.status_code == 200
    await status_of(temporal_env, inbox["id"], WorkflowExecutionStatus.COMPLETED)
    stats = (
        await client.get(f"{INBOXES}/{inbox['id']}/warmup/stats", headers=tenant.headers)
    ).json()["data"]
    assert (stats["is_warming"], stats["status"]) == (False, "warmup is off (is_warming is false)")


class TestStats:
    async def test_seed_003_shape_and_numbers(
        self, client: httpx.AsyncClient, tenant: Tenant
    ) -> None:
        sender = await create_inbox(client, tenant, "s@acme.io")
        other = await create_inbox(client, tenant, "o@acme.io")
        now = utcnow()
        today = now.date()
        async with unit_of_work(_sessions(client)) as session:
            row = await session.get(Inbox, sender["id"])
            assert row is not None
            row.is_warming, row.daily_warmup_limit = True, 10
            row.warmup_state = {"days_planned": 3, "volume": 6, "planned_on": today.isoformat()}
            session.add(row)
            for n in range(10):  # 10 sent today, 3 of them into spam; 2 received, 1 rescued
                session.add(
                    WarmupMessage(
                        workspace_id=tenant.workspace_id,
                        sender_inbox_id=sender["id"],
                        recipient_inbox_id=other["id"],
                        token=f"T{n}{sender['id']}"[:64],
                        message_id=f"<w{n}.{sender['id']}@acme.io>",
                        sender_day=today.isoformat(),
                        sent_at=now,
                        in_spam=n < 3,
                    )
                )
            for n in range(2):
                session.add(
                    WarmupMessage(
                        workspace_id=tenant.workspace_id,
                        sender_inbox_id=other["id"],
                        recipient_inbox_id=sender["id"],
                        token=f"R{n}{sender['id']}"[:64],
                        message_id=f"<r{n}.{sender['id']}@acme.io>",
                        sender_day=(today - timedelta(days=1)).isoformat(),
                        sent_at=now,
                        received_at=now,
                        in_spam=n == 0,
                        rescued_at=now if n == 0 else None,
                    )
                )
        response = await client.get(
            f"{INBOXES}/{sender['id']}/warmup/stats", headers=tenant.headers
        )
        assert response.status_code == 200, response.text
        data = response.json()["data"]
        assert set(data) >= {
            "sent",
            "received",
            "saved_from_spam",
            "health_score",
            "ramp_up_progress",
            "daily",
        }
        assert (data["sent"], data["received"], data["saved_from_spam"]) == (10, 2, 1)
        assert data["health_score"] == 70
        assert data["ramp_up_progress"] == 60
        assert len(data["daily"]) == 7
        assert data["daily"][-1] == {"date": today.isoformat(), "sent": 10, "spam_count": 3}
        assert all(set(day) == {"date", "sent", "spam_count"} for day in data["daily"])
        assert data["ramp"] == {"day": 3, "volume": 6, "limit": 10, "start": 2, "step": 2}

    async def test_other_workspace_404(
        self, client: httpx.AsyncClient, tenant: Tenant, other_tenant: Tenant
    ) -> None:
        inbox = await create_inbox(client, tenant, "x@acme.io")
        response = await client.get(
            f"{INBOXES}/{inbox['id']}/warmup/stats", headers=other_tenant.headers
        )
        assert_error(response, 404, "INBOX_NOT_FOUND", None)

    async def test_scope_and_key(self, client: httpx.AsyncClient, tenant: Tenant) -> None:
        inbox = await create_inbox(client, tenant, "y@acme.io")
        url = f"{INBOXES}/{inbox['id']}/warmup/stats"
        assert (await client.get(url)).status_code == 401
        other_scope = await reader(client, ("campaigns:read",))
        assert (await client.get(url, headers=other_scope.headers)).status_code == 403


async def test_pool_is_the_workspace_unless_shared(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    """Each workspace warms alone; workspaces that opted in share one pool when allowed."""
    from coldflow.models import ConnectionStatus, Workspace
    from coldflow.services import workspaces
    from coldflow.store import warmup as warmup_store
    from tests.fixtures.api import make_tenant

    sessions = _sessions(client)
    others = [await make_tenant(sessions, name) for name in ("globex", "initech")]
    ids: dict[str, str] = {}
    async with unit_of_work(sessions) as session:
        for owner in (tenant, *others):
            for n in range(2):
                inbox = Inbox(
                    workspace_id=owner.workspace_id,
                    email=f"w{n}@{owner.name}.example",
                    is_warming=True,
                    imap_host="imap.invalid",
                    connection_status=ConnectionStatus.connected,
                )
                session.add(inbox)
                ids[f"{owner.name}{n}"] = inbox.id
        session.add(  # not warming: never in a pool
            Inbox(workspace_id=tenant.workspace_id, email="cold@acme.example", imap_host="x")
        )
    async with unit_of_work(sessions) as session:
        await workspaces.set_warmup_sharing(session=session, name="acme", share=True)
        await workspaces.set_warmup_sharing(session=session, name="globex", share=True)
    async with unit_of_work(sessions) as session:
        mine = await session.get(Inbox, ids["acme0"])
        assert mine is not None
        alone = await warmup_store.pool_ids(session, mine, shared=False)
        shared = await warmup_store.pool_ids(session, mine, shared=True)
        initech = await session.get(Inbox, ids["initech0"])
        assert initech is not None
        private = await warmup_store.pool_ids(session, initech, shared=True)
        assert (await session.get(Workspace, tenant.workspace_id)).warmup_shared_pool  # type: ignore[union-attr]
    assert alone == sorted([ids["acme0"], ids["acme1"]])
    assert shared == sorted([ids["acme0"], ids["acme1"], ids["globex0"], ids["globex1"]])
    assert private == sorted([ids["initech0"], ids["initech1"]])


async def test_spam_guardrail_holds_the_volume_and_says_so(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    """30% of the last 3 days in spam: today's volume stays at yesterday's, the stats and one
    ``inbox.warmup_paused`` event say why."""
    from datetime import UTC, datetime

    from sqlmodel import select

    from coldflow.contracts.warmup import PlanWarmupInput
    from coldflow.models import ConnectionStatus, Event
    from coldflow.services import warmup as warmup_service
    from coldflow.services import warmup_stats

    wednesday = datetime(2026, 12, 9, 6, 0, tzinfo=UTC)
    sessions = _sessions(client)
    async with unit_of_work(sessions) as session:
        inboxes = [
            Inbox(
                workspace_id=tenant.workspace_id,
                email=f"g{n}@acme.example",
                is_warming=True,
                imap_host="imap.invalid",
                connection_status=ConnectionStatus.connected,
                warmup_state={"days_planned": 3, "volume": 6, "planned_on": "2026-12-08"},
            )
            for n in range(2)
        ]
        session.add_all(inboxes)
        await session.flush()
        for n in range(10):  # yesterday: 10 sent, 3 in spam
            session.add(
                WarmupMessage(
                    workspace_id=tenant.workspace_id,
                    sender_inbox_id=inboxes[0].id,
                    recipient_inbox_id=inboxes[1].id,
                    token=f"G{n}",
                    message_id=f"<g{n}@acme.example>",
                    sender_day="2026-12-08",
                    sent_at=wednesday - timedelta(days=1),
                    in_spam=n < 3,
                )
            )
    inp = PlanWarmupInput(tenant.workspace_id, inboxes[0].id, wednesday)
    for _ in range(2):  # planning the same day twice raises one event
        async with unit_of_work(sessions) as session:
            plan = await warmup_service.plan_day(
                session, inp, shared_pool=False, spam_threshold=0.2
            )
    assert plan.volume == 6
    assert len(plan.sends) == 6
    assert plan.reason is not None
    assert "30%" in plan.reason
    async with unit_of_work(sessions) as session:
        events = (
            await session.exec(select(Event).where(Event.type == "inbox.warmup_paused"))
        ).all()
        stats = await warmup_stats.warmup_stats(
            session, (await session.get(Inbox, inboxes[0].id)), wednesday
        )  # type: ignore[arg-type]
    assert [(e.inbox_id, e.data["volume"]) for e in events] == [(inboxes[0].id, 6)]
    assert stats.status == plan.reason
    assert stats.health_score == 70

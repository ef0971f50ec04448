"""GET /campaigns/{id}/leads/{lid}/journey: past events, sends, and the planned send times."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx

from coldflow import schedule as schedule_math
from coldflow.models import Event
from coldflow.store.db import unit_of_work
from tests.fixtures.api import Tenant

SEQUENCES = [
    {"step": 1, "subject": "Hi", "body": "One"},
    {"step": 2, "delay_days": 3, "subject": "", "body": "Two"},
]


async def _lead(client: httpx.AsyncClient, tenant: Tenant) -> tuple[dict, str]:  # type: ignore[type-arg]
    created = await client.post(
        "/api/v1/campaigns",
        json={
            "name": "Planned",
            "timezone": "America/New_York",
            "schedule": {"days": [1, 2, 3, 4, 5], "start_hour": 9, "end_hour": 17},
            "sequences": SEQUENCES,
        },
        headers=tenant.headers,
    )
    campaign = created.json()["data"]
    added = await client.post(
        f"/api/v1/campaigns/{campaign['id']}/leads",
        json={"email": "ann@example.com"},
        headers=tenant.headers,
    )
    return campaign, added.json()["data"]["id"]


async def test_planned_sends_follow_the_schedule_functions(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    campaign, lead_id = await _lead(client, tenant)
    before = datetime.now(UTC)
    response = await client.get(
        f"/api/v1/campaigns/{campaign['id']}/leads/{lead_id}/journey", headers=tenant.headers
    )
    assert response.status_code == 200, response.text
    data = response.json()["data"]
    assert data["state"] == "not_started"
    assert data["workflow_id"] == f"journey/{campaign['id']}/{lead_id}"
    first, second = (datetime.fromisoformat(p["send_at"]) for p in data["planned"])
    sched = schedule_math.Schedule.from_dict(campaign["schedule"])
    assert first == schedule_math.next_send_at(sched, first)  # inside a window
    assert first >= schedule_math.next_send_at(sched, before)
    assert second == schedule_math.next_send_at(sched, first + timedelta(days=3))
    assert [p["step"] for p in data["planned"]] == [1, 2]


async def test_past_events_listed_in_order(client: httpx.AsyncClient, tenant: Tenant) -> None:
    campaign, lead_id = await _lead(client, tenant)
    async with unit_of_work(client.app.state.sessions) as session:  # type: ignore[attr-defined]
        for n, kind in enumerate(("email.sent", "email.opened")):
            session.add(
                Event(
                    workspace_id=tenant.workspace_id,
                    type=kind,
                    campaign_id=campaign["id"],
                    lead_id=lead_id,
                    step=1,
                    occurred_at=datetime(2026, 12, 1, 9, n, tzinfo=UTC),
                )
            )
    response = await client.get(
        f"/api/v1/campaigns/{campaign['id']}/leads/{lead_id}/journey", headers=tenant.headers
    )
    assert [e["type"] for e in response.json()["data"]["events"]] == ["email.sent", "email.opened"]


async def test_other_workspace_404(
    client: httpx.AsyncClient, tenant: Tenant, other_tenant: Tenant
) -> None:
    campaign, lead_id = await _lead(client, tenant)
    response = await client.get(
        f"/api/v1/campaigns/{campaign['id']}/leads/{lead_id}/journey",
        headers=other_tenant.headers,
    )
    assert response.status_code == 404

"""CRM triggers (``POST /api/v1/triggers``) and the lead status of seed 002 (``PATCH`` a lead).

Journeys run on the session's dev server with a real worker and a sandbox inbox; draft
campaigns cover leads whose journey has not started.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import pytest
from sqlmodel import col, select

from coldflow.models import BlocklistEntry, Event
from tests.fixtures.api import Tenant, make_tenant
from tests.workflows.world import WEEKDAYS, schedule

TRIGGERS = "/api/v1/triggers"
CAMPAIGNS = "/api/v1/campaigns"
EMAIL = "sarah@lead.example.com"
TWO_STEPS = [
    {"step": 1, "subject": "Hello {{first_name|there}}", "body": "Short note."},
    {"step": 2, "delay_days": 1, "subject": "", "body": "Following up."},
]


async def campaign(
    client: httpx.AsyncClient, tenant: Tenant, *, active: bool = False, **options: Any
) -> str:
    body: dict[str, Any] = {"name": "Outreach", "sequences": TWO_STEPS, **options}
    if active:
        inbox = await client.post(
            "/api/v1/inboxes",
            json={"email": f"sender{time.monotonic_ns()}@acme.io", "provider": "sandbox"},
            headers=tenant.headers,
        )
        body["inbox_ids"] = [inbox.json()["data"]["id"]]
        body["schedule"] = schedule("UTC", days=WEEKDAYS, start="00:00", end="23:30")
    created = await client.post(CAMPAIGNS, json=body, headers=tenant.headers)
    assert created.status_code == 201, created.text
    campaign_id: str = created.json()["data"]["id"]
    if active:
        activated = await client.post(f"{CAMPAIGNS}/{campaign_id}/activate", headers=tenant.headers)
        assert activated.status_code == 200, activated.text
    return campaign_id


async def lead(
    client: httpx.AsyncClient, tenant: Tenant, campaign_id: str, email: str = EMAIL
) -> str:
    response = await client.post(
        f"{CAMPAIGNS}/{campaign_id}/leads", json={"email": email}, headers=tenant.headers
    )
    assert response.status_code == 201, response.text
    lead_id: str = response.json()["data"]["id"]
    return lead_id


async def show(client: httpx.AsyncClient, tenant: Tenant, lead_id: str) -> dict[str, Any]:
    response = await client.get(f"/api/v1/leads/{lead_id}", headers=tenant.headers)
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


async def wait_state(
    client: httpx.AsyncClient, tenant: Tenant, lead_id: str, state: str, timeout: float = 20.0
) -> dict[str, Any]:
    """Poll the lead until its journey mirrors ``state`` (the worker runs in real time)."""
    deadline = time.monotonic() + timeout
    while True:
        data = await show(client, tenant, lead_id)
        if data["journey"]["state"] == state:
            return data
        assert time.monotonic() < deadline, f"journey is {data['journey']}, expected {state}"
        await asyncio.sleep(0.05)


async def trigger(client: httpx.AsyncClient, tenant: Tenant, **body: Any) -> httpx.Response:
    return await client.post(TRIGGERS, json=body, headers=tenant.headers)


async def triggered(client: httpx.AsyncClient, tenant: Tenant, **body: Any) -> dict[str, Any]:
    response = await trigger(client, tenant, **body)
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


async def events(client: httpx.AsyncClient, lead_id: str) -> list[Event]:
    async with client.app.state.sessions() as session:  # type: ignore[attr-defined]
        stmt = select(Event).where(Event.lead_id == lead_id).order_by(col(Event.occurred_at))
        return list((await session.exec(stmt)).all())


async def blocklist(client: httpx.AsyncClient) -> list[BlocklistEntry]:
    async with client.app.state.sessions() as session:  # type: ignore[attr-defined]
        return list((await session.exec(select(BlocklistEntry))).all())


@pytest.mark.usefixtures("worker")
class TestRunningJourneys:
    async def test_stop_ends_journeys_in_two_campaigns(
        self, client: httpx.AsyncClient, tenant: Tenant
    ) -> None:
        first = await campaign(client, tenant, active=True)
        second = await campaign(client, tenant, active=True)
        ids = {await lead(client, tenant, first), await lead(client, tenant, second)}
        bystander = await lead(client, tenant, first, "bob@lead.example.com")
        for lead_id in (*ids, bystander):
            await wait_state(client, tenant, lead_id, "waiting")

        data = await triggered(client, tenant, email="Sarah@Lead.example.com", action="stop")

        assert data["affected"] == 2
        assert {item["id"] for item in data["leads"]} == ids
        for item in data["leads"]:
            assert item["signalled"] is True
            assert item["journey_workflow_id"] == f"journey/{item['campaign_id']}/{item['id']}"
        for lead_id in ids:
            stopped = await wait_state(client, tenant, lead_id, "stopped")
            assert stopped["journey"]["hold_reason"] == "crm"
            assert [e.type for e in await events(client, lead_id)].count("lead.stopped") == 1
        assert (await show(client, tenant, bystander))["journey"]["state"] == "waiting"

    async def test_stop_reason_and_campaign_filter(
        self, client: httpx.AsyncClient, tenant: Tenant
    ) -> None:
        first = await campaign(client, tenant, active=True)
        second = await campaign(client, tenant, active=True)
        target, other = await lead(client, tenant, first), await lead(client, tenant, second)
        await wait_state(client, tenant, target, "waiting")
        await wait_state(client, tenant, other, "waiting")

        data = await triggered(
            client, tenant, email=EMAIL, action="stop", campaign_id=first, reason="deal won"
        )

        assert [item["id"] for item in data["leads"]] == [target]
        stopped = await wait_state(client, tenant, target, "stopped")
        assert stopped["journey"]["hold_reason"] == "crm: deal won"
        assert (await show(client, tenant, other))["journey"]["state"] == "waiting"

    async def test_unsubscribe_ends_every_journey_of_the_address(
        self, client: httpx.AsyncClient, tenant: Tenant
    ) -> None:
        first = await campaign(client, tenant, active=True)
        second = await campaign(client, tenant, active=True)
        ids = [await lead(client, tenant, first), await lead(client, tenant, second)]
        for lead_id in ids:
            await wait_state(client, tenant, lead_id, "waiting")

        # The campaign filter does not narrow an unsubscribe: it is the person's choice.
        data = await triggered(client, tenant, email=EMAIL, action="unsubscribe", campaign_id=first)

        assert data["affected"] == 2
        for lead_id in ids:
            stopped = await wait_state(client, tenant, lead_id, "stopped")
            assert stopped["journey"]["hold_reason"] == "unsubscribed"
            assert stopped["is_unsubscribed"] is True

    async def test_mark_replied_stops_per_stop_on_reply(
        self, client: httpx.AsyncClient, tenant: Tenant
    ) -> None:
        lead_id = await lead(client, tenant, await campaign(client, tenant, active=True))
        await wait_state(client, tenant, lead_id, "waiting")

        await triggered(client, tenant, email=EMAIL, action="mark_replied", reason="called us")

        stopped = await wait_state(client, tenant, lead_id, "stopped")
        assert (stopped["status"], stopped["journey"]["hold_reason"]) == ("replied", "replied")
        [replied] = [e for e in await events(client, lead_id) if e.type == "email.replied"]
        assert replied.data == {"email": EMAIL, "source": "crm", "reason": "called us"}

    async def test_pause_then_resume(self, client: httpx.AsyncClient, tenant: Tenant) -> None:
        lead_id = await lead(client, tenant, await campaign(client, tenant, active=True))
        await wait_state(client, tenant, lead_id, "waiting")

        paused = await triggered(client, tenant, email=EMAIL, action="pause")
        assert paused["leads"][0]["signalled"] is True
        held = await wait_state(client, tenant, lead_id, "paused")
        assert held["journey"]["hold_reason"] == "lead paused"

        await triggered(client, tenant, email=EMAIL, action="resume")
        await wait_state(client, tenant, lead_id, "waiting")


class TestNotStartedJourneys:
    async def test_unsubscribe_blocks_a_later_enrollment(
        self, client: httpx.AsyncClient, tenant: Tenant
    ) -> None:
        lead_id = await lead(client, tenant, await campaign(client, tenant))

        first = await triggered(client, tenant, email=EMAIL, action="unsubscribe")
        again = await triggered(client, tenant, email=EMAIL, action="unsubscribe")

        assert first["affected"] == again["affected"] == 1
        assert first["leads"][0]["signalled"] is False  # no journey yet: the flag suffices
        assert (await show(client, tenant, lead_id))["is_unsubscribed"] is True
        [entry] = await blocklist(client)
        assert (entry.value, entry.source) == (EMAIL, "unsubscribe")
        unsubscribed = [e for e in await events(client, lead_id) if e.type == "lead.unsubscribed"]
        assert [e.data["source"] for e in unsubscribed] == ["crm"]
        later = await campaign(client, tenant)
        refused = await client.post(
            f"{CAMPAIGNS}/{later}/leads", json={"email": EMAIL}, headers=tenant.headers
        )
        assert refused.status_code == 422
        assert refused.json()["error"]["code"] == "LEAD_BLOCKLISTED"

    async def test_stop_marks_the_lead_stopped(
        self, client: httpx.AsyncClient, tenant: Tenant
    ) -> None:
        lead_id = await lead(client, tenant, await campaign(client, tenant))

        data = await triggered(client, tenant, email=EMAIL, action="stop", reason="churned")

        assert data["leads"][0]["signalled"] is False
        journey = (await show(client, tenant, lead_id))["journey"]
        assert (journey["state"], journey["hold_reason"]) == ("stopped", "crm: churned")
        [stopped] = await events(client, lead_id)
        assert (stopped.type, stopped.data["reason"]) == ("lead.stopped", "crm: churned")

    async def test_meeting_booked_records_and_stops(
        self, client: httpx.AsyncClient, tenant: Tenant
    ) -> None:
        lead_id = await lead(client, tenant, await campaign(client, tenant))

        await triggered(client, tenant, email=EMAIL, action="meeting_booked", reason="Tue 10:00")

        types = [e.type for e in await events(client, lead_id)]
        assert types == ["lead.meeting_booked", "lead.stopped"]
        journey = (await show(client, tenant, lead_id))["journey"]
        assert (journey["state"], journey["hold_reason"]) == ("stopped", "meeting_booked")

    async def test_mark_replied_sets_status_once(
        self, client: httpx.AsyncClient, tenant: Tenant
    ) -> None:
        lead_id = await lead(client, tenant, await campaign(client, tenant))

        await triggered(client, tenant, email=EMAIL, action="mark_replied")
        await triggered(client, tenant, email=EMAIL, action="mark_replied")

        assert (await show(client, tenant, lead_id))["status"] == "replied"
        assert [e.type for e in await events(client, lead_id)] == ["email.replied"]

    async def test_unknown_email_affects_nothing(
        self, client: httpx.AsyncClient, tenant: Tenant
    ) -> None:
        data = await triggered(client, tenant, email="nobody@example.com", action="stop")
        assert data == {"affected": 0, "leads": []}


class TestContract:
    async def test_no_key_401(self, client: httpx.AsyncClient) -> None:
        response = await client.post(TRIGGERS, json={"email": EMAIL, "action": "stop"})
        assert response.status_code == 401

    async def test_missing_scope_403(self, client: httpx.AsyncClient) -> None:
        sessions = client.app.state.sessions  # type: ignore[attr-defined]
        reader = await make_tenant(sessions, "crm", scopes=("leads:write",))
        response = await trigger(client, reader, email=EMAIL, action="stop")
        assert response.status_code == 403
        assert response.json()["error"]["details"] == [{"required_scope": "triggers:write"}]

    async def test_scope_triggers_write_is_enough(self, client: httpx.AsyncClient) -> None:
        crm = await make_tenant(client.app.state.sessions, "crm", scopes=("triggers:write",))  # type: ignore[attr-defined]
        assert (await trigger(client, crm, email=EMAIL, action="stop")).status_code == 200

    @pytest.mark.parametrize(
        ("body", "field"),
        [
            ({"email": EMAIL, "action": "delete"}, "action"),
            ({"email": EMAIL}, "action"),
            ({"email": "not-an-address", "action": "stop"}, "email"),
            ({"email": EMAIL, "action": "stop", "extra": 1}, "extra"),
        ],
        ids=["unknown-action", "missing-action", "bad-email", "unknown-field"],
    )
    async def test_invalid_body_422(
        self, client: httpx.AsyncClient, tenant: Tenant, body: dict[str, Any], field: str
    ) -> None:
        response = await client.post(TRIGGERS, json=body, headers=tenant.headers)
        assert response.status_code == 422
        error = response.json()["error"]
        assert error["code"] == "VALIDATION_ERROR"
        assert [d["field"] for d in error["details"]] == [field]

    async def test_other_workspace_campaign_404(
        self, client: httpx.AsyncClient, tenant: Tenant, other_tenant: Tenant
    ) -> None:
        theirs = await campaign(client, other_tenant)
        response = await trigger(client, tenant, email=EMAIL, action="stop", campaign_id=theirs)
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "CAMPAIGN_NOT_FOUND"

    async def test_other_workspace_leads_untouched(
        self, client: httpx.AsyncClient, tenant: Tenant, other_tenant: Tenant
    ) -> None:
        theirs = await lead(client, other_tenant, await campaign(client, other_tenant))
        data = await triggered(client, tenant, email=EMAIL, action="unsubscribe")
        assert data["affected"] == 0
        assert (await show(client, other_tenant, theirs))["is_unsubscribed"] is False
        blocked = await client.get(
            "/api/v1/blocklist/check", params={"email": EMAIL}, headers=other_tenant.headers
        )
        assert blocked.json()["data"]["blocked"] is False


class TestLeadInterestStatus:
    @pytest.mark.parametrize("status", ["interested", "not_interested", "meeting_booked", None])
    async def test_recorded_as_an_event(
        self, client: httpx.AsyncClient, tenant: Tenant, status: str | None
    ) -> None:
        campaign_id = await campaign(client, tenant)
        lead_id = await lead(client, tenant, campaign_id)

        response = await client.patch(
            f"{CAMPAIGNS}/{campaign_id}/leads/{lead_id}",
            json={"interest_status": status},
            headers=tenant.headers,
        )

        assert response.status_code == 200, response.text
        data = response.json()["data"]
        assert (data["lead_id"], data["interest_status"], data["email"]) == (lead_id, status, EMAIL)
        [event] = await events(client, lead_id)
        assert event.id == data["event_id"]
        assert (event.type, event.data["interest_status"]) == ("lead.interest_updated", status)
        assert (await show(client, tenant, lead_id))["journey"]["state"] == "not_started"

    async def test_unknown_status_422(self, client: httpx.AsyncClient, tenant: Tenant) -> None:
        campaign_id = await campaign(client, tenant)
        lead_id = await lead(client, tenant, campaign_id)
        response = await client.patch(
            f"{CAMPAIGNS}/{campaign_id}/leads/{lead_id}",
            json={"interest_status": "maybe"},
            headers=tenant.headers,
        )
        assert response.status_code == 422
        assert response.json()["error"]["details"][0]["field"] == "interest_status"

    async def test_other_workspace_404(
        self, client: httpx.AsyncClient, tenant: Tenant, other_tenant: Tenant
    ) -> None:
        campaign_id = await campaign(client, other_tenant)
        lead_id = await lead(client, other_tenant, campaign_id)
        response = await client.patch(
            f"{CAMPAIGNS}/{campaign_id}/leads/{lead_id}",
            json={"interest_status": "interested"},
            headers=tenant.headers,
        )
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "LEAD_NOT_FOUND"

    async def test_missing_scope_403(self, client: httpx.AsyncClient, tenant: Tenant) -> None:
        campaign_id = await campaign(client, tenant)
        lead_id = await lead(client, tenant, campaign_id)
        reader = await make_tenant(client.app.state.sessions, "ro", scopes=("leads:read",))  # type: ignore[attr-defined]
        response = await client.patch(
            f"{CAMPAIGNS}/{campaign_id}/leads/{lead_id}",
            json={"interest_status": "interested"},
            headers=reader.headers,
        )
        assert response.status_code == 403

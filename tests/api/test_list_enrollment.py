"""Contact lists into campaigns (seed 004), CSV imports into lists, and one suppression shared by
every campaign of a workspace; journeys counted on the real Temporal server."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from temporalio.testing import WorkflowEnvironment

from coldflow.config import Settings
from coldflow.contracts.imports import LEAD_IMPORT_WORKFLOW, LeadImportInput, LeadImportResult
from coldflow.contracts.journey import JOURNEY_WORKFLOW
from tests.api.test_campaigns import create_inbox
from tests.fixtures.api import Tenant

CONTACTS = 1000
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def closed_schedule() -> dict[str, Any]:
    """Open only on a day that is neither today nor tomorrow: journeys start and wait."""
    today = datetime.now(UTC).weekday()
    day = WEEKDAYS[(today + 3) % 7]
    return {"days": [day], "start_hour": 9, "end_hour": 17}


async def new_list(client: httpx.AsyncClient, tenant: Tenant, name: str, count: int) -> str:
    created = await client.post("/api/v1/lists", json={"name": name}, headers=tenant.headers)
    assert created.status_code == 201, created.text
    list_id: str = created.json()["data"]["id"]
    for start in range(0, count, 100):
        contacts = [
            {"email": f"c{n}@{name}.example", "name": f"Contact {n}", "variables": {"n": str(n)}}
            for n in range(start, min(start + 100, count))
        ]
        added = await client.post(
            f"/api/v1/lists/{list_id}/contacts", json={"contacts": contacts}, headers=tenant.headers
        )
        assert added.status_code == 201, added.text
    return list_id


async def active_campaign(client: httpx.AsyncClient, tenant: Tenant, name: str) -> str:
    inbox = await create_inbox(client, tenant, f"sender@{name}.io")
    created = await client.post(
        "/api/v1/campaigns",
        json={
            "name": name,
            "timezone": "UTC",
            "schedule": closed_schedule(),
            "sequences": [{"subject": "Hi {{first_name}}", "body": "About {{n}}"}],
            "inbox_ids": [inbox["id"]],
        },
        headers=tenant.headers,
    )
    assert created.status_code == 201, created.text
    campaign_id: str = created.json()["data"]["id"]
    deadline = time.monotonic() + 30
    while True:  # the sandbox inbox is connected by its check workflow
        response = await client.post(
            f"/api/v1/campaigns/{campaign_id}/activate", headers=tenant.headers
        )
        if response.status_code == 200 or time.monotonic() > deadline:
            assert response.status_code == 200, response.text
            return campaign_id
        await asyncio.sleep(0.1)


async def finished_import(client: httpx.AsyncClient, tenant: Tenant, url: str) -> dict[str, Any]:
    deadline = time.monotonic() + 120
    while True:
        data: dict[str, Any] = (await client.get(url, headers=tenant.headers)).json()["data"]
        if data["status"] in ("completed", "failed") or time.monotonic() > deadline:
            assert data["status"] == "completed", data
            return data
        await asyncio.sleep(0.2)


async def journey_ids(env: WorkflowEnvironment, campaign_id: str, expected: int) -> list[str]:
    """Every journey execution of the campaign, once visibility has caught up."""
    query = f"WorkflowType = '{JOURNEY_WORKFLOW}' AND CampaignId = '{campaign_id}'"
    deadline = time.monotonic() + 120
    while True:
        ids = [w.id async for w in env.client.list_workflows(query)]
        if len(ids) >= expected or time.monotonic() > deadline:
            return ids
        await asyncio.sleep(0.5)


@pytest.mark.usefixtures("worker")
@pytest.mark.timeout(600)
async def test_list_of_1000_starts_1000_journeys_exactly_once(
    client: httpx.AsyncClient, tenant: Tenant, settings: Settings, temporal_env: WorkflowEnvironment
) -> None:
    list_id = await new_list(client, tenant, "big", CONTACTS)
    campaign_id = await active_campaign(client, tenant, "bigcamp")
    base = f"/api/v1/campaigns/{campaign_id}"

    response = await client.post(f"{base}/leads", json={"listId": list_id}, headers=tenant.headers)
    assert response.status_code == 202, response.text
    queued = response.json()["data"]
    assert (queued["kind"], queued["list_id"], queued["total_rows"]) == (
        "list_enrollment",
        list_id,
        CONTACTS,
    )
    done = await finished_import(client, tenant, f"{base}/imports/{queued['id']}")
    assert (done["processed_rows"], done["created"], done["failed"]) == (CONTACTS, CONTACTS, 0)

    # The same import run again (a redelivered workflow) and the list enrolled a second time.
    rerun = await temporal_env.client.execute_workflow(
        LEAD_IMPORT_WORKFLOW,
        LeadImportInput(workspace_id=tenant.workspace_id, import_id=queued["id"]),
        id=f"rerun-{queued['id']}",
        task_queue=settings.task_queue,
        result_type=LeadImportResult,
    )
    assert (rerun.status, rerun.created) == ("completed", CONTACTS)
    again = await client.post(f"{base}/leads", json={"list_id": list_id}, headers=tenant.headers)
    second = await finished_import(client, tenant, f"{base}/imports/{again.json()['data']['id']}")
    assert (second["created"], second["skipped"]) == (0, CONTACTS)

    ids = await journey_ids(temporal_env, campaign_id, CONTACTS)
    assert len(ids) == CONTACTS
    assert len(set(ids)) == CONTACTS  # one execution per lead: none started twice

    leads = await client.get(f"{base}/leads", params={"page_size": 1}, headers=tenant.headers)
    assert leads.json()["metadata"]["total_count"] == CONTACTS
    [lead] = leads.json()["data"]
    assert lead["first_name"] == "Contact"
    assert lead["variables"]["n"] == lead["last_name"]  # "Contact 17" → first, last; n = 17
    imports = await client.get(f"{base}/imports", headers=tenant.headers)
    assert [i["id"] for i in imports.json()["data"]] == [again.json()["data"]["id"], queued["id"]]


@pytest.mark.usefixtures("worker")
async def test_unsubscribed_in_one_campaign_refused_by_another(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    list_id = await new_list(client, tenant, "small", 3)
    first = await active_campaign(client, tenant, "first")
    added = await client.post(
        f"/api/v1/campaigns/{first}/leads", json={"list_id": list_id}, headers=tenant.headers
    )
    await finished_import(
        client, tenant, f"/api/v1/campaigns/{first}/imports/{added.json()['data']['id']}"
    )
    trigger = await client.post(
        "/api/v1/triggers",
        json={"email": "c1@small.example", "action": "unsubscribe", "campaign_id": first},
        headers=tenant.headers,
    )
    assert trigger.status_code == 200, trigger.text
    contacts = await client.get(
        "/api/v1/contacts",
        params={"list_id": list_id, "status": "unsubscribed"},
        headers=tenant.headers,
    )
    assert [c["email"] for c in contacts.json()["data"]] == ["c1@small.example"]

    second = await active_campaign(client, tenant, "second")
    enrolled = await client.post(
        f"/api/v1/campaigns/{second}/leads", json={"list_id": list_id}, headers=tenant.headers
    )
    done = await finished_import(
        client, tenant, f"/api/v1/campaigns/{second}/imports/{enrolled.json()['data']['id']}"
    )
    assert (done["created"], done["failed"]) == (2, 1)
    [error] = done["errors"]
    assert (error["email"], error["code"]) == ("c1@small.example", "LEAD_BLOCKLISTED")
    single = await client.post(
        f"/api/v1/campaigns/{second}/leads",
        json={"email": "c1@small.example"},
        headers=tenant.headers,
    )
    assert single.status_code == 422, single.text
    email = await client.post(
        "/api/v1/emails",
        json={"to": "c1@small.example", "from": "sender@second.io", "subject": "Hi", "text": "x"},
        headers=tenant.headers,
    )
    assert email.json()["error"]["code"] == "RECIPIENT_SUPPRESSED"


@pytest.mark.usefixtures("worker")
async def test_bounced_contact_is_suppressed(client: httpx.AsyncClient, tenant: Tenant) -> None:
    """A contact marked bounced (not blocklisted) is refused by every campaign."""
    from coldflow.models import ContactStatus
    from coldflow.store import contacts as contact_store
    from coldflow.store.db import unit_of_work

    list_id = await new_list(client, tenant, "bouncy", 2)
    async with unit_of_work(client.app.state.sessions) as session:  # type: ignore[attr-defined]
        await contact_store.raise_status(
            session, tenant.workspace_id, "c0@bouncy.example", ContactStatus.bounced
        )
    campaign = await active_campaign(client, tenant, "third")
    response = await client.post(
        f"/api/v1/campaigns/{campaign}/leads",
        json={"leads": [{"email": "c0@bouncy.example"}, {"email": "c1@bouncy.example"}]},
        headers=tenant.headers,
    )
    results = response.json()["data"]["results"]
    assert [(r["status"], (r["error"] or {}).get("code")) for r in results] == [
        ("failed", "LEAD_SUPPRESSED"),
        ("created", None),
    ]
    del list_id


@pytest.mark.usefixtures("worker")
async def test_csv_import_into_list(client: httpx.AsyncClient, tenant: Tenant) -> None:
    created = await client.post("/api/v1/lists", json={"name": "csv"}, headers=tenant.headers)
    list_id = created.json()["data"]["id"]
    csv = (
        b"Email,First Name,Last Name,Plan\n"
        b"ann@example.com,Ann,Lee,pro\n"
        b"not-an-email,Bad,Row,x\n"
        b"bob@example.com,Bob,,free\n"
        b"ann@example.com,Ann,Again,pro\n"
    )
    response = await client.post(
        f"/api/v1/lists/{list_id}/contacts/import",
        content=csv,
        headers={**tenant.headers, "Content-Type": "text/csv"},
    )
    assert response.status_code == 202, response.text
    record = response.json()["data"]
    assert (record["kind"], record["list_id"], record["campaign_id"]) == (
        "csv_contacts",
        list_id,
        None,
    )
    done = await finished_import(client, tenant, f"/api/v1/lists/{list_id}/imports/{record['id']}")
    assert (done["created"], done["failed"], done["skipped"]) == (2, 1, 1)  # row 5 repeats ann
    assert [e["row"] for e in done["errors"]] == [3]
    members = await client.get(f"/api/v1/lists/{list_id}/contacts", headers=tenant.headers)
    by_email = {c["email"]: c for c in members.json()["data"]}
    assert by_email["ann@example.com"]["name"] == "Ann Lee"
    assert by_email["ann@example.com"]["variables"] == {"plan": "pro"}
    other = await client.get(f"/api/v1/lists/{list_id}/imports/{record['id']}", headers={})
    assert other.status_code == 401


async def test_unknown_list_422(client: httpx.AsyncClient, tenant: Tenant) -> None:
    created = await client.post("/api/v1/campaigns", json={"name": "x"}, headers=tenant.headers)
    campaign_id = created.json()["data"]["id"]
    response = await client.post(
        f"/api/v1/campaigns/{campaign_id}/leads", json={"list_id": "nope"}, headers=tenant.headers
    )
    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["field"] == "list_id"
    with_list = await client.post(
        "/api/v1/campaigns", json={"name": "y", "listId": "nope"}, headers=tenant.headers
    )
    assert with_list.status_code == 422
    assert with_list.json()["error"]["code"] == "LIST_NOT_FOUND"
    listed = await client.get("/api/v1/campaigns", params={"search": "y"}, headers=tenant.headers)
    assert listed.json()["data"] == []  # nothing created

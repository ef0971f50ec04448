"""CSV imports through the API, processed by a real worker on the dev server."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import pytest
from temporalio.testing import WorkflowEnvironment

from coldflow.config import Settings
from tests.fixtures.api import Tenant
from worker import build_worker

CAMPAIGNS = "/api/v1/campaigns"


async def _campaign(client: httpx.AsyncClient, tenant: Tenant) -> str:
    response = await client.post(CAMPAIGNS, json={"name": "Import"}, headers=tenant.headers)
    assert response.status_code == 201
    campaign_id: str = response.json()["data"]["id"]
    return campaign_id


async def _upload(
    client: httpx.AsyncClient, tenant: Tenant, campaign_id: str, content: bytes, **params: str
) -> httpx.Response:
    return await client.post(
        f"{CAMPAIGNS}/{campaign_id}/leads/import",
        content=content,
        params=params,
        headers={**tenant.headers, "Content-Type": "text/csv"},
    )


async def _wait_done(
    client: httpx.AsyncClient, tenant: Tenant, campaign_id: str, import_id: str, timeout: float
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        response = await client.get(
            f"{CAMPAIGNS}/{campaign_id}/imports/{import_id}", headers=tenant.headers
        )
        data: dict[str, Any] = response.json()["data"]
        if data["status"] in ("completed", "failed"):
            return data
        await asyncio.sleep(0.2)
    raise AssertionError(f"import {import_id} did not finish: {data}")


class TestImportLeads:
    async def test_small_file_maps_columns_and_reports_row_errors(
        self,
        client: httpx.AsyncClient,
        tenant: Tenant,
        settings: Settings,
        temporal_env: WorkflowEnvironment,
    ) -> None:
        campaign_id = await _campaign(client, tenant)
        content = (
            "\ufeffEmail,First Name,Company,Tech Stack\n"
            "ada@example.com,Ada,Analytical,Python\n"
            "not-an-email,Bob,Nowhere,\n"
            "\n"
            "ADA@example.com,Ada again,Analytical,Go\n"
            "grace@example.com,Grace,Navy,COBOL\n"
        ).encode()
        async with build_worker(settings, temporal_env.client) as worker, worker:
            response = await _upload(client, tenant, campaign_id, content, filename="team.csv")
            assert response.status_code == 202, response.text
            started = response.json()["data"]
            assert started["status"] == "pending"
            done = await _wait_done(client, tenant, campaign_id, started["id"], 60)
        assert done["status"] == "completed"
        assert (done["created"], done["failed"], done["skipped"]) == (2, 1, 1)
        assert done["processed_rows"] == done["total_rows"] == 4
        [error] = done["errors"]
        assert error["row"] == 3
        assert error["code"] == "INVALID_ROW"
        leads = await client.get(
            f"{CAMPAIGNS}/{campaign_id}/leads", params={"search": "ada"}, headers=tenant.headers
        )
        [ada] = leads.json()["data"]
        assert ada["first_name"] == "Ada"
        assert ada["company"] == "Analytical"
        assert ada["variables"] == {"tech_stack": "Python"}

    async def test_no_email_column_422(self, client: httpx.AsyncClient, tenant: Tenant) -> None:
        campaign_id = await _campaign(client, tenant)
        response = await _upload(client, tenant, campaign_id, b"name,company\nAda,A\n")
        assert response.status_code == 422
        assert response.json()["error"]["code"] == "CSV_NO_EMAIL"

    async def test_empty_file_422(self, client: httpx.AsyncClient, tenant: Tenant) -> None:
        campaign_id = await _campaign(client, tenant)
        response = await _upload(client, tenant, campaign_id, b"")
        assert response.status_code == 422
        assert response.json()["error"]["code"] == "CSV_EMPTY"

    async def test_other_workspace_404(
        self, client: httpx.AsyncClient, tenant: Tenant, other_tenant: Tenant
    ) -> None:
        campaign_id = await _campaign(client, tenant)
        response = await _upload(client, other_tenant, campaign_id, b"email\na@example.com\n")
        assert response.status_code == 404

    async def test_missing_scope_403(self, client: httpx.AsyncClient, tenant: Tenant) -> None:
        from tests.fixtures.api import make_tenant

        reader = await make_tenant(client.app.state.sessions, "ro", scopes=("leads:read",))  # type: ignore[attr-defined]
        response = await client.post(
            f"{CAMPAIGNS}/x/leads/import", content=b"email\n", headers=reader.headers
        )
        assert response.status_code == 403


@pytest.mark.timeout(600)
async def test_hundred_thousand_rows(
    client: httpx.AsyncClient,
    tenant: Tenant,
    settings: Settings,
    temporal_env: WorkflowEnvironment,
) -> None:
    """100,000 rows, 100 of them invalid and 50 repeated: counts and row numbers are exact."""
    campaign_id = await _campaign(client, tenant)
    lines = ["email,first_name,last_name,company,city"]
    bad_lines: list[int] = []
    for n in range(100_000):
        if n % 1000 == 999:
            lines.append(f"broken{n}-at-nowhere,B,C,D,E")
            bad_lines.append(n + 2)  # header is line 1, row n is line n + 2
        elif n % 2000 == 500:
            lines.append(f"lead{n - 1}@example.com,Dup,C,D,E")
        else:
            lines.append(f"lead{n}@example.com,First{n},Last{n},Company {n % 97},City{n % 13}")
    content = ("\n".join(lines) + "\n").encode()
    async with build_worker(settings, temporal_env.client) as worker, worker:
        response = await _upload(client, tenant, campaign_id, content)
        assert response.status_code == 202, response.text
        done = await _wait_done(client, tenant, campaign_id, response.json()["data"]["id"], 540)
    assert done["status"] == "completed", done
    assert done["total_rows"] == done["processed_rows"] == 100_000
    assert done["failed"] == 100
    assert done["skipped"] == 50
    assert done["created"] == 100_000 - 100 - 50
    assert [e["row"] for e in done["errors"]] == bad_lines
    listed = await client.get(f"{CAMPAIGNS}/{campaign_id}/leads", headers=tenant.headers)
    assert listed.json()["metadata"]["total_count"] == 99_850

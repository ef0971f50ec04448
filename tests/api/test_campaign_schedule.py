"""PATCH /campaigns/{id}/schedule (seed 003), detach and delete."""

from __future__ import annotations

import httpx
import pytest

from tests.fixtures.api import Tenant


async def _campaign(client: httpx.AsyncClient, tenant: Tenant) -> str:
    response = await client.post("/api/v1/campaigns", json={"name": "c"}, headers=tenant.headers)
    assert response.status_code == 201
    campaign_id: str = response.json()["data"]["id"]
    return campaign_id


class TestUpdateSchedule:
    async def test_times_snap_to_the_grid_and_are_echoed(
        self, client: httpx.AsyncClient, tenant: Tenant
    ) -> None:
        campaign_id = await _campaign(client, tenant)
        response = await client.patch(
            f"/api/v1/campaigns/{campaign_id}/schedule",
            json={
                "timezone": "America/Chicago",
                "default_window": {"start": "08:45", "end": "17:10"},
                "days": {"friday": {"enabled": True, "start": "09:23", "end": None}},
            },
            headers=tenant.headers,
        )
        assert response.status_code == 200, response.text
        data = response.json()["data"]
        assert data["timezone"] == "America/Chicago"
        assert data["default_window"] == {"start": "09:00", "end": "17:00"}
        assert data["days"]["friday"] == {"enabled": True, "start": "09:30", "end": None}
        assert data["days"]["monday"]["enabled"] is True
        stored = await client.get(f"/api/v1/campaigns/{campaign_id}", headers=tenant.headers)
        assert stored.json()["data"]["schedule"] == data

    @pytest.mark.parametrize(
        ("body", "code", "field"),
        [
            ({"timezone": "Mars/Olympus"}, "INVALID_TIMEZONE", "timezone"),
            ({"default_window": {"start": "17:00", "end": "09:00"}}, "INVALID_WINDOW", None),
            ({"days": {"monday": {"start": "25:00"}}}, "INVALID_TIME", "days.monday.start"),
        ],
        ids=["unsupported-zone", "end-before-start", "bad-time"],
    )
    async def test_invalid_schedule_422_saves_nothing(
        self,
        client: httpx.AsyncClient,
        tenant: Tenant,
        body: dict[str, object],
        code: str,
        field: str | None,
    ) -> None:
        campaign_id = await _campaign(client, tenant)
        before = await client.get(f"/api/v1/campaigns/{campaign_id}", headers=tenant.headers)
        response = await client.patch(
            f"/api/v1/campaigns/{campaign_id}/schedule", json=body, headers=tenant.headers
        )
        assert response.status_code == 422, response.text
        error = response.json()["error"]
        assert error["code"] == code
        if field is not None:
            assert error["details"][0]["field"] == field
        after = await client.get(f"/api/v1/campaigns/{campaign_id}", headers=tenant.headers)
        assert after.json()["data"]["schedule"] == before.json()["data"]["schedule"]

    async def test_unknown_day_422(self, client: httpx.AsyncClient, tenant: Tenant) -> None:
        campaign_id = await _campaign(client, tenant)
        response = await client.patch(
            f"/api/v1/campaigns/{campaign_id}/schedule",
            json={"days": {"funday": {"enabled": True}}},
            headers=tenant.headers,
        )
        assert response.status_code == 422

    async def test_other_workspace_404(
        self, client: httpx.AsyncClient, tenant: Tenant, other_tenant: Tenant
    ) -> None:
        campaign_id = await _campaign(client, tenant)
        response = await client.patch(
            f"/api/v1/campaigns/{campaign_id}/schedule",
            json={"timezone": "Europe/Paris"},
            headers=other_tenant.headers,
        )
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "CAMPAIGN_NOT_FOUND"


class TestDeleteCampaign:
    async def test_delete_204_then_404(self, client: httpx.AsyncClient, tenant: Tenant) -> None:
        campaign_id = await _campaign(client, tenant)
        await client.post(
            f"/api/v1/campaigns/{campaign_id}/leads",
            json={"leads": [{"email": "a@example.com"}]},
            headers=tenant.headers,
        )
        response = await client.delete(f"/api/v1/campaigns/{campaign_id}", headers=tenant.headers)
        assert response.status_code == 204
        gone = await client.get(f"/api/v1/campaigns/{campaign_id}", headers=tenant.headers)
        assert gone.status_code == 404
        leads = await client.get("/api/v1/leads", headers=tenant.headers)
        assert leads.json()["metadata"]["total_count"] == 0

    async def test_other_workspace_404(
        self, client: httpx.AsyncClient, tenant: Tenant, other_tenant: Tenant
    ) -> None:
        campaign_id = await _campaign(client, tenant)
        response = await client.delete(
            f"/api/v1/campaigns/{campaign_id}", headers=other_tenant.headers
        )
        assert response.status_code == 404
        still = await client.get(f"/api/v1/campaigns/{campaign_id}", headers=tenant.headers)
        assert still.status_code == 200

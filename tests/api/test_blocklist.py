"""Blocklist endpoints (seed 003) and their effect on enrollment."""

from __future__ import annotations

import httpx
import pytest

from tests.fixtures.api import Tenant, make_tenant

BLOCKLIST = "/api/v1/blocklist"


async def _block(client: httpx.AsyncClient, tenant: Tenant, value: str) -> httpx.Response:
    return await client.post(BLOCKLIST, json={"email": value}, headers=tenant.headers)


class TestAddEntry:
    @pytest.mark.parametrize(
        ("raw", "shown", "kind"),
        [
            ("Ann@Example.com", "ann@example.com", "email"),
            ("@Example.com", "@example.com", "domain"),
            ("example.org", "@example.org", "domain"),
        ],
        ids=["address", "at-domain", "bare-domain"],
    )
    async def test_normalized(
        self, client: httpx.AsyncClient, tenant: Tenant, raw: str, shown: str, kind: str
    ) -> None:
        response = await _block(client, tenant, raw)
        assert response.status_code == 201, response.text
        data = response.json()["data"]
        assert (data["email"], data["kind"]) == (shown, kind)

    async def test_idempotent(self, client: httpx.AsyncClient, tenant: Tenant) -> None:
        first = await _block(client, tenant, "ann@example.com")
        second = await _block(client, tenant, "ANN@example.com")
        assert first.json()["data"]["id"] == second.json()["data"]["id"]

    @pytest.mark.parametrize("raw", ["not an address", "@", "a@b", "ann@@example.com"])
    async def test_invalid_422(self, client: httpx.AsyncClient, tenant: Tenant, raw: str) -> None:
        response = await _block(client, tenant, raw)
        assert response.status_code == 422
        error = response.json()["error"]
        assert error["code"] == "INVALID_ENTRY"
        assert error["details"][0]["field"] == "email"

    async def test_missing_scope_403(self, client: httpx.AsyncClient) -> None:
        reader = await make_tenant(client.app.state.sessions, "ro", scopes=("blocklist:read",))  # type: ignore[attr-defined]
        response = await _block(client, reader, "ann@example.com")
        assert response.status_code == 403

    async def test_no_key_401(self, client: httpx.AsyncClient) -> None:
        assert (await client.post(BLOCKLIST, json={"email": "a@example.com"})).status_code == 401


class TestCheck:
    async def test_address_and_domain(self, client: httpx.AsyncClient, tenant: Tenant) -> None:
        await _block(client, tenant, "ann@example.com")
        await _block(client, tenant, "@blocked.io")

        async def blocked(email: str) -> bool:
            response = await client.get(
                f"{BLOCKLIST}/check", params={"email": email}, headers=tenant.headers
            )
            assert response.status_code == 200
            result: bool = response.json()["data"]["blocked"]
            return result

        assert await blocked("Ann@Example.com")
        assert await blocked("anyone@blocked.io")
        assert not await blocked("bob@example.com")

    async def test_other_workspace_entries_do_not_apply(
        self, client: httpx.AsyncClient, tenant: Tenant, other_tenant: Tenant
    ) -> None:
        await _block(client, tenant, "ann@example.com")
        response = await client.get(
            f"{BLOCKLIST}/check", params={"email": "ann@example.com"}, headers=other_tenant.headers
        )
        assert response.json()["data"]["blocked"] is False


class TestListAndDelete:
    async def test_list_search_and_delete(self, client: httpx.AsyncClient, tenant: Tenant) -> None:
        for value in ("a@example.com", "b@example.com", "@spam.io"):
            await _block(client, tenant, value)
        listed = await client.get(BLOCKLIST, params={"search": "example"}, headers=tenant.headers)
        assert listed.json()["metadata"]["total_count"] == 2
        entry_id = listed.json()["data"][0]["id"]
        deleted = await client.delete(f"{BLOCKLIST}/{entry_id}", headers=tenant.headers)
        assert deleted.status_code == 204
        again = await client.delete(f"{BLOCKLIST}/{entry_id}", headers=tenant.headers)
        assert again.status_code == 404
        assert again.json()["error"]["code"] == "BLOCKLIST_ENTRY_NOT_FOUND"

    async def test_other_workspace_delete_404(
        self, client: httpx.AsyncClient, tenant: Tenant, other_tenant: Tenant
    ) -> None:
        entry = (await _block(client, tenant, "a@example.com")).json()["data"]
        response = await client.delete(f"{BLOCKLIST}/{entry['id']}", headers=other_tenant.headers)
        assert response.status_code == 404


class TestEnrollment:
    async def test_blocked_leads_refused_with_a_code(
        self, client: httpx.AsyncClient, tenant: Tenant
    ) -> None:
        await _block(client, tenant, "@competitor.com")
        campaign = await client.post(
            "/api/v1/campaigns", json={"name": "c"}, headers=tenant.headers
        )
        campaign_id = campaign.json()["data"]["id"]
        response = await client.post(
            f"/api/v1/campaigns/{campaign_id}/leads",
            json={"leads": [{"email": "spy@Competitor.com"}, {"email": "ok@example.com"}]},
            headers=tenant.headers,
        )
        results = response.json()["data"]["results"]
        assert results[0]["status"] == "failed"
        assert results[0]["error"]["code"] == "LEAD_BLOCKLISTED"
        assert results[1]["status"] == "created"
        single = await client.post(
            f"/api/v1/campaigns/{campaign_id}/leads",
            json={"email": "boss@competitor.com"},
            headers=tenant.headers,
        )
        assert single.status_code == 422
        assert single.json()["error"]["code"] == "LEAD_BLOCKLISTED"

"""/healthz against the real database and dev server, and the API's behaviour while Temporal or
the database is unreachable: 503s naming the part that is down, never a bare 500."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.main import create_app
from coldflow.config import Settings
from tests.fixtures.api import Tenant, make_tenant

DEAD_TEMPORAL = "127.0.0.1:1"


async def app_client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """Like the ``client`` fixture, for settings of the test's own."""
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://coldflow.test") as http:
            http.app = app  # type: ignore[attr-defined]
            yield http


@pytest.fixture
async def temporal_down(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """The app with Temporal pointed at a port nobody listens on."""
    async for http in app_client(settings.model_copy(update={"temporal_address": DEAD_TEMPORAL})):
        yield http


@pytest.fixture
async def down_tenant(temporal_down: httpx.AsyncClient) -> Tenant:
    return await make_tenant(temporal_down.app.state.sessions, "acme")  # type: ignore[attr-defined]


def error_of(response: httpx.Response) -> dict[str, Any]:
    error: dict[str, Any] = response.json()["error"]
    assert error["status"] == response.status_code
    assert error["request_id"] == response.headers["X-Request-ID"]
    return error


class TestHealthz:
    async def test_ok_when_database_and_temporal_answer(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/healthz")

        assert response.status_code == 200
        assert response.json() == {
            "status": "ok",
            "checks": {"database": "ok", "temporal": "ok"},
        }
        assert response.headers["X-Request-ID"]

    async def test_temporal_down_503_names_temporal(self, temporal_down: httpx.AsyncClient) -> None:
        response = await temporal_down.get("/healthz")

        assert response.status_code == 503
        body = response.json()
        assert body["status"] == "unavailable"
        assert body["checks"]["database"] == "ok"
        assert body["checks"]["temporal"] != "ok"
        assert DEAD_TEMPORAL in body["checks"]["temporal"]

    async def test_database_down_503_names_database(
        self, settings: Settings, tmp_path: Path
    ) -> None:
        missing = tmp_path / "no-such-dir" / "coldflow.db"
        broken = settings.model_copy(update={"database_url": f"sqlite+aiosqlite:///{missing}"})

        async for http in app_client(broken):
            response = await http.get("/healthz")

        assert response.status_code == 503
        checks = response.json()["checks"]
        assert checks["database"] != "ok"
        assert checks["temporal"] == "ok"


class TestTemporalDown:
    async def test_campaign_create_still_works(
        self, temporal_down: httpx.AsyncClient, down_tenant: Tenant
    ) -> None:
        response = await temporal_down.post(
            "/api/v1/campaigns", json={"name": "Offline draft"}, headers=down_tenant.headers
        )

        assert response.status_code == 201, response.text
        listed = await temporal_down.get("/api/v1/campaigns", headers=down_tenant.headers)
        assert [c["name"] for c in listed.json()["data"]] == ["Offline draft"]

    async def test_activate_503_temporal_unavailable(
        self, temporal_down: httpx.AsyncClient, down_tenant: Tenant
    ) -> None:
        headers = down_tenant.headers
        inbox = await temporal_down.post(
            "/api/v1/inboxes", json={"email": "s@acme.io", "provider": "sandbox"}, headers=headers
        )
        assert inbox.status_code == 201, inbox.text
        campaign = await temporal_down.post(
            "/api/v1/campaigns",
            json={
                "name": "Ready",
                "sequences": [{"subject": "Hi {{first_name|there}}", "body": "Short."}],
                "inbox_ids": [inbox.json()["data"]["id"]],
            },
            headers=headers,
        )
        campaign_id = campaign.json()["data"]["id"]
        leads = await temporal_down.post(
            f"/api/v1/campaigns/{campaign_id}/leads",
            json={"leads": [{"email": "sarah@example.com"}]},
            headers=headers,
        )
        assert leads.status_code == 201, leads.text

        response = await temporal_down.post(
            f"/api/v1/campaigns/{campaign_id}/activate", headers=headers
        )

        assert response.status_code == 503
        error = error_of(response)
        assert error["code"] == "TEMPORAL_UNAVAILABLE"
        assert DEAD_TEMPORAL in error["message"]

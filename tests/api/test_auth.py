"""Keys in all four places, hashed storage, scopes, and the error envelope on auth failures."""

from __future__ import annotations

import httpx
import pytest
from sqlmodel import select

from coldflow.models import ApiKey
from tests.fixtures.api import Tenant, make_tenant


class TestKeyPlaces:
    @pytest.mark.parametrize(
        ("where"), ["bearer", "x-api-key", "x-user-context", "query"], ids=lambda w: w
    )
    async def test_key_accepted(
        self, client: httpx.AsyncClient, tenant: Tenant, where: str
    ) -> None:
        headers: dict[str, str] = {}
        params: dict[str, str] = {}
        if where == "bearer":
            headers["Authorization"] = f"Bearer {tenant.key}"
        elif where == "query":
            params["api_key"] = tenant.key
        else:
            headers[where] = tenant.key
        response = await client.get("/api/v1/campaigns", headers=headers, params=params)
        assert response.status_code == 200, response.text

    async def test_missing_key_401(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/api/v1/campaigns")
        assert response.status_code == 401
        error = response.json()["error"]
        assert error["code"] == "API_KEY_MISSING"
        assert error["request_id"] == response.headers["X-Request-ID"]

    async def test_invalid_key_401(self, client: httpx.AsyncClient, tenant: Tenant) -> None:
        response = await client.get("/api/v1/campaigns", headers={"X-API-Key": tenant.key + "x"})
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "API_KEY_INVALID"


class TestStorage:
    async def test_key_stored_only_as_hash(self, client: httpx.AsyncClient, tenant: Tenant) -> None:
        async with client.app.state.sessions() as session:  # type: ignore[attr-defined]
            rows = (await session.exec(select(ApiKey))).all()
        assert rows
        for row in rows:
            assert tenant.key not in (row.key_hash, row.hint)
            assert len(row.key_hash) == 64


class TestScopes:
    async def test_missing_scope_403(self, client: httpx.AsyncClient) -> None:
        reader = await make_tenant(
            client.app.state.sessions,
            "readers",
            scopes=("campaigns:read",),  # type: ignore[attr-defined]
        )
        assert (await client.get("/api/v1/campaigns", headers=reader.headers)).status_code == 200
        response = await client.post(
            "/api/v1/campaigns", json={"name": "x"}, headers=reader.headers
        )
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "INSUFFICIENT_SCOPE"


class TestEnvelope:
    async def test_request_id_on_every_response(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/no/such/route")
        assert response.status_code == 404
        assert response.headers["X-Request-ID"].startswith("req_")
        assert response.json()["error"]["code"] == "ROUTE_NOT_FOUND"

    async def test_caller_request_id_echoed(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/api/v1/campaigns", headers={"X-Request-ID": "abc-123"})
        assert response.headers["X-Request-ID"] == "abc-123"

    async def test_invalid_json_400(self, client: httpx.AsyncClient, tenant: Tenant) -> None:
        response = await client.post(
            "/api/v1/campaigns",
            content=b"{not json",
            headers={**tenant.headers, "Content-Type": "application/json"},
        )
        assert response.status_code == 400
        assert response.json()["error"]["code"] == "INVALID_JSON"

    async def test_body_over_limit_413(self, client: httpx.AsyncClient, tenant: Tenant) -> None:
        limit = client.app.state.settings.max_body_bytes  # type: ignore[attr-defined]
        response = await client.post(
            "/api/v1/campaigns",
            content=b"x" * (limit + 1),
            headers={**tenant.headers, "Content-Type": "application/json"},
        )
        assert response.status_code == 413
        assert response.json()["error"]["code"] == "PAYLOAD_TOO_LARGE"

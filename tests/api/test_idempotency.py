"""``Idempotency-Key`` on POST: replay, reuse with another body, per-key scoping, failures not
stored, the 24 h retention and the in-progress guard, against the real app and database."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import update
from sqlmodel import col, select

from api.idempotency import InFlight, request_fingerprint
from coldflow.models import IdempotencyRecord
from coldflow.services import campaigns as campaign_service
from coldflow.store import idempotency as store
from coldflow.store.db import unit_of_work
from tests.fixtures.api import Tenant

CAMPAIGNS = "/api/v1/campaigns"


def with_key(tenant: Tenant, key: str) -> dict[str, str]:
    return {**tenant.headers, "Idempotency-Key": key}


async def count_campaigns(client: httpx.AsyncClient, tenant: Tenant) -> int:
    response = await client.get(CAMPAIGNS, headers=tenant.headers)
    assert response.status_code == 200, response.text
    total: int = response.json()["metadata"]["total_count"]
    return total


def error_of(response: httpx.Response) -> dict[str, Any]:
    error: dict[str, Any] = response.json()["error"]
    assert error["status"] == response.status_code
    assert error["request_id"] == response.headers["X-Request-ID"]
    return error


class TestReplay:
    async def test_retry_replays_first_response(
        self, client: httpx.AsyncClient, tenant: Tenant
    ) -> None:
        first = await client.post(CAMPAIGNS, json={"name": "Q2"}, headers=with_key(tenant, "k-1"))
        assert first.status_code == 201, first.text
        assert "Idempotent-Replayed" not in first.headers

        retry = await client.post(CAMPAIGNS, json={"name": "Q2"}, headers=with_key(tenant, "k-1"))

        assert retry.status_code == 201
        assert retry.headers["Idempotent-Replayed"] == "true"
        assert retry.headers["content-type"] == "application/json"
        assert retry.json() == first.json()
        assert await count_campaigns(client, tenant) == 1

    async def test_without_key_each_post_creates(
        self, client: httpx.AsyncClient, tenant: Tenant
    ) -> None:
        for _ in range(2):
            response = await client.post(CAMPAIGNS, json={"name": "Q2"}, headers=tenant.headers)
            assert response.status_code == 201
        assert await count_campaigns(client, tenant) == 2

    async def test_api_key_in_query_or_header_is_same_request(
        self, client: httpx.AsyncClient, tenant: Tenant
    ) -> None:
        first = await client.post(
            CAMPAIGNS,
            json={"name": "Q2"},
            params={"api_key": tenant.key},
            headers={"Idempotency-Key": "k-1"},
        )
        retry = await client.post(CAMPAIGNS, json={"name": "Q2"}, headers=with_key(tenant, "k-1"))
        assert first.status_code == 201
        assert retry.headers["Idempotent-Replayed"] == "true"
        assert retry.json() == first.json()

    async def test_get_ignores_key(self, client: httpx.AsyncClient, tenant: Tenant) -> None:
        response = await client.get(CAMPAIGNS, headers=with_key(tenant, "x" * 300))
        assert response.status_code == 200


class TestReuse:
    async def test_different_body_422(self, client: httpx.AsyncClient, tenant: Tenant) -> None:
        first = await client.post(CAMPAIGNS, json={"name": "Q2"}, headers=with_key(tenant, "k-1"))
        assert first.status_code == 201

        reused = await client.post(CAMPAIGNS, json={"name": "Q3"}, headers=with_key(tenant, "k-1"))

        assert reused.status_code == 422
        error = error_of(reused)
        assert error["code"] == "IDEMPOTENCY_KEY_REUSED"
        assert error["details"][0]["field"] == "Idempotency-Key"
        assert await count_campaigns(client, tenant) == 1

    async def test_different_path_422(self, client: httpx.AsyncClient, tenant: Tenant) -> None:
        first = await client.post(CAMPAIGNS, json={"name": "Q2"}, headers=with_key(tenant, "k-1"))
        campaign_id = first.json()["data"]["id"]

        reused = await client.post(
            f"{CAMPAIGNS}/{campaign_id}/pause", headers=with_key(tenant, "k-1")
        )

        assert reused.status_code == 422
        assert error_of(reused)["code"] == "IDEMPOTENCY_KEY_REUSED"

    async def test_other_api_key_is_independent(
        self, client: httpx.AsyncClient, tenant: Tenant, other_tenant: Tenant
    ) -> None:
        mine = await client.post(CAMPAIGNS, json={"name": "Q2"}, headers=with_key(tenant, "k-1"))
        theirs = await client.post(
            CAMPAIGNS, json={"name": "Other"}, headers=with_key(other_tenant, "k-1")
        )

        assert mine.status_code == theirs.status_code == 201
        assert "Idempotent-Replayed" not in theirs.headers
        assert theirs.json()["data"]["id"] != mine.json()["data"]["id"]
        assert await count_campaigns(client, other_tenant) == 1


class TestNotStored:
    async def test_failed_request_can_be_retried(
        self, client: httpx.AsyncClient, tenant: Tenant
    ) -> None:
        failed = await client.post(CAMPAIGNS, json={"name": ""}, headers=with_key(tenant, "k-1"))
        assert failed.status_code == 422
        assert error_of(failed)["code"] == "VALIDATION_ERROR"

        fixed = await client.post(CAMPAIGNS, json={"name": "Q2"}, headers=with_key(tenant, "k-1"))

        assert fixed.status_code == 201, fixed.text
        assert "Idempotent-Replayed" not in fixed.headers
        assert await count_campaigns(client, tenant) == 1

    async def test_unauthenticated_401(self, client: httpx.AsyncClient, tenant: Tenant) -> None:
        response = await client.post(
            CAMPAIGNS, json={"name": "Q2"}, headers={"Idempotency-Key": "k-1"}
        )
        assert response.status_code == 401
        assert error_of(response)["code"] == "API_KEY_MISSING"


class TestRetention:
    async def test_record_older_than_24h_ignored(
        self, client: httpx.AsyncClient, tenant: Tenant
    ) -> None:
        first = await client.post(CAMPAIGNS, json={"name": "Q2"}, headers=with_key(tenant, "k-1"))
        sessions = client.app.state.sessions  # type: ignore[attr-defined]
        async with unit_of_work(sessions) as session:
            stored = (await session.exec(select(IdempotencyRecord))).one()
            backdated = stored.created_at - timedelta(hours=24, seconds=1)
            await session.execute(update(IdempotencyRecord).values(created_at=backdated))

        later = await client.post(CAMPAIGNS, json={"name": "Q3"}, headers=with_key(tenant, "k-1"))

        assert later.status_code == 201, later.text
        assert later.json()["data"]["id"] != first.json()["data"]["id"]
        retry = await client.post(CAMPAIGNS, json={"name": "Q3"}, headers=with_key(tenant, "k-1"))
        assert retry.json() == later.json()
        assert await count_campaigns(client, tenant) == 2

    async def test_purge_deletes_only_expired_records(
        self, client: httpx.AsyncClient, tenant: Tenant
    ) -> None:
        for key in ("old", "new"):
            response = await client.post(
                CAMPAIGNS, json={"name": key}, headers=with_key(tenant, key)
            )
            assert response.status_code == 201
        sessions = client.app.state.sessions  # type: ignore[attr-defined]
        async with unit_of_work(sessions) as session:
            stored = (await session.exec(select(IdempotencyRecord))).all()
            cutoff = max(r.created_at for r in stored)
            await session.execute(
                update(IdempotencyRecord)
                .where(col(IdempotencyRecord.key) == "old")
                .values(created_at=cutoff - timedelta(hours=25))
            )
        async with unit_of_work(sessions) as session:
            deleted = await store.purge_records(session, before=cutoff - timedelta(hours=24))
            left = (await session.exec(select(IdempotencyRecord.key))).all()
        assert deleted == 1
        assert left == ["new"]


class TestKeyFormat:
    @pytest.mark.parametrize("key", ["k" * 256, ""], ids=["256-chars", "empty"])
    async def test_invalid_key_422(
        self, client: httpx.AsyncClient, tenant: Tenant, key: str
    ) -> None:
        response = await client.post(CAMPAIGNS, json={"name": "Q2"}, headers=with_key(tenant, key))
        assert response.status_code == 422
        error = error_of(response)
        assert error["code"] == "INVALID_IDEMPOTENCY_KEY"
        assert error["details"][0]["field"] == "Idempotency-Key"
        assert await count_campaigns(client, tenant) == 0

    async def test_key_of_255_chars_accepted(
        self, client: httpx.AsyncClient, tenant: Tenant
    ) -> None:
        headers = with_key(tenant, "k" * 255)
        first = await client.post(CAMPAIGNS, json={"name": "Q2"}, headers=headers)
        retry = await client.post(CAMPAIGNS, json={"name": "Q2"}, headers=headers)
        assert first.status_code == 201
        assert retry.headers["Idempotent-Replayed"] == "true"


class TestInProgress:
    async def test_concurrent_duplicate_409(
        self, client: httpx.AsyncClient, tenant: Tenant, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        started, proceed = asyncio.Event(), asyncio.Event()
        create = campaign_service.create_campaign

        async def slow_create(**kwargs: Any) -> Any:
            started.set()
            await proceed.wait()
            return await create(**kwargs)

        monkeypatch.setattr(campaign_service, "create_campaign", slow_create)
        headers = with_key(tenant, "k-1")
        first = asyncio.create_task(client.post(CAMPAIGNS, json={"name": "Q2"}, headers=headers))
        await asyncio.wait_for(started.wait(), timeout=10)

        duplicate = await client.post(CAMPAIGNS, json={"name": "Q2"}, headers=headers)
        proceed.set()
        original = await first

        assert duplicate.status_code == 409
        assert error_of(duplicate)["code"] == "IDEMPOTENCY_KEY_IN_PROGRESS"
        assert original.status_code == 201
        retry = await client.post(CAMPAIGNS, json={"name": "Q2"}, headers=headers)
        assert retry.headers["Idempotent-Replayed"] == "true"
        assert await count_campaigns(client, tenant) == 1

    def test_guard_claims_once_until_released(self) -> None:
        guard = InFlight()
        assert guard.claim("key_a", "k-1")
        assert not guard.claim("key_a", "k-1")
        assert guard.claim("key_b", "k-1")
        guard.release("key_a", "k-1")
        assert guard.claim("key_a", "k-1")


class TestFingerprint:
    @pytest.mark.parametrize(
        ("other", "same"),
        [
            (("POST", "/api/v1/campaigns", "", b'{"name":"a"}'), True),
            (("POST", "/api/v1/campaigns", "api_key=secret", b'{"name":"a"}'), True),
            (("POST", "/api/v1/campaigns", "", b'{"name":"b"}'), False),
            (("POST", "/api/v1/leads", "", b'{"name":"a"}'), False),
            (("POST", "/api/v1/campaigns", "dry_run=1", b'{"name":"a"}'), False),
            (("PUT", "/api/v1/campaigns", "", b'{"name":"a"}'), False),
        ],
        ids=["identical", "api-key-param-ignored", "body", "path", "query", "method"],
    )
    def test_what_makes_a_request_the_same(
        self, other: tuple[str, str, str, bytes], same: bool
    ) -> None:
        base = request_fingerprint("POST", "/api/v1/campaigns", "", b'{"name":"a"}')
        assert (request_fingerprint(*other) == base) is same
        assert len(base) == 64

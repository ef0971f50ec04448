"""Per-key rate limits: the general limit, the campaign-creation limit, 429 with ``Retry-After``,
``X-RateLimit-*`` on every response, and the window reset, on an app with a hand-moved clock."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from api.main import create_app
from api.ratelimit import Limit, RateLimiter
from coldflow.config import Settings
from tests.fixtures.api import Tenant, make_tenant

CAMPAIGNS = "/api/v1/campaigns"
GENERAL_LIMIT = 20
CREATE_LIMIT = 10


class FakeClock:
    """Monotonic seconds that only move when a test says so."""

    def __init__(self) -> None:
        self.seconds = 1000.0

    def __call__(self) -> float:
        return self.seconds

    def advance(self, seconds: float) -> None:
        self.seconds += seconds


@dataclass
class Limited:
    http: httpx.AsyncClient
    clock: FakeClock
    tenant: Tenant
    other: Tenant


@pytest.fixture
async def limited(settings: Settings) -> AsyncIterator[Limited]:
    """An app with low limits (20 requests, 10 creations a minute) and a fake clock."""
    app = create_app(
        settings.model_copy(
            update={
                "rate_limit_per_minute": GENERAL_LIMIT,
                "campaign_create_limit_per_minute": CREATE_LIMIT,
            }
        )
    )
    clock = FakeClock()
    app.state.rate_limiter.now = clock
    async with app.router.lifespan_context(app):
        tenant = await make_tenant(app.state.sessions, "acme")
        other = await make_tenant(app.state.sessions, "globex")
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://coldflow.test") as http:
            yield Limited(http=http, clock=clock, tenant=tenant, other=other)


def rate_headers(response: httpx.Response) -> tuple[int, int, int]:
    """(limit, remaining, reset) from the ``X-RateLimit-*`` headers."""
    return (
        int(response.headers["X-RateLimit-Limit"]),
        int(response.headers["X-RateLimit-Remaining"]),
        int(response.headers["X-RateLimit-Reset"]),
    )


def error_of(response: httpx.Response) -> dict[str, Any]:
    error: dict[str, Any] = response.json()["error"]
    assert error["status"] == response.status_code
    assert error["request_id"] == response.headers["X-Request-ID"]
    return error


async def create(api: Limited, tenant: Tenant | None = None) -> httpx.Response:
    return await api.http.post(
        CAMPAIGNS, json={"name": "Q2"}, headers=(tenant or api.tenant).headers
    )


async def list_campaigns(api: Limited, tenant: Tenant | None = None) -> httpx.Response:
    return await api.http.get(CAMPAIGNS, headers=(tenant or api.tenant).headers)


class TestHeaders:
    async def test_headers_on_200(self, limited: Limited) -> None:
        response = await list_campaigns(limited)
        assert response.status_code == 200
        assert rate_headers(response) == (GENERAL_LIMIT, GENERAL_LIMIT - 1, 60)

    async def test_remaining_counts_down_and_reset_nears(self, limited: Limited) -> None:
        await list_campaigns(limited)
        limited.clock.advance(15)
        response = await list_campaigns(limited)
        assert rate_headers(response) == (GENERAL_LIMIT, GENERAL_LIMIT - 2, 45)

    async def test_headers_on_error_response(self, limited: Limited) -> None:
        response = await limited.http.get(f"{CAMPAIGNS}/no-such-id", headers=limited.tenant.headers)
        assert response.status_code == 404
        assert rate_headers(response)[0] == GENERAL_LIMIT

    async def test_campaign_create_reports_the_tighter_limit(self, limited: Limited) -> None:
        response = await create(limited)
        assert response.status_code == 201
        assert rate_headers(response) == (CREATE_LIMIT, CREATE_LIMIT - 1, 60)

    async def test_outside_api_prefix_no_headers(self, limited: Limited) -> None:
        response = await limited.http.get("/openapi.json", headers=limited.tenant.headers)
        assert "X-RateLimit-Limit" not in response.headers


class TestCampaignCreateLimit:
    async def test_eleventh_create_in_a_minute_429(self, limited: Limited) -> None:
        for _ in range(CREATE_LIMIT):
            assert (await create(limited)).status_code == 201
        limited.clock.advance(20)

        refused = await create(limited)

        assert refused.status_code == 429
        error = error_of(refused)
        assert error["code"] == "RATE_LIMITED"
        assert error["details"] == [{"limit": "campaign_create", "per_minute": CREATE_LIMIT}]
        assert refused.headers["Retry-After"] == "40"
        assert rate_headers(refused) == (CREATE_LIMIT, 0, 40)
        listed = await list_campaigns(limited)
        assert listed.json()["metadata"]["total_count"] == CREATE_LIMIT

    async def test_other_requests_still_allowed(self, limited: Limited) -> None:
        for _ in range(CREATE_LIMIT + 1):
            await create(limited)
        response = await list_campaigns(limited)
        assert response.status_code == 200
        # 10 creations, the refused one is not counted, and this list.
        assert rate_headers(response)[1] == GENERAL_LIMIT - CREATE_LIMIT - 1

    async def test_keys_are_limited_separately(self, limited: Limited) -> None:
        for _ in range(CREATE_LIMIT + 1):
            await create(limited)
        assert (await create(limited, limited.other)).status_code == 201

    async def test_window_resets_after_a_minute(self, limited: Limited) -> None:
        for _ in range(CREATE_LIMIT + 1):
            await create(limited)
        limited.clock.advance(59)
        assert (await create(limited)).status_code == 429
        limited.clock.advance(1)

        response = await create(limited)

        assert response.status_code == 201
        assert rate_headers(response) == (CREATE_LIMIT, CREATE_LIMIT - 1, 60)


class TestGeneralLimit:
    async def test_request_over_the_general_limit_429(self, limited: Limited) -> None:
        for _ in range(GENERAL_LIMIT):
            assert (await list_campaigns(limited)).status_code == 200

        refused = await list_campaigns(limited)

        assert refused.status_code == 429
        assert error_of(refused)["code"] == "RATE_LIMITED"
        assert refused.headers["Retry-After"] == "60"
        assert rate_headers(refused) == (GENERAL_LIMIT, 0, 60)

    async def test_general_limit_also_covers_creates(self, limited: Limited) -> None:
        for _ in range(GENERAL_LIMIT):
            await list_campaigns(limited)
        refused = await create(limited)
        assert refused.status_code == 429
        assert error_of(refused)["details"][0]["limit"] == "general"

    async def test_general_window_resets(self, limited: Limited) -> None:
        for _ in range(GENERAL_LIMIT + 1):
            await list_campaigns(limited)
        limited.clock.advance(60)
        response = await list_campaigns(limited)
        assert response.status_code == 200
        assert rate_headers(response) == (GENERAL_LIMIT, GENERAL_LIMIT - 1, 60)

    async def test_unauthenticated_requests_not_limited(self, limited: Limited) -> None:
        for _ in range(GENERAL_LIMIT + 5):
            response = await limited.http.get(CAMPAIGNS)
            assert response.status_code == 401
        assert "X-RateLimit-Limit" not in response.headers
        assert (await list_campaigns(limited)).status_code == 200


class TestLimiter:
    def test_refused_hit_costs_nothing(self) -> None:
        clock = FakeClock()
        limiter = RateLimiter(now=clock)
        general, create_limit = Limit("general", "requests", 5), Limit("c", "creations", 1)
        assert limiter.hit("key", [general, create_limit]).allowed
        refused = limiter.hit("key", [general, create_limit])
        assert not refused.allowed
        assert refused.limit == create_limit
        assert limiter.hit("key", [general]).remaining == 3

    def test_retry_after_is_at_least_one_second(self) -> None:
        clock = FakeClock()
        limiter = RateLimiter(now=clock)
        only = Limit("general", "requests", 1)
        limiter.hit("key", [only])
        clock.advance(59.9)
        assert limiter.hit("key", [only]).reset_after == 1

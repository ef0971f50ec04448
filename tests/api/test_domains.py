"""Sender domains: the list, CRUD, and DNS checks run by a real worker against the local DNS
server of tests/fixtures/dns_server.py (good.test, nodkim.test, badspf.test, nodmarc.test)."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import pytest
from sqlmodel import select
from temporalio.client import ScheduleIntervalSpec
from temporalio.testing import WorkflowEnvironment

from coldflow.config import Settings
from coldflow.contracts.domains import DOMAINS_RECHECK_WORKFLOW, RECHECK_EVERY, DomainsRecheckResult
from coldflow.models import DomainState, Event, SenderDomain
from coldflow.services import domains as domain_service
from coldflow.store.db import unit_of_work
from tests.api.test_conversations import _sessions, assert_error, reader
from tests.fixtures.api import Tenant

DOMAINS = "/api/v1/domains"


@pytest.fixture
def settings(settings: Settings, dns_server: str) -> Settings:
    """The tests' settings, resolving through the local DNS server."""
    return settings.model_copy(update={"dns_resolver": dns_server, "dns_timeout_seconds": 2.0})


async def add(
    client: httpx.AsyncClient, tenant: Tenant, domain: str, **extra: Any
) -> dict[str, Any]:
    response = await client.post(DOMAINS, json={"domain": domain, **extra}, headers=tenant.headers)
    assert response.status_code == 201, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


async def verified(client: httpx.AsyncClient, tenant: Tenant, domain_id: str) -> dict[str, Any]:
    """Ask for a check and wait until its result is stored."""
    response = await client.post(f"{DOMAINS}/{domain_id}/verify", headers=tenant.headers)
    assert response.status_code == 202, response.text
    before = response.json()["data"]["checked_at"]
    deadline = time.monotonic() + 30
    while True:
        shown = (await client.get(f"{DOMAINS}/{domain_id}", headers=tenant.headers)).json()["data"]
        if shown["checked_at"] != before or time.monotonic() > deadline:
            assert shown["checked_at"] != before, shown
            return dict(shown)
        await asyncio.sleep(0.05)


def by_name(domain: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {check["name"]: check for check in domain["checks"]}


@pytest.mark.usefixtures("worker")
class TestVerify:
    @pytest.mark.parametrize(
        ("domain", "status", "failing"),
        [
            ("good.test", "verified", {}),
            ("nodkim.test", "partially_verified", {"dkim": "fail"}),
            ("badspf.test", "partially_verified", {"spf": "fail", "dmarc": "warn"}),
            ("nodmarc.test", "partially_verified", {"dmarc": "fail"}),
        ],
    )
    async def test_status_and_hints(
        self,
        client: httpx.AsyncClient,
        tenant: Tenant,
        domain: str,
        status: str,
        failing: dict[str, str],
    ) -> None:
        created = await add(client, tenant, domain)
        assert (created["status"], created["checks"]) == ("pending", [])
        result = await verified(client, tenant, created["id"])
        assert result["status"] == status
        checks = by_name(result)
        assert {
            n: c["status"] for n, c in checks.items() if c["status"] in ("fail", "warn")
        } == failing
        for name in failing:
            assert checks[name]["hint"], checks[name]
        if domain == "badspf.test":
            assert "10" in checks["spf"]["hint"] or "lookup" in checks["spf"]["hint"].lower()
        if domain == "nodmarc.test":
            assert "_dmarc.nodmarc.test" in checks["dmarc"]["hint"]
        if domain == "nodkim.test":
            assert "_domainkey" in checks["dkim"]["hint"]

    async def test_daily_recheck_raises_degraded(
        self,
        client: httpx.AsyncClient,
        tenant: Tenant,
        settings: Settings,
        temporal_env: WorkflowEnvironment,
    ) -> None:
        """A domain that was verified and now lacks DKIM degrades: one domain.degraded event."""
        created = await add(client, tenant, "nodkim.test")
        async with unit_of_work(_sessions(client)) as session:
            row = await session.get(SenderDomain, created["id"])
            assert row is not None
            row.status = DomainState.verified  # as after an earlier check, before the key went
            session.add(row)
        result = await temporal_env.client.execute_workflow(
            DOMAINS_RECHECK_WORKFLOW,
            id=f"recheck-{time.monotonic_ns()}",
            task_queue=settings.task_queue,
            result_type=DomainsRecheckResult,
        )
        assert result.degraded >= 1
        async with unit_of_work(_sessions(client)) as session:
            events = (
                await session.exec(
                    select(Event).where(
                        Event.workspace_id == tenant.workspace_id, Event.type == "domain.degraded"
                    )
                )
            ).all()
        [event] = events
        assert (event.data["domain"], event.data["previous_status"], event.data["status"]) == (
            "nodkim.test",
            "verified",
            "partially_verified",
        )
        assert [c["name"] for c in event.data["failing"]] == ["dkim"]
        again = await client.get(f"{DOMAINS}/{created['id']}", headers=tenant.headers)
        assert again.json()["data"]["status"] == "partially_verified"

    async def test_schedule_is_daily_and_created_once(
        self, settings: Settings, temporal_env: WorkflowEnvironment
    ) -> None:
        client = temporal_env.client
        first = await domain_service.ensure_recheck_schedule(client, settings.task_queue)
        second = await domain_service.ensure_recheck_schedule(client, settings.task_queue)
        assert first == second == f"domains/recheck/{settings.task_queue}"
        description = await client.get_schedule_handle(first).describe()
        [interval] = description.schedule.spec.intervals
        assert interval == ScheduleIntervalSpec(every=RECHECK_EVERY)
        await client.get_schedule_handle(first).delete()


class TestResource:
    async def test_inbox_domains_are_listed(
        self, client: httpx.AsyncClient, tenant: Tenant
    ) -> None:
        for email in ("a@acme.io", "b@acme.io", "c@Other.example"):
            response = await client.post(
                "/api/v1/inboxes",
                json={"email": email, "provider": "sandbox"},
                headers=tenant.headers,
            )
            assert response.status_code == 201, response.text
        listed = await client.get(
            DOMAINS, params={"sort_by": "domain", "sort_order": "asc"}, headers=tenant.headers
        )
        rows = [(d["domain"], d["inbox_count"], d["status"]) for d in listed.json()["data"]]
        assert rows == [("acme.io", 2, "pending"), ("other.example", 1, "pending")]
        [acme] = [d for d in listed.json()["data"] if d["domain"] == "acme.io"]
        busy = await client.delete(f"{DOMAINS}/{acme['id']}", headers=tenant.headers)
        assert_error(busy, 409, "DOMAIN_IN_USE", None)

    async def test_add_update_delete(self, client: httpx.AsyncClient, tenant: Tenant) -> None:
        created = await add(client, tenant, "Yourdomain.COM.", dkim_selector="cf2024")
        assert (created["domain"], created["dkim_selector"], created["inbox_count"]) == (
            "yourdomain.com",
            "cf2024",
            0,
        )
        duplicate = await client.post(
            DOMAINS, json={"domain": "yourdomain.com"}, headers=tenant.headers
        )
        assert_error(duplicate, 409, "DOMAIN_EXISTS", None)
        patched = await client.patch(
            f"{DOMAINS}/{created['id']}",
            json={"tracking_domain": "Track.Yourdomain.com"},
            headers=tenant.headers,
        )
        assert patched.status_code == 200, patched.text
        assert patched.json()["data"]["tracking_domain"] == "track.yourdomain.com"
        assert patched.json()["data"]["dkim_selector"] == "cf2024"  # untouched
        deleted = await client.delete(f"{DOMAINS}/{created['id']}", headers=tenant.headers)
        assert deleted.status_code == 204
        gone = await client.get(f"{DOMAINS}/{created['id']}", headers=tenant.headers)
        assert gone.status_code == 404

    @pytest.mark.parametrize(
        ("body", "code", "field"),
        [
            ({"domain": "not a domain"}, "INVALID_DOMAIN", "domain"),
            ({"domain": "localhost"}, "INVALID_DOMAIN", "domain"),
            (
                {"domain": "ok.example", "tracking_domain": "-bad-.example"},
                "INVALID_DOMAIN",
                "tracking_domain",
            ),
            ({"domain": "ok.example", "dkim_selector": "bad selector"}, "VALIDATION_ERROR", None),
            ({"domain": "ok.example", "extra": 1}, "VALIDATION_ERROR", None),
        ],
    )
    async def test_invalid_422(
        self,
        client: httpx.AsyncClient,
        tenant: Tenant,
        body: dict[str, Any],
        code: str,
        field: str | None,
    ) -> None:
        response = await client.post(DOMAINS, json=body, headers=tenant.headers)
        assert_error(response, 422, code, field)

    async def test_other_workspace_404(
        self, client: httpx.AsyncClient, tenant: Tenant, other_tenant: Tenant
    ) -> None:
        created = await add(client, tenant, "mine.example")
        for method, url in [
            ("GET", f"{DOMAINS}/{created['id']}"),
            ("PATCH", f"{DOMAINS}/{created['id']}"),
            ("DELETE", f"{DOMAINS}/{created['id']}"),
            ("POST", f"{DOMAINS}/{created['id']}/verify"),
        ]:
            kwargs: dict[str, Any] = {"json": {}} if method == "PATCH" else {}
            response = await client.request(method, url, headers=other_tenant.headers, **kwargs)
            assert response.status_code == 404, (method, url, response.text)
        assert (await client.get(DOMAINS, headers=other_tenant.headers)).json()["data"] == []

    async def test_scopes(self, client: httpx.AsyncClient) -> None:
        read_only = await reader(client, ("domains:read",))
        assert (await client.get(DOMAINS, headers=read_only.headers)).status_code == 200
        refused = await client.post(
            DOMAINS, json={"domain": "x.example"}, headers=read_only.headers
        )
        assert refused.status_code == 403
        assert (await client.get(DOMAINS)).status_code == 401

    async def test_stats_count_domains(self, client: httpx.AsyncClient, tenant: Tenant) -> None:
        await add(client, tenant, "one.example")
        stats = (await client.get("/api/v1/stats", headers=tenant.headers)).json()["data"]
        assert stats["domains"] == {
            "total": 1,
            "pending": 1,
            "verified": 0,
            "partially_verified": 0,
            "failed": 0,
        }

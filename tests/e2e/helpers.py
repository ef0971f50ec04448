"""Building blocks for end-to-end tests: a schedule that is open right now, API set-up calls."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from coldflow.schedule import SUPPORTED_TIMEZONES
from tests.fixtures.api import Tenant
from tests.fixtures.smtp import SmtpServer


def zone_open_now(now: datetime | None = None) -> str:
    """A supported zone where it is now mid-day, so a 00:00–23:30 window is open for hours."""
    now = now or datetime.now(UTC)
    for name in SUPPORTED_TIMEZONES:
        if 3 <= now.astimezone(ZoneInfo(name)).hour <= 19:
            return name
    raise AssertionError("no supported zone is mid-day: impossible with 26 zones")


def always_open(zone: str) -> dict[str, Any]:
    """A seed 003 schedule open every day from 00:00 to 23:30."""
    days = {
        d: {"enabled": True, "start": None, "end": None}
        for d in ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
    }
    return {"timezone": zone, "default_window": {"start": "00:00", "end": "23:30"}, "days": days}


async def create_inbox(
    client: httpx.AsyncClient,
    tenant: Tenant,
    smtp: SmtpServer,
    email: str = "alex@sender.example.com",
) -> dict[str, Any]:
    response = await client.post(
        "/api/v1/inboxes",
        json={
            "email": email,
            "first_name": "Alex",
            "last_name": "Sender",
            "smtp": {
                "host": smtp.host,
                "port": smtp.port,
                "password": "secret-password",
                "security": "none",
            },
        },
        headers=tenant.headers,
    )
    assert response.status_code == 201, response.text
    inbox: dict[str, Any] = response.json()["data"]
    return await wait_connection(client, tenant, inbox["id"])


async def wait_connection(
    client: httpx.AsyncClient, tenant: Tenant, inbox_id: str, expected: str = "connected"
) -> dict[str, Any]:
    """Poll until the background connection check (needs a running worker) has answered."""
    for _ in range(300):
        response = await client.get(f"/api/v1/inboxes/{inbox_id}", headers=tenant.headers)
        inbox: dict[str, Any] = response.json()["data"]
        if inbox["connection_status"] in ("connected", "error"):
            assert inbox["connection_status"] == expected, inbox
            return inbox
        await asyncio.sleep(0.05)
    raise AssertionError(f"inbox {inbox_id} still {inbox['connection_status']}")


async def create_two_step_campaign(
    client: httpx.AsyncClient, tenant: Tenant, inbox_id: str, zone: str, delay_days: int = 3
) -> dict[str, Any]:
    response = await client.post(
        "/api/v1/campaigns",
        json={
            "name": "Walking skeleton",
            "daily_limit": 50,
            "schedule": always_open(zone),
            "sequences": [
                {
                    "step": 1,
                    "delay_days": 0,
                    "subject": "{{company}} and pipelines",
                    "body": "Hi {{first_name}},\n\nWorth a look?",
                },
                {
                    "step": 2,
                    "delay_days": delay_days,
                    "subject": "",
                    "body": "Hi {{first_name}}, following up.",
                },
            ],
            "inbox_ids": [inbox_id],
        },
        headers=tenant.headers,
    )
    assert response.status_code == 201, response.text
    campaign: dict[str, Any] = response.json()["data"]
    return campaign


async def add_lead(
    client: httpx.AsyncClient,
    tenant: Tenant,
    campaign_id: str,
    email: str = "sarah@lead.example.com",
) -> str:
    response = await client.post(
        f"/api/v1/campaigns/{campaign_id}/leads",
        json={"leads": [{"email": email, "first_name": "Sarah", "company": "Acme Corp"}]},
        headers=tenant.headers,
    )
    assert response.status_code == 201, response.text
    result = response.json()["data"]["results"][0]
    assert result["status"] == "created", result
    lead_id: str = result["id"]
    return lead_id

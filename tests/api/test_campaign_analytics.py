"""GET /campaigns/{id}/analytics (seed 003): headline, 30 local days, per-variant numbers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx

from coldflow.models import Event, JourneyState, Lead, LeadStatus, SentMessage
from coldflow.store.db import SessionFactory, unit_of_work
from tests.fixtures.api import Tenant


async def _seed_activity(sessions: SessionFactory, tenant: Tenant, campaign: dict) -> None:  # type: ignore[type-arg]
    """Four leads contacted with variant A of step 1, two sent yesterday; one positive reply
    (twice: a lead answering again counts once); the replied lead and one other are done."""
    variant_id = campaign["sequences"][0]["variants"][0]["id"]
    now = datetime.now(UTC)
    async with unit_of_work(sessions) as session:
        for n in range(4):
            lead = Lead(
                workspace_id=tenant.workspace_id,
                campaign_id=campaign["id"],
                email=f"l{n}@example.com",
                status=LeadStatus.contacted,
                journey_state=JourneyState.stopped if n < 2 else JourneyState.waiting,
            )
            session.add(lead)
            await session.flush()
            sent_at = now - timedelta(days=1 if n < 2 else 0)
            session.add(
                SentMessage(
                    workspace_id=tenant.workspace_id,
                    campaign_id=campaign["id"],
                    lead_id=lead.id,
                    step=1,
                    variant_id=variant_id,
                    message_id=f"<m{n}@x.example>",
                    to_email=lead.email,
                    sent_at=sent_at,
                )
            )
            if n == 0:
                lead.status = LeadStatus.replied
                session.add_all(
                    Event(
                        workspace_id=tenant.workspace_id,
                        type="email.replied",
                        campaign_id=campaign["id"],
                        lead_id=lead.id,
                        step=1,
                        variant_id=variant_id,
                        data={"is_positive": True},
                        occurred_at=now - timedelta(seconds=second),
                    )
                    for second in (0, 1)
                )


async def test_analytics_shape_and_numbers(client: httpx.AsyncClient, tenant: Tenant) -> None:
    created = await client.post(
        "/api/v1/campaigns",
        json={"name": "Numbers", "sequences": [{"subject": "Hi", "body": "Hello"}]},
        headers=tenant.headers,
    )
    campaign = created.json()["data"]
    await _seed_activity(client.app.state.sessions, tenant, campaign)  # type: ignore[attr-defined]

    response = await client.get(
        f"/api/v1/campaigns/{campaign['id']}/analytics", headers=tenant.headers
    )
    assert response.status_code == 200, response.text
    data = response.json()["data"]
    assert (data["leads_count"], data["contacted"], data["sent"]) == (4, 4, 4)
    assert (data["replies"], data["reply_rate"]) == (1, 25.0)
    assert (data["positive_replies"], data["positive_reply_rate"]) == (1, 25.0)
    assert data["progress"] == 50  # two of four sequences ended
    daily = data["daily"]
    assert len(daily) == 30
    assert daily[-1]["date"] == datetime.now(UTC).date().isoformat()  # campaign zone is UTC
    assert (daily[-1]["sent"], daily[-1]["replies"]) == (2, 1)
    assert daily[-2]["sent"] == 2
    [variant] = data["sequences"][0]["variants"]
    assert (variant["sent"], variant["replies"], variant["reply_rate"]) == (4, 1, 25.0)


async def test_other_workspace_404(
    client: httpx.AsyncClient, tenant: Tenant, other_tenant: Tenant
) -> None:
    created = await client.post("/api/v1/campaigns", json={"name": "x"}, headers=tenant.headers)
    response = await client.get(
        f"/api/v1/campaigns/{created.json()['data']['id']}/analytics", headers=other_tenant.headers
    )
    assert response.status_code == 404

"""The emails log (seed 004's GET /emails and /emails/{id}) and workspace stats (GET /stats).

The end-to-end case sends real mail through a journey (time-skipping server, aiosmtpd) and
follows the tracking URLs of the received bytes; the filter and paging cases seed rows, since
they test queries, not the send path.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from coldflow.models import EmailSource, EmailTag, Event, SendStatus, SentMessage
from coldflow.store.db import SessionFactory, unit_of_work
from tests.api.test_public import Public, paths, public  # noqa: F401  (fixture)
from tests.fixtures.api import Tenant, make_tenant

EMAILS = "/api/v1/emails"


class TestAgainstRealMail:
    async def test_sent_step_with_open_and_click(self, public: Public) -> None:  # noqa: F811
        campaign, lead, _handle, html = await public.mail(track_opens=True, track_clicks=True)
        [pixel] = paths(html, "o")
        pricing, _home = paths(html, "c")
        assert (await public.http.get(pixel)).status_code == 200
        assert (await public.http.get(pricing)).status_code in (302, 303, 307)
        assert (await public.http.get(pricing)).status_code in (302, 303, 307)

        listed = await public.http.get(
            EMAILS, params={"campaign_id": campaign.id}, headers=public.headers
        )
        assert listed.status_code == 200, listed.text
        [email] = listed.json()["data"]
        [received] = public.world.smtp.messages
        assert email["message_id"] == received.message["Message-ID"]
        assert email["to"] == lead.email == received.message["To"].split("<")[-1].rstrip(">")
        assert (email["status"], email["source"], email["step"]) == ("sent", "campaign", 1)
        assert (email["opens"], email["clicks"], email["replies"]) == (1, 2, 0)
        assert email["from_email"] == received.message["From"].split("<")[-1].rstrip(">")

        shown = await public.http.get(f"{EMAILS}/{email['id']}", headers=public.headers)
        assert shown.status_code == 200, shown.text
        detail = shown.json()["data"]
        types = [e["type"] for e in detail["events"]]
        assert types == ["email.sent", "email.opened", "email.clicked", "email.clicked"]
        assert detail["events"][2]["data"]["url"].startswith("https://acme.example/pricing")
        assert "pricing" in detail["html"]
        assert "/t/c/" not in detail["html"]  # the log keeps the message as written

        stats = await public.http.get("/api/v1/stats", headers=public.headers)
        assert stats.status_code == 200, stats.text
        numbers = stats.json()["data"]
        assert numbers["emails_this_month"] == 1
        assert numbers["last_30_days"] == {"sent": 1, "replied": 0, "bounced": 0}
        assert (numbers["leads"], numbers["campaigns"]["active"]) == (1, 1)


async def _seed(sessions: SessionFactory, tenant: Tenant) -> list[str]:
    """Five API emails: three sent (two tagged), a bounce, one still queued; one replied to."""
    now = datetime.now(UTC)
    ids: list[str] = []
    async with unit_of_work(sessions) as session:
        for n, status in enumerate(
            [
                SendStatus.sent,
                SendStatus.sent,
                SendStatus.sent,
                SendStatus.bounced,
                SendStatus.queued,
            ]
        ):
            email = SentMessage(
                workspace_id=tenant.workspace_id,
                source=EmailSource.api,
                message_id=f"<seed{n}.{tenant.workspace_id}@x.example>",
                to_email=f"r{n}@example.com",
                subject=f"Subject {n}",
                status=status,
                reserved_at=now - timedelta(minutes=10 - n),
                sent_at=now if status != SendStatus.queued else None,
                tags={"type": "welcome"} if n < 2 else {},
            )
            session.add(email)
            await session.flush()
            ids.append(email.id)
            for name, value in email.tags.items():
                session.add(
                    EmailTag(
                        email_id=email.id, name=name, value=value, workspace_id=tenant.workspace_id
                    )
                )
        session.add(Event(workspace_id=tenant.workspace_id, type="email.replied", email_id=ids[0]))
        session.add(Event(workspace_id=tenant.workspace_id, type="email.bounced", email_id=ids[3]))
    return ids


def _sessions(client: httpx.AsyncClient) -> SessionFactory:
    sessions: SessionFactory = client.app.state.sessions  # type: ignore[attr-defined]
    return sessions


class TestListAndShow:
    async def test_filters(self, client: httpx.AsyncClient, tenant: Tenant) -> None:
        ids = await _seed(_sessions(client), tenant)

        async def listed(**params: object) -> list[str]:
            response = await client.get(EMAILS, params=params, headers=tenant.headers)
            assert response.status_code == 200, response.text
            return [e["id"] for e in response.json()["data"]]

        assert await listed() == ids[::-1]  # newest first
        assert await listed(status="sent") == ids[2::-1]
        assert await listed(status="queued") == [ids[4]]
        assert await listed(status="bounced") == [ids[3]]
        assert await listed(tag="type:welcome") == [ids[1], ids[0]]
        assert await listed(tag=["type:welcome", "type:other"]) == []
        assert await listed(search="subject 3") == [ids[3]]
        assert await listed(source="campaign") == []
        assert await listed(sort_by="to", sort_order="asc") == ids
        page = await client.get(EMAILS, params={"page_size": 2}, headers=tenant.headers)
        assert page.json()["metadata"] == {
            "page": 1,
            "page_size": 2,
            "total_count": 5,
            "total_pages": 3,
        }

    async def test_counts_and_events(self, client: httpx.AsyncClient, tenant: Tenant) -> None:
        ids = await _seed(_sessions(client), tenant)
        response = await client.get(f"{EMAILS}/{ids[0]}", headers=tenant.headers)
        assert response.status_code == 200
        data = response.json()["data"]
        assert (data["replies"], data["tags"], data["source"]) == (1, {"type": "welcome"}, "api")
        assert [e["type"] for e in data["events"]] == ["email.replied"]
        assert data["step"] is None

    @pytest.mark.parametrize(
        ("params", "field", "code"),
        [
            ({"tag": "no-colon"}, "tag", "INVALID_TAG"),
            ({"sort_by": "subject"}, "sort_by", "INVALID_SORT"),
            ({"status": "opened"}, "status", "VALIDATION_ERROR"),
        ],
    )
    async def test_invalid_filters_422(
        self,
        client: httpx.AsyncClient,
        tenant: Tenant,
        params: dict[str, str],
        field: str,
        code: str,
    ) -> None:
        response = await client.get(EMAILS, params=params, headers=tenant.headers)
        assert response.status_code == 422, response.text
        error = response.json()["error"]
        assert error["code"] == code
        assert error["details"][0]["field"].endswith(field)

    async def test_other_workspace_404(
        self, client: httpx.AsyncClient, tenant: Tenant, other_tenant: Tenant
    ) -> None:
        ids = await _seed(_sessions(client), tenant)
        response = await client.get(f"{EMAILS}/{ids[0]}", headers=other_tenant.headers)
        assert response.status_code == 404
        listed = await client.get(EMAILS, headers=other_tenant.headers)
        assert listed.json()["data"] == []

    async def test_scope_and_key(self, client: httpx.AsyncClient) -> None:
        reader = await make_tenant(_sessions(client), "leads-only", scopes=("leads:read",))
        assert (await client.get(EMAILS, headers=reader.headers)).status_code == 403
        assert (await client.get("/api/v1/stats", headers=reader.headers)).status_code == 403
        assert (await client.get(EMAILS)).status_code == 401
        assert (await client.get("/api/v1/stats")).status_code == 401


class TestStats:
    async def test_counts(self, client: httpx.AsyncClient, tenant: Tenant) -> None:
        await _seed(_sessions(client), tenant)
        await client.post("/api/v1/campaigns", json={"name": "One"}, headers=tenant.headers)
        response = await client.get("/api/v1/stats", headers=tenant.headers)
        assert response.status_code == 200, response.text
        data = response.json()["data"]
        assert data["campaigns"] == {
            "total": 1,
            "draft": 1,
            "active": 0,
            "paused": 0,
            "completed": 0,
        }
        assert data["emails_this_month"] in (4, 3)  # 3 sent + the bounce, unless the month turned
        assert data["last_30_days"] == {"sent": 4, "replied": 0, "bounced": 1}
        assert data["inboxes"]["total"] == 0

"""POST /emails and /emails/batch: one-off and batch sends through the durable send path,
delivered to the real test SMTP server (aiosmtpd) by a real worker on Temporal."""

from __future__ import annotations

import asyncio
import re
import time
from typing import Any

import httpx
import pytest

from coldflow.models import ConnectionStatus, Inbox
from tests.api.test_conversations import _sessions, assert_error, reader, seed_inbox
from tests.fixtures.api import Tenant
from tests.fixtures.smtp import SmtpServer

EMAILS = "/api/v1/emails"
SENDER = "alex@sender.example.com"


def body(**overrides: Any) -> dict[str, Any]:
    return {
        "to": "user@example.com",
        "from": SENDER,
        "subject": "Welcome!",
        "html": "<h1>Hello!</h1><p>Welcome aboard.</p>",
        "tags": {"type": "welcome"},
        **overrides,
    }


async def wait_for_email(
    client: httpx.AsyncClient, tenant: Tenant, email_id: str, status: str
) -> dict[str, Any]:
    deadline = time.monotonic() + 30
    while True:
        response = await client.get(f"{EMAILS}/{email_id}", headers=tenant.headers)
        data: dict[str, Any] = response.json()["data"]
        if data["status"] == status or time.monotonic() > deadline:
            assert data["status"] == status, data
            return data
        await asyncio.sleep(0.05)


@pytest.fixture
async def inbox(client: httpx.AsyncClient, tenant: Tenant, smtp_server: SmtpServer) -> Inbox:
    return await seed_inbox(client, tenant, smtp_server, SENDER)


@pytest.mark.usefixtures("worker", "inbox")
class TestSend:
    async def test_delivered_with_tags_and_headers(
        self, client: httpx.AsyncClient, tenant: Tenant, smtp_server: SmtpServer
    ) -> None:
        response = await client.post(
            EMAILS,
            json=body(headers={"X-Campaign-Ref": "welcome-7"}, reply_to="help@yourdomain.com"),
            headers=tenant.headers,
        )
        assert response.status_code == 202, response.text
        queued = response.json()["data"]
        assert (queued["status"], queued["to"]) == ("queued", "user@example.com")
        assert queued["message_id"].endswith("@sender.example.com>")

        [received] = await smtp_server.wait_for(1)
        message = received.message
        assert (received.mail_from, received.rcpt_tos) == (SENDER, ["user@example.com"])
        assert message["Message-ID"] == queued["message_id"]
        assert (message["Subject"], message["X-Campaign-Ref"]) == ("Welcome!", "welcome-7")
        assert message["Reply-To"] == "help@yourdomain.com"
        text = message.get_body(preferencelist=("plain",))
        assert text is not None
        assert "Welcome aboard." in text.get_content()

        sent = await wait_for_email(client, tenant, queued["id"], "sent")
        assert (sent["source"], sent["tags"], sent["from_email"]) == (
            "api",
            {"type": "welcome"},
            SENDER,
        )
        assert [e["type"] for e in sent["events"]] == ["email.sent"]
        tagged = await client.get(EMAILS, params={"tag": "type:welcome"}, headers=tenant.headers)
        assert [e["id"] for e in tagged.json()["data"]] == [queued["id"]]
        assert len(smtp_server.messages) == 1

    async def test_refused_recipient_bounces(
        self, client: httpx.AsyncClient, tenant: Tenant, smtp_server: SmtpServer
    ) -> None:
        smtp_server.reject_rcpt = {"gone@example.com": "550 5.1.1 User unknown"}
        response = await client.post(
            EMAILS, json=body(to="gone@example.com"), headers=tenant.headers
        )
        assert response.status_code == 202, response.text
        bounced = await wait_for_email(client, tenant, response.json()["data"]["id"], "bounced")
        assert "User unknown" in bounced["error"]
        assert [e["type"] for e in bounced["events"]] == ["email.bounced"]

    async def test_batch_one_bad_item_does_not_sink_it(
        self, client: httpx.AsyncClient, tenant: Tenant, smtp_server: SmtpServer
    ) -> None:
        items = [
            body(to="a@example.com", subject="Hi A"),
            body(to="b@example.com", headers={"Bcc": "spy@evil.example"}),
            body(to="c@example.com", subject="Hi\r\nBcc: spy@evil.example"),
            {"to": "not-an-address", "from": SENDER, "subject": "x", "text": "y"},
            body(to="d@example.com", text="Plain only", html=None),
        ]
        response = await client.post(
            f"{EMAILS}/batch", json={"emails": items}, headers=tenant.headers
        )
        assert response.status_code == 202, response.text
        data = response.json()["data"]
        assert (data["total"], data["queued"], data["failed"]) == (5, 2, 3)
        errors = [
            (r["index"], r["error"]["code"], r["error"]["field"])
            for r in data["results"]
            if r["error"]
        ]
        assert errors == [
            (1, "HEADER_NOT_ALLOWED", "headers.Bcc"),
            (2, "HEADER_INJECTION", "subject"),
            (3, "VALIDATION_ERROR", "to"),
        ]
        received = await smtp_server.wait_for(2)
        assert sorted(r.rcpt_tos[0] for r in received) == ["a@example.com", "d@example.com"]
        assert all(b"spy@evil" not in r.data for r in received)
        for result in data["results"]:
            if result["id"]:
                await wait_for_email(client, tenant, result["id"], "sent")


@pytest.mark.usefixtures("inbox")
class TestRefused:
    @pytest.mark.parametrize(
        ("overrides", "code", "field"),
        [
            ({"headers": {"From": "ceo@bank.example"}}, "HEADER_NOT_ALLOWED", "headers.From"),
            ({"headers": {"To": "x@example.com"}}, "HEADER_NOT_ALLOWED", "headers.To"),
            (
                {"headers": {"X-Ok": "a\r\nBcc: spy@evil.example"}},
                "HEADER_INJECTION",
                "headers.X-Ok",
            ),
            ({"subject": "Hello\nBcc: spy@evil.example"}, "HEADER_INJECTION", "subject"),
            ({"from": "nobody@sender.example.com"}, "INBOX_NOT_FOUND", "from"),
            ({"inbox_id": "0b7c6a52-3d4e-4f51-9a8b-1c2d3e4f5a6b"}, "INBOX_NOT_FOUND", "inbox_id"),
            ({"html": None}, "VALIDATION_ERROR", None),
            ({"tags": {"bad tag": "x"}}, "VALIDATION_ERROR", None),
        ],
    )
    async def test_422(
        self,
        client: httpx.AsyncClient,
        tenant: Tenant,
        overrides: dict[str, Any],
        code: str,
        field: str | None,
    ) -> None:
        response = await client.post(EMAILS, json=body(**overrides), headers=tenant.headers)
        assert_error(response, 422, code, field)
        listed = await client.get(EMAILS, headers=tenant.headers)
        assert listed.json()["data"] == []  # nothing written

    async def test_blocklisted_recipient(self, client: httpx.AsyncClient, tenant: Tenant) -> None:
        await client.post(
            "/api/v1/blocklist", json={"email": "@example.com"}, headers=tenant.headers
        )
        response = await client.post(EMAILS, json=body(), headers=tenant.headers)
        assert_error(response, 422, "RECIPIENT_SUPPRESSED", "to")

    async def test_unavailable_inbox(
        self, client: httpx.AsyncClient, tenant: Tenant, smtp_server: SmtpServer
    ) -> None:
        broken = await seed_inbox(
            client, tenant, smtp_server, "bo@sender.example.com", status=ConnectionStatus.error
        )
        response = await client.post(
            EMAILS, json=body(inbox_id=broken.id, **{"from": None}), headers=tenant.headers
        )
        assert_error(response, 422, "INBOX_UNAVAILABLE", "inbox_id")

    async def test_daily_limit(
        self, client: httpx.AsyncClient, tenant: Tenant, inbox: Inbox
    ) -> None:
        from coldflow.store.db import unit_of_work

        async with unit_of_work(_sessions(client)) as session:
            row = await session.get(Inbox, inbox.id)
            assert row is not None
            row.daily_campaign_limit = 2
            session.add(row)
        items = [body(to=f"u{n}@example.com") for n in range(3)]
        response = await client.post(
            f"{EMAILS}/batch", json={"emails": items}, headers=tenant.headers
        )
        data = response.json()["data"]
        assert (data["queued"], data["failed"]) == (2, 1)
        assert data["results"][2]["error"]["code"] == "INBOX_DAILY_LIMIT"
        single = await client.post(EMAILS, json=body(to="u9@example.com"), headers=tenant.headers)
        assert_error(single, 422, "INBOX_DAILY_LIMIT", "from")

    async def test_batch_over_100_is_413(self, client: httpx.AsyncClient, tenant: Tenant) -> None:
        response = await client.post(
            f"{EMAILS}/batch", json={"emails": [body()] * 101}, headers=tenant.headers
        )
        assert response.status_code == 413, response.text
        assert response.json()["error"]["code"] == "BATCH_TOO_LARGE"

    async def test_other_workspace_inbox(
        self, client: httpx.AsyncClient, other_tenant: Tenant
    ) -> None:
        response = await client.post(EMAILS, json=body(), headers=other_tenant.headers)
        assert_error(response, 422, "INBOX_NOT_FOUND", "from")

    async def test_scope_and_key(self, client: httpx.AsyncClient) -> None:
        read_only = await reader(client, ("emails:read",))
        assert (
            await client.post(EMAILS, json=body(), headers=read_only.headers)
        ).status_code == 403
        assert (await client.post(f"{EMAILS}/batch", json={"emails": [body()]})).status_code == 401


@pytest.mark.usefixtures("worker", "inbox")
async def test_queued_email_without_workflow_is_resumed(
    client: httpx.AsyncClient, tenant: Tenant, smtp_server: SmtpServer
) -> None:
    """Temporal unreachable after the commit: the email stays queued until a worker starts."""
    from coldflow.services import email_sends
    from coldflow.services.journeys import Journeys
    from coldflow.store.db import unit_of_work

    journeys: Journeys = client.app.state.journeys  # type: ignore[attr-defined]
    async with unit_of_work(_sessions(client)) as session:
        queued = await email_sends.send_email(
            session=session,
            journeys=journeys,
            workspace_id=tenant.workspace_id,
            data=email_sends.EmailCreate.model_validate(body()),
        )
        session.info.pop("after_commit")  # as if the start had failed
    await asyncio.sleep(0.2)
    assert smtp_server.messages == []
    async with unit_of_work(_sessions(client)) as session:
        assert await email_sends.resume_queued(session, journeys) == 1
    [received] = await smtp_server.wait_for(1)
    assert received.message["Message-ID"] == queued.message_id
    await wait_for_email(client, tenant, queued.id, "sent")


@pytest.mark.usefixtures("worker", "inbox")
async def test_idempotent_retry_sends_once(
    client: httpx.AsyncClient, tenant: Tenant, smtp_server: SmtpServer
) -> None:
    headers = {**tenant.headers, "Idempotency-Key": "welcome-ann"}
    first = await client.post(EMAILS, json=body(), headers=headers)
    retry = await client.post(EMAILS, json=body(), headers=headers)
    assert first.status_code == retry.status_code == 202
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert retry.json() == first.json()
    await wait_for_email(client, tenant, first.json()["data"]["id"], "sent")
    listed = await client.get(EMAILS, headers=tenant.headers)
    assert listed.json()["metadata"]["total_count"] == 1
    assert len(smtp_server.messages) == 1


@pytest.mark.usefixtures("worker", "inbox")
async def test_tracked_email_records_opens_and_clicks(
    client: httpx.AsyncClient, tenant: Tenant, smtp_server: SmtpServer
) -> None:
    """An API email with tracking: the pixel and the rewritten link of the delivered bytes go
    through the public endpoints and show as events of that email."""
    html = '<p>See <a href="https://acme.example/docs">the docs</a>.</p>'
    response = await client.post(
        EMAILS,
        json=body(html=html, track_opens=True, track_clicks=True),
        headers=tenant.headers,
    )
    email_id = response.json()["data"]["id"]
    [received] = await smtp_server.wait_for(1)
    await wait_for_email(client, tenant, email_id, "sent")  # events in their real order
    part = received.message.get_body(preferencelist=("html",))
    assert part is not None
    sent_html = part.get_content()
    [pixel] = re.findall(r'"http://127\.0\.0\.1:8000(/t/o/[^"]+)"', sent_html)
    [link] = re.findall(r'"http://127\.0\.0\.1:8000(/t/c/[^"]+)"', sent_html)
    assert (await client.get(pixel)).status_code == 200
    clicked = await client.get(link)
    assert clicked.headers["location"] == "https://acme.example/docs"
    shown = (await client.get(f"{EMAILS}/{email_id}", headers=tenant.headers)).json()["data"]
    assert (shown["opens"], shown["clicks"]) == (1, 1)
    assert [e["type"] for e in shown["events"]] == ["email.sent", "email.opened", "email.clicked"]

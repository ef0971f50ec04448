"""Inbox endpoints: connect (checked against a real aiosmtpd server), secrets never returned and
encrypted at rest, list, show, update, validate, and workspace isolation."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest
from sqlmodel import select

from coldflow.models import Inbox
from tests.fixtures.api import Tenant
from tests.fixtures.ports import free_port
from tests.fixtures.smtp import SmtpServer

INBOXES = "/api/v1/inboxes"
SMTP_PASSWORD = "smtp-Pa55word-7f3a"
IMAP_PASSWORD = "imap-Pa55word-91c2"


def inbox_body(
    smtp_server: SmtpServer,
    email: str = "alex@acme.io",
    password: str = SMTP_PASSWORD,
    **extra: Any,
) -> dict[str, Any]:
    """An inbox on the test SMTP server, plain SMTP on loopback (security "none")."""
    return {
        "email": email,
        "first_name": "Alex",
        "last_name": "Doe",
        "smtp": {
            "host": smtp_server.host,
            "port": smtp_server.port,
            "password": password,
            "security": "none",
        },
        **extra,
    }


@pytest.fixture(autouse=True)
def _worker(worker: None) -> None:
    """Connection checks run as workflows: every test here has a worker."""


async def create_inbox(
    client: httpx.AsyncClient, tenant: Tenant, body: dict[str, Any]
) -> dict[str, Any]:
    """Create, then wait for the background connection check to answer."""
    response = await client.post(INBOXES, json=body, headers=tenant.headers)
    assert response.status_code == 201, response.text
    data: dict[str, Any] = response.json()["data"]
    assert data["connection_status"] in ("pending", "connected")
    return await checked(client, tenant, data["id"])


async def checked(client: httpx.AsyncClient, tenant: Tenant, inbox_id: str) -> dict[str, Any]:
    for _ in range(400):
        inbox = await get_inbox(client, tenant, inbox_id)
        if inbox["connection_status"] in ("connected", "error"):
            return inbox
        await asyncio.sleep(0.05)
    raise AssertionError(f"connection check of {inbox_id} never answered")


async def get_inbox(client: httpx.AsyncClient, tenant: Tenant, inbox_id: str) -> dict[str, Any]:
    response = await client.get(f"{INBOXES}/{inbox_id}", headers=tenant.headers)
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


def error_of(response: httpx.Response) -> dict[str, Any]:
    error: dict[str, Any] = response.json()["error"]
    assert error["status"] == response.status_code
    assert error["request_id"] == response.headers["X-Request-ID"]
    return error


class TestCreateInbox:
    async def test_connects_against_smtp_server(
        self, client: httpx.AsyncClient, tenant: Tenant, smtp_server: SmtpServer
    ) -> None:
        response = await client.post(INBOXES, json=inbox_body(smtp_server), headers=tenant.headers)

        assert response.status_code == 201, response.text
        assert response.json()["data"]["connection_status"] == "pending"
        inbox = await checked(client, tenant, response.json()["data"]["id"])
        assert inbox["connection_status"] == "connected"
        assert inbox["connection_error"] is None
        assert (inbox["email"], inbox["domain"]) == ("alex@acme.io", "acme.io")
        assert inbox["smtp"] == {
            "host": smtp_server.host,
            "port": smtp_server.port,
            "username": "alex@acme.io",
            "security": "none",
        }
        assert inbox["is_active"] is True
        assert inbox["daily_campaign_limit"] == 50

    async def test_password_never_returned(
        self, client: httpx.AsyncClient, tenant: Tenant, smtp_server: SmtpServer
    ) -> None:
        created = await client.post(INBOXES, json=inbox_body(smtp_server), headers=tenant.headers)
        inbox_id = created.json()["data"]["id"]

        responses = [
            created,
            await client.get(f"{INBOXES}/{inbox_id}", headers=tenant.headers),
            await client.get(INBOXES, headers=tenant.headers),
            await client.patch(
                f"{INBOXES}/{inbox_id}", json={"signature": "Alex"}, headers=tenant.headers
            ),
            await client.post(f"{INBOXES}/{inbox_id}/validate", headers=tenant.headers),
        ]

        for response in responses:
            assert response.status_code in (200, 201), response.text
            assert SMTP_PASSWORD not in response.text

    async def test_passwords_encrypted_at_rest(
        self, client: httpx.AsyncClient, tenant: Tenant, smtp_server: SmtpServer
    ) -> None:
        closed_port = free_port()
        body = inbox_body(
            smtp_server,
            imap={
                "host": "127.0.0.1",
                "port": closed_port,
                "password": IMAP_PASSWORD,
                "security": "none",
            },
        )
        inbox_id = (await create_inbox(client, tenant, body))["id"]

        async with client.app.state.sessions() as session:  # type: ignore[attr-defined]
            row = (await session.exec(select(Inbox).where(Inbox.id == inbox_id))).one()

        assert row.credentials
        stored = json.dumps(row.model_dump(), default=str)
        for secret in (SMTP_PASSWORD, IMAP_PASSWORD):
            assert secret not in row.credentials
            assert secret not in stored
        box = client.app.state.box  # type: ignore[attr-defined]
        opened = json.loads(box.decrypt(row.credentials))
        assert (opened["smtp_password"], opened["imap_password"]) == (SMTP_PASSWORD, IMAP_PASSWORD)

    async def test_wrong_password_records_error(
        self, client: httpx.AsyncClient, tenant: Tenant, smtp_server: SmtpServer
    ) -> None:
        smtp_server.auth = ("alex@acme.io", "the-right-one")

        inbox = await create_inbox(client, tenant, inbox_body(smtp_server, password="wrong"))

        assert inbox["connection_status"] == "error"
        assert "535" in inbox["connection_error"]
        assert "wrong" not in inbox["connection_error"]

    async def test_right_password_connects_when_auth_required(
        self, client: httpx.AsyncClient, tenant: Tenant, smtp_server: SmtpServer
    ) -> None:
        smtp_server.auth = ("alex@acme.io", SMTP_PASSWORD)

        inbox = await create_inbox(client, tenant, inbox_body(smtp_server))

        assert inbox["connection_status"] == "connected"

    async def test_unreachable_server_records_error(
        self, client: httpx.AsyncClient, tenant: Tenant, smtp_server: SmtpServer
    ) -> None:
        body = inbox_body(smtp_server)
        body["smtp"]["port"] = free_port()

        inbox = await create_inbox(client, tenant, body)

        assert inbox["connection_status"] == "error"
        assert inbox["connection_error"]

    async def test_sandbox_needs_no_servers(
        self, client: httpx.AsyncClient, tenant: Tenant
    ) -> None:
        inbox = await create_inbox(client, tenant, {"email": "box@acme.io", "provider": "sandbox"})

        assert (inbox["provider"], inbox["connection_status"]) == ("sandbox", "connected")
        assert inbox["smtp"] is None

    async def test_smtp_required_unless_sandbox_422(
        self, client: httpx.AsyncClient, tenant: Tenant
    ) -> None:
        response = await client.post(
            INBOXES, json={"email": "alex@acme.io"}, headers=tenant.headers
        )

        assert response.status_code == 422
        assert error_of(response)["code"] == "VALIDATION_ERROR"

    @pytest.mark.parametrize("limit", [0, 501])
    async def test_daily_campaign_limit_out_of_range_422(
        self, client: httpx.AsyncClient, tenant: Tenant, smtp_server: SmtpServer, limit: int
    ) -> None:
        body = inbox_body(smtp_server, daily_campaign_limit=limit)

        response = await client.post(INBOXES, json=body, headers=tenant.headers)

        assert response.status_code == 422
        assert [d["field"] for d in error_of(response)["details"]] == ["daily_campaign_limit"]
        listed = await client.get(INBOXES, headers=tenant.headers)
        assert listed.json()["metadata"]["total_count"] == 0

    async def test_duplicate_email_409(
        self, client: httpx.AsyncClient, tenant: Tenant, smtp_server: SmtpServer
    ) -> None:
        await create_inbox(client, tenant, inbox_body(smtp_server))

        response = await client.post(
            INBOXES, json=inbox_body(smtp_server, email="Alex@ACME.io"), headers=tenant.headers
        )

        assert response.status_code == 409
        assert error_of(response)["code"] == "INBOX_EXISTS"

    async def test_concurrent_duplicates_409(
        self, client: httpx.AsyncClient, tenant: Tenant
    ) -> None:
        transport = httpx.ASGITransport(app=client.app, raise_app_exceptions=False)  # type: ignore[attr-defined]
        body = {"email": "race@acme.io", "provider": "sandbox"}
        async with httpx.AsyncClient(transport=transport, base_url=str(client.base_url)) as http:
            responses = await asyncio.gather(
                *(http.post(INBOXES, json=body, headers=tenant.headers) for _ in range(4))
            )

        assert sorted(r.status_code for r in responses) == [201, 409, 409, 409]
        listed = await client.get(INBOXES, headers=tenant.headers)
        assert [i["email"] for i in listed.json()["data"]] == ["race@acme.io"]

    async def test_same_email_in_other_workspace_allowed(
        self,
        client: httpx.AsyncClient,
        tenant: Tenant,
        other_tenant: Tenant,
        smtp_server: SmtpServer,
    ) -> None:
        await create_inbox(client, other_tenant, inbox_body(smtp_server))

        response = await client.post(INBOXES, json=inbox_body(smtp_server), headers=tenant.headers)

        assert response.status_code == 201, response.text


class TestListInboxes:
    async def test_lists_own_inboxes_with_metadata(
        self,
        client: httpx.AsyncClient,
        tenant: Tenant,
        other_tenant: Tenant,
        smtp_server: SmtpServer,
    ) -> None:
        await create_inbox(client, tenant, inbox_body(smtp_server, email="a@acme.io"))
        await create_inbox(client, tenant, inbox_body(smtp_server, email="b@acme.io"))
        await create_inbox(client, other_tenant, inbox_body(smtp_server, email="c@globex.io"))

        response = await client.get(
            INBOXES, params={"sort_by": "email", "sort_order": "asc"}, headers=tenant.headers
        )

        assert response.status_code == 200
        assert [i["email"] for i in response.json()["data"]] == ["a@acme.io", "b@acme.io"]
        assert response.json()["metadata"] == {
            "page": 1,
            "page_size": 30,
            "total_count": 2,
            "total_pages": 1,
        }

    async def test_search_by_address(
        self, client: httpx.AsyncClient, tenant: Tenant, smtp_server: SmtpServer
    ) -> None:
        await create_inbox(client, tenant, inbox_body(smtp_server, email="sales@acme.io"))
        await create_inbox(client, tenant, inbox_body(smtp_server, email="founder@acme.io"))

        response = await client.get(INBOXES, params={"search": "SALES"}, headers=tenant.headers)

        assert [i["email"] for i in response.json()["data"]] == ["sales@acme.io"]

    async def test_unknown_sort_by_422(self, client: httpx.AsyncClient, tenant: Tenant) -> None:
        response = await client.get(INBOXES, params={"sort_by": "password"}, headers=tenant.headers)

        assert response.status_code == 422
        assert error_of(response)["code"] == "INVALID_SORT"


class TestGetInbox:
    async def test_lists_campaigns_it_sends_for(
        self, client: httpx.AsyncClient, tenant: Tenant, smtp_server: SmtpServer
    ) -> None:
        inbox = await create_inbox(client, tenant, inbox_body(smtp_server))
        campaign = await client.post(
            "/api/v1/campaigns",
            json={"name": "Q2", "inbox_ids": [inbox["id"]]},
            headers=tenant.headers,
        )
        assert campaign.status_code == 201, campaign.text

        shown = await get_inbox(client, tenant, inbox["id"])

        assert [(c["id"], c["name"], c["status"]) for c in shown["campaigns"]] == [
            (campaign.json()["data"]["id"], "Q2", "draft")
        ]

    async def test_unknown_id_404(self, client: httpx.AsyncClient, tenant: Tenant) -> None:
        response = await client.get(f"{INBOXES}/nope", headers=tenant.headers)

        assert response.status_code == 404
        assert error_of(response)["code"] == "INBOX_NOT_FOUND"

    async def test_other_workspace_404(
        self,
        client: httpx.AsyncClient,
        tenant: Tenant,
        other_tenant: Tenant,
        smtp_server: SmtpServer,
    ) -> None:
        theirs = await create_inbox(client, other_tenant, inbox_body(smtp_server))

        response = await client.get(f"{INBOXES}/{theirs['id']}", headers=tenant.headers)

        assert response.status_code == 404
        assert error_of(response)["code"] == "INBOX_NOT_FOUND"


class TestUpdateInbox:
    async def test_updates_editable_fields(
        self, client: httpx.AsyncClient, tenant: Tenant, smtp_server: SmtpServer
    ) -> None:
        inbox = await create_inbox(client, tenant, inbox_body(smtp_server))
        changes = {
            "daily_campaign_limit": 500,
            "is_active": False,
            "signature": "-- Alex",
            "reply_to": "replies@acme.io",
            "first_name": "Alexandra",
        }

        response = await client.patch(
            f"{INBOXES}/{inbox['id']}", json=changes, headers=tenant.headers
        )

        assert response.status_code == 200, response.text
        shown = await get_inbox(client, tenant, inbox["id"])
        assert {name: shown[name] for name in changes} == changes
        assert shown["connection_status"] == "connected"

    async def test_empty_reply_to_clears_it(
        self, client: httpx.AsyncClient, tenant: Tenant, smtp_server: SmtpServer
    ) -> None:
        body = inbox_body(smtp_server, reply_to="replies@acme.io")
        inbox = await create_inbox(client, tenant, body)

        response = await client.patch(
            f"{INBOXES}/{inbox['id']}", json={"reply_to": ""}, headers=tenant.headers
        )

        assert response.status_code == 200, response.text
        assert (await get_inbox(client, tenant, inbox["id"]))["reply_to"] is None

    async def test_invalid_reply_to_422(
        self, client: httpx.AsyncClient, tenant: Tenant, smtp_server: SmtpServer
    ) -> None:
        inbox = await create_inbox(client, tenant, inbox_body(smtp_server))

        response = await client.patch(
            f"{INBOXES}/{inbox['id']}", json={"reply_to": "not an address"}, headers=tenant.headers
        )

        assert response.status_code == 422
        assert (await get_inbox(client, tenant, inbox["id"]))["reply_to"] is None

    @pytest.mark.parametrize("limit", [0, 501])
    async def test_daily_campaign_limit_out_of_range_422(
        self, client: httpx.AsyncClient, tenant: Tenant, smtp_server: SmtpServer, limit: int
    ) -> None:
        inbox = await create_inbox(client, tenant, inbox_body(smtp_server))

        response = await client.patch(
            f"{INBOXES}/{inbox['id']}",
            json={"signature": "changed", "daily_campaign_limit": limit},
            headers=tenant.headers,
        )

        assert response.status_code == 422
        assert [d["field"] for d in error_of(response)["details"]] == ["daily_campaign_limit"]
        shown = await get_inbox(client, tenant, inbox["id"])
        assert (shown["daily_campaign_limit"], shown["signature"]) == (50, "")

    async def test_null_limit_changes_nothing(
        self, client: httpx.AsyncClient, tenant: Tenant, smtp_server: SmtpServer
    ) -> None:
        inbox = await create_inbox(client, tenant, inbox_body(smtp_server))

        response = await client.patch(
            f"{INBOXES}/{inbox['id']}",
            json={"daily_campaign_limit": None, "is_active": None},
            headers=tenant.headers,
        )

        assert response.status_code in (200, 422), response.text
        shown = await get_inbox(client, tenant, inbox["id"])
        assert (shown["daily_campaign_limit"], shown["is_active"]) == (50, True)

    async def test_new_smtp_password_rechecks_connection(
        self, client: httpx.AsyncClient, tenant: Tenant, smtp_server: SmtpServer
    ) -> None:
        smtp_server.auth = ("alex@acme.io", SMTP_PASSWORD)
        inbox = await create_inbox(client, tenant, inbox_body(smtp_server, password="typo"))
        assert inbox["connection_status"] == "error"

        response = await client.patch(
            f"{INBOXES}/{inbox['id']}",
            json={"smtp": inbox_body(smtp_server)["smtp"]},
            headers=tenant.headers,
        )

        assert response.status_code == 200, response.text
        assert response.json()["data"]["connection_status"] == "pending"
        assert SMTP_PASSWORD not in response.text
        updated = await checked(client, tenant, inbox["id"])
        assert (updated["connection_status"], updated["connection_error"]) == ("connected", None)

    async def test_other_workspace_404(
        self,
        client: httpx.AsyncClient,
        tenant: Tenant,
        other_tenant: Tenant,
        smtp_server: SmtpServer,
    ) -> None:
        theirs = await create_inbox(client, other_tenant, inbox_body(smtp_server))

        response = await client.patch(
            f"{INBOXES}/{theirs['id']}", json={"is_active": False}, headers=tenant.headers
        )

        assert response.status_code == 404
        assert error_of(response)["code"] == "INBOX_NOT_FOUND"
        assert (await get_inbox(client, other_tenant, theirs["id"]))["is_active"] is True


class TestValidateInbox:
    async def test_records_the_servers_current_answer(
        self, client: httpx.AsyncClient, tenant: Tenant, smtp_server: SmtpServer
    ) -> None:
        inbox = await create_inbox(client, tenant, inbox_body(smtp_server))
        assert inbox["connection_status"] == "connected"
        smtp_server.auth = ("alex@acme.io", "rotated-password")

        response = await client.post(f"{INBOXES}/{inbox['id']}/validate", headers=tenant.headers)

        assert response.status_code == 200, response.text
        assert response.json()["data"]["connection_status"] == "pending"
        assert (await checked(client, tenant, inbox["id"]))["connection_status"] == "error"

    async def test_other_workspace_404(
        self,
        client: httpx.AsyncClient,
        tenant: Tenant,
        other_tenant: Tenant,
        smtp_server: SmtpServer,
    ) -> None:
        theirs = await create_inbox(client, other_tenant, inbox_body(smtp_server))

        response = await client.post(f"{INBOXES}/{theirs['id']}/validate", headers=tenant.headers)

        assert response.status_code == 404
        assert error_of(response)["code"] == "INBOX_NOT_FOUND"

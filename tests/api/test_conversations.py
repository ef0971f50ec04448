"""Conversation endpoints (seed 003's unibox) against a real database, Temporal and SMTP server.

Threads are written through the models, as the mailbox watcher stores them; replies and new
threads go out through the real worker to the aiosmtpd fixture and are asserted on the wire.
"""

from __future__ import annotations

import asyncio
import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from coldflow.crypto import SecretBox
from coldflow.models import (
    Attachment,
    ConnectionStatus,
    Conversation,
    ConversationMessage,
    Folder,
    Inbox,
    MessageKind,
    TransportSecurity,
)
from coldflow.services.inboxes import Credentials
from coldflow.store.db import SessionFactory, unit_of_work
from tests.fixtures.api import Tenant, make_tenant
from tests.fixtures.smtp import SmtpServer

BASE = "/api/v1/unibox/conversations"
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
FIRST_ID = "<k3v4wq2xzr7bq5d6hy3m1fj0pa@sender.example.com>"
REPLY_ID = "<CAL2p+9xQ4w-7rTg_reply.0417@mail.example.com>"
PDF = b"%PDF-1.4 the deck\x00\xff"


@dataclass(frozen=True)
class Thread:
    conversation_id: str
    inbox: Inbox
    attachment_id: str


def _sessions(client: httpx.AsyncClient) -> SessionFactory:
    sessions: SessionFactory = client.app.state.sessions  # type: ignore[attr-defined]
    return sessions


async def seed_inbox(
    client: httpx.AsyncClient,
    tenant: Tenant,
    smtp: SmtpServer,
    email: str = "alex@sender.example.com",
    *,
    active: bool = True,
    status: ConnectionStatus = ConnectionStatus.connected,
) -> Inbox:
    box: SecretBox = client.app.state.box  # type: ignore[attr-defined]
    async with unit_of_work(_sessions(client)) as session:
        inbox = Inbox(
            workspace_id=tenant.workspace_id,
            email=email,
            first_name="Alex",
            last_name="Sender",
            smtp_host=smtp.host,
            smtp_port=smtp.port,
            smtp_username=email,
            smtp_security=TransportSecurity.none,
            credentials=Credentials(smtp_password="secret").seal(box),
            connection_status=status,
            is_active=active,
        )
        session.add(inbox)
    return inbox


async def seed_thread(
    client: httpx.AsyncClient,
    tenant: Tenant,
    inbox: Inbox,
    *,
    contact: str = "ann@example.com",
    subject: str = "Quick question",
    label: str | None = "interested",
    folder: Folder = Folder.primary,
    at: datetime = T0,
    lead_id: str | None = None,
    campaign_id: str | None = None,
    ids: tuple[str, str] | None = None,
) -> Thread:
    """Our first email, the contact's reply with a PDF: what the watcher stores for a reply."""
    ws = tenant.workspace_id
    # Message-IDs are unique per workspace: each thread gets its own unless the test names them.
    first_id, reply_id = ids or (
        f"<{time.monotonic_ns()}.a@sender.example.com>",
        f"<{time.monotonic_ns()}.b@x.io>",
    )
    async with unit_of_work(_sessions(client)) as session:
        conversation = Conversation(
            workspace_id=ws,
            inbox_id=inbox.id,
            lead_id=lead_id,
            campaign_id=campaign_id,
            contact_email=contact,
            subject=subject,
            folder=folder,
            label=label,
            is_positive=label == "interested",
            last_message_at=at + timedelta(hours=1),
            created_at=at,
            updated_at=at,
        )
        first = ConversationMessage(
            workspace_id=ws,
            conversation_id=conversation.id,
            inbox_id=inbox.id,
            direction="outgoing",
            kind=MessageKind.outgoing,
            message_id=first_id,
            from_email=inbox.email,
            to_recipients=[{"email": contact, "name": "Ann Lee"}],
            subject=subject,
            text="Hi Ann",
            is_read=True,
            received_at=at,
        )
        reply = ConversationMessage(
            workspace_id=ws,
            conversation_id=conversation.id,
            inbox_id=inbox.id,
            direction="incoming",
            kind=MessageKind.reply,
            label=label,
            message_id=reply_id,
            in_reply_to=first.message_id,
            references=[first.message_id],
            from_email=contact,
            from_name="Ann Lee",
            to_recipients=[{"email": inbox.email, "name": "Alex Sender"}],
            cc_recipients=[{"email": "cto@example.com", "name": "Cee"}],
            subject=f"RE: {subject}",
            text="Sounds good, send the deck.",
            html="<p>Sounds good, send the deck.</p>",
            received_at=at + timedelta(hours=1),
        )
        attachment = Attachment(
            workspace_id=ws,
            message_id=reply.id,
            filename="Deck – Q1.pdf",
            content_type="application/pdf",
            size=len(PDF),
            content=PDF,
        )
        for row in (conversation, first, reply, attachment):  # no ORM relationships: FK order
            session.add(row)
            await session.flush()
    return Thread(conversation.id, inbox, attachment.id)


async def reader(client: httpx.AsyncClient, scopes: tuple[str, ...]) -> Tenant:
    return await make_tenant(_sessions(client), f"limited-{time.monotonic_ns()}", scopes=scopes)


def assert_error(response: httpx.Response, status: int, code: str, field: str | None) -> None:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == code
    if field is not None:
        assert field in [d.get("field") for d in error["details"]], error


async def wait_for_status(
    client: httpx.AsyncClient, tenant: Tenant, conversation_id: str, message_id: str, status: str
) -> dict[str, Any]:
    deadline = time.monotonic() + 20
    while True:
        response = await client.get(f"{BASE}/{conversation_id}", headers=tenant.headers)
        [message] = [m for m in response.json()["data"]["messages"] if m["id"] == message_id]
        if message["status"] == status or time.monotonic() > deadline:
            assert message["status"] == status, message
            result: dict[str, Any] = message
            return result
        await asyncio.sleep(0.05)


@pytest.fixture
async def inbox(client: httpx.AsyncClient, tenant: Tenant, smtp_server: SmtpServer) -> Inbox:
    return await seed_inbox(client, tenant, smtp_server)


class TestListConversations:
    async def test_latest_first_with_messages(
        self, client: httpx.AsyncClient, tenant: Tenant, inbox: Inbox
    ) -> None:
        older = await seed_thread(client, tenant, inbox, contact="bob@example.com", at=T0)
        newer = await seed_thread(client, tenant, inbox, at=T0 + timedelta(days=1))
        response = await client.get(BASE, headers=tenant.headers)
        assert response.status_code == 200, response.text
        body = response.json()
        assert [c["id"] for c in body["data"]] == [newer.conversation_id, older.conversation_id]
        assert body["metadata"] == {"page": 1, "page_size": 30, "total_count": 2, "total_pages": 1}
        assert [m["direction"] for m in body["data"][0]["messages"]] == ["outgoing", "incoming"]

    async def test_search_by_contact_or_subject(
        self, client: httpx.AsyncClient, tenant: Tenant, inbox: Inbox
    ) -> None:
        ann = await seed_thread(client, tenant, inbox)
        bob = await seed_thread(client, tenant, inbox, contact="bob@corp.io", subject="Pricing")
        for term, expected in (("ANN@example", ann), ("pricing", bob)):
            response = await client.get(BASE, params={"search": term}, headers=tenant.headers)
            assert [c["id"] for c in response.json()["data"]] == [expected.conversation_id]

    async def test_folder_filter(
        self, client: httpx.AsyncClient, tenant: Tenant, inbox: Inbox
    ) -> None:
        await seed_thread(client, tenant, inbox)
        ooo = await seed_thread(
            client, tenant, inbox, contact="ooo@x.io", label="out_of_office", folder=Folder.others
        )
        response = await client.get(BASE, params={"folder": "others"}, headers=tenant.headers)
        assert [c["id"] for c in response.json()["data"]] == [ooo.conversation_id]
        assert response.json()["data"][0]["folder"] == "others"

    @pytest.mark.parametrize(
        ("params", "field"),
        [({"folder": "spam"}, "folder"), ({"page_size": 101}, "page_size")],
        ids=["unknown-folder", "page-size-over-max"],
    )
    async def test_invalid_query_422(
        self, client: httpx.AsyncClient, tenant: Tenant, params: dict[str, Any], field: str
    ) -> None:
        response = await client.get(BASE, params=params, headers=tenant.headers)
        assert_error(response, 422, "VALIDATION_ERROR", field)

    async def test_other_workspace_not_listed(
        self, client: httpx.AsyncClient, tenant: Tenant, other_tenant: Tenant, inbox: Inbox
    ) -> None:
        await seed_thread(client, tenant, inbox)
        response = await client.get(BASE, headers=other_tenant.headers)
        assert response.json()["data"] == []

    async def test_missing_scope_403(self, client: httpx.AsyncClient) -> None:
        limited = await reader(client, ("leads:read",))
        response = await client.get(BASE, headers=limited.headers)
        assert_error(response, 403, "INSUFFICIENT_SCOPE", None)

    async def test_no_key_401(self, client: httpx.AsyncClient) -> None:
        assert_error(await client.get(BASE), 401, "API_KEY_MISSING", None)


class TestGetConversation:
    async def test_seed_003_shape(
        self, client: httpx.AsyncClient, tenant: Tenant, inbox: Inbox
    ) -> None:
        campaign = await client.post(
            "/api/v1/campaigns", json={"name": "Q1"}, headers=tenant.headers
        )
        campaign_id = campaign.json()["data"]["id"]
        lead = await client.post(
            f"/api/v1/campaigns/{campaign_id}/leads",
            json={"email": "ann@example.com"},
            headers=tenant.headers,
        )
        lead_id = lead.json()["data"]["id"]
        thread = await seed_thread(client, tenant, inbox, lead_id=lead_id, campaign_id=campaign_id)

        response = await client.get(f"{BASE}/{thread.conversation_id}", headers=tenant.headers)

        assert response.status_code == 200, response.text
        data = response.json()["data"]
        assert (data["label"], data["is_positive"]) == ("interested", True)
        assert (data["lead_id"], data["campaign_id"], data["inbox_id"]) == (
            lead_id,
            campaign_id,
            inbox.id,
        )
        first, reply = data["messages"]
        assert (first["direction"], first["status"]) == ("outgoing", "queued")
        assert reply == {
            "id": reply["id"],
            "direction": "incoming",
            "kind": "reply",
            "inbox_id": inbox.id,
            "subject": "RE: Quick question",
            "text_body": "Sounds good, send the deck.",
            "html_body": "<p>Sounds good, send the deck.</p>",
            "from_email": "ann@example.com",
            "from_name": "Ann Lee",
            "to_recipients": [{"email": inbox.email, "name": "Alex Sender"}],
            "cc_recipients": [{"email": "cto@example.com", "name": "Cee"}],
            "bcc_recipients": [],
            "email_date": "2026-03-02T10:00:00Z",
            "is_read": False,
            "status": "received",
            "error": None,
            "attachments": [
                {
                    "id": thread.attachment_id,
                    "filename": "Deck – Q1.pdf",
                    "content_type": "application/pdf",
                    "size": len(PDF),
                }
            ],
        }
        assert {"created_at", "updated_at"} <= data.keys()

    async def test_other_workspace_404(
        self, client: httpx.AsyncClient, tenant: Tenant, other_tenant: Tenant, inbox: Inbox
    ) -> None:
        thread = await seed_thread(client, tenant, inbox)
        response = await client.get(
            f"{BASE}/{thread.conversation_id}", headers=other_tenant.headers
        )
        assert_error(response, 404, "CONVERSATION_NOT_FOUND", None)

    async def test_missing_scope_403(
        self, client: httpx.AsyncClient, tenant: Tenant, inbox: Inbox
    ) -> None:
        thread = await seed_thread(client, tenant, inbox)
        limited = await reader(client, ("conversations:write",))
        response = await client.get(f"{BASE}/{thread.conversation_id}", headers=limited.headers)
        assert_error(response, 403, "INSUFFICIENT_SCOPE", None)

    async def test_no_key_401(self, client: httpx.AsyncClient) -> None:
        assert_error(await client.get(f"{BASE}/x"), 401, "API_KEY_MISSING", None)


class TestUpdateConversation:
    async def _patch(
        self, client: httpx.AsyncClient, tenant: Tenant, thread: Thread, body: dict[str, Any]
    ) -> httpx.Response:
        return await client.patch(
            f"{BASE}/{thread.conversation_id}", json=body, headers=tenant.headers
        )

    async def test_override_and_clear_label(
        self, client: httpx.AsyncClient, tenant: Tenant, inbox: Inbox
    ) -> None:
        thread = await seed_thread(client, tenant, inbox, label="question")
        overridden = await self._patch(client, tenant, thread, {"label_override": "interested"})
        assert overridden.status_code == 200, overridden.text
        assert (overridden.json()["data"]["label"], overridden.json()["data"]["is_positive"]) == (
            "interested",
            True,
        )
        cleared = await self._patch(client, tenant, thread, {"label_override": None})
        assert (cleared.json()["data"]["label"], cleared.json()["data"]["is_positive"]) == (
            "question",
            False,
        )

    async def test_is_read_marks_every_message(
        self, client: httpx.AsyncClient, tenant: Tenant, inbox: Inbox
    ) -> None:
        thread = await seed_thread(client, tenant, inbox)
        read = await self._patch(client, tenant, thread, {"is_read": True})
        assert [m["is_read"] for m in read.json()["data"]["messages"]] == [True, True]
        assert read.json()["data"]["is_read"] is True
        unread = await self._patch(client, tenant, thread, {"is_read": False})
        assert [m["is_read"] for m in unread.json()["data"]["messages"]] == [False, False]
        again = await client.get(f"{BASE}/{thread.conversation_id}", headers=tenant.headers)
        assert again.json()["data"] == unread.json()["data"]

    async def test_omitted_fields_unchanged(
        self, client: httpx.AsyncClient, tenant: Tenant, inbox: Inbox
    ) -> None:
        thread = await seed_thread(client, tenant, inbox)
        await self._patch(client, tenant, thread, {"label_override": "referral"})
        response = await self._patch(client, tenant, thread, {"is_read": True})
        assert response.json()["data"]["label"] == "referral"

    @pytest.mark.parametrize(
        ("body", "code", "field"),
        [
            ({"label_override": "hot_lead"}, "INVALID_LABEL", "label_override"),
            ({"label_override": 3}, "VALIDATION_ERROR", "label_override"),
            ({"is_read": None}, "VALIDATION_ERROR", "is_read"),
            ({"is_read": "yes"}, "VALIDATION_ERROR", "is_read"),
            ({"label": "interested"}, "VALIDATION_ERROR", "label"),
        ],
        ids=["unknown-label", "label-not-text", "read-null", "read-not-bool", "unknown-field"],
    )
    async def test_invalid_422(
        self,
        client: httpx.AsyncClient,
        tenant: Tenant,
        inbox: Inbox,
        body: dict[str, Any],
        code: str,
        field: str,
    ) -> None:
        thread = await seed_thread(client, tenant, inbox)
        assert_error(await self._patch(client, tenant, thread, body), 422, code, field)

    async def test_other_workspace_404(
        self, client: httpx.AsyncClient, tenant: Tenant, other_tenant: Tenant, inbox: Inbox
    ) -> None:
        thread = await seed_thread(client, tenant, inbox)
        response = await self._patch(client, other_tenant, thread, {"is_read": True})
        assert_error(response, 404, "CONVERSATION_NOT_FOUND", None)

    async def test_read_only_key_403(
        self, client: httpx.AsyncClient, tenant: Tenant, inbox: Inbox
    ) -> None:
        thread = await seed_thread(client, tenant, inbox)
        limited = await reader(client, ("conversations:read",))
        response = await self._patch(client, limited, thread, {"is_read": True})
        assert_error(response, 403, "INSUFFICIENT_SCOPE", None)

    async def test_no_key_401(self, client: httpx.AsyncClient) -> None:
        response = await client.patch(f"{BASE}/x", json={"is_read": True})
        assert_error(response, 401, "API_KEY_MISSING", None)


class TestDownloadAttachment:
    def _url(self, thread: Thread, conversation_id: str | None = None) -> str:
        return (
            f"{BASE}/{conversation_id or thread.conversation_id}/attachments/{thread.attachment_id}"
        )

    async def test_bytes_and_content_type(
        self, client: httpx.AsyncClient, tenant: Tenant, inbox: Inbox
    ) -> None:
        thread = await seed_thread(client, tenant, inbox)
        response = await client.get(self._url(thread), headers=tenant.headers)
        assert response.status_code == 200
        assert response.content == PDF
        assert response.headers["content-type"] == "application/pdf"
        assert response.headers["content-disposition"] == (
            "attachment; filename=\"Deck _ Q1.pdf\"; filename*=UTF-8''Deck%20%E2%80%93%20Q1.pdf"
        )
        assert response.headers["x-content-type-options"] == "nosniff"

    async def test_other_workspace_404(
        self, client: httpx.AsyncClient, tenant: Tenant, other_tenant: Tenant, inbox: Inbox
    ) -> None:
        thread = await seed_thread(client, tenant, inbox)
        response = await client.get(self._url(thread), headers=other_tenant.headers)
        assert_error(response, 404, "ATTACHMENT_NOT_FOUND", None)

    async def test_attachment_of_another_conversation_404(
        self, client: httpx.AsyncClient, tenant: Tenant, inbox: Inbox
    ) -> None:
        thread = await seed_thread(client, tenant, inbox)
        other = await seed_thread(client, tenant, inbox, contact="bob@example.com")
        response = await client.get(
            self._url(thread, other.conversation_id), headers=tenant.headers
        )
        assert_error(response, 404, "ATTACHMENT_NOT_FOUND", None)

    async def test_missing_scope_403(
        self, client: httpx.AsyncClient, tenant: Tenant, inbox: Inbox
    ) -> None:
        thread = await seed_thread(client, tenant, inbox)
        limited = await reader(client, ("inboxes:read",))
        response = await client.get(self._url(thread), headers=limited.headers)
        assert_error(response, 403, "INSUFFICIENT_SCOPE", None)

    async def test_no_key_401(self, client: httpx.AsyncClient) -> None:
        assert_error(await client.get(f"{BASE}/x/attachments/y"), 401, "API_KEY_MISSING", None)


def _header_line(raw: bytes, name: bytes) -> bytes:
    """One header of the raw message, unfolded (RFC 5322 §2.2.3: CRLF + WSP is a fold)."""
    head = raw.split(b"\r\n\r\n", 1)[0]
    match = re.search(rb"^" + name + rb": ([^\r\n]*(?:\r\n[ \t][^\r\n]*)*)", head, re.MULTILINE)
    assert match is not None, head
    return re.sub(rb"\r\n[ \t]", b" ", match.group(1))


class TestReply:
    @pytest.mark.usefixtures("worker")
    async def test_arrives_threaded(
        self, client: httpx.AsyncClient, tenant: Tenant, inbox: Inbox, smtp_server: SmtpServer
    ) -> None:
        thread = await seed_thread(client, tenant, inbox, ids=(FIRST_ID, REPLY_ID))
        response = await client.post(
            f"{BASE}/{thread.conversation_id}/reply",
            json={"content": "<p>Here it is, <b>Ann</b>.</p>"},
            headers=tenant.headers,
        )
        assert response.status_code == 201, response.text
        data = response.json()["data"]
        assert (data["direction"], data["status"], data["inbox_id"]) == (
            "outgoing",
            "queued",
            inbox.id,
        )
        assert data["subject"] == "Re: Quick question"
        assert data["to_recipients"] == [{"email": "ann@example.com", "name": "Ann Lee"}]
        assert (data["text_body"], data["attachments"]) == ("Here it is, Ann.", [])

        [received] = await smtp_server.wait_for(1)

        assert (received.mail_from, received.rcpt_tos) == (inbox.email, ["ann@example.com"])
        raw = received.data
        assert b"=?" not in raw.split(b"\r\n\r\n", 1)[0]  # no id folded into an encoded-word
        assert re.search(rb"^In-Reply-To: " + re.escape(REPLY_ID.encode()) + rb"\r\n", raw, re.M)
        assert _header_line(raw, b"References") == f"{FIRST_ID} {REPLY_ID}".encode()
        assert FIRST_ID.encode() in raw  # never split inside an id
        assert REPLY_ID.encode() in raw
        assert _header_line(raw, b"Subject") == b"Re: Quick question"
        message_id = _header_line(raw, b"Message-ID").decode()
        assert message_id.endswith("@sender.example.com>")
        sent = await wait_for_status(client, tenant, thread.conversation_id, data["id"], "sent")
        assert sent["error"] is None
        assert len(smtp_server.messages) == 1

    async def test_inactive_inbox_422(
        self, client: httpx.AsyncClient, tenant: Tenant, smtp_server: SmtpServer
    ) -> None:
        paused = await seed_inbox(client, tenant, smtp_server, active=False)
        thread = await seed_thread(client, tenant, paused)
        response = await client.post(
            f"{BASE}/{thread.conversation_id}/reply", json={"content": "hi"}, headers=tenant.headers
        )
        assert_error(response, 422, "INBOX_UNAVAILABLE", "inbox_id")

    @pytest.mark.parametrize(
        ("body", "field"),
        [
            ({}, "content"),
            ({"content": "   "}, "content"),
            ({"content": "hi", "cc": ["x@y.io"]}, "cc"),
        ],
        ids=["missing", "blank", "unknown-field"],
    )
    async def test_invalid_422(
        self,
        client: httpx.AsyncClient,
        tenant: Tenant,
        inbox: Inbox,
        body: dict[str, Any],
        field: str,
    ) -> None:
        thread = await seed_thread(client, tenant, inbox)
        response = await client.post(
            f"{BASE}/{thread.conversation_id}/reply", json=body, headers=tenant.headers
        )
        assert_error(response, 422, "VALIDATION_ERROR", field)

    async def test_other_workspace_404(
        self, client: httpx.AsyncClient, tenant: Tenant, other_tenant: Tenant, inbox: Inbox
    ) -> None:
        thread = await seed_thread(client, tenant, inbox)
        response = await client.post(
            f"{BASE}/{thread.conversation_id}/reply",
            json={"content": "hi"},
            headers=other_tenant.headers,
        )
        assert_error(response, 404, "CONVERSATION_NOT_FOUND", None)

    async def test_read_only_key_403(
        self, client: httpx.AsyncClient, tenant: Tenant, inbox: Inbox
    ) -> None:
        thread = await seed_thread(client, tenant, inbox)
        limited = await reader(client, ("conversations:read",))
        response = await client.post(
            f"{BASE}/{thread.conversation_id}/reply",
            json={"content": "hi"},
            headers=limited.headers,
        )
        assert_error(response, 403, "INSUFFICIENT_SCOPE", None)

    async def test_no_key_401(self, client: httpx.AsyncClient) -> None:
        response = await client.post(f"{BASE}/x/reply", json={"content": "hi"})
        assert_error(response, 401, "API_KEY_MISSING", None)


NEW_THREAD = {
    "to": [{"email": "Dana@Example.org", "name": "Dana"}],
    "subject": "Hello Dana",
    "content": "<p>Hi Dana</p>",
}


class TestStartConversation:
    @pytest.mark.usefixtures("worker")
    async def test_sends_through_first_active_inbox(
        self, client: httpx.AsyncClient, tenant: Tenant, smtp_server: SmtpServer
    ) -> None:
        await seed_inbox(client, tenant, smtp_server, "off@sender.example.com", active=False)
        await seed_inbox(
            client, tenant, smtp_server, "err@sender.example.com", status=ConnectionStatus.error
        )
        active = await seed_inbox(client, tenant, smtp_server, "on@sender.example.com")
        await seed_inbox(client, tenant, smtp_server, "later@sender.example.com")

        response = await client.post(BASE, json=NEW_THREAD, headers=tenant.headers)

        assert response.status_code == 201, response.text
        data = response.json()["data"]
        assert (data["lead_id"], data["label"], data["is_positive"]) == (None, None, False)
        assert (data["inbox_id"], data["contact_email"]) == (active.id, "dana@example.org")
        [message] = data["messages"]
        assert (message["direction"], message["status"]) == ("outgoing", "queued")
        [received] = await smtp_server.wait_for(1)
        assert (received.mail_from, received.login) == (active.email, active.email)
        assert received.rcpt_tos == ["dana@example.org"]
        assert _header_line(received.data, b"Subject") == b"Hello Dana"
        assert b"In-Reply-To" not in received.data
        await wait_for_status(client, tenant, data["id"], message["id"], "sent")
        listed = await client.get(BASE, headers=tenant.headers)
        assert [c["id"] for c in listed.json()["data"]] == [data["id"]]

    async def test_explicit_inbox(
        self, client: httpx.AsyncClient, tenant: Tenant, smtp_server: SmtpServer
    ) -> None:
        await seed_inbox(client, tenant, smtp_server, "first@sender.example.com")
        chosen = await seed_inbox(client, tenant, smtp_server, "second@sender.example.com")
        response = await client.post(
            BASE, json={**NEW_THREAD, "inbox_id": chosen.id}, headers=tenant.headers
        )
        assert response.status_code == 201, response.text
        assert response.json()["data"]["messages"][0]["from_email"] == chosen.email

    async def test_no_active_inbox_422(
        self, client: httpx.AsyncClient, tenant: Tenant, smtp_server: SmtpServer
    ) -> None:
        await seed_inbox(client, tenant, smtp_server, active=False)
        response = await client.post(BASE, json=NEW_THREAD, headers=tenant.headers)
        assert_error(response, 422, "NO_ACTIVE_INBOX", "inbox_id")

    async def test_inactive_inbox_given_422(
        self, client: httpx.AsyncClient, tenant: Tenant, smtp_server: SmtpServer
    ) -> None:
        paused = await seed_inbox(client, tenant, smtp_server, active=False)
        response = await client.post(
            BASE, json={**NEW_THREAD, "inbox_id": paused.id}, headers=tenant.headers
        )
        assert_error(response, 422, "INBOX_UNAVAILABLE", "inbox_id")

    async def test_other_workspace_inbox_404(
        self,
        client: httpx.AsyncClient,
        tenant: Tenant,
        other_tenant: Tenant,
        smtp_server: SmtpServer,
    ) -> None:
        theirs = await seed_inbox(client, other_tenant, smtp_server)
        await seed_inbox(client, tenant, smtp_server, "mine@sender.example.com")
        response = await client.post(
            BASE, json={**NEW_THREAD, "inbox_id": theirs.id}, headers=tenant.headers
        )
        assert_error(response, 404, "INBOX_NOT_FOUND", None)

    @pytest.mark.parametrize(
        ("change", "code", "field"),
        [
            ({"to": []}, "VALIDATION_ERROR", "to"),
            ({"to": [{"email": "not-an-address"}]}, "VALIDATION_ERROR", "to[0].email"),
            ({"to": [{"email": "jörg@example.de"}]}, "VALIDATION_ERROR", "to[0].email"),
            (
                {"to": [{"email": "a@example.com"}, {"email": "b@example.com"}]},
                "TOO_MANY_RECIPIENTS",
                "to",
            ),
            ({"subject": ""}, "VALIDATION_ERROR", "subject"),
            ({"subject": "Hi\r\nBcc: x@evil.io"}, "VALIDATION_ERROR", "subject"),
            ({"content": ""}, "VALIDATION_ERROR", "content"),
            ({"inbox_id": 7}, "VALIDATION_ERROR", "inbox_id"),
        ],
        ids=[
            "no-recipient",
            "bad-address",
            "non-ascii-address",
            "two-recipients",
            "empty-subject",
            "header-injection",
            "empty-content",
            "inbox-not-text",
        ],
    )
    async def test_invalid_422(
        self,
        client: httpx.AsyncClient,
        tenant: Tenant,
        inbox: Inbox,
        change: dict[str, Any],
        code: str,
        field: str,
    ) -> None:
        response = await client.post(BASE, json={**NEW_THREAD, **change}, headers=tenant.headers)
        assert_error(response, 422, code, field)

    async def test_read_only_key_403(self, client: httpx.AsyncClient) -> None:
        limited = await reader(client, ("conversations:read",))
        response = await client.post(BASE, json=NEW_THREAD, headers=limited.headers)
        assert_error(response, 403, "INSUFFICIENT_SCOPE", None)

    async def test_no_key_401(self, client: httpx.AsyncClient) -> None:
        assert_error(await client.post(BASE, json=NEW_THREAD), 401, "API_KEY_MISSING", None)

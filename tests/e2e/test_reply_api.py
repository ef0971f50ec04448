"""The watcher through the API: connecting an inbox with IMAP starts its watcher, and a watcher
refused by the server shows up as the inbox's ``connection_status``/``connection_error``."""

from __future__ import annotations

import asyncio
from typing import Any

import aioimaplib
import httpx
import pytest
from temporalio.client import WorkflowExecutionStatus
from temporalio.service import RPCError

from coldflow.ids import mailbox_workflow_id
from coldflow.services import mailboxes
from tests.e2e.helpers import wait_connection
from tests.e2e.test_reply_world import eventually
from tests.fixtures.api import Tenant
from tests.fixtures.imap import ImapServer, ImapUser
from tests.fixtures.smtp import SmtpServer

pytestmark = pytest.mark.imap


async def connect_inbox(
    client: httpx.AsyncClient, tenant: Tenant, smtp: SmtpServer, imap: ImapServer, user: ImapUser
) -> dict[str, Any]:
    response = await client.post(
        "/api/v1/inboxes",
        json={
            "email": "alex@sender.example.com",
            "smtp": {"host": smtp.host, "port": smtp.port, "password": "x", "security": "none"},
            "imap": {
                "host": imap.host,
                "port": imap.port,
                "username": user.username,
                "password": user.password,
                "security": "none",
            },
        },
        headers=tenant.headers,
    )
    assert response.status_code == 201, response.text
    return await wait_connection(client, tenant, response.json()["data"]["id"])


async def _refused(imap: ImapServer, user: ImapUser) -> bool:
    client = aioimaplib.IMAP4(host=imap.host, port=imap.port, timeout=10)
    await client.wait_hello_from_server()
    response = await client.login(user.username, user.password)
    await client.logout()
    return bool(response.result != "OK")


async def test_connected_inbox_is_watched_and_refused_login_shows_in_api(
    client: httpx.AsyncClient,
    tenant: Tenant,
    worker: None,
    smtp_server: SmtpServer,
    imap_server: ImapServer,
) -> None:
    user = imap_server.add_user()
    inbox = await connect_inbox(client, tenant, smtp_server, imap_server, user)
    journeys = client.app.state.journeys  # type: ignore[attr-defined]
    temporal = await journeys.client()
    handle = temporal.get_workflow_handle(mailbox_workflow_id(inbox["id"]))

    async def running() -> bool:
        try:
            return (await handle.describe()).status == WorkflowExecutionStatus.RUNNING
        except RPCError:
            return False

    await eventually(running, "the watcher started by the connection check")

    # The password changes on the server; the next session's login is refused.
    (imap_server.root / "users" / user.username).write_text(
        f"{user.username}:{{PLAIN}}changed-elsewhere::::::\n"
    )
    # Dovecot re-reads a passwd-file at most once a second: wait until it refuses for real.
    await eventually(lambda: _refused(imap_server, user), "Dovecot to refuse the old password")
    await handle.signal("stop")
    await handle.result()
    await mailboxes.start_watcher(journeys, workspace_id=tenant.workspace_id, inbox_id=inbox["id"])
    result = await asyncio.wait_for(
        temporal.get_workflow_handle(mailbox_workflow_id(inbox["id"])).result(), 60
    )

    assert result.startswith("auth_failed")
    shown = (await client.get(f"/api/v1/inboxes/{inbox['id']}", headers=tenant.headers)).json()
    assert shown["data"]["connection_status"] == "error"
    assert "IMAP login refused" in shown["data"]["connection_error"]

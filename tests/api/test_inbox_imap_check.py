"""The connection check logs in to a real IMAP server (Dovecot) as well as SMTP."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.e2e.helpers import wait_connection
from tests.fixtures.api import Tenant
from tests.fixtures.imap import ImapServer
from tests.fixtures.smtp import SmtpServer

pytestmark = pytest.mark.imap


def _body(smtp: SmtpServer, imap: ImapServer, username: str, password: str) -> dict[str, Any]:
    return {
        "email": "alex@acme.io",
        "smtp": {"host": smtp.host, "port": smtp.port, "password": "x", "security": "none"},
        "imap": {
            "host": imap.host,
            "port": imap.port,
            "username": username,
            "password": password,
            "security": "none",
        },
    }


async def test_right_imap_login_connects(
    client: httpx.AsyncClient,
    tenant: Tenant,
    smtp_server: SmtpServer,
    imap_server: ImapServer,
    worker: None,
) -> None:
    user = imap_server.add_user("inbox")
    response = await client.post(
        "/api/v1/inboxes",
        json=_body(smtp_server, imap_server, user.username, user.password),
        headers=tenant.headers,
    )
    assert response.status_code == 201, response.text
    inbox = await wait_connection(client, tenant, response.json()["data"]["id"])
    assert inbox["imap"]["folder"] == "INBOX"


async def test_wrong_imap_password_records_the_reason(
    client: httpx.AsyncClient,
    tenant: Tenant,
    smtp_server: SmtpServer,
    imap_server: ImapServer,
    worker: None,
) -> None:
    user = imap_server.add_user("inbox")
    response = await client.post(
        "/api/v1/inboxes",
        json=_body(smtp_server, imap_server, user.username, "wrong-password"),
        headers=tenant.headers,
    )
    inbox = await wait_connection(client, tenant, response.json()["data"]["id"], expected="error")
    assert "IMAP login refused" in inbox["connection_error"]
    assert "wrong-password" not in response.text

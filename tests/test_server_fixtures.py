"""Self-tests of the SMTP, IMAP and PostgreSQL fixtures: each one must be a real server.

Every later activity and store test trusts these fixtures, so they are checked here through
the same client libraries coldflow itself uses (aiosmtplib, aioimaplib, SQLAlchemy/asyncpg).
"""

from __future__ import annotations

import asyncio
import re
from email.message import EmailMessage

import aioimaplib
import aiosmtplib
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from tests.fixtures.imap import ImapServer
from tests.fixtures.ports import server_unavailable
from tests.fixtures.postgres import PostgresServer
from tests.fixtures.smtp import SmtpServer


def _message(subject: str, to: str = "lead@example.com") -> EmailMessage:
    message = EmailMessage()
    message["From"] = "Sender <sender@example.com>"
    message["To"] = to
    message["Subject"] = subject
    message["Message-ID"] = f"<{subject.replace(' ', '-')}@coldflow.test>"
    message.set_content(f"Body of {subject}\n")
    return message


class TestSmtpServer:
    async def test_records_raw_bytes_of_each_message(self, smtp_server: SmtpServer) -> None:
        async with aiosmtplib.SMTP(hostname=smtp_server.host, port=smtp_server.port) as client:
            for subject in ("first", "second"):
                await client.send_message(_message(subject))

        received = await smtp_server.wait_for(2, timeout=5)

        assert [m.message["Subject"] for m in received] == ["first", "second"]
        assert received[0].mail_from == "sender@example.com"
        assert received[0].rcpt_tos == ["lead@example.com"]
        assert received[0].data.startswith(b"From: Sender <sender@example.com>\r\n")
        assert b"\r\nMessage-ID: <first@coldflow.test>\r\n" in received[0].data
        assert received[0].data.endswith(b"Body of first\r\n")

    async def test_each_test_starts_empty(self, smtp_server: SmtpServer) -> None:
        assert smtp_server.messages == []
        assert smtp_server.reject_rcpt == {}
        assert smtp_server.auth is None

    @pytest.mark.parametrize(
        ("reply", "code"),
        [("550 5.1.1 User unknown", 550), ("451 4.7.1 Try later", 451)],
        ids=["hard-bounce", "temporary"],
    )
    async def test_rejected_rcpt_returns_configured_reply(
        self, smtp_server: SmtpServer, reply: str, code: int
    ) -> None:
        smtp_server.reject_rcpt["Gone@Example.com"] = reply

        async with aiosmtplib.SMTP(hostname=smtp_server.host, port=smtp_server.port) as client:
            with pytest.raises(aiosmtplib.SMTPRecipientsRefused) as refused:
                await client.send_message(_message("refused", to="gone@example.com"))
            errors, _ = await client.send_message(
                _message("partly", to="gone@example.com, ok@example.com")
            )

        assert refused.value.recipients[0].code == code
        assert errors["gone@example.com"] == (code, reply.split(" ", 1)[1])
        received = await smtp_server.wait_for(1, timeout=5)
        assert received[0].rcpt_tos == ["ok@example.com"]

    async def test_auth_accepts_only_configured_credentials(self, smtp_server: SmtpServer) -> None:
        smtp_server.auth = ("inbox@example.com", "right")

        async with aiosmtplib.SMTP(hostname=smtp_server.host, port=smtp_server.port) as client:
            with pytest.raises(aiosmtplib.SMTPAuthenticationError) as wrong:
                await client.login("inbox@example.com", "wrong")
            with pytest.raises(aiosmtplib.SMTPSenderRefused) as anonymous:
                await client.send_message(_message("anonymous"))
            await client.login("inbox@example.com", "right")
            await client.send_message(_message("authenticated"))

        assert wrong.value.code == 535
        assert anonymous.value.code == 530
        received = await smtp_server.wait_for(1, timeout=5)
        assert received[0].login == "inbox@example.com"
        assert len(smtp_server.messages) == 1

    async def test_wait_for_times_out_with_clear_message(self, smtp_server: SmtpServer) -> None:
        with pytest.raises(AssertionError, match=r"received 0 message\(s\) within 0.1s"):
            await smtp_server.wait_for(1, timeout=0.1)


@pytest.mark.imap
class TestImapServer:
    async def test_login_capabilities_append_and_fetch(self, imap_server: ImapServer) -> None:
        user = imap_server.add_user()  # added after Dovecot started: no reload needed
        raw = b"From: lead@example.com\r\nSubject: Re: hello\r\nMessage-ID: <r1@x>\r\n\r\nYes!\r\n"

        imap = aioimaplib.IMAP4(host=imap_server.host, port=imap_server.port, timeout=5)
        await imap.wait_hello_from_server()
        login = await imap.login(user.username, user.password)
        assert login.result == "OK"
        assert imap.has_capability("IDLE")
        assert imap.has_capability("SPECIAL-USE")
        await imap.logout()

        await imap_server.append(user, raw, flags="\\Seen")
        assert await imap_server.list_messages(user) == [raw]

    async def test_users_are_isolated_and_wrong_password_refused(
        self, imap_server: ImapServer
    ) -> None:
        first, second = imap_server.add_user("a"), imap_server.add_user("a")
        assert first.username != second.username
        await imap_server.append(first, b"Subject: only first\r\n\r\nx\r\n")

        assert await imap_server.list_messages(second) == []
        imap = aioimaplib.IMAP4(host=imap_server.host, port=imap_server.port, timeout=5)
        await imap.wait_hello_from_server()
        assert (await imap.login(first.username, "not-the-password")).result == "NO"
        await imap.logout()

    async def test_idle_reports_new_mail(self, imap_server: ImapServer) -> None:
        user = imap_server.add_user("idle")
        async with imap_server.client(user) as imap:
            await imap.select("INBOX")
            idle = await imap.idle_start(timeout=10)
            await imap_server.append(user, b"Subject: pushed\r\n\r\nhi\r\n")
            pushed = await imap.wait_server_push(timeout=5)
            imap.idle_done()
            await asyncio.wait_for(idle, timeout=5)

        assert b"1 EXISTS" in pushed

    async def test_junk_folder_has_special_use(self, imap_server: ImapServer) -> None:
        user = imap_server.add_user("junk")
        async with imap_server.client(user) as imap:
            listing = await imap.list('""', "*")
        folders = {
            match.group(2).decode(): match.group(1).decode().split()
            for line in listing.lines
            if (match := re.match(rb'\((.*?)\) "/" "?([^"]+)"?', line))
        }

        assert "\\Junk" in folders["Junk"]
        assert "\\Sent" in folders["Sent"]
        assert "\\Trash" in folders["Trash"]
        await imap_server.append(user, b"Subject: spam\r\n\r\nbuy\r\n", folder="Junk")
        assert await imap_server.list_messages(user, "Junk") == [b"Subject: spam\r\n\r\nbuy\r\n"]


class TestPostgresServer:
    async def test_fresh_database_answers_select_1(self, postgres_server: PostgresServer) -> None:
        url = await postgres_server.create_database()
        assert url.startswith(f"postgresql+asyncpg://postgres@127.0.0.1:{postgres_server.port}/")

        engine = create_async_engine(url)
        try:
            async with engine.connect() as connection:
                assert (await connection.execute(text("select 1"))).scalar_one() == 1
                tables = await connection.execute(
                    text("select count(*) from pg_tables where schemaname = 'public'")
                )
                assert tables.scalar_one() == 0
        finally:
            await engine.dispose()
        await postgres_server.drop_database(url)

    async def test_postgres_url_is_unique_per_test(
        self, postgres_url: str, postgres_server: PostgresServer
    ) -> None:
        other = await postgres_server.create_database()
        assert other != postgres_url
        engine = create_async_engine(postgres_url)
        try:
            async with engine.begin() as connection:
                await connection.execute(text("create table t (id int primary key)"))
                await connection.execute(text("insert into t values (1)"))
        finally:
            await engine.dispose()
        await postgres_server.drop_database(other)


class TestMissingServer:
    def test_skips_on_a_developer_machine(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.delenv("CI", raising=False)
        with pytest.raises(pytest.skip.Exception, match="dovecot missing"):
            server_unavailable("dovecot missing")

    def test_fails_under_ci(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("CI", "true")
        with pytest.raises(pytest.fail.Exception, match="dovecot missing"):
            server_unavailable("dovecot missing")

"""IMAP access (aioimaplib): the connection check now; the mailbox watcher builds on it.

aioimaplib has no STARTTLS, so a mailbox is reached over implicit TLS (993) or, on a trusted
network such as the tests' loopback, in plain text (PITFALLS.md).
"""

from __future__ import annotations

from dataclasses import dataclass

import aioimaplib

from coldflow.errors import CodedError
from coldflow.models import TransportSecurity


@dataclass(frozen=True)
class ImapSettings:
    host: str
    port: int
    username: str
    password: str
    security: TransportSecurity
    folder: str = "INBOX"
    timeout: float = 15.0


class ImapLoginFailed(CodedError):
    """The server refused the credentials: the inbox goes to ``error`` until they are fixed."""

    code = "IMAP_LOGIN_FAILED"
    status = 422


class ImapUnavailable(CodedError):
    """The server could not be reached or answered unexpectedly; worth retrying later."""

    code = "IMAP_UNAVAILABLE"
    status = 503


def client_for(settings: ImapSettings) -> aioimaplib.IMAP4:
    if settings.security == TransportSecurity.tls:
        return aioimaplib.IMAP4_SSL(settings.host, settings.port, timeout=settings.timeout)
    return aioimaplib.IMAP4(settings.host, settings.port, timeout=settings.timeout)


async def check_login(settings: ImapSettings) -> None:
    """Log in and select the folder; nothing is read or changed."""
    client = client_for(settings)
    try:
        await client.wait_hello_from_server()
        response = await client.login(settings.username, settings.password)
        if response.result != "OK":
            raise ImapLoginFailed(f"IMAP login refused: {_text(response.lines)}")
        selected = await client.select(settings.folder)
        if selected.result != "OK":
            raise ImapLoginFailed(
                f"IMAP folder {settings.folder!r} unusable: {_text(selected.lines)}"
            )
        await client.logout()
    except CodedError:
        raise
    except (OSError, TimeoutError, aioimaplib.AioImapException) as exc:
        raise ImapUnavailable(f"IMAP connection failed: {type(exc).__name__}: {exc}") from exc


def _text(lines: list[bytes | bytearray | str]) -> str:
    parts = [
        line.decode(errors="replace") if isinstance(line, bytes | bytearray) else line
        for line in lines
    ]
    return " ".join(p for p in parts if p).strip()[:300]
